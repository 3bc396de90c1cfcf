//! The project the benchmark reads and writes, seeded through the app layer before the server
//! starts: the tree survey of docs/protocol.md §16 (two forms, a branch, 15 inputs of every kind
//! of answer), one entry of each kind uploaded as the app would, then `entries` Sites entries
//! written in large batches and rendered ahead for the JSON export, as a server's background
//! job renders uploaded entries (counted in the seeding's time); and a private copy with a
//! client app for the token measures.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use quadrat_app::projects::ImportOptions;
use quadrat_app::{App, AppConfig};
use quadrat_core::project_state::ProjectAccess;
use quadrat_store::Store;
use quadrat_testkit::fixture;
use quadrat_testkit::uploads::{
    SITE_UUID, SITES, import_tree_survey, ingest_entry, site_entry, tree_entry, version_of,
    visit_entry,
};

/// What the phases need to know about the seeded data.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub slug: String,
    pub project_id: i64,
    pub form_ref: String,
    /// The project version uploads carry.
    pub version: String,
    /// Sites entries stored (the seeded ones and the worked example's).
    pub entries: usize,
    pub private_slug: String,
    pub client_id: i64,
    pub client_secret: String,
    /// Seconds the batched seeding took.
    pub seed_secs: f64,
}

pub async fn seed(database_url: &str, data_dir: &Path, entries: usize) -> Result<Seeded> {
    let store = Store::connect(database_url).await?;
    store.migrate().await?;
    let app = App::new(
        store.clone(),
        AppConfig {
            public_url: "http://127.0.0.1".into(),
            media_dir: data_dir.join("media"),
            ..AppConfig::default()
        },
    );
    let project = import_tree_survey(&app).await;
    let version = version_of(&project);
    ingest_entry(&app, &project, &site_entry(&version)).await;
    ingest_entry(&app, &project, &tree_entry(&version)).await;
    ingest_entry(&app, &project, &visit_entry(&version)).await;
    // Every seeded entry is the worked example's site (all its input types) under a new uuid.
    let template = store
        .entry_row(project.id, SITE_UUID)
        .await?
        .ok_or_else(|| anyhow!("the worked example's site was not stored"))?
        .entry_data
        .replace(SITE_UUID, "{uuid}");
    let seeded = entries.saturating_sub(1);
    let started = Instant::now();
    store
        .seed_entries_for_bench(
            project.id,
            SITES,
            &template,
            "Site",
            seeded,
            1_700_000_000_000,
        )
        .await?;
    // What the server's background job does after uploads.
    app.render_entries_ahead(&project.slug)
        .await
        .map_err(|e| anyhow!("rendering the entries ahead: {e}"))?;
    let seed_secs = started.elapsed().as_secs_f64();

    let private = app
        .import_project(
            &fixture("tree-survey-2024.json"),
            &ImportOptions {
                name: Some("Bench private".into()),
                access: Some(ProjectAccess::Private),
                new_ref: true,
                created_by: None,
                slug: None,
            },
        )
        .await
        .map_err(|e| anyhow!("importing the private project: {e}"))?;
    let private_project = app
        .find_project(&private.slug)
        .await
        .map_err(|e| anyhow!("{e}"))?;
    let secret = app
        .create_client_app(&private_project, "bench app", None)
        .await
        .map_err(|e| anyhow!("creating the client app: {e}"))
        .context("seeding")?;
    store.close().await;
    Ok(Seeded {
        slug: project.slug.clone(),
        project_id: project.id,
        form_ref: SITES.to_string(),
        version,
        entries: seeded + 1,
        private_slug: private.slug,
        client_id: secret.client_id,
        client_secret: secret.client_secret,
        seed_secs,
    })
}
