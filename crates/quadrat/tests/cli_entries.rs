//! `quadrat entries delete` driven as a script would drive it, on both engines: an entry goes
//! with its descendants (any depth), their branch entries and media files, and every counter
//! comes back to what it was.

use quadrat_app::App;
use quadrat_app::projects::{ImportOptions, ResolvedProject};
use quadrat_core::definition::Definition;
use quadrat_core::project_state::ProjectAccess;
use quadrat_testkit::process::{Quadrat, Run};
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, both_engines, fixture};
use serde_json::Value;

fn quadrat(db: &TestDb, args: &[&str]) -> Run {
    Quadrat::on(env!("CARGO_BIN_EXE_quadrat"), db).run(args)
}

/// The `--json` report of a run that must have succeeded.
fn printed(out: &Run) -> Value {
    assert!(out.success(), "{}", out.stderr);
    out.json()
}

async fn import_public(app: &App, file: &str) -> (ResolvedProject, Definition, String) {
    let imported = app
        .import_project(
            &fixture(file),
            &ImportOptions {
                access: Some(ProjectAccess::Public),
                ..Default::default()
            },
        )
        .await
        .expect("importing");
    let project = app.find_project(&imported.slug).await.unwrap();
    let def = project.definition().unwrap();
    let version = version_of(&project);
    (project, def, version)
}

fn input_ref(def: &Definition, suffix: &str) -> String {
    def.all_inputs()
        .into_iter()
        .find(|i| i.input_ref.as_str().ends_with(suffix))
        .unwrap_or_else(|| panic!("input {suffix}"))
        .input_ref
        .0
        .clone()
}

async fn delete_entry_removes_descendants_branch_entries_and_media(db: TestDb) {
    let app = db.app().await;
    let (project, def, v) = import_public(&app, "all-types.json").await;
    let slug = project.slug.clone();
    let (top, child_form) = (
        def.forms[0].form_ref.0.clone(),
        def.forms[1].form_ref.0.clone(),
    );
    let branch = input_ref(&def, "665b2e9d2e3d6");
    let (photo, audio, branch_photo) = (
        input_ref(&def, "665b2d73c91d6"),
        input_ref(&def, "665b2dad62c4a"),
        input_ref(&def, "665b2f3d5c9cb"),
    );

    // A second family that must survive: T2 and, later, its child C2.
    let t2 = new_uuid();
    ingest_entry(&app, &project, &valid_entry(&def, &v, &top, &t2, None, 2)).await;
    let only_t2 = snapshot(&app, &project).await;
    let c2 = new_uuid();
    ingest_entry(
        &app,
        &project,
        &valid_entry(&def, &v, &child_form, &c2, Some((&top, &t2)), 3),
    )
    .await;
    let before = snapshot(&app, &project).await;

    // T with a branch entry B, a child C, and their media.
    let (t, b, c) = (new_uuid(), new_uuid(), new_uuid());
    ingest_entry(&app, &project, &valid_entry(&def, &v, &top, &t, None, 4)).await;
    ingest_entry(
        &app,
        &project,
        &valid_branch_entry(&def, &v, &top, &branch, &b, &t, 5),
    )
    .await;
    ingest_entry(
        &app,
        &project,
        &valid_entry(&def, &v, &child_form, &c, Some((&top, &t)), 6),
    )
    .await;
    let jpeg = photo_bytes();
    let name = |uuid: &str, ext: &str| format!("{uuid}_1717406127.{ext}");
    ingest_file(
        &app,
        &project,
        &valid_file_entry(&v, &top, &t, &photo, "photo", &name(&t, "jpg")),
        &jpeg,
    )
    .await;
    ingest_file(
        &app,
        &project,
        &valid_file_entry(&v, &top, &t, &audio, "audio", &name(&t, "mp4")),
        &mp4_bytes(),
    )
    .await;
    ingest_file(
        &app,
        &project,
        &valid_file_entry(&v, &top, &b, &branch_photo, "photo", &name(&b, "jpg")),
        &jpeg,
    )
    .await;
    let with_family = snapshot(&app, &project).await;
    assert_eq!(with_family.files.len(), 3);
    assert_eq!(with_family.media.photo_files, 2);

    let out = printed(&quadrat(
        &db,
        &["entries", "delete", &slug, "--uuid", &t, "--json"],
    ));
    assert_eq!(out["entries"], serde_json::json!([t, c]));
    assert_eq!(out["branch_entries"], serde_json::json!([b]));
    let mut files: Vec<String> = serde_json::from_value(out["files"].clone()).unwrap();
    files.sort();
    let mut expected = vec![name(&t, "jpg"), name(&t, "mp4"), name(&b, "jpg")];
    expected.sort();
    assert_eq!(files, expected);
    assert_eq!(
        snapshot(&app, &project).await,
        before,
        "everything as before T"
    );

    // One branch entry on its own: its owner's count and its file go back.
    let b2 = new_uuid();
    ingest_entry(
        &app,
        &project,
        &valid_branch_entry(&def, &v, &top, &branch, &b2, &t2, 7),
    )
    .await;
    ingest_file(
        &app,
        &project,
        &valid_file_entry(&v, &top, &b2, &branch_photo, "photo", &name(&b2, "jpg")),
        &jpeg,
    )
    .await;
    let text = quadrat(&db, &["entries", "delete", &slug, "--uuid", &b2]).ok();
    assert!(
        text.contains("deleted 0 entries, 1 branch entry and 1 media file"),
        "{text}"
    );
    assert_eq!(snapshot(&app, &project).await, before);

    // All of a form: the children go, their parent's count with them.
    let out = printed(&quadrat(
        &db,
        &[
            "entries",
            "delete",
            &slug,
            "--form",
            &child_form,
            "--all",
            "--json",
        ],
    ));
    assert_eq!(out["entries"], serde_json::json!([c2]));
    assert_eq!(snapshot(&app, &project).await, only_t2);

    // Nothing to delete: a clear error, nothing changed.
    let missing = quadrat(&db, &["entries", "delete", &slug, "--uuid", &new_uuid()]).failed();
    assert!(missing.contains("ec5_239"), "{missing}");
    let unknown_form = quadrat(
        &db,
        &["entries", "delete", &slug, "--form", "nope", "--all"],
    )
    .failed();
    assert!(unknown_form.contains("ec5_15"), "{unknown_form}");
    assert_eq!(snapshot(&app, &project).await, only_t2);
}

async fn delete_entry_reaches_every_depth(db: TestDb) {
    let app = db.app().await;
    let (project, def, v) = import_public(&app, "five-forms.json").await;
    let slug = project.slug.clone();
    let empty = snapshot(&app, &project).await;
    let forms: Vec<String> = def.forms.iter().map(|f| f.form_ref.0.clone()).collect();
    let mut chain: Vec<String> = Vec::new();
    let mut partial = None;
    for (depth, form) in forms.iter().enumerate() {
        let uuid = new_uuid();
        let parent = depth
            .checked_sub(1)
            .map(|p| (forms[p].as_str(), chain[p].as_str()));
        ingest_entry(
            &app,
            &project,
            &valid_entry(&def, &v, form, &uuid, parent, depth as u32),
        )
        .await;
        chain.push(uuid);
        if depth == 1 {
            partial = Some(snapshot(&app, &project).await);
        }
    }
    let stats = app.project_stats(&project).await.unwrap();
    assert_eq!(stats.total_entries, 5);

    // The middle of the chain: it and everything below it; its parent counts one child less.
    let out = printed(&quadrat(
        &db,
        &["entries", "delete", &slug, "--uuid", &chain[2], "--json"],
    ));
    assert_eq!(out["entries"], serde_json::json!(chain[2..].to_vec()));
    assert_eq!(Some(snapshot(&app, &project).await), partial);

    let out = printed(&quadrat(
        &db,
        &["entries", "delete", &slug, "--uuid", &chain[0], "--json"],
    ));
    assert_eq!(out["entries"], serde_json::json!(chain[..2].to_vec()));
    assert_eq!(snapshot(&app, &project).await, empty);
    assert_eq!(app.project_stats(&project).await.unwrap().total_entries, 0);
}

both_engines!(
    delete_entry_removes_descendants_branch_entries_and_media,
    delete_entry_reaches_every_depth,
);
