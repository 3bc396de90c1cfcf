//! The server under test: `quadrat serve` as it ships, a child process on a loopback port, and
//! the peak resident memory of a process during each phase.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// How to run the `quadrat` binary against one database.
#[derive(Debug, Clone)]
pub struct Quadrat {
    pub bin: PathBuf,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// Extra environment (the durability setting).
    pub env: Vec<(String, String)>,
}

impl Quadrat {
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--database-url")
            .arg(&self.database_url)
            .env_remove("QUADRAT_DATABASE_URL")
            .env_remove("QUADRAT_DATA_DIR");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }
}

/// Builds `quadrat` in release, alone, so its features are those it ships with.
pub fn build_release(workspace: &Path) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    eprintln!("building quadrat (release)…");
    let status = Command::new(cargo)
        .current_dir(workspace)
        .args(["build", "--release", "--locked", "-p", "quadrat"])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release -p quadrat failed");
    }
    Ok(workspace.join("target/release/quadrat"))
}

/// A running `quadrat serve`; stopped when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    pub async fn start(q: &Quadrat, client: &reqwest::Client, probe_path: &str) -> Result<Server> {
        let port = free_port()?;
        let log = std::fs::File::create(q.data_dir.join("server.log"))?;
        let child = q
            .command()
            .args(["serve", "--no-rate-limits", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("starting {}", q.bin.display()))?;
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "the server exited ({status}); see {}",
                    q.data_dir.join("server.log").display()
                );
            }
            let url = format!("{}{probe_path}", server.base);
            if let Ok(r) = client.get(&url).send().await
                && r.status().is_success()
            {
                return Ok(server);
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("the server did not answer {url} within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A field of `/proc/<pid>/status` in kB.
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Samples a process's resident memory every 10 ms; [`RssProbe::reset`] starts a phase (it also
/// resets the kernel's own peak, `VmHWM`, through `clear_refs`), [`RssProbe::peak_mb`] reads the
/// phase's peak: the larger of the samples and `VmHWM`.
pub struct RssProbe {
    pid: u32,
    peak_kb: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssProbe {
    pub fn start(pid: u32) -> RssProbe {
        let peak_kb = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (peak_kb, stop) = (peak_kb.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match status_kb(pid, "VmRSS:") {
                        Some(kb) => {
                            peak_kb.fetch_max(kb, Ordering::Relaxed);
                        }
                        None => break,
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        };
        RssProbe {
            pid,
            peak_kb,
            stop,
            thread: Some(thread),
        }
    }

    pub fn reset(&self) {
        // "5" resets VmHWM to the current RSS (proc(5)); a kernel without it keeps the samples.
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5");
        self.peak_kb.store(
            status_kb(self.pid, "VmRSS:").unwrap_or(0),
            Ordering::Relaxed,
        );
    }

    pub fn peak_mb(&self) -> f64 {
        let hwm = status_kb(self.pid, "VmHWM:").unwrap_or(0);
        let kb = hwm.max(self.peak_kb.load(Ordering::Relaxed));
        kb as f64 / 1024.0
    }

    /// The sampled peak only (for a process that has exited).
    pub fn sampled_peak_mb(&self) -> f64 {
        self.peak_kb.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

impl Drop for RssProbe {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
