//! The Mappings page: the project's maps (n/4), a new one, one form of a custom map edited as
//! one form, the default map, deleting a map. The rules are `quadrat mapping`'s
//! (docs/protocol.md §4.4).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query};
use axum::response::Response;
use quadrat_app::AppError;
use quadrat_app::sessions::Flash;
use quadrat_core::definition::{Input, InputType};
use quadrat_core::mappings::MappingList;
use quadrat_core::mappings::custom::MAX_MAPS;
use quadrat_core::mappings::form_edits::FormEdits;
use serde::Deserialize;
use serde_json::Value;

use super::details::{ManagerForm, managed, managed_form};
use crate::web::forms::bracketed;
use crate::web::render::{self, Chrome, refusal_flash};
use crate::web::session::{LoggedIn, PostedForm};

pub struct MapTab {
    pub index: usize,
    pub name: String,
    pub is_default: bool,
    pub current: bool,
}

pub struct AnswerRow {
    pub answer_ref: String,
    pub answer: String,
    pub map_to: String,
}

/// One question of the selected form, in definition order.
pub struct Row {
    pub input_ref: String,
    pub question: String,
    /// 0 top level, 1 inside a group or branch, 2 a group inside a branch.
    pub depth: usize,
    /// Group and branch questions only head their children.
    pub heading: bool,
    pub map_to: String,
    pub hide: bool,
    pub answers: Vec<AnswerRow>,
}

#[derive(Template)]
#[template(path = "mappings.html")]
struct MappingsPage {
    c: Chrome,
    slug: String,
    tabs: Vec<MapTab>,
    count: usize,
    max: usize,
    index: usize,
    map_name: String,
    is_default: bool,
    forms: Vec<(String, String)>,
    form_ref: String,
    rows: Vec<Row>,
}

#[derive(Deserialize, Default)]
pub struct MapQuery {
    map_index: Option<usize>,
    #[serde(default)]
    form_ref: String,
}

/// map_to, hide and answer labels of every input of one form's map, at any depth.
fn current_values(form_map: Option<&Value>) -> HashMap<String, &serde_json::Map<String, Value>> {
    fn walk<'a>(v: &'a Value, out: &mut HashMap<String, &'a serde_json::Map<String, Value>>) {
        let Some(inputs) = v.as_object() else { return };
        for (input_ref, entry) in inputs {
            if let Some(obj) = entry.as_object() {
                out.insert(input_ref.clone(), obj);
                for nested in ["group", "branch"] {
                    if let Some(children) = obj.get(nested) {
                        walk(children, out);
                    }
                }
            }
        }
    }
    let mut out = HashMap::new();
    if let Some(v) = form_map {
        walk(v, &mut out);
    }
    out
}

fn rows(
    inputs: &[Input],
    depth: usize,
    values: &HashMap<String, &serde_json::Map<String, Value>>,
    out: &mut Vec<Row>,
) {
    for input in inputs {
        if input.kind == InputType::Readme {
            continue;
        }
        let entry = values.get(input.input_ref.as_str());
        let text = |key: &str| {
            entry
                .and_then(|e| e.get(key))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let answers = input
            .possible_answers
            .iter()
            .map(|a| AnswerRow {
                map_to: entry
                    .and_then(|e| e.get("possible_answers"))
                    .and_then(|p| p.get(&a.answer_ref))
                    .and_then(|p| p.get("map_to"))
                    .and_then(Value::as_str)
                    .unwrap_or(&a.answer)
                    .to_string(),
                answer_ref: a.answer_ref.clone(),
                answer: a.answer.clone(),
            })
            .collect();
        out.push(Row {
            input_ref: input.input_ref.0.clone(),
            question: input.question.clone(),
            depth,
            heading: matches!(input.kind, InputType::Group | InputType::Branch),
            map_to: text("map_to"),
            hide: entry
                .and_then(|e| e.get("hide"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            answers,
        });
        rows(input.children(), depth + 1, values, out);
    }
}

/// `GET /myprojects/{slug}/mapping-data?map_index=&form_ref=`
pub async fn page(me: LoggedIn, Path(slug): Path<String>, Query(q): Query<MapQuery>) -> Response {
    let (project, _) = match managed(&me, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let def = match project.definition() {
        Ok(d) => d,
        Err(e) => return me.refused(e),
    };
    let stored = serde_json::from_str(&project.structure.project_mapping).unwrap_or_default();
    let list = MappingList::from_stored(&stored);
    let index = q
        .map_index
        .filter(|i| list.contains(*i))
        .unwrap_or_else(|| list.default_index());
    let form = def.form(&q.form_ref).or_else(|| def.forms.first()).cloned();
    let form_ref = form
        .as_ref()
        .map(|f| f.form_ref.0.clone())
        .unwrap_or_default();
    let values = current_values(list.form_map(index, &form_ref));
    let mut table = Vec::new();
    if let Some(f) = &form {
        rows(&f.inputs, 0, &values, &mut table);
    }
    let summaries = list.summaries();
    let current = summaries.iter().find(|m| m.index == index);
    let page = MappingsPage {
        c: me
            .project_chrome("Mappings", &project.slug, &project.name, "mappings")
            .await,
        slug: project.slug.clone(),
        map_name: current.map_or(String::new(), |m| m.name.clone()),
        is_default: current.is_some_and(|m| m.is_default),
        count: summaries.len(),
        max: MAX_MAPS,
        tabs: summaries
            .iter()
            .map(|m| MapTab {
                index: m.index,
                name: m.name.clone(),
                is_default: m.is_default,
                current: m.index == index,
            })
            .collect(),
        index,
        forms: def
            .forms
            .iter()
            .map(|f| (f.form_ref.0.clone(), f.name.clone()))
            .collect(),
        form_ref,
        rows: table,
    };
    render::page(&page)
}

fn base(slug: &str) -> String {
    format!("/myprojects/{slug}/mapping-data")
}

/// `POST /myprojects/{slug}/mapping-data` `{name, make_default}`: a new map, a copy of
/// EC5_AUTO.
pub async fn create(Path(slug): Path<String>, form: PostedForm) -> Response {
    let ManagerForm {
        me,
        fields,
        project,
        actor: _,
    } = match managed_form(form, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let name = fields.get("name").trim();
    let done = me
        .state
        .app
        .create_mapping(&project.slug, name, fields.has("make_default"))
        .await;
    let (location, flash) = match done {
        Ok(index) => (
            format!("{}?map_index={index}", base(&project.slug)),
            Flash::success(format!("{name} mapping added.")),
        ),
        Err(e) => match refusal_flash(e) {
            Ok(flash) => (base(&project.slug), flash),
            Err(e) => return me.refused(e),
        },
    };
    me.redirect_with(&location, flash).await
}

/// `POST /myprojects/{slug}/mapping-data/update` `{action: update|make-default, map_index,
/// form_ref, map_to[…], hide[…], answer[…][…]}`
pub async fn update(Path(slug): Path<String>, form: PostedForm) -> Response {
    let ManagerForm {
        me,
        fields,
        project,
        actor: _,
    } = match managed_form(form, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(index) = fields.get("map_index").parse::<usize>() else {
        return me.refused(AppError::client(422, "ec5_230", "map_index"));
    };
    let form_ref = fields.get("form_ref").to_string();
    let location = format!(
        "{}?map_index={index}&form_ref={}",
        base(&project.slug),
        form_urlencoded::byte_serialize(form_ref.as_bytes()).collect::<String>()
    );
    let app = &me.state.app;
    let done = match fields.get("action") {
        "make-default" => app
            .set_default_mapping(&project.slug, index)
            .await
            .map(|()| "Default mapping set."),
        _ => {
            let mut edits = FormEdits::default();
            for (name, value) in fields.all() {
                if let Some(keys) = bracketed(name, "map_to") {
                    edits.map_to.insert(keys[0].to_string(), value.to_string());
                } else if let Some(keys) = bracketed(name, "hide") {
                    edits.hidden.insert(keys[0].to_string());
                } else if let Some(keys) = bracketed(name, "answer")
                    && keys.len() == 2
                {
                    edits
                        .answers
                        .insert((keys[0].into(), keys[1].into()), value.to_string());
                }
            }
            app.update_mapping_form(&project.slug, index, &form_ref, &edits)
                .await
                .map(|()| "Mapping saved.")
        }
    };
    let flash = match done {
        Ok(text) => Flash::success(text),
        Err(e) => match refusal_flash(e) {
            Ok(flash) => flash,
            Err(e) => return me.refused(e),
        },
    };
    me.redirect_with(&location, flash).await
}

/// `POST /myprojects/{slug}/mapping-data/delete` `{map_index}`
pub async fn delete(Path(slug): Path<String>, form: PostedForm) -> Response {
    let ManagerForm {
        me,
        fields,
        project,
        actor: _,
    } = match managed_form(form, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(index) = fields.get("map_index").parse::<usize>() else {
        return me.refused(AppError::client(422, "ec5_230", "map_index"));
    };
    let flash = match me.state.app.delete_mapping(&project.slug, index).await {
        Ok(()) => Flash::success("Mapping deleted."),
        Err(e) => match refusal_flash(e) {
            Ok(flash) => flash,
            Err(e) => return me.refused(e),
        },
    };
    me.redirect_with(&base(&project.slug), flash).await
}
