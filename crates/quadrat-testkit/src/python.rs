//! A Python virtual environment under `target/` for acceptance tests with real third-party
//! clients (pyepicollect from PyPI). Created once, shared by every test binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The venv's `python`, with `packages` installed; `None` (reason printed) when no `python3` is
/// on this machine. Installing needs PyPI: a failure there fails the test, it is not skipped.
pub fn venv_with(packages: &[&str]) -> Option<PathBuf> {
    let Some(system_python) = ["python3", "python"].into_iter().find(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        eprintln!("skipped: no python3 on this machine (CI installs it)");
        return None;
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/acceptance");
    std::fs::create_dir_all(&root).expect("creating target/acceptance");
    let _lock = DirLock::acquire(&root.join("venv.lock"));
    let venv = root.join("venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        run(Command::new(system_python).args(["-m", "venv"]).arg(&venv));
    }
    let marker = venv.join(format!(
        "installed-{}",
        packages.join("+").replace(['/', '='], "_")
    ));
    if !marker.exists() {
        run(Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(packages));
        std::fs::write(&marker, b"").expect("marking the install");
    }
    Some(python)
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A cross-process lock: creating a directory is atomic.
pub(crate) struct DirLock(PathBuf);

impl DirLock {
    pub(crate) fn acquire(path: &Path) -> DirLock {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            match std::fs::create_dir(path) {
                Ok(()) => return DirLock(path.to_path_buf()),
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(200))
                }
                Err(e) => panic!("waiting for {}: {e}", path.display()),
            }
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Runs `script` with the venv's python, `args` after it; returns stdout, panicking with the
/// script's output when it fails.
pub fn run_script(python: &Path, script: &str, args: &[&str]) -> String {
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("running python");
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
