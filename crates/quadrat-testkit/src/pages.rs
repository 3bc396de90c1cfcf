//! A browser's part in HTTP tests of the web pages: one session cookie kept across requests,
//! redirects not followed (tests check them), and the CSRF token read from the last page.

use quadrat_app::App;
use quadrat_core::definition::{edit, extra, mapping};
use quadrat_core::project_state::{ProjectAccess, ProjectStatus};
use quadrat_store::NewProject;
use reqwest::StatusCode;
use serde_json::json;

use crate::{fixture, uploads};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};

/// One answer: status, headers, body.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.headers.get(LOCATION).and_then(|v| v.to_str().ok())
    }

    /// The first `name="_token" value="…"` of the page.
    pub fn csrf(&self) -> Option<String> {
        let at = self.body.find("name=\"_token\" value=\"")? + "name=\"_token\" value=\"".len();
        let end = self.body[at..].find('"')?;
        Some(self.body[at..at + end].to_string())
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// A visitor with a cookie jar of one: the session cookie.
pub struct Visitor {
    client: reqwest::Client,
    base: String,
    pub cookie: Option<String>,
    /// The `Set-Cookie` headers of the last answer.
    pub set_cookies: Vec<String>,
}

impl Visitor {
    pub fn new(base: &str) -> Visitor {
        Visitor {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
            base: base.to_string(),
            cookie: None,
            set_cookies: Vec::new(),
        }
    }

    fn keep(&mut self, response: &reqwest::Response) {
        self.set_cookies = response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        for c in &self.set_cookies {
            let pair = c.split(';').next().unwrap_or_default();
            if let Some(value) = pair.strip_prefix("quadrat_session=") {
                self.cookie = (!value.is_empty()).then(|| value.to_string());
            }
        }
    }

    async fn finish(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = match &self.cookie {
            Some(c) => request.header("cookie", format!("quadrat_session={c}")),
            None => request,
        };
        let response = request
            .header("accept", "text/html")
            .send()
            .await
            .expect("a response");
        self.keep(&response);
        Page {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.expect("a body"),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(format!("{}{path}", self.base));
        self.finish(request).await
    }

    /// Posts `fields` as a url-encoded form.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields);
        self.finish(request).await
    }

    /// Posts `fields` with the CSRF token of the page at `form_page` (fetched first).
    pub async fn submit(&mut self, form_page: &str, path: &str, fields: &[(&str, &str)]) -> Page {
        let token = self
            .get(form_page)
            .await
            .csrf()
            .expect("a form with a token");
        let mut all = vec![("_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }

    /// Logs in through the login page; panics unless it redirects.
    pub async fn log_in(&mut self, email: &str, password: &str) {
        let page = self
            .submit(
                "/login",
                "/login",
                &[("email", email), ("password", password)],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
}

/// Stores a public project named `name` (its description, a form name and a question hold
/// markup too), as data moved from elsewhere might: the import refuses `<` and `>`, so it goes
/// straight to the store. Returns its slug.
pub async fn markup_project(app: &App, name: &str) -> String {
    let file = fixture("tree-survey-2024.json");
    let fresh = "0123456789abcdef0123456789abcdef";
    let mut data = edit::replace_project_ref(&file["data"], uploads::PROJECT_REF, fresh);
    let slug = quadrat_core::slug::normalize(name);
    edit::set_project_field(&mut data, "ref", json!(fresh));
    edit::set_project_field(&mut data, "name", json!(name));
    edit::set_project_field(&mut data, "slug", json!(slug));
    data["project"]["forms"][0]["inputs"][0]["question"] = json!("<img src=x onerror=alert(2)>");
    data["project"]["forms"][0]["name"] = json!("<b onmouseover=alert(3)>Sites</b>");
    let project = NewProject {
        project_ref: fresh.into(),
        name: name.into(),
        slug: slug.clone(),
        access: ProjectAccess::Public.as_str().into(),
        visibility: "listed".into(),
        status: ProjectStatus::Active.as_str().into(),
        category: "general".into(),
        small_description: "<i>markup</i> in a description".into(),
        description: "<script>alert(4)</script>".into(),
        can_bulk_upload: "nobody".into(),
        created_by: None,
        definition: data.to_string(),
        extra: extra::project_extra(&data).to_string(),
        mapping: mapping::regenerate(&data, None).to_string(),
        now: 1_717_400_000_000,
    };
    app.store
        .insert_project(&project)
        .await
        .expect("storing the markup project");
    slug
}

/// The public project the data pages' tests browse: "All Input Types" with `n` entries of its
/// first form (all at one place), each with a branch entry for the first three and a child
/// entry for the first, and one entry (the newest) holding a real photo and a playable WAV
/// sound.
pub struct DataProject {
    pub slug: String,
    pub form_ref: String,
    pub child_form_ref: String,
    pub branch_ref: String,
    /// The entry with the media files.
    pub media_uuid: String,
    pub entries: usize,
}

/// Half a second of silence as a 8 kHz, 8-bit mono WAV file.
pub fn wav_bytes() -> Vec<u8> {
    let samples = 4000u32;
    let mut v = Vec::with_capacity(44 + samples as usize);
    v.extend_from_slice(b"RIFF");
    v.extend_from_slice(&(36 + samples).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes()); // PCM
    v.extend_from_slice(&1u16.to_le_bytes()); // mono
    v.extend_from_slice(&8000u32.to_le_bytes());
    v.extend_from_slice(&8000u32.to_le_bytes());
    v.extend_from_slice(&1u16.to_le_bytes());
    v.extend_from_slice(&8u16.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&samples.to_le_bytes());
    v.resize(44 + samples as usize, 128);
    v
}

pub async fn data_project(app: &App, n: usize) -> DataProject {
    use quadrat_app::projects::ImportOptions;
    let imported = app
        .import_project(
            &fixture("all-types.json"),
            &ImportOptions {
                access: Some(ProjectAccess::Public),
                ..Default::default()
            },
        )
        .await
        .expect("importing all-types");
    let project = app.find_project(&imported.slug).await.unwrap();
    let def = project.definition().unwrap();
    let v = uploads::version_of(&project);
    let form_ref = def.forms[0].form_ref.0.clone();
    let child_form_ref = def.forms[1].form_ref.0.clone();
    let find = |suffix: &str| {
        def.all_inputs()
            .into_iter()
            .find(|i| i.input_ref.as_str().ends_with(suffix))
            .map(|i| i.input_ref.0.clone())
            .unwrap_or_else(|| panic!("input {suffix}"))
    };
    let (branch_ref, photo, audio) = (
        find("665b2e9d2e3d6"),
        find("665b2d73c91d6"),
        find("665b2dad62c4a"),
    );
    let mut media_uuid = String::new();
    for i in 0..n {
        let uuid = uploads::new_uuid();
        let mut entry = uploads::valid_entry(&def, &v, &form_ref, &uuid, None, i as u32 + 1);
        let last = i + 1 == n;
        if last {
            entry["entry"]["answers"][&audio]["answer"] = json!(format!("{uuid}_1717406127.wav"));
        }
        uploads::ingest_entry(app, &project, &entry).await;
        if i < 3 {
            let b = uploads::new_uuid();
            let branch =
                uploads::valid_branch_entry(&def, &v, &form_ref, &branch_ref, &b, &uuid, 7);
            uploads::ingest_entry(app, &project, &branch).await;
        }
        if i == 0 {
            let c = uploads::new_uuid();
            let child =
                uploads::valid_entry(&def, &v, &child_form_ref, &c, Some((&form_ref, &uuid)), 9);
            uploads::ingest_entry(app, &project, &child).await;
        }
        if last {
            let name = |ext: &str| format!("{uuid}_1717406127.{ext}");
            uploads::ingest_file(
                app,
                &project,
                &uploads::valid_file_entry(&v, &form_ref, &uuid, &photo, "photo", &name("jpg")),
                &uploads::photo_bytes(),
            )
            .await;
            uploads::ingest_file(
                app,
                &project,
                &uploads::valid_file_entry(&v, &form_ref, &uuid, &audio, "audio", &name("wav")),
                &wav_bytes(),
            )
            .await;
            media_uuid = uuid;
        }
    }
    DataProject {
        slug: project.slug.clone(),
        form_ref,
        child_form_ref,
        branch_ref,
        media_uuid,
        entries: n,
    }
}
