//! The plan of a request: everything about its output that does not depend on the row.

use std::collections::HashMap;

use crate::export::keys::{AnswerSlots, KeyMap};

use serde_json::Value;

use crate::definition::{Definition, Input, InputType};
use crate::export::dates::php_format_of;
use crate::export::jsonw::key_bytes;
use crate::export::params::EntriesQuery;
use crate::mappings::MappingList;
use crate::php::{array_get, foreach_pairs, push_urlencoded, strval_precision14, truthy};

/// What the plan needs to know about the request.
#[derive(Debug, Clone, Copy)]
pub struct PlanOptions<'a> {
    pub form_ref: &'a str,
    /// `Some` in branch mode: the branch input of `form_ref`.
    pub branch_ref: Option<&'a str>,
    /// An index of the project's mapping list.
    pub map_index: usize,
    /// Private projects add `created_by` and give media as bare file names.
    pub private: bool,
    /// The stored project slug, for media URLs.
    pub slug: &'a str,
    /// `scheme://host[:port]` of the request, for media URLs.
    pub origin: &'a str,
}

/// How one mapped input turns into a value.
#[derive(Debug, Clone)]
pub(super) enum Kind {
    /// Text, textarea, phone, barcode and anything else: the stored value as is.
    Plain,
    Integer,
    Decimal,
    /// Date and time: the PHP `date()` format, `None` for an unknown `datetime_format`.
    DateTime(Option<&'static str>),
    /// Radio and dropdown: answer ref → label.
    Single(KeyMap<String>),
    /// Checkbox and the search types: answer refs → labels.
    Multi(KeyMap<String>),
    Location,
    /// Photo, audio and video: on public projects a URL of the media route, written from
    /// `url_head` (the plan's media base, then `type=…&format=…&name=`, encoded once) on.
    Media {
        url_head: String,
    },
    /// A branch input in form mode: how many branch entries the entry owns.
    BranchCount,
}

#[derive(Debug, Clone)]
pub(super) struct Column {
    pub(super) input_ref: String,
    pub(super) map_to: String,
    pub(super) kind: Kind,
    /// Where `RowAnswers` puts this input's answer.
    pub(super) slot: usize,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Fixed {
    Uuid,
    ParentUuid,
    OwnerUuid,
    CreatedAt,
    UploadedAt,
    CreatedBy,
    Title,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Source {
    Fixed(Fixed),
    Column(usize),
}

/// One key of a JSON entry, encoded once.
#[derive(Debug, Clone)]
pub(super) struct Slot {
    pub(super) name: String,
    pub(super) key: Vec<u8>,
    pub(super) source: Source,
}

/// Everything about a request's output that does not depend on the row.
#[derive(Debug, Clone)]
pub struct ExportPlan {
    pub(super) fixed: Vec<(&'static str, Fixed)>,
    pub(super) columns: Vec<Column>,
    pub(super) slots: Vec<Slot>,
    pub(super) header: Vec<String>,
    /// `"entry"` or `"branch_entry"`: where `entry_data` keeps the answers.
    pub(super) body_key: &'static str,
    /// Input ref → answer slot.
    pub(super) answer_slots: AnswerSlots,
    /// Whether a column shows branch counts (the rows' `branch_counts` are read only then).
    pub(super) has_branch_counts: bool,
    pub(super) private: bool,
    /// `{origin}/api/media/{slug}?` is written in JSON as it is (nothing in it to escape).
    pub(super) media_base_is_plain: bool,
    pub(super) map_name: String,
    pub(super) map_index: usize,
}

impl ExportPlan {
    pub fn new(def: &Definition, maps: &MappingList, opts: &PlanOptions<'_>) -> ExportPlan {
        let first_form = def
            .forms
            .first()
            .is_some_and(|f| f.form_ref.as_str() == opts.form_ref);
        let mut fixed: Vec<(&'static str, Fixed)> = match opts.branch_ref {
            Some(_) => vec![
                ("ec5_branch_owner_uuid", Fixed::OwnerUuid),
                ("ec5_branch_uuid", Fixed::Uuid),
            ],
            None if first_form => vec![("ec5_uuid", Fixed::Uuid)],
            None => vec![
                ("ec5_uuid", Fixed::Uuid),
                ("ec5_parent_uuid", Fixed::ParentUuid),
            ],
        };
        fixed.push(("created_at", Fixed::CreatedAt));
        fixed.push(("uploaded_at", Fixed::UploadedAt));
        if opts.private {
            fixed.push(("created_by", Fixed::CreatedBy));
        }
        fixed.push(("title", Fixed::Title));

        let media_base = format!("{}/api/media/{}?", opts.origin, opts.slug);
        let mut columns = plan_columns(def, maps, opts, &media_base);
        let mut answer_slots = AnswerSlots::default();
        for col in &mut columns {
            col.slot = answer_slots.insert(&col.input_ref);
        }

        // PHP builds the entry as an array: a key written twice keeps its first position and
        // its last value, so an input mapped to `title` overwrites the title in place.
        let mut slots: Vec<Slot> = fixed
            .iter()
            .map(|(name, f)| Slot {
                name: name.to_string(),
                key: key_bytes(name),
                source: Source::Fixed(*f),
            })
            .collect();
        for (i, col) in columns.iter().enumerate() {
            match slots.iter_mut().find(|s| s.name == col.map_to) {
                Some(slot) => slot.source = Source::Column(i),
                None => slots.push(Slot {
                    name: col.map_to.clone(),
                    key: key_bytes(&col.map_to),
                    source: Source::Column(i),
                }),
            }
        }

        let mut header: Vec<String> = fixed.iter().map(|(n, _)| n.to_string()).collect();
        for col in &columns {
            match col.kind {
                Kind::Location => {
                    for prefix in [
                        "lat_",
                        "long_",
                        "accuracy_",
                        "UTM_Northing_",
                        "UTM_Easting_",
                        "UTM_Zone_",
                    ] {
                        header.push(format!("{prefix}{}", col.map_to));
                    }
                }
                _ => header.push(col.map_to.clone()),
            }
        }

        let has_branch_counts = columns.iter().any(|c| matches!(c.kind, Kind::BranchCount));
        ExportPlan {
            has_branch_counts,
            fixed,
            columns,
            slots,
            header,
            body_key: if opts.branch_ref.is_some() {
                "branch_entry"
            } else {
                "entry"
            },
            answer_slots,
            private: opts.private,
            media_base_is_plain: crate::export::jsonw::is_plain_json(&media_base),
            map_name: maps.name(opts.map_index).unwrap_or_default().to_string(),
            map_index: opts.map_index,
        }
    }

    /// The plan of a parsed request.
    pub fn for_query(
        def: &Definition,
        maps: &MappingList,
        query: &EntriesQuery,
        private: bool,
        slug: &str,
        origin: &str,
    ) -> ExportPlan {
        ExportPlan::new(
            def,
            maps,
            &PlanOptions {
                form_ref: &query.form_ref,
                branch_ref: query.branch_ref.as_deref(),
                map_index: query.map_index,
                private,
                slug,
                origin,
            },
        )
    }

    /// The CSV header row.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// `data.mapping.map_name`: the requested map's name, even when the form fell back to map 0.
    pub fn map_name(&self) -> &str {
        &self.map_name
    }

    pub fn map_index(&self) -> usize {
        self.map_index
    }
}

/// The inputs of the form (form mode) or of the branch (branch mode) in output order, groups
/// replaced by their children, with what the selected map says about each.
fn plan_columns(
    def: &Definition,
    maps: &MappingList,
    opts: &PlanOptions<'_>,
    media_base: &str,
) -> Vec<Column> {
    let Some(form) = def.form(opts.form_ref) else {
        return Vec::new();
    };
    let null = Value::Null;
    let form_map = maps
        .form_map(opts.map_index, opts.form_ref)
        .or_else(|| maps.form_map(0, opts.form_ref))
        .unwrap_or(&null);
    let (inputs, selected): (&[Input], &Value) = match opts.branch_ref {
        None => (&form.inputs, form_map),
        Some(branch_ref) => {
            let branch = form
                .inputs
                .iter()
                .find(|i| i.kind == InputType::Branch && i.input_ref.as_str() == branch_ref);
            let branch_map = array_get(form_map, branch_ref)
                .and_then(|b| b.get("branch"))
                .unwrap_or(&null);
            (branch.map_or(&[][..], |b| &b.branch), branch_map)
        }
    };

    // The selected level with each group's child maps merged in (`array_merge`).
    let mut by_ref: HashMap<String, &Value> = HashMap::new();
    for (input_ref, input_map) in foreach_pairs(selected) {
        by_ref.insert(input_ref, input_map);
    }
    for (_, input_map) in foreach_pairs(selected) {
        if let Some(group) = input_map.get("group") {
            for (child_ref, child_map) in foreach_pairs(group) {
                by_ref.insert(child_ref, child_map);
            }
        }
    }

    let flattened = inputs.iter().flat_map(|input| match input.kind {
        InputType::Group => input.group.iter().collect::<Vec<_>>(),
        _ => vec![input],
    });
    let mut columns = Vec::new();
    for input in flattened {
        if input.kind == InputType::Readme {
            continue;
        }
        let Some(input_map) = by_ref.get(input.input_ref.as_str()) else {
            continue;
        };
        if input_map.get("hide").is_some_and(truthy) {
            continue;
        }
        let Some(map_to) = input_map.get("map_to").and_then(map_to_name) else {
            continue;
        };
        columns.push(Column {
            input_ref: input.input_ref.0.clone(),
            map_to,
            kind: kind_of(input, input_map, media_base),
            slot: 0,
        });
    }
    columns
}

/// A `map_to` the export uses: PHP's `empty()` drops `""`, `"0"`, `0`, `false` and `null`.
fn map_to_name(v: &Value) -> Option<String> {
    truthy(v).then(|| strval_precision14(v)).flatten()
}

fn kind_of(input: &Input, input_map: &Value, media_base: &str) -> Kind {
    let labels = || -> KeyMap<String> {
        input_map
            .get("possible_answers")
            .map(foreach_pairs)
            .unwrap_or_default()
            .into_iter()
            .map(|(answer_ref, m)| {
                let label = m
                    .get("map_to")
                    .and_then(strval_precision14)
                    .unwrap_or_default();
                (answer_ref, label)
            })
            .collect()
    };
    match input.kind {
        InputType::Integer => Kind::Integer,
        InputType::Decimal => Kind::Decimal,
        InputType::Date | InputType::Time => {
            Kind::DateTime(input.datetime_format.map(php_format_of))
        }
        InputType::Radio | InputType::Dropdown => Kind::Single(labels()),
        InputType::Checkbox | InputType::SearchSingle | InputType::SearchMultiple => {
            Kind::Multi(labels())
        }
        InputType::Location => Kind::Location,
        InputType::Photo => media_kind(media_base, "photo", "entry_original"),
        InputType::Audio => media_kind(media_base, "audio", "audio"),
        InputType::Video => media_kind(media_base, "video", "video"),
        InputType::Branch => Kind::BranchCount,
        _ => Kind::Plain,
    }
}

/// A media input's kind: its URLs' text up to the file name.
fn media_kind(media_base: &str, media_type: &str, format: &str) -> Kind {
    let mut url_head = String::from(media_base);
    url_head.push_str("type=");
    push_urlencoded(&mut url_head, media_type);
    url_head.push_str("&format=");
    push_urlencoded(&mut url_head, format);
    url_head.push_str("&name=");
    Kind::Media { url_head }
}
