//! What is stored for an entry or branch entry (docs/protocol.md §6.2, §6.4): the normalised
//! `entry_data`, the `geo_json_data`, the title and the created_at column.

use serde_json::{Map, Value, json};

use super::answers::{ValidatedAnswers, float};
use super::datetime::sanitise_created_at;
use super::payload::{DataUpload, EntryKind, Relationships};
use super::title::build_title;
use crate::definition::Input;
use crate::json::{object_or_empty_array, to_mysql_order_string};
use crate::time::UnixMillis;

/// A validated upload, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRecord {
    pub kind: EntryKind,
    pub uuid: String,
    pub form_ref: String,
    /// As stored: only the relationships that apply to this kind of record.
    pub relationships: Relationships,
    pub title: String,
    /// The `created_at` column: the uploaded wall time, whole seconds.
    pub created_at: UnixMillis,
    /// Compact JSON in MySQL key order.
    pub entry_data: String,
    /// One GeoJSON feature per located answer; `None` when there is none.
    pub geo_json_data: Option<String>,
    pub platform: String,
    /// As uploaded (hashed before it is stored).
    pub device_id: String,
}

/// Builds the stored record. `title_inputs` are the inputs of the form (or of the branch) in
/// definition order, for a title built when the client sent none (docs/protocol.md §7).
pub fn build_record(
    upload: &DataUpload,
    relationships: Relationships,
    title_inputs: &[Input],
    answers: &ValidatedAnswers,
    now: UnixMillis,
) -> EntryRecord {
    let title = upload
        .title
        .clone()
        .or_else(|| build_title(title_inputs, answers))
        .unwrap_or_else(|| upload.uuid.clone());
    let (created_iso, created_at) = sanitise_created_at(&upload.created_at, now);
    let answers_json: Map<String, Value> = answers.answers.iter().cloned().collect();
    let kind = upload.kind.as_str();
    // Built by moving each part in (`json!` would copy every interpolated value, the answers
    // included, through serialisation); the key order is MySQL's when written.
    let text = |v: &str| Value::String(v.to_string());
    let data = object([
        ("id", text(&upload.uuid)),
        ("type", text(kind)),
        (
            kind,
            object([
                ("title", text(&title)),
                ("answers", object_or_empty_array(answers_json)),
                ("created_at", text(&created_iso)),
                ("entry_uuid", text(&upload.uuid)),
                ("project_version", text(&upload.project_version)),
            ]),
        ),
        (
            "attributes",
            object([(
                "form",
                object([("ref", text(&upload.form_ref)), ("type", text("hierarchy"))]),
            )]),
        ),
        (
            "relationships",
            object([
                (
                    "branch",
                    object([(
                        "data",
                        object([
                            ("owner_input_ref", text(&relationships.owner_input_ref)),
                            ("owner_entry_uuid", text(&relationships.owner_entry_uuid)),
                        ]),
                    )]),
                ),
                (
                    "parent",
                    object([(
                        "data",
                        object([
                            ("parent_form_ref", text(&relationships.parent_form_ref)),
                            ("parent_entry_uuid", text(&relationships.parent_entry_uuid)),
                        ]),
                    )]),
                ),
            ]),
        ),
    ]);
    let geo_json_data = geo_json(upload, &title, &created_iso, answers);
    EntryRecord {
        kind: upload.kind,
        uuid: upload.uuid.clone(),
        form_ref: upload.form_ref.clone(),
        relationships,
        title,
        created_at,
        entry_data: to_mysql_order_string(&data),
        geo_json_data,
        platform: upload.platform.clone(),
        device_id: upload.device_id.clone(),
    }
}

/// A JSON object of these members.
fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<Map<String, Value>>(),
    )
}

fn geo_json(
    upload: &DataUpload,
    title: &str,
    created_iso: &str,
    answers: &ValidatedAnswers,
) -> Option<String> {
    if answers.locations.is_empty() {
        return None;
    }
    let possible: Map<String, Value> = answers
        .possible_answers
        .iter()
        .map(|r| (r.clone(), json!(1)))
        .collect();
    let possible = object_or_empty_array(possible);
    let features: Map<String, Value> = answers
        .locations
        .iter()
        .map(|loc| {
            (
                loc.input_ref.clone(),
                json!({
                    "id": upload.uuid,
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [float(loc.longitude), float(loc.latitude)]},
                    "properties": {
                        "uuid": upload.uuid,
                        "title": title,
                        "accuracy": loc.accuracy,
                        "created_at": created_iso.get(0..10).unwrap_or_default(),
                        "possible_answers": possible,
                    },
                }),
            )
        })
        .collect();
    Some(to_mysql_order_string(&Value::Object(features)))
}
