//! The `quadrat` binary run as a separate process, as a script or an administrator runs it:
//! one command at a time ([`Quadrat::run`]) or a server beside them ([`Quadrat::serve`]).
//!
//! The binary's path is known only to the crate that builds it, so tests pass it in:
//! `Quadrat::on(env!("CARGO_BIN_EXE_quadrat"), &db)`.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::TestDb;

/// How to run `quadrat`: the binary and the environment it gets. No `QUADRAT_*` variable of the
/// test's own environment reaches it, so only what the test sets decides the configuration.
#[derive(Debug, Clone)]
pub struct Quadrat {
    bin: PathBuf,
    vars: Vec<(String, OsString)>,
    /// A program that runs `quadrat` (`strace -f …`), with its arguments.
    wrapper: Vec<OsString>,
}

impl Quadrat {
    /// `bin` with no data settings of its own (help, argument errors, defaults).
    pub fn new(bin: &str) -> Quadrat {
        Quadrat {
            bin: PathBuf::from(bin),
            vars: Vec::new(),
            wrapper: Vec::new(),
        }
    }

    /// Runs `quadrat` under `program ARGS…` (which must run the command it is given last, as
    /// `strace -o FILE --` does).
    pub fn wrapped_in(mut self, program: &str, args: &[&str]) -> Quadrat {
        self.wrapper = std::iter::once(program)
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        self
    }

    /// `bin` on the test's database, with the test's directory as its data directory.
    pub fn on(bin: &str, db: &TestDb) -> Quadrat {
        Quadrat::new(bin)
            .data_dir(db.data_dir())
            .database_url(&db.url)
    }

    /// `QUADRAT_DATA_DIR`: the data directory (its SQLite file unless a database URL is set,
    /// its `quadrat.toml`, keys and media).
    pub fn data_dir(self, dir: impl AsRef<Path>) -> Quadrat {
        self.env("QUADRAT_DATA_DIR", dir.as_ref())
    }

    /// `QUADRAT_DATABASE_URL`.
    pub fn database_url(self, url: &str) -> Quadrat {
        self.env("QUADRAT_DATABASE_URL", url)
    }

    /// One more environment variable (a later value for the same name wins).
    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Quadrat {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.to_string(), value.into()));
        self
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = match self.wrapper.split_first() {
            Some((program, wrapper_args)) => {
                let mut command = Command::new(program);
                command.args(wrapper_args).arg(&self.bin);
                command
            }
            None => Command::new(&self.bin),
        };
        command.args(args);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("QUADRAT_") {
                command.env_remove(key);
            }
        }
        command.envs(self.vars.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Starts `quadrat ARGS` with `stdin`, its standard output and error piped.
    fn spawn(&self, args: &[&str], stdin: Stdio) -> Child {
        self.command(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.bin.display()))
    }

    /// Runs `quadrat ARGS` with nothing on standard input and waits for it.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, "")
    }

    /// Runs `quadrat ARGS` with `stdin` on standard input (then closed) and waits for it.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut child = self.spawn(args, Stdio::piped());
        let mut pipe = child.stdin.take().expect("piped stdin");
        let input = stdin.to_string();
        // Written from a thread: a child that prints before it reads cannot block on a full pipe.
        let writer = std::thread::spawn(move || {
            // A command that never reads its input closes the pipe early; that is its business.
            let _ = pipe.write_all(input.as_bytes());
        });
        let out = child.wait_with_output().expect("waiting for quadrat");
        let _ = writer.join();
        let text = |bytes: Vec<u8>, stream: &str| {
            String::from_utf8(bytes)
                .unwrap_or_else(|e| panic!("quadrat {args:?} printed non-UTF-8 on {stream}: {e}"))
        };
        Run {
            args: args.iter().map(|a| a.to_string()).collect(),
            status: out.status,
            stdout: text(out.stdout, "stdout"),
            stderr: text(out.stderr, "stderr"),
        }
    }

    /// Runs `quadrat ARGS` with its standard output a pipe nobody reads (`quadrat … | head`
    /// once `head` has had enough): the pipe's reading end is closed before the command writes.
    /// Its standard output in the [`Run`] is empty.
    pub fn run_reader_gone(&self, args: &[&str]) -> Run {
        let mut child = self.spawn(args, Stdio::null());
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("waiting for quadrat");
        Run {
            args: args.iter().map(|a| a.to_string()).collect(),
            status: out.status,
            stdout: String::new(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs `quadrat ARGS`, which must succeed; its standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        self.run(args).ok()
    }

    /// Runs `quadrat ARGS`, which must fail; its standard error.
    pub fn fails(&self, args: &[&str]) -> String {
        self.run(args).failed()
    }

    /// Starts `quadrat serve --listen 127.0.0.1:0 EXTRA…` and waits (up to a minute) for the
    /// line that logs its URL.
    pub fn serve(&self, extra: &[&str]) -> ServedProcess {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut child = self
            .command(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting quadrat serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        // Every line is kept for the test (`ServedProcess::stderr`), and sent until the URL.
        let logs = Arc::new(Mutex::new(Vec::new()));
        let kept = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                kept.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(line.clone());
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
        ServedProcess { child, base, logs }
    }
}

/// One finished run of `quadrat`.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// The exit code (`None` when a signal ended it).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Standard output of a run that must have succeeded.
    pub fn ok(self) -> String {
        assert!(
            self.success(),
            "quadrat {:?} failed ({}): {}",
            self.args,
            self.status,
            self.stderr
        );
        self.stdout
    }

    /// Standard error of a run that must have failed.
    pub fn failed(self) -> String {
        assert!(
            !self.success(),
            "quadrat {:?} should fail; it printed: {}",
            self.args,
            self.stdout
        );
        self.stderr
    }

    /// Standard output parsed as JSON (`--json`), whatever the exit code.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "quadrat {:?} printed no JSON ({e}): {:?}; stderr: {}",
                self.args, self.stdout, self.stderr
            )
        })
    }
}

/// A running `quadrat serve`, killed when dropped. Its stdout is piped for the test to read.
pub struct ServedProcess {
    pub child: Child,
    /// `http://127.0.0.1:PORT`, as the server logged it.
    pub base: String,
    logs: Arc<Mutex<Vec<String>>>,
}

impl ServedProcess {
    /// What the server wrote on standard error so far, one line each.
    pub fn stderr(&self) -> String {
        self.logs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .join("\n")
    }

    /// Sends SIGTERM, as a service manager stopping it does.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -TERM failed: {status}");
    }

    /// Waits up to `timeout` for the server to exit; its status, `None` if it is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("polling quadrat serve") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServedProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
