//! Reading one stored `entry_data` for the export in a single pass: the answers of the plan's
//! inputs go straight into their slots and everything else is skipped unread. A text answer
//! without escapes (most of them) is borrowed from `entry_data` as is; only other answers are
//! decoded, so a row allocates for its numbers' and locations' values, not for its text.
//!
//! Malformed data never fails the row: a part of the wrong JSON type reads as missing, and text
//! that is not JSON at all reads as an entry with no answers.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::keys::KeyMap;

/// One value read from `entry_data`: a JSON string without escapes is borrowed as is (it is
/// the decoded text); anything else is decoded as `serde_json` would.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Read<'a> {
    Text(&'a str),
    Value(Value),
}

impl Read<'_> {
    fn is_null(&self) -> bool {
        matches!(self, Read::Value(Value::Null))
    }
}

/// What a row yields: each slot's `answer` (absent or `null` is `None`) and `created_at`.
#[derive(Debug, Default)]
pub(crate) struct RowAnswers<'a> {
    pub answers: Vec<Option<Read<'a>>>,
    pub created_at: Option<Read<'a>>,
}

impl<'a> RowAnswers<'a> {
    /// Reads `entry_data`. `body_key` is `"entry"` or `"branch_entry"`; `slots` maps an input
    /// ref to its slot (`0..slot_count`).
    pub fn read(
        entry_data: &'a str,
        body_key: &str,
        slots: &KeyMap<usize>,
        slot_count: usize,
    ) -> RowAnswers<'a> {
        let mut out = RowAnswers {
            answers: std::iter::repeat_with(|| None).take(slot_count).collect(),
            created_at: None,
        };
        let mut de = serde_json::Deserializer::from_str(entry_data);
        let seed = Top {
            body_key,
            slots,
            out: &mut out,
        };
        if seed.deserialize(&mut de).is_err() || de.end().is_err() {
            out.answers.iter_mut().for_each(|a| *a = None);
            out.created_at = None;
        }
        out
    }
}

/// Implements the visitor methods for JSON values of the wrong type: they are skipped.
macro_rules! ignore_other_types {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(())
        }
    };
}

struct Top<'s, 'de> {
    body_key: &'s str,
    slots: &'s KeyMap<usize>,
    out: &'s mut RowAnswers<'de>,
}

impl<'de> DeserializeSeed<'de> for Top<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("entry data")
    }
    ignore_other_types!();
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == self.body_key {
                map.next_value_seed(Body {
                    slots: self.slots,
                    out: &mut *self.out,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

struct Body<'s, 'de> {
    slots: &'s KeyMap<usize>,
    out: &'s mut RowAnswers<'de>,
}

impl<'de> DeserializeSeed<'de> for Body<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Body<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an entry")
    }
    ignore_other_types!();
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "answers" => map.next_value_seed(Answers {
                    slots: self.slots,
                    out: &mut self.out.answers,
                })?,
                "created_at" => self.out.created_at = Some(map.next_value_seed(ReadSeed)?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct Answers<'s, 'de> {
    slots: &'s KeyMap<usize>,
    out: &'s mut Vec<Option<Read<'de>>>,
}

impl<'de> DeserializeSeed<'de> for Answers<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Answers<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("answers")
    }
    ignore_other_types!();
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match self.slots.get(key.as_ref()) {
                Some(&slot) => {
                    let answer = map.next_value_seed(Answer)?;
                    if let Some(place) = self.out.get_mut(slot) {
                        *place = answer;
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// `{"answer": …, "was_jumped": …}` → the answer, `None` when absent, `null` or malformed.
struct Answer;

impl<'de> DeserializeSeed<'de> for Answer {
    type Value = Option<Read<'de>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(AnswerVisitor)
    }
}

struct AnswerVisitor;

impl<'de> Visitor<'de> for AnswerVisitor {
    type Value = Option<Read<'de>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an answer")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut answer = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "answer" {
                answer = Some(map.next_value_seed(ReadSeed)?).filter(|v| !v.is_null());
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(answer)
    }
}

/// A [`Read`]: strings serde_json hands over unescaped are borrowed; every other value is
/// built as `serde_json::Value`'s own visitor builds it (a key written twice keeps its first
/// position and its last value).
struct ReadSeed;

impl<'de> DeserializeSeed<'de> for ReadSeed {
    type Value = Read<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Read<'de>, D::Error> {
        d.deserialize_any(ReadVisitor)
    }
}

struct ReadVisitor;

impl<'de> Visitor<'de> for ReadVisitor {
    type Value = Read<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Read<'de>, E> {
        Ok(Read::Text(s))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Read<'de>, E> {
        Ok(Read::Value(Value::String(s.to_owned())))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Read<'de>, E> {
        Ok(Read::Value(Value::String(s)))
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Read<'de>, E> {
        Ok(Read::Value(Value::Bool(b)))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Read<'de>, E> {
        Ok(Read::Value(Value::Number(n.into())))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Read<'de>, E> {
        Ok(Read::Value(Value::Number(n.into())))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Read<'de>, E> {
        Ok(Read::Value(
            Number::from_f64(f).map_or(Value::Null, Value::Number),
        ))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Read<'de>, E> {
        Ok(Read::Value(Value::Null))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Read<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Read::Value(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Read<'de>, A::Error> {
        let mut object = Map::new();
        while let Some((key, value)) = map.next_entry::<String, Value>()? {
            object.insert(key, value);
        }
        Ok(Read::Value(Value::Object(object)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn slots() -> KeyMap<usize> {
        [("a".to_string(), 0), ("b".to_string(), 1)]
            .into_iter()
            .collect()
    }

    fn read(text: &str) -> RowAnswers<'_> {
        RowAnswers::read(text, "entry", &slots(), 2)
    }

    fn value(r: &Read<'_>) -> Value {
        match r {
            Read::Text(s) => Value::String(s.to_string()),
            Read::Value(v) => v.clone(),
        }
    }

    fn answers(row: &RowAnswers<'_>) -> Vec<Option<Value>> {
        row.answers.iter().map(|a| a.as_ref().map(value)).collect()
    }

    #[test]
    fn picks_the_slots_answers_and_created_at() {
        let text = json!({"id": "x", "entry": {"answers": {
            "a": {"answer": "one", "was_jumped": false},
            "z": {"answer": {"deep": [1, 2]}},
            "b": {"was_jumped": true, "answer": ["r1", "r2"]}},
            "created_at": "2024-06-03T09:15:27.000Z"}, "branch_entry": {"answers": {"a": {"answer": "no"}}}})
        .to_string();
        let row = read(&text);
        assert_eq!(
            answers(&row),
            [Some(json!("one")), Some(json!(["r1", "r2"]))]
        );
        assert_eq!(row.answers[0], Some(Read::Text("one")));
        assert_eq!(row.created_at, Some(Read::Text("2024-06-03T09:15:27.000Z")));
        let branch = RowAnswers::read(&text, "branch_entry", &slots(), 2);
        assert_eq!(answers(&branch), [Some(json!("no")), None]);
    }

    #[test]
    fn escaped_text_is_decoded_and_other_values_are_built_as_serde_builds_them() {
        let b = r#"{"x": 1, "y": [2.50, true, null, -0.0, 12345678901234567890], "x": "\u00e9"}"#;
        let text = format!(
            r#"{{"entry": {{"answers": {{"a": {{"answer": "tab\there \u00e9"}}, "b": {{"answer": {b}}}}}, "created_at": null}}}}"#
        );
        let row = read(&text);
        assert_eq!(row.answers[0], Some(Read::Value(json!("tab\there \u{e9}"))));
        let parsed: Value = serde_json::from_str(b).unwrap();
        assert_eq!(row.answers[1], Some(Read::Value(parsed.clone())));
        // Same keys in the same order, same numbers.
        assert_eq!(
            value(row.answers[1].as_ref().unwrap()).to_string(),
            parsed.to_string()
        );
        assert_eq!(row.created_at, Some(Read::Value(Value::Null)));
    }

    #[test]
    fn malformed_parts_read_as_missing() {
        assert_eq!(
            answers(&read(
                r#"{"entry": {"answers": {"a": {"answer": null}, "b": "str"}}}"#
            )),
            [None, None]
        );
        assert_eq!(
            read(r#"{"entry": {"answers": [1, {"a": 2}], "created_at": 5}}"#).created_at,
            Some(Read::Value(json!(5)))
        );
        assert_eq!(answers(&read(r#"{"entry": "x"}"#)), [None, None]);
        assert_eq!(answers(&read(r#"[{"entry": {}}]"#)), [None, None]);
        assert_eq!(answers(&read("7")), [None, None]);
        // Not JSON, or JSON followed by junk: nothing at all.
        let broken =
            read(r#"{"entry": {"answers": {"a": {"answer": "x"}}, "created_at": "t"}} junk"#);
        assert_eq!(
            (answers(&broken), broken.created_at),
            (vec![None, None], None)
        );
        assert_eq!(
            answers(&read(
                "{\"entry\": {\"answers\": {\"a\": {\"answer\": \"x\""
            )),
            [None, None]
        );
        // Escaped keys still match.
        assert_eq!(
            answers(&read(
                r#"{"entry": {"answers": {"\u0061": {"answer": 1}}}}"#
            )),
            [Some(json!(1)), None]
        );
    }
}
