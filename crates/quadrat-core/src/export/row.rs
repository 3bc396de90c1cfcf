//! Reading one stored `entry_data` for the export in a single pass: the answers of the plan's
//! inputs go straight into their slots and everything else is skipped unread, so a row costs
//! one allocation per answer the export shows, not a whole JSON tree.
//!
//! Malformed data never fails the row: a part of the wrong JSON type reads as missing, and text
//! that is not JSON at all reads as an entry with no answers.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::keys::KeyMap;

/// What a row yields: each slot's `answer` (absent or `null` is `None`) and `created_at`.
#[derive(Debug, Default)]
pub(crate) struct RowAnswers {
    pub answers: Vec<Option<Value>>,
    pub created_at: Option<Value>,
}

impl RowAnswers {
    /// Reads `entry_data`. `body_key` is `"entry"` or `"branch_entry"`; `slots` maps an input
    /// ref to its slot (`0..slot_count`).
    pub fn read(
        entry_data: &str,
        body_key: &str,
        slots: &KeyMap<usize>,
        slot_count: usize,
    ) -> RowAnswers {
        let mut out = RowAnswers {
            answers: vec![None; slot_count],
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

struct Top<'s> {
    body_key: &'s str,
    slots: &'s KeyMap<usize>,
    out: &'s mut RowAnswers,
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
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

struct Body<'s> {
    slots: &'s KeyMap<usize>,
    out: &'s mut RowAnswers,
}

impl<'de> DeserializeSeed<'de> for Body<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Body<'_> {
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
                "created_at" => self.out.created_at = Some(map.next_value::<Value>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct Answers<'s> {
    slots: &'s KeyMap<usize>,
    out: &'s mut Vec<Option<Value>>,
}

impl<'de> DeserializeSeed<'de> for Answers<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Answers<'_> {
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
    type Value = Option<Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Value>, D::Error> {
        d.deserialize_any(AnswerVisitor)
    }
}

struct AnswerVisitor;

impl<'de> Visitor<'de> for AnswerVisitor {
    type Value = Option<Value>;
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
                answer = Some(map.next_value::<Value>()?).filter(|v| !v.is_null());
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(answer)
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

    fn read(text: &str) -> RowAnswers {
        RowAnswers::read(text, "entry", &slots(), 2)
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
        assert_eq!(row.answers, [Some(json!("one")), Some(json!(["r1", "r2"]))]);
        assert_eq!(row.created_at, Some(json!("2024-06-03T09:15:27.000Z")));
        let branch = RowAnswers::read(&text, "branch_entry", &slots(), 2);
        assert_eq!(branch.answers, [Some(json!("no")), None]);
    }

    #[test]
    fn malformed_parts_read_as_missing() {
        assert_eq!(
            read(r#"{"entry": {"answers": {"a": {"answer": null}, "b": "str"}}}"#).answers,
            [None, None]
        );
        assert_eq!(
            read(r#"{"entry": {"answers": [1, {"a": 2}], "created_at": 5}}"#).created_at,
            Some(json!(5))
        );
        assert_eq!(read(r#"{"entry": "x"}"#).answers, [None, None]);
        assert_eq!(read(r#"[{"entry": {}}]"#).answers, [None, None]);
        assert_eq!(read("7").answers, [None, None]);
        // Not JSON, or JSON followed by junk: nothing at all.
        let broken =
            read(r#"{"entry": {"answers": {"a": {"answer": "x"}}, "created_at": "t"}} junk"#);
        assert_eq!(
            (broken.answers, broken.created_at),
            (vec![None, None], None)
        );
        assert_eq!(
            read("{\"entry\": {\"answers\": {\"a\": {\"answer\": \"x\"").answers,
            [None, None]
        );
        // Escaped keys still match.
        assert_eq!(
            read(r#"{"entry": {"answers": {"\u0061": {"answer": 1}}}}"#).answers,
            [Some(json!(1)), None]
        );
    }
}
