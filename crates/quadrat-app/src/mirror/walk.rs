//! Remotes without the changes feed (docs/protocol.md §18.2): every stream walked through
//! `/api/export/entries` sorted by `uploaded_at` with the one-sided `filter_from` as a keyset
//! (rows at the bound are read again and skipped when unchanged; a page filled by one second is
//! finished with `page=2,3,…`), the next run's mark kept `overlap` before the run's start; then
//! deletions found by comparing the remote's counts with the local ones and reconciled by a
//! full uuid walk of the streams that disagree.

use std::collections::HashSet;

use quadrat_core::time::iso_zero_millis;
use serde_json::Value;

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
        let last = walk(run, &mut applier, &stream, start, None).await?;
        // The next run starts `overlap` before what this one read, and never after its start.
        let t0 = run.remote.first_date;
        let read = last.as_deref().and_then(iso_millis);
        let next = match (read, t0) {
            (Some(r), Some(t0)) => Some(r.min(t0)),
            (Some(r), None) => Some(r),
            (None, _) => mark.mark.as_deref().and_then(iso_millis),
        }
        .map(|ms| iso_zero_millis(ms - run.opts.overlap.as_millis() as i64));
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

/// Walks one stream from `start` (`None`: from the first row), applying every row; with
/// `uuids`, only collects them (the deletion walk) and applies nothing. Returns the largest
/// `uploaded_at` read.
async fn walk(
    run: &mut Run<'_>,
    applier: &mut Applier,
    stream: &Stream,
    start: Option<String>,
    mut uuids: Option<&mut HashSet<String>>,
) -> Result<Option<String>, MirrorError> {
    let (form_ref, branch_ref) = stream;
    let name = applier.stream_name(form_ref, branch_ref.as_deref());
    let uuid_key = if branch_ref.is_some() {
        "ec5_branch_uuid"
    } else {
        "ec5_uuid"
    };
    let path = format!("/api/export/entries/{}", run.remote.slug);
    let mut bound = start;
    let mut largest: Option<String> = None;
    let mut read = 0u64;
    'bounds: loop {
        let mut page = 1u32;
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
            if let Some(b) = &bound {
                query.push(("filter_by", "uploaded_at".to_string()));
                query.push(("filter_from", b.clone()));
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
            let total = body.pointer("/meta/total").and_then(Value::as_u64);
            let rows = body
                .pointer("/data/entries")
                .or_else(|| body.pointer("/data/branch_entries"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut page_max: Option<String> = None;
            for row in &rows {
                let Some(row) = row.as_object() else { continue };
                let at = row
                    .get("uploaded_at")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                if page_max.as_deref().is_none_or(|m| at.as_str() > m) {
                    page_max = Some(at);
                }
                match uuids.as_deref_mut() {
                    Some(set) => {
                        if let Some(u) = row.get(uuid_key).and_then(Value::as_str) {
                            set.insert(u.to_string());
                        }
                    }
                    None => {
                        applier
                            .push(run, form_ref, branch_ref.as_deref(), row)
                            .await?
                    }
                }
            }
            read += rows.len() as u64;
            run.progress.stream(&name, read, total);
            if let Some(m) = &page_max
                && largest.as_deref().is_none_or(|l| m.as_str() > l)
            {
                largest = Some(m.clone());
            }
            if rows.len() < per_page as usize {
                break 'bounds;
            }
            // A page filled by one second: the rest of that second on the next pages.
            if page_max.is_some() && page_max == bound {
                page += 1;
                continue;
            }
            bound = page_max;
            break;
        }
        if uuids.is_none() {
            applier.flush(run).await?;
            let key = stream_key(stream);
            let mark = run.state.streams.entry(key).or_default();
            mark.walking = bound.clone();
            run.checkpoint(false).await?;
        }
    }
    if uuids.is_none() {
        applier.flush(run).await?;
    }
    Ok(largest)
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
