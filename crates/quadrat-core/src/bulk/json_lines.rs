//! JSON lines: each line an upload body, as an import reads it.

use serde_json::Value;

use crate::codes::Ec5Error;

/// One line of a JSON lines file: an upload body (`{"data": …}`) or its bare `data` member.
/// `None` for a blank line.
pub fn json_line(line: &str) -> Option<Result<Value, Vec<Ec5Error>>> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    Some(match serde_json::from_str::<Value>(line) {
        Err(e) => Err(vec![Ec5Error::new(
            &format!("The line is not JSON: {e}."),
            "json",
        )]),
        Ok(Value::Object(mut body)) => match body.remove("data") {
            Some(data) => Ok(data),
            None if body.contains_key("type") => Ok(Value::Object(body)),
            None => Err(vec![Ec5Error::new("ec5_269", "validation")]),
        },
        Ok(_) => Err(vec![Ec5Error::new("ec5_269", "validation")]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_lines_take_bodies_and_bare_data() {
        assert_eq!(
            json_line(r#"{"data":{"type":"entry"}}"#).unwrap().unwrap(),
            json!({"type":"entry"})
        );
        assert_eq!(
            json_line(r#"{"type":"entry"}"#).unwrap().unwrap(),
            json!({"type":"entry"})
        );
        assert!(json_line("  ").is_none());
        assert!(json_line("[1]").unwrap().is_err());
        assert!(json_line("{").unwrap().is_err());
    }
}
