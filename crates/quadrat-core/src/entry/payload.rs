//! The structural stage of an upload (docs/protocol.md §5.4): the `data` member checked rule by
//! rule as the real server's `RuleUpload` does (same attributes, same codes, same order), then
//! read into a typed [`Upload`].

use serde_json::Value;

use super::datetime::parse_wall_time;
use crate::codes::Ec5Error;
use crate::php::{self, laravel};

/// What kind of record an upload carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Entry,
    BranchEntry,
    FileEntry,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Entry => "entry",
            EntryKind::BranchEntry => "branch_entry",
            EntryKind::FileEntry => "file_entry",
        }
    }

    fn parse(s: &str) -> Option<EntryKind> {
        [
            EntryKind::Entry,
            EntryKind::BranchEntry,
            EntryKind::FileEntry,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// The four relationship values, `""` when not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relationships {
    pub parent_form_ref: String,
    pub parent_entry_uuid: String,
    pub owner_input_ref: String,
    pub owner_entry_uuid: String,
}

/// An entry or a branch entry, as uploaded and structurally valid.
#[derive(Debug, Clone, PartialEq)]
pub struct DataUpload {
    /// `Entry` or `BranchEntry`.
    pub kind: EntryKind,
    pub uuid: String,
    pub form_ref: String,
    pub relationships: Relationships,
    /// As sent; [`super::datetime::sanitise_created_at`] makes the stored value.
    pub created_at: String,
    pub project_version: String,
    pub device_id: String,
    pub platform: String,
    /// The client's title when it sent a usable one (a non-empty string or a number).
    pub title: Option<String>,
    /// `{input_ref: {"answer", "was_jumped"}}` as sent (not necessarily an object).
    pub answers: Value,
}

/// A media file upload's payload; the file itself travels beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileUpload {
    pub uuid: String,
    pub form_ref: String,
    /// `file_entry.type`, checked later ([`FileUpload::check_fields`]).
    pub media_type: Option<String>,
    pub name: String,
    pub input_ref: String,
    pub project_version: String,
    pub platform: String,
    pub device_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Upload {
    Data(DataUpload),
    File(FileUpload),
}

impl Upload {
    pub fn project_version(&self) -> &str {
        match self {
            Upload::Data(d) => &d.project_version,
            Upload::File(f) => &f.project_version,
        }
    }

    pub fn form_ref(&self) -> &str {
        match self {
            Upload::Data(d) => &d.form_ref,
            Upload::File(f) => &f.form_ref,
        }
    }

    pub fn uuid(&self) -> &str {
        match self {
            Upload::Data(d) => &d.uuid,
            Upload::File(f) => &f.uuid,
        }
    }
}

/// Checks the `data` member of an upload body and reads it. Every failing attribute is
/// reported (its first failing rule), in rule order, as the real server's validator does.
pub fn parse_upload(data: &Value) -> Result<Upload, Vec<Ec5Error>> {
    checked(data)?;
    let kind = kind_of(data);
    let answers = data
        .get(kind.as_str())
        .and_then(|body| body.get("answers"))
        .cloned();
    Ok(read(data, kind, answers))
}

/// [`parse_upload`] of a payload it may take apart: the answers are moved into the upload,
/// not copied (the bulk import's rows are read once).
pub fn parse_upload_owned(mut data: Value) -> Result<Upload, Vec<Ec5Error>> {
    checked(&data)?;
    let kind = kind_of(&data);
    let answers = data
        .get_mut(kind.as_str())
        .and_then(|body| body.get_mut("answers"))
        .map(Value::take);
    Ok(read(&data, kind, answers))
}

fn checked(data: &Value) -> Result<(), Vec<Ec5Error>> {
    if !data.is_object() && !data.is_array() {
        return Err(vec![Ec5Error::new("ec5_269", "validation")]);
    }
    let errors = structural_errors(data);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(())
}

/// One attribute and its rules, evaluated the Laravel way: implicit rules (`required…`,
/// `present`) always, the others only when the attribute is present and not a blank string.
enum Rule {
    Required(&'static str),
    RequiredIfType(&'static str),
    Present,
    In(&'static [&'static str], &'static str),
    Size(usize),
    SameAsId,
    Date,
    IsString,
    IsArray,
}

const TYPES: &[&str] = &["entry", "branch_entry", "file_entry"];

/// An attribute's dotted path, and its keys (split once, not per payload).
struct Attribute {
    path: String,
    keys: Vec<String>,
}

/// The attributes and their rules, made once.
fn rules() -> &'static [(Attribute, Vec<Rule>)] {
    static RULES: std::sync::LazyLock<Vec<(Attribute, Vec<Rule>)>> =
        std::sync::LazyLock::new(|| {
            rule_list()
                .into_iter()
                .map(|(path, rules)| {
                    let keys = path.split('.').map(str::to_string).collect();
                    (Attribute { path, keys }, rules)
                })
                .collect()
        });
    &RULES
}

fn rule_list() -> Vec<(String, Vec<Rule>)> {
    use Rule::*;
    let mut list: Vec<(String, Vec<Rule>)> = vec![
        ("type".into(), vec![Required("ec5_20"), In(TYPES, "ec5_29")]),
        ("entry".into(), vec![RequiredIfType("entry")]),
        ("branch_entry".into(), vec![RequiredIfType("branch_entry")]),
        ("file_entry".into(), vec![RequiredIfType("file_entry")]),
        ("id".into(), vec![Required("ec5_20"), Size(36)]),
    ];
    for t in ["entry", "branch_entry"] {
        list.push((
            format!("{t}.entry_uuid"),
            vec![RequiredIfType(t), SameAsId, Size(36)],
        ));
        list.push((format!("{t}.created_at"), vec![RequiredIfType(t), Date]));
        list.push((
            format!("{t}.project_version"),
            vec![RequiredIfType(t), Date],
        ));
    }
    let f = "file_entry";
    list.push((
        format!("{f}.entry_uuid"),
        vec![RequiredIfType(f), SameAsId, Size(36)],
    ));
    list.push((format!("{f}.name"), vec![RequiredIfType(f), IsString]));
    list.push((format!("{f}.input_ref"), vec![RequiredIfType(f)]));
    list.push((
        format!("{f}.project_version"),
        vec![RequiredIfType(f), Date],
    ));
    list.extend([
        ("attributes".into(), vec![Required("ec5_20"), IsArray]),
        (
            "attributes.form.ref".into(),
            vec![Required("ec5_20"), Size(46)],
        ),
        (
            "attributes.form.type".into(),
            vec![Required("ec5_20"), In(&["hierarchy"], "ec5_29")],
        ),
        ("relationships".into(), vec![Required("ec5_20"), IsArray]),
        ("relationships.parent".into(), vec![Present, IsArray]),
        ("relationships.parent.data".into(), vec![IsArray]),
        (
            "relationships.parent.data.parent_form_ref".into(),
            vec![Size(46)],
        ),
        (
            "relationships.parent.data.parent_entry_uuid".into(),
            vec![Size(36)],
        ),
        ("relationships.branch".into(), vec![Present, IsArray]),
        ("relationships.branch.data".into(), vec![IsArray]),
        (
            "relationships.branch.data.owner_input_ref".into(),
            vec![Size(60)],
        ),
        (
            "relationships.branch.data.owner_entry_uuid".into(),
            vec![Size(36)],
        ),
    ]);
    list
}

fn structural_errors(data: &Value) -> Vec<Ec5Error> {
    let kind = data
        .get("type")
        .and_then(php::strval_scalar_serialize_precision);
    let id = data.get("id");
    let mut errors = Vec::new();
    for (attribute, rules) in rules() {
        let value = lookup_keys(data, attribute.keys.iter().map(String::as_str));
        let validatable =
            value.is_some() && !laravel::is_blank_string(value.unwrap_or(&Value::Null));
        let failed = rules.iter().find_map(|rule| {
            let ok = match rule {
                Rule::Required(_) => laravel::required(value),
                Rule::RequiredIfType(t) => kind.as_deref() != Some(*t) || laravel::required(value),
                Rule::Present => value.is_some(),
                _ if !validatable => true,
                Rule::In(allowed, _) => value
                    .filter(|v| !v.is_array() && !v.is_object())
                    .and_then(php::strval_scalar_serialize_precision)
                    .is_some_and(|s| allowed.contains(&s.as_str())),
                Rule::Size(n) => value.map(laravel::size) == Some(*n),
                Rule::SameAsId => value == id,
                Rule::Date => value
                    .and_then(Value::as_str)
                    .and_then(parse_wall_time)
                    .is_some(),
                Rule::IsString => value.is_some_and(Value::is_string),
                Rule::IsArray => value.is_some_and(|v| v.is_array() || v.is_object()),
            };
            (!ok).then_some(match rule {
                Rule::Required(code) | Rule::In(_, code) => *code,
                Rule::RequiredIfType(_) => "ec5_21",
                Rule::Present => "ec5_20",
                Rule::Size(_) => "ec5_28",
                Rule::SameAsId => "ec5_53",
                Rule::Date => "ec5_79",
                Rule::IsString | Rule::IsArray => "ec5_87",
            })
        });
        if let Some(code) = failed {
            errors.push(Ec5Error::new(code, attribute.path.as_str()));
        }
    }
    errors
}

/// The value at a dotted path, through objects and lists (a list answers to its indexes).
/// The payload's objects are small: their members are compared in turn rather than hashed.
fn lookup<'a>(data: &'a Value, path: &str) -> Option<&'a Value> {
    lookup_keys(data, path.split('.'))
}

/// [`lookup`] of a path's keys.
fn lookup_keys<'a, 'k>(
    data: &'a Value,
    mut keys: impl Iterator<Item = &'k str>,
) -> Option<&'a Value> {
    keys.try_fold(data, |v, key| match v {
        Value::Object(map) if map.len() <= 16 => {
            map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
        }
        Value::Object(map) => map.get(key),
        Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

fn string_at(data: &Value, path: &str) -> String {
    lookup(data, path)
        .and_then(php::strval_scalar_serialize_precision)
        .unwrap_or_default()
}

/// The kind of record a payload carries, [`EntryKind::Entry`] when `type` names none.
fn kind_of(data: &Value) -> EntryKind {
    data.get("type")
        .and_then(Value::as_str)
        .and_then(EntryKind::parse)
        .unwrap_or(EntryKind::Entry)
}

/// The upload `data` holds, of `kind` ([`kind_of`]), with the `answers` of its body (`None`:
/// not sent).
fn read(data: &Value, kind: EntryKind, answers: Option<Value>) -> Upload {
    let uuid = string_at(data, "id");
    let form_ref = string_at(data, "attributes.form.ref");
    let body = data.get(kind.as_str()).unwrap_or(&Value::Null);
    let field = |key: &str| {
        body.get(key)
            .and_then(php::strval_scalar_serialize_precision)
            .unwrap_or_default()
    };
    if kind == EntryKind::FileEntry {
        return Upload::File(FileUpload {
            uuid,
            form_ref,
            media_type: body
                .get("type")
                .and_then(php::strval_scalar_serialize_precision),
            name: field("name"),
            input_ref: field("input_ref"),
            project_version: field("project_version"),
            platform: field("platform"),
            device_id: field("device_id"),
        });
    }
    let title = body
        .get("title")
        .filter(|t| t.is_string() || t.is_number())
        .filter(|t| !php::empty(t))
        .and_then(php::strval_scalar_serialize_precision);
    Upload::Data(DataUpload {
        kind,
        uuid,
        form_ref,
        relationships: Relationships {
            parent_form_ref: string_at(data, "relationships.parent.data.parent_form_ref"),
            parent_entry_uuid: string_at(data, "relationships.parent.data.parent_entry_uuid"),
            owner_input_ref: string_at(data, "relationships.branch.data.owner_input_ref"),
            owner_entry_uuid: string_at(data, "relationships.branch.data.owner_entry_uuid"),
        },
        created_at: field("created_at"),
        project_version: field("project_version"),
        device_id: field("device_id"),
        platform: field("platform"),
        title,
        answers: answers.unwrap_or(Value::Null),
    })
}

impl FileUpload {
    /// The file entry's own fields, checked after the form is known to exist (the real
    /// server's `RuleFileEntry`): `type` present and one of photo/audio/video, `name` and
    /// `input_ref` present; then Quadrat's safe-name rule (docs/protocol.md §5.9): the name is the
    /// entry's uuid, `_`, digits and an extension that fits the type, so it can neither leave
    /// the project's folder nor land on another entry's file.
    pub fn check_fields(&self) -> Result<super::media::MediaKind, Ec5Error> {
        let Some(media_type) = self.media_type.as_deref().filter(|t| !t.trim().is_empty()) else {
            return Err(Ec5Error::new("ec5_20", "type"));
        };
        let Some(kind) = super::media::MediaKind::parse(media_type) else {
            return Err(Ec5Error::new("ec5_47", "type"));
        };
        if self.name.trim().is_empty() {
            return Err(Ec5Error::new("ec5_20", "name"));
        }
        if self.input_ref.trim().is_empty() {
            return Err(Ec5Error::new("ec5_20", "input_ref"));
        }
        if !super::media::is_safe_file_name(&self.name, &self.uuid, kind) {
            return Err(Ec5Error::new("ec5_47", "file_entry.name"));
        }
        Ok(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry() -> Value {
        json!({
            "type": "entry",
            "id": "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90",
            "attributes": {"form": {"ref": "d3f1a9c27b5e4f0c8a6b1e2d9c7f3a50_665b0c3e1a2f4", "type": "hierarchy"}},
            "relationships": {"parent": {}, "branch": {}},
            "entry": {
                "entry_uuid": "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90",
                "created_at": "2024-06-03T09:15:27.412Z",
                "device_id": "3f2a9c1e7b6d5a40",
                "platform": "Android",
                "title": "Oak Ridge",
                "answers": {},
                "project_version": "2024-06-01 10:20:33"
            }
        })
    }

    fn codes(v: &Value) -> Vec<(String, String)> {
        parse_upload(v)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.code, e.source))
            .collect()
    }

    /// Every payload of these tests, valid or not, and a few more.
    fn payloads() -> Vec<Value> {
        let mut out = vec![entry(), json!("x"), Value::Null, json!([]), json!({})];
        for pointer in ["/type", "/entry", "/entry/answers", "/relationships", "/id"] {
            let mut v = entry();
            *v.pointer_mut(pointer).unwrap() = Value::Null;
            out.push(v);
        }
        let mut v = entry();
        v["entry"]["answers"] = json!({"a": {"answer": ["x", 1], "was_jumped": false}});
        out.push(v.clone());
        v["type"] = json!("branch_entry");
        v["branch_entry"] = v["entry"].clone();
        out.push(v.clone());
        v["type"] = json!("file_entry");
        out.push(v);
        let mut v = entry();
        v["entry"] = json!([1, 2]);
        out.push(v);
        out
    }

    #[test]
    fn taking_a_payload_apart_reads_what_reading_it_reads() {
        for v in payloads() {
            assert_eq!(parse_upload_owned(v.clone()), parse_upload(&v), "{v}");
        }
    }

    #[test]
    fn reads_a_valid_entry() {
        let Ok(Upload::Data(d)) = parse_upload(&entry()) else {
            panic!("refused");
        };
        assert_eq!(d.kind, EntryKind::Entry);
        assert_eq!(d.title.as_deref(), Some("Oak Ridge"));
        assert_eq!(d.relationships, Relationships::default());
    }

    #[test]
    fn missing_data_is_ec5_269() {
        assert_eq!(
            codes(&json!("x")),
            vec![("ec5_269".into(), "validation".into())]
        );
        assert_eq!(
            codes(&Value::Null),
            vec![("ec5_269".into(), "validation".into())]
        );
    }

    #[test]
    fn each_rule_reports_its_code_and_attribute() {
        let cases: Vec<(&str, Value, &str, &str)> = vec![
            ("/type", Value::Null, "ec5_20", "type"),
            ("/type", json!("archive"), "ec5_29", "type"),
            (
                "/entry/entry_uuid",
                json!("0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b"),
                "ec5_53",
                "entry.entry_uuid",
            ),
            (
                "/entry/created_at",
                json!("0000-00-00T00:00:00.000Z"),
                "ec5_79",
                "entry.created_at",
            ),
            (
                "/entry/created_at",
                Value::Null,
                "ec5_21",
                "entry.created_at",
            ),
            (
                "/entry/project_version",
                json!("yesterday"),
                "ec5_79",
                "entry.project_version",
            ),
            (
                "/attributes/form/ref",
                json!("abc"),
                "ec5_28",
                "attributes.form.ref",
            ),
            (
                "/attributes/form/type",
                json!("branch"),
                "ec5_29",
                "attributes.form.type",
            ),
            (
                "/relationships/parent",
                json!("x"),
                "ec5_87",
                "relationships.parent",
            ),
            (
                "/relationships/branch",
                json!({"data": {"owner_input_ref": "short"}}),
                "ec5_28",
                "relationships.branch.data.owner_input_ref",
            ),
        ];
        for (pointer, value, code, source) in cases {
            let mut v = entry();
            *v.pointer_mut(pointer).unwrap() = value;
            assert_eq!(
                codes(&v),
                vec![(code.to_string(), source.to_string())],
                "{pointer}"
            );
        }
    }

    #[test]
    fn a_wrong_id_also_fails_the_entry_uuid_match() {
        let mut v = entry();
        v["id"] = json!("short");
        assert_eq!(
            codes(&v),
            vec![
                ("ec5_28".into(), "id".into()),
                ("ec5_53".into(), "entry.entry_uuid".into())
            ]
        );
    }

    #[test]
    fn missing_relationships_parts_are_ec5_20() {
        let mut v = entry();
        v["relationships"].as_object_mut().unwrap().remove("branch");
        assert_eq!(
            codes(&v),
            vec![("ec5_20".into(), "relationships.branch".into())]
        );
        let mut v = entry();
        v["relationships"] = json!({});
        assert_eq!(
            codes(&v),
            vec![
                ("ec5_20".into(), "relationships".into()),
                ("ec5_20".into(), "relationships.parent".into()),
                ("ec5_20".into(), "relationships.branch".into()),
            ]
        );
    }

    #[test]
    fn missing_entry_object_reports_every_required_field() {
        let mut v = entry();
        v.as_object_mut().unwrap().remove("entry");
        assert_eq!(
            codes(&v),
            vec![
                ("ec5_21".into(), "entry".into()),
                ("ec5_21".into(), "entry.entry_uuid".into()),
                ("ec5_21".into(), "entry.created_at".into()),
                ("ec5_21".into(), "entry.project_version".into()),
            ]
        );
    }

    #[test]
    fn file_entry_fields_are_checked_in_order() {
        let file = |media: Option<&str>, name: &str| FileUpload {
            uuid: "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90".into(),
            form_ref: String::new(),
            media_type: media.map(String::from),
            name: name.into(),
            input_ref: "ref".into(),
            project_version: String::new(),
            platform: String::new(),
            device_id: String::new(),
        };
        let ok = "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90_1717406127.jpg";
        assert_eq!(file(None, ok).check_fields().unwrap_err().code, "ec5_20");
        assert_eq!(
            file(Some("gif"), ok).check_fields().unwrap_err().code,
            "ec5_47"
        );
        assert!(file(Some("photo"), ok).check_fields().is_ok());
        for bad in [
            "../5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90_1.jpg",
            "0e9d8c7b-6a5f-4e3d-8c2b-1a0f9e8d7c6b_1717406127.jpg",
            "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90_1717406127.mp4",
        ] {
            let e = file(Some("photo"), bad).check_fields().unwrap_err();
            assert_eq!(
                (e.code.as_str(), e.source.as_str()),
                ("ec5_47", "file_entry.name"),
                "{bad}"
            );
        }
    }
}
