//! Fixtures shared by the export tests: the all-types project, its mapping list, and stored
//! rows in the shape of docs/protocol.md §6.1–6.2.
#![allow(dead_code)]

use quadrat_core::definition::Definition;
use quadrat_core::definition::mapping::regenerate;
use quadrat_core::export::csv::CsvWriter;
use quadrat_core::export::render::{ExportPlan, PlanOptions, StoredEntry};
use quadrat_core::mappings::MappingList;
use serde_json::{Map, Value, json};

pub const PROJECT: &str = "79c8c2926b9445b5a49882321e35049e";
pub const FORM1: &str = "79c8c2926b9445b5a49882321e35049e_665b2a36eb7a7";
pub const FORM2: &str = "79c8c2926b9445b5a49882321e35049e_665b301fa7363";
pub const BRANCH: &str = "79c8c2926b9445b5a49882321e35049e_665b2a36eb7a7_665b2e9d2e3d6";
pub const GROUP: &str = "79c8c2926b9445b5a49882321e35049e_665b2a36eb7a7_665b2e01b32e9";
pub const UUID: &str = "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90";
pub const BRANCH_UUID: &str = "8a1d3c5e-2b4f-4a6c-8e0d-1f3a5c7e9b21";
pub const ORIGIN: &str = "http://127.0.0.1:8080";
/// 2024-06-03T09:15:30Z
pub const UPLOADED_AT: i64 = 1_717_406_130_000;

/// A form-1 input ref from its last 13 characters.
pub fn f1(suffix: &str) -> String {
    format!("{FORM1}_{suffix}")
}

/// A ref inside the "Plants sampled" branch.
pub fn b1(suffix: &str) -> String {
    format!("{BRANCH}_{suffix}")
}

pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub struct Project {
    pub data: Value,
    pub def: Definition,
    pub maps: MappingList,
}

pub fn all_types() -> Project {
    project("all-types.json")
}

/// The all-types project, read once per test binary (property tests render it many times).
pub fn all_types_shared() -> &'static Project {
    static SHARED: std::sync::OnceLock<Project> = std::sync::OnceLock::new();
    SHARED.get_or_init(all_types)
}

pub fn project(name: &str) -> Project {
    let data = fixture(name)["data"].clone();
    let def = Definition::from_data(&data).expect("fixture parses");
    let maps = MappingList::from_stored(&regenerate(&data, None));
    Project { data, def, maps }
}

/// `{"<ref>": {"answer": …, "was_jumped": false}, …}`.
pub fn answers(pairs: &[(String, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(r, a)| (r.clone(), json!({"answer": a, "was_jumped": false})))
        .collect()
}

/// A hierarchy entry's `entry_data` (docs/protocol.md §6.2).
pub fn entry_data(
    uuid: &str,
    form_ref: &str,
    parent: (&str, &str),
    answers: Map<String, Value>,
) -> String {
    json!({
        "id": uuid,
        "type": "entry",
        "entry": {
            "title": "S-001 Cloudy",
            "answers": answers,
            "created_at": "2024-06-03T09:15:27.000Z",
            "entry_uuid": uuid,
            "project_version": "2024-06-01 10:20:33"
        },
        "attributes": {"form": {"ref": form_ref, "type": "hierarchy"}},
        "relationships": {
            "branch": {"data": {"owner_input_ref": "", "owner_entry_uuid": ""}},
            "parent": {"data": {"parent_form_ref": parent.0, "parent_entry_uuid": parent.1}}
        }
    })
    .to_string()
}

/// A branch entry's `entry_data`.
pub fn branch_entry_data(
    uuid: &str,
    owner: &str,
    branch_ref: &str,
    answers: Map<String, Value>,
) -> String {
    json!({
        "id": uuid,
        "type": "branch_entry",
        "branch_entry": {
            "title": "Tag 7",
            "answers": answers,
            "created_at": "2024-06-03T09:20:00.000Z",
            "entry_uuid": uuid,
            "project_version": "2024-06-01 10:20:33"
        },
        "attributes": {"form": {"ref": FORM1, "type": "hierarchy"}},
        "relationships": {
            "branch": {"data": {"owner_input_ref": branch_ref, "owner_entry_uuid": owner}},
            "parent": {"data": {"parent_form_ref": "", "parent_entry_uuid": ""}}
        }
    })
    .to_string()
}

/// The form-1 answers of the golden entry: one of every type.
pub fn golden_answers() -> Map<String, Value> {
    answers(&[
        (f1("665b2a5b33be4"), json!("S-001")),
        (
            f1("665b2a7788718"),
            json!("Wet meadow, north side\nnear the \"old\" gate / path"),
        ),
        (f1("665b2a90da1b1"), json!("665b2a955b08a")),
        (f1("665b2ac3d37b1"), json!("37")),
        (f1("665b2ae882b9b"), json!("6.5")),
        (f1("665b2afe0cf19"), json!("2024-06-03T00:00:00.000")),
        (f1("665b2b07a5240"), json!("2024-06-03T09:05:27.000")),
        (f1("665b2b2d400cb"), json!("")),
        (f1("665b2b36e683a"), json!("665b2b6b9646a")),
        (
            f1("665b2baa69d6b"),
            json!(["665b2bd0903c3", "665b2be2959ba"]),
        ),
        (f1("665b2c15347a2"), json!("Électrique ☂ 😀")),
        (f1("665b2c1b440a9"), json!("")),
        (f1("665b2c65f1067"), json!(["665b2c8f1b393"])),
        (
            f1("665b2ccc3a38b"),
            json!(["665b2ce59b19c", "665b2d2332474", "zzzzzzzzzzzzz"]),
        ),
        (f1("665b2d73c91d6"), json!(format!("{UUID}_1717406127.jpg"))),
        (
            f1("665b2d85a8e1f"),
            json!({"accuracy": 12.0, "latitude": 51.5074, "longitude": -0.1278}),
        ),
        (f1("665b2dad62c4a"), json!(format!("{UUID}_1717406128.mp4"))),
        (f1("665b2dc87d310"), json!("")),
        (f1("665b2de12d10a"), json!("4006381333931")),
        (f1("665b2deb10c01"), json!("+44 20 7946 0958")),
        (format!("{GROUP}_665b2e25d6a19"), json!(14)),
        (format!("{GROUP}_665b2e3e69b52"), json!(3)),
        (format!("{GROUP}_665b2e4fbb9d2"), json!("665b2e732f623")),
        (BRANCH.to_string(), json!("")),
        (f1("665b2fd42205d"), json!("2023-11-01T00:00:00.000")),
        (f1("665b2fd717781"), json!("2024-06-03T00:12:45.000")),
        (f1("665b2fdd81637"), json!("")),
    ])
}

/// The stored form of a row's text columns.
pub struct Row {
    pub uuid: String,
    pub parent_uuid: String,
    pub owner_uuid: String,
    pub title: String,
    pub created_by: Option<String>,
    pub entry_data: String,
    pub branch_counts: Option<String>,
}

impl Row {
    pub fn form1(answers: Map<String, Value>) -> Row {
        Row {
            uuid: UUID.into(),
            parent_uuid: String::new(),
            owner_uuid: String::new(),
            title: "S-001 Cloudy".into(),
            created_by: Some("ana@example.org".into()),
            entry_data: entry_data(UUID, FORM1, ("", ""), answers),
            branch_counts: Some(json!({ BRANCH: 2 }).to_string()),
        }
    }

    pub fn branch(answers: Map<String, Value>) -> Row {
        Row {
            uuid: BRANCH_UUID.into(),
            parent_uuid: String::new(),
            owner_uuid: UUID.into(),
            title: "Tag 7".into(),
            created_by: None,
            entry_data: branch_entry_data(BRANCH_UUID, UUID, BRANCH, answers),
            branch_counts: None,
        }
    }

    pub fn stored(&self) -> StoredEntry<'_> {
        StoredEntry {
            uuid: &self.uuid,
            parent_uuid: &self.parent_uuid,
            owner_uuid: &self.owner_uuid,
            uploaded_at: UPLOADED_AT,
            title: &self.title,
            created_by: self.created_by.as_deref(),
            entry_data: &self.entry_data,
            branch_counts: self.branch_counts.as_deref(),
        }
    }
}

pub fn options<'a>(
    form_ref: &'a str,
    branch_ref: Option<&'a str>,
    map_index: usize,
    private: bool,
) -> PlanOptions<'a> {
    PlanOptions {
        form_ref,
        branch_ref,
        map_index,
        private,
        slug: "all-input-types",
        origin: ORIGIN,
    }
}

pub fn json_text(plan: &ExportPlan, row: &Row) -> String {
    let mut out = Vec::new();
    plan.write_json(&row.stored(), &mut out);
    String::from_utf8(out).expect("UTF-8 JSON")
}

pub fn json_value(plan: &ExportPlan, row: &Row) -> Value {
    serde_json::from_str(&json_text(plan, row)).expect("valid JSON")
}

pub fn csv_text(plan: &ExportPlan, rows: &[&Row], header: bool) -> String {
    let mut w = CsvWriter::new();
    if header {
        plan.write_csv_header(&mut w);
    }
    for row in rows {
        plan.write_csv(&row.stored(), &mut w);
    }
    String::from_utf8(w.into_bytes()).expect("UTF-8 CSV")
}

/// An RFC 4180 reader (LF records), to check what the writer wrote reads back.
pub fn read_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut started = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                quoted = true;
                started = true;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                started = false;
            }
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                started = false;
            }
            other => {
                field.push(other);
                started = true;
            }
        }
    }
    assert!(
        !quoted && !started && field.is_empty() && record.is_empty(),
        "CSV ends with LF"
    );
    records
}

/// The cells of the one data row under `header`, keyed by header.
pub fn csv_cells(plan: &ExportPlan, row: &Row) -> Vec<(String, String)> {
    let records = read_csv(&csv_text(plan, &[row], true));
    assert_eq!(records.len(), 2, "header and one row");
    assert_eq!(
        records[0].len(),
        records[1].len(),
        "as many cells as headers"
    );
    records[0]
        .iter()
        .cloned()
        .zip(records[1].iter().cloned())
        .collect()
}

pub fn cell<'a>(cells: &'a [(String, String)], header: &str) -> &'a str {
    cells
        .iter()
        .find(|(h, _)| h == header)
        .map(|(_, c)| c.as_str())
        .unwrap_or_else(|| panic!("no column {header}"))
}
