//! The bulk-upload template of a form or branch under one map, and a file's header row bound
//! to it.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::definition::{DatetimeFormat, Definition, Input, InputType};
use crate::mappings::MappingList;
use crate::php::{array_get, foreach_pairs, strval_precision14, truthy};

/// One bulk-uploadable input of the template.
#[derive(Debug, Clone)]
pub(super) struct Column {
    pub(super) input_ref: String,
    pub(super) kind: InputType,
    pub(super) map_to: String,
    /// Label (the map's possible-answer `map_to`) → answer ref; of two answers sharing a
    /// label, the first.
    pub(super) labels: HashMap<String, String>,
    /// The labels two or more answers share (which one an exported label meant is lost).
    pub(super) shared_labels: HashSet<String>,
    /// The input's answer refs, also accepted as they are.
    pub(super) refs: Vec<String>,
    pub(super) datetime_format: Option<DatetimeFormat>,
}

/// The template of one form or one branch, under one map.
#[derive(Debug, Clone)]
pub struct Template {
    pub(super) form_ref: String,
    /// The form before `form_ref` when it is a child form.
    pub(super) parent_form_ref: Option<String>,
    pub(super) branch_ref: Option<String>,
    pub(super) columns: Vec<Column>,
    /// The export's column names of the inputs an import cannot fill (media, branch counts):
    /// accepted in a file and ignored, so an export file imports again.
    pub(super) ignored: Vec<String>,
    /// The media inputs (photo, audio, video): input ref, type, the map's `map_to`. Only a
    /// mirror fills them, from the names in an export row.
    pub(super) media: Vec<(String, InputType, String)>,
    /// Every answerable input (all but groups and readme), groups walked in place: the answers
    /// every payload carries.
    pub(super) answerable: Vec<(String, InputType)>,
    /// For each of `answerable`, the column its answer is read from: the last column of its
    /// ref, for the first answerable input of that ref only (what a map from ref to converted
    /// answer, taken out once, gave); `None` for an empty answer.
    pub(super) answer_columns: Vec<Option<usize>>,
}

/// [`Template::answer_columns`]: each answerable input's column, found once per template
/// rather than per row.
fn answer_columns(answerable: &[(String, InputType)], columns: &[Column]) -> Vec<Option<usize>> {
    answerable
        .iter()
        .enumerate()
        .map(|(i, (input_ref, _))| {
            let first = answerable[..i].iter().all(|(r, _)| r != input_ref);
            first
                .then(|| columns.iter().rposition(|c| &c.input_ref == input_ref))
                .flatten()
        })
        .collect()
}

/// What one header of a file stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Uuid,
    Parent,
    Owner,
    Title,
    /// A column the export writes that an import has no use for (`created_at`, UTM values…).
    Ignored,
    Answer(usize),
    Lat(usize),
    Long(usize),
    Accuracy(usize),
}

/// A file's header row bound to a template.
#[derive(Debug, Clone)]
pub struct Binding {
    pub(super) fields: Vec<Field>,
}

impl Template {
    /// The template of `form_ref` (or of its branch input `branch_ref`) under map `map_index`
    /// (falling back to map 0 for a form the map does not cover, as the export does).
    pub fn new(
        def: &Definition,
        maps: &MappingList,
        map_index: usize,
        form_ref: &str,
        branch_ref: Option<&str>,
    ) -> Result<Template, String> {
        let index = def
            .form_index(form_ref)
            .ok_or_else(|| format!("the project has no form {form_ref}"))?;
        let form = &def.forms[index];
        let null = Value::Null;
        let form_map = maps
            .form_map(map_index, form_ref)
            .or_else(|| maps.form_map(0, form_ref))
            .unwrap_or(&null);
        let (inputs, selected): (&[Input], &Value) = match branch_ref {
            None => (&form.inputs, form_map),
            Some(branch_ref) => {
                let branch = form
                    .branches()
                    .find(|b| b.input_ref.as_str() == branch_ref)
                    .ok_or_else(|| format!("the form has no branch {branch_ref}"))?;
                let branch_map = array_get(form_map, branch_ref)
                    .and_then(|b| b.get("branch"))
                    .unwrap_or(&null);
                (&branch.branch, branch_map)
            }
        };
        let mut by_ref: HashMap<String, &Value> = HashMap::new();
        for (input_ref, input_map) in foreach_pairs(selected) {
            if let Some(group) = input_map.get("group") {
                for (child_ref, child_map) in foreach_pairs(group) {
                    by_ref.insert(child_ref, child_map);
                }
            }
            by_ref.insert(input_ref, input_map);
        }
        let flattened: Vec<&Input> = inputs
            .iter()
            .flat_map(|i| match i.kind {
                InputType::Group => i.group.iter().collect::<Vec<_>>(),
                _ => vec![i],
            })
            .collect();
        let answerable: Vec<(String, InputType)> = flattened
            .iter()
            .filter(|i| !matches!(i.kind, InputType::Readme | InputType::Group))
            .map(|i| (i.input_ref.0.clone(), i.kind))
            .collect();
        let mut columns = Vec::new();
        let mut ignored = Vec::new();
        let mut media = Vec::new();
        for input in flattened {
            let input_map = by_ref.get(input.input_ref.as_str()).copied();
            let map_to = input_map
                .and_then(|m| m.get("map_to"))
                .filter(|v| truthy(v))
                .and_then(strval_precision14)
                .unwrap_or_else(|| input.input_ref.0.clone());
            if !uploadable(input.kind) {
                if matches!(
                    input.kind,
                    InputType::Photo | InputType::Audio | InputType::Video
                ) {
                    media.push((input.input_ref.0.clone(), input.kind, map_to.clone()));
                }
                ignored.push(map_to);
                continue;
            }
            let answer_maps = input_map.and_then(|m| m.get("possible_answers"));
            let mut labels: HashMap<String, String> = HashMap::new();
            let mut shared_labels = HashSet::new();
            for p in &input.possible_answers {
                let label = answer_maps
                    .and_then(|m| array_get(m, &p.answer_ref))
                    .and_then(|m| m.get("map_to"))
                    .and_then(strval_precision14)
                    .unwrap_or_else(|| p.answer.clone());
                match labels.entry(label) {
                    Entry::Occupied(taken) => {
                        shared_labels.insert(taken.key().clone());
                    }
                    Entry::Vacant(free) => {
                        free.insert(p.answer_ref.clone());
                    }
                }
            }
            columns.push(Column {
                input_ref: input.input_ref.0.clone(),
                kind: input.kind,
                map_to,
                labels,
                shared_labels,
                refs: input
                    .possible_answers
                    .iter()
                    .map(|p| p.answer_ref.clone())
                    .collect(),
                datetime_format: input.datetime_format,
            });
        }
        let answer_columns = answer_columns(&answerable, &columns);
        Ok(Template {
            form_ref: form_ref.to_string(),
            parent_form_ref: index
                .checked_sub(1)
                .map(|i| def.forms[i].form_ref.0.clone()),
            branch_ref: branch_ref.map(str::to_string),
            columns,
            ignored,
            media,
            answerable,
            answer_columns,
        })
    }

    /// The template's header row, as the real server's template download writes it.
    pub fn headers(&self) -> Vec<String> {
        let mut out = vec![self.uuid_header().to_string()];
        for col in &self.columns {
            if col.kind == InputType::Location {
                for prefix in ["lat_", "long_", "accuracy_"] {
                    out.push(format!("{prefix}{}", col.map_to));
                }
            } else {
                out.push(col.map_to.clone());
            }
        }
        out
    }

    fn uuid_header(&self) -> &'static str {
        if self.branch_ref.is_some() {
            "ec5_branch_uuid"
        } else {
            "ec5_uuid"
        }
    }

    /// Binds a file's header row; every unknown or repeated column is named in the error.
    pub fn bind<S: AsRef<str>>(&self, header: &[S]) -> Result<Binding, String> {
        let mut fields = Vec::with_capacity(header.len());
        let mut unknown = Vec::new();
        let mut repeated = Vec::new();
        for name in header {
            let name = name.as_ref();
            // A BOM before the first header, as spreadsheet programs write it.
            let name = name.strip_prefix('\u{feff}').unwrap_or(name).trim();
            let field = self.field(name);
            match field {
                None => unknown.push(name.to_string()),
                Some(Field::Ignored) => fields.push(Field::Ignored),
                Some(f) if fields.contains(&f) => repeated.push(name.to_string()),
                Some(f) => fields.push(f),
            }
        }
        if !unknown.is_empty() {
            return Err(format!(
                "unknown column{} {}; the template's columns are: {}",
                if unknown.len() == 1 { "" } else { "s" },
                quoted(&unknown),
                self.headers().join(", ")
            ));
        }
        if !repeated.is_empty() {
            return Err(format!("repeated column(s) {}", quoted(&repeated)));
        }
        Ok(Binding { fields })
    }

    fn field(&self, name: &str) -> Option<Field> {
        for (i, col) in self.columns.iter().enumerate() {
            if col.kind == InputType::Location {
                let suffix = |p: &str| name.strip_prefix(p) == Some(col.map_to.as_str());
                if suffix("lat_") {
                    return Some(Field::Lat(i));
                }
                if suffix("long_") {
                    return Some(Field::Long(i));
                }
                if suffix("accuracy_") {
                    return Some(Field::Accuracy(i));
                }
                if ["UTM_Northing_", "UTM_Easting_", "UTM_Zone_"]
                    .iter()
                    .any(|p| suffix(p))
                {
                    return Some(Field::Ignored);
                }
            } else if col.map_to == name {
                return Some(Field::Answer(i));
            }
        }
        if self.ignored.iter().any(|n| n == name) {
            return Some(Field::Ignored);
        }
        let branch = self.branch_ref.is_some();
        Some(match name {
            "ec5_uuid" | "ec5_branch_uuid" => Field::Uuid,
            "ec5_parent_uuid" if !branch && self.parent_form_ref.is_some() => Field::Parent,
            "ec5_branch_owner_uuid" if branch => Field::Owner,
            "title" => Field::Title,
            "created_at" | "uploaded_at" | "created_by" => Field::Ignored,
            _ => return None,
        })
    }
}

/// The types the bulk-upload template has a column for.
fn uploadable(kind: InputType) -> bool {
    use InputType::*;
    matches!(
        kind,
        Text | Phone
            | Textarea
            | Integer
            | Decimal
            | Date
            | Time
            | Radio
            | Checkbox
            | Dropdown
            | Barcode
            | Location
            | SearchSingle
            | SearchMultiple
    )
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}
