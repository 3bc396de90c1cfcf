//! A real S3-compatible server for tests: moto's server (from PyPI, in the venv under
//! `target/acceptance`) on a loopback port, one per test binary, started on first use and
//! stopped when the binary exits. Each test takes a bucket of its own. Skipped (with the reason
//! printed) only when python3 is missing; a failure to install or start moto fails the test.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use quadrat_store::{MediaStore, S3Settings};

/// The moto release the tests run against.
pub const MOTO: &str = "moto[server]==5.2.6";

/// The running server (kept for the life of the test binary).
struct Moto {
    endpoint: String,
    _child: ChildGuard,
}

struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

static SERVER: OnceLock<Option<Moto>> = OnceLock::new();
static STARTING: Mutex<()> = Mutex::new(());

/// The endpoint of the shared moto server, `None` when python3 is missing.
fn endpoint() -> Option<String> {
    let _once = STARTING.lock().unwrap_or_else(|p| p.into_inner());
    SERVER
        .get_or_init(|| {
            let python = crate::python::venv_with(&[MOTO])?;
            let port = free_port();
            // Statics are never dropped: a watcher stops moto once this test binary is gone.
            let script = format!(
                "\"$0\" -m moto.server -H 127.0.0.1 -p {port} & m=$!; \
                 while kill -0 {} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 1; done; \
                 kill $m 2>/dev/null",
                std::process::id()
            );
            let child = Command::new("sh")
                .arg("-c")
                .arg(script)
                .arg(&python)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("starting moto's server");
            let guard = ChildGuard(child);
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let deadline = Instant::now() + Duration::from_secs(60);
            while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
                assert!(Instant::now() < deadline, "moto's server did not start");
                std::thread::sleep(Duration::from_millis(100));
            }
            Some(Moto {
                endpoint: format!("http://{addr}"),
                _child: guard,
            })
        })
        .as_ref()
        .map(|m| m.endpoint.clone())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A fresh bucket on the shared server.
pub struct TestBucket {
    pub settings: S3Settings,
}

impl TestBucket {
    /// A new, empty bucket (prefix `app`, as the real server's layout), or `None` with the
    /// reason printed when python3 is missing.
    pub async fn new() -> Option<TestBucket> {
        let endpoint = tokio::task::spawn_blocking(endpoint)
            .await
            .expect("starting moto")?;
        let bucket = format!("quadrat-{}", uuid::Uuid::new_v4().simple());
        // moto takes unsigned requests: creating a bucket needs no client of its own.
        let made = reqwest::Client::new()
            .put(format!("{endpoint}/{bucket}"))
            .send()
            .await
            .expect("creating a bucket");
        assert!(made.status().is_success(), "creating a bucket: {made:?}");
        Some(TestBucket {
            settings: S3Settings {
                bucket,
                prefix: "app".into(),
                endpoint: Some(endpoint),
                region: "us-east-1".into(),
                access_key_id: Some("testing".into()),
                secret_access_key: Some("testing".into()),
                session_token: None,
                path_style: true,
            },
        })
    }

    /// A media store on this bucket, receiving uploads in `spool`.
    pub fn store(&self, spool: impl Into<std::path::PathBuf>) -> MediaStore {
        MediaStore::s3(&self.settings, spool).expect("a media store on the test bucket")
    }

    /// The keys in the bucket (its whole listing, prefix included), sorted.
    pub async fn keys(&self) -> Vec<String> {
        let endpoint = self.settings.endpoint.clone().unwrap_or_default();
        let body = reqwest::Client::new()
            .get(format!("{endpoint}/{}?list-type=2", self.settings.bucket))
            .send()
            .await
            .expect("listing the bucket")
            .text()
            .await
            .expect("reading the listing");
        let mut keys: Vec<String> = body
            .split("<Key>")
            .skip(1)
            .filter_map(|s| s.split("</Key>").next())
            .map(str::to_string)
            .collect();
        keys.sort();
        keys
    }
}
