//! What is stored for an entry or branch entry (docs/protocol.md §6.2, §6.4): the normalised
//! `entry_data`, the `geo_json_data`, the title and the created_at column.

use serde_json::Value;

use super::answers::{ValidatedAnswers, float};
use super::datetime::sanitise_created_at;
use super::payload::{DataUpload, EntryKind, Relationships};
use super::title::build_title;
use crate::definition::Input;
use crate::json::Node::{self, Str};
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
    let entry_data =
        entry_data(upload, &relationships, answers, &title, &created_iso).to_mysql_order_string();
    let geo_json_data = geo_json(upload, &title, &created_iso, answers);
    EntryRecord {
        kind: upload.kind,
        uuid: upload.uuid.clone(),
        form_ref: upload.form_ref.clone(),
        relationships,
        title,
        created_at,
        entry_data,
        geo_json_data,
        platform: upload.platform.clone(),
        device_id: upload.device_id.clone(),
    }
}

/// The stored `entry_data`, written from borrowed parts (the answers are not copied).
fn entry_data<'a>(
    upload: &'a DataUpload,
    relationships: &'a Relationships,
    answers: &'a ValidatedAnswers,
    title: &'a str,
    created_iso: &'a str,
) -> Node<'a> {
    let kind = upload.kind.as_str();
    let answers = Node::object_or_empty_array(
        answers
            .answers
            .iter()
            .map(|a| {
                let stored = Node::Object(vec![
                    ("answer", Node::Value(&a.answer)),
                    ("was_jumped", Node::Value(&a.was_jumped)),
                ]);
                (a.input_ref.as_str(), stored)
            })
            .collect(),
    );
    let rel = relationships;
    Node::Object(vec![
        ("id", Str(&upload.uuid)),
        ("type", Str(kind)),
        (
            kind,
            Node::Object(vec![
                ("title", Str(title)),
                ("answers", answers),
                ("created_at", Str(created_iso)),
                ("entry_uuid", Str(&upload.uuid)),
                ("project_version", Str(&upload.project_version)),
            ]),
        ),
        (
            "attributes",
            Node::Object(vec![(
                "form",
                Node::Object(vec![
                    ("ref", Str(&upload.form_ref)),
                    ("type", Str("hierarchy")),
                ]),
            )]),
        ),
        (
            "relationships",
            Node::Object(vec![
                (
                    "branch",
                    Node::Object(vec![(
                        "data",
                        Node::Object(vec![
                            ("owner_input_ref", Str(&rel.owner_input_ref)),
                            ("owner_entry_uuid", Str(&rel.owner_entry_uuid)),
                        ]),
                    )]),
                ),
                (
                    "parent",
                    Node::Object(vec![(
                        "data",
                        Node::Object(vec![
                            ("parent_form_ref", Str(&rel.parent_form_ref)),
                            ("parent_entry_uuid", Str(&rel.parent_entry_uuid)),
                        ]),
                    )]),
                ),
            ]),
        ),
    ])
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
    let possible = Node::object_or_empty_array(
        answers
            .possible_answers
            .iter()
            .map(|r| (r.as_str(), Node::Owned(Value::from(1))))
            .collect(),
    );
    let features = answers
        .locations
        .iter()
        .map(|loc| {
            let coordinates = vec![float(loc.longitude), float(loc.latitude)];
            let feature = Node::Object(vec![
                ("id", Str(&upload.uuid)),
                ("type", Str("Feature")),
                (
                    "geometry",
                    Node::Object(vec![
                        ("type", Str("Point")),
                        ("coordinates", Node::Owned(Value::Array(coordinates))),
                    ]),
                ),
                (
                    "properties",
                    Node::Object(vec![
                        ("uuid", Str(&upload.uuid)),
                        ("title", Str(title)),
                        ("accuracy", Node::Value(&loc.accuracy)),
                        (
                            "created_at",
                            Str(created_iso.get(0..10).unwrap_or_default()),
                        ),
                        ("possible_answers", possible.clone()),
                    ]),
                ),
            ]);
            (loc.input_ref.as_str(), feature)
        })
        .collect();
    Some(Node::Object(features).to_mysql_order_string())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Map, json};

    use super::*;
    use crate::entry::answers::{Location, StoredAnswer};
    use crate::json::{object_or_empty_array, to_mysql_order_string};

    /// The `Value` the record's JSON stood for before it was written from borrowed parts.
    fn entry_data_value(
        upload: &DataUpload,
        rel: &Relationships,
        answers: &ValidatedAnswers,
        title: &str,
        created_iso: &str,
    ) -> String {
        let answers: Map<String, Value> = answers
            .answers
            .iter()
            .map(|a| (a.input_ref.clone(), a.to_value()))
            .collect();
        let kind = upload.kind.as_str();
        let mut body = Map::new();
        body.insert("title".into(), json!(title));
        body.insert("answers".into(), object_or_empty_array(answers));
        body.insert("created_at".into(), json!(created_iso));
        body.insert("entry_uuid".into(), json!(upload.uuid));
        body.insert("project_version".into(), json!(upload.project_version));
        let mut data = Map::new();
        data.insert("id".into(), json!(upload.uuid));
        data.insert("type".into(), json!(kind));
        data.insert(kind.into(), Value::Object(body));
        data.insert(
            "attributes".into(),
            json!({"form": {"ref": upload.form_ref, "type": "hierarchy"}}),
        );
        data.insert(
            "relationships".into(),
            json!({
                "branch": {"data": {"owner_input_ref": rel.owner_input_ref, "owner_entry_uuid": rel.owner_entry_uuid}},
                "parent": {"data": {"parent_form_ref": rel.parent_form_ref, "parent_entry_uuid": rel.parent_entry_uuid}},
            }),
        );
        to_mysql_order_string(&Value::Object(data))
    }

    fn geo_json_value(
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

    fn answer() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-1.0e6..1.0e6f64).prop_map(|f| json!(f)),
            "[a-z\\\"\u{e9}<\n]{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(("[a-z_]{1,6}", inner), 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn key() -> impl Strategy<Value = String> {
        // Few distinct refs, of several lengths: repeats and ties in the order are common.
        prop::sample::select(vec![
            "a",
            "b",
            "ab",
            "ba",
            "abc",
            "input_ref_1",
            "input_ref_2",
        ])
        .prop_map(str::to_string)
    }

    proptest! {
        /// The record's JSON is what serialising the `Value` it stands for gives.
        #[test]
        fn written_as_the_value_it_stands_for(
            answers in prop::collection::vec((key(), answer(), answer()), 0..6),
            possible in prop::collection::vec(key(), 0..3),
            located in prop::collection::vec((key(), -90.0..90.0f64, -180.0..180.0f64, answer()), 0..3),
            branch in any::<bool>(),
            title in "[a-z \"\u{e9}]{0,8}",
            rel in prop::collection::vec("[a-z0-9-]{0,5}", 4),
        ) {
            let upload = DataUpload {
                kind: if branch { EntryKind::BranchEntry } else { EntryKind::Entry },
                uuid: "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90".into(),
                form_ref: "f".into(),
                relationships: Relationships::default(),
                created_at: String::new(),
                project_version: "2024-06-01 10:20:33".into(),
                device_id: String::new(),
                platform: "WEB".into(),
                title: None,
                answers: Value::Null,
            };
            let rel = Relationships {
                parent_form_ref: rel[0].clone(),
                parent_entry_uuid: rel[1].clone(),
                owner_input_ref: rel[2].clone(),
                owner_entry_uuid: rel[3].clone(),
            };
            let validated = ValidatedAnswers {
                answers: answers
                    .into_iter()
                    .map(|(input_ref, answer, was_jumped)| StoredAnswer {
                        input_ref,
                        answer,
                        was_jumped,
                    })
                    .collect(),
                locations: located
                    .into_iter()
                    .map(|(input_ref, latitude, longitude, accuracy)| Location {
                        input_ref,
                        latitude,
                        longitude,
                        accuracy,
                    })
                    .collect(),
                possible_answers: possible,
            };
            let created = "2024-06-03T09:15:27.000Z";
            prop_assert_eq!(
                entry_data(&upload, &rel, &validated, &title, created).to_mysql_order_string(),
                entry_data_value(&upload, &rel, &validated, &title, created)
            );
            prop_assert_eq!(
                geo_json(&upload, &title, created, &validated),
                geo_json_value(&upload, &title, created, &validated)
            );
        }
    }
}
