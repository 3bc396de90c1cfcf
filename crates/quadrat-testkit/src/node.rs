//! Node.js and the other runtimes of the acceptance tests that reproduce the Epicollect5
//! developer guide's client snippets. npm packages go into `target/acceptance/node`, installed
//! once and shared by every test binary; the runtimes themselves come from Debian packages that
//! `.ci/run` installs.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::python::DirLock;

/// Whether `program` runs on this machine; prints why the caller skips when it does not.
pub fn runtime(program: &str, version_flag: &str) -> bool {
    let present = Command::new(program)
        .arg(version_flag)
        .output()
        .is_ok_and(|o| o.status.success());
    if !present {
        eprintln!("skipped: {program} is not installed on this machine (.ci/run installs it)");
    }
    present
}

/// The `node_modules` folder holding `packages` (pinned `name@version` specs); `None` (reason
/// printed) when node or npm is missing. Installing needs the npm registry: a failure there
/// fails the test, it is not skipped.
pub fn node_modules(packages: &[&str]) -> Option<PathBuf> {
    node_modules_in("acceptance", "node", packages)
}

/// [`node_modules`] installed under `target/<root>/<folder>` (one folder per set of tools, so
/// installing one set never prunes another).
pub fn node_modules_in(root: &str, folder: &str, packages: &[&str]) -> Option<PathBuf> {
    if !runtime("node", "--version") || !runtime("npm", "--version") {
        return None;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target")
        .join(root);
    std::fs::create_dir_all(&root).expect("creating the install folder under target/");
    let _lock = DirLock::acquire(&root.join(format!("{folder}.lock")));
    let prefix = root.join(folder);
    let marker = prefix.join(format!(
        "installed-{}",
        packages.join("+").replace(['/', '@'], "_")
    ));
    if !marker.exists() {
        std::fs::create_dir_all(&prefix).expect("creating the node folder");
        let out = Command::new("npm")
            .args([
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--no-package-lock",
                "--loglevel=error",
                "--prefix",
            ])
            .arg(&prefix)
            .args(packages)
            .output()
            .expect("running npm");
        assert!(
            out.status.success(),
            "npm install {packages:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(&marker, b"").expect("marking the install");
    }
    Some(prefix.join("node_modules"))
}

/// Runs `program` with `args` and `env`; returns stdout, panicking with everything the program
/// printed when it fails.
pub fn run(program: &str, args: &[&str], env: &[(&str, &str)], cwd: Option<&Path>) -> String {
    let mut cmd = Command::new(program);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
