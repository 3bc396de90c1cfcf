//! `quadrat user …` driven as an administrator would drive it, on both engines.

use quadrat_app::accounts::LoginField;
use quadrat_testkit::process::{Quadrat, Run};
use quadrat_testkit::{TestDb, both_engines, fixtures_dir};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_quadrat");
const PASSWORD: &str = "correct horse battery";

/// Runs `quadrat ARGS` against the test database, with `stdin` on standard input.
fn quadrat_in(db: &TestDb, args: &[&str], stdin: &str) -> Run {
    Quadrat::on(BIN, db).run_with_stdin(args, stdin)
}

fn quadrat(db: &TestDb, args: &[&str]) -> Run {
    Quadrat::on(BIN, db).run(args)
}

fn users(db: &TestDb) -> Vec<Value> {
    let o = quadrat(db, &["user", "list", "--json"]);
    assert!(o.status.success(), "{}", o.stderr);
    serde_json::from_str(&o.stdout).expect("user list --json")
}

fn create_ann(db: &TestDb) {
    let o = quadrat_in(
        db,
        &[
            "user",
            "create",
            "Ann@Example.org",
            "--name",
            "Ann Smith",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(o.status.success(), "{}", o.stderr);
}

/// Logs in through the same use-case the HTTP route calls; the token, or the refusal's code.
async fn login(db: &TestDb, email: &str, password: &str) -> Result<String, String> {
    let app = db.app().await;
    let result = app
        .login_local(
            LoginField::Text(email.into()),
            LoginField::Text(password.into()),
        )
        .await;
    app.store.close().await;
    result
        .map(|v| v["data"]["jwt"].as_str().unwrap().to_string())
        .map_err(|e| e.errors()[0].code.clone())
}

async fn user_create_with_password_stdin_can_log_in(db: TestDb) {
    let o = quadrat_in(
        &db,
        &[
            "user",
            "create",
            "  Ann@Example.org ",
            "--name",
            "Ann Smith",
            "--password-stdin",
        ],
        &format!("{PASSWORD}\r\n"),
    );
    assert!(o.status.success(), "{}", o.stderr);
    assert!(
        o.stdout
            .contains("created user ann@example.org; they can log in"),
        "{}",
        o.stdout
    );
    let list = users(&db);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["email"], "ann@example.org");
    assert_eq!(list[0]["name"], "Ann Smith");
    assert_eq!(list[0]["server_role"], "basic");
    assert_eq!(list[0]["state"], "active");
    assert_eq!(list[0]["has_password"], true);
    assert!(login(&db, "ann@example.org", PASSWORD).await.is_ok());

    let table = quadrat(&db, &["user", "list"]);
    assert!(table.stdout.starts_with("EMAIL"), "{}", table.stdout);
    assert!(
        table.stdout.contains("ann@example.org  basic"),
        "{}",
        table.stdout
    );
}

async fn user_create_without_password_cannot_log_in(db: TestDb) {
    let o = quadrat(&db, &["user", "create", "bob@example.org", "--admin"]);
    assert!(o.status.success(), "{}", o.stderr);
    assert!(
        o.stdout.contains("without a password: they cannot log in until `quadrat user set-password bob@example.org --password-stdin`"),
        "{}",
        o.stdout
    );
    let list = users(&db);
    assert_eq!(list[0]["has_password"], false);
    assert_eq!(list[0]["server_role"], "admin");
    assert_eq!(list[0]["name"], "");
    assert_eq!(
        login(&db, "bob@example.org", PASSWORD).await,
        Err("ec5_12".into())
    );
}

async fn user_create_refusals_change_nothing(db: TestDb) {
    create_ann(&db);
    let before = users(&db);
    let long_name = "n".repeat(101);
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (vec!["user", "create", "not-an-email"], "", "ec5_42"),
        (vec!["user", "create", "ann@localhost"], "", "ec5_42"),
        (vec!["user", "create", "ANN@example.org"], "", "ec5_41"),
        (
            vec!["user", "create", "c@example.org", "--password-stdin"],
            "short\n",
            "ec5_43",
        ),
        (
            vec!["user", "create", "carl@example.org", "--password-stdin"],
            "Carl@Example.org\n",
            "ec5_377",
        ),
        (
            vec!["user", "create", "c@example.org", "--password-stdin"],
            "",
            "standard input is empty",
        ),
        (
            vec!["user", "create", "c@example.org", "--password-stdin"],
            "\n",
            "first line of standard input is empty",
        ),
        (
            vec!["user", "create", "c@example.org", "--name", &long_name],
            "",
            "ec5_44",
        ),
        (
            vec!["user", "create", "c@example.org", "--name", "<b>"],
            "",
            "ec5_220",
        ),
        (
            vec!["user", "create", "c@example.org", "--password", "x"],
            "",
            "unexpected argument '--password'",
        ),
    ];
    for (args, stdin, expected) in cases {
        let o = quadrat_in(&db, &args, stdin);
        assert!(!o.status.success(), "{args:?} succeeded");
        assert!(o.stderr.contains(expected), "{args:?}: {}", o.stderr);
        assert_eq!(users(&db), before, "{args:?} changed the users");
    }
}

async fn user_set_password_replaces_it_and_ends_the_login(db: TestDb) {
    create_ann(&db);
    let token = login(&db, "ann@example.org", PASSWORD).await.unwrap();
    let o = quadrat_in(
        &db,
        &[
            "user",
            "set-password",
            "ANN@example.org",
            "--password-stdin",
        ],
        "a brand new passphrase\n",
    );
    assert!(o.status.success(), "{}", o.stderr);
    assert!(o.stdout.contains("any earlier login in the app has ended"));
    let app = db.app().await;
    assert!(app.user_for_token(&token).await.unwrap().is_none());
    app.store.close().await;
    assert_eq!(
        login(&db, "ann@example.org", PASSWORD).await,
        Err("ec5_12".into())
    );
    assert!(
        login(&db, "ann@example.org", "a brand new passphrase")
            .await
            .is_ok()
    );

    // Refusals leave the password as it is.
    let before = users(&db);
    for (args, stdin, expected) in [
        (
            vec![
                "user",
                "set-password",
                "nobody@example.org",
                "--password-stdin",
            ],
            "another passphrase\n",
            "ec5_34",
        ),
        (
            vec![
                "user",
                "set-password",
                "ann@example.org",
                "--password-stdin",
            ],
            "short\n",
            "ec5_43",
        ),
        (
            vec!["user", "set-password", "ann@example.org"],
            "another passphrase\n",
            "--password-stdin",
        ),
    ] {
        let o = quadrat_in(&db, &args, stdin);
        assert!(!o.status.success(), "{args:?}");
        assert!(o.stderr.contains(expected), "{args:?}: {}", o.stderr);
    }
    assert_eq!(users(&db), before);
    assert!(
        login(&db, "ann@example.org", "a brand new passphrase")
            .await
            .is_ok()
    );
}

async fn user_disable_refuses_logins_until_enabled(db: TestDb) {
    create_ann(&db);
    let token = login(&db, "ann@example.org", PASSWORD).await.unwrap();
    let o = quadrat(&db, &["user", "disable", "ann@example.org"]);
    assert!(o.status.success(), "{}", o.stderr);
    assert_eq!(users(&db)[0]["state"], "disabled");
    assert_eq!(
        login(&db, "ann@example.org", PASSWORD).await,
        Err("ec5_12".into())
    );
    let app = db.app().await;
    assert!(app.user_for_token(&token).await.unwrap().is_none());
    app.store.close().await;
    let o = quadrat(&db, &["user", "enable", "ann@example.org"]);
    assert!(o.status.success(), "{}", o.stderr);
    assert!(login(&db, "ann@example.org", PASSWORD).await.is_ok());
    let o = quadrat(&db, &["user", "disable", "nobody@example.org"]);
    assert!(!o.status.success());
    assert!(o.stderr.contains("ec5_34"), "{}", o.stderr);
}

async fn user_delete_removes_user_and_roles_but_not_a_creator(db: TestDb) {
    let fixture = fixtures_dir().join("tree-survey-2024.json");
    let o = quadrat(&db, &["project", "import", fixture.to_str().unwrap()]);
    assert!(o.status.success(), "{}", o.stderr);
    create_ann(&db);
    for (email, role) in [
        ("ann@example.org", "creator"),
        ("bob@example.org", "collector"),
    ] {
        let o = quadrat(
            &db,
            &["project", "member", "add", "tree-survey-2024", email, role],
        );
        assert!(o.status.success(), "{}", o.stderr);
    }
    let o = quadrat(&db, &["user", "delete", "bob@example.org"]);
    assert!(o.status.success(), "{}", o.stderr);
    let emails: Vec<Value> = users(&db).iter().map(|u| u["email"].clone()).collect();
    assert_eq!(emails, ["ann@example.org"]);
    let members = quadrat(
        &db,
        &["project", "member", "list", "tree-survey-2024", "--json"],
    );
    let members: Vec<Value> = serde_json::from_str(&members.stdout).unwrap();
    assert_eq!(members.len(), 1);

    let before = users(&db);
    let o = quadrat(&db, &["user", "delete", "ann@example.org"]);
    assert!(!o.status.success());
    assert!(
        o.stderr
            .contains("is the creator of tree-survey-2024; hand each over first"),
        "{}",
        o.stderr
    );
    let o = quadrat(&db, &["user", "delete", "nobody@example.org"]);
    assert!(!o.status.success());
    assert!(o.stderr.contains("ec5_34"), "{}", o.stderr);
    assert_eq!(users(&db), before);
}

async fn user_help_documents_every_command(db: TestDb) {
    let o = quadrat(&db, &["user", "--help"]);
    assert!(o.status.success());
    for command in [
        "create",
        "list",
        "set-password",
        "disable",
        "enable",
        "delete",
    ] {
        assert!(o.stdout.contains(command), "{command}: {}", o.stdout);
    }
    let o = quadrat(&db, &["user", "create", "--help"]);
    assert!(o.stdout.contains("--password-stdin"));
    assert!(o.stdout.contains("--admin"));
    assert!(!o.stdout.contains("--password "), "{}", o.stdout);
}

both_engines!(
    user_create_with_password_stdin_can_log_in,
    user_create_without_password_cannot_log_in,
    user_create_refusals_change_nothing,
    user_set_password_replaces_it_and_ends_the_login,
    user_disable_refuses_logins_until_enabled,
    user_delete_removes_user_and_roles_but_not_a_creator,
    user_help_documents_every_command,
);
