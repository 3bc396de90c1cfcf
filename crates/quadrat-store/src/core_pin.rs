//! The parts of an export page each on a core of their own (`export.rs`, `spawn_parts`). A
//! page's parts are as long as each other and are meant to run side by side. On the machines
//! Quadrat is measured on (2-core virtual machines) the kernel wakes a thread on the core it
//! last ran on, busy or not, and leaves a runnable thread queued there while the other core
//! idles: traced with `sched_switch`, the two parts of a page often ran one after the other on
//! one core. So part `i`'s thread holds itself to core `i` of those the process may use while
//! it reads, and takes back its whole set after (the blocking pool's threads serve other work
//! too).

/// Holds the calling thread to one core until dropped, then gives it back the cores it had.
pub(crate) struct OnCore {
    #[cfg(target_os = "linux")]
    before: Option<nix::sched::CpuSet>,
}

/// Holds the calling thread to the `index`-th (modulo their number) of the cores it may run
/// on. With fewer than two, on another system, or when the kernel refuses, nothing changes.
pub(crate) fn hold_to_core(index: usize) -> OnCore {
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
        let this = nix::unistd::Pid::from_raw(0);
        let Ok(before) = sched_getaffinity(this) else {
            return OnCore { before: None };
        };
        let cores = cores_in(&before);
        if cores.len() < 2 {
            return OnCore { before: None };
        }
        let mut one = CpuSet::new();
        if one.set(cores[index % cores.len()]).is_err() || sched_setaffinity(this, &one).is_err() {
            return OnCore { before: None };
        }
        OnCore {
            before: Some(before),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = index;
        OnCore {}
    }
}

impl Drop for OnCore {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(before) = self.before.take()
            && let Err(e) = nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &before)
        {
            tracing::warn!(error = %e, "a blocking thread kept to one core");
        }
    }
}

/// The cores in `set`, in order.
#[cfg(target_os = "linux")]
fn cores_in(set: &nix::sched::CpuSet) -> Vec<usize> {
    (0..nix::sched::CpuSet::count())
        .filter(|&c| set.is_set(c).unwrap_or(false))
        .collect()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn own_cores() -> Vec<usize> {
        let set = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).expect("cores");
        cores_in(&set)
    }

    #[test]
    fn a_held_thread_runs_on_its_core_and_gets_its_cores_back() {
        std::thread::spawn(|| {
            let all = own_cores();
            if all.len() < 2 {
                eprintln!("skipped: fewer than two cores to hold a thread to");
                return;
            }
            for index in 0..all.len() * 2 + 1 {
                {
                    let _held = hold_to_core(index);
                    assert_eq!(own_cores(), vec![all[index % all.len()]], "part {index}");
                }
                assert_eq!(own_cores(), all, "after part {index}");
            }
        })
        .join()
        .expect("the test thread");
    }
}
