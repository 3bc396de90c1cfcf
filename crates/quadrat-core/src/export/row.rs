//! Reading one stored `entry_data` for the export in a single pass: the answers of the plan's
//! inputs go straight into their slots and everything else is skipped (checked, not decoded).
//! A text answer without escapes (most of them) is borrowed from `entry_data` as is; only other
//! answers are decoded, so a row allocates for its locations' and lists' values, not for its
//! text. The pass is a hand-written scan (`scan.rs`): decoding through serde's visitors was a
//! quarter of the export's time.
//!
//! Malformed data never fails the row: a part of the wrong JSON type reads as missing, and text
//! that is not JSON at all reads as an entry with no answers. The result is the one serde's
//! visitors gave (the tests keep them as the reference).

use std::borrow::Cow;

use serde_json::Value;

use super::keys::AnswerSlots;
use super::scan::{Scan, Scanned, Start};

/// One value read from `entry_data`: a JSON string without escapes is borrowed as is (it is
/// the decoded text); anything else is decoded as `serde_json` would.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Read<'a> {
    Text(&'a str),
    /// An array or an object, checked but not decoded: a location or a list of answer refs is
    /// read from its text where it is written, without building a `Value`.
    Raw(&'a str),
    Value(Value),
}

impl Read<'_> {
    fn is_null(&self) -> bool {
        matches!(self, Read::Value(Value::Null))
    }

    /// The value as serde_json decodes it.
    pub(crate) fn into_value(self) -> Value {
        match self {
            Read::Text(s) => Value::String(s.to_owned()),
            Read::Raw(text) => decode_raw(text),
            Read::Value(v) => v,
        }
    }
}

/// A [`Read::Raw`]'s value (its text was checked when it was read, so it decodes).
pub(crate) fn decode_raw(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// What a row yields: each slot's `answer` (absent or `null` is `None`) and `created_at`.
#[derive(Debug, Default)]
pub(crate) struct RowAnswers<'a> {
    pub answers: Vec<Option<Read<'a>>>,
    pub created_at: Option<Read<'a>>,
}

impl<'a> RowAnswers<'a> {
    /// Reads `entry_data`. `body_key` is `"entry"` or `"branch_entry"`; `slots` maps an input
    /// ref to its slot.
    pub fn read(entry_data: &'a str, body_key: &str, slots: &AnswerSlots) -> RowAnswers<'a> {
        let mut out = RowAnswers {
            answers: std::iter::repeat_with(|| None).take(slots.len()).collect(),
            created_at: None,
        };
        let mut scan = Scan::new(entry_data);
        if top(&mut scan, body_key, slots, &mut out)
            .and_then(|()| scan.end())
            .is_err()
        {
            out.answers.iter_mut().for_each(|a| *a = None);
            out.created_at = None;
        }
        out
    }
}

/// The document: the body under `body_key` (other members, and a non-object, are skipped).
fn top<'a>(
    scan: &mut Scan<'a>,
    body_key: &str,
    slots: &AnswerSlots,
    out: &mut RowAnswers<'a>,
) -> Scanned<()> {
    if scan.start()? != Start::Object {
        return scan.skip();
    }
    scan.object(|scan, key| {
        if key == body_key {
            body(scan, slots, out)
        } else {
            scan.skip()
        }
    })
}

/// `{"answers": …, "created_at": …, …}`.
fn body<'a>(scan: &mut Scan<'a>, slots: &AnswerSlots, out: &mut RowAnswers<'a>) -> Scanned<()> {
    if scan.start()? != Start::Object {
        return scan.skip();
    }
    scan.object(|scan, key| match key.as_ref() {
        "answers" => answers(scan, slots, &mut out.answers),
        "created_at" => {
            out.created_at = Some(read_value(scan)?);
            Ok(())
        }
        _ => scan.skip(),
    })
}

/// `{input_ref: {"answer": …, "was_jumped": …}, …}`: the slots' answers. Each key is first
/// compared with the ref of the slot after the last one found (answers are stored in the
/// definition's order), and only read and looked up when it is not that one.
fn answers<'a>(
    scan: &mut Scan<'a>,
    slots: &AnswerSlots,
    out: &mut [Option<Read<'a>>],
) -> Scanned<()> {
    if scan.start()? != Start::Object {
        return scan.skip();
    }
    let mut next = 0;
    scan.members(|scan| {
        let guessed = match slots.plain_ref(next) {
            Some(input_ref) => scan.key_is(input_ref)?,
            None => false,
        };
        let slot = if guessed {
            Some(next)
        } else {
            let key = scan.key()?;
            slots.get(key.as_ref())
        };
        let Some(slot) = slot else {
            return scan.skip();
        };
        next = slot + 1;
        let answer = answer(scan)?;
        if let Some(place) = out.get_mut(slot) {
            *place = answer;
        }
        Ok(())
    })
}

/// `{"answer": …, "was_jumped": …}` → the answer, `None` when absent, `null` or malformed.
fn answer<'a>(scan: &mut Scan<'a>) -> Scanned<Option<Read<'a>>> {
    if scan.start()? != Start::Object {
        scan.skip()?;
        return Ok(None);
    }
    let mut answer = None;
    // The keys the apps write are guessed first (see `answers`).
    scan.members(|scan| {
        let is_answer = if scan.key_is("answer")? {
            true
        } else if scan.key_is("was_jumped")? {
            false
        } else {
            scan.key()? == "answer"
        };
        if is_answer {
            answer = Some(read_value(scan)?).filter(|v| !v.is_null());
            Ok(())
        } else {
            scan.skip()
        }
    })?;
    Ok(answer)
}

/// A [`Read`]: a string without escapes is borrowed, arrays and objects are kept as their
/// text, and every other value is decoded by serde_json from its text.
pub(crate) fn read_value<'a>(scan: &mut Scan<'a>) -> Scanned<Read<'a>> {
    match scan.start()? {
        Start::String => {
            return Ok(match scan.string()? {
                Cow::Borrowed(s) => Read::Text(s),
                Cow::Owned(s) => Read::Value(Value::String(s)),
            });
        }
        Start::Object | Start::Array => return scan.value_text().map(Read::Raw),
        Start::Other => {}
    }
    let text = scan.value_text()?;
    if let Some(number) = short_number(text) {
        return Ok(Read::Value(number));
    }
    serde_json::from_str(text)
        .map(Read::Value)
        .map_err(|_| super::scan::NotJson)
}

/// A number of at most 15 digits and no exponent (a location's coordinates, most numeric
/// answers), decoded without a `serde_json` deserializer: an integer as the `u64` or `i64`
/// serde_json makes it, a decimal as its digits over a power of ten, which is exact to the
/// nearest `f64` in this range (both integers below 2^53), as serde_json's `f64` is. `None`
/// for anything else (`-0` too, a float for serde_json), which serde_json then decodes.
fn short_number(text: &str) -> Option<Value> {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = match body.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (body, None),
    };
    let digits = whole.len() + fraction.map_or(0, str::len);
    let plain = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if digits > 15
        || !plain(whole)
        || (whole.len() > 1 && whole.starts_with('0'))
        || fraction.is_some_and(|f| !plain(f))
    {
        return None;
    }
    let significand = whole
        .bytes()
        .chain(fraction.unwrap_or("").bytes())
        .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    match fraction {
        None if negative && significand == 0 => None,
        None if negative => Some(Value::from(-(significand as i64))),
        None => Some(Value::from(significand)),
        Some(fraction) => {
            let magnitude = significand as f64 / 10f64.powi(fraction.len() as i32);
            serde_json::Number::from_f64(if negative { -magnitude } else { magnitude })
                .map(Value::Number)
        }
    }
}

#[cfg(test)]
mod serde_reference {
    //! The reader this module replaced, through serde's visitors: the reference the scan is
    //! compared with.
    use std::fmt;

    use serde::de::{
        self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
    };
    use serde_json::{Map, Number, Value};

    use super::{Read, RowAnswers};
    use crate::export::keys::KeyMap;

    pub(super) fn read<'a>(
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::keys::KeyMap;
    use proptest::prelude::*;
    use serde_json::json;

    fn slots() -> AnswerSlots {
        ["a", "b"].into_iter().collect()
    }

    /// The same slots for the serde reference.
    fn slot_map() -> KeyMap<usize> {
        [("a".to_string(), 0), ("b".to_string(), 1)]
            .into_iter()
            .collect()
    }

    fn read(text: &str) -> RowAnswers<'_> {
        RowAnswers::read(text, "entry", &slots())
    }

    fn value(r: &Read<'_>) -> Value {
        r.clone().into_value()
    }

    fn answers(row: &RowAnswers<'_>) -> Vec<Option<Value>> {
        row.answers.iter().map(|a| a.as_ref().map(value)).collect()
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[a-z\"\\\\é\\x01]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 40, 5, |inner| {
            let key = prop_oneof![
                Just("entry"),
                Just("answers"),
                Just("a"),
                Just("b"),
                // Keys that start as a guessed one does.
                Just("ab"),
                Just("answers_"),
                Just("answer"),
                Just("was_jumped"),
                Just("created_at"),
                Just("z"),
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key, inner), 0..5).prop_map(|members| {
                    Value::Object(
                        members
                            .into_iter()
                            .map(|(k, v)| (k.to_string(), v))
                            .collect(),
                    )
                }),
            ]
        })
    }

    #[test]
    fn short_numbers_take_the_short_path() {
        assert_eq!(short_number("51.498765"), Some(json!(51.498765)));
        assert_eq!(short_number("-0.174877"), Some(json!(-0.174877)));
        assert_eq!(short_number("7"), Some(json!(7)));
        assert_eq!(short_number("-12"), Some(json!(-12)));
        for other in ["-0", "1e5", "01", "1.", ".5", "1234567890123456", "", "-"] {
            assert_eq!(short_number(other), None, "{other}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn short_numbers_decode_as_serde_does(text in r"-?(0|[1-9][0-9]{0,16})(\.[0-9]{1,16})?") {
            let serde: Value = serde_json::from_str(&text).expect("a JSON number");
            if let Some(fast) = short_number(&text) {
                prop_assert_eq!(&fast, &serde, "{}", text);
                prop_assert_eq!(fast.to_string(), serde.to_string(), "{}", text);
            }
        }

        /// The scan reads what serde's visitors read, on well-formed text and on text with a
        /// character taken out or put in (duplicate keys, junk, broken escapes).
        #[test]
        fn reads_what_the_serde_visitors_read(
            v in json_value(),
            pretty in any::<bool>(),
            edit in prop::option::of((any::<prop::sample::Index>(), prop::option::of(prop::sample::select(vec!['"', ',', '}', ']', ':', '\\', ' ', '1', 'u', '{'])))),
        ) {
            let doc = json!({"entry": {"answers": v.clone(), "created_at": v.clone()}, "x": v});
            let mut text = if pretty { serde_json::to_string_pretty(&doc) } else { serde_json::to_string(&doc) }.unwrap();
            if let Some((at, put)) = edit {
                let chars: Vec<char> = text.chars().collect();
                let i = at.index(chars.len() + 1);
                let mut edited: String = chars[..i.min(chars.len())].iter().collect();
                if let Some(c) = put {
                    edited.push(c);
                }
                let rest = if put.is_some() { i } else { (i + 1).min(chars.len()) };
                edited.extend(&chars[rest.min(chars.len())..]);
                text = edited;
            }
            let fast = read(&text);
            let reference = serde_reference::read(&text, "entry", &slot_map(), 2);
            prop_assert_eq!(answers(&fast), answers(&reference), "{}", text);
            prop_assert_eq!(fast.created_at.map(Read::into_value), reference.created_at.map(Read::into_value), "{}", text);
        }
    }

    #[test]
    fn the_nesting_limit_counts_the_whole_document() {
        for n in [100, 123, 124, 125, 126, 200] {
            let deep = format!("{}{}", "[".repeat(n), "]".repeat(n));
            let text = format!(r#"{{"entry": {{"answers": {{"a": {{"answer": {deep}}}}}}}}}"#);
            let reference = serde_reference::read(&text, "entry", &slot_map(), 2);
            assert_eq!(answers(&read(&text)), answers(&reference), "{n}");
        }
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
        let branch = RowAnswers::read(&text, "branch_entry", &slots());
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
        assert_eq!(row.answers[1], Some(Read::Raw(b)));
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
