//! JSON as the real server writes it: MySQL's stored key order and PHP's string escaping.

use serde::Serialize;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Value};

/// Reorders every object the way a MySQL JSON column returns it: shorter keys first, then by
/// bytes. Definitions, mappings and entry data read back from the real server come out so.
pub fn mysql_order(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|(a, _), (b, _)| key_order(a, b));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, mysql_order(v)))
                    .collect::<Map<String, Value>>(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(mysql_order).collect()),
        other => other,
    }
}

/// Compact JSON of `value` with every object in [`mysql_order`], written straight from the
/// borrowed value: the bytes of `serde_json::to_string(&mysql_order(value.clone()))` without
/// the copy (every stored entry goes through here).
pub fn to_mysql_order_string(value: &Value) -> String {
    serde_json::to_string(&MysqlOrdered(value)).unwrap_or_else(|_| "null".into())
}

struct MysqlOrdered<'a>(&'a Value);

impl Serialize for MysqlOrdered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(map) => {
                let mut out = serializer.serialize_map(Some(map.len()))?;
                if in_key_order(map.keys().map(String::as_str)) {
                    for (k, v) in map {
                        out.serialize_entry(k, &MysqlOrdered(v))?;
                    }
                    return out.end();
                }
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_unstable_by(|(a, _), (b, _)| key_order(a, b));
                for (k, v) in entries {
                    out.serialize_entry(k, &MysqlOrdered(v))?;
                }
                out.end()
            }
            Value::Array(items) => {
                let mut out = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    out.serialize_element(&MysqlOrdered(item))?;
                }
                out.end()
            }
            other => other.serialize(serializer),
        }
    }
}

/// MySQL's order of an object's keys: shorter first, then by bytes.
fn key_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Whether keys are strictly in [`key_order`] already (most small objects are), so they can be
/// written as they come, without a sorted copy; a repeated key is not.
fn in_key_order<'k>(keys: impl Iterator<Item = &'k str>) -> bool {
    let mut last: Option<&str> = None;
    for k in keys {
        if last.is_some_and(|l| key_order(l, k) != std::cmp::Ordering::Less) {
            return false;
        }
        last = Some(k);
    }
    true
}

/// A JSON value of borrowed parts, written as [`to_mysql_order_string`] writes the `Value` it
/// stands for: a stored record is written without building (and copying its answers into) a
/// `Value` first.
#[derive(Debug, Clone)]
pub enum Node<'a> {
    Str(&'a str),
    Value(&'a Value),
    Owned(Value),
    /// An object's members in insertion order; a key given twice keeps its last value, as a
    /// `Map` built by inserting them would.
    Object(Vec<(&'a str, Node<'a>)>),
}

impl<'a> Node<'a> {
    /// An object of `members`, or `[]` when there are none (PHP writes an empty map as an
    /// empty array), as [`object_or_empty_array`] for a `Value`.
    pub fn object_or_empty_array(members: Vec<(&'a str, Node<'a>)>) -> Node<'a> {
        if members.is_empty() {
            Node::Owned(Value::Array(Vec::new()))
        } else {
            Node::Object(members)
        }
    }

    /// Compact JSON in MySQL key order.
    pub fn to_mysql_order_string(&self) -> String {
        // A stored record's JSON takes a kilobyte or two: room for it at once rather than
        // grown from `to_string`'s 128 bytes.
        let mut out = Vec::with_capacity(2048);
        match serde_json::to_writer(&mut out, self) {
            // serde_json writes UTF-8 only.
            Ok(()) => String::from_utf8(out).unwrap_or_else(|_| "null".into()),
            Err(_) => "null".into(),
        }
    }
}

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Str(s) => serializer.serialize_str(s),
            Node::Value(v) => MysqlOrdered(v).serialize(serializer),
            Node::Owned(v) => MysqlOrdered(v).serialize(serializer),
            Node::Object(members) => {
                if in_key_order(members.iter().map(|(k, _)| *k)) {
                    let mut out = serializer.serialize_map(Some(members.len()))?;
                    for (k, v) in members {
                        out.serialize_entry(k, v)?;
                    }
                    return out.end();
                }
                let mut sorted: Vec<&(&str, Node<'_>)> = members.iter().collect();
                // Stable: of equal keys, the last one given stays last, and is kept.
                sorted.sort_by(|(a, _), (b, _)| key_order(a, b));
                sorted.dedup_by(|later, kept| {
                    let same = later.0 == kept.0;
                    if same {
                        *kept = *later;
                    }
                    same
                });
                let mut out = serializer.serialize_map(Some(sorted.len()))?;
                for (k, v) in sorted {
                    out.serialize_entry(k, v)?;
                }
                out.end()
            }
        }
    }
}

/// Encodes like PHP's `json_encode`: non-ASCII as `\uXXXX`; `/` kept as is for success bodies
/// (`JSON_UNESCAPED_SLASHES`) or written `\/` for error bodies.
pub fn to_php_json<T: Serialize + ?Sized>(value: &T, escape_slashes: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PhpFormatter { escape_slashes });
    // Serialising plain data into a Vec cannot fail.
    value
        .serialize(&mut ser)
        .expect("serialising JSON into memory");
    out
}

struct PhpFormatter {
    escape_slashes: bool,
}

impl serde_json::ser::Formatter for PhpFormatter {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escaped_slash = c == '/' && self.escape_slashes;
            if c.is_ascii() && !escaped_slash {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..i])?;
            if escaped_slash {
                writer.write_all(b"\\/")?;
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{:04x}", unit)?;
                }
            }
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// A JSON object of these members, each moved in (`json!` would serialise every interpolated
/// value again to copy it).
pub fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(
        members
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<Map<String, Value>>(),
    )
}

/// An empty object written as PHP writes an empty array: `[]`.
pub fn object_or_empty_array(map: Map<String, Value>) -> Value {
    if map.is_empty() {
        Value::Array(Vec::new())
    } else {
        Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn orders_keys_by_length_then_bytes() {
        let v = mysql_order(
            json!({"type": 1, "id": 2, "attributes": 3, "entry": {"was_jumped": 1, "answer": 2}}),
        );
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"id":2,"type":1,"entry":{"answer":2,"was_jumped":1},"attributes":3}"#
        );
    }

    #[test]
    fn writes_the_reordered_value_unchanged() {
        let v = json!({
            "type": "entry", "id": "é/\"q", "attributes": {"b": [{"zz": 1, "a": null}, 2.5]},
            "entry": {"was_jumped": true, "answer": [], "answers": {}}, "": -1
        });
        let expected = serde_json::to_string(&mysql_order(v.clone())).unwrap();
        assert_eq!(to_mysql_order_string(&v), expected);
    }

    fn value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::from),
            "[a-z\"\u{e9}]{0,4}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                // Keys already in order, out of order, and of equal lengths.
                prop::collection::vec(("[ab]{0,3}", inner), 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn any_value_is_written_as_its_reordered_copy(v in value()) {
            let expected = serde_json::to_string(&mysql_order(v.clone())).unwrap();
            proptest::prop_assert_eq!(to_mysql_order_string(&v), expected);
        }
    }

    #[test]
    fn escapes_like_php() {
        let v = json!({"a": "x/y é 😀", "n": 12.0});
        assert_eq!(
            String::from_utf8(to_php_json(&v, false)).unwrap(),
            r#"{"a":"x/y \u00e9 \ud83d\ude00","n":12.0}"#
        );
        assert_eq!(
            String::from_utf8(to_php_json(&json!("a/b"), true)).unwrap(),
            r#""a\/b""#
        );
    }
}
