//! Remotes without the changes feed (docs/protocol.md §18.2): every stream walked through
//! `/api/export/entries` sorted by `uploaded_at` with the one-sided `filter_from` as a keyset
//! (rows at the bound are read again and skipped when unchanged; a page filled by one second is
//! finished with `page=2,3,…`), the next run's mark kept `overlap` before the run's start; then
//! deletions found by comparing the remote's counts with the local ones and reconciled by a
//! full uuid walk of the streams that disagree.

use std::collections::HashSet;

use quadrat_core::time::iso_zero_millis;
use serde_json::{Map, Value};

use super::apply::{Applier, iso_millis};
use super::pacing::Bucket;
use super::project::fetch_project;
use super::state::StreamMark;
use super::{MirrorError, Run};
use crate::entries::Deletion;

/// One stream: a form, or one branch of a form.
type Stream = (String, Option<String>);

fn stream_key((form_ref, branch_ref): &Stream) -> String {
    match branch_ref {
        Some(b) => format!("{form_ref} {b}"),
        None => form_ref.clone(),
    }
}

pub(super) async fn pull(run: &mut Run<'_>) -> Result<(), MirrorError> {
    let mut applier = Applier::new(run).await?;
    for stream in applier.streams() {
        let key = stream_key(&stream);
        let mark = run.state.streams.get(&key).cloned().unwrap_or_default();
        let start = mark.walking.clone().or(mark.mark.clone());
        let walked = walk(run, &mut applier, &stream, start, None).await?;
        // The next run starts `overlap` before what this one read, never after its start, and
        // no later than a second it could not read whole.
        let t0 = run.remote.first_date;
        let read = walked.largest.as_deref().and_then(iso_millis);
        let next = match (read, t0) {
            (Some(r), Some(t0)) => Some(r.min(t0)),
            (Some(r), None) => Some(r),
            (None, _) => mark.mark.as_deref().and_then(iso_millis),
        }
        .map(|ms| ms - run.opts.overlap.as_millis() as i64);
        let short = walked.short_second.as_deref().and_then(iso_millis);
        let next = match (next, short) {
            (Some(n), Some(s)) => Some(n.min(s)),
            (n, s) => n.or(s),
        }
        .map(iso_zero_millis);
        run.state.streams.insert(
            key,
            StreamMark {
                mark: next,
                walking: None,
            },
        );
        run.checkpoint(false).await?;
    }
    applier.finish(run).await?;
    run.report.next_run = match run
        .state
        .streams
        .values()
        .filter_map(|m| m.mark.clone())
        .min()
    {
        Some(mark) => format!("incremental from uploaded_at ≥ {mark}"),
        None => "from the beginning".into(),
    };
    Ok(())
}

/// Where a stream's walk stands: the rows it read, and the earliest second it could not read
/// whole (its next mark goes no later, so the next run reads that second again).
#[derive(Debug, Default)]
struct Walked {
    read: u64,
    largest: Option<String>,
    short_second: Option<String>,
}

/// One page of the entries export.
struct Page {
    rows: Vec<Map<String, Value>>,
    total: Option<u64>,
    per_page: u32,
}

impl Page {
    fn full(&self) -> bool {
        self.rows.len() >= self.per_page as usize
    }

    /// The page's largest `uploaded_at`.
    fn max_at(&self) -> Option<String> {
        self.rows.iter().map(uploaded_at).max().map(str::to_string)
    }
}

fn uploaded_at(row: &Map<String, Value>) -> &str {
    row.get("uploaded_at")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Walks one stream from `start` (`None`: from the first row), applying every row; with
/// `uuids`, only collects them (the deletion walk) and applies nothing. Returns the largest
/// `uploaded_at` read, and the earliest second left short.
async fn walk(
    run: &mut Run<'_>,
    applier: &mut Applier,
    stream: &Stream,
    start: Option<String>,
    mut uuids: Option<&mut HashSet<String>>,
) -> Result<Walked, MirrorError> {
    let name = applier.stream_name(&stream.0, stream.1.as_deref());
    let mut bound = start;
    let mut walked = Walked::default();
    loop {
        let page = fetch_page(run, stream, &name, bound.as_deref(), 1).await?;
        take(
            run,
            applier,
            stream,
            &page,
            &mut walked,
            uuids.as_deref_mut(),
        )
        .await?;
        run.progress.stream(&name, walked.read, page.total);
        let max_at = page.max_at();
        let mut last = page;
        // A page filled by one second S (the bound itself): the rest of S on pages 2, 3, …,
        // its distinct rows counted against the remote's count of S.
        if last.full() && max_at.is_some() && max_at == bound {
            let second = max_at.clone().unwrap_or_default();
            last = finish_second(
                run,
                applier,
                stream,
                &name,
                &second,
                last,
                &mut walked,
                &mut uuids,
            )
            .await?;
        }
        if uuids.is_none() {
            applier.flush(run).await?;
        }
        let next = last.max_at();
        if !last.full() || next.is_none() || next == bound {
            break;
        }
        bound = next;
        if uuids.is_none() {
            let mark = run.state.streams.entry(stream_key(stream)).or_default();
            mark.walking = bound.clone();
            run.checkpoint(false).await?;
        }
    }
    if uuids.is_none() {
        applier.flush(run).await?;
    }
    Ok(walked)
}

/// Reads the pages of one second S after its first (`first`, read with `filter_from=S`)
/// until a page leaves S or ends the stream, then checks the distinct rows of S against
/// `total(filter_from=S) − total(filter_from=S+1s)`; a shortfall is read once more from page 1
/// and, if still short, reported. Returns the last page read.
#[allow(clippy::too_many_arguments)]
async fn finish_second(
    run: &mut Run<'_>,
    applier: &mut Applier,
    stream: &Stream,
    name: &str,
    second: &str,
    first: Page,
    walked: &mut Walked,
    uuids: &mut Option<&mut HashSet<String>>,
) -> Result<Page, MirrorError> {
    let uuid_key = if stream.1.is_some() {
        "ec5_branch_uuid"
    } else {
        "ec5_uuid"
    };
    let mut seen: HashSet<String> = HashSet::new();
    let note = |seen: &mut HashSet<String>, page: &Page| {
        for row in page.rows.iter().filter(|r| uploaded_at(r) == second) {
            if let Some(u) = row.get(uuid_key).and_then(Value::as_str) {
                seen.insert(u.to_string());
            }
        }
    };
    note(&mut seen, &first);
    let from_second = first.total.unwrap_or(0);
    let mut last = first;
    let mut page_no = 1;
    while last.full() && last.max_at().as_deref() == Some(second) {
        page_no += 1;
        last = fetch_page(run, stream, name, Some(second), page_no).await?;
        note(&mut seen, &last);
        take(run, applier, stream, &last, walked, uuids.as_deref_mut()).await?;
        run.progress.stream(name, walked.read, None);
    }
    let after = iso_millis(second).map(|ms| iso_zero_millis(ms + 1000));
    let later = match &after {
        Some(after) => fetch_page(run, stream, name, Some(after), 1)
            .await?
            .total
            .unwrap_or(0),
        None => 0,
    };
    let expected = from_second.saturating_sub(later);
    if (seen.len() as u64) < expected {
        // The remote ordered the second's rows differently between pages: once more.
        let pages = page_no;
        for p in 1..=pages {
            let again = fetch_page(run, stream, name, Some(second), p).await?;
            note(&mut seen, &again);
            take(run, applier, stream, &again, walked, uuids.as_deref_mut()).await?;
        }
    }
    if (seen.len() as u64) < expected {
        run.report.warnings.push(format!(
            "{name}: {} of the {expected} rows uploaded in the second {second} were read (the \
             remote orders them differently on each request); the next run reads that second again",
            seen.len()
        ));
        if walked.short_second.as_deref().is_none_or(|s| second < s) {
            walked.short_second = Some(second.to_string());
        }
    }
    Ok(last)
}

/// Applies (or, with `uuids`, collects) a page's rows.
async fn take(
    run: &mut Run<'_>,
    applier: &mut Applier,
    (form_ref, branch_ref): &Stream,
    page: &Page,
    walked: &mut Walked,
    uuids: Option<&mut HashSet<String>>,
) -> Result<(), MirrorError> {
    let uuid_key = if branch_ref.is_some() {
        "ec5_branch_uuid"
    } else {
        "ec5_uuid"
    };
    match uuids {
        Some(set) => set.extend(
            page.rows
                .iter()
                .filter_map(|r| r.get(uuid_key).and_then(Value::as_str))
                .map(str::to_string),
        ),
        None => {
            for row in &page.rows {
                applier
                    .push(run, form_ref, branch_ref.as_deref(), row)
                    .await?;
            }
        }
    }
    walked.read += page.rows.len() as u64;
    if let Some(m) = page.max_at()
        && walked.largest.as_deref().is_none_or(|l| m.as_str() > l)
    {
        walked.largest = Some(m);
    }
    Ok(())
}

/// One page of a stream sorted by `uploaded_at` from `bound` (inclusive); `per_page` halved
/// while the remote refuses it (`ec5_335`).
async fn fetch_page(
    run: &mut Run<'_>,
    (form_ref, branch_ref): &Stream,
    name: &str,
    bound: Option<&str>,
    page: u32,
) -> Result<Page, MirrorError> {
    let path = format!("/api/export/entries/{}", run.remote.slug);
    loop {
        let per_page = run.per_page;
        let mut query = vec![
            ("form_ref", form_ref.clone()),
            ("map_index", "0".to_string()),
            ("per_page", per_page.to_string()),
            ("sort_by", "uploaded_at".to_string()),
            ("sort_order", "ASC".to_string()),
            ("page", page.to_string()),
        ];
        if let Some(b) = branch_ref {
            query.push(("branch_ref", b.clone()));
        }
        if let Some(b) = bound {
            query.push(("filter_by", "uploaded_at".to_string()));
            query.push(("filter_from", b.to_string()));
        }
        let reply = run
            .remote
            .get(Bucket::Entries, &path, &query, run.progress)
            .await?;
        if reply.status == 400 && reply.error_code().as_deref() == Some("ec5_335") {
            if per_page == 1 {
                return Err(MirrorError::Remote("the remote refuses per_page=1".into()));
            }
            run.per_page = per_page / 2;
            continue;
        }
        if reply.status != 200 {
            return Err(reply.unexpected(&format!("{path} ({name})")));
        }
        let body = reply.json()?;
        let rows = body
            .pointer("/data/entries")
            .or_else(|| body.pointer("/data/branch_entries"))
            .and_then(Value::as_array)
            .map(|rows| rows.iter().filter_map(|r| r.as_object().cloned()).collect())
            .unwrap_or_default();
        return Ok(Page {
            rows,
            total: body.pointer("/meta/total").and_then(Value::as_u64),
            per_page,
        });
    }
}

/// The remote gives no signal for deletions: a stream with more rows here than there lost some,
/// found by walking all its uuids (every stream with `--reconcile`). A walk that read fewer
/// uuids than the remote counts deletes nothing (rows may have been skipped) and is reported.
pub(super) async fn deletions(run: &mut Run<'_>) -> Result<(), MirrorError> {
    let project = fetch_project(&mut run.remote, run.progress).await?;
    let mut applier = Applier::new(run).await?;
    for stream in applier.streams() {
        let (form_ref, branch_ref) = &stream;
        let counts = match branch_ref {
            Some(b) => project.stats.pointer(&format!("/branch_counts/{b}/count")),
            None => project
                .stats
                .pointer(&format!("/form_counts/{form_ref}/count")),
        };
        let remote_count = counts.and_then(Value::as_u64).unwrap_or(0);
        let local = run
            .app
            .store
            .record_uuids(run.project_id, form_ref, branch_ref.as_deref())
            .await?;
        if local.len() as u64 <= remote_count && !run.opts.reconcile {
            continue;
        }
        let mut remote_uuids = HashSet::new();
        walk(run, &mut applier, &stream, None, Some(&mut remote_uuids)).await?;
        let name = applier.stream_name(form_ref, branch_ref.as_deref());
        if (remote_uuids.len() as u64) < remote_count {
            run.report.warnings.push(format!(
                "{name}: the deletion walk read {} of the remote's {remote_count} rows; nothing \
                 deleted, reconciled on the next run",
                remote_uuids.len()
            ));
            continue;
        }
        for uuid in local.iter().filter(|u| !remote_uuids.contains(*u)) {
            match run
                .app
                .delete_entries(&run.local_slug, &Deletion::Uuid(uuid.clone()))
                .await
            {
                Ok(_) => run.report.streams.entry(name.clone()).or_default().deleted += 1,
                // Gone already with its deleted parent.
                Err(crate::AppError::Client { status: 404, .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}
