//! The media phase (docs/protocol.md §18.2 step 7): every file the mirrored rows name, fetched
//! once under the media limit and stored as the original. A photo placeholder (Quadrat's
//! `X-Media-Placeholder: true`, or the real server's placeholder bytes) and a 404 are recorded
//! as missing, not stored, and tried again on later runs. Thumbnails are made locally on demand.

use quadrat_core::entry::MediaKind;
use quadrat_store::MediaKey;

use super::pacing::Bucket;
use super::placeholders::{is_logo_placeholder, is_photo_placeholder};
use super::state::{MediaState, MediaStatus};
use super::{MirrorError, Run};
use crate::AppError;

/// A file that failed this often is no longer tried.
const MAX_ATTEMPTS: u32 = 5;

/// Files between two checkpoints.
const CHECKPOINT_EVERY: u64 = 20;

pub(super) async fn fetch(run: &mut Run<'_>) -> Result<(), MirrorError> {
    let wanted: Vec<String> = run
        .state
        .media
        .iter()
        .filter(|(_, m)| match m.status {
            MediaStatus::Pending | MediaStatus::Missing => true,
            MediaStatus::Failed => m.attempts < MAX_ATTEMPTS,
            MediaStatus::Done => false,
        })
        .map(|(k, _)| k.clone())
        .collect();
    let (todo, left): (Vec<String>, Vec<String>) = wanted
        .into_iter()
        .partition(|k| kind_of(k).is_some_and(|(kind, _)| run.opts.media.contains(&kind)));
    run.report.media.left = left.len() as u64;
    let total = todo.len() as u64;
    let path = format!("/api/export/media/{}", run.remote.slug);
    for (i, key) in todo.into_iter().enumerate() {
        let Some((kind, name)) = kind_of(&key) else {
            continue;
        };
        let format = match kind {
            MediaKind::Photo => "entry_original",
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
        };
        let query = [
            ("type", kind.as_str().to_string()),
            ("format", format.to_string()),
            ("name", name.to_string()),
        ];
        let reply = run
            .remote
            .get(Bucket::Media, &path, &query, run.progress)
            .await?;
        let placeholder = reply.header("x-media-placeholder") == Some("true")
            || (kind == MediaKind::Photo && is_photo_placeholder(&reply.body));
        let status = match reply.status {
            200 if placeholder => MediaStatus::Missing,
            200 => {
                store(run, kind, name, &reply.body).await?;
                run.report.media.downloaded += 1;
                run.report.media.bytes += reply.body.len() as u64;
                MediaStatus::Done
            }
            404 => MediaStatus::Missing,
            _ => MediaStatus::Failed,
        };
        match status {
            MediaStatus::Missing => run.report.media.missing += 1,
            MediaStatus::Failed => run.report.media.failed += 1,
            _ => {}
        }
        let entry = run.state.media.entry(key.clone()).or_insert(MediaState {
            status,
            attempts: 0,
        });
        entry.status = status;
        entry.attempts += u32::from(status != MediaStatus::Done);
        run.progress.media(i as u64 + 1, total);
        if (i as u64 + 1).is_multiple_of(CHECKPOINT_EVERY) {
            run.checkpoint(false).await?;
        }
    }
    Ok(())
}

/// The project's logo (`project_thumb`), stored unless the remote has none (a placeholder).
/// A logo the local rules refuse is a warning, not a failure.
pub(super) async fn logo(run: &mut Run<'_>) -> Result<(), MirrorError> {
    let path = format!("/api/export/media/{}", run.remote.slug);
    let query = [
        ("type", "photo".to_string()),
        ("format", "project_thumb".to_string()),
        ("name", "logo.jpg".to_string()),
    ];
    let reply = run
        .remote
        .get(Bucket::Media, &path, &query, run.progress)
        .await?;
    if reply.status != 200 || reply.header("x-media-placeholder") == Some("true") {
        return Ok(());
    }
    let project = run.app.find_project(&run.local_slug).await?;
    let (name, project_ref, body) = (
        project.name.clone(),
        project.project_ref.clone(),
        reply.body.clone(),
    );
    if run
        .app
        .images
        .run(move || is_logo_placeholder(&body, &name, &project_ref))
        .await
    {
        return Ok(());
    }
    match run
        .app
        .set_project_logo(&project, reply.body.to_vec())
        .await
    {
        Ok(()) => Ok(()),
        Err(AppError::Client { errors, .. }) => {
            let why: Vec<String> = errors.iter().map(ToString::to_string).collect();
            run.report.warnings.push(format!(
                "the remote logo was not stored: {}",
                why.join("; ")
            ));
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

fn kind_of(key: &str) -> Option<(MediaKind, &str)> {
    let (kind, name) = key.split_once('/')?;
    Some((MediaKind::parse(kind)?, name))
}

/// Stores one original in the media store with the project's media totals.
async fn store(
    run: &Run<'_>,
    kind: MediaKind,
    name: &str,
    bytes: &[u8],
) -> Result<(), MirrorError> {
    let store = run.app.media();
    let key = MediaKey::entry(kind, &run.project_ref, name)
        .map_err(|_| MirrorError::Remote(format!("the remote names an unsafe file {name:?}")))?;
    let internal = |what: &'static str| move |e: std::io::Error| AppError::internal(what, e);
    let replaced = store
        .size_of(&key)
        .await
        .map_err(internal("reading the media store"))?;
    store
        .store_bytes(&key, bytes)
        .await
        .map_err(internal("storing a mirrored media file"))?;
    if kind == MediaKind::Photo
        && let Ok(thumb) = MediaKey::entry_thumb(&run.project_ref, name)
    {
        store
            .remove(&thumb)
            .await
            .map_err(internal("removing a thumbnail"))?;
    }
    let files = i64::from(replaced.is_none());
    let delta = bytes.len() as i64 - replaced.unwrap_or(0) as i64;
    run.app
        .store
        .add_media_totals(run.project_id, kind, files, delta)
        .await?;
    Ok(())
}
