//! Two `quadrat serve` processes as one service (docs/deployment.md): one PostgreSQL database,
//! one signing key file, rate-limit windows in a Redis server of the test's own (so it can be
//! stopped without disturbing other tests). What one instance does, the other sees at once.
//! Skipped, saying why, without PostgreSQL (`.ci/run` points the tests at it) or `redis-server`.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use quadrat_testkit::process::{Quadrat, ServedProcess};
use quadrat_testkit::{TestDb, fixtures_dir};
use serde_json::{Value, json};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_quadrat");
const SLUG: &str = "tree-survey-2024";
const PASSWORD: &str = "correct horse battery";
const MANAGER: &str = "mia@example.org";

/// A `redis-server` on a free loopback port, keeping nothing on disk.
struct OwnRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    fn start() -> Option<OwnRedis> {
        if Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("skipped: redis-server is not installed on this machine");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut redis = OwnRedis { port, child: None };
        redis.resume();
        Some(redis)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn resume(&mut self) {
        let port = self.port.to_string();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting redis-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The shared parts of the cluster and each node's own data directory.
struct Cluster {
    db: TestDb,
    redis: OwnRedis,
    key: PathBuf,
    _keys: TempDir,
    nodes: Vec<TempDir>,
}

impl Cluster {
    async fn new() -> Option<Cluster> {
        let db = TestDb::postgres().await?;
        let redis = OwnRedis::start()?;
        let keys = tempfile::tempdir().unwrap();
        Quadrat::new(BIN)
            .data_dir(keys.path())
            .ok(&["keys", "generate"]);
        Some(Cluster {
            db,
            redis,
            key: keys.path().join("keys/oauth-private.pem"),
            _keys: keys,
            nodes: Vec::new(),
        })
    }

    /// `quadrat` as one node of the cluster, in a data directory of its own.
    fn node(&mut self) -> Quadrat {
        let dir = tempfile::tempdir().unwrap();
        let node = self.node_in(dir.path());
        self.nodes.push(dir);
        node
    }

    fn node_in(&self, dir: &Path) -> Quadrat {
        Quadrat::new(BIN)
            .data_dir(dir)
            .database_url(&self.db.url)
            .env("QUADRAT_DEPLOYMENT", "cluster")
            .env("QUADRAT_OAUTH__PRIVATE_KEY_FILE", self.key.as_os_str())
            .env("QUADRAT_RATE_LIMITS__STORE", "redis")
            .env("QUADRAT_RATE_LIMITS__REDIS_URL", self.redis.url())
    }
}

async fn token_request(base: &str, id: i64, secret: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/oauth/token"))
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": id,
            "client_secret": secret,
        }))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn export(base: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{base}/api/export/entries/{SLUG}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn code(body: &Value) -> Option<&str> {
    body["errors"][0]["code"].as_str()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_state() {
    let Some(mut cluster) = Cluster::new().await else {
        return;
    };
    // Both start at the same moment on the empty database: one migrates it, the other waits.
    let (a_cli, b_cli) = (cluster.node(), cluster.node());
    let (a, b): (ServedProcess, ServedProcess) = std::thread::scope(|s| {
        let a = s.spawn(|| a_cli.serve(&[]));
        let b = s.spawn(|| b_cli.serve(&[]));
        (a.join().unwrap(), b.join().unwrap())
    });
    let again = cluster.db.store().await.migrate().await.unwrap();
    assert!(again.is_empty(), "applied twice: {again:?}");

    // A private project, a manager, and its client app, set up from one node's CLI.
    let file = fixtures_dir().join("tree-survey-2024.json");
    a_cli.ok(&[
        "project",
        "import",
        file.to_str().unwrap(),
        "--access",
        "private",
    ]);
    a_cli
        .run_with_stdin(
            &[
                "user",
                "create",
                MANAGER,
                "--name",
                "Mia",
                "--password-stdin",
            ],
            &format!("{PASSWORD}\n"),
        )
        .ok();
    a_cli.ok(&["project", "member", "add", SLUG, MANAGER, "manager"]);
    let created: Value = serde_json::from_str(
        a_cli
            .ok(&["app", "create", SLUG, "--name", "Field App", "--json"])
            .trim(),
    )
    .unwrap();
    let id = created["client_id"].as_i64().unwrap();
    let secret = created["client_secret"].as_str().unwrap().to_string();

    // A token issued by A works on B.
    let (status, body) = token_request(&a.base, id, &secret).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    assert_eq!(export(&b.base, &token).await.0, 200);

    // Revoked through A's API by the manager: B refuses the token at once.
    let login: Value = reqwest::Client::new()
        .post(format!("{}/api/login/local", a.base))
        .json(&json!({"username": MANAGER, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwt = login["data"]["jwt"]
        .as_str()
        .expect("a user token")
        .to_string();
    let revoked = reqwest::Client::new()
        .post(format!("{}/myprojects/{SLUG}/app-revoke", a.base))
        .bearer_auth(&jwt)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200, "{}", revoked.text().await.unwrap());
    let (status, body) = export(&b.base, &token).await;
    assert_eq!((status, code(&body)), (404, Some("ec5_256")), "{body}");

    // The token budget (10 an hour per client) is one budget: A's first request above and
    // nine more through A, then the eleventh through B is refused.
    for _ in 0..9 {
        assert_eq!(token_request(&a.base, id, &secret).await.0, 200);
    }
    let (status, body) = token_request(&b.base, id, &secret).await;
    assert_eq!((status, code(&body)), (429, Some("ec5_255")), "{body}");

    // A web session made on A is valid on B.
    let mut visitor = quadrat_testkit::pages::Visitor::new(&a.base);
    visitor.log_in(MANAGER, PASSWORD).await;
    let cookie = visitor.cookie.clone().expect("a session cookie");
    let mut on_b = quadrat_testkit::pages::Visitor::new(&b.base);
    on_b.cookie = Some(cookie);
    let page = on_b.get("/myprojects").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Tree Survey 2024"), "{}", page.body);

    // With its rate-limit store gone, B is not ready (and says which store failed) but keeps
    // answering: the limiter lets requests through. Ready again once Redis is back.
    cluster.redis.stop();
    let ready = reqwest::get(format!("{}/readyz", b.base)).await.unwrap();
    assert_eq!(ready.status(), 503);
    let body = ready.text().await.unwrap();
    assert!(body.contains("rate_limits"), "{body}");
    let (status, _) = token_request(&b.base, id, &secret).await;
    assert_ne!(status, 500);
    let searched = reqwest::get(format!("{}/api/projects/tree", b.base))
        .await
        .unwrap();
    assert_eq!(searched.status(), 200);
    cluster.redis.resume();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = reqwest::get(format!("{}/readyz", b.base))
            .await
            .unwrap()
            .status();
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "B not ready again after Redis returned"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
