//! `quadrat project member …` driven as an administrator would drive it, on both engines.

use quadrat_app::access::AppRoute;
use quadrat_testkit::process::{Quadrat, Run};
use quadrat_testkit::{TestDb, both_engines, fixtures_dir};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_quadrat");
const SLUG: &str = "tree-survey-2024";

fn quadrat(db: &TestDb, args: &[&str]) -> Run {
    Quadrat::on(BIN, db).run(args)
}

fn ok(db: &TestDb, args: &[&str]) -> String {
    quadrat(db, args).ok()
}

/// `(email, role)` of each member, creator first.
fn members(db: &TestDb) -> Vec<(String, String)> {
    let list: Vec<Value> =
        serde_json::from_str(&ok(db, &["project", "member", "list", SLUG, "--json"])).unwrap();
    list.iter()
        .map(|m| {
            (
                m["email"].as_str().unwrap().to_string(),
                m["role"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn user_emails(db: &TestDb) -> Vec<String> {
    let list: Vec<Value> = serde_json::from_str(&ok(db, &["user", "list", "--json"])).unwrap();
    list.iter()
        .map(|u| u["email"].as_str().unwrap().to_string())
        .collect()
}

fn with_project(db: &TestDb) {
    let fixture = fixtures_dir().join("tree-survey-2024.json");
    ok(db, &["project", "import", fixture.to_str().unwrap()]);
    ok(
        db,
        &["user", "create", "ann@example.org", "--name", "Ann Smith"],
    );
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(e, r)| (e.to_string(), r.to_string()))
        .collect()
}

async fn member_add_list_and_remove(db: TestDb) {
    with_project(&db);
    assert!(ok(&db, &["project", "member", "list", SLUG]).contains("has no members yet"));
    let printed = ok(
        &db,
        &[
            "project",
            "member",
            "add",
            SLUG,
            "ANN@example.org",
            "manager",
        ],
    );
    assert_eq!(
        printed,
        format!("ann@example.org is now manager of {SLUG}\n")
    );
    let printed = ok(
        &db,
        &[
            "project",
            "member",
            "add",
            SLUG,
            "ann@example.org",
            "curator",
        ],
    );
    assert_eq!(
        printed,
        format!("ann@example.org is now curator of {SLUG} (was manager)\n")
    );

    // An unknown email gets a placeholder user, and the output says so.
    let printed = ok(
        &db,
        &[
            "project",
            "member",
            "add",
            SLUG,
            "new@example.org",
            "collector",
        ],
    );
    assert!(
        printed.contains("new@example.org is now collector"),
        "{printed}"
    );
    assert!(
        printed.contains("had no account: created a placeholder user, who cannot log in until `quadrat user set-password new@example.org --password-stdin`"),
        "{printed}"
    );
    assert_eq!(user_emails(&db), ["ann@example.org", "new@example.org"]);
    ok(
        &db,
        &[
            "project",
            "member",
            "add",
            SLUG,
            "boss@example.org",
            "creator",
        ],
    );
    ok(
        &db,
        &["project", "member", "add", SLUG, "v@example.org", "viewer"],
    );
    assert_eq!(
        members(&db),
        pairs(&[
            ("boss@example.org", "creator"),
            ("ann@example.org", "curator"),
            ("new@example.org", "collector"),
            ("v@example.org", "viewer"),
        ])
    );
    let list: Vec<Value> =
        serde_json::from_str(&ok(&db, &["project", "member", "list", SLUG, "--json"])).unwrap();
    assert_eq!(list[1]["name"], "Ann Smith");
    assert!(list[1]["user_id"].is_i64());
    let table = ok(&db, &["project", "member", "list", SLUG]);
    assert!(table.starts_with("ROLE"), "{table}");
    assert!(table.contains("curator    ann@example.org"), "{table}");

    let printed = ok(
        &db,
        &["project", "member", "remove", SLUG, "new@example.org"],
    );
    assert_eq!(
        printed,
        format!("new@example.org is no longer collector of {SLUG}\n")
    );
    assert_eq!(members(&db).len(), 3);
    // The user stays; only the role went.
    assert!(user_emails(&db).contains(&"new@example.org".to_string()));
}

async fn member_add_second_creator_is_refused_and_transfer_hands_over(db: TestDb) {
    with_project(&db);
    ok(
        &db,
        &[
            "project",
            "member",
            "add",
            SLUG,
            "ann@example.org",
            "creator",
        ],
    );
    ok(
        &db,
        &[
            "project",
            "member",
            "add",
            SLUG,
            "bob@example.org",
            "manager",
        ],
    );
    let users_before = user_emails(&db);
    for email in ["bob@example.org", "carl@example.org"] {
        let err = quadrat(&db, &["project", "member", "add", SLUG, email, "creator"]).failed();
        assert!(
            err.contains(&format!(
                "{SLUG} already has a creator (ann@example.org) and a project has exactly one. To hand it over: quadrat project member add {SLUG} {email} creator --transfer"
            )),
            "{err}"
        );
    }
    assert_eq!(
        members(&db),
        pairs(&[
            ("ann@example.org", "creator"),
            ("bob@example.org", "manager")
        ])
    );
    assert_eq!(
        user_emails(&db),
        users_before,
        "no placeholder for a refusal"
    );

    let printed = ok(
        &db,
        &[
            "project",
            "member",
            "add",
            SLUG,
            "bob@example.org",
            "creator",
            "--transfer",
        ],
    );
    assert_eq!(
        printed,
        format!(
            "bob@example.org is now creator of {SLUG} (was manager)\nann@example.org is now manager of {SLUG}\n"
        )
    );
    assert_eq!(
        members(&db),
        pairs(&[
            ("bob@example.org", "creator"),
            ("ann@example.org", "manager")
        ])
    );
    // Adding the creator again as creator changes nothing.
    let printed = ok(
        &db,
        &[
            "project",
            "member",
            "add",
            SLUG,
            "bob@example.org",
            "creator",
        ],
    );
    assert_eq!(
        printed,
        format!("bob@example.org already is creator of {SLUG}\n")
    );
}

async fn member_refusals_change_nothing(db: TestDb) {
    with_project(&db);
    ok(
        &db,
        &[
            "project",
            "member",
            "add",
            SLUG,
            "ann@example.org",
            "creator",
        ],
    );
    ok(&db, &["user", "create", "loner@example.org"]);
    let before = (members(&db), user_emails(&db));
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "project",
                "member",
                "add",
                "no-such-project",
                "x@example.org",
                "viewer",
            ],
            "ec5_11",
        ),
        (
            vec!["project", "member", "add", SLUG, "x@example.org", "owner"],
            "\"owner\" is not one of creator, manager, curator, collector, viewer",
        ),
        (
            vec!["project", "member", "add", SLUG, "not-an-email", "viewer"],
            "ec5_42",
        ),
        (
            vec![
                "project",
                "member",
                "add",
                SLUG,
                "x@example.org",
                "viewer",
                "--transfer",
            ],
            "--transfer: only hands over the creator role",
        ),
        (
            vec![
                "project",
                "member",
                "add",
                SLUG,
                "ann@example.org",
                "manager",
            ],
            "ann@example.org is the creator of tree-survey-2024; you cannot change the role of the creator",
        ),
        (
            vec!["project", "member", "remove", SLUG, "ann@example.org"],
            "you cannot remove the creator",
        ),
        (
            vec!["project", "member", "remove", SLUG, "loner@example.org"],
            "loner@example.org is not a member of tree-survey-2024",
        ),
        (
            vec!["project", "member", "remove", SLUG, "nobody@example.org"],
            "ec5_34",
        ),
        (
            vec!["project", "member", "list", "no-such-project"],
            "ec5_11",
        ),
        (
            vec!["project", "member", "add", SLUG, "x@example.org"],
            "<ROLE>",
        ),
    ];
    for (args, expected) in cases {
        let err = quadrat(&db, &args).failed();
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(
            (members(&db), user_emails(&db)),
            before,
            "{args:?} changed something"
        );
    }
}

async fn member_help_explains_roles_and_transfer(db: TestDb) {
    let o = ok(&db, &["project", "member", "--help"]);
    for command in ["add", "remove", "list"] {
        assert!(o.contains(command), "{o}");
    }
    // Help text wraps to the terminal width: compare words, not lines.
    let help = ok(&db, &["project", "member", "add", "--help"])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(help.contains("--transfer"), "{help}");
    assert!(help.contains("creator (exactly one per project)"), "{help}");
    assert!(help.contains("placeholder user"), "{help}");
}

async fn member_added_by_cli_opens_private_project_to_that_user(db: TestDb) {
    with_project(&db);
    ok(&db, &["project", "set", SLUG, "access", "private"]);
    ok(
        &db,
        &[
            "project",
            "member",
            "add",
            SLUG,
            "ann@example.org",
            "collector",
        ],
    );
    let app = db.app().await;
    let user = app.find_user("ann@example.org").await.unwrap();
    let token = app.issue_user_token(&user).await.unwrap();
    let (_, actor) = app
        .app_user(SLUG, Some(&token), AppRoute::Read)
        .await
        .expect("a collector may use the app routes");
    assert_eq!(
        json!(actor.project_role.map(|r| r.as_str())),
        json!("collector")
    );
    app.store.close().await;
}

both_engines!(
    member_add_list_and_remove,
    member_add_second_creator_is_refused_and_transfer_hands_over,
    member_refusals_change_nothing,
    member_help_explains_roles_and_transfer,
    member_added_by_cli_opens_private_project_to_that_user,
);
