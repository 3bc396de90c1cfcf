//! The mapping page's form: one map, one form of the project, every question's column name,
//! hidden flag and answer labels sent as one set of fields. [`FormEdits::apply`] writes them
//! into the map's JSON, which [`super::custom::update`] then validates like any other map.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

/// What the page sent for one form, by input ref (at any depth: group and branch children
/// included). Inputs it does not name are left as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormEdits {
    /// `map_to[<input ref>]`: the column name.
    pub map_to: BTreeMap<String, String>,
    /// `hide[<input ref>]`: ticked boxes. Only inputs named in `map_to` are changed, since an
    /// unticked box is not sent at all.
    pub hidden: BTreeSet<String>,
    /// `answer[<input ref>][<answer ref>]`: an answer's label.
    pub answers: BTreeMap<(String, String), String>,
}

impl FormEdits {
    /// The map (the JSON of docs/protocol.md §4.1) with these edits applied to form `form_ref`.
    pub fn apply(&self, map: &Map<String, Value>, form_ref: &str) -> Value {
        let mut map = map.clone();
        if let Some(inputs) = map
            .get_mut("forms")
            .and_then(|f| f.get_mut(form_ref))
            .and_then(Value::as_object_mut)
        {
            self.apply_inputs(inputs);
        }
        Value::Object(map)
    }

    fn apply_inputs(&self, inputs: &mut Map<String, Value>) {
        for (input_ref, entry) in inputs.iter_mut() {
            let Some(entry) = entry.as_object_mut() else {
                continue;
            };
            if let Some(map_to) = self.map_to.get(input_ref) {
                entry.insert("map_to".into(), Value::String(map_to.clone()));
                entry.insert("hide".into(), Value::Bool(self.hidden.contains(input_ref)));
            }
            if let Some(answers) = entry
                .get_mut("possible_answers")
                .and_then(Value::as_object_mut)
            {
                for (answer_ref, answer) in answers.iter_mut() {
                    let key = (input_ref.clone(), answer_ref.clone());
                    if let (Some(label), Some(answer)) =
                        (self.answers.get(&key), answer.as_object_mut())
                    {
                        answer.insert("map_to".into(), Value::String(label.clone()));
                    }
                }
            }
            for nested in ["group", "branch"] {
                if let Some(children) = entry.get_mut(nested).and_then(Value::as_object_mut) {
                    self.apply_inputs(children);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn edits_reach_nested_inputs_and_answers_and_leave_the_rest() {
        let map = json!({"name": "Field", "forms": {"f1": {
            "i1": {"hide": false, "map_to": "a", "group": [], "branch": [],
                   "possible_answers": {"x1": {"map_to": "Yes"}}},
            "i2": {"hide": false, "map_to": "b", "branch": [], "possible_answers": [],
                   "group": {"i2_c": {"hide": false, "map_to": "c", "group": [], "branch": [],
                             "possible_answers": []}}},
            "i3": {"hide": true, "map_to": "d", "group": [], "branch": [], "possible_answers": []}
        }, "f2": {"j1": {"hide": false, "map_to": "e"}}}});
        let mut edits = FormEdits::default();
        edits.map_to.insert("i1".into(), "site".into());
        edits.map_to.insert("i2_c".into(), "child".into());
        edits.hidden.insert("i2_c".into());
        edits
            .answers
            .insert(("i1".into(), "x1".into()), "Oui".into());
        let out = edits.apply(map.as_object().unwrap(), "f1");
        let f1 = &out["forms"]["f1"];
        assert_eq!(f1["i1"]["map_to"], "site");
        assert_eq!(f1["i1"]["hide"], false);
        assert_eq!(f1["i1"]["possible_answers"]["x1"]["map_to"], "Oui");
        assert_eq!(f1["i2"]["group"]["i2_c"]["map_to"], "child");
        assert_eq!(f1["i2"]["group"]["i2_c"]["hide"], true);
        assert_eq!(f1["i3"], map["forms"]["f1"]["i3"]);
        assert_eq!(out["forms"]["f2"], map["forms"]["f2"]);
    }
}
