//! The query string as PHP fills `$_GET` from it.

/// A query-string value as PHP decodes it: a string, or an array (`key[]=…`, `key[k]=…`) of
/// its first-level keys and values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawParam {
    Str(String),
    Array(Vec<(String, String)>),
}

impl RawParam {
    pub(super) fn as_str(&self) -> Option<&str> {
        match self {
            RawParam::Str(s) => Some(s),
            RawParam::Array(_) => None,
        }
    }
}

/// Decodes a raw query string the way PHP fills `$_GET`: `&`-separated pairs, `+` and `%XX`
/// decoded, the last of repeated keys wins, `key[]` and `key[k]` make arrays, and in names
/// blanks and dots become `_` (`form.ref` is `form_ref`) and an unclosed `[` becomes `_`.
pub fn parse_query_string(raw: &str) -> Vec<(String, RawParam)> {
    let mut out: Vec<(String, RawParam)> = Vec::new();
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        let Some((name, index)) = php_var_name(&key) else {
            continue;
        };
        let value = value.into_owned();
        let slot = out.iter().position(|(k, _)| *k == name);
        match index {
            None => match slot {
                Some(i) => out[i].1 = RawParam::Str(value),
                None => out.push((name, RawParam::Str(value))),
            },
            Some(index) => {
                let i = match slot {
                    Some(i) => i,
                    None => {
                        out.push((name, RawParam::Array(Vec::new())));
                        out.len() - 1
                    }
                };
                if !matches!(out[i].1, RawParam::Array(_)) {
                    out[i].1 = RawParam::Array(Vec::new());
                }
                if let RawParam::Array(items) = &mut out[i].1 {
                    let key = index.unwrap_or_else(|| next_index(items).to_string());
                    match items.iter().position(|(k, _)| *k == key) {
                        Some(j) => items[j].1 = value,
                        None => items.push((key, value)),
                    }
                }
            }
        }
    }
    out
}

/// PHP's next automatic array key: one past the largest integer key.
fn next_index(items: &[(String, String)]) -> i64 {
    items
        .iter()
        .filter_map(|(k, _)| k.parse::<i64>().ok())
        .max()
        .map_or(0, |m| m.saturating_add(1))
}

/// The variable name PHP registers for a query key, and for an array key its first index
/// (`None` for `[]`).
fn php_var_name(key: &str) -> Option<(String, Option<Option<String>>)> {
    let key = key.trim_start_matches(' ');
    let mut name = String::with_capacity(key.len());
    for (i, c) in key.char_indices() {
        match c {
            ' ' | '.' => name.push('_'),
            '[' => {
                let rest = &key[i + 1..];
                return match rest.find(']') {
                    Some(close) if !name.is_empty() => {
                        let index = &rest[..close];
                        Some((name, Some((!index.is_empty()).then(|| index.to_string()))))
                    }
                    Some(_) => None,
                    None => {
                        name.push('_');
                        name.push_str(rest);
                        Some((name, None))
                    }
                };
            }
            other => name.push(other),
        }
    }
    (!name.is_empty()).then_some((name, None))
}
