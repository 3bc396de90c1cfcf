//! `quadrat serve` as a separate process, for tests of the binary beside the CLI.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::TestDb;

/// A running `quadrat serve`, killed when dropped. Its stdout is piped for the test to read.
pub struct ServedProcess {
    pub child: Child,
    /// `http://127.0.0.1:PORT`, as the server logged it.
    pub base: String,
}

impl Drop for ServedProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `bin serve --listen 127.0.0.1:0 EXTRA…` on the test's database and data directory,
/// with `env` added, and waits (up to a minute) for the line that logs its URL.
pub fn serve_process(
    bin: &str,
    db: &TestDb,
    extra: &[&str],
    env: &[(&str, &str)],
) -> ServedProcess {
    let mut child = Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env("QUADRAT_DATA_DIR", db.data_dir())
        .env("QUADRAT_DATABASE_URL", &db.url)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting quadrat serve");
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let base = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the server logs its URL");
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
        }
    };
    ServedProcess { child, base }
}
