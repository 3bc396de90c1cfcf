//! Pages written in parts while they are read (`quadrat-store/src/page_parts.rs`), on both
//! engines: whatever the sort, the page's place (a seek past a mark, an offset, from the end)
//! and rows arriving in the middle of a walk, the joined parts are the page's rows written one
//! after another, and the page's end keys are its first and last rows'.

use quadrat_core::export::params::{Selection, SortBy, SortOrder};
use quadrat_store::{ExportRow, ExportRowRef, ExportSelect, PartWriter, RenderedPage, Store};
use quadrat_testkit::uploads::{SITES, import_tree_survey};
use quadrat_testkit::{TestDb, both_engines};

/// Large enough for parts of at least 250 rows on two cores.
const PER_PAGE: i64 = 600;

/// Writes every column of a row, so a row out of place or out of step shows.
struct Columns(Vec<u8>);

fn write_row(out: &mut Vec<u8>, row: &ExportRowRef<'_>) {
    out.extend_from_slice(
        format!(
            "{}|{}|{}|{}|{}|{}|{:?}|{}|{:?}\n",
            row.id,
            row.uuid,
            row.related_uuid,
            row.created_at,
            row.uploaded_at,
            row.title,
            row.created_by,
            row.entry_data,
            row.branch_counts
        )
        .as_bytes(),
    );
}

impl PartWriter for Columns {
    fn row(&mut self, row: &ExportRowRef<'_>) {
        write_row(&mut self.0, row);
    }
    fn ahead_key(&self) -> Option<i64> {
        None
    }
    fn rendered(&mut self, stored: &str) {
        self.0.extend_from_slice(stored.as_bytes());
    }
    fn missed(&mut self) {}
    fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

fn selection(project_id: i64, selection: &Selection) -> ExportSelect<'_> {
    ExportSelect {
        project_id,
        form_ref: SITES,
        branch_ref: None,
        selection,
        filter: None,
        title: None,
        with_created_by: false,
        located: None,
    }
}

async fn rows(
    store: &Store,
    project_id: i64,
    sort: SortBy,
    order: SortOrder,
    offset: i64,
) -> Vec<ExportRow> {
    let whole = Selection::Form;
    let sel = selection(project_id, &whole);
    let total = store.export_totals(&sel, None).await.unwrap().total;
    store
        .export_page(&sel, sort, order, offset, PER_PAGE, total)
        .await
        .unwrap()
}

async fn rendered(
    store: &Store,
    project_id: i64,
    sort: SortBy,
    order: SortOrder,
    offset: i64,
) -> RenderedPage {
    rendered_as(store, project_id, sort, order, offset, None).await
}

/// A page written by writers known by `writes` (`None`: none read ahead).
async fn rendered_as(
    store: &Store,
    project_id: i64,
    sort: SortBy,
    order: SortOrder,
    offset: i64,
    writes: Option<&str>,
) -> RenderedPage {
    let whole = Selection::Form;
    let sel = selection(project_id, &whole);
    let total = store.export_totals(&sel, None).await.unwrap().total;
    store
        .export_page_rendered(
            &sel,
            sort,
            order,
            offset,
            PER_PAGE,
            total,
            |_| Columns(Vec::new()),
            writes,
        )
        .await
        .unwrap()
}

/// The page as one pass writes its rows.
fn single_pass(rows: &[ExportRow]) -> Vec<u8> {
    let mut out = Vec::new();
    for row in rows {
        write_row(&mut out, &row.as_ref());
    }
    out
}

fn check(page: RenderedPage, expected: &[ExportRow], sort: SortBy, what: &str) {
    assert_eq!(page.rows(), expected.len(), "{what}");
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    if cores > 1 && expected.len() >= 500 {
        assert!(page.parts.len() > 1, "{what}: written in parts");
    }
    assert_eq!(
        page.first,
        expected.first().map(|r| r.sort_key(sort)),
        "{what}: first key"
    );
    assert_eq!(
        page.last,
        expected.last().map(|r| r.sort_key(sort)),
        "{what}: last key"
    );
    let joined: Vec<u8> = page
        .parts
        .into_iter()
        .flat_map(|(_, bytes)| bytes)
        .collect();
    assert!(
        joined == single_pass(expected),
        "{what}: the parts differ from the rows written in one pass"
    );
}

/// `count` sites, one a second from `first` (Unix ms) on.
async fn seed(store: &Store, project_id: i64, count: usize, first: i64) {
    store
        .seed_entries_for_bench(
            project_id,
            SITES,
            "{\"id\":\"{uuid}\"}",
            "Site",
            count,
            first,
        )
        .await
        .unwrap();
}

async fn parts_join_to_the_page_read_whole(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let project_id = project.id;
    seed(&app.store, project_id, 1_500, 1_700_000_000_000).await;
    for (sort, order) in [
        (SortBy::CreatedAt, SortOrder::Asc),
        (SortBy::CreatedAt, SortOrder::Desc),
        (SortBy::UploadedAt, SortOrder::Asc),
        (SortBy::UploadedAt, SortOrder::Desc),
        (SortBy::Title, SortOrder::Asc),
    ] {
        // A walk: the first page by offset, the next ones past the marks the walk leaves.
        let walker = db.store().await;
        for n in 0..3 {
            let offset = n * PER_PAGE;
            let page = rendered(&walker, project_id, sort, order, offset).await;
            let fresh = rows(&db.store().await, project_id, sort, order, offset).await;
            check(
                page,
                &fresh,
                sort,
                &format!("{sort:?} {order:?} walked page {n}"),
            );
        }
        // Past the middle, with no mark: read from the end.
        let page = rendered(&db.store().await, project_id, sort, order, 800).await;
        let fresh = rows(&db.store().await, project_id, sort, order, 800).await;
        check(
            page,
            &fresh,
            sort,
            &format!("{sort:?} {order:?} from the end"),
        );
    }

    // Rows arriving in the middle of a walk: the mark's version is stale, the page is read
    // again by offset.
    let walker = db.store().await;
    let (sort, order) = (SortBy::CreatedAt, SortOrder::Asc);
    rendered(&walker, project_id, sort, order, 0).await;
    seed(&app.store, project_id, 7, 1_600_000_000_000).await;
    let page = rendered(&walker, project_id, sort, order, PER_PAGE).await;
    let fresh = rows(&db.store().await, project_id, sort, order, PER_PAGE).await;
    check(page, &fresh, sort, "after rows were added mid-walk");
    assert_eq!(
        fresh.first().map(|r| r.created_at),
        Some(1_700_000_000_000 + (PER_PAGE - 7) * 1000),
        "the new, older rows moved the page"
    );
}

both_engines!(parts_join_to_the_page_read_whole);

/// A walk's next pages, read ahead on SQLite (`quadrat-store/src/read_ahead.rs`), are the
/// pages a read gives; one read ahead before rows were added, or for other writers, is not
/// taken.
async fn pages_read_ahead_are_the_pages_a_read_gives(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let project_id = project.id;
    seed(&app.store, project_id, 3_000, 1_700_000_000_000).await;
    let sqlite = db.store().await.engine() == quadrat_store::Engine::Sqlite;
    let (sort, order) = (SortBy::CreatedAt, SortOrder::Asc);

    // Five pages in order: the walk shows at the second, the third to fifth are read ahead.
    let walker = db.store().await;
    for n in 0..5 {
        let offset = n * PER_PAGE;
        let page = rendered_as(&walker, project_id, sort, order, offset, Some("w")).await;
        let fresh = rows(&db.store().await, project_id, sort, order, offset).await;
        check(page, &fresh, sort, &format!("walked page {n}"));
    }
    let taken = walker.pages_taken_from_read_ahead();
    assert_eq!(taken, if sqlite { 3 } else { 0 }, "pages taken");

    // Other writers: the page read ahead is not theirs.
    let walker = db.store().await;
    for n in 0..2 {
        rendered_as(&walker, project_id, sort, order, n * PER_PAGE, Some("w")).await;
    }
    let page = rendered_as(&walker, project_id, sort, order, 2 * PER_PAGE, Some("v")).await;
    let fresh = rows(&db.store().await, project_id, sort, order, 2 * PER_PAGE).await;
    check(page, &fresh, sort, "another writer's page");
    assert_eq!(walker.pages_taken_from_read_ahead(), 0, "another writer's");

    // Rows added while the third page is read ahead: it is read again.
    let walker = db.store().await;
    for n in 0..2 {
        rendered_as(&walker, project_id, sort, order, n * PER_PAGE, Some("w")).await;
    }
    seed(&app.store, project_id, 7, 1_600_000_000_000).await;
    let page = rendered_as(&walker, project_id, sort, order, 2 * PER_PAGE, Some("w")).await;
    let fresh = rows(&db.store().await, project_id, sort, order, 2 * PER_PAGE).await;
    assert_eq!(
        fresh.first().map(|r| r.created_at),
        Some(1_700_000_000_000 + (2 * PER_PAGE - 7) * 1000),
        "the new, older rows moved the page"
    );
    check(
        page,
        &fresh,
        sort,
        "a page read ahead before rows were added",
    );
    assert_eq!(
        walker.pages_taken_from_read_ahead(),
        0,
        "taken after a change"
    );
}

both_engines!(pages_read_ahead_are_the_pages_a_read_gives);

/// SQLite reads a part's rows in the order of its ids: the outer ORDER BY takes no temporary
/// B-tree (which would copy whole rows, `entry_data` and all, or the entries' objects rendered
/// ahead, into a sorter), nor does a page past the middle, whose first row is found on the
/// index from the end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_reads_a_part_in_the_order_of_its_ids() {
    let db = TestDb::sqlite().await;
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let whole = Selection::Form;
    let sel = selection(project.id, &whole);
    for sort in [SortBy::CreatedAt, SortBy::UploadedAt] {
        for order in [SortOrder::Asc, SortOrder::Desc] {
            for (from_end, ahead) in [(false, false), (true, false), (false, true), (true, true)] {
                let plan = app
                    .store
                    .export_part_plan(&sel, sort, order, from_end, ahead)
                    .await
                    .unwrap();
                let what =
                    format!("{sort:?} {order:?} from_end={from_end} ahead={ahead}: {plan:?}");
                assert!(
                    plan.iter().any(|(_, step)| step.starts_with("SCAN page")),
                    "{what}"
                );
                assert!(
                    !plan.iter().any(|(_, step)| step.contains("TEMP B-TREE")),
                    "{what}"
                );
                assert!(
                    plan.iter().any(|(_, step)| step.contains("USING INDEX")
                        || step.contains("USING COVERING INDEX")),
                    "{what}"
                );
            }
        }
    }
}
