//! The access policy one caller at a time, on both engines: what each function lets through
//! and the refusal (status, code, source) it answers with otherwise. The HTTP tests check the
//! same answers route by route; these pin the functions new routes will call.

use quadrat_app::access::{ApiReader, AppRoute};
use quadrat_app::oauth::TokenRequest;
use quadrat_app::projects::ImportOptions;
use quadrat_app::{App, AppError};
use quadrat_core::oauth::TokenParams;
use quadrat_core::project_state::{ProjectAccess, ProjectSetting, ProjectStatus};
use quadrat_core::roles::Role;
use quadrat_core::time::now_millis;
use quadrat_testkit::{TestDb, both_engines, fixture};
use serde_json::json;

const SLUG: &str = "tree-survey-2024";

type Refusal = Option<(u16, String, String)>;

fn refusal<T>(result: Result<T, AppError>) -> Refusal {
    match result {
        Ok(_) => None,
        Err(AppError::Client { status, errors }) => {
            Some((status, errors[0].code.clone(), errors[0].source.clone()))
        }
        Err(e) => panic!("internal error: {}", e.chain()),
    }
}

fn refused(status: u16, code: &str, source: &str) -> Refusal {
    Some((status, code.into(), source.into()))
}

async fn app_with_project(db: &TestDb, access: ProjectAccess) -> App {
    let app = db.app().await;
    app.import_project(
        &fixture("tree-survey-2024.json"),
        &ImportOptions {
            access: Some(access),
            ..ImportOptions::default()
        },
    )
    .await
    .expect("import");
    app
}

async fn set_status(app: &App, status: ProjectStatus) {
    // Archived is never set by an administrator: the store takes it as the real server
    // leaves it.
    let project = app.find_project(SLUG).await.unwrap();
    app.store
        .update_project_setting(
            project.id,
            ProjectSetting::Status(status),
            &project.structure.project_definition,
            &project.structure.project_extra,
            0,
        )
        .await
        .unwrap();
}

/// A user's login token, with `role` on the project when given.
async fn user(app: &App, email: &str, role: Option<Role>, admin: bool) -> String {
    let user = app.create_user(email, None, None, admin).await.unwrap();
    if let Some(role) = role {
        app.add_member(SLUG, email, role.as_str(), false)
            .await
            .unwrap();
    }
    app.issue_user_token(&user).await.unwrap()
}

async fn public_reader_refuses_unknown_trashed_and_archived(db: TestDb) {
    let app = app_with_project(&db, ProjectAccess::Private).await;
    assert_eq!(refusal(app.public_reader("Tree Survey 2024").await), None);
    assert_eq!(
        refusal(app.public_reader("---").await),
        refused(404, "ec5_21", "middleware")
    );
    assert_eq!(
        refusal(app.public_reader("nope").await),
        refused(404, "ec5_11", "middleware")
    );
    for (status, answer) in [
        (ProjectStatus::Locked, None),
        (ProjectStatus::Trashed, refused(404, "ec5_11", "middleware")),
        (
            ProjectStatus::Archived,
            refused(404, "ec5_11", "middleware"),
        ),
    ] {
        set_status(&app, status).await;
        assert_eq!(refusal(app.public_reader(SLUG).await), answer, "{status}");
    }
    // The operator finds it whatever its status.
    assert_eq!(
        app.find_project(SLUG).await.unwrap().status,
        ProjectStatus::Archived
    );
    assert_eq!(
        refusal(app.find_project("---").await),
        refused(404, "ec5_21", "slug")
    );
    app.store.close().await;
}

async fn export_reader_lets_only_the_projects_own_client_read_it_private(db: TestDb) {
    let app = app_with_project(&db, ProjectAccess::Private).await;
    let project = app.find_project(SLUG).await.unwrap();
    let secret = app
        .create_client_app(&project, "Scripts", None)
        .await
        .unwrap();
    let params = json!({
        "grant_type": "client_credentials",
        "client_id": secret.client_id,
        "client_secret": secret.client_secret,
    });
    let request = TokenRequest {
        params: TokenParams::from_lookup(|k| params.get(k).cloned()),
        basic: None,
    };
    let token = app.issue_token(&request, now_millis()).await.unwrap();
    let bearer = format!("Bearer {}", token.access_token);

    let (_, reader) = app.export_reader(SLUG, Some(&bearer)).await.unwrap();
    assert_eq!(
        reader,
        ApiReader::Client {
            client_id: secret.client_id
        }
    );
    for header in [
        None,
        Some("Bearer"),
        Some("Bearer not.a.token"),
        Some("Basic x"),
    ] {
        assert_eq!(
            refusal(app.export_reader(SLUG, header).await),
            refused(404, "ec5_256", "middleware"),
            "{header:?}"
        );
    }
    app.revoke_client_tokens(&project).await.unwrap();
    assert_eq!(
        refusal(app.export_reader(SLUG, Some(&bearer)).await),
        refused(404, "ec5_256", "middleware")
    );

    // A public project is anyone's, whatever the header says.
    app.set_project_setting(SLUG, ProjectSetting::Access(ProjectAccess::Public))
        .await
        .unwrap();
    for header in [None, Some("Bearer garbage")] {
        let (_, reader) = app.export_reader(SLUG, header).await.unwrap();
        assert_eq!(reader, ApiReader::Anyone);
    }
    app.store.close().await;
}

async fn app_user_upload_reaches_a_trashed_project_and_reading_does_not(db: TestDb) {
    let app = app_with_project(&db, ProjectAccess::Public).await;
    let read = |slug| app.app_user(slug, None, AppRoute::Read);
    assert_eq!(refusal(read(SLUG).await), None);
    assert_eq!(
        refusal(read("---").await),
        refused(404, "ec5_21", "middleware")
    );
    let upload = |slug| app.app_user(slug, None, AppRoute::Upload);
    assert_eq!(
        refusal(upload("---").await),
        refused(404, "ec5_11", "middleware")
    );
    assert_eq!(
        refusal(upload("nope").await),
        refused(404, "ec5_11", "middleware")
    );

    set_status(&app, ProjectStatus::Trashed).await;
    assert_eq!(
        refusal(app.app_user(SLUG, None, AppRoute::Read).await),
        refused(404, "ec5_11", "middleware")
    );
    let (project, _) = app.app_user(SLUG, None, AppRoute::Upload).await.unwrap();
    assert_eq!(
        project.status,
        ProjectStatus::Trashed,
        "the upload refuses it"
    );

    set_status(&app, ProjectStatus::Archived).await;
    for route in [AppRoute::Read, AppRoute::Upload] {
        assert_eq!(
            refusal(app.app_user(SLUG, None, route).await),
            refused(404, "ec5_11", "middleware"),
            "{route:?}"
        );
    }
    app.store.close().await;
}

async fn project_manager_is_a_creator_manager_or_admin(db: TestDb) {
    let app = app_with_project(&db, ProjectAccess::Public).await;
    let manager = user(&app, "manager@example.org", Some(Role::Manager), false).await;
    let curator = user(&app, "curator@example.org", Some(Role::Curator), false).await;
    let outsider = user(&app, "outsider@example.org", None, false).await;
    let admin = user(&app, "admin@example.org", None, true).await;
    let manage = |token: Option<&str>| {
        let token = token.map(str::to_string);
        let app = &app;
        async move { refusal(app.project_manager(SLUG, token.as_deref()).await) }
    };
    assert_eq!(manage(Some(&manager)).await, None);
    assert_eq!(manage(Some(&admin)).await, None);
    assert_eq!(manage(None).await, refused(404, "ec5_70", "middleware"));
    assert_eq!(
        manage(Some("not-a-token")).await,
        refused(404, "ec5_70", "middleware")
    );
    assert_eq!(
        manage(Some(&outsider)).await,
        refused(404, "ec5_71", "middleware")
    );
    assert_eq!(manage(Some(&curator)).await, refused(400, "ec5_91", "apps"));
    assert_eq!(
        refusal(app.project_manager("nope", Some(&manager)).await).map(|r| r.1),
        Some("ec5_11".into())
    );
    // Trashed projects are still managed (the real server's pages show them); archived ones
    // are gone.
    set_status(&app, ProjectStatus::Trashed).await;
    assert_eq!(manage(Some(&manager)).await, None);
    set_status(&app, ProjectStatus::Archived).await;
    assert_eq!(
        manage(Some(&manager)).await,
        refused(404, "ec5_11", "middleware")
    );
    app.store.close().await;
}

async fn server_admin_is_only_an_admin_user(db: TestDb) {
    let app = app_with_project(&db, ProjectAccess::Public).await;
    let creator = user(&app, "creator@example.org", Some(Role::Creator), false).await;
    let admin = user(&app, "admin@example.org", None, true).await;
    let (who, actor) = app.server_admin(Some(&admin)).await.unwrap();
    assert_eq!(who.email, "admin@example.org");
    assert!(actor.is_server_admin);
    for token in [None, Some("garbage"), Some(creator.as_str())] {
        assert_eq!(
            refusal(app.server_admin(token).await),
            refused(404, "ec5_219", "auth"),
            "{token:?}"
        );
    }
    app.store.close().await;
}

both_engines!(
    public_reader_refuses_unknown_trashed_and_archived,
    export_reader_lets_only_the_projects_own_client_read_it_private,
    app_user_upload_reaches_a_trashed_project_and_reading_does_not,
    project_manager_is_a_creator_manager_or_admin,
    server_admin_is_only_an_admin_user,
);
