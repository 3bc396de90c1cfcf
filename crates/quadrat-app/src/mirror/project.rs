//! The local project of a mirror (docs/protocol.md §18.2): the source guards, the first run's
//! import keeping every remote ref, and on later runs the definition and mappings replaced when
//! the remote's changed. Also the `--dry-run` plan.

use quadrat_core::project_state::{
    ProjectAccess, ProjectSetting, ProjectStatus, ProjectVisibility,
};
use quadrat_core::time::now_millis;
use quadrat_store::MirrorSource as SourceRow;
use serde_json::{Value, json};

use super::pacing::Bucket;
use super::remote::Remote;
use super::state::MirrorState;
use super::token::Credentials;
use super::{MirrorError, MirrorOptions, MirrorProgress, MirrorReport, MirrorSource, Run};
use crate::projects::ImportOptions;
use crate::{App, AppError};

/// `https://host[:port][/prefix]/project/slug[/…]` → (base, slug).
pub fn parse_project_url(url: &str) -> Result<(String, String), MirrorError> {
    let bad = || {
        MirrorError::Refused(format!(
            "{url:?} is not a project's homepage URL (https://host/project/SLUG)"
        ))
    };
    let url = url.trim().trim_end_matches('/');
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(bad());
    }
    let (base, rest) = url.rsplit_once("/project/").ok_or_else(bad)?;
    let slug = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if slug.is_empty() || base.ends_with(':') || base.ends_with('/') {
        return Err(bad());
    }
    Ok((base.to_string(), slug.to_string()))
}

/// The remote's project export, read once per run (twice when counts are compared).
pub struct RemoteProject {
    pub data: Value,
    pub mapping: Value,
    pub stats: Value,
    pub project_ref: String,
    pub structure: String,
}

pub async fn fetch_project(
    remote: &mut Remote,
    progress: &dyn MirrorProgress,
) -> Result<RemoteProject, MirrorError> {
    let path = format!("/api/export/project/{}", remote.slug);
    let reply = remote.get(Bucket::Project, &path, &[], progress).await?;
    let code = reply.error_code();
    if reply.status == 404
        && matches!(code.as_deref(), Some("ec5_256" | "ec5_257"))
        && !remote.has_credentials()
    {
        return Err(MirrorError::Refused(
            "the project is private: give --client-id and its secret (--client-secret-file or \
             QUADRAT_MIRROR_CLIENT_SECRET)"
                .into(),
        ));
    }
    if reply.status != 200 {
        return Err(reply.unexpected(&path));
    }
    let body = reply.json()?;
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    let meta = body.get("meta").cloned().unwrap_or(Value::Null);
    let project_ref = data
        .get("id")
        .and_then(Value::as_str)
        .or_else(|| data.pointer("/project/ref").and_then(Value::as_str))
        .filter(|r| !r.is_empty())
        .ok_or_else(|| MirrorError::Remote("the project export names no project ref".into()))?
        .to_string();
    let stats = meta.get("project_stats").cloned().unwrap_or(Value::Null);
    Ok(RemoteProject {
        structure: stats
            .get("structure_last_updated")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        mapping: meta.get("project_mapping").cloned().unwrap_or(json!([])),
        stats,
        data,
        project_ref,
    })
}

/// The definition file of the remote project: `data` minus what the export injects.
fn definition_file(remote: &RemoteProject) -> Value {
    let mut data = remote.data.clone();
    if let Some(project) = data.get_mut("project").and_then(Value::as_object_mut) {
        project.remove("created_at");
        project.remove("homepage");
    }
    json!({ "data": data })
}

/// Guards, remote project, local project (created on the first run), lease.
pub(super) async fn prepare<'a>(
    app: &'a App,
    opts: &'a MirrorOptions,
    progress: &'a dyn MirrorProgress,
) -> Result<Run<'a>, MirrorError> {
    let (base, slug, stored) = match &opts.source {
        MirrorSource::Url(url) => {
            let (base, slug) = parse_project_url(url)?;
            (base, slug, None)
        }
        MirrorSource::Local(local) => {
            let project = app.find_project(local).await?;
            let source = app.store.mirror_source(project.id).await?.ok_or_else(|| {
                MirrorError::Refused(format!("{} is not a mirrored project", project.slug))
            })?;
            (
                source.remote_base.clone(),
                source.remote_slug.clone(),
                Some(source),
            )
        }
    };
    let client_id = opts.client_id.clone().or_else(|| {
        stored
            .as_ref()
            .map(|s| s.client_id.clone())
            .filter(|c| !c.is_empty())
    });
    let creds = match (client_id, &opts.client_secret) {
        (Some(client_id), Some(secret)) => Some(Credentials {
            client_id,
            secret: secret.clone(),
        }),
        (Some(_), None) => {
            return Err(MirrorError::Refused(
                "a client id needs its secret: --client-secret-file FILE or the environment \
                 variable QUADRAT_MIRROR_CLIENT_SECRET"
                    .into(),
            ));
        }
        (None, Some(_)) => {
            return Err(MirrorError::Refused(
                "a client secret needs its --client-id".into(),
            ));
        }
        (None, None) => None,
    };
    let client_id = creds
        .as_ref()
        .map(|c| c.client_id.clone())
        .unwrap_or_default();
    let mut remote = Remote::new(
        base.clone(),
        slug.clone(),
        creds,
        opts.tokens.clone(),
        opts.rates.clone(),
        opts.max_wait,
    )?;
    let project = fetch_project(&mut remote, progress).await?;
    let existing = app
        .store
        .mirror_of_remote(&base, &project.project_ref)
        .await?;
    if let (Some(stored), existing) = (&stored, &existing)
        && existing.as_ref().map(|e| e.project_id) != Some(stored.project_id)
    {
        return Err(MirrorError::Refused(format!(
            "the remote project's ref is now {}, not {}: mirror it into a new project",
            project.project_ref, stored.remote_ref
        )));
    }
    let mut report = MirrorReport {
        source: format!("{base}/project/{slug}"),
        ..MirrorReport::default()
    };
    if existing.is_none()
        && let Some(row) = app.store.project_by_ref(&project.project_ref).await?
    {
        return Err(MirrorError::Refused(format!(
            "project ref {} is already used here by {}, which is not a mirror of {}",
            project.project_ref, row.slug, report.source
        )));
    }
    local_slug_guard(app, opts, &project).await?;
    if opts.dry_run {
        report.plan = Some(plan(opts, &project));
        report.local_slug = existing.as_ref().map(|_| String::new()).unwrap_or_default();
        return Ok(Run {
            app,
            opts,
            progress,
            remote,
            project_id: existing.as_ref().map_or(0, |e| e.project_id),
            local_slug: String::new(),
            project_ref: project.project_ref.clone(),
            state: MirrorState::default(),
            lease: String::new(),
            report,
            per_page: opts.per_page,
        });
    }
    let (project_id, state) = match &existing {
        Some(source) => (source.project_id, MirrorState::parse(&source.state)),
        None => {
            let created = create(app, opts, &project, &base, &slug, &client_id).await?;
            (created, MirrorState::default())
        }
    };
    let lease = take_lease(app, project_id).await?;
    let mut source = app
        .store
        .mirror_source(project_id)
        .await?
        .ok_or_else(|| AppError::broken("the mirror source row is gone"))?;
    let mut changed = false;
    if let Some(unlocked) = opts.unlocked {
        changed |= source.unlocked != i64::from(unlocked);
        source.unlocked = i64::from(unlocked);
    }
    if !client_id.is_empty() && source.client_id != client_id {
        source.client_id = client_id;
        changed = true;
    }
    if changed {
        app.store.save_mirror_source(&source).await?;
    }
    let local = app.store.project_by_ref(&project.project_ref).await?;
    let local_slug = local.map(|p| p.slug).unwrap_or_default();
    report.local_slug = local_slug.clone();
    report.mode = if existing.is_none() || opts.full {
        "full".into()
    } else {
        "incremental".into()
    };
    let mut run = Run {
        app,
        opts,
        progress,
        remote,
        project_id,
        local_slug,
        project_ref: project.project_ref.clone(),
        state,
        lease,
        report,
        per_page: opts.per_page.max(1),
    };
    if opts.full {
        run.state.cursor = None;
        run.state.streams.clear();
    }
    sync_structure(&mut run, &project).await?;
    Ok(run)
}

/// The local project a run writes: `--local-slug S` (or the remote name's slug) must not hold
/// another project, and a remote project already mirrored here keeps its local slug.
async fn local_slug_guard(
    app: &App,
    opts: &MirrorOptions,
    project: &RemoteProject,
) -> Result<(), MirrorError> {
    let mirrored = app.store.project_by_ref(&project.project_ref).await?;
    let wanted = match (&opts.local_slug, &mirrored) {
        (Some(s), _) => s.clone(),
        // A re-run (by URL or --local) finds the project by its ref, whatever its slug.
        (None, Some(_)) => return Ok(()),
        (None, None) => {
            let name = project
                .data
                .pointer("/project/name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            quadrat_core::slug::normalize(name)
        }
    };
    if opts.local_slug.is_some()
        && (wanted.is_empty() || quadrat_core::slug::normalize(&wanted) != wanted)
    {
        return Err(MirrorError::Refused(format!(
            "--local-slug {wanted:?} is not a project slug (lower-case letters and digits joined by -)"
        )));
    }
    if let Some(row) = app.store.project_by_slug(&wanted).await?
        && row.project_ref != project.project_ref
    {
        return Err(MirrorError::Refused(format!(
            "the local project {wanted} is another project (ref {}, not the remote's {}): \
             choose another --local-slug",
            row.project_ref, project.project_ref
        )));
    }
    if let Some(row) = &mirrored
        && row.slug != wanted
    {
        return Err(MirrorError::Refused(format!(
            "the remote project (ref {}) is mirrored here as {} already: run `quadrat mirror \
             --local {}`",
            project.project_ref, row.slug, row.slug
        )));
    }
    Ok(())
}

/// The run lease: one run per project. A lease is `host pid id`; one whose process is gone
/// from this host (a killed run) is taken over at once, others wait for their expiry.
async fn take_lease(app: &App, project_id: i64) -> Result<String, MirrorError> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let lease = format!(
        "{host} {} {}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    );
    let now = now_millis();
    let until = now + super::LEASE_MS;
    if app
        .store
        .take_mirror_lease(project_id, &lease, now, until)
        .await?
    {
        return Ok(lease);
    }
    if let Some((holder, _)) = app.store.mirror_lease(project_id).await?
        && holder_is_gone(&holder, &host)
        && app
            .store
            .steal_mirror_lease(project_id, &holder, &lease, until)
            .await?
    {
        return Ok(lease);
    }
    Err(MirrorError::Refused(
        "another `quadrat mirror` run of this project is in progress".into(),
    ))
}

/// Whether the lease holder ran on this host and its process is gone (Linux's /proc).
fn holder_is_gone(holder: &str, host: &str) -> bool {
    let mut parts = holder.split(' ');
    let (Some(h), Some(pid)) = (parts.next(), parts.next()) else {
        return false;
    };
    !host.is_empty()
        && h == host
        && pid.parse::<u32>().is_ok()
        && std::path::Path::new("/proc/self").exists()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// The first run: the remote definition imported with its refs, and the source row.
async fn create(
    app: &App,
    opts: &MirrorOptions,
    project: &RemoteProject,
    base: &str,
    slug: &str,
    client_id: &str,
) -> Result<i64, MirrorError> {
    let created_by = match &opts.owner {
        Some(email) => Some(app.find_user(email).await?.id),
        None => None,
    };
    let imported = app
        .import_project(
            &definition_file(project),
            &ImportOptions {
                created_by,
                slug: opts.local_slug.clone(),
                ..ImportOptions::default()
            },
        )
        .await
        .map_err(|e| match e {
            AppError::Client { errors, .. } => MirrorError::Refused(format!(
                "the remote definition cannot be stored here: {}",
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
            other => MirrorError::App(other),
        })?;
    let local = app.find_project(&imported.slug).await?;
    app.store
        .save_mirror_source(&SourceRow {
            project_id: local.id,
            remote_base: base.to_string(),
            remote_slug: slug.to_string(),
            remote_ref: project.project_ref.clone(),
            client_id: client_id.to_string(),
            unlocked: i64::from(opts.unlocked.unwrap_or(false)),
            last_run: 0,
            state: "{}".into(),
        })
        .await?;
    Ok(local.id)
}

/// Keeps the local definition, settings and mapping list equal to the remote's.
pub(super) async fn sync_structure(
    run: &mut Run<'_>,
    project: &RemoteProject,
) -> Result<(), MirrorError> {
    let app = run.app;
    let local = app.find_project(&run.local_slug).await?;
    if !run.state.structure.is_empty() && run.state.structure != project.structure {
        app.replace_definition(&local, &definition_file(project), true)
            .await?;
        run.progress.note("the remote definition changed: replaced");
    }
    let setting = |field: &str| {
        project
            .data
            .pointer(&format!("/project/{field}"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let mut settings = Vec::new();
    if let Ok(v) = setting("access").parse::<ProjectAccess>()
        && v != local.access
    {
        settings.push(ProjectSetting::Access(v));
    }
    if let Ok(v) = setting("status").parse::<ProjectStatus>()
        && v != local.status
    {
        settings.push(ProjectSetting::Status(v));
    }
    if let Ok(v) = setting("visibility").parse::<ProjectVisibility>()
        && v != local.visibility
    {
        settings.push(ProjectSetting::Visibility(v));
    }
    for s in settings {
        app.set_project_setting(&run.local_slug, s).await?;
    }
    let mapping = serde_json::to_string(&project.mapping)
        .map_err(|e| AppError::internal("encoding a mapping", e))?;
    let current = app.store.structure(run.project_id).await?.project_mapping;
    if current != mapping {
        app.store
            .replace_project_mapping(run.project_id, &current, &mapping)
            .await?;
    }
    run.state.structure = project.structure.clone();
    run.state.mapping = mapping;
    Ok(())
}

/// `--dry-run`: the requests and the time the rate limits imply for a full copy.
fn plan(opts: &MirrorOptions, project: &RemoteProject) -> String {
    let per_page = u64::from(opts.per_page.max(1));
    let counts = |key: &str| -> Vec<u64> {
        project
            .stats
            .get(key)
            .and_then(Value::as_object)
            .map(|m| {
                m.values()
                    .filter_map(|v| v.get("count").and_then(Value::as_u64))
                    .collect()
            })
            .unwrap_or_default()
    };
    let forms = project
        .data
        .pointer("/project/forms")
        .and_then(Value::as_array)
        .map_or(0, Vec::len) as u64;
    let rows: Vec<u64> = counts("form_counts")
        .into_iter()
        .chain(counts("branch_counts"))
        .collect();
    let total: u64 = rows.iter().sum();
    let pages: u64 = rows.iter().map(|n| n.div_ceil(per_page)).sum::<u64>() + forms;
    let files = project
        .stats
        .get("total_files")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let secs = |bucket: Bucket, n: u64| {
        opts.rates.0.get(&bucket).map_or(0.0, |r| {
            r.per.as_secs_f64() / (0.9 * r.requests as f64) * n as f64
        })
    };
    let media = if opts.media.is_empty() { 0 } else { files };
    let time = secs(Bucket::Entries, pages) + secs(Bucket::Media, media) + secs(Bucket::Project, 2);
    format!(
        "dry run: {total} rows in {} streams at most → about {pages} entries requests, 2 project \
         requests{}, {media} media requests; about {} at the configured rates; nothing written",
        rows.len().max(forms as usize),
        if opts.client_id.is_some() {
            ", 1 token request"
        } else {
            ""
        },
        human_secs(time)
    )
}

fn human_secs(secs: f64) -> String {
    let s = secs.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn homepage_urls_split_into_base_and_slug() {
        assert_eq!(
            parse_project_url("https://five.epicollect.net/project/tree-survey-2024").unwrap(),
            (
                "https://five.epicollect.net".into(),
                "tree-survey-2024".into()
            )
        );
        assert_eq!(
            parse_project_url("http://127.0.0.1:8080/ec5/project/x/").unwrap(),
            ("http://127.0.0.1:8080/ec5".into(), "x".into())
        );
        assert!(parse_project_url("five.epicollect.net/project/x").is_err());
        assert!(parse_project_url("https://h/projects/x").is_err());
    }
}
