//! Uploads by users with roles (the accounts work supplies them over HTTP; here the actors are
//! made directly), and batches of uploads, on both engines.

use quadrat_app::access::check_app_user;
use quadrat_app::{App, AppError};
use quadrat_core::project_state::{ProjectAccess, ProjectSetting};
use quadrat_core::roles::{Actor, Role};
use quadrat_testkit::uploads::*;
use quadrat_testkit::{TestDb, both_engines};
use serde_json::{Value, json};

fn user(id: i64, role: Option<Role>) -> Actor {
    Actor {
        user_id: id,
        email: None,
        is_server_admin: false,
        project_role: role,
        ..Actor::default()
    }
}

fn codes(e: AppError) -> (u16, Vec<(String, String)>) {
    match e {
        AppError::Client { status, errors } => (
            status,
            errors.into_iter().map(|e| (e.code, e.source)).collect(),
        ),
        other => panic!("not a client error: {other}"),
    }
}

async fn upload(
    app: &App,
    actor: &Actor,
    data: &Value,
) -> Result<(), (u16, Vec<(String, String)>)> {
    let project = app.find_project(SLUG).await.unwrap();
    app.ingest(&project, actor, data, None).await.map_err(codes)
}

fn from_device(mut data: Value, device: &str) -> Value {
    let kind = data["type"].as_str().unwrap().to_string();
    data[kind.as_str()]["device_id"] = json!(device);
    data
}

async fn private_upload_without_usable_role_is_refused_with_404(db: TestDb) {
    let app = db.app().await;
    import_tree_survey(&app).await;
    app.set_project_setting(SLUG, ProjectSetting::Access(ProjectAccess::Private))
        .await
        .unwrap();
    let project = app.find_project(SLUG).await.unwrap();
    let refused = |actor: Actor| codes(check_app_user(&project, &actor).unwrap_err());
    let middleware = |code: &str| (404, vec![(code.to_string(), "middleware".to_string())]);
    assert_eq!(refused(Actor::anonymous()), middleware("ec5_77"));
    assert_eq!(refused(user(5, None)), middleware("ec5_78"));
    assert_eq!(refused(user(5, Some(Role::Viewer))), middleware("ec5_91"));
    for role in [Role::Creator, Role::Manager, Role::Curator, Role::Collector] {
        assert!(check_app_user(&project, &user(5, Some(role))).is_ok());
    }
    let admin = Actor {
        is_server_admin: true,
        ..user(9, None)
    };
    assert!(check_app_user(&project, &admin).is_ok());

    // Without the middleware (the CLI's path), a role that cannot upload is ec5_78.
    let v = version_of(&project);
    assert_eq!(
        upload(&app, &user(5, Some(Role::Viewer)), &site_entry(&v)).await,
        Err((400, vec![("ec5_78".into(), "upload-controller".into())]))
    );
    upload(&app, &user(5, Some(Role::Collector)), &site_entry(&v))
        .await
        .unwrap();
    let row = app
        .store
        .entry_row(project.id, SITE_UUID)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.user_id, 5);
}

async fn edits_follow_roles_users_and_devices(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let v = version_of(&project);
    let id = project.id;
    let alice = user(5, Some(Role::Collector));
    let bob = user(6, Some(Role::Collector));
    let carol = user(7, Some(Role::Curator));
    let dan = user(8, Some(Role::Collector));
    let not_yours = Err((400, vec![("ec5_54".to_string(), "upload".to_string())]));

    upload(&app, &alice, &from_device(site_entry(&v), "alice-phone"))
        .await
        .unwrap();
    assert_eq!(
        upload(&app, &bob, &from_device(site_entry(&v), "bob-phone")).await,
        not_yours
    );
    upload(&app, &alice, &from_device(site_entry(&v), "alice-tablet"))
        .await
        .unwrap();
    upload(&app, &carol, &from_device(site_entry(&v), ""))
        .await
        .unwrap();
    assert_eq!(
        app.store
            .entry_row(id, SITE_UUID)
            .await
            .unwrap()
            .unwrap()
            .user_id,
        5
    );

    // An anonymous device's entry becomes its user's once they log in on that device.
    let other = "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d";
    let anonymous_site = from_device(another_site(&v, other, "Elm Hollow"), "shared-phone");
    upload(&app, &Actor::anonymous(), &anonymous_site)
        .await
        .unwrap();
    assert_eq!(
        app.store
            .entry_row(id, other)
            .await
            .unwrap()
            .unwrap()
            .user_id,
        0
    );
    assert_eq!(
        upload(
            &app,
            &bob,
            &from_device(another_site(&v, other, "Elm Hollow"), "bob-phone")
        )
        .await,
        not_yours
    );
    upload(&app, &dan, &anonymous_site).await.unwrap();
    assert_eq!(
        app.store
            .entry_row(id, other)
            .await
            .unwrap()
            .unwrap()
            .user_id,
        8
    );

    // Branch entries follow the same rules.
    upload(&app, &alice, &from_device(tree_entry(&v), "alice-phone"))
        .await
        .unwrap();
    assert_eq!(
        upload(&app, &bob, &from_device(tree_entry(&v), "bob-phone")).await,
        not_yours
    );
    upload(&app, &carol, &tree_entry(&v)).await.unwrap();
}

async fn batch_stores_good_rows_and_reports_bad_ones(db: TestDb) {
    let app = db.app().await;
    let project = import_tree_survey(&app).await;
    let v = version_of(&project);
    let rows = vec![
        site_entry(&v),
        tree_entry(&v),
        visit_entry(&v),
        another_site(&v, "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", "OAK RIDGE"),
        photo_entry(&v),
        json!("not a payload"),
    ];
    let outcomes = app
        .ingest_batch(&project, &Actor::anonymous(), rows)
        .await
        .unwrap();
    let summary: Vec<Option<String>> = outcomes
        .iter()
        .map(|o| {
            o.as_ref()
                .err()
                .map(|e| format!("{} {}", e[0].code, e[0].source))
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            None,
            None,
            None,
            Some(format!("ec5_22 {SITE_NAME}")),
            Some("ec5_69 file_entry".into()),
            Some("ec5_269 validation".into()),
        ]
    );
    assert_eq!(app.store.entry_totals(project.id).await.unwrap(), (2, 1));
    let site = app
        .store
        .entry_row(project.id, SITE_UUID)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(site.child_counts, 1);
    assert_eq!(
        site.branch_counts.as_deref(),
        Some(format!(r#"{{"{TREES}":1}}"#).as_str())
    );
    let stats = app.project_stats(&project).await.unwrap();
    assert_eq!(stats.total_entries, 2);
}

both_engines!(
    private_upload_without_usable_role_is_refused_with_404,
    edits_follow_roles_users_and_devices,
    batch_stores_good_rows_and_reports_bad_ones,
);
