//! Uploads for tests: the worked example's payloads (docs/protocol.md §16.3) on the
//! tree-survey fixture, request helpers for the upload route, and a snapshot of everything an
//! upload may change, to show that a refused one changed nothing.

use quadrat_app::App;
use quadrat_app::projects::{ImportOptions, ResolvedProject};
use quadrat_store::{BranchEntryRow, CounterRow, EntryRow, MediaTotalsRow};
use serde_json::{Value, json};

use crate::{TestServer, fixture};

pub const SLUG: &str = "tree-survey-2024";
pub const PROJECT_REF: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50";
pub const SITES: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4";
pub const VISITS: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c5d7e3a1";
pub const SITE_NAME: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c41b2c01";
pub const TREE_COUNT: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c4a3d902";
pub const SURVEY_DATE: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c52e8a13";
pub const ACCESSIBLE: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c5b1f224";
pub const SPECIES: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c63c4d35";
pub const LOCATION: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c6e9b446";
pub const PHOTO: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c7750557";
pub const TREES: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c7f2a668";
pub const WEATHER: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c96d7e79";
pub const TEMPERATURE: &str =
    "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c96d7e79_665b0ca0c3d01";
pub const CLOUD: &str =
    "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c96d7e79_665b0ca6e4f02";
pub const TREE_TAG: &str =
    "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c7f2a668_665b0c8a11a01";
pub const TRUNK: &str =
    "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4_665b0c7f2a668_665b0c8f55b02";
pub const VISIT_DATE: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c5d7e3a1_665b0cc2a1b01";
pub const NOTES: &str = "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c5d7e3a1_665b0cc9d2e02";
pub const SITE_UUID: &str = "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90";
pub const TREE_UUID: &str = "b8e4d2c1-3f5a-4e6b-8c7d-9a0b1c2d3e4f";
pub const VISIT_UUID: &str = "0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b";
pub const PHOTO_NAME: &str = "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90_1717406127.jpg";

/// Imports the tree-survey fixture (docs/protocol.md §16.1) and returns it resolved.
pub async fn import_tree_survey(app: &App) -> ResolvedProject {
    app.import_project(&fixture("tree-survey-2024.json"), &ImportOptions::default())
        .await
        .expect("importing the worked example");
    app.find_project(SLUG).await.expect("finding it again")
}

/// The project version an app would send: the stored structure version.
pub fn version_of(project: &ResolvedProject) -> String {
    quadrat_core::time::sql_datetime(project.structure.updated_at)
}

/// docs/protocol.md §16.3: a Sites entry.
pub fn site_entry(version: &str) -> Value {
    json!({
        "type": "entry",
        "id": SITE_UUID,
        "attributes": {"form": {"ref": SITES, "type": "hierarchy"}},
        "relationships": {"parent": {}, "branch": {}},
        "entry": {
            "entry_uuid": SITE_UUID,
            "created_at": "2024-06-03T09:15:27.412Z",
            "device_id": "3f2a9c1e7b6d5a40",
            "platform": "Android",
            "title": "Oak Ridge",
            "answers": {
                SITE_NAME: {"answer": "Oak Ridge", "was_jumped": false},
                TREE_COUNT: {"answer": "37", "was_jumped": false},
                SURVEY_DATE: {"answer": "2024-06-03T00:00:00.000", "was_jumped": false},
                ACCESSIBLE: {"answer": "665b0c5f0a1b5", "was_jumped": false},
                SPECIES: {"answer": ["665b0c66a7e01", "665b0c66a7e03"], "was_jumped": false},
                LOCATION: {"answer": {"latitude": 51.4987654321, "longitude": -0.1748765432, "accuracy": 6.5}, "was_jumped": false},
                PHOTO: {"answer": PHOTO_NAME, "was_jumped": false},
                TREES: {"answer": "", "was_jumped": false},
                WEATHER: {"answer": "", "was_jumped": false},
                TEMPERATURE: {"answer": "14.5", "was_jumped": false},
                CLOUD: {"answer": "665b0cab10a12", "was_jumped": false}
            },
            "project_version": version
        }
    })
}

/// A Sites entry of its own: `uuid`, site `name`, the rest minimal.
pub fn another_site(version: &str, uuid: &str, name: &str) -> Value {
    let mut v = site_entry(version);
    v["id"] = json!(uuid);
    v["entry"]["entry_uuid"] = json!(uuid);
    v["entry"]["title"] = json!(name);
    v["entry"]["answers"][SITE_NAME]["answer"] = json!(name);
    v["entry"]["answers"][PHOTO]["answer"] = json!("");
    v
}

/// docs/protocol.md §16.3: a tree (branch entry) of the site.
pub fn tree_entry(version: &str) -> Value {
    json!({
        "type": "branch_entry",
        "id": TREE_UUID,
        "attributes": {"form": {"ref": SITES, "type": "hierarchy"}},
        "relationships": {
            "parent": {},
            "branch": {"data": {"owner_input_ref": TREES, "owner_entry_uuid": SITE_UUID}}
        },
        "branch_entry": {
            "entry_uuid": TREE_UUID,
            "created_at": "2024-06-03T09:18:02.077Z",
            "device_id": "3f2a9c1e7b6d5a40",
            "platform": "Android",
            "title": "T-0042",
            "answers": {
                TREE_TAG: {"answer": "T-0042", "was_jumped": false},
                TRUNK: {"answer": "187.5", "was_jumped": false}
            },
            "project_version": version
        }
    })
}

/// A tree of its own under `owner`.
pub fn another_tree(version: &str, uuid: &str, owner: &str, tag: &str) -> Value {
    let mut v = tree_entry(version);
    v["id"] = json!(uuid);
    v["branch_entry"]["entry_uuid"] = json!(uuid);
    v["branch_entry"]["title"] = json!(tag);
    v["branch_entry"]["answers"][TREE_TAG]["answer"] = json!(tag);
    v["relationships"]["branch"]["data"]["owner_entry_uuid"] = json!(owner);
    v
}

/// docs/protocol.md §16.3: a visit (child entry) of the site.
pub fn visit_entry(version: &str) -> Value {
    json!({
        "type": "entry",
        "id": VISIT_UUID,
        "attributes": {"form": {"ref": VISITS, "type": "hierarchy"}},
        "relationships": {
            "parent": {"data": {"parent_form_ref": SITES, "parent_entry_uuid": SITE_UUID}},
            "branch": {}
        },
        "entry": {
            "entry_uuid": VISIT_UUID,
            "created_at": "2024-06-10T14:02:11.950Z",
            "device_id": "3f2a9c1e7b6d5a40",
            "platform": "Android",
            "title": "10/06/2024",
            "answers": {
                VISIT_DATE: {"answer": "2024-06-10T00:00:00.000", "was_jumped": false},
                NOTES: {"answer": "Two new saplings near the gate.", "was_jumped": false}
            },
            "project_version": version
        }
    })
}

/// A visit of its own under `parent`.
pub fn another_visit(version: &str, uuid: &str, parent: &str) -> Value {
    let mut v = visit_entry(version);
    v["id"] = json!(uuid);
    v["entry"]["entry_uuid"] = json!(uuid);
    v["relationships"]["parent"]["data"]["parent_entry_uuid"] = json!(parent);
    v
}

/// docs/protocol.md §16.3: the payload of the site's photo (the multipart `data` field).
pub fn photo_entry(version: &str) -> Value {
    json!({
        "type": "file_entry",
        "id": SITE_UUID,
        "attributes": {"form": {"ref": SITES, "type": "hierarchy"}},
        "relationships": {"parent": {}, "branch": {}},
        "file_entry": {
            "entry_uuid": SITE_UUID,
            "name": PHOTO_NAME,
            "type": "photo",
            "input_ref": PHOTO,
            "project_version": version,
            "created_at": "2024-06-03T09:15:27.412Z",
            "device_id": "3f2a9c1e7b6d5a40",
            "platform": "Android"
        }
    })
}

/// A real JPEG of the app's size (a gradient), as the app sends it.
pub fn photo_bytes() -> Vec<u8> {
    jpeg(1024, 768)
}

/// A real, decodable JPEG of `width` x `height`: a gradient, so resizing shows.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    gradient(width, height, image::ImageFormat::Jpeg)
}

/// The same as a PNG.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    gradient(width, height, image::ImageFormat::Png)
}

fn gradient(width: u32, height: u32, format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 96])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format)
        .expect("encoding a test image");
    out.into_inner()
}

/// The width and height of a stored JPEG, decoding it (panics on anything else).
pub fn jpeg_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(
        image::guess_format(bytes).expect("an image"),
        image::ImageFormat::Jpeg
    );
    let img = image::load_from_memory(bytes).expect("a decodable JPEG");
    (img.width(), img.height())
}

const BOUNDARY: &str = "----ec5boundary";

/// A `multipart/form-data` body with the `data` field and, when given, the `name` file part.
/// Returns the content type and the bytes.
pub fn multipart(data: &str, file: Option<(&str, &str, &[u8])>) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{data}\r\n")
            .as_bytes(),
    );
    if let Some((filename, content_type, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"name\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}

/// An answer of the upload route.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// `(code, source)` of every error.
    pub fn errors(&self) -> Vec<(String, String)> {
        self.json()["errors"]
            .as_array()
            .map(|errs| {
                errs.iter()
                    .map(|e| {
                        (
                            e["code"].as_str().unwrap_or_default().to_string(),
                            e["source"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn is_uploaded(&self) -> bool {
        self.status == 200
            && self.body == r#"{"data":{"code":"ec5_237","title":"Entry successfully uploaded."}}"#
    }
}

/// Posts raw bytes to `/api/upload/{slug}` with a content type and an optional bearer token.
pub async fn post_raw(
    server: &TestServer,
    slug: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
    bearer: Option<&str>,
) -> Answer {
    let client = reqwest::Client::new();
    let mut request = client.post(server.url(&format!("/api/upload/{slug}")));
    if let Some(ct) = content_type {
        request = request.header("content-type", ct);
    }
    if let Some(token) = bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.body(body).send().await.expect("upload request");
    Answer {
        status: response.status().as_u16(),
        body: response.text().await.expect("upload answer"),
    }
}

/// Posts `{"data": data}` as the app does (`application/vnd.api+json`).
pub async fn post_entry(server: &TestServer, slug: &str, data: &Value) -> Answer {
    let body = serde_json::to_vec(&json!({ "data": data })).expect("encoding");
    post_raw(server, slug, Some("application/vnd.api+json"), body, None).await
}

/// Posts a file entry: its payload and file as the app's multipart body.
pub async fn post_file(
    server: &TestServer,
    slug: &str,
    data: &Value,
    file: Option<(&str, &str, &[u8])>,
) -> Answer {
    let (content_type, body) = multipart(&data.to_string(), file);
    post_raw(server, slug, Some(&content_type), body, None).await
}

/// Everything an upload may change in a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub entries: Vec<EntryRow>,
    pub branch_entries: Vec<BranchEntryRow>,
    pub counters: Vec<CounterRow>,
    pub media: MediaTotalsRow,
    pub files: Vec<String>,
}

pub async fn snapshot(app: &App, project: &ResolvedProject) -> Snapshot {
    let id = project.id;
    let mut counters = app.store.counters(id).await.expect("counters");
    counters.sort_by(|a, b| (&a.form_ref, &a.branch_ref).cmp(&(&b.form_ref, &b.branch_ref)));
    let mut files = Vec::new();
    for kind in quadrat_core::entry::MediaKind::ALL {
        for f in app
            .media()
            .list(kind, &project.project_ref)
            .await
            .expect("media")
        {
            files.push(format!("{}/{}:{}", kind.as_str(), f.name, f.bytes));
        }
    }
    Snapshot {
        entries: app.store.entry_rows(id).await.expect("entries"),
        branch_entries: app
            .store
            .branch_entry_rows(id)
            .await
            .expect("branch entries"),
        counters,
        media: app.store.media_totals(id).await.expect("media totals"),
        files,
    }
}

use quadrat_core::definition::{Definition, Input, InputType};

/// A valid answer for any input; `seed` varies the values of inputs that must be unique.
pub fn valid_answer(input: &Input, uuid: &str, seed: u32) -> Value {
    let first_ref = || {
        input
            .possible_answers
            .first()
            .map(|p| p.answer_ref.clone())
            .unwrap_or_default()
    };
    let unique = input.uniqueness != "none";
    match input.kind {
        InputType::Text | InputType::Textarea | InputType::Phone | InputType::Barcode => {
            match input.regex.as_deref() {
                Some(r"^[A-Z]{2}-[0-9]{3}$") => json!(format!("AB-{:03}", seed % 1000)),
                Some(r"^[0-9 +]{6,20}$") => json!(format!("+44 {:06}", seed)),
                Some(r"^ST[0-9]{3}$") => json!(format!("ST{:03}", seed % 1000)),
                _ if unique => json!(format!("value {seed}")),
                _ => json!("some text"),
            }
        }
        InputType::Integer => {
            let min: i64 = input
                .min
                .as_deref()
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            let max: i64 = input
                .max
                .as_deref()
                .and_then(|m| m.parse().ok())
                .unwrap_or(1_000_000);
            json!((min + i64::from(seed) % (max - min + 1).max(1)).to_string())
        }
        InputType::Decimal => {
            let min: f64 = input
                .min
                .as_deref()
                .and_then(|m| m.parse().ok())
                .unwrap_or(0.0);
            json!(format!("{}", min + 0.5))
        }
        InputType::Date => {
            let day = 1 + seed % 28;
            let month = 1 + (seed / 28) % 12;
            let year = 2000 + seed / 336;
            json!(format!("{year:04}-{month:02}-{day:02}T00:00:00.000"))
        }
        InputType::Time => json!(format!(
            "2024-06-03T{:02}:{:02}:{:02}.000",
            seed / 3600 % 24,
            seed / 60 % 60,
            seed % 60
        )),
        InputType::Radio | InputType::Dropdown => json!(first_ref()),
        InputType::Checkbox | InputType::SearchSingle | InputType::SearchMultiple => {
            json!([first_ref()])
        }
        InputType::Location => json!({"latitude": 51.5, "longitude": -0.12, "accuracy": 5}),
        InputType::Photo => json!(format!("{uuid}_1717406127.jpg")),
        InputType::Audio | InputType::Video => json!(format!("{uuid}_1717406127.mp4")),
        InputType::Branch | InputType::Group | InputType::Readme => json!(""),
    }
}

fn valid_answers(inputs: &[Input], uuid: &str, seed: u32) -> Value {
    let mut answers = serde_json::Map::new();
    for input in quadrat_core::entry::answerable_inputs(inputs) {
        answers.insert(
            input.input_ref.0.clone(),
            json!({"answer": valid_answer(input, uuid, seed), "was_jumped": false}),
        );
    }
    Value::Object(answers)
}

/// A valid entry of any form of `def`; `parent` is `(parent form ref, parent uuid)` for
/// child forms.
pub fn valid_entry(
    def: &Definition,
    version: &str,
    form_ref: &str,
    uuid: &str,
    parent: Option<(&str, &str)>,
    seed: u32,
) -> Value {
    let form = def.form(form_ref).expect("a form of the definition");
    let parent = match parent {
        Some((form, uuid)) => json!({"data": {"parent_form_ref": form, "parent_entry_uuid": uuid}}),
        None => json!({}),
    };
    json!({
        "type": "entry",
        "id": uuid,
        "attributes": {"form": {"ref": form_ref, "type": "hierarchy"}},
        "relationships": {"parent": parent, "branch": {}},
        "entry": {
            "entry_uuid": uuid,
            "created_at": "2024-06-03T09:15:27.412Z",
            "device_id": "device-1",
            "platform": "Android",
            "title": "",
            "answers": valid_answers(&form.inputs, uuid, seed),
            "project_version": version
        }
    })
}

/// A valid branch entry of `branch_ref` (a branch input of `form_ref`) under `owner`.
pub fn valid_branch_entry(
    def: &Definition,
    version: &str,
    form_ref: &str,
    branch_ref: &str,
    uuid: &str,
    owner: &str,
    seed: u32,
) -> Value {
    let branch = def.input(branch_ref).expect("a branch input");
    json!({
        "type": "branch_entry",
        "id": uuid,
        "attributes": {"form": {"ref": form_ref, "type": "hierarchy"}},
        "relationships": {
            "parent": {},
            "branch": {"data": {"owner_input_ref": branch_ref, "owner_entry_uuid": owner}}
        },
        "branch_entry": {
            "entry_uuid": uuid,
            "created_at": "2024-06-03T09:18:02.077Z",
            "device_id": "device-1",
            "platform": "Android",
            "title": "",
            "answers": valid_answers(&branch.branch, uuid, seed),
            "project_version": version
        }
    })
}

/// A fresh lowercase uuid.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A file entry's payload for any media input.
pub fn valid_file_entry(
    version: &str,
    form_ref: &str,
    uuid: &str,
    input_ref: &str,
    kind: &str,
    name: &str,
) -> Value {
    json!({
        "type": "file_entry",
        "id": uuid,
        "attributes": {"form": {"ref": form_ref, "type": "hierarchy"}},
        "relationships": {"parent": {}, "branch": {}},
        "file_entry": {
            "entry_uuid": uuid,
            "name": name,
            "type": kind,
            "input_ref": input_ref,
            "project_version": version,
            "created_at": "2024-06-03T09:15:27.412Z",
            "device_id": "device-1",
            "platform": "Android"
        }
    })
}

/// The first bytes of an MP4 file, enough for the content check.
pub fn mp4_bytes() -> Vec<u8> {
    let mut v = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    v.resize(512, 0);
    v
}

/// Stores a media file through the upload use-case, as an anonymous app user.
pub async fn ingest_file(app: &App, project: &ResolvedProject, data: &Value, bytes: &[u8]) {
    let mut upload = app.media().temp_upload().await.expect("temporary file");
    upload.write(bytes).await.expect("writing it");
    app.ingest(
        project,
        &quadrat_core::roles::Actor::anonymous(),
        data,
        Some(upload),
    )
    .await
    .expect("storing the file");
}

/// Stores `n` more Sites entries (named `S0`, `S1`, …, each with a new uuid); their uuids.
pub async fn ingest_sites(app: &App, project: &ResolvedProject, n: usize) -> Vec<String> {
    let version = version_of(project);
    let mut uuids = Vec::with_capacity(n);
    for i in 0..n {
        let uuid = new_uuid();
        let site = another_site(&version, &uuid, &format!("S{i}"));
        ingest_entry(app, project, &site).await;
        uuids.push(uuid);
    }
    uuids
}

/// Stores an entry or branch entry through the upload use-case, as an anonymous app user.
pub async fn ingest_entry(app: &App, project: &ResolvedProject, data: &Value) {
    app.ingest(
        project,
        &quadrat_core::roles::Actor::anonymous(),
        data,
        None,
    )
    .await
    .unwrap_or_else(|e| panic!("storing {data}: {e}"));
}

/// The stored `entry_data` of the worked example's site (every input type), with `{uuid}` in
/// place of its uuid: the template of `Store::seed_entries_for_bench`. The site must be stored.
pub async fn site_template(app: &App, project: &ResolvedProject) -> String {
    app.store
        .entry_row(project.id, SITE_UUID)
        .await
        .expect("reading the site")
        .expect("the worked example's site is stored")
        .entry_data
        .replace(SITE_UUID, "{uuid}")
}
