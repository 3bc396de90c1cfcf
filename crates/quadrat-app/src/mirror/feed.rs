//! A Quadrat remote (docs/protocol.md §18.2 step 8): the changes feed replaces the stream walks
//! and the deletion check; exact, deletions included. The cursor is stored after each page is
//! applied, so a killed run replays at most one page.

use serde_json::Value;

use super::apply::Applier;
use super::pacing::Bucket;
use super::project::{fetch_project, sync_structure};
use super::{MirrorError, Run};
use crate::entries::Deletion;

/// Whether the remote has the feed: 200 to a one-item page (422 `ec5_219` on Epicollect5).
pub(super) async fn available(run: &mut Run<'_>) -> Result<bool, MirrorError> {
    let path = format!("/api/export/changes/{}", run.remote.slug);
    let query = [("per_page", "1".to_string())];
    let reply = run
        .remote
        .get(Bucket::Changes, &path, &query, run.progress)
        .await?;
    Ok(reply.status == 200)
}

pub(super) async fn pull(run: &mut Run<'_>) -> Result<(), MirrorError> {
    let path = format!("/api/export/changes/{}", run.remote.slug);
    let mut applier = Applier::new(run).await?;
    let mut restarted = false;
    loop {
        let mut query = vec![
            ("per_page", run.opts.per_page.clamp(1, 1000).to_string()),
            ("map_index", "0".to_string()),
        ];
        if let Some(c) = &run.state.cursor {
            query.push(("cursor", c.clone()));
        }
        let reply = run
            .remote
            .get(Bucket::Changes, &path, &query, run.progress)
            .await?;
        if reply.status == 410 && !restarted {
            // The remote was restored or purged tombstones past us: walk again from the start.
            run.progress
                .note("the remote's changes cursor expired: reading everything again");
            run.state.cursor = None;
            restarted = true;
            continue;
        }
        if reply.status != 200 {
            return Err(reply.unexpected(&path));
        }
        let body = reply.json()?;
        let changes = body
            .pointer("/data/changes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for change in &changes {
            apply_change(run, &mut applier, change).await?;
        }
        applier.flush(run).await?;
        let seq = |key: &str| {
            body.pointer(&format!("/meta/{key}"))
                .and_then(Value::as_u64)
        };
        let last = changes
            .last()
            .and_then(|c| c.get("seq"))
            .and_then(Value::as_u64);
        run.progress.stream(
            "changes",
            last.or(seq("latest_seq")).unwrap_or(0),
            seq("latest_seq"),
        );
        if let Some(next) = body.pointer("/meta/next_cursor").and_then(Value::as_str) {
            run.state.cursor = Some(next.to_string());
        }
        run.checkpoint(false).await?;
        let more = body
            .pointer("/meta/has_more")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if !more {
            break;
        }
    }
    applier.finish(run).await?;
    run.report.next_run = "incremental from the stored changes cursor".into();
    Ok(())
}

async fn apply_change(
    run: &mut Run<'_>,
    applier: &mut Applier,
    change: &Value,
) -> Result<(), MirrorError> {
    let text = |k: &str| change.get(k).and_then(Value::as_str).unwrap_or_default();
    let form_ref = text("form_ref");
    let branch_ref = (text("type") == "branch_entry").then(|| text("branch_ref"));
    match text("op") {
        "upsert" => {
            if let Some(entry) = change.get("entry").and_then(Value::as_object) {
                applier.push(run, form_ref, branch_ref, entry).await?;
            }
        }
        "delete" => {
            // Rows queued before the tombstone go in first: the feed is in commit order.
            applier.flush(run).await?;
            let name = applier.stream_name(form_ref, branch_ref);
            match run
                .app
                .delete_entries(&run.local_slug, &Deletion::Uuid(text("uuid").to_string()))
                .await
            {
                Ok(_) => run.report.streams.entry(name).or_default().deleted += 1,
                // Unknown here, or gone already with its parent.
                Err(crate::AppError::Client { status: 404, .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        "project" => {
            applier.flush(run).await?;
            let project = fetch_project(&mut run.remote, run.progress).await?;
            sync_structure(run, &project).await?;
            applier.reload(run).await?;
        }
        _ => {}
    }
    Ok(())
}
