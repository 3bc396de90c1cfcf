//! The web pages in a real browser (Debian's Chromium, Playwright, axe-core): the flows of
//! `tests/browser/flows.cjs`, each key one with and without JavaScript, and the refusals.
//! Skipped, saying why, only when Chromium or Node.js is missing (`.ci/run` installs both).

use std::path::PathBuf;

use quadrat_app::ratelimit::Limiter;
use quadrat_core::project_state::{ProjectAccess, ProjectSetting};
use quadrat_core::ratelimit::Limits;
use quadrat_testkit::{TestDb, TestServer, browser, pages, uploads};
use serde_json::json;

const PASSWORD: &str = "correct horse battery";
const CREATOR: &str = "ann@example.org";
const COLLECTOR: &str = "carl@example.org";
const ADMIN: &str = "ada@example.org";
const THROTTLED: &str = "tina@example.org";
const CURATOR: &str = "cora@example.org";
const NO_ROLE: &str = "nora@example.org";
const MARKUP: &str = "<script>alert(1)</script>";

/// The login throttle per account as shipped (the sixth wrong password is refused), and every
/// other budget out of the way: the flows run in parallel from one address, and a shared
/// address budget would let one flow's wrong passwords lock the others out.
fn login_throttle_only() -> Limiter {
    const PLENTY: u64 = 1_000_000;
    Limiter::in_memory(Limits {
        export_entries_per_minute: PLENTY,
        export_project_per_minute: PLENTY,
        export_media_per_minute: PLENTY,
        google_apps_script_per_minute: PLENTY,
        token_per_hour: PLENTY,
        global_per_minute: PLENTY,
        upload_per_second: PLENTY,
        upload_per_minute: PLENTY,
        login_failures_per_address: PLENTY,
        ..Limits::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_work_in_a_real_browser() {
    let Some(modules) = browser::browser_modules() else {
        return;
    };
    let db = TestDb::sqlite().await;
    let server = TestServer::start_at_own_url_with_limiter(&db, login_throttle_only()).await;
    let app = &server.app;
    for (email, admin) in [
        (CREATOR, false),
        (COLLECTOR, false),
        (ADMIN, true),
        (THROTTLED, false),
        (CURATOR, false),
        (NO_ROLE, false),
    ] {
        app.create_user(email, Some("Browser Tester"), Some(PASSWORD.into()), admin)
            .await
            .expect("creating a user");
    }
    // A private project with an entry (the worked example), managed by ann, collected by carl.
    let project = uploads::import_tree_survey(app).await;
    uploads::ingest_entry(
        app,
        &project,
        &uploads::site_entry(&uploads::version_of(&project)),
    )
    .await;
    // A second site, which the curator deletes (the first stays for the Apps flow).
    const DELETABLE: &str = "7c1e9d2a-4b3f-4a5e-8d6c-0f1e2d3c4b5a";
    uploads::ingest_entry(
        app,
        &project,
        &uploads::another_site(&uploads::version_of(&project), DELETABLE, "Doomed meadow"),
    )
    .await;
    app.set_project_setting(
        uploads::SLUG,
        ProjectSetting::Access(ProjectAccess::Private),
    )
    .await
    .expect("making it private");
    // A public project with entries: the demo.
    let demo = app.seed_demo().await.expect("seeding the demo");
    let markup_slug = pages::markup_project(app, MARKUP).await;
    // The data pages' public project: 61 entries (two pages), the newest with a photo and audio.
    let data = pages::data_project(app, 61).await;
    for (slug, email, role) in [
        (uploads::SLUG, CREATOR, "creator"),
        (uploads::SLUG, COLLECTOR, "collector"),
        (demo.slug.as_str(), CREATOR, "creator"),
        (markup_slug.as_str(), CREATOR, "creator"),
        (uploads::SLUG, CURATOR, "curator"),
        (data.slug.as_str(), CURATOR, "curator"),
    ] {
        app.add_member(slug, email, role, false)
            .await
            .expect("adding a member");
    }
    let user = |email: &str| json!({"email": email, "password": PASSWORD});
    let config = json!({
        "base": server.base_url,
        "creator": user(CREATOR),
        "collector": user(COLLECTOR),
        "admin": user(ADMIN),
        "throttled": user(THROTTLED),
        "curator": user(CURATOR),
        "norole": user(NO_ROLE),
        "deletable_uuid": DELETABLE,
        "deletable_title": "Doomed meadow",
        "data": {
            "slug": data.slug,
            "form_ref": data.form_ref,
            "child_form_ref": data.child_form_ref,
            "media_uuid": data.media_uuid,
            "entries": data.entries,
        },
        "definition": quadrat_testkit::fixtures_dir().join("tree-survey-2024.json"),
        "private_slug": uploads::SLUG,
        "public_slug": demo.slug,
        "markup_slug": markup_slug,
        "markup_name": MARKUP,
        "only": std::env::var("QUADRAT_BROWSER_ONLY").ok().map(|v| v.split(',').map(str::to_string).collect::<Vec<_>>()),
    });
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser/flows.cjs");
    let out = tokio::task::spawn_blocking(move || browser::run_script(&modules, &script, &config))
        .await
        .expect("the browser script's thread");
    println!("{out}");
}
