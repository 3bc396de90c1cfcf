//! Secrets at rest (docs/security.md): the data directory is 0700 and the SQLite database with
//! its `-wal` and `-shm` files 0600, whatever the umask; existing ones open to others are closed
//! on start, with a warning.

#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `quadrat ARGS` under `umask 000` (through `sh`, so the test itself keeps its umask), with
/// `data_dir` as its data directory and nothing else configured.
fn permissive(data_dir: &Path, args: &str) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("umask 000 && exec \"$0\" {args}"))
        .arg(env!("CARGO_BIN_EXE_quadrat"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("QUADRAT_") {
            command.env_remove(key);
        }
    }
    command.env("QUADRAT_DATA_DIR", data_dir);
    command
}

/// A running server, stopped when dropped (a failed assertion included).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `quadrat serve` and returns it with its log lines up to the one with its URL.
fn serve(data_dir: &Path) -> (Running, Vec<String>) {
    let mut child = Running(
        permissive(data_dir, "serve --listen 127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting quadrat serve"),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.0.stderr.take().expect("piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = Vec::new();
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the server logs its URL");
        let done = line.contains("listening on");
        lines.push(line);
        if done {
            return (child, lines);
        }
    }
}

fn stop(server: Running) {
    drop(server);
}

#[test]
fn a_new_data_directory_and_database_are_owner_only_whatever_the_umask() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("quadrat-data");
    let (server, _) = serve(&data);
    let db = data.join("quadrat.sqlite");
    let modes = [
        ("data dir", mode(&data)),
        ("database", mode(&db)),
        ("-wal", mode(&data.join("quadrat.sqlite-wal"))),
        ("-shm", mode(&data.join("quadrat.sqlite-shm"))),
        ("keys", mode(&data.join("keys"))),
        ("private key", mode(&data.join("keys/oauth-private.pem"))),
    ];
    stop(server);
    assert_eq!(
        modes,
        [
            ("data dir", 0o700),
            ("database", 0o600),
            ("-wal", 0o600),
            ("-shm", 0o600),
            ("keys", 0o700),
            ("private key", 0o600),
        ]
    );
}

#[test]
fn an_existing_open_data_directory_and_database_are_closed_with_a_warning() {
    let parent = tempfile::tempdir().unwrap();
    let data = parent.path().join("quadrat-data");
    let out = permissive(&data, "migrate").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let db = data.join("quadrat.sqlite");
    // As an older Quadrat left them.
    chmod(&data, 0o755);
    chmod(&db, 0o644);
    let (server, log) = serve(&data);
    let modes = (mode(&data), mode(&db));
    stop(server);
    assert_eq!(modes, (0o700, 0o600));
    let log = log.join("\n");
    assert!(
        log.contains("data directory was open to other users; it is now 0700"),
        "{log}"
    );
    assert!(
        log.contains("database file was readable by others; it is now 0600"),
        "{log}"
    );
    // A later start has nothing to say.
    let (server, log) = serve(&data);
    stop(server);
    assert!(!log.join("\n").contains("it is now"), "{log:?}");
}
