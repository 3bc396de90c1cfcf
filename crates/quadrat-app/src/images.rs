//! Image work (decoding, resizing, encoding: tens of milliseconds of CPU each) runs here, off
//! the async threads, at most `concurrency` at once (one per core by default), so a burst of
//! photo uploads or thumbnail requests neither stalls other requests nor holds more decoded
//! images in memory than there are workers.
//!
//! The turn (a semaphore permit) travels into the blocking task: a request whose client went
//! away keeps its turn until its work is done, so the bound holds under cancellation too.

use std::sync::Arc;

use tokio::sync::Semaphore;

/// The bounded pool for pixel work; clones share it.
#[derive(Debug, Clone)]
pub struct ImageWorkers {
    turns: Arc<Semaphore>,
    concurrency: usize,
}

impl ImageWorkers {
    /// At most `concurrency` (at least 1) jobs at once.
    pub fn new(concurrency: usize) -> ImageWorkers {
        let concurrency = concurrency.max(1);
        ImageWorkers {
            turns: Arc::new(Semaphore::new(concurrency)),
            concurrency,
        }
    }

    /// How many jobs may run at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// One job per core.
    pub fn default_concurrency() -> usize {
        std::thread::available_parallelism().map_or(1, usize::from)
    }

    /// Runs `f` on the blocking pool once a turn is free, and returns what it returns. A panic
    /// in `f` is carried on to the caller (it is a bug, not a bad image: those are errors).
    pub async fn run<T>(&self, f: impl FnOnce() -> T + Send + 'static) -> T
    where
        T: Send + 'static,
    {
        // The semaphore is never closed, so acquiring only waits.
        let turn = Arc::clone(&self.turns).acquire_owned().await;
        let job = tokio::task::spawn_blocking(move || {
            let _turn = turn;
            f()
        });
        match job.await {
            Ok(value) => value,
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                // Only a runtime shutting down cancels a blocking task; the caller is being
                // dropped with it.
                Err(e) => std::panic::panic_any(format!("image work cancelled: {e}")),
            },
        }
    }
}

impl Default for ImageWorkers {
    fn default() -> Self {
        ImageWorkers::new(ImageWorkers::default_concurrency())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn run_never_exceeds_concurrency() {
        let workers = ImageWorkers::new(2);
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let jobs: Vec<_> = (0..12)
            .map(|i| {
                let (workers, running, peak) =
                    (workers.clone(), Arc::clone(&running), Arc::clone(&peak));
                tokio::spawn(async move {
                    workers
                        .run(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(20));
                            running.fetch_sub(1, Ordering::SeqCst);
                            i * 2
                        })
                        .await
                })
            })
            .collect();
        let mut results = Vec::new();
        for job in jobs {
            results.push(job.await.unwrap());
        }
        assert_eq!(results, (0..12).map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn run_keeps_the_turn_when_the_caller_goes_away() {
        let workers = ImageWorkers::new(1);
        let started = Arc::new(tokio::sync::Notify::new());
        let first = {
            let (workers, started) = (workers.clone(), Arc::clone(&started));
            tokio::spawn(async move {
                workers
                    .run(move || {
                        started.notify_one();
                        std::thread::sleep(Duration::from_millis(200));
                    })
                    .await
            })
        };
        started.notified().await;
        first.abort();
        let begun = std::time::Instant::now();
        workers.run(|| ()).await;
        // The second job waited for the abandoned one to finish its work.
        assert!(begun.elapsed() >= Duration::from_millis(100));
    }
}
