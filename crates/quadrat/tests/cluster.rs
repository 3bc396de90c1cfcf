//! Two `quadrat serve` processes as one service (docs/deployment.md): one PostgreSQL database,
//! one S3-compatible bucket (moto's server on loopback), one signing key file, rate-limit windows
//! in a Redis server of the test's own (so it can be stopped without disturbing other tests).
//! What one instance does, the other sees at once; one instance stopping lets its downloads
//! finish while the other keeps serving. Skipped, saying why, without PostgreSQL (`.ci/run`
//! points the tests at it), `redis-server` or python3 (for moto).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use quadrat_core::entry::MediaKind;
use quadrat_store::MediaKey;
use quadrat_testkit::process::{Quadrat, ServedProcess};
use quadrat_testkit::s3::TestBucket;
use quadrat_testkit::uploads::{
    PHOTO_NAME, PROJECT_REF, SITE_UUID, multipart, photo_bytes, photo_entry, site_entry, version_of,
};
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
    bucket: TestBucket,
    redis: OwnRedis,
    key: PathBuf,
    _keys: TempDir,
    nodes: Vec<TempDir>,
}

impl Cluster {
    async fn new() -> Option<Cluster> {
        let db = TestDb::postgres().await?;
        let bucket = TestBucket::new().await?;
        let redis = OwnRedis::start()?;
        let keys = tempfile::tempdir().unwrap();
        Quadrat::new(BIN)
            .data_dir(keys.path())
            .ok(&["keys", "generate"]);
        Some(Cluster {
            db,
            bucket,
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
        let s3 = &self.bucket.settings;
        Quadrat::new(BIN)
            .data_dir(dir)
            .database_url(&self.db.url)
            .env("QUADRAT_DEPLOYMENT", "cluster")
            .env("QUADRAT_OAUTH__PRIVATE_KEY_FILE", self.key.as_os_str())
            .env("QUADRAT_RATE_LIMITS__STORE", "redis")
            .env("QUADRAT_RATE_LIMITS__REDIS_URL", self.redis.url())
            .env("QUADRAT_MEDIA__STORE", "s3")
            .env("QUADRAT_MEDIA__BUCKET", &s3.bucket)
            .env("QUADRAT_MEDIA__ENDPOINT", s3.endpoint.clone().unwrap())
            .env("QUADRAT_MEDIA__ACCESS_KEY_ID", "testing")
            .env("QUADRAT_MEDIA__SECRET_ACCESS_KEY", "testing")
            // Long enough for the slow download below to finish after SIGTERM.
            .env("QUADRAT_SHUTDOWN_GRACE_SECONDS", "60")
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

/// The manager's user token, from A's local login.
async fn log_in(base: &str) -> String {
    let login: Value = reqwest::Client::new()
        .post(format!("{base}/api/login/local"))
        .json(&json!({"username": MANAGER, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["data"]["jwt"]
        .as_str()
        .expect("a user token")
        .to_string()
}

/// An upload as the app sends it: status and body.
async fn upload(base: &str, jwt: &str, content_type: &str, body: Vec<u8>) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/upload/{SLUG}"))
        .bearer_auth(jwt)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Downloads `path` from `address` over one connection, reading slowly (128 KiB every 20 ms) so
/// the answer is still being sent long after it started; says on `started` once 1 MiB is in.
/// Returns the whole answer, head and body.
fn slow_download(address: &str, path: &str, jwt: &str, started: mpsc::Sender<()>) -> Vec<u8> {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {jwt}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let mut chunk = vec![0u8; 128 * 1024];
    let mut said = false;
    loop {
        let n = stream.read(&mut chunk).unwrap();
        if n == 0 {
            return answer;
        }
        answer.extend_from_slice(&chunk[..n]);
        if !said && answer.len() >= 1 << 20 {
            said = true;
            started.send(()).unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
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
    let (mut a, b): (ServedProcess, ServedProcess) = std::thread::scope(|s| {
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

    let jwt = log_in(&a.base).await;

    // An entry with a photo uploaded through A (the manager's app) is exported through B, and
    // B serves the photo A stored in the shared bucket.
    let app = cluster.db.app().await;
    let version = version_of(&app.find_project(SLUG).await.unwrap());
    let site = upload(&a.base, &jwt, "application/vnd.api+json", {
        serde_json::to_vec(&json!({"data": site_entry(&version)})).unwrap()
    })
    .await;
    assert_eq!(site.0, 200, "{}", site.1);
    let (content_type, body) = multipart(
        &photo_entry(&version).to_string(),
        Some((PHOTO_NAME, "image/jpeg", &photo_bytes())),
    );
    let photo = upload(&a.base, &jwt, &content_type, body).await;
    assert_eq!(photo.0, 200, "{}", photo.1);
    let key = MediaKey::entry(MediaKind::Photo, PROJECT_REF, PHOTO_NAME).unwrap();
    let spool = tempfile::tempdir().unwrap();
    let in_bucket = cluster
        .bucket
        .store(spool.path())
        .read_small(&key, 10_000_000)
        .await
        .unwrap()
        .expect("the photo is in the shared bucket");
    let (status, exported) = export(&b.base, &token).await;
    assert_eq!(status, 200, "{exported}");
    let entry = &exported["data"]["entries"][0];
    assert_eq!(entry["ec5_uuid"], SITE_UUID, "{exported}");
    let named = entry
        .as_object()
        .unwrap()
        .values()
        .any(|v| v.as_str() == Some(PHOTO_NAME));
    assert!(named, "the export names the photo: {exported}");
    let served = reqwest::Client::new()
        .get(format!(
            "{}/api/export/media/{SLUG}?type=photo&format=entry_original&name={PHOTO_NAME}",
            b.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap(), in_bucket);

    // Revoked through A's API by the manager: B refuses the token at once.
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

    // SIGTERM to A during a long download (a 24 MiB recording, streamed from the bucket): A
    // refuses new connections and finishes the download; B keeps serving meanwhile.
    let recording = format!("{SITE_UUID}_1717406200.wav");
    let mut wav = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
    wav.extend((0..24u32 << 20).map(|i| (i % 251) as u8));
    let audio = MediaKey::entry(MediaKind::Audio, PROJECT_REF, &recording).unwrap();
    cluster
        .bucket
        .store(spool.path())
        .store_bytes(&audio, &wav)
        .await
        .unwrap();
    let a_address = a.base.trim_start_matches("http://").to_string();
    let path = format!("/api/media/{SLUG}?type=audio&format=audio&name={recording}");
    let (started_tx, started) = mpsc::channel();
    let download = {
        let (address, jwt) = (a_address.clone(), jwt.clone());
        std::thread::spawn(move || slow_download(&address, &path, &jwt, started_tx))
    };
    started
        .recv_timeout(Duration::from_secs(30))
        .expect("the download started");
    a.terminate();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        TcpStream::connect(&a_address).is_err(),
        "A accepts no new connection after SIGTERM"
    );
    assert_eq!(
        a.wait_exit(Duration::from_millis(10)),
        None,
        "A waits for the download"
    );
    for _ in 0..3 {
        let searched = reqwest::get(format!("{}/api/projects/tree", b.base))
            .await
            .unwrap();
        assert_eq!(searched.status(), 200);
    }
    let answer = tokio::task::spawn_blocking(move || download.join().unwrap())
        .await
        .unwrap();
    let head_end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer")
        + 4;
    let head = String::from_utf8_lossy(&answer[..head_end]);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(answer[head_end..] == wav[..], "the whole recording arrived");
    let status = a
        .wait_exit(Duration::from_secs(30))
        .expect("A exits once the download is done");
    assert_eq!(status.code(), Some(0), "{}", a.stderr());
    assert!(
        a.stderr().contains("shutdown: every request finished"),
        "{}",
        a.stderr()
    );
}
