//! Acceptance: pyepicollect (from PyPI, the Python client the Epicollect5 docs point to) gets a
//! token with its own `Auth` object and reads a private project's export, with nothing changed
//! but its base URLs. Installed into a virtual environment under `target/`; skipped (with the
//! reason printed) only when python3 is missing.

mod oauth_support;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use oauth_support::*;
use quadrat_testkit::{TestDb, TestServer, both_engines};
use serde_json::Value;

const SCRIPT: &str = r#"
import json, os
import pyepicollect as pyep

base = os.environ["QUADRAT_BASE"]
pyep.auth.TOKEN_REQ_URL = base + "/api/oauth/token"
pyep.auth.REQ_URL = base + "/api"

auth = pyep.auth.Auth(int(os.environ["CLIENT_ID"]), os.environ["CLIENT_SECRET"])
token = auth.access_token
assert not auth.has_expired()
project = pyep.api.get_project(os.environ["SLUG"], token=token)
denied = pyep.api.get_project(os.environ["SLUG"])
print(json.dumps({"expires_in": auth.token["expires_in"], "project": project, "denied": denied}))
"#;

/// The venv's python with pyepicollect installed, or `None` when there is no python3.
fn python_with_pyepicollect() -> Option<PathBuf> {
    static INSTALL: Mutex<()> = Mutex::new(());
    let _once = INSTALL.lock().unwrap_or_else(|p| p.into_inner());
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped pyepicollect acceptance: python3 is not installed");
        return None;
    }
    let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pyepicollect-venv");
    let python = venv.join("bin/python");
    let ready = python.exists()
        && Command::new(&python)
            .args(["-c", "import pyepicollect"])
            .status()
            .is_ok_and(|s| s.success());
    if !ready {
        let made = Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv)
            .status()
            .expect("running python3 -m venv");
        assert!(made.success(), "python3 -m venv failed");
        let out = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "pyepicollect==5.1.1",
            ])
            .output()
            .expect("running pip");
        assert!(
            out.status.success(),
            "pip install pyepicollect failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Some(python)
}

async fn pyepicollect_reads_a_private_project_with_its_own_auth(db: TestDb) {
    let Some(python) = python_with_pyepicollect() else {
        return;
    };
    let server = TestServer::start(&db).await;
    import(&server, None, "private").await;
    let app = create_app(&server, PRIVATE).await;
    // The server runs on this runtime's other worker while the script blocks this one.
    let out = tokio::task::block_in_place(|| {
        Command::new(&python)
            .args(["-c", SCRIPT])
            .env("QUADRAT_BASE", &server.base_url)
            .env("CLIENT_ID", app.client_id.to_string())
            .env("CLIENT_SECRET", &app.client_secret)
            .env("SLUG", PRIVATE)
            .output()
            .expect("running python")
    });
    assert!(
        out.status.success(),
        "pyepicollect script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("the script prints JSON");
    assert_eq!(v["expires_in"], 7200);
    assert_eq!(v["project"]["data"]["project"]["slug"], PRIVATE);
    assert_eq!(v["project"]["data"]["project"]["access"], "private");
    assert!(v["project"]["meta"]["project_mapping"].is_array());
    assert_eq!(v["denied"]["errors"][0]["code"], "ec5_256");
}

both_engines!(pyepicollect_reads_a_private_project_with_its_own_auth);
