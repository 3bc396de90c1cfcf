//! Password hashing with bounded parallelism and bounded memory.
//!
//! Argon2id (the crate's defaults: 19 MiB, 2 passes) needs its memory for each hash. Unbounded,
//! 200 parallel logins took 4 GB, and the allocator kept it. Here at most `concurrency` hashes
//! run at once, each in one of as many memory buffers that are reused while logins keep coming,
//! so hashing never needs more than `concurrency` × 19 MiB. Up to `queue` more requests wait
//! their turn (at most [`MAX_WAIT`]); beyond that a request is refused at once
//! ([`PasswordError::Busy`]), without hashing.
//!
//! Once no hash has run for [`RELEASE_AFTER`], the buffers are freed. Each is reserved larger
//! than the largest block an allocator keeps in its heaps (glibc keeps up to 32 MiB), so it is
//! mapped on its own and unmapped when freed: the memory goes back to the system, not to a
//! heap that would keep it. Only the 19 MiB a hash uses are ever touched.
//!
//! The turn (a semaphore permit) travels into the blocking task, so a request whose client went
//! away still holds its turn until its hash is done: the bound holds under cancellation too.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};
use serde::{Deserialize, Serialize};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::AppError;

/// How long a request waits for its turn before it is refused.
pub const MAX_WAIT: Duration = Duration::from_secs(10);

/// The buffers are freed once no hash has run for this long.
pub const RELEASE_AFTER: Duration = Duration::from_secs(2);

/// What each buffer reserves, in blocks of 1 KiB: above 32 MiB, glibc's largest heap block,
/// so the buffer is a mapping of its own that freeing unmaps.
const RESERVED_BLOCKS: usize = 33 * 1024;

/// The largest Argon2 memory cost a stored hash may ask for, in KiB (64 MiB): the server only
/// stores hashes it made with the defaults (19 MiB); a larger one is unreadable, not a way to
/// make one login take gigabytes.
const MAX_M_COST: u32 = 64 * 1024;

/// `[passwords]`: how many hashes run at once, and how many more may wait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordSettings {
    /// Hashes running at once (each holds 19 MiB). Default: one per core, at most 4.
    pub concurrency: usize,
    /// Requests that may wait for a turn; more are refused at once.
    pub queue: usize,
}

impl Default for PasswordSettings {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        PasswordSettings {
            concurrency: cores.clamp(1, 4),
            queue: 32,
        }
    }
}

/// Why a password could not be hashed or checked.
#[derive(Debug)]
pub enum PasswordError {
    /// Every turn is taken and the queue is full (or the wait ran out): try again shortly.
    Busy,
    Internal(AppError),
}

impl From<PasswordError> for AppError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Busy => AppError::client(429, "ec5_255", "password-hashing"),
            PasswordError::Internal(e) => e,
        }
    }
}

/// The password hasher every request of a process shares.
#[derive(Debug, Clone)]
pub struct Passwords {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    turns: Arc<Semaphore>,
    /// Running and waiting requests.
    admitted: AtomicUsize,
    max_admitted: usize,
    /// One buffer per turn, made on first use and reused until the hasher is idle.
    buffers: Mutex<Vec<Vec<Block>>>,
    /// Hashes finished so far: an idle release frees nothing if another ran since.
    finished: AtomicU64,
}

/// Counts a request as admitted for as long as it lives.
struct Admission<'a>(&'a AtomicUsize);

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Passwords {
    pub fn new(settings: &PasswordSettings) -> Passwords {
        let concurrency = settings.concurrency.max(1);
        Passwords {
            inner: Arc::new(Inner {
                turns: Arc::new(Semaphore::new(concurrency)),
                admitted: AtomicUsize::new(0),
                max_admitted: concurrency.saturating_add(settings.queue),
                buffers: Mutex::new(Vec::new()),
                finished: AtomicU64::new(0),
            }),
        }
    }

    /// A new Argon2id hash of `password` (PHC string), with a fresh random salt.
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt)
            .map_err(|e| PasswordError::Internal(AppError::internal("reading random bytes", e)))?;
        self.run(move |buffer| hash_with(buffer, password.as_bytes(), &salt))
            .await?
            .map_err(|e| PasswordError::Internal(AppError::internal("hashing a password", e)))
    }

    /// Whether `password` matches `stored`. Without a stored hash (an unknown user, a user
    /// without a password) it still costs one verification, against a hash nobody knows the
    /// password of, so the time taken does not tell which emails have accounts.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<bool, PasswordError> {
        self.run(move |buffer| {
            let real = stored.is_some();
            let hash = match stored {
                Some(h) => h,
                None => dummy_hash(buffer).to_string(),
            };
            match verify_with(buffer, password.as_bytes(), &hash) {
                Ok(matches) => matches && real,
                Err(why) => {
                    tracing::error!(%why, "a stored password hash is unreadable");
                    false
                }
            }
        })
        .await
    }

    /// Runs `job` on the blocking pool with one of the buffers, once a turn is free.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let inner = &self.inner;
        let admission = Admission(&inner.admitted);
        if inner.admitted.fetch_add(1, Ordering::SeqCst) >= inner.max_admitted {
            return Err(PasswordError::Busy);
        }
        let turn = match tokio::time::timeout(MAX_WAIT, inner.turns.clone().acquire_owned()).await {
            Ok(Ok(turn)) => turn,
            Ok(Err(closed)) => {
                return Err(PasswordError::Internal(AppError::internal(
                    "waiting to hash a password",
                    closed,
                )));
            }
            Err(_) => return Err(PasswordError::Busy),
        };
        let pool = self.inner.clone();
        let done = tokio::task::spawn_blocking(move || run_turn(&pool, turn, job)).await;
        let finished = inner.finished.fetch_add(1, Ordering::SeqCst) + 1;
        drop(admission);
        if inner.admitted.load(Ordering::SeqCst) == 0 {
            let pool = self.inner.clone();
            tokio::spawn(async move {
                tokio::time::sleep(RELEASE_AFTER).await;
                if pool.finished.load(Ordering::SeqCst) == finished
                    && pool.admitted.load(Ordering::SeqCst) == 0
                {
                    lock_buffers(&pool).clear();
                }
            });
        }
        done.map_err(|e| PasswordError::Internal(AppError::internal("hashing a password", e)))
    }

    /// Requests running or waiting now.
    pub fn in_use(&self) -> usize {
        self.inner.admitted.load(Ordering::SeqCst)
    }
}

/// One turn on a blocking thread: a buffer from the pool, the job, the buffer back, then the
/// turn is given up (when `_turn` drops, after the buffer is home).
fn run_turn<T>(
    pool: &Inner,
    _turn: OwnedSemaphorePermit,
    job: impl FnOnce(&mut Vec<Block>) -> T,
) -> T {
    let mut buffer = lock_buffers(pool).pop().unwrap_or_default();
    let out = job(&mut buffer);
    lock_buffers(pool).push(buffer);
    out
}

fn lock_buffers(pool: &Inner) -> std::sync::MutexGuard<'_, Vec<Vec<Block>>> {
    pool.buffers.lock().unwrap_or_else(|p| p.into_inner())
}

/// The first `blocks` blocks of `buffer`, which grows to hold them (and never shrinks). A new
/// buffer reserves [`RESERVED_BLOCKS`] (untouched beyond what is used).
fn blocks_of(buffer: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if buffer.len() < blocks {
        if buffer.capacity() < RESERVED_BLOCKS.max(blocks) {
            *buffer = Vec::with_capacity(RESERVED_BLOCKS.max(blocks));
        }
        buffer.resize(blocks, Block::default());
    }
    &mut buffer[..blocks]
}

fn hash_with(buffer: &mut Vec<Block>, password: &[u8], salt: &[u8]) -> Result<String, String> {
    let params = Params::default();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(
            password,
            salt,
            &mut out,
            blocks_of(buffer, params.block_count()),
        )
        .map_err(|e| e.to_string())?;
    let phc = PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(Salt::new(salt).map_err(|e| e.to_string())?),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

/// Checks `password` against the PHC string `stored`, in constant time.
fn verify_with(buffer: &mut Vec<Block>, password: &[u8], stored: &str) -> Result<bool, String> {
    let hash = PasswordHash::new(stored).map_err(|e| e.to_string())?;
    let algorithm = Algorithm::try_from(hash.algorithm.as_str()).map_err(|e| e.to_string())?;
    let version = match hash.version {
        Some(v) => Version::try_from(v).map_err(|e| e.to_string())?,
        None => Version::default(),
    };
    let params = Params::try_from(&hash).map_err(|e| e.to_string())?;
    if params.m_cost() > MAX_M_COST {
        return Err(format!(
            "memory cost {} KiB is over the limit",
            params.m_cost()
        ));
    }
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return Err("no salt or no hash".into());
    };
    let mut out = vec![0u8; expected.len()];
    let blocks = params.block_count();
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(
            password,
            salt.as_ref(),
            &mut out,
            blocks_of(buffer, blocks),
        )
        .map_err(|e| e.to_string())?;
    // `Output` compares in constant time.
    Ok(Output::new(&out).map_err(|e| e.to_string())? == *expected)
}

/// A hash of nothing anyone knows, made once per process, to verify against when there is no
/// real one.
fn dummy_hash(buffer: &mut Vec<Block>) -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut secret = [0u8; 32];
        let _ = getrandom::fill(&mut secret);
        let (password, salt) = secret.split_at(16);
        hash_with(buffer, password, salt).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use argon2::{PasswordHasher, PasswordVerifier};

    use super::*;

    fn small() -> Passwords {
        Passwords::new(&PasswordSettings {
            concurrency: 1,
            queue: 1,
        })
    }

    #[tokio::test]
    async fn hashes_verify_both_ways_with_the_argon2_crate() {
        let passwords = small();
        let ours = passwords.hash("correct horse".into()).await.unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        let theirs = Argon2::default()
            .hash_password_with_salt(b"battery staple", b"saltsaltsaltsalt")
            .unwrap()
            .to_string();
        let check = |p: &str, h: &str| passwords.verify(p.into(), Some(h.into()));
        assert!(check("battery staple", &theirs).await.unwrap());
        assert!(!check("battery stapl", &theirs).await.unwrap());
        assert!(check("correct horse", &ours).await.unwrap());
        assert!(!check("", &ours).await.unwrap());
        assert!(!check("x", "not a hash").await.unwrap());
        assert!(!passwords.verify("x".into(), None).await.unwrap());
        // A hash asking for more memory than allowed is unreadable, never computed.
        let greedy = "$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$\
                      AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        assert!(!check("x", greedy).await.unwrap());
        assert_eq!(passwords.in_use(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_is_refused_at_once_and_buffers_are_reused() {
        let passwords = small();
        let stored = passwords.hash("p".into()).await.unwrap();
        // One running, one waiting: the third is refused without hashing.
        let calls: Vec<_> = (0..6)
            .map(|_| {
                let p = passwords.clone();
                let s = stored.clone();
                tokio::spawn(async move { p.verify("p".into(), Some(s)).await })
            })
            .collect();
        let mut ok = 0;
        let mut busy = 0;
        for call in calls {
            match call.await.unwrap() {
                Ok(true) => ok += 1,
                Err(PasswordError::Busy) => busy += 1,
                other => panic!("{other:?}"),
            }
        }
        assert!(ok >= 2 && busy >= 1, "ok {ok}, busy {busy}");
        assert_eq!(ok + busy, 6);
        assert_eq!(passwords.inner.buffers.lock().unwrap().len(), 1);
        assert_eq!(passwords.in_use(), 0);
        // Idle for a while, the buffer is freed; the next hash makes a new one.
        tokio::time::sleep(RELEASE_AFTER + Duration::from_millis(500)).await;
        assert_eq!(passwords.inner.buffers.lock().unwrap().len(), 0);
        assert!(passwords.verify("p".into(), Some(stored)).await.unwrap());
        assert_eq!(passwords.inner.buffers.lock().unwrap().len(), 1);
    }
}
