//! One input's own rules (`RuleInput`): all 17 keys, then the field rules in the real rule order
//! (errors keyed by field name), then the additional checks (errors keyed by the input ref, a
//! later code replacing an earlier one, sometimes with the question text for the formbuilder).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::errors::ErrorMap;
use super::form::is_child_ref;
use super::html::readme_text_len;
use super::pattern::is_usable_pattern;
use crate::definition::DatetimeFormat;
use crate::definition::model::InputType;
use crate::php::laravel::{self, is_blank_string};
use crate::php::{empty, filter_validate_int, is_numeric, loose_compare, loose_eq};

/// The keys the real validator requires, in its rule order.
const KEYS: [&str; 17] = [
    "ref",
    "question",
    "is_title",
    "is_required",
    "regex",
    "default",
    "verify",
    "max",
    "min",
    "set_to_current_datetime",
    "possible_answers",
    "jumps",
    "branch",
    "group",
    "type",
    "datetime_format",
    "uniqueness",
];

const JUMP_KEYS: [&str; 3] = ["to", "when", "answer_ref"];
const JUMP_CONDITIONS: [&str; 4] = ["IS", "IS_NOT", "NO_ANSWER_GIVEN", "ALL"];

const QUESTION_MAX_CHARS: usize = 255;
const README_MAX_CHARS: usize = 1000;
const ANSWERS_MAX: usize = 300;
const SEARCH_ANSWERS_MAX: usize = 1000;
const ANSWER_MAX_CHARS: usize = 250;
const ANSWER_REF_LEN: usize = 13;

/// Where an input sits, which decides its ref prefix, the types and uniqueness it may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    Top,
    BranchChild,
    GroupChild,
}

#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub slot: Slot,
    /// The form, branch or group the input belongs to.
    pub parent_ref: &'a str,
    /// True for branch children and for children of a group inside a branch.
    pub in_branch: bool,
}

impl Place<'_> {
    fn allows(&self, kind: InputType) -> bool {
        match self.slot {
            Slot::Top => true,
            Slot::BranchChild => kind != InputType::Branch,
            Slot::GroupChild => !matches!(kind, InputType::Branch | InputType::Group),
        }
    }

    fn uniqueness_values(&self) -> &'static [&'static str] {
        if self.in_branch {
            &["none", "form"]
        } else {
            &["none", "form", "hierarchy"]
        }
    }
}

/// The detail errors of one input; empty when it is valid. `seen_refs` collects the refs of
/// inputs checked so far, for project-wide uniqueness.
pub fn check(input: &Value, place: &Place, seen_refs: &mut HashSet<String>) -> ErrorMap {
    let mut errors = ErrorMap::default();
    let Some(input) = input.as_object() else {
        // The real server answers its generic "not an array" code, ec5_269 ("Missing 'data'
        // key"), which says nothing about an input.
        errors.set("validation", "ec5_29");
        return errors;
    };
    if KEYS.iter().any(|k| !input.contains_key(*k)) {
        errors.set("missing_keys", "ec5_60");
        return errors;
    }
    for key in KEYS {
        let codes = field_codes(key, input, place);
        if !codes.is_empty() {
            errors.set_all(key, &codes);
        }
    }
    if errors.is_empty() {
        errors = Subject::new(input).check(place, seen_refs);
    }
    errors
}

fn field_codes(key: &str, input: &Map<String, Value>, place: &Place) -> Vec<&'static str> {
    let value = &input[key];
    let code = match key {
        "ref" if laravel::required(Some(value)) && !value.is_string() => Some("ec5_243"),
        "question" if laravel::required(Some(value)) && !value.is_string() => Some("ec5_29"),
        "ref" | "question" | "type" | "uniqueness" if !laravel::required(Some(value)) => {
            Some("ec5_21")
        }
        "is_title" | "is_required" | "verify" | "set_to_current_datetime" => {
            (!laravel::boolean(value)).then_some("ec5_29")
        }
        "max" => return max_codes(value, &input["min"]),
        "min" => (is_set(value) && is_numeric(value).is_none()).then_some("ec5_27"),
        "possible_answers" | "jumps" => (!value.is_array()).then_some("ec5_29"),
        "branch" | "group" => {
            (!is_child_list_allowed(key, value, &input["type"])).then_some("ec5_29")
        }
        "type" => {
            let allowed = value
                .as_str()
                .and_then(InputType::parse)
                .is_some_and(|t| place.allows(t));
            (!allowed).then_some("ec5_29")
        }
        "datetime_format" => {
            let known = value
                .as_str()
                .is_some_and(|f| DatetimeFormat::parse(f).is_some());
            (is_set(value) && !known).then_some("ec5_29")
        }
        "uniqueness" => {
            let known = value
                .as_str()
                .is_some_and(|u| place.uniqueness_values().contains(&u));
            (!known).then_some("ec5_29")
        }
        _ => None,
    };
    code.into_iter().collect()
}

/// `branch` and `group` must be lists; Quadrat also wants them empty unless the input is of
/// that type (the real server ignores such children; the definition schema forbids them).
fn is_child_list_allowed(key: &str, value: &Value, kind: &Value) -> bool {
    value
        .as_array()
        .is_some_and(|children| children.is_empty() || kind.as_str() == Some(key))
}

/// Set for the nullable rules: neither `null` nor a blank string.
fn is_set(value: &Value) -> bool {
    !value.is_null() && !is_blank_string(value)
}

/// `nullable|numeric|ec5_greater_than_field:min`; both rules run, so both codes may appear.
fn max_codes(max: &Value, min: &Value) -> Vec<&'static str> {
    let mut codes = Vec::new();
    if !is_set(max) {
        return codes;
    }
    if is_numeric(max).is_none() {
        codes.push("ec5_27");
    }
    if is_set(min) && loose_compare(max, min).is_le() {
        codes.push("ec5_28");
    }
    codes
}

/// An input that passed the field rules, under its additional checks.
struct Subject<'a> {
    input: &'a Map<String, Value>,
    input_ref: &'a str,
    question: &'a str,
    kind: InputType,
    errors: ErrorMap,
}

impl<'a> Subject<'a> {
    fn new(input: &'a Map<String, Value>) -> Self {
        Subject {
            input,
            input_ref: input["ref"].as_str().unwrap_or_default(),
            question: input["question"].as_str().unwrap_or_default(),
            kind: input["type"]
                .as_str()
                .and_then(InputType::parse)
                .unwrap_or(InputType::Text),
            errors: ErrorMap::default(),
        }
    }

    fn fail(&mut self, code: &str) {
        self.errors.set(self.input_ref, code);
    }

    fn fail_with_question(&mut self, code: &str) {
        self.fail(code);
        self.errors.set_question(self.question);
    }

    fn list(&self, key: &str) -> &'a [Value] {
        self.input[key]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    fn check(mut self, place: &Place, seen_refs: &mut HashSet<String>) -> ErrorMap {
        if !is_child_ref(place.parent_ref, self.input_ref) {
            self.fail("ec5_243");
        }
        if !seen_refs.insert(self.input_ref.to_string()) {
            self.fail("ec5_224");
        }
        if self.question_too_long() {
            self.fail("ec5_244");
            return self.errors;
        }
        self.check_regex();
        self.check_type_rules();
        self.check_jumps();
        self.errors
    }

    fn question_too_long(&self) -> bool {
        if self.kind == InputType::Readme {
            readme_text_len(self.question) > README_MAX_CHARS
        } else {
            self.question.chars().count() > QUESTION_MAX_CHARS
        }
    }

    fn check_regex(&mut self) {
        let usable = match &self.input["regex"] {
            Value::Null => true,
            Value::String(p) => p.is_empty() || is_usable_pattern(p),
            _ => false,
        };
        if !usable {
            self.fail("ec5_392");
        }
    }

    fn check_type_rules(&mut self) {
        if !self.kind.is_multiple_choice() {
            self.check_no_answers();
        }
        match self.kind {
            InputType::Date | InputType::Time => self.check_datetime_format(),
            InputType::Radio => self.check_choices("ec5_337", ANSWERS_MAX),
            InputType::Dropdown => self.check_choices("ec5_338", ANSWERS_MAX),
            InputType::Checkbox => self.check_choices("ec5_336", ANSWERS_MAX),
            InputType::SearchSingle | InputType::SearchMultiple => {
                self.check_choices("ec5_342", SEARCH_ANSWERS_MAX)
            }
            InputType::Integer => self.check_number_default(is_integer_default),
            InputType::Decimal => self.check_number_default(|d| is_numeric(d).is_some()),
            _ => {}
        }
    }

    /// Only choice inputs take possible answers. The real server checks this for photo, audio
    /// and video only, with the unrelated code `ec5_398`; Quadrat checks every other type too,
    /// with the same code, so that what it stores also passes the definition schema.
    fn check_no_answers(&mut self) {
        if !self.list("possible_answers").is_empty() {
            self.fail_with_question("ec5_398");
        }
    }

    fn check_datetime_format(&mut self) {
        if !is_set(&self.input["datetime_format"]) {
            self.fail_with_question("ec5_79");
        }
    }

    fn check_choices(&mut self, missing_code: &str, max: usize) {
        let count = self.list("possible_answers").len();
        if count == 0 {
            self.fail_with_question(missing_code);
        }
        if count > max {
            self.fail_with_question("ec5_340");
        }
        self.check_possible_answers();
    }

    fn check_possible_answers(&mut self) {
        let default = &self.input["default"];
        let mut matched = false;
        for answer in self.list("possible_answers") {
            let answer_ref = answer.get("answer_ref").unwrap_or(&Value::Null);
            matched |= loose_eq(answer_ref, default);
            match answer.get("answer") {
                Some(Value::String(label)) if label.chars().count() > ANSWER_MAX_CHARS => {
                    self.fail_with_question("ec5_341")
                }
                Some(Value::String(_)) => {}
                _ => self.fail_with_question("ec5_29"),
            }
            if answer_ref
                .as_str()
                .is_none_or(|r| r.len() != ANSWER_REF_LEN)
            {
                self.fail_with_question("ec5_355");
            }
        }
        if is_default_set(default) && !matched {
            self.fail_with_question("ec5_339");
        }
    }

    fn check_number_default(&mut self, is_valid: fn(&Value) -> bool) {
        let input = self.input;
        let default = &input["default"];
        if is_default_set(default) && !is_valid(default) {
            self.fail("ec5_339");
        }
        let (min, max) = (&input["min"], &input["max"]);
        let bounded = is_default_set(default) && is_default_set(min) && is_default_set(max);
        if bounded && (loose_compare(default, max).is_gt() || loose_compare(default, min).is_lt()) {
            self.fail("ec5_28");
        }
    }

    fn check_jumps(&mut self) {
        for jump in self.list("jumps") {
            if let Some(code) = self.jump_error(jump) {
                self.fail(code);
            }
        }
    }

    /// The last code the real server's checks would leave for this jump, if any.
    fn jump_error(&self, jump: &Value) -> Option<&'static str> {
        let Some(jump) = jump.as_object() else {
            return Some("ec5_207");
        };
        let field = |key: &str| jump.get(key).unwrap_or(&Value::Null);
        let when = field("when").as_str();
        let conditional = !matches!(when, Some("ALL" | "NO_ANSWER_GIVEN"));
        let mut code = None;
        if self.kind.is_multiple_choice() {
            let answers = self.list("possible_answers");
            let matches_answer = |a: &Value| {
                loose_eq(
                    a.get("answer_ref").unwrap_or(&Value::Null),
                    field("answer_ref"),
                )
            };
            if conditional && !answers.iter().any(matches_answer) {
                code = Some("ec5_265");
            }
        } else if when != Some("ALL") {
            code = Some("ec5_207");
        }
        let incomplete = empty(field("to"))
            || empty(field("when"))
            || (conditional && empty(field("answer_ref")));
        let unknown_when = !when.is_some_and(|w| JUMP_CONDITIONS.contains(&w));
        let extra_key = jump.keys().any(|k| !JUMP_KEYS.contains(&k.as_str()));
        if incomplete || unknown_when || extra_key {
            code = Some("ec5_207");
        }
        code
    }
}

/// A default counts as set unless it is `""` or (Quadrat, docs/protocol.md §3.4) `null`.
fn is_default_set(value: &Value) -> bool {
    !matches!(value, Value::Null) && value.as_str() != Some("")
}

/// An integer default: `"0"` or what `FILTER_VALIDATE_INT` accepts.
fn is_integer_default(value: &Value) -> bool {
    value.as_str() == Some("0") || filter_validate_int(value).is_some()
}
