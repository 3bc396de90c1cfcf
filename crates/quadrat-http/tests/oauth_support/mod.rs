//! What the OAuth, access and rate-limit tests share: projects with client apps, token
//! requests, error envelopes.
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use quadrat_app::oauth::ClientSecret;
use quadrat_app::projects::{ImportOptions, ResolvedProject};
use quadrat_testkit::{TestServer, fixture};
use serde_json::Value;

pub const PRIVATE: &str = "tree-survey-2024";
pub const OTHER: &str = "other-survey";
pub const PUBLIC: &str = "public-survey";

/// Imports the worked example as `name` with `access` (fresh refs unless it is the original).
pub async fn import(server: &TestServer, name: Option<&str>, access: &str) {
    server
        .app
        .import_project(
            &fixture("tree-survey-2024.json"),
            &ImportOptions {
                name: name.map(str::to_string),
                access: Some(access.parse().expect("public or private")),
                new_ref: name.is_some(),
                created_by: None,
                slug: None,
            },
        )
        .await
        .expect("importing the worked example");
}

pub async fn project(server: &TestServer, slug: &str) -> ResolvedProject {
    server.app.find_project(slug).await.expect("project")
}

/// Creates the client app of `slug`.
pub async fn create_app(server: &TestServer, slug: &str) -> ClientSecret {
    let p = project(server, slug).await;
    server
        .app
        .create_client_app(&p, "Test App", None)
        .await
        .expect("creating the app")
}

/// A response's status, headers and body.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Reply {
    pub async fn from(response: reqwest::Response) -> Reply {
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.expect("body"),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// `(code, source)` of the first error.
    pub fn error(&self) -> (String, String) {
        let v = self.json();
        let e = &v["errors"][0];
        (
            e["code"].as_str().unwrap_or_default().into(),
            e["source"].as_str().unwrap_or_default().into(),
        )
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// `POST /api/oauth/token` with a form body.
pub async fn token_form(server: &TestServer, fields: &[(&str, &str)]) -> Reply {
    let response = reqwest::Client::new()
        .post(server.url("/api/oauth/token"))
        .form(fields)
        .send()
        .await
        .expect("token request");
    Reply::from(response).await
}

/// A token for `secret`'s client, asked for as a form.
pub async fn token_for(server: &TestServer, secret: &ClientSecret) -> String {
    let id = secret.client_id.to_string();
    let reply = token_form(
        server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret.client_secret),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["access_token"].as_str().unwrap().to_string()
}

/// `GET path` with an optional raw `Authorization` value.
pub async fn get(server: &TestServer, path: &str, authorization: Option<&str>) -> Reply {
    let mut request = reqwest::Client::new().get(server.url(path));
    if let Some(a) = authorization {
        request = request.header("authorization", a);
    }
    Reply::from(request.send().await.expect("request")).await
}

/// The decoded header and claims of a JWT, as text (to check key order) and as JSON.
pub fn jwt_parts(token: &str) -> (String, String) {
    let mut parts = token.split('.');
    let mut next =
        || String::from_utf8(URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap()).unwrap();
    (next(), next())
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}
