//! One row of the JSON entries export under map 0 (EC5_AUTO) turned back into the upload
//! payload that stored it, for `quadrat mirror` (docs/protocol.md §18.4). The row is laid out
//! as a bulk-upload line of the same template (labels, dates and times in the export's shapes),
//! so the conversion rules are the bulk import's; media names and the remote `created_at` are
//! added on top. Lossy where the export is: see the table in §18.4.

use serde_json::{Map, Value, json};

use super::convert::RowContext;
use super::template::Template;
use crate::codes::Ec5Error;
use crate::definition::{DatetimeFormat, InputType};

/// The platform stored for mirrored entries: original devices cannot edit them locally.
pub const MIRROR_PLATFORM: &str = "MIRROR";

/// What a row needs besides itself.
#[derive(Debug, Clone)]
pub struct ExportRowContext<'a> {
    pub project_version: &'a str,
}

/// A media file an export row names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaName {
    pub kind: InputType,
    pub name: String,
}

/// A row rebuilt: the upload payload (`data` member), the remote `uploaded_at` text, the
/// media it names and what of it could not be rebuilt exactly.
#[derive(Debug, Clone)]
pub struct Rebuilt {
    pub payload: Value,
    pub uuid: String,
    pub uploaded_at: String,
    pub media: Vec<MediaName>,
    pub losses: Losses,
}

/// What a rebuilt row lost (docs/protocol.md §18.4), counted for the mirror's summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Losses {
    /// Labels two answers of the input share: the first answer was taken.
    pub ambiguous_labels: u64,
    /// Dates of a `MM/YYYY` (day lost) or `dd/MM` (year lost) input.
    pub partial_dates: u64,
}

impl Losses {
    pub fn add(&mut self, other: Losses) {
        self.ambiguous_labels += other.ambiguous_labels;
        self.partial_dates += other.partial_dates;
    }
}

impl Template {
    /// The payload of one export row (a JSON object of `/api/export/entries` with
    /// `map_index=0`, or the `entry` of a changes-feed item).
    pub fn rebuild_export_row(
        &self,
        row: &Map<String, Value>,
        ctx: &ExportRowContext<'_>,
    ) -> Result<Rebuilt, Vec<Ec5Error>> {
        let text = |key: &str| row.get(key).map(cell).unwrap_or_default();
        let branch = self.branch_ref.is_some();
        let uuid = text(if branch {
            "ec5_branch_uuid"
        } else {
            "ec5_uuid"
        });
        if uuid.is_empty() {
            return Err(vec![Ec5Error::new("ec5_334", "ec5_uuid")]);
        }
        let mut header = vec![
            if branch {
                "ec5_branch_uuid"
            } else {
                "ec5_uuid"
            }
            .to_string(),
        ];
        let mut fields = vec![uuid.clone()];
        if branch {
            header.push("ec5_branch_owner_uuid".into());
            fields.push(text("ec5_branch_owner_uuid"));
        } else if self.parent_form_ref.is_some() {
            header.push("ec5_parent_uuid".into());
            fields.push(text("ec5_parent_uuid"));
        }
        header.push("title".into());
        fields.push(text("title"));
        for col in &self.columns {
            let value = row.get(&col.map_to);
            if col.kind == InputType::Location {
                let part = |k: &str| value.and_then(|v| v.get(k)).map(cell).unwrap_or_default();
                for (prefix, key) in [
                    ("lat_", "latitude"),
                    ("long_", "longitude"),
                    ("accuracy_", "accuracy"),
                ] {
                    header.push(format!("{prefix}{}", col.map_to));
                    fields.push(part(key));
                }
                continue;
            }
            header.push(col.map_to.clone());
            fields.push(match value {
                Some(Value::Array(items)) => join_multi(items),
                Some(v) => cell(v),
                None => String::new(),
            });
        }
        let binding = self
            .bind(&header)
            .map_err(|why| vec![Ec5Error::new("ec5_47", why)])?;
        let created_at = text("created_at");
        let rctx = RowContext {
            new_uuid: &uuid,
            created_at: &created_at,
            project_version: ctx.project_version,
            parent_uuid: None,
            owner_uuid: None,
        };
        let mut payload = self.payload(&binding, &fields, &rctx)?;
        let mut media = Vec::new();
        let kind = if branch { "branch_entry" } else { "entry" };
        if let Some(body) = payload.get_mut(kind).and_then(Value::as_object_mut) {
            body.insert("platform".into(), json!(MIRROR_PLATFORM));
            let day = created_at.get(..10).unwrap_or("1970-01-01").to_string();
            if let Some(answers) = body.get_mut("answers").and_then(Value::as_object_mut) {
                for (input_ref, kind, map_to) in &self.media {
                    let name = row.get(map_to).map(cell).map(|v| media_name(&v));
                    if let (Some(name), Some(slot)) = (name, answers.get_mut(input_ref))
                        && !name.is_empty()
                    {
                        slot["answer"] = json!(name);
                        media.push(MediaName { kind: *kind, name });
                    }
                }
                // A time is stored on the entry's day (the export shows the time only).
                for col in self.columns.iter().filter(|c| c.kind == InputType::Time) {
                    if let Some(Value::String(s)) =
                        answers.get_mut(&col.input_ref).map(|a| &mut a["answer"])
                        && let Some(rest) = s.strip_prefix("1970-01-01")
                    {
                        *s = format!("{day}{rest}");
                    }
                }
            }
        }
        Ok(Rebuilt {
            payload,
            uuid,
            uploaded_at: text("uploaded_at"),
            media,
            losses: self.losses(row),
        })
    }

    /// The row's answers that name a shared label, and its partial dates.
    fn losses(&self, row: &Map<String, Value>) -> Losses {
        let mut losses = Losses::default();
        for col in &self.columns {
            let Some(value) = row.get(&col.map_to) else {
                continue;
            };
            match col.kind {
                InputType::Radio
                | InputType::Dropdown
                | InputType::Checkbox
                | InputType::SearchSingle
                | InputType::SearchMultiple => {
                    let items = match value {
                        Value::Array(items) => items.iter().map(cell).collect(),
                        v => vec![cell(v)],
                    };
                    losses.ambiguous_labels += items
                        .iter()
                        .filter(|l| col.shared_labels.contains(*l))
                        .count() as u64;
                }
                InputType::Date
                    if matches!(
                        col.datetime_format,
                        Some(DatetimeFormat::MonthYear | DatetimeFormat::DayMonth)
                    ) && !cell(value).trim().is_empty() =>
                {
                    losses.partial_dates += 1;
                }
                _ => {}
            }
        }
        losses
    }
}

/// A JSON value as the cell text the bulk conversion reads.
fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// Labels joined as the CSV export joins them, which `split_multi` reads back.
fn join_multi(items: &[Value]) -> String {
    items
        .iter()
        .map(|v| {
            let s = cell(v);
            if s.contains(", ") || s.starts_with('"') {
                format!("\"{s}\"")
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A media answer of the export: the `name` parameter of a public project's media URL, the
/// bare name on private projects.
fn media_name(value: &str) -> String {
    match value.split_once('?') {
        Some((_, query)) if value.contains("://") => form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "name")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default(),
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_names_come_from_urls_or_stand_alone() {
        assert_eq!(
            media_name("https://h/api/media/s?type=photo&format=entry_original&name=a%20b.jpg&v=1"),
            "a b.jpg"
        );
        assert_eq!(media_name("x_1.mp4"), "x_1.mp4");
    }

    #[test]
    fn shared_labels_take_the_first_answer_and_are_counted_with_partial_dates() {
        use crate::definition::Definition;
        use crate::definition::mapping::regenerate;
        use crate::mappings::MappingList;

        let mut file: Value =
            serde_json::from_str(include_str!("../../tests/fixtures/tree-survey-2024.json"))
                .unwrap();
        let inputs = file["data"]["project"]["forms"][0]["inputs"]
            .as_array_mut()
            .unwrap();
        for input in inputs.iter_mut() {
            match input["question"].as_str() {
                // Both answers read "Yes".
                Some("Is the site accessible?") => {
                    input["possible_answers"][1]["answer"] = json!("Yes")
                }
                Some("Survey date") => input["datetime_format"] = json!("MM/YYYY"),
                _ => {}
            }
        }
        let def = Definition::from_data(&file["data"]).unwrap();
        let maps = MappingList::from_stored(&regenerate(&file["data"], None));
        let form = def.forms[0].form_ref.0.clone();
        let t = Template::new(&def, &maps, 0, &form, None).unwrap();
        let header = |suffix: &str| {
            t.headers()
                .into_iter()
                .find(|h| h.ends_with(suffix))
                .unwrap()
        };
        let mut row = Map::new();
        for (k, v) in [
            ("ec5_uuid", json!("5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90")),
            ("created_at", json!("2024-06-03T09:15:27.000Z")),
            ("uploaded_at", json!("2024-06-03T09:16:00.000Z")),
            ("title", json!("Oak Ridge")),
            (&header("Is_the_site_access"), json!("Yes")),
            (&header("Survey_date"), json!("06/2024")),
        ] {
            row.insert(k.to_string(), v);
        }
        let ctx = ExportRowContext {
            project_version: "2024-06-01 10:20:33",
        };
        let rebuilt = t.rebuild_export_row(&row, &ctx).unwrap();
        assert_eq!(
            rebuilt.losses,
            Losses {
                ambiguous_labels: 1,
                partial_dates: 1
            }
        );
        let answers = &rebuilt.payload["entry"]["answers"];
        let accessible = def.forms[0]
            .inputs
            .iter()
            .find(|i| i.question == "Is the site accessible?")
            .unwrap();
        assert_eq!(
            answers[accessible.input_ref.as_str()]["answer"],
            json!(accessible.possible_answers[0].answer_ref)
        );
    }

    #[test]
    fn multi_labels_round_trip_through_split_multi() {
        let items = vec![json!("a"), json!("b, c"), json!("d")];
        assert_eq!(
            super::super::split_multi(&join_multi(&items)),
            vec!["a", "b, c", "d"]
        );
    }
}
