//! An input's `regex`, applied as the real server does: the PCRE pattern `/{regex}/` without
//! flags, on the bytes of the answer. The `regex` crate runs it in byte mode without Unicode
//! (PCRE's default), with `$` and `\Z` meaning "end, or before a final newline" as in PCRE.
//! A pattern that uses a PCRE feature the crate lacks (look-around, back-references…) cannot be
//! checked here; answers are then accepted (docs/compatibility.md). A pattern PCRE itself would
//! refuse is reported as `ec5_392`, as the real server does.

use std::collections::HashMap;

use crate::definition::validate::pattern::is_usable_pattern;

#[derive(Debug, Clone)]
pub enum Pattern {
    Bytes(regex::bytes::Regex),
    Unicode(regex::Regex),
    /// Valid PCRE this engine cannot run: answers are not checked against it.
    Unsupported,
    /// Not a pattern PCRE compiles: `ec5_392`.
    Broken,
}

impl Pattern {
    pub fn compile(pattern: &str) -> Pattern {
        if !is_usable_pattern(pattern) {
            return Pattern::Broken;
        }
        let translated = translate_anchors(pattern);
        let bytes = regex::bytes::RegexBuilder::new(&translated)
            .unicode(false)
            .size_limit(1 << 22)
            .build();
        if let Ok(re) = bytes {
            return Pattern::Bytes(re);
        }
        // Non-ASCII inside a class needs Unicode mode; the pattern then works on characters.
        match regex::RegexBuilder::new(&translated)
            .size_limit(1 << 22)
            .build()
        {
            Ok(re) => Pattern::Unicode(re),
            Err(_) => Pattern::Unsupported,
        }
    }

    /// `None` when the pattern cannot be run (broken or unsupported).
    pub fn is_match(&self, answer: &str) -> Option<bool> {
        match self {
            Pattern::Bytes(re) => Some(re.is_match(answer.as_bytes())),
            Pattern::Unicode(re) => Some(re.is_match(answer)),
            Pattern::Unsupported | Pattern::Broken => None,
        }
    }
}

/// `$` (outside a class) and `\Z` become "optional final newline, then the end".
fn translate_anchors(pattern: &str) -> String {
    const END: &str = r"(?:\n?\z)";
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('Z') if !in_class => out.push_str(END),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            },
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                // A `]` right after `[` or `[^` is a literal, not the end of the class.
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap_or('^'));
                }
                if chars.peek() == Some(&']') {
                    out.push(chars.next().unwrap_or(']'));
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '$' if !in_class => out.push_str(END),
            other => out.push(other),
        }
    }
    out
}

/// Compiled patterns by input ref, so a batch of uploads compiles each once.
#[derive(Debug, Default)]
pub struct PatternCache {
    compiled: HashMap<String, Pattern>,
}

impl PatternCache {
    pub fn get(&mut self, input_ref: &str, pattern: &str) -> &Pattern {
        self.compiled
            .entry(input_ref.to_string())
            .or_insert_with(|| Pattern::compile(pattern))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(p: &str, s: &str) -> Option<bool> {
        Pattern::compile(p).is_match(s)
    }

    #[test]
    fn pcre_semantics() {
        assert_eq!(matches(r"^[A-Z]{2}-[0-9]{3}$", "AB-123"), Some(true));
        assert_eq!(matches(r"^[A-Z]{2}-[0-9]{3}$", "AB-123\n"), Some(true));
        assert_eq!(matches(r"^[A-Z]{2}-[0-9]{3}$", "AB-123\n\n"), Some(false));
        assert_eq!(matches(r"^\d+$", "٣"), Some(false));
        assert_eq!(matches(r"^.{2}$", "é"), Some(true));
        assert_eq!(matches(r"^[é]+$", "éé"), Some(true));
        assert_eq!(matches(r"^a\Z", "a\n"), Some(true));
        assert_eq!(matches(r"[$]", "$"), Some(true));
        assert_eq!(matches(r"^[]a]$", "]"), Some(true));
    }

    #[test]
    fn pcre_only_features_are_unsupported_broken_ones_broken() {
        assert!(matches!(
            Pattern::compile(r"^(?=a)a$"),
            Pattern::Unsupported
        ));
        assert!(matches!(Pattern::compile(r"(a)\1"), Pattern::Unsupported));
        assert!(matches!(Pattern::compile(r"(abc"), Pattern::Broken));
        assert!(matches!(Pattern::compile(r"a/b"), Pattern::Broken));
    }
}
