//! The bulk import's rules at the use-case layer (`App::bulk_import`), on both engines: rows go
//! in batches of `BATCH_ROWS` with their line numbers kept across batches, all-or-nothing
//! stores nothing on any error, a wrong file is refused before anything is stored, and an input
//! that breaks part-way keeps exactly the batches committed before.

use std::io::{Cursor, Read};

use quadrat_app::App;
use quadrat_app::bulk::{BATCH_ROWS, BulkError, BulkFormat, BulkOptions, BulkReport};
use quadrat_store::{ChangeItem, ChangesSelect};
use quadrat_testkit::uploads::{
    SITE_UUID, SITES, SLUG, VISITS, another_site, another_tree, another_visit, import_tree_survey,
    site_entry, version_of,
};
use quadrat_testkit::{TestDb, both_engines};

/// The Sites form's CSV header as the default map names it.
const HEADER: &str = "ec5_uuid,1_Site_name,2_Number_of_trees_co,3_Survey_date,4_Is_the_site_access,\
5_Species_observed,lat_6_Site_location,long_6_Site_location,accuracy_6_Site_location,\
12_Temperature_C,13_Cloud_cover";

/// A CSV file of `rows` sites; the rows at the `broken` lines (the header is line 1) have a
/// tree count that is not a number.
fn sites_csv(rows: usize, broken: &[u64]) -> String {
    let mut text = format!("{HEADER}\n");
    for i in 0..rows {
        let line = i as u64 + 2;
        let count = if broken.contains(&line) { "x" } else { "3" };
        text.push_str(&format!(",Site {i},{count},,,,,,,,\n"));
    }
    text
}

async fn import(
    app: &App,
    input: impl Read + Send + 'static,
    format: BulkFormat,
    options: &BulkOptions,
) -> Result<BulkReport, BulkError> {
    let mut read = 0;
    let result = app
        .bulk_import(SLUG, format, input, options, &mut |n| read = n)
        .await;
    if result.is_ok() {
        assert!(read > 0, "progress was reported");
    }
    result
}

/// The bytes of `text`, owned, as the import's reading thread takes them.
fn bytes(text: &str) -> Cursor<Vec<u8>> {
    Cursor::new(text.as_bytes().to_vec())
}

async fn total_entries(app: &App) -> u64 {
    let project = app.find_project(SLUG).await.unwrap();
    app.project_stats(&project).await.unwrap().total_entries as u64
}

fn lines(report: &BulkReport) -> Vec<u64> {
    report.rejected.iter().map(|r| r.line).collect()
}

async fn batches_store_accepted_rows_and_report_rejected_lines_across_batches(db: TestDb) {
    let app = db.app().await;
    import_tree_survey(&app).await;
    let rows = BATCH_ROWS + 10;
    let broken = [3, BATCH_ROWS as u64 + 5];
    let csv = sites_csv(rows, &broken);
    let report = import(&app, bytes(&csv), BulkFormat::Csv, &BulkOptions::default())
        .await
        .unwrap();
    assert_eq!(report.accepted, rows as u64 - 2);
    assert_eq!(lines(&report), broken);
    assert_eq!(report.rejected[0].errors[0].code, "ec5_27");
    assert_eq!(total_entries(&app).await, rows as u64 - 2);
}

async fn all_or_nothing_stores_nothing_when_a_row_is_rejected(db: TestDb) {
    let app = db.app().await;
    import_tree_survey(&app).await;
    let options = BulkOptions {
        all_or_nothing: true,
        ..BulkOptions::default()
    };
    let report = import(
        &app,
        bytes(&sites_csv(20, &[12])),
        BulkFormat::Csv,
        &options,
    )
    .await
    .unwrap();
    assert_eq!((report.accepted, lines(&report)), (0, vec![12]));
    assert_eq!(total_entries(&app).await, 0);
    let report = import(&app, bytes(&sites_csv(20, &[])), BulkFormat::Csv, &options)
        .await
        .unwrap();
    assert_eq!((report.accepted, report.rejected.len()), (20, 0));
    assert_eq!(total_entries(&app).await, 20);
}

async fn a_wrong_file_is_refused_before_anything_is_stored(db: TestDb) {
    let app = db.app().await;
    import_tree_survey(&app).await;
    let good = sites_csv(3, &[]);
    let cases: [(&str, String, BulkOptions); 5] = [
        (
            "ec5_47",
            "ec5_uuid,Colour\n,red\n".into(),
            BulkOptions::default(),
        ),
        (
            "ec5_47",
            format!("{HEADER},1_Site_name\n"),
            BulkOptions::default(),
        ),
        (
            "ec5_15",
            good.clone(),
            BulkOptions {
                form: Some("No such form".into()),
                ..BulkOptions::default()
            },
        ),
        (
            "ec5_99",
            good.clone(),
            BulkOptions {
                branch: Some("No such branch".into()),
                ..BulkOptions::default()
            },
        ),
        (
            "ec5_322",
            good.clone(),
            BulkOptions {
                map_index: Some(7),
                ..BulkOptions::default()
            },
        ),
    ];
    for (code, text, options) in cases {
        match import(&app, bytes(&text), BulkFormat::Csv, &options).await {
            Err(BulkError::Refused(errors)) => assert_eq!(errors[0].code, code, "{errors:?}"),
            other => panic!("{code}: {other:?}"),
        }
    }
    match app
        .bulk_import(
            "no-such-project",
            BulkFormat::Csv,
            bytes(&good),
            &BulkOptions::default(),
            &mut |_| {},
        )
        .await
    {
        Err(BulkError::Refused(errors)) => assert_eq!(errors[0].code, "ec5_11"),
        other => panic!("{other:?}"),
    }
    assert_eq!(total_entries(&app).await, 0);
}

/// Gives its text, then fails as a broken disk or a cut connection would.
struct BreaksAfter(Cursor<Vec<u8>>);

impl Read for BreaksAfter {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.0.read(buf)? {
            0 => Err(std::io::Error::other("the disk went away")),
            n => Ok(n),
        }
    }
}

async fn an_input_that_breaks_keeps_only_committed_batches(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let version = version_of(&project);
    // JSON lines: one full batch and a few rows waiting for the next.
    let mut text = String::new();
    for i in 0..BATCH_ROWS + 7 {
        let uuid = uuid::Uuid::new_v4().to_string();
        text.push_str(&another_site(&version, &uuid, &format!("Site {i}")).to_string());
        text.push('\n');
    }
    match import(
        &app,
        BreaksAfter(bytes(&text)),
        BulkFormat::JsonLines,
        &BulkOptions::default(),
    )
    .await
    {
        Err(BulkError::Unreadable { error, stored }) => {
            assert_eq!(stored, BATCH_ROWS as u64);
            assert!(error.to_string().contains("the disk went away"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(total_entries(&app).await, BATCH_ROWS as u64);

    let options = BulkOptions {
        all_or_nothing: true,
        ..BulkOptions::default()
    };
    let csv = sites_csv(30, &[]);
    match import(&app, BreaksAfter(bytes(&csv)), BulkFormat::Csv, &options).await {
        Err(BulkError::Unreadable { stored, .. }) => assert_eq!(stored, 0),
        other => panic!("{other:?}"),
    }
    assert_eq!(total_entries(&app).await, BATCH_ROWS as u64);
}

/// Rows checked in memory against the batch's lookups and rows taking the one-row path (an
/// edit), mixed in one batch: every answer is the one-row path's, later rows see earlier ones
/// (a parent, a unique answer taken and then freed by an edit), and the counters are exact.
async fn rows_of_one_batch_see_each_other_as_one_row_uploads_do(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let version = version_of(&project);
    let uuid = |i: u8| format!("00000000-0000-4000-8000-0000000000{i:02}");
    let rows = [
        another_site(&version, &uuid(1), "A"),
        // Line 2: the name A is taken by line 1.
        another_site(&version, &uuid(2), "A"),
        // A visit of the site of line 1, in the same batch.
        another_visit(&version, &uuid(3), &uuid(1)),
        // Line 4: no such parent.
        another_visit(&version, &uuid(4), &uuid(99)),
        // An edit of line 1: its name A becomes A2 (the one-row path).
        another_site(&version, &uuid(1), "A2"),
        // A is free again.
        another_site(&version, &uuid(5), "A"),
        another_visit(&version, &uuid(6), &uuid(5)),
        // Line 8: A2 is taken by the edited site.
        another_site(&version, &uuid(7), "A2"),
    ];
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    let report = import(
        &app,
        bytes(&text),
        BulkFormat::JsonLines,
        &BulkOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(lines(&report), [2, 4, 8], "{report:?}");
    assert_eq!(report.accepted, 5);
    let codes: Vec<&str> = report
        .rejected
        .iter()
        .map(|r| r.errors[0].code.as_str())
        .collect();
    assert_eq!(codes, ["ec5_22", "ec5_19", "ec5_22"]);

    let rows = app.store.entry_rows(project.id).await.unwrap();
    let site = |u: &str| rows.iter().find(|r| r.uuid == u).unwrap();
    assert_eq!(site(&uuid(1)).title, "A2");
    assert_eq!(site(&uuid(1)).child_counts, 1);
    assert_eq!(site(&uuid(5)).child_counts, 1);
    assert_eq!(site(&uuid(3)).parent_uuid, uuid(1));
    let counters = app.store.counters(project.id).await.unwrap();
    let count = |form: &str| {
        counters
            .iter()
            .find(|c| c.form_ref == form && c.branch_ref.is_empty())
            .map_or(0, |c| c.entry_count)
    };
    let stored = |form: &str| rows.iter().filter(|r| r.form_ref == form).count() as i64;
    assert_eq!((count(SITES), count(VISITS)), (2, 2));
    assert_eq!((stored(SITES), stored(VISITS)), (2, 2));
    for form in [SITES, VISITS] {
        let c = counters.iter().find(|c| c.form_ref == form).unwrap();
        let created: Vec<i64> = rows
            .iter()
            .filter(|r| r.form_ref == form)
            .map(|r| r.created_at)
            .collect();
        assert_eq!(c.first_created_at, created.iter().min().copied());
        assert_eq!(c.last_created_at, created.iter().max().copied());
    }
}

/// A fresh database of `db`'s engine.
async fn another_db(db: &TestDb) -> TestDb {
    if db.url.starts_with("sqlite") {
        TestDb::sqlite().await
    } else {
        TestDb::postgres().await.expect("the engine of `db`")
    }
}

/// Everything an import leaves that does not depend on the clock or a salt: the project's
/// rows (ids, device ids, upload times and the project's version aside), counters, and the
/// changes feed's numbers.
async fn state(app: &App) -> String {
    let project = app.find_project(SLUG).await.unwrap();
    let version = version_of(&project);
    let mut entries = app.store.entry_rows(project.id).await.unwrap();
    entries.sort_by(|a, b| a.uuid.cmp(&b.uuid));
    for e in &mut entries {
        (e.id, e.device_id, e.uploaded_at) = (0, String::new(), 0);
        e.entry_data = e.entry_data.replace(&version, "");
    }
    let mut branches = app.store.branch_entry_rows(project.id).await.unwrap();
    branches.sort_by(|a, b| a.uuid.cmp(&b.uuid));
    for b in &mut branches {
        (b.id, b.owner_entry_id, b.device_id, b.uploaded_at) = (0, 0, String::new(), 0);
        b.entry_data = b.entry_data.replace(&version, "");
    }
    let mut counters = app.store.counters(project.id).await.unwrap();
    counters.sort_by(|a, b| (&a.form_ref, &a.branch_ref).cmp(&(&b.form_ref, &b.branch_ref)));
    let page = app
        .store
        .changes_page(&ChangesSelect {
            project_id: project.id,
            after: 0,
            horizon: 0,
            form_ref: None,
            branch_ref: None,
            limit: 100_000,
            with_created_by: false,
        })
        .await
        .unwrap();
    let feed: Vec<(i64, String)> = page
        .items
        .iter()
        .map(|item| match item {
            ChangeItem::Upsert { seq, row, .. } => (*seq, row.uuid.clone()),
            other => (other.seq(), String::new()),
        })
        .collect();
    format!(
        "{entries:#?}\n{branches:#?}\n{counters:#?}\nlast seq {}\n{feed:?}",
        page.state.last_seq
    )
}

/// `got == want`, showing the lines that differ.
fn assert_same(got: &str, want: &str) {
    let differ: Vec<String> = got
        .lines()
        .zip(want.lines())
        .enumerate()
        .filter(|(_, (g, w))| g != w)
        .map(|(i, (g, w))| format!("line {i}: {g} | one-row path: {w}"))
        .take(20)
        .collect();
    assert!(got == want, "{}", differ.join("\n"));
}

/// A project with one stored site; the rows `make` makes for its version then go through
/// `App::ingest` one by one (the one-row path) and their rejected lines (the first row is
/// line 1) are returned with the state they leave.
async fn one_by_one(db: &TestDb, make: fn(&str) -> Vec<serde_json::Value>) -> (Vec<u64>, String) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let version = version_of(&project);
    let actor = app.import_target(SLUG).await.unwrap().actor;
    app.ingest(&project, &actor, &site_entry(&version), None)
        .await
        .unwrap();
    let mut rejected = Vec::new();
    for (i, row) in make(&version).iter().enumerate() {
        if app.ingest(&project, &actor, row, None).await.is_err() {
            rejected.push(i as u64 + 1);
        }
    }
    (rejected, state(&app).await)
}

/// Branch entries and entries mixed, as JSON lines: new trees of a stored site (the batched
/// path), a new site and a tree of it (the one-row path: its owner has no id yet), a tree
/// edited, a tree whose tag another tree of the site holds, a tree of no site.
fn mixed_rows(version: &str) -> Vec<serde_json::Value> {
    let tree = |i: u8| format!("00000000-0000-4000-8000-0000000001{i:02}");
    let site = "00000000-0000-4000-8000-000000000201";
    let mut rows: Vec<serde_json::Value> = (1..=30)
        .map(|i| another_tree(version, &tree(i), SITE_UUID, &format!("T-{i}")))
        .collect();
    rows.extend([
        another_tree(version, &tree(31), SITE_UUID, "T-1"),
        another_site(version, site, "B"),
        another_tree(version, &tree(32), site, "T-1"),
        another_tree(version, &tree(2), SITE_UUID, "T-2b"),
        another_tree(version, &tree(33), SITE_UUID, "T-2"),
        another_tree(
            version,
            &tree(34),
            "00000000-0000-4000-8000-000000000299",
            "T-9",
        ),
        another_tree(version, &tree(35), SITE_UUID, "T-35"),
    ]);
    rows
}

/// Branch rows on the batched path leave what the one-row path leaves: the same rows, the
/// same rejected lines, counters, `branch_counts` and changes-feed numbers; in batches and
/// with all-or-nothing.
async fn batched_branch_rows_equal_the_one_row_path(db: TestDb) {
    let reference_db = another_db(&db).await;
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let version = version_of(&project);
    let rows = mixed_rows(&version);
    let (rejected, expected) = one_by_one(&reference_db, mixed_rows).await;
    assert!(!rejected.is_empty() && rejected.len() < 5, "{rejected:?}");

    let actor = app.import_target(SLUG).await.unwrap().actor;
    app.ingest(&project, &actor, &site_entry(&version), None)
        .await
        .unwrap();
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    let report = import(
        &app,
        bytes(&text),
        BulkFormat::JsonLines,
        &BulkOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(lines(&report), rejected);
    assert_eq!(report.accepted as usize, rows.len() - rejected.len());
    assert_same(&state(&app).await, &expected);
}

/// More rows than one step of the import: sites, visits and trees of the stored site, by turns.
fn many_rows(version: &str) -> Vec<serde_json::Value> {
    let tree = |i: usize| format!("00000000-0000-4000-8000-{i:012}");
    let site = |i: usize| format!("00000000-0000-4000-9000-{i:012}");
    (0..BATCH_ROWS + 40)
        .map(|i| match i % 3 {
            0 => another_site(version, &site(i), &format!("S-{i}")),
            1 => another_visit(version, &tree(i), SITE_UUID),
            _ => another_tree(version, &tree(i), SITE_UUID, &format!("T-{i}")),
        })
        .collect()
}

/// All-or-nothing on the batched path (more rows than one step): without a rejected row it
/// leaves what the one-row path leaves; one rejected row, after the others were written,
/// rolls every row back.
async fn all_or_nothing_on_the_batched_path_equals_the_one_row_path(db: TestDb) {
    let reference_db = another_db(&db).await;
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let version = version_of(&project);
    let actor = app.import_target(SLUG).await.unwrap().actor;
    app.ingest(&project, &actor, &site_entry(&version), None)
        .await
        .unwrap();
    let options = BulkOptions {
        all_or_nothing: true,
        ..BulkOptions::default()
    };
    let rows = many_rows(&version);
    let tree = |i: usize| format!("00000000-0000-4000-8000-{i:012}");
    let before = state(&app).await;
    // The last row: a tree of no site.
    let mut failing = rows.clone();
    failing.push(another_tree(
        &version,
        &tree(99_999),
        "00000000-0000-4000-8000-999999999999",
        "T-x",
    ));
    let text: String = failing.iter().map(|r| format!("{r}\n")).collect();
    let report = import(&app, bytes(&text), BulkFormat::JsonLines, &options)
        .await
        .unwrap();
    assert_eq!(
        (report.accepted, lines(&report)),
        (0, vec![failing.len() as u64])
    );
    assert_eq!(state(&app).await, before);

    let (rejected, expected) = one_by_one(&reference_db, many_rows).await;
    assert_eq!(rejected, Vec::<u64>::new());
    let text: String = rows.iter().map(|r| format!("{r}\n")).collect();
    let report = import(&app, bytes(&text), BulkFormat::JsonLines, &options)
        .await
        .unwrap();
    assert_eq!(
        (report.accepted as usize, report.rejected.len()),
        (rows.len(), 0)
    );
    assert_same(&state(&app).await, &expected);
}

both_engines!(
    batched_branch_rows_equal_the_one_row_path,
    all_or_nothing_on_the_batched_path_equals_the_one_row_path,
    rows_of_one_batch_see_each_other_as_one_row_uploads_do,
    batches_store_accepted_rows_and_report_rejected_lines_across_batches,
    all_or_nothing_stores_nothing_when_a_row_is_rejected,
    a_wrong_file_is_refused_before_anything_is_stored,
    an_input_that_breaks_keeps_only_committed_batches,
);

#[test]
fn the_file_name_chooses_the_format() {
    for (name, format) in [
        ("a.csv", BulkFormat::Csv),
        ("a.CSV", BulkFormat::Csv),
        ("a", BulkFormat::Csv),
        ("a.jsonl", BulkFormat::JsonLines),
        ("a.NDJSON", BulkFormat::JsonLines),
        ("a.json", BulkFormat::JsonLines),
    ] {
        assert_eq!(
            BulkFormat::of_file(std::path::Path::new(name)),
            format,
            "{name}"
        );
    }
}
