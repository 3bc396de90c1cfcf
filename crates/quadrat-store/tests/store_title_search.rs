//! The export's title search through the trigram indexes (migration 0014), on both engines:
//! its rows and totals are exactly those of the LIKE on every row, over tricky titles (case,
//! accents, `%`, `_`, `\`, quotes, 1–2 character terms), with few candidates and with many,
//! after edits and deletes, and its capped count stops at the cap.

use quadrat_core::export::params::{Selection, SortBy, SortOrder};
use quadrat_store::{DeleteTarget, ExportSelect, NewRecord, RecordEdit, Store};
use quadrat_testkit::uploads::{SITES, import_tree_survey, new_uuid};
use quadrat_testkit::{TestDb, both_engines};

const TITLES: &[&str] = &[
    "Site 99",
    "site 990",
    "SITE 1",
    "Café au lait",
    "CAFÉ",
    "café",
    "cafe",
    "100% sure",
    "100 percent",
    "a_b",
    "axb",
    "under_score",
    "",
    "ab",
    "Ab",
    "xyz",
    "Ωmega",
    "ωmega",
    "back\\slash",
    // The Kelvin sign and the long s fold to ASCII letters in Unicode, not in LIKE.
    "\u{212A}elvin",
    "kelvin",
    "ſtraße",
    "say \"hi\" OR NOT",
    "O'Brien",
    "tab\there",
    "日本語テキスト",
    "emoji 😀 here",
];

const TERMS: &[&str] = &[
    "Site 99",
    "site",
    "SITE",
    "caf",
    "café",
    "CAFÉ",
    "afé",
    "100%",
    "100\\%",
    "0% s",
    "a_b",
    "a\\_b",
    "_",
    "%",
    "\\",
    "a",
    "b",
    "ab",
    "Ω",
    "mega",
    "ωme",
    "kelvin",
    "straße",
    "\"hi\" OR",
    "'Br",
    "b\th",
    "語テキ",
    "😀",
    "nothing like it",
    "te 1",
    "e 9",
];

fn select<'a>(project_id: i64, selection: &'a Selection, title: &'a str) -> ExportSelect<'a> {
    ExportSelect {
        project_id,
        form_ref: SITES,
        branch_ref: None,
        selection,
        filter: None,
        title: Some(title),
        with_created_by: false,
        located: None,
    }
}

/// Every match of `term` through the export (pages of 400 by keyset), its total, and the
/// same by the LIKE on every row.
async fn check(store: &Store, project_id: i64, term: &str, when: &str) {
    let selection = Selection::Form;
    let sel = select(project_id, &selection, term);
    let mut expected = store
        .titles_like_by_scan(project_id, SITES, term)
        .await
        .unwrap();
    expected.sort();
    let totals = store.export_totals(&sel, None).await.unwrap();
    assert_eq!(
        totals.total,
        expected.len() as i64,
        "{when}: total of {term:?}"
    );
    assert!(!totals.more);
    let mut found = Vec::new();
    let mut after = None;
    loop {
        let rows = store
            .export_keyset(
                &sel,
                SortBy::CreatedAt,
                SortOrder::Desc,
                after.as_ref(),
                false,
                400,
            )
            .await
            .unwrap();
        let Some(last) = rows.last() else { break };
        after = Some(quadrat_core::export::keyset::SortKey {
            value: quadrat_core::export::keyset::KeyValue::Time(last.created_at),
            id: last.id,
        });
        found.extend(rows.iter().map(|r| r.uuid.clone()));
    }
    found.sort();
    assert_eq!(found, expected, "{when}: rows of {term:?}");
    // A page by offset, and the capped count.
    let first = store
        .export_page(&sel, SortBy::Title, SortOrder::Asc, 0, 5, totals.total)
        .await
        .unwrap();
    assert_eq!(
        first.len(),
        expected.len().min(5),
        "{when}: page of {term:?}"
    );
    let capped = store.export_totals(&sel, Some(3)).await.unwrap();
    assert_eq!(capped.total, totals.total.min(3), "{when}: capped {term:?}");
    assert_eq!(capped.more, totals.total > 3, "{when}: capped {term:?}");
}

async fn title_search_matches_like_on_every_row(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let store = app.store.clone();
    // Many "Site i" rows: "Site"/"ite" have more candidates than a search reads by id.
    store
        .seed_entries_for_bench(project.id, SITES, "{}", "Site", 10_050, 1_700_000_000_000)
        .await
        .unwrap();
    let mut ids = Vec::new();
    let mut tx = store.begin_entries(project.id).await.unwrap();
    for (i, title) in TITLES.iter().enumerate() {
        let uuid = new_uuid();
        let id = tx
            .insert_entry(
                &NewRecord {
                    uuid: &uuid,
                    form_ref: SITES,
                    user_id: 0,
                    platform: "",
                    device_id: "",
                    created_at: 1_800_000_000_000 + i as i64,
                    uploaded_at: 1_800_000_000_000 + i as i64,
                    title,
                    entry_data: "{}",
                    geo_json_data: None,
                    unique: &[],
                },
                "",
                "",
                None,
            )
            .await
            .unwrap();
        ids.push((id, uuid));
    }
    tx.commit().await.unwrap();
    for term in TERMS.iter().chain(&["Site", "ite", "Site 1000"]) {
        check(&store, project.id, term, "stored").await;
    }

    // Edits move titles in and out of matches; deletes take them out.
    let mut tx = store.begin_entries(project.id).await.unwrap();
    for (k, new_title) in [(3, "Tea, no café"), (17, "plain"), (12, "now 100% titled")] {
        let (id, uuid) = &ids[k];
        tx.update_entry(&RecordEdit {
            id: *id,
            uuid,
            form_ref: SITES,
            title: new_title,
            entry_data: "{}",
            geo_json_data: None,
            uploaded_at: 1_900_000_000_000,
            user_id: None,
            unique: &[],
        })
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    for k in [0, 5, 9, 20] {
        store
            .delete_entries(project.id, &DeleteTarget::Uuid(ids[k].1.clone()))
            .await
            .unwrap();
    }
    for term in TERMS.iter().chain(&["Tea", "plain", "titled", "Site"]) {
        check(&store, project.id, term, "after edits and deletes").await;
    }
    store.close().await;
}

both_engines!(title_search_matches_like_on_every_row);
