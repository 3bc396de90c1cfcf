//! `quadrat project download` on both engines: one zip with a file per form and per branch,
//! named as Epicollect5's download names them, each holding the export's rows; the media files
//! with `--media`; an unknown project refused without a file.

use std::process::Command;

use quadrat_testkit::process::{Quadrat, Run};
use quadrat_testkit::{TestDb, both_engines, pages};

fn quadrat(db: &TestDb, args: &[&str]) -> Run {
    Quadrat::on(env!("CARGO_BIN_EXE_quadrat"), db).run(args)
}

fn unzip(path: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("unzip").args(args).arg(path).output().unwrap();
    assert!(out.status.success(), "unzip {args:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn download_writes_a_file_per_form_and_branch(db: TestDb) {
    let app = db.app().await;
    let data = pages::data_project(&app, 4).await;
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("p.zip");
    let zip_arg = zip.display().to_string();
    let out = quadrat(
        &db,
        &["project", "download", &data.slug, "-o", &zip_arg, "--media"],
    );
    assert!(out.success(), "{}", out.stderr);
    assert!(unzip(&zip, &["-tq"]).contains("No errors"));
    let names: Vec<String> = unzip(&zip, &["-Z1"]).lines().map(str::to_string).collect();
    assert_eq!(
        names,
        [
            "form-1__everything.csv".to_string(),
            "branch-1__plants-sampled.csv".into(),
            "form-2__follow-up.csv".into(),
            format!("media/photo/{}_1717406127.jpg", data.media_uuid),
            format!("media/audio/{}_1717406127.wav", data.media_uuid),
        ]
    );
    let form = Command::new("unzip")
        .args(["-p"])
        .arg(&zip)
        .arg("form-1__everything.csv")
        .output()
        .unwrap();
    // A header and the four entries.
    assert_eq!(String::from_utf8_lossy(&form.stdout).lines().count(), 5);

    let json = dir.path().join("j.zip");
    let json_arg = json.display().to_string();
    let out = quadrat(
        &db,
        &["project", "download", &data.slug, "-o", &json_arg, "--json"],
    );
    assert!(out.success(), "{}", out.stderr);
    let branch = Command::new("unzip")
        .args(["-p"])
        .arg(&json)
        .arg("branch-1__plants-sampled.json")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&branch.stdout).unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 3);

    let missing = dir.path().join("m.zip");
    let out = quadrat(
        &db,
        &[
            "project",
            "download",
            "no-such-project",
            "-o",
            &missing.display().to_string(),
        ],
    );
    assert!(!out.success());
    assert!(!missing.exists(), "no file for an unknown project");
}

both_engines!(download_writes_a_file_per_form_and_branch);
