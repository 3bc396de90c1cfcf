//! Entry transactions written at the same moment, on both engines (they share group commits;
//! more of them than one PostgreSQL batch takes): each is all or nothing on its own.
//! Transactions that wrote rows and counters and were then abandoned (a refusal after writing,
//! a request cancelled mid-way) leave nothing behind and fail none of their neighbours; every
//! committed one is there, and the counters match the rows exactly. Half of them read first,
//! as an upload does (on SQLite the job's savepoint goes with that read); some only read, and
//! some are cancelled at whatever point they reached, the read in flight included.

use std::collections::BTreeSet;
use std::sync::Arc;

use quadrat_store::{NewProject, NewRecord, Store};
use quadrat_testkit::{TestDb, both_engines};
use tokio::sync::{Barrier, oneshot};

const TASKS: usize = 160;
const FORM: &str = "form-1";

fn project() -> NewProject {
    NewProject {
        project_ref: "b".repeat(32),
        name: "Group".into(),
        slug: "group".into(),
        access: "public".into(),
        visibility: "hidden".into(),
        status: "active".into(),
        category: "general".into(),
        small_description: "Group commit test".into(),
        description: String::new(),
        can_bulk_upload: "nobody".into(),
        created_by: None,
        definition: "{}".into(),
        extra: "{}".into(),
        mapping: "[]".into(),
        now: 1_717_237_233_000,
    }
}

/// What a task does after writing its entry.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ending {
    Commit,
    /// Dropped without commit: a refusal found after writing.
    Abandon,
    /// The task is aborted while it holds the transaction.
    Cancelled,
    /// Reads, writes nothing, commits.
    ReadOnly,
    /// Reads, then is aborted while it holds the transaction, before writing.
    CancelledAfterRead,
    /// Aborted from outside after a short, varying delay, wherever it is by then (it never
    /// commits).
    CancelledAnywhere,
}

fn ending(i: usize) -> Ending {
    match i % 8 {
        0..=2 => Ending::Commit,
        3 => Ending::Abandon,
        4 => Ending::Cancelled,
        5 => Ending::ReadOnly,
        6 => Ending::CancelledAfterRead,
        _ => Ending::CancelledAnywhere,
    }
}

/// Whether the task reads (the upload's lookup) before writing.
fn reads_first(i: usize) -> bool {
    (i / 8).is_multiple_of(2) || matches!(ending(i), Ending::ReadOnly | Ending::CancelledAfterRead)
}

async fn write_one(
    store: Store,
    project_id: i64,
    i: usize,
    start: Arc<Barrier>,
    mut holding: Option<oneshot::Sender<()>>,
) -> String {
    let uuid = format!("00000000-0000-4000-8000-{i:012}");
    start.wait().await;
    if ending(i) == Ending::CancelledAnywhere
        && let Some(started) = holding.take()
    {
        // Its delay runs from here: every task has passed the barrier.
        let _ = started.send(());
    }
    let mut tx = store.begin_entries(project_id).await.expect("begin");
    if reads_first(i) {
        let found = tx.look_up_entry(&uuid, None, &[]).await.expect("lookup");
        assert!(found.stored.is_none());
        match ending(i) {
            Ending::ReadOnly => {
                tx.commit().await.expect("commit");
                return uuid;
            }
            Ending::CancelledAfterRead => {
                if let Some(holding) = holding.take() {
                    let _ = holding.send(());
                }
                std::future::pending::<()>().await;
            }
            _ => {}
        }
    }
    let record = NewRecord {
        uuid: &uuid,
        form_ref: FORM,
        user_id: 0,
        platform: "Android",
        device_id: "device",
        created_at: 1_717_237_233_000 + i as i64,
        uploaded_at: 1_717_237_234_000,
        title: "entry",
        entry_data: "{}",
        geo_json_data: None,
        unique: &[],
    };
    tx.insert_entry(&record, "", "", None)
        .await
        .expect("insert");
    match ending(i) {
        Ending::Commit => tx.commit().await.expect("commit"),
        Ending::Abandon => drop(tx),
        Ending::Cancelled | Ending::CancelledAnywhere => {
            // Held (with its writes) until the task is aborted from outside.
            if let Some(holding) = holding {
                let _ = holding.send(());
            }
            std::future::pending::<()>().await;
        }
        Ending::ReadOnly | Ending::CancelledAfterRead => unreachable!("they end after reading"),
    }
    uuid
}

async fn abandoned_and_cancelled_transactions_leave_nothing_and_fail_no_neighbour(db: TestDb) {
    let store = db.store().await;
    let project_id = store.insert_project(&project()).await.unwrap();
    let start = Arc::new(Barrier::new(TASKS));
    let mut tasks = Vec::new();
    for i in 0..TASKS {
        let (holding, held) = oneshot::channel();
        let task = tokio::spawn(write_one(
            store.clone(),
            project_id,
            i,
            start.clone(),
            Some(holding),
        ));
        let abort = task.abort_handle();
        match ending(i) {
            Ending::Cancelled | Ending::CancelledAfterRead => {
                // Aborted as soon as it holds its transaction: the client went away mid-upload.
                tokio::spawn(async move {
                    let _ = held.await;
                    abort.abort();
                });
            }
            Ending::CancelledAnywhere => {
                let delay = std::time::Duration::from_micros(100 * (i % 23) as u64);
                tokio::spawn(async move {
                    let _ = held.await;
                    tokio::time::sleep(delay).await;
                    abort.abort();
                });
            }
            _ => {}
        }
        tasks.push((i, task));
    }
    let mut committed = BTreeSet::new();
    for (i, task) in tasks {
        let outcome = task.await;
        match ending(i) {
            Ending::Cancelled | Ending::CancelledAfterRead | Ending::CancelledAnywhere => {
                assert!(outcome.is_err_and(|e| e.is_cancelled()))
            }
            Ending::Commit => {
                committed.insert(outcome.expect("a committed task"));
            }
            Ending::Abandon | Ending::ReadOnly => {
                outcome.expect("an abandoned or read-only task");
            }
        }
    }
    // One more write after all that: the writer is free and sound.
    let last = Arc::new(Barrier::new(1));
    committed.insert(write_one(store.clone(), project_id, TASKS * 4, last, None).await);

    assert_eq!(
        stored_uuids(&store, project_id).await,
        committed,
        "exactly the committed entries are stored"
    );
    let counters = store.counters(project_id).await.unwrap();
    let form = counters
        .iter()
        .find(|c| c.form_ref == FORM && c.branch_ref.is_empty())
        .expect("the form's counter");
    assert_eq!(form.entry_count, committed.len() as i64, "{counters:?}");
    assert_eq!(
        store.entry_totals(project_id).await.unwrap(),
        (committed.len() as i64, 0)
    );
    store.close().await;
}

both_engines!(abandoned_and_cancelled_transactions_leave_nothing_and_fail_no_neighbour);

/// The uuids of the project's stored entries.
async fn stored_uuids(store: &Store, project_id: i64) -> BTreeSet<String> {
    store
        .entry_rows(project_id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.uuid)
        .collect()
}

/// One job at a time, so each opens its batch (on SQLite its first statement opens the batch's
/// transaction): jobs that run nothing, only read, read and write, or write without reading,
/// committed or dropped. Exactly the committed writes are kept, and the writer stays usable.
async fn batch_opening_jobs_of_every_shape_keep_exactly_their_committed_writes(db: TestDb) {
    let store = db.store().await;
    let project_id = store.insert_project(&project()).await.unwrap();
    let uuid = |i: usize| format!("00000000-0000-4000-8000-{i:012}");
    fn record(uuid: &str) -> NewRecord<'_> {
        NewRecord {
            uuid,
            form_ref: FORM,
            user_id: 0,
            platform: "Android",
            device_id: "device",
            created_at: 1_717_237_233_000,
            uploaded_at: 1_717_237_234_000,
            title: "entry",
            entry_data: "{}",
            geo_json_data: None,
            unique: &[],
        }
    }
    let mut kept = BTreeSet::new();
    for (i, (read, write, commit)) in [
        (false, false, true),
        (true, false, true),
        (true, true, false),
        (false, true, true),
        (true, true, true),
        (false, false, false),
        (true, false, false),
        (false, true, false),
    ]
    .into_iter()
    .enumerate()
    {
        let id = uuid(i);
        let mut tx = store.begin_entries(project_id).await.expect("begin");
        if read {
            let found = tx.look_up_entry(&id, None, &[]).await.expect("lookup");
            assert!(found.stored.is_none(), "job {i}");
        }
        if write {
            tx.insert_entry(&record(&id), "", "", None)
                .await
                .expect("insert");
        }
        if commit {
            tx.commit().await.unwrap_or_else(|e| panic!("job {i}: {e}"));
            if write {
                kept.insert(id);
            }
        }
    }
    assert_eq!(
        stored_uuids(&store, project_id).await,
        kept,
        "exactly the committed writes are stored"
    );
    assert_eq!(
        store.entry_totals(project_id).await.unwrap(),
        (kept.len() as i64, 0)
    );
    store.close().await;
}

both_engines!(batch_opening_jobs_of_every_shape_keep_exactly_their_committed_writes);

/// A writer cancelled while it waits to open its batch, because another instance holds the
/// project's writer (on PostgreSQL its `BEGIN` and the project lock are in flight, on SQLite its
/// first read waits for the database's lock), leaves nothing open behind it: once the other
/// instance is done, the next write here goes through.
async fn a_writer_cancelled_while_opening_its_batch_leaves_no_lock_behind(db: TestDb) {
    let store = db.store().await;
    let other = db.store().await;
    let project_id = store.insert_project(&project()).await.unwrap();
    let nobody = "00000000-0000-4000-8000-999999999999";
    let mut held = other
        .begin_entries(project_id)
        .await
        .expect("the other's writer");
    held.look_up_entry(nobody, None, &[])
        .await
        .expect("the other's read");

    let waiting = tokio::spawn({
        let store = store.clone();
        async move {
            let mut tx = store.begin_entries(project_id).await?;
            tx.look_up_entry(nobody, None, &[]).await.map(drop)
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "it waits for the other instance");
    waiting.abort();
    assert!(waiting.await.is_err_and(|e| e.is_cancelled()));
    drop(held);

    let next = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        write_one(
            store.clone(),
            project_id,
            1,
            Arc::new(Barrier::new(1)),
            None,
        ),
    )
    .await
    .expect("the next write waited for a lock the cancelled writer left held");
    assert_eq!(
        stored_uuids(&store, project_id).await,
        BTreeSet::from([next])
    );
    other.close().await;
    store.close().await;
}

both_engines!(a_writer_cancelled_while_opening_its_batch_leaves_no_lock_behind);
