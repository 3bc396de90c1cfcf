//! Bearer checks on the export routes (docs/protocol.md §13.8), on both engines: every export route
//! × public/private × every kind of token gives exactly the status and code that section names.

mod oauth_support;

use oauth_support::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use quadrat_app::oauth::{KeyRing, KeySettings};
use quadrat_core::project_state::{ProjectSetting, ProjectStatus};
use quadrat_store::TokenRow;
use quadrat_testkit::{TestDb, TestServer, both_engines};
use serde_json::json;

/// Every export route that exists, as a path template.
const EXPORT_ROUTES: &[&str] = &["/api/export/project/{slug}", "/api/export/entries/{slug}"];

/// The `Authorization` headers of the matrix, named.
struct Headers {
    rows: Vec<(&'static str, Option<String>)>,
}

/// Projects: `PRIVATE` (the one asked for), `OTHER` (private, another app) and `PUBLIC`. The
/// headers all concern `PRIVATE`'s app except "another project's token".
async fn matrix_setup(server: &TestServer) -> Headers {
    import(server, None, "private").await;
    import(server, Some("Other Survey"), "private").await;
    import(server, Some("Public Survey"), "public").await;
    let private = project(server, PRIVATE).await;

    // A token whose app is then deleted (the project gets a new app afterwards).
    let doomed = create_app(server, PRIVATE).await;
    let deleted_app = token_for(server, &doomed).await;
    server.app.delete_client_app(&private).await.unwrap();

    let app = create_app(server, PRIVATE).await;
    let revoked = token_for(server, &app).await;
    server.app.revoke_client_tokens(&private).await.unwrap();
    let valid = token_for(server, &app).await;

    let other_app = create_app(server, OTHER).await;
    let other = token_for(server, &other_app).await;

    // Signed by a key this server does not know, with this server's key id: a bad signature.
    let stranger_dir = tempfile::tempdir().unwrap();
    let (stranger, _) =
        KeyRing::open_or_generate(KeySettings::in_data_dir(stranger_dir.path())).unwrap();
    let (_, claims) = jwt_parts(&valid);
    let claims: serde_json::Value = serde_json::from_str(&claims).unwrap();
    let forged = stranger.sign(&claims).unwrap();
    let mut valid_parts = valid.split('.');
    let wrong_signature = format!(
        "{}.{}.{}",
        valid_parts.next().unwrap(),
        valid_parts.next().unwrap(),
        forged.split('.').nth(2).unwrap()
    );

    // Signed by this server, stored, but expired an hour ago.
    let keys = server.app.config.keys.clone().unwrap();
    let now = quadrat_core::time::now_millis() / 1000;
    let jti = "e".repeat(80);
    let expired = keys
        .sign(&json!({
            "aud": app.client_id.to_string(), "jti": jti, "iat": now - 10_800,
            "nbf": now - 10_800, "exp": now - 3_600, "sub": "", "scopes": []
        }))
        .unwrap();
    server
        .app
        .store
        .insert_token(
            &TokenRow {
                id: jti,
                client_id: app.client_id,
                revoked: false,
                created_at: (now - 10_800) * 1000,
                expires_at: (now - 3_600) * 1000,
            },
            0,
        )
        .await
        .unwrap();

    let bearer = |t: &str| Some(format!("Bearer {t}"));
    Headers {
        rows: vec![
            ("no header", None),
            ("garbage", Some("Bearer garbage".into())),
            ("wrong signature", bearer(&wrong_signature)),
            ("expired", bearer(&expired)),
            ("revoked", bearer(&revoked)),
            ("deleted app", bearer(&deleted_app)),
            ("another project's token", bearer(&other)),
            ("valid token", bearer(&valid)),
        ],
    }
}

async fn export_access_matrix_matches_the_spec(db: TestDb) {
    let server = TestServer::start(&db).await;
    let headers = matrix_setup(&server).await;
    for route in EXPORT_ROUTES {
        for (slug, private) in [(PUBLIC, false), (PRIVATE, true)] {
            let path = route.replace("{slug}", slug);
            for (what, header) in &headers.rows {
                let reply = get(&server, &path, header.as_deref()).await;
                let expected = match (private, *what) {
                    (false, _) | (true, "valid token") => None,
                    (true, "another project's token") => Some("ec5_257"),
                    (true, _) => Some("ec5_256"),
                };
                match expected {
                    None => assert_eq!(reply.status, 200, "{path} {what}: {}", reply.body),
                    Some(code) => {
                        assert_eq!(reply.status, 404, "{path} {what}: {}", reply.body);
                        assert_eq!(
                            reply.error(),
                            (code.to_string(), "middleware".to_string()),
                            "{path} {what}"
                        );
                    }
                }
            }
        }
    }
}

async fn export_bearer_prefix_is_read_like_the_real_server(db: TestDb) {
    let server = TestServer::start(&db).await;
    import(&server, None, "private").await;
    let app = create_app(&server, PRIVATE).await;
    let token = token_for(&server, &app).await;
    let path = format!("/api/export/project/{PRIVATE}");
    for (header, status) in [
        (format!("Bearer {token}"), 200),
        (format!("Bearer\t{token}"), 200),
        (format!("  Bearer {token}  "), 200),
        // Without the prefix the header is taken whole, as league does.
        (token.clone(), 200),
        (format!("bearer {token}"), 404),
        (format!("BEARER {token}"), 404),
        (format!("Bearer{token}"), 404),
        (format!("Basic {token}"), 404),
        ("Bearer ".to_string(), 404),
    ] {
        let reply = get(&server, &path, Some(&header)).await;
        assert_eq!(reply.status, status, "{header:?}: {}", reply.body);
    }
    // Never from the query string.
    let reply = get(&server, &format!("{path}?access_token={token}"), None).await;
    assert_eq!(reply.error().0, "ec5_256");
}

async fn export_trashed_private_project_is_ec5_11_even_with_a_valid_token(db: TestDb) {
    let server = TestServer::start(&db).await;
    import(&server, None, "private").await;
    let app = create_app(&server, PRIVATE).await;
    let token = token_for(&server, &app).await;
    server
        .app
        .set_project_setting(PRIVATE, ProjectSetting::Status(ProjectStatus::Trashed))
        .await
        .unwrap();
    let reply = get(
        &server,
        &format!("/api/export/project/{PRIVATE}"),
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!((reply.status, reply.error().0.as_str()), (404, "ec5_11"));
}

async fn export_token_works_for_slug_however_typed(db: TestDb) {
    let server = TestServer::start(&db).await;
    import(&server, None, "private").await;
    let app = create_app(&server, PRIVATE).await;
    let token = token_for(&server, &app).await;
    let reply = get(
        &server,
        "/api/export/project/Tree%20Survey%202024",
        Some(&format!("Bearer {token}")),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// No Authorization header, however malformed, panics the server or answers anything but
/// 404 `ec5_256` on a private project, or 200 on a public one.
async fn export_any_authorization_header_is_denied_without_500(db: TestDb) {
    let server = TestServer::start(&db).await;
    import(&server, None, "private").await;
    import(&server, Some("Public Survey"), "public").await;
    let app = create_app(&server, PRIVATE).await;
    let token = token_for(&server, &app).await;
    let (header, _) = token.split_once('.').unwrap();
    let handle = tokio::runtime::Handle::current();
    let header_byte = prop_oneof![0x20u8..0x7f, 0x80u8..=0xff, Just(b'\t')];
    let segment = "[A-Za-z0-9_-]{0,40}";
    let value = prop_oneof![
        proptest::collection::vec(header_byte, 0..120),
        (segment, segment, segment)
            .prop_map(|(a, b, c)| format!("Bearer {a}.{b}.{c}").into_bytes()),
        (segment, segment).prop_map({
            let header = header.to_string();
            move |(b, c)| format!("Bearer {header}.{b}.{c}").into_bytes()
        }),
    ];
    let mut runner = TestRunner::new(Config {
        cases: 160,
        failure_persistence: None,
        ..Config::default()
    });
    let client = reqwest::Client::new();
    runner
        .run(&value, |value| {
            let Ok(v) = reqwest::header::HeaderValue::from_bytes(&value) else {
                return Ok(());
            };
            let (private, public) = tokio::task::block_in_place(|| {
                handle.block_on(async {
                    let send = |slug: &str| {
                        client
                            .get(server.url(&format!("/api/export/project/{slug}")))
                            .header("authorization", v.clone())
                            .send()
                    };
                    (
                        Reply::from(send(PRIVATE).await.unwrap()).await,
                        Reply::from(send(PUBLIC).await.unwrap()).await,
                    )
                })
            });
            prop_assert_eq!(private.status, 404, "{:?}: {}", value, private.body);
            prop_assert_eq!(private.error().0, "ec5_256");
            prop_assert_eq!(public.status, 200);
            Ok(())
        })
        .unwrap();
}

both_engines!(
    export_access_matrix_matches_the_spec,
    export_bearer_prefix_is_read_like_the_real_server,
    export_trashed_private_project_is_ec5_11_even_with_a_valid_token,
    export_token_works_for_slug_however_typed,
    export_any_authorization_header_is_denied_without_500,
);
