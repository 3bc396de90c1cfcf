//! `quadrat entries import` driven as a script would drive it, on both engines: CSV files of the
//! bulk-upload template and JSON lines of upload bodies store what the app's uploads store;
//! rejected rows are reported with their line and do not stop the others; `--all-or-nothing`
//! stores nothing on any error; an unknown column refuses the whole file.

use std::path::PathBuf;

use quadrat_app::App;
use quadrat_app::projects::ResolvedProject;
use quadrat_core::definition::mapping::regenerate;
use quadrat_core::export::csv::CsvWriter;
use quadrat_core::export::render::{ExportPlan, PlanOptions, StoredEntry};
use quadrat_core::mappings::MappingList;
use quadrat_store::EntryRow;
use quadrat_testkit::process::{Quadrat, Run};
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, both_engines};
use serde_json::{Value, json};

fn quadrat(db: &TestDb, args: &[&str]) -> Run {
    Quadrat::on(env!("CARGO_BIN_EXE_quadrat"), db).run(args)
}

fn write(db: &TestDb, name: &str, text: &str) -> String {
    let path = PathBuf::from(db.data_dir()).join(name);
    std::fs::write(&path, text).expect("writing the import file");
    path.to_string_lossy().into_owned()
}

/// Runs an import with `--json`; returns the exit code and the report.
fn import(db: &TestDb, file: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["entries", "import", SLUG, file, "--json"];
    args.extend_from_slice(extra);
    let out = quadrat(db, &args);
    (out.code().unwrap_or(-1), out.json())
}

async fn ingest(app: &App, project: &ResolvedProject, data: &Value) {
    let actor = quadrat_core::roles::Actor::default();
    app.ingest(project, &actor, data, None)
        .await
        .expect("the app's upload is accepted");
}

fn answers(row: &EntryRow) -> Value {
    let data: Value = serde_json::from_str(&row.entry_data).unwrap();
    data["entry"]["answers"].clone()
}

fn entry<'a>(rows: &'a [EntryRow], uuid: &str) -> &'a EntryRow {
    rows.iter()
        .find(|r| r.uuid == uuid)
        .unwrap_or_else(|| panic!("entry {uuid}"))
}

/// The Sites form's CSV header as the default map names it.
const HEADER: &str = "ec5_uuid,1_Site_name,2_Number_of_trees_co,3_Survey_date,4_Is_the_site_access,\
5_Species_observed,lat_6_Site_location,long_6_Site_location,accuracy_6_Site_location,\
12_Temperature_C,13_Cloud_cover";

async fn setup(db: &TestDb) -> (App, ResolvedProject, String) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let version = version_of(&project);
    (app, project, version)
}

async fn csv_export_reimports_as_the_app_upload(db: TestDb) {
    let (app, project, v) = setup(&db).await;
    ingest(&app, &project, &site_entry(&v)).await;
    let def = project.definition().unwrap();
    let maps = MappingList::from_stored(&regenerate(&project.definition_data().unwrap(), None));
    let plan = ExportPlan::new(
        &def,
        &maps,
        &PlanOptions {
            form_ref: SITES,
            branch_ref: None,
            map_index: 0,
            private: false,
            slug: SLUG,
            origin: "http://x",
        },
    );
    let rows = app.store.entry_rows(project.id).await.unwrap();
    let stored = entry(&rows, SITE_UUID);
    let mut w = CsvWriter::new();
    plan.write_csv_header(&mut w);
    plan.write_csv(
        &StoredEntry {
            uuid: "",
            parent_uuid: "",
            owner_uuid: "",
            uploaded_at: stored.uploaded_at,
            title: &stored.title,
            created_by: None,
            entry_data: &stored.entry_data,
            branch_counts: stored.branch_counts.as_deref(),
        },
        &mut w,
    );
    // Site names are unique in this form: the copy gets another one.
    let text = String::from_utf8(w.into_bytes())
        .unwrap()
        .replace("\"Oak Ridge\",37,", "\"Oak Ridge B\",37,");
    assert!(text.contains("Oak Ridge B"), "{text}");
    let file = write(&db, "export.csv", &text);

    let (code, report) = import(&db, &file, &[]);
    assert_eq!(report, json!({"accepted": 1, "rejected": 0, "errors": []}));
    assert_eq!(code, 0);

    let rows = app.store.entry_rows(project.id).await.unwrap();
    assert_eq!(rows.len(), 2);
    let imported = rows.iter().find(|r| r.uuid != SITE_UUID).unwrap();
    let mut expected = answers(stored);
    // Media cannot be imported: the photo answer is empty.
    expected[PHOTO]["answer"] = json!("");
    expected[SITE_NAME]["answer"] = json!("Oak Ridge B");
    assert_eq!(answers(imported), expected);
    assert_eq!(imported.title, "Oak Ridge");
    assert_eq!(imported.platform, "CLI");
    assert_eq!(imported.branch_counts, stored.branch_counts);
    // The geojson feature, but for the uuid and the created_at date (now, for an import).
    let geo = |row: &EntryRow| -> Value {
        let mut g: Value =
            serde_json::from_str(&row.geo_json_data.as_ref().unwrap().replace(&row.uuid, "U"))
                .unwrap();
        g[LOCATION]["properties"]["created_at"] = json!("");
        g
    };
    assert_eq!(geo(imported), geo(stored));
    let counters = app.store.counters(project.id).await.unwrap();
    let sites = counters
        .iter()
        .find(|c| c.form_ref == SITES && c.branch_ref.is_empty());
    assert_eq!(sites.map(|c| c.entry_count), Some(2));
}

async fn csv_labels_become_refs_and_titles_are_built(db: TestDb) {
    let (app, project, _) = setup(&db).await;
    let text =
        format!("{HEADER}\n,Elm Hollow,12,2024-06-05,No,\"Birch, Oak\",51.5,-0.2,4,9.5,Overcast\n");
    let (code, report) = import(&db, &write(&db, "a.csv", &text), &[]);
    assert_eq!((code, report["accepted"].clone()), (0, json!(1)));
    let rows = app.store.entry_rows(project.id).await.unwrap();
    let a = answers(&rows[0]);
    let def = project.definition().unwrap();
    let refs = |input: &str, labels: &[&str]| -> Vec<String> {
        let input = def
            .all_inputs()
            .into_iter()
            .find(|i| i.input_ref.as_str() == input)
            .unwrap();
        labels
            .iter()
            .map(|l| {
                input
                    .possible_answers
                    .iter()
                    .find(|p| p.answer == *l)
                    .unwrap()
                    .answer_ref
                    .clone()
            })
            .collect()
    };
    assert_eq!(a[ACCESSIBLE]["answer"], json!(refs(ACCESSIBLE, &["No"])[0]));
    assert_eq!(
        a[SPECIES]["answer"],
        json!(refs(SPECIES, &["Birch", "Oak"]))
    );
    assert_eq!(a[CLOUD]["answer"], json!(refs(CLOUD, &["Overcast"])[0]));
    assert_eq!(a[SURVEY_DATE]["answer"], json!("2024-06-05T00:00:00.000"));
    assert_eq!(a[TREE_COUNT]["answer"], json!("12"));
    assert_eq!(
        a[LOCATION]["answer"],
        json!({"latitude": 51.5, "longitude": -0.2, "accuracy": 4})
    );
    // No title column: built from the is_title answers (docs/protocol.md §7).
    assert_eq!(rows[0].title, "Elm Hollow");
}

async fn csv_rejected_rows_are_reported_by_line_and_others_stored(db: TestDb) {
    let (app, project, _) = setup(&db).await;
    // Line 3 holds a quoted field over two lines, so the row after it starts on line 5.
    let text = format!(
        "{HEADER}\n\
         ,Good one,1,03/06/2024,Yes,Oak,,,,,\n\
         ,\"Two\nlines\",2,03/06/2024,Maybe,Oak,,,,,\n\
         ,Bad count,x,03/06/2024,Yes,Oak,,,,,\n\
         ,Good two,3,31/02/2024,Yes,,,,,,\n\
         ,Good three,4,,,,,,,,\n"
    );
    let (code, report) = import(&db, &write(&db, "b.csv", &text), &[]);
    assert_eq!(code, 1);
    assert_eq!(report["accepted"], json!(2));
    assert_eq!(report["rejected"], json!(3));
    let lines: Vec<&Value> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["line"])
        .collect();
    assert_eq!(lines, [&json!(3), &json!(5), &json!(6)]);
    let errors = &report["errors"];
    assert_eq!(
        errors[0]["errors"][0],
        json!({"code": "ec5_25", "title": "Possible answer not matched. (\"Maybe\")", "source": "4_Is_the_site_access"})
    );
    assert_eq!(errors[1]["errors"][0]["code"], json!("ec5_27"));
    assert_eq!(errors[1]["errors"][0]["source"], json!(TREE_COUNT));
    assert_eq!(errors[2]["errors"][0]["code"], json!("ec5_79"));
    let rows = app.store.entry_rows(project.id).await.unwrap();
    let mut titles: Vec<&str> = rows.iter().map(|r| r.title.as_str()).collect();
    titles.sort();
    assert_eq!(titles, ["Good one", "Good three"]);
}

async fn csv_all_or_nothing_stores_nothing_on_any_error(db: TestDb) {
    let (app, project, _) = setup(&db).await;
    let before = snapshot(&app, &project).await;
    let text = format!("{HEADER}\n,Fine,1,,,,,,,,\n,Fine too,2,,,,,,,,\n,Broken,x,,,,,,,,\n");
    let file = write(&db, "c.csv", &text);
    let (code, report) = import(&db, &file, &["--all-or-nothing"]);
    assert_eq!(code, 1);
    assert_eq!(report["accepted"], json!(0));
    assert_eq!(report["rejected"], json!(1));
    assert_eq!(report["errors"][0]["line"], json!(4));
    assert_eq!(snapshot(&app, &project).await, before);

    // Without the error the same mode stores every row.
    let text = format!("{HEADER}\n,Fine,1,,,,,,,,\n,Fine too,2,,,,,,,,\n");
    let (code, report) = import(&db, &write(&db, "d.csv", &text), &["--all-or-nothing"]);
    assert_eq!((code, report["accepted"].clone()), (0, json!(2)));
}

async fn csv_unknown_column_refuses_the_whole_file(db: TestDb) {
    let (app, project, _) = setup(&db).await;
    let before = snapshot(&app, &project).await;
    let text = "ec5_uuid,1_Site_name,Colour\n,Fine,red\n";
    let out = quadrat(
        &db,
        &["entries", "import", SLUG, &write(&db, "e.csv", text)],
    );
    assert_eq!(out.code(), Some(2));
    assert!(
        out.stderr.contains("unknown column \"Colour\""),
        "{}",
        out.stderr
    );
    assert_eq!(snapshot(&app, &project).await, before);
}

async fn csv_missing_template_columns_are_empty_answers(db: TestDb) {
    let (app, project, _) = setup(&db).await;
    let text = "1_Site_name\nOnly a name\n";
    let (code, _) = import(&db, &write(&db, "f.csv", text), &[]);
    assert_eq!(code, 0);
    let rows = app.store.entry_rows(project.id).await.unwrap();
    let a = answers(&rows[0]);
    assert_eq!(a[SITE_NAME]["answer"], json!("Only a name"));
    assert_eq!(a[TREE_COUNT]["answer"], json!(""));
    assert_eq!(a[SPECIES]["answer"], json!([]));
}

async fn csv_ec5_uuid_edits_the_entry(db: TestDb) {
    let (app, project, v) = setup(&db).await;
    ingest(&app, &project, &site_entry(&v)).await;
    let before = app.store.entry_rows(project.id).await.unwrap();
    let text = format!("{HEADER}\n{SITE_UUID},Oak Ridge renamed,40,,,,,,,,\n");
    let (code, report) = import(&db, &write(&db, "g.csv", &text), &[]);
    assert_eq!((code, report["accepted"].clone()), (0, json!(1)));
    let after = app.store.entry_rows(project.id).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(
        answers(&after[0])[SITE_NAME]["answer"],
        json!("Oak Ridge renamed")
    );
    assert_eq!(after[0].title, "Oak Ridge renamed");
    assert_eq!(after[0].created_at, before[0].created_at);
}

async fn csv_branch_and_child_rows_import(db: TestDb) {
    let (app, project, v) = setup(&db).await;
    ingest(&app, &project, &site_entry(&v)).await;
    let branch = "ec5_branch_uuid,9_Tree_tag,10_Trunk_circumferen\n,T-1,120.5\n,T-2,80\n";
    let (code, report) = import(
        &db,
        &write(&db, "h.csv", branch),
        &["--branch", TREES, "--owner-uuid", SITE_UUID],
    );
    assert_eq!(report["accepted"], json!(2), "{report}");
    assert_eq!(code, 0);
    let trees = app.store.branch_entry_rows(project.id).await.unwrap();
    assert_eq!(trees.len(), 2);
    assert!(trees.iter().all(|t| t.owner_uuid == SITE_UUID));

    // The Visits form: the parent from the flag, or from a row's ec5_parent_uuid.
    let child = format!(
        "ec5_uuid,ec5_parent_uuid,14_Visit_date,15_Notes\n,,04/06/2024,first\n,{SITE_UUID},05/06/2024,second\n,00000000-0000-4000-8000-000000000000,06/06/2024,orphan\n"
    );
    let (code, report) = import(
        &db,
        &write(&db, "i.csv", &child),
        &["--form", "Visits", "--parent-uuid", SITE_UUID],
    );
    assert_eq!(code, 1);
    assert_eq!(report["accepted"], json!(2), "{report}");
    assert_eq!(report["errors"][0]["line"], json!(4));
    assert_eq!(report["errors"][0]["errors"][0]["code"], json!("ec5_19"));
    let rows = app.store.entry_rows(project.id).await.unwrap();
    let site = entry(&rows, SITE_UUID);
    assert_eq!(site.child_counts, 2);
    assert!(site.branch_counts.as_deref().unwrap().contains(":2"));
    let visits: Vec<&EntryRow> = rows.iter().filter(|r| r.form_ref == VISITS).collect();
    assert_eq!(visits.len(), 2);
    // Visit date is the title input, formatted as the app shows it.
    let mut titles: Vec<&str> = visits.iter().map(|r| r.title.as_str()).collect();
    titles.sort();
    assert_eq!(titles, ["04/06/2024", "05/06/2024"]);
}

async fn jsonl_stores_what_the_upload_api_stores(db: TestDb) {
    let (app, project, v) = setup(&db).await;
    // The app's uploads under one set of uuids, the same bodies through the import under another.
    ingest(&app, &project, &site_entry(&v)).await;
    ingest(&app, &project, &tree_entry(&v)).await;
    ingest(&app, &project, &visit_entry(&v)).await;
    let swap = |data: Value| -> Value {
        let text = data
            .to_string()
            .replace(SITE_UUID, "11111111-1111-4111-8111-111111111111")
            .replace(TREE_UUID, "22222222-2222-4222-8222-222222222222")
            .replace(VISIT_UUID, "33333333-3333-4333-8333-333333333333")
            .replace("Oak Ridge", "Oak Ridge B");
        serde_json::from_str(&text).unwrap()
    };
    let lines = [
        json!({"data": swap(site_entry(&v))}).to_string(),
        String::new(),
        swap(tree_entry(&v)).to_string(),
        "{not json".to_string(),
        json!({"data": swap(visit_entry(&v))}).to_string(),
        json!({"data": {"type": "entry"}}).to_string(),
    ];
    let file = write(&db, "j.jsonl", &(lines.join("\n") + "\n"));
    let (code, report) = import(&db, &file, &[]);
    assert_eq!(code, 1);
    assert_eq!(report["accepted"], json!(3), "{report}");
    let lines: Vec<&Value> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["line"])
        .collect();
    assert_eq!(lines, [&json!(4), &json!(6)]);
    assert_eq!(report["errors"][1]["errors"][0]["code"], json!("ec5_21"));

    let rows = app.store.entry_rows(project.id).await.unwrap();
    let unswap = |s: &str| {
        s.replace("11111111-1111-4111-8111-111111111111", SITE_UUID)
            .replace("22222222-2222-4222-8222-222222222222", TREE_UUID)
            .replace("33333333-3333-4333-8333-333333333333", VISIT_UUID)
            .replace("Oak Ridge B", "Oak Ridge")
    };
    for (app_uuid, import_uuid) in [
        (SITE_UUID, "11111111-1111-4111-8111-111111111111"),
        (VISIT_UUID, "33333333-3333-4333-8333-333333333333"),
    ] {
        let (a, b) = (entry(&rows, app_uuid), entry(&rows, import_uuid));
        assert_eq!(unswap(&b.entry_data), a.entry_data);
        assert_eq!(b.geo_json_data.as_deref().map(unswap), a.geo_json_data);
        assert_eq!(
            (unswap(&b.title), b.created_at, b.child_counts),
            (a.title.clone(), a.created_at, a.child_counts)
        );
        assert_eq!(b.branch_counts, a.branch_counts);
    }
    let branches = app.store.branch_entry_rows(project.id).await.unwrap();
    let (a, b) = (
        branches.iter().find(|r| r.uuid == TREE_UUID).unwrap(),
        branches
            .iter()
            .find(|r| r.uuid == "22222222-2222-4222-8222-222222222222")
            .unwrap(),
    );
    assert_eq!(unswap(&b.entry_data), a.entry_data);
}

async fn human_output_summarises_and_exits_non_zero_on_rejects(db: TestDb) {
    setup(&db).await;
    let text = format!("{HEADER}\n,Fine,1,,,,,,,,\n,Broken,x,,,,,,,,\n");
    let out = quadrat(
        &db,
        &["entries", "import", SLUG, &write(&db, "k.csv", &text)],
    );
    assert_eq!(out.code(), Some(1));
    assert!(
        out.stdout
            .contains("imported 1 row(s) into tree-survey-2024; 1 rejected"),
        "{}",
        out.stdout
    );
    assert!(out.stderr.contains("line 3: ec5_27"), "{}", out.stderr);
}

async fn csv_ten_thousand_rows_import(db: TestDb) {
    let (app, project, _) = setup(&db).await;
    let mut text = String::from(HEADER);
    text.push('\n');
    for i in 0..10_000 {
        text.push_str(&format!(
            ",Site {i},{},03/06/2024,Yes,\"Oak, Beech\",51.{i},-0.1,5,12.5,Clear\n",
            i % 500
        ));
    }
    let (code, report) = import(&db, &write(&db, "big.csv", &text), &[]);
    assert_eq!(report["accepted"], json!(10_000), "{}", report["errors"][0]);
    assert_eq!(code, 0);
    let counters = app.store.counters(project.id).await.unwrap();
    let sites = counters
        .iter()
        .find(|c| c.form_ref == SITES && c.branch_ref.is_empty());
    assert_eq!(sites.map(|c| c.entry_count), Some(10_000));
}

both_engines!(
    csv_export_reimports_as_the_app_upload,
    csv_labels_become_refs_and_titles_are_built,
    csv_rejected_rows_are_reported_by_line_and_others_stored,
    csv_all_or_nothing_stores_nothing_on_any_error,
    csv_unknown_column_refuses_the_whole_file,
    csv_missing_template_columns_are_empty_answers,
    csv_ec5_uuid_edits_the_entry,
    csv_branch_and_child_rows_import,
    jsonl_stores_what_the_upload_api_stores,
    human_output_summarises_and_exits_non_zero_on_rejects,
    csv_ten_thousand_rows_import,
);
