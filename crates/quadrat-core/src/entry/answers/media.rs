//! Photo, audio and video answers: a file name with the type's extension, within its length.

use serde_json::Value;

use super::{crash, is_container, refused};
use crate::codes::Ec5Error;
use crate::definition::{Input, InputType};
use crate::php::laravel;

pub(super) fn check_media(input: &Input, answer: &Value) -> Result<Value, Ec5Error> {
    if is_container(answer) {
        return Err(crash());
    }
    if answer.as_str() == Some("") {
        return Ok(answer.clone());
    }
    let (extensions, limit): (&[&str], usize) = match input.kind {
        InputType::Photo => (&["jpg", "jpeg", "png"], 52),
        InputType::Audio => (&["mp4", "wav"], 51),
        _ => (&["mp4"], 51),
    };
    let ok = answer
        .as_str()
        .is_some_and(|s| has_extension(s, extensions));
    if !ok {
        return Err(refused(input, "ec5_81"));
    }
    if laravel::size(answer) > limit {
        return Err(refused(input, "ec5_214"));
    }
    Ok(answer.clone())
}

/// `^.*\.(ext…)$` case-insensitively: no newline before the extension (PCRE `.`), an optional
/// final newline after it (PCRE `$`).
fn has_extension(name: &str, extensions: &[&str]) -> bool {
    let name = name.strip_suffix('\n').unwrap_or(name);
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    !stem.contains('\n') && extensions.iter().any(|e| e.eq_ignore_ascii_case(ext))
}
