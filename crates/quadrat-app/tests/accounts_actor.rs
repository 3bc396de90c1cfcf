//! Who a request is: user tokens, project roles and the app routes' refusals, on both engines.

use quadrat_app::access::AppRoute;
use quadrat_app::accounts::LoginField;
use quadrat_app::projects::{ImportOptions, ResolvedProject};
use quadrat_app::{App, AppError};
use quadrat_core::jwt::{self, USER_TOKEN_LIFETIME_SECS, UserClaims};
use quadrat_core::project_state::{ProjectAccess, ProjectSetting};
use quadrat_core::roles::{Actor, Role};
use quadrat_core::time::now_millis;
use quadrat_core::users::UserState;
use quadrat_testkit::{TestDb, both_engines, fixture};

const SLUG: &str = "tree-survey-2024";
const PASSWORD: &str = "correct horse battery";

async fn app_with_project(db: &TestDb, access: &str) -> (App, ResolvedProject) {
    let app = db.app().await;
    app.import_project(&fixture("tree-survey-2024.json"), &ImportOptions::default())
        .await
        .expect("import");
    app.set_project_setting(SLUG, ProjectSetting::Access(access.parse().unwrap()))
        .await
        .unwrap();
    let project = app.public_reader(SLUG).await.unwrap();
    (app, project)
}

/// Creates a user with a password and logs them in; returns their token.
async fn login(app: &App, email: &str, admin: bool) -> String {
    app.create_user(email, Some("Someone"), Some(PASSWORD.into()), admin)
        .await
        .expect("create user");
    token_of(app, email).await
}

async fn token_of(app: &App, email: &str) -> String {
    let body = app
        .login_local(
            LoginField::Text(email.into()),
            LoginField::Text(PASSWORD.into()),
        )
        .await
        .expect("login");
    body["data"]["jwt"].as_str().expect("jwt").to_string()
}

/// The access policy's answer to a mobile-app user reading the project.
async fn app_user(app: &App, token: Option<&str>) -> Result<Actor, AppError> {
    app.app_user(SLUG, token, AppRoute::Read)
        .await
        .map(|(_, actor)| actor)
}

fn denial(result: Result<Actor, AppError>) -> Option<(u16, String, String)> {
    match result {
        Ok(_) => None,
        Err(AppError::Client { status, errors }) => {
            Some((status, errors[0].code.clone(), errors[0].source.clone()))
        }
        Err(e) => panic!("internal error: {e}"),
    }
}

async fn actor_for_project_without_token_is_anonymous(db: TestDb) {
    let (app, project) = app_with_project(&db, "public").await;
    for bearer in [None, Some("")] {
        let actor = app.actor_for_project(&project, bearer).await.unwrap();
        assert_eq!(actor, Actor::anonymous());
    }
    assert!(app_user(&app, None).await.is_ok());
}

async fn actor_for_project_carries_each_role(db: TestDb) {
    let (app, project) = app_with_project(&db, "private").await;
    for role in Role::ALL {
        let email = format!("{role}@example.org");
        let token = login(&app, &email, false).await;
        app.add_member(SLUG, &email, role.as_str(), false)
            .await
            .unwrap();
        let actor = app.actor_for_project(&project, Some(&token)).await.unwrap();
        assert_eq!(actor.project_role, Some(role));
        assert_eq!(actor.email.as_deref(), Some(email.as_str()));
        assert_eq!(actor.name.as_deref(), Some("Someone"));
        assert!(!actor.is_server_admin && !actor.is_anonymous());
        let expected =
            (role == Role::Viewer).then(|| (404, "ec5_91".to_string(), "middleware".to_string()));
        assert_eq!(
            denial(app_user(&app, Some(&token)).await),
            expected,
            "{role}"
        );
    }
}

async fn app_user_on_private_project_is_refused_per_middleware(db: TestDb) {
    let (app, _) = app_with_project(&db, "private").await;
    let outsider = login(&app, "outsider@example.org", false).await;
    let admin = login(&app, "admin@example.org", true).await;
    assert_eq!(
        denial(app_user(&app, None).await),
        Some((404, "ec5_77".into(), "middleware".into()))
    );
    assert_eq!(
        denial(app_user(&app, Some(&outsider)).await),
        Some((404, "ec5_78".into(), "middleware".into()))
    );
    let actor = app_user(&app, Some(&admin))
        .await
        .expect("admins act as creators");
    assert_eq!(
        (actor.project_role, actor.effective_role()),
        (None, Some(Role::Creator))
    );

    // The same people on a public project all pass.
    app.set_project_setting(SLUG, ProjectSetting::Access(ProjectAccess::Public))
        .await
        .unwrap();
    for token in [None, Some(outsider.as_str()), Some(admin.as_str())] {
        assert!(app_user(&app, token).await.is_ok());
    }
}

async fn actor_for_project_treats_bad_tokens_as_anonymous(db: TestDb) {
    let (app, project) = app_with_project(&db, "private").await;
    let token = login(&app, "ann@example.org", false).await;
    app.add_member(SLUG, "ann@example.org", "collector", false)
        .await
        .unwrap();
    assert!(
        !app.actor_for_project(&project, Some(&token))
            .await
            .unwrap()
            .is_anonymous()
    );
    // The subject is stored only as its digest: it is read from the token itself.
    let secret = app.user_token_secret().await.unwrap();
    let now = now_millis() / 1000;
    let api_token = jwt::verify(&token, &secret, now).expect("our token").sub;

    let expired = jwt::sign(
        &UserClaims::new(&api_token, "j", "i", now - USER_TOKEN_LIFETIME_SECS - 1),
        &secret,
    );
    let wrong_secret = jwt::sign(&UserClaims::new(&api_token, "j", "i", now), b"not ours");
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged_payload = jwt::sign(&UserClaims::new("2-forged", "j", "i", now), b"x");
    let forged_payload = forged_payload.split('.').nth(1).unwrap().to_string();
    parts[1] = &forged_payload;
    let tampered = parts.join(".");
    let still_good = jwt::sign(&UserClaims::new(&api_token, "j", "i", now), &secret);
    assert!(
        !app.actor_for_project(&project, Some(&still_good))
            .await
            .unwrap()
            .is_anonymous(),
        "a token we signed for the live api_token is accepted"
    );
    for bad in [
        expired.as_str(),
        wrong_secret.as_str(),
        tampered.as_str(),
        "not.a.jwt",
        "garbage",
    ] {
        let actor = app.actor_for_project(&project, Some(bad)).await.unwrap();
        assert!(actor.is_anonymous(), "{bad}");
        assert_eq!(
            denial(app_user(&app, Some(bad)).await),
            Some((404, "ec5_77".into(), "middleware".into()))
        );
    }

    // A new login revokes the old token.
    let newer = token_of(&app, "ann@example.org").await;
    assert!(
        app.actor_for_project(&project, Some(&token))
            .await
            .unwrap()
            .is_anonymous()
    );
    assert!(
        !app.actor_for_project(&project, Some(&newer))
            .await
            .unwrap()
            .is_anonymous()
    );
    // So does a new password, and disabling the user.
    app.set_user_password("ann@example.org", "another long password".into())
        .await
        .unwrap();
    assert!(
        app.actor_for_project(&project, Some(&newer))
            .await
            .unwrap()
            .is_anonymous()
    );
    let body = app
        .login_local(
            LoginField::Text("ann@example.org".into()),
            LoginField::Text("another long password".into()),
        )
        .await
        .unwrap();
    let latest = body["data"]["jwt"].as_str().unwrap().to_string();
    app.set_user_state("ann@example.org", UserState::Disabled)
        .await
        .unwrap();
    assert!(
        app.actor_for_project(&project, Some(&latest))
            .await
            .unwrap()
            .is_anonymous()
    );
}

async fn user_token_secret_is_shared_by_every_instance(db: TestDb) {
    let one = db.app().await;
    let two = db.app().await;
    let a = one.user_token_secret().await.unwrap();
    let b = two.user_token_secret().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), 64, "256 bits, hex");
    // A token issued by one instance is honoured by the other.
    one.create_user("ann@example.org", None, Some(PASSWORD.into()), false)
        .await
        .unwrap();
    let token = token_of(&one, "ann@example.org").await;
    let user = two.user_for_token(&token).await.unwrap();
    assert_eq!(user.map(|u| u.email), Some("ann@example.org".into()));
}

both_engines!(
    actor_for_project_without_token_is_anonymous,
    actor_for_project_carries_each_role,
    app_user_on_private_project_is_refused_per_middleware,
    actor_for_project_treats_bad_tokens_as_anonymous,
    user_token_secret_is_shared_by_every_instance,
);
