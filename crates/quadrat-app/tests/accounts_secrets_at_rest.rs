//! What a reader of the database (a copied file, a backup) can do with it, on both engines
//! (docs/security.md): it holds the user-token signing key, but a login's subject only as a
//! digest, so no token it can sign names a live login.

use quadrat_app::accounts::{LoginField, api_token_digest};
use quadrat_core::jwt::{self, UserClaims};
use quadrat_core::time::now_millis;
use quadrat_testkit::{TestDb, both_engines};

const PASSWORD: &str = "correct horse battery";

async fn a_database_reader_cannot_sign_a_login(db: TestDb) {
    let app = db.app().await;
    app.create_user("ann@example.org", None, Some(PASSWORD.into()), true)
        .await
        .unwrap();
    let body = app
        .login_local(
            LoginField::Text("ann@example.org".into()),
            LoginField::Text(PASSWORD.into()),
        )
        .await
        .unwrap();
    let token = body["data"]["jwt"].as_str().unwrap().to_string();
    let now = now_millis() / 1000;
    let secret = app.user_token_secret().await.unwrap();
    let sub = jwt::verify(&token, &secret, now).unwrap().sub;

    // What the database holds: the key, and a digest that is not the subject.
    let row = app
        .store
        .user_by_email("ann@example.org")
        .await
        .unwrap()
        .unwrap();
    let stored = row.api_token_hash.expect("logged in");
    assert!(stored.starts_with("sha256:"), "{stored}");
    assert_eq!(stored, api_token_digest(&sub));
    assert!(!stored.contains(&sub));

    // Signing with the stored key a token that names what is stored gets nobody.
    let forged = jwt::sign(&UserClaims::new(&stored, "j", "i", now), &secret);
    assert_eq!(app.user_for_token(&forged).await.unwrap(), None);
    let forged = jwt::sign(
        &UserClaims::new(stored.trim_start_matches("sha256:"), "j", "i", now),
        &secret,
    );
    assert_eq!(app.user_for_token(&forged).await.unwrap(), None);
    // The token itself still works.
    let user = app.user_for_token(&token).await.unwrap().expect("ann");
    assert_eq!(user.email, "ann@example.org");
}

both_engines!(a_database_reader_cannot_sign_a_login);
