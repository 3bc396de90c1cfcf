//! Test support shared by every crate's integration tests.
//!
//! Each test gets a database of its own: a SQLite file in a temporary directory, or a fresh
//! PostgreSQL database (created on the server named by `QUADRAT_TEST_POSTGRES_URL`, dropped when
//! the test ends). [`both_engines!`] runs one async test body on each engine.

pub mod browser;
pub mod node;
pub mod pages;
pub mod process;
pub mod python;
pub mod s3;
pub mod uploads;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

use quadrat_app::oauth::{KeyRing, KeySettings};
use quadrat_app::ratelimit::{Clock, Limiter};
use quadrat_app::{App, AppConfig};
use quadrat_store::Store;
use tempfile::TempDir;

/// The variable naming a PostgreSQL server tests may create databases on, e.g.
/// `postgres://postgres@127.0.0.1:5432/postgres`.
pub const POSTGRES_ENV: &str = "QUADRAT_TEST_POSTGRES_URL";

/// A database that lives as long as the test.
pub struct TestDb {
    pub url: String,
    pub dir: TempDir,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("quadrat.sqlite").display());
        TestDb {
            url,
            dir,
            postgres: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` (with the reason printed) when no server is
    /// configured.
    pub async fn postgres() -> Option<TestDb> {
        let Ok(admin) = std::env::var(POSTGRES_ENV) else {
            eprintln!("skipped on PostgreSQL: {POSTGRES_ENV} is not set (.ci/run sets it)");
            return None;
        };
        let name = format!("quadrat_test_{}", uuid::Uuid::new_v4().simple());
        let admin_store = Store::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("connecting to {POSTGRES_ENV}: {e}"));
        admin_store
            .execute_admin(&format!("CREATE DATABASE {name}"))
            .await
            .expect("creating the test database");
        admin_store.close().await;
        let url = replace_database(&admin, &name);
        Some(TestDb {
            url,
            dir: tempfile::tempdir().expect("temporary directory"),
            postgres: Some((admin, name)),
        })
    }

    /// A migrated store on this database.
    pub async fn store(&self) -> Store {
        let store = Store::connect(&self.url).await.expect("connecting");
        store.migrate().await.expect("migrating");
        store
    }

    /// The services over a migrated store.
    pub async fn app(&self) -> App {
        App::new(
            self.store().await,
            AppConfig {
                public_url: "http://quadrat.test".into(),
                keys: Some(test_keys()),
                media_dir: self.media_dir(),
                ..AppConfig::default()
            },
        )
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// This database's own media folder.
    pub fn media_dir(&self) -> PathBuf {
        self.dir.path().join("media")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside any runtime we may block on: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(store) = Store::connect(&admin).await {
                    let _ = store
                        .execute_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    store.close().await;
                }
            });
        })
        .join();
    }
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    match base[after_scheme..].find('/') {
        Some(slash) => format!("{}/{name}{query}", &base[..after_scheme + slash]),
        None => format!("{base}/{name}{query}"),
    }
}

/// A real server on a loopback port, serving the same router the binary runs.
pub struct TestServer {
    pub base_url: String,
    pub app: App,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    /// A server with no rate limits (tests of other features make many requests quickly).
    pub async fn start(db: &TestDb) -> TestServer {
        TestServer::start_with_limiter(db, Limiter::disabled()).await
    }

    /// A server counting requests with `limiter`.
    pub async fn start_with_limiter(db: &TestDb, limiter: Limiter) -> TestServer {
        TestServer::serve(db.app().await, limiter).await
    }

    /// A server whose public URL is its own address (pages and snippets show links that work).
    pub async fn start_at_own_url(db: &TestDb) -> TestServer {
        TestServer::start_at_own_url_with_limiter(db, Limiter::disabled()).await
    }

    /// [`TestServer::start_at_own_url`], counting requests with `limiter`.
    pub async fn start_at_own_url_with_limiter(db: &TestDb, limiter: Limiter) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a loopback port");
        let addr = listener.local_addr().expect("local address");
        let mut app = db.app().await;
        app.config.public_url = format!("http://{addr}");
        TestServer::serve_on(listener, app, limiter)
    }

    /// A server around services of the test's own making (another configuration).
    pub async fn start_app(app: App) -> TestServer {
        TestServer::serve(app, Limiter::disabled()).await
    }

    async fn serve(app: App, limiter: Limiter) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a loopback port");
        TestServer::serve_on(listener, app, limiter)
    }

    fn serve_on(listener: tokio::net::TcpListener, app: App, limiter: Limiter) -> TestServer {
        let addr = listener.local_addr().expect("local address");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = app.clone();
        tokio::spawn(async move {
            let _ = quadrat_http::serve_with(listener, served, limiter, async {
                let _ = rx.await;
            })
            .await;
        });
        TestServer {
            base_url: format!("http://{addr}"),
            app,
            shutdown: Some(tx),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The signing keys every test app of this process uses (RSA generation takes a moment, so
/// it happens once). Tests that need keys of their own make them with `KeyRing`.
pub fn test_keys() -> Arc<KeyRing> {
    static KEYS: OnceLock<(TempDir, Arc<KeyRing>)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (ring, _) = KeyRing::open_or_generate(KeySettings::in_data_dir(dir.path()))
            .expect("generating test keys");
        (dir, Arc::new(ring))
    })
    .1
    .clone()
}

/// A clock that moves only when told: rate-limit windows without waiting.
#[derive(Debug, Default)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock reading `ms` (Unix milliseconds).
    pub fn at(ms: i64) -> Arc<ManualClock> {
        Arc::new(ManualClock(AtomicI64::new(ms)))
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A fixture file of `quadrat-core/tests/fixtures`, parsed.
pub fn fixture(name: &str) -> serde_json::Value {
    let path = fixtures_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../quadrat-core/tests/fixtures")
}

/// Runs the async test body `$body` (a function taking a [`TestDb`]) once on SQLite and once on
/// PostgreSQL, as `$name::sqlite` and `$name::postgres`.
#[macro_export]
macro_rules! both_engines {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::TestDb::sqlite().await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(db) = $crate::TestDb::postgres().await {
                        super::$name(db).await;
                    }
                }
            }
        )+
    };
}

/// The Epicollect5 team's JSON Schema for definition files, from `$QUADRAT_SCHEMA` or
/// `../shared/reference/project.schema.json` beside the checkout; `None` (reason printed) when
/// neither exists. CI always has it.
pub fn project_schema() -> Option<serde_json::Value> {
    let path = std::env::var_os("QUADRAT_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/reference/project.schema.json")
        });
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_json::from_str(&text).expect("the schema is JSON")),
        Err(e) => {
            eprintln!(
                "skipped schema check: {} unreadable ({e}); set QUADRAT_SCHEMA",
                path.display()
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_database_name() {
        assert_eq!(
            super::replace_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            super::replace_database("postgres://u@h/db?sslmode=disable", "t1"),
            "postgres://u@h/t1?sslmode=disable"
        );
        assert_eq!(
            super::replace_database("postgres://u@h", "t1"),
            "postgres://u@h/t1"
        );
    }
}
