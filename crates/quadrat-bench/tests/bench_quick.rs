//! The benchmark runs end to end in its quickest mode on SQLite (a few hundred entries, one run
//! of each measure) and writes its table. It proves the benchmark works; it asserts no timing.

use std::path::PathBuf;
use std::process::Command;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The `quadrat` binary of this profile (debug under `cargo test`), built if missing or stale.
fn quadrat_bin() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace())
        .args(["build", "--locked", "-p", "quadrat"])
        .status()
        .expect("running cargo build");
    assert!(status.success(), "cargo build -p quadrat failed");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| workspace().join("target"));
    target.join("debug/quadrat")
}

#[test]
fn quick_mode_on_sqlite_writes_the_table() {
    let results = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_quadrat-bench"))
        .args([
            "--engine",
            "sqlite",
            "--entries",
            "300",
            "--runs",
            "1",
            "--uploads",
            "40",
            "--import-rows",
            "40",
        ])
        .arg("--quadrat")
        .arg(quadrat_bin())
        .arg("--results")
        .arg(results.path())
        .output()
        .expect("running quadrat-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "quadrat-bench failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written: Vec<_> = std::fs::read_dir(results.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(written.len(), 1, "one table written: {written:?}");
    let table = std::fs::read_to_string(&written[0]).unwrap();
    for measure in [
        "whole form as JSON pages",
        "whole form as CSV pages",
        "first / last page",
        "first page, per_page=50",
        "synchronous=NORMAL",
        "synchronous=FULL",
        "uploads, 1 client",
        "uploads, 8 client",
        "uploads, 32 client",
        "quadrat entries import",
        "token issuance",
        "token verification",
    ] {
        assert!(
            table.contains(measure),
            "no {measure:?} row in the table:\n{table}"
        );
    }
    assert!(stdout.contains(&table), "the table is printed as written");
}
