//! The web pages' sessions in the app layer, on both engines: a login replaces the visitor's
//! session, a new password or a disabled account ends every session, a password change keeps
//! only the new one, messages wait for the next page.

use std::net::{IpAddr, Ipv4Addr};

use quadrat_app::ratelimit::Limiter;
use quadrat_app::sessions::Flash;
use quadrat_core::ratelimit::Limits;
use quadrat_core::users::UserState;
use quadrat_testkit::{TestDb, both_engines};

const PASSWORD: &str = "correct horse battery";
const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

async fn sessions_end_with_a_new_password_or_a_disabled_account(db: TestDb) {
    let app = db.app().await;
    let limiter = Limiter::in_memory(Limits::default());
    app.create_user("ann@example.org", None, Some(PASSWORD.into()), false)
        .await
        .unwrap();
    let visitor = app.start_session(None).await.unwrap();
    let opened = app.open_session(&visitor.cookie).await.unwrap().unwrap();
    assert!(opened.user.is_none());
    let login = app
        .web_login(&limiter, Some(&opened), "ANN@example.org ", PASSWORD, LOCAL)
        .await
        .unwrap();
    assert!(
        app.open_session(&visitor.cookie).await.unwrap().is_none(),
        "replaced"
    );
    let session = app.open_session(&login.cookie).await.unwrap().unwrap();
    assert_eq!(session.user.as_ref().unwrap().email, "ann@example.org");
    assert!(session.csrf_matches(&login.session.csrf_token));

    app.set_flash(&session, &Flash::success("Saved."))
        .await
        .unwrap();
    let session = app.open_session(&login.cookie).await.unwrap().unwrap();
    assert_eq!(session.flash, Some(Flash::success("Saved.")));
    app.clear_flash(&session).await.unwrap();
    assert_eq!(
        app.open_session(&login.cookie)
            .await
            .unwrap()
            .unwrap()
            .flash,
        None
    );

    // A second browser, then the password changed by the user: only the new session lives.
    let other = app
        .web_login(&limiter, None, "ann@example.org", PASSWORD, LOCAL)
        .await
        .unwrap();
    let renewed = app
        .change_own_password(
            &limiter,
            &session,
            PASSWORD,
            "another good password".into(),
            LOCAL,
        )
        .await
        .unwrap();
    assert!(app.open_session(&login.cookie).await.unwrap().is_none());
    assert!(app.open_session(&other.cookie).await.unwrap().is_none());
    assert!(app.open_session(&renewed.cookie).await.unwrap().is_some());
    let wrong = app
        .change_own_password(
            &limiter,
            &renewed.session,
            "not the password",
            "x".repeat(12),
            LOCAL,
        )
        .await
        .unwrap_err();
    assert_eq!(wrong.errors()[0].code, "ec5_36");

    app.set_user_state("ann@example.org", UserState::Disabled)
        .await
        .unwrap();
    assert!(app.open_session(&renewed.cookie).await.unwrap().is_none());
    let refused = app
        .web_login(
            &limiter,
            None,
            "ann@example.org",
            "another good password",
            LOCAL,
        )
        .await
        .unwrap_err();
    assert_eq!(refused.errors()[0].code, "ec5_12");
    app.store.close().await;
}

async fn the_setup_token_lives_until_an_admin_exists(db: TestDb) {
    let app = db.app().await;
    let limiter = Limiter::in_memory(Limits::default());
    let token = app.setup_token().await.unwrap().unwrap();
    assert_eq!(
        app.setup_token().await.unwrap(),
        Some(token.clone()),
        "stable"
    );
    let refused = app
        .create_first_admin("wrong", "it@example.org", "IT", PASSWORD.into())
        .await
        .unwrap_err();
    assert_eq!(refused.errors()[0].code, "ec5_219");
    let admin = app
        .create_first_admin(&token, "it@example.org", "IT", PASSWORD.into())
        .await
        .unwrap();
    assert!(admin.server_role.is_admin());
    assert_eq!(app.setup_token().await.unwrap(), None);
    // The demo admin gets a fresh password each time, and it works.
    let (email, first) = app.ensure_demo_admin().await.unwrap();
    let (_, second) = app.ensure_demo_admin().await.unwrap();
    assert_ne!(first, second);
    assert!(
        app.web_login(&limiter, None, &email, &first, LOCAL)
            .await
            .is_err()
    );
    assert!(
        app.web_login(&limiter, None, &email, &second, LOCAL)
            .await
            .is_ok()
    );
    app.store.close().await;
}

both_engines!(
    sessions_end_with_a_new_password_or_a_disabled_account,
    the_setup_token_lives_until_an_admin_exists,
);
