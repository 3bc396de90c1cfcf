//! `quadrat app …` and `quadrat keys …`, alone and beside a running `quadrat serve` that shares
//! the data: every change is what the server uses at its next request.

use std::path::Path;

use quadrat_testkit::process::{Quadrat, ServedProcess};
use quadrat_testkit::{TestDb, both_engines, fixtures_dir};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_quadrat");
const SLUG: &str = "tree-survey-2024";

fn ok(db: &TestDb, args: &[&str]) -> String {
    Quadrat::on(BIN, db).ok(args)
}

fn fails(db: &TestDb, args: &[&str]) -> String {
    Quadrat::on(BIN, db).fails(args)
}

fn import_private(db: &TestDb) {
    let file = fixtures_dir().join("tree-survey-2024.json");
    ok(
        db,
        &[
            "project",
            "import",
            file.to_str().unwrap(),
            "--access",
            "private",
        ],
    );
}

fn credentials(stdout: &str) -> (i64, String) {
    let v: Value = serde_json::from_str(stdout.trim()).expect("JSON");
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["client_id", "client_secret"]);
    (
        v["client_id"].as_i64().unwrap(),
        v["client_secret"].as_str().unwrap().to_string(),
    )
}

fn serve(db: &TestDb, extra: &[&str], env: &[(&str, &str)]) -> ServedProcess {
    let mut quadrat = Quadrat::on(BIN, db);
    for (key, value) in env {
        quadrat = quadrat.env(key, value);
    }
    quadrat.serve(extra)
}

async fn token_request(base: &str, id: i64, secret: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id.to_string()),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn export(base: &str, token: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{base}/api/export/project/{SLUG}"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn kid_of(token: &str) -> String {
    use base64::Engine;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.split('.').next().unwrap())
        .unwrap();
    let v: Value = serde_json::from_slice(&header).unwrap();
    v["kid"].as_str().unwrap().to_string()
}

async fn app_create_shows_secret_once_and_refuses_a_second_app(db: TestDb) {
    import_private(&db);
    let (id, secret) = credentials(&ok(
        &db,
        &["app", "create", SLUG, "--name", "Field App", "--json"],
    ));
    assert!(id > 0);
    assert_eq!(secret.len(), 40);
    let shown = ok(&db, &["app", "show", SLUG, "--json"]);
    assert!(
        !shown.contains(&secret),
        "the secret is never shown again: {shown}"
    );
    let v: Value = serde_json::from_str(shown.trim()).unwrap();
    assert_eq!(
        (v["client_id"].as_i64(), v["name"].as_str()),
        (Some(id), Some("Field App"))
    );
    assert_eq!(v["live_tokens"], 0);
    let human = ok(&db, &["app", "show", SLUG]);
    assert!(
        human.contains("Field App") && !human.contains(&secret),
        "{human}"
    );

    let err = fails(&db, &["app", "create", SLUG, "--name", "Second App"]);
    assert!(err.contains("ec5_258"), "{err}");
    let err = fails(&db, &["app", "create", SLUG, "--name", "bad-name!"]);
    assert!(err.contains("ec5_205"), "{err}");
    let err = fails(&db, &["app", "create", "no-such-project", "--name", "App"]);
    assert!(err.contains("ec5_11"), "{err}");

    let (same_id, new_secret) = credentials(&ok(&db, &["app", "rotate-secret", SLUG, "--json"]));
    assert_eq!(same_id, id);
    assert_ne!(new_secret, secret);
    let out = ok(&db, &["app", "delete", SLUG]);
    assert!(out.contains("deleted client app"), "{out}");
    let err = fails(&db, &["app", "show", SLUG]);
    assert!(err.contains("no client app"), "{err}");
    let err = fails(&db, &["app", "revoke-tokens", SLUG]);
    assert!(err.contains("no client app"), "{err}");
}

async fn app_commands_take_effect_on_a_running_server(db: TestDb) {
    import_private(&db);
    let server = serve(&db, &["--no-rate-limits"], &[]);
    let base = server.base.clone();
    let (id, secret) = credentials(&ok(
        &db,
        &["app", "create", SLUG, "--name", "Field App", "--json"],
    ));

    let (status, body) = token_request(&base, id, &secret).await;
    assert_eq!(status, 200, "{body}");
    let first = body["access_token"].as_str().unwrap().to_string();
    assert_eq!(export(&base, &first).await.0, 200);

    // Revoked from the CLI: refused at the next request.
    ok(&db, &["app", "revoke-tokens", SLUG]);
    let (status, body) = export(&base, &first).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (404, Some("ec5_256"))
    );

    // A new secret: the old one stops working at once.
    let (_, rotated) = credentials(&ok(&db, &["app", "rotate-secret", SLUG, "--json"]));
    let (status, body) = token_request(&base, id, &secret).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (400, Some("ec5_253"))
    );
    let (status, body) = token_request(&base, id, &rotated).await;
    assert_eq!(status, 200, "{body}");
    let second = body["access_token"].as_str().unwrap().to_string();

    // New keys from the CLI: new tokens use them, tokens signed before still work.
    ok(&db, &["keys", "generate", "--force"]);
    let (_, body) = token_request(&base, id, &rotated).await;
    let third = body["access_token"].as_str().unwrap().to_string();
    assert_ne!(kid_of(&third), kid_of(&second));
    assert_eq!(export(&base, &second).await.0, 200);
    assert_eq!(export(&base, &third).await.0, 200);

    // Deleted: its tokens and its credentials are gone.
    ok(&db, &["app", "delete", SLUG]);
    let (status, body) = export(&base, &third).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (404, Some("ec5_256"))
    );
    let (status, body) = token_request(&base, id, &rotated).await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (400, Some("ec5_253"))
    );
}

async fn serve_limits_the_eleventh_token_request_unless_switched_off(db: TestDb) {
    let limited = serve(&db, &[], &[]);
    for _ in 0..10 {
        assert_eq!(token_request(&limited.base, 1, "x").await.0, 400);
    }
    let (status, body) = token_request(&limited.base, 1, "x").await;
    assert_eq!(
        (status, body["errors"][0]["code"].as_str()),
        (429, Some("ec5_255"))
    );
    drop(limited);

    for (flags, env) in [
        (&["--no-rate-limits"][..], &[][..]),
        (&[][..], &[("QUADRAT_RATE_LIMITS__ENABLED", "false")][..]),
    ] {
        let open = serve(&db, flags, env);
        for _ in 0..15 {
            assert_eq!(
                token_request(&open.base, 1, "x").await.0,
                400,
                "{flags:?} {env:?}"
            );
        }
    }
}

both_engines!(
    app_create_shows_secret_once_and_refuses_a_second_app,
    app_commands_take_effect_on_a_running_server,
    serve_limits_the_eleventh_token_request_unless_switched_off,
);

#[test]
fn keys_generate_never_overwrites_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let quadrat = Quadrat::new(BIN).data_dir(dir.path());
    quadrat.ok(&["keys", "generate"]);
    let private = dir.path().join("keys/oauth-private.pem");
    let before = std::fs::read(&private).unwrap();
    let again = quadrat.fails(&["keys", "generate"]);
    assert!(again.contains("--force"), "{again}");
    assert_eq!(std::fs::read(&private).unwrap(), before);
    let forced = quadrat.ok(&["keys", "generate", "--force"]);
    assert_ne!(std::fs::read(&private).unwrap(), before);
    assert!(forced.contains("retired"), "{forced}");
}

#[test]
fn serve_with_a_missing_configured_key_file_fails_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere/private.pem");
    write_toml(
        dir.path(),
        &format!(
            "[oauth]\nprivate_key_file = {:?}\n",
            missing.to_str().unwrap()
        ),
    );
    let err = Quadrat::new(BIN)
        .data_dir(dir.path())
        .fails(&["serve", "--listen", "127.0.0.1:0"]);
    assert!(
        err.contains("private.pem") && err.contains("keys generate"),
        "{err}"
    );
}

fn write_toml(dir: &Path, text: &str) {
    std::fs::write(dir.join("quadrat.toml"), text).unwrap();
}
