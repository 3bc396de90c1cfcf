//! Browser tests: Debian's Chromium (`/usr/bin/chromium`, which `.ci/run` installs) driven by
//! Playwright (`playwright-core` from npm, which never downloads a browser of its own) with
//! axe-core for accessibility checks. The npm packages go into `target/browser/node_modules`,
//! installed once and shared by every test binary. A test hands a Node.js script its
//! parameters as JSON; the script drives one browser for the whole test binary.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's Chromium.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The packages the browser scripts load.
pub const PACKAGES: &[&str] = &["playwright-core@1.65.2", "axe-core@4.14.1"];

/// Where the tests save their screenshots (kept as CI artifacts).
pub fn screenshots_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).expect("creating target/screenshots");
    dir
}

/// The `node_modules` folder with Playwright and axe-core; `None` (reason printed) when
/// Chromium, node or npm is missing on this machine.
pub fn browser_modules() -> Option<PathBuf> {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("skipped: {CHROMIUM} is not installed on this machine (.ci/run installs it)");
        return None;
    }
    crate::node::node_modules_in("browser", "node", PACKAGES)
}

/// Runs the Node.js script `script` with `config` (JSON) in `QUADRAT_BROWSER_CONFIG`, the
/// module folder in `QUADRAT_NODE_MODULES` and Chromium's path in `QUADRAT_CHROMIUM`. Returns
/// what it printed; panics with all of it when it fails.
pub fn run_script(modules: &Path, script: &Path, config: &serde_json::Value) -> String {
    let out = Command::new("node")
        .arg(script)
        .env("QUADRAT_BROWSER_CONFIG", config.to_string())
        .env("QUADRAT_NODE_MODULES", modules)
        .env("QUADRAT_CHROMIUM", CHROMIUM)
        .env("QUADRAT_SCREENSHOTS", screenshots_dir())
        .output()
        .unwrap_or_else(|e| panic!("running node {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "browser script {} failed:\n{stdout}\n{stderr}",
        script.display()
    );
    eprintln!("{stderr}");
    stdout
}
