//! The OpenAPI 3.1 document served at `/api/openapi.json` (docs/protocol.md §17.10): built from
//! the route table's paths (so a route cannot be mounted without showing up, and a test fails
//! when one lacks a description) and the hand-written descriptions below. The Epicollect5
//! error envelope is a shared schema with examples.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use quadrat_app::Extensions;
use quadrat_core::project_state::ProjectAccess;
use serde_json::{Map, Value, json};

/// Where the document is served.
pub const PATH: &str = "/api/openapi.json";

/// The answer: the document as JSON.
pub fn respond(document: &Value) -> Response {
    let mut response = document.to_string().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The document for `paths` (the table's API paths, in order). A path without a description
/// is left out, which the route-table test reports.
pub fn document(paths: &[String], extensions: Extensions) -> Value {
    let mut items = Map::new();
    for path in paths.iter().map(String::as_str).chain([PATH]) {
        if path == PATH && !extensions.openapi {
            continue;
        }
        if let Some(item) = describe(path, extensions) {
            items.insert(path.to_string(), item);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Quadrat",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "An Epicollect5-compatible server. The compatible surface answers as \
                five.epicollect.net does (docs/protocol.md); the operations tagged `extension` are \
                Quadrat's own additions, switched off by `compat.strict = true`.",
        },
        "tags": [
            {"name": "export", "description": "The public export API."},
            {"name": "app", "description": "What the mobile app calls."},
            {"name": "auth", "description": "Logins and client-app tokens."},
            {"name": "apps", "description": "A project's client apps (JSON API of the Apps page)."},
            {"name": "extension", "description": "Quadrat's additions beyond the real server."},
        ],
        "paths": items,
        "components": components(),
    })
}

fn slug() -> Value {
    json!({"name": "slug", "in": "path", "required": true, "schema": {"type": "string"},
           "description": "The project slug (any case; spaces and dashes as in its name)."})
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "schema": schema,
           "description": description})
}

fn text() -> Value {
    json!({"type": "string"})
}

/// An error answer: the envelope with one example (an ec5 code's title from the code table).
fn error(description: &str, code: &str, title: &str, source: &str) -> Value {
    let title = quadrat_core::codes::title(code).unwrap_or(title);
    json!({
        "description": description,
        "content": {"application/vnd.api+json": {
            "schema": {"$ref": "#/components/schemas/Ec5Errors"},
            "example": {"errors": [{"code": code, "title": title, "source": source}]},
        }},
    })
}

fn ok_json(description: &str, schema: Value) -> Value {
    json!({"description": description,
           "content": {"application/vnd.api+json; charset=utf-8": {"schema": schema}}})
}

fn not_found_project() -> Value {
    error(
        "Private project without a valid bearer token, or no such project.",
        "ec5_256",
        "Access denied to this project.",
        "api",
    )
}

fn too_many() -> Value {
    json!({"$ref": "#/components/responses/TooManyRequests"})
}

/// The entries export's parameters (docs/protocol.md §8.2).
fn entries_parameters(geojson: bool) -> Vec<Value> {
    let mut p = vec![
        slug(),
        query("form_ref", "The form (default: the first).", text()),
        query(
            "parent_form_ref",
            "With parent_uuid: the parent's form.",
            text(),
        ),
        query(
            "branch_ref",
            "Branch mode: a branch input of the form.",
            text(),
        ),
        query("branch_owner_uuid", "Branch mode: the owner entry.", text()),
        query("parent_uuid", "The children of this entry.", text()),
        query("uuid", "One entry.", text()),
        query(
            "input_ref",
            "Validated and echoed (with format=geojson: the location input to map).",
            text(),
        ),
        query(
            "per_page",
            "1-1000, default 50.",
            json!({"type": "integer"}),
        ),
        query("page", "1-based.", json!({"type": "integer"})),
        query(
            "sort_by",
            "created_at (default), uploaded_at or title.",
            json!({"type": "string", "enum": ["created_at", "uploaded_at", "title"]}),
        ),
        query(
            "sort_order",
            "DESC (default) or ASC.",
            json!({"type": "string", "enum": ["ASC", "DESC", "asc", "desc"]}),
        ),
        query(
            "map_index",
            "The mapping (default: the project's default).",
            json!({"type": "integer"}),
        ),
        query(
            "filter_by",
            "created_at or uploaded_at.",
            json!({"type": "string", "enum": ["created_at", "uploaded_at"]}),
        ),
        query(
            "filter_from",
            "Inclusive lower bound (a date or date-time).",
            text(),
        ),
        query(
            "filter_to",
            "Inclusive upper bound (a whole day when a date).",
            text(),
        ),
        query(
            "headers",
            "CSV: write the header row (default true).",
            json!({"type": "string", "enum": ["true", "false"]}),
        ),
        query("title", "Case-insensitive substring of the title.", text()),
    ];
    let formats: Vec<&str> = if geojson {
        vec!["json", "csv", "geojson"]
    } else {
        vec!["json", "csv"]
    };
    p.insert(
        16,
        query(
            "format",
            "json (default) or csv; geojson (Quadrat extension) gives a GeoJSON FeatureCollection.",
            json!({"type": "string", "enum": formats}),
        ),
    );
    if geojson {
        p.push(query(
            "locations",
            "GeoJSON: first (default) or all location inputs.",
            json!({"type": "string", "enum": ["first", "all"]}),
        ));
        p.push(query(
            "include_unlocated",
            "GeoJSON: also rows without a point (geometry null).",
            json!({"type": "string", "enum": ["true", "false"]}),
        ));
    }
    p
}

fn describe(path: &str, ext: Extensions) -> Option<Value> {
    let legacy = |p: &str| p.starts_with("/api/json/");
    let note = if legacy(path) {
        " The /api/json/ alias answers as the path without it."
    } else {
        ""
    };
    let item = match path.replace("/api/json/", "/api/").as_str() {
        "/api/export/project/{slug}" => json!({"get": {
        "tags": ["export"], "operationId": "exportProject",
        "summary": "A project's definition, mappings and stats (docs/protocol.md §7).",
        "parameters": [slug()],
        "security": [{}, {"clientCredentials": []}],
        "responses": {
            "200": ok_json("The project.", json!({"type": "object", "required": ["meta", "data"]})),
            "404": not_found_project(), "429": too_many(),
        }}}),
        "/api/export/entries/{slug}" => json!({"get": {
        "tags": ["export"], "operationId": "exportEntries",
        "summary": "One page of entries as JSON or CSV (docs/protocol.md §8).",
        "parameters": entries_parameters(ext.geojson),
        "security": [{}, {"clientCredentials": []}],
        "responses": {
            "200": {"description": "A page of entries.", "content": {
                "application/vnd.api+json; charset=utf-8": {"schema": {"$ref": "#/components/schemas/EntriesPage"}},
                "text/csv; charset=utf-8": {"schema": {"type": "string"}},
                "application/geo+json": {"schema": {"type": "object", "required": ["type", "features"],
                    "properties": {"type": {"const": "FeatureCollection"}, "features": {"type": "array"}}}},
            }},
            "400": error("A parameter is invalid.", "ec5_335", "Too many entries requested.", "api"),
            "404": not_found_project(), "429": too_many(),
        }}}),
        "/api/export/changes/{slug}" => json!({"get": {
        "tags": ["export", "extension"], "operationId": "exportChanges",
        "summary": "The changes feed: every change after a cursor, deletions included (docs/protocol.md §17). Quadrat extension.",
        "parameters": [
            slug(),
            query("cursor", "meta.next_cursor of the previous page; none to start.", text()),
            query("per_page", "1-1000, default 50.", json!({"type": "integer"})),
            query("form_ref", "Only this form's entries and the branch entries it owns.", text()),
            query("branch_ref", "Only this branch input's entries.", text()),
            query("map_index", "The mapping the entries are rendered with.", json!({"type": "integer"})),
            query("format", "json (default) or csv (needs form_ref).", json!({"type": "string", "enum": ["json", "csv"]})),
            query("headers", "CSV: write the header row (default true).", json!({"type": "string", "enum": ["true", "false"]})),
        ],
        "security": [{}, {"clientCredentials": []}],
        "responses": {
            "200": {
                "description": "A page of changes.",
                "headers": {
                    "X-Quadrat-Next-Cursor": {"schema": text()},
                    "X-Quadrat-Has-More": {"schema": text()},
                    "X-Quadrat-Structure-Last-Updated": {"schema": text()},
                    "Link": {"schema": text(), "description": "rel=\"next\" while has_more."},
                },
                "content": {
                    "application/vnd.api+json; charset=utf-8": {"schema": {"$ref": "#/components/schemas/ChangesPage"}},
                    "text/csv; charset=utf-8": {"schema": {"type": "string"}},
                },
            },
            "400": error("A parameter or the cursor is invalid.", "qd_cursor_invalid", "Invalid sync cursor.", "cursor"),
            "404": not_found_project(),
            "410": error("The cursor expired: start again without one.", "qd_cursor_expired", "Sync cursor expired. Start again without a cursor.", "cursor"),
            "429": too_many(),
        }}}),
        "/api/projects" => json!({"get": {
            "tags": ["app"], "operationId": "searchProjectsEmpty",
            "summary": "Project search with no name: an empty list.",
            "responses": {"200": ok_json("No projects.", json!({"type": "object"}))}}}),
        "/api/projects/{name}" => json!({"get": {
            "tags": ["app"], "operationId": "searchProjects",
            "summary": "Projects whose name starts with `name` (docs/protocol.md §4).",
            "parameters": [{"name": "name", "in": "path", "required": true, "schema": text()},
                           query("exact", "true: the exact name only.", text())],
            "responses": {"200": ok_json("Matching projects.", json!({"type": "object"}))}}}),
        "/api/project-version/{slug}" => json!({"get": {
            "tags": ["app"], "operationId": "projectVersion",
            "summary": "The project's structure version.",
            "parameters": [slug()],
            "responses": {"200": ok_json("The version.", json!({"type": "object"})),
                          "404": error("No such project.", "ec5_11", "Project does not exist.", "api")}}}),
        "/api/project/{slug}" => json!({"get": {
            "tags": ["app"], "operationId": "downloadProject",
            "summary": "The definition the app downloads (docs/protocol.md §5).",
            "parameters": [slug()],
            "security": [{}, {"userToken": []}],
            "responses": {"200": ok_json("The project.", json!({"type": "object"})),
                          "404": error("No such project.", "ec5_11", "Project does not exist.", "api")}}}),
        "/api/login" => json!({"get": {
            "tags": ["auth"], "operationId": "loginMethods",
            "summary": "The login methods this server offers.",
            "responses": {"200": ok_json("The methods.", json!({"type": "object"}))}}}),
        "/api/login/local" => json!({"post": {
            "tags": ["auth"], "operationId": "loginLocal",
            "summary": "Email and password login; answers a user token (docs/protocol.md §3).",
            "requestBody": {"content": {"application/json": {"schema": {"type": "object",
                "properties": {"username": text(), "password": text()}}}}},
            "responses": {"200": ok_json("A user token.", json!({"type": "object"})),
                          "404": error("Wrong credentials.", "ec5_12", "", "api"),
                          "429": too_many()}}}),
        "/api/oauth/token" => json!({"post": {
            "tags": ["auth"], "operationId": "issueToken",
            "summary": "A client app's access token (client credentials).",
            "requestBody": {"content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/TokenRequest"}},
                "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/TokenRequest"}},
            }},
            "responses": {"200": {"description": "The token.", "content": {"application/json": {"schema": {"type": "object",
                              "properties": {"token_type": text(), "expires_in": {"type": "integer"}, "access_token": text()}}}}},
                          "400": error("Unknown client or wrong secret.", "ec5_254", "Client authentication failed.", "api"),
                          "429": too_many()}}}),
        "/myprojects/{slug}/apps" => json!({
            "get": {"tags": ["apps"], "operationId": "showApps", "summary": "The project's client apps (JSON, or the Apps page for a browser).",
                    "parameters": [slug()], "security": [{"userToken": []}],
                    "responses": {"200": ok_json("The apps.", json!({"type": "object"})),
                                  "404": error("Not a manager of this project.", "ec5_91", "Sorry, you cannot perform this operation.", "api")}},
            "post": {"tags": ["apps"], "operationId": "createApp", "summary": "Creates a client app; answers its secret once.",
                     "parameters": [slug()], "security": [{"userToken": []}],
                     "responses": {"200": ok_json("The app.", json!({"type": "object"}))}},
        }),
        "/myprojects/{slug}/app-revoke" => {
            apps_post("revokeAppTokens", "Revokes every token of a client app.")
        }
        "/myprojects/{slug}/app-rotate-secret" => {
            apps_post("rotateAppSecret", "Gives a client app a new secret.")
        }
        "/myprojects/{slug}/app-delete" => apps_post("deleteApp", "Deletes a client app."),
        "/api/upload/{slug}" => json!({"post": {
            "tags": ["app"], "operationId": "upload",
            "summary": "Uploads one entry, branch entry or file (docs/protocol.md §6).",
            "parameters": [slug()],
            "security": [{}, {"userToken": []}],
            "requestBody": {"content": {
                "application/vnd.api+json": {"schema": {"type": "object", "required": ["data"]}},
                "multipart/form-data": {"schema": {"type": "object"}},
            }},
            "responses": {"200": ok_json("Uploaded.", json!({"type": "object"})),
                          "400": error("The entry is refused.", "ec5_21", "Required field is missing.", "answer"),
                          "429": too_many()}}}),
        "/api/export/media/{slug}" => media_item(
            "exportMedia",
            "A project's photo, thumbnail, logo, audio or video file, with ranges (docs/protocol.md §15.1); the client app's token for private projects.",
            json!([{}, {"clientCredentials": []}]),
        ),
        "/api/media/{slug}" => media_item(
            "media",
            "The same files for the mobile app and public exports' media URLs (docs/protocol.md §15.1); a member's user token for private projects.",
            json!([{}, {"userToken": []}]),
        ),
        "/api/openapi.json" => json!({"get": {
            "tags": ["extension"], "operationId": "openapi",
            "summary": "This document. Quadrat extension.",
            "responses": {"200": {"description": "The OpenAPI document.",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}}}}),
        _ => return None,
    };
    let mut item = item;
    if !note.is_empty()
        && let Some(ops) = item.as_object_mut()
    {
        for op in ops.values_mut() {
            if let Some(s) = op.get("summary").and_then(Value::as_str) {
                let s = format!("{s}{note}");
                op["summary"] = json!(s);
            }
            if let Some(id) = op.get("operationId").and_then(Value::as_str) {
                let id = format!("{id}JsonAlias");
                op["operationId"] = json!(id);
            }
        }
    }
    Some(item)
}

/// A media route: `type`, `name`, `format` (checked in that order), a file or placeholder back.
fn media_item(id: &str, summary: &str, security: Value) -> Value {
    let one_of = |values: &[&str]| json!({"type": "string", "enum": values});
    json!({"get": {
    "tags": ["media"], "operationId": id, "summary": summary,
    "parameters": [
        slug(),
        query("type", "photo, audio or video.", one_of(&["photo", "audio", "video"])),
        query("name", "The file's name as the entry's answer gives it.", text()),
        query("format", "Which file of that name.", one_of(&[
            "entry_original", "entry_thumb", "project_thumb", "project_mobile_logo",
            "audio", "video",
        ])),
        query("v", "Any value makes a photo's answer cacheable for a year.", text()),
    ],
    "security": security,
    "responses": {
        "200": {"description": "The file, or for a missing photo a placeholder JPEG with X-Media-Placeholder: true.",
                "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                            "audio/mp4": {"schema": {"type": "string", "format": "binary"}},
                            "video/mp4": {"schema": {"type": "string", "format": "binary"}}}},
        "206": {"description": "The byte range asked for (Range: bytes=…)."},
        "400": error("A name that could leave the folder.", "ec5_103", "Unknown error.", "media-service"),
        "404": error("No such audio or video file.", "ec5_69", "No File Uploaded.", "media-service"),
        "416": {"description": "The range starts past the end; Content-Range: bytes */size."},
        "429": too_many(),
    }}})
}

fn apps_post(id: &str, summary: &str) -> Value {
    json!({"post": {"tags": ["apps"], "operationId": id, "summary": summary,
                    "parameters": [slug()], "security": [{"userToken": []}],
                    "responses": {"200": ok_json("Done.", json!({"type": "object"})),
                                  "404": error("Not a manager of this project.", "ec5_91", "Sorry, you cannot perform this operation.", "api")}}})
}

fn components() -> Value {
    json!({
        "schemas": {
            "Ec5Error": {"type": "object", "required": ["code", "title", "source"], "properties": {
                "code": {"type": "string", "description": "ec5_N, or qd_* for conditions only Quadrat has.", "examples": ["ec5_256"]},
                "title": {"type": "string"},
                "source": {"type": "string"}}},
            "Ec5Errors": {"type": "object", "required": ["errors"], "properties": {
                "errors": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Ec5Error"}}},
                "examples": [{"errors": [{"code": "ec5_219", "title": quadrat_core::codes::title("ec5_219"), "source": "page not found exception"}]}]},
            "EntriesPage": {"type": "object", "required": ["meta", "data", "links"], "properties": {
                "meta": {"type": "object"},
                "data": {"type": "object", "properties": {"id": {"type": "string"}, "type": {"const": "entries"},
                    "entries": {"type": "array", "items": {"type": "object"}}, "mapping": {"type": "object"}}},
                "links": {"type": "object"}}},
            "ChangesPage": {"type": "object", "required": ["meta", "data", "links"], "properties": {
                "meta": {"type": "object", "properties": {
                    "per_page": {"type": "integer"}, "count": {"type": "integer"}, "has_more": {"type": "boolean"},
                    "latest_seq": {"type": "integer"}, "structure_last_updated": {"type": "string"},
                    "next_cursor": {"type": "string"}, "mapping": {"type": "object"}}},
                "data": {"type": "object", "properties": {"id": {"type": "string"}, "type": {"const": "changes"},
                    "changes": {"type": "array", "items": {"$ref": "#/components/schemas/Change"}}}},
                "links": {"type": "object", "properties": {"self": {"type": "string"}, "next": {"type": ["string", "null"]}}}}},
            "Change": {"type": "object", "required": ["seq", "op"], "properties": {
                "seq": {"type": "integer"},
                "op": {"enum": ["upsert", "delete", "project"]},
                "type": {"enum": ["entry", "branch_entry"]},
                "form_ref": {"type": "string"}, "branch_ref": {"type": "string"}, "uuid": {"type": "string"},
                "entry": {"type": "object", "description": "Exactly the entries export's object for the row."},
                "parent_form_ref": {"type": "string"}, "parent_uuid": {"type": "string"},
                "owner_uuid": {"type": "string"}, "deleted_at": {"type": "string"},
                "reason": {"enum": ["structure", "mapping", "access"]},
                "structure_last_updated": {"type": "string"}, "access": {"enum": ProjectAccess::ALL.iter().map(|a| a.as_str()).collect::<Vec<_>>()}}},
            "TokenRequest": {"type": "object", "required": ["grant_type", "client_id", "client_secret"], "properties": {
                "grant_type": {"const": "client_credentials"}, "client_id": {"type": "string"},
                "client_secret": {"type": "string"}}},
        },
        "responses": {
            "TooManyRequests": {
                "description": "Over the route's rate limit.",
                "headers": {"Retry-After": {"schema": {"type": "integer"}},
                            "X-RateLimit-Limit": {"schema": {"type": "integer"}},
                            "X-RateLimit-Remaining": {"schema": {"type": "integer"}}},
                "content": {"application/vnd.api+json": {
                    "schema": {"$ref": "#/components/schemas/Ec5Errors"},
                    "example": {"errors": [{"code": "ec5_255", "title": quadrat_core::codes::title("ec5_255"), "source": "rate-limiter"}]}}},
            },
        },
        "securitySchemes": {
            "clientCredentials": {"type": "http", "scheme": "bearer",
                "description": "A client app's access token from POST /api/oauth/token (private projects)."},
            "userToken": {"type": "http", "scheme": "bearer", "description": "A user token from a login."},
        },
    })
}
