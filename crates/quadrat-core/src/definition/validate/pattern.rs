//! Whether an input's `regex` can work. The real server never checks it when a definition is
//! saved; it applies it at upload time as the PCRE pattern `/{regex}/` and answers `ec5_392` when
//! PCRE refuses it. Quadrat refuses such a pattern up front, but only when it is sure: the Rust
//! `regex` crate lacks some PCRE features, and a pattern that merely uses one is accepted.

use regex_syntax::ast::ErrorKind;

pub fn is_usable_pattern(pattern: &str) -> bool {
    if has_unescaped_delimiter(pattern) {
        return false;
    }
    if regex::Regex::new(pattern).is_ok() {
        return true;
    }
    match regex_syntax::ast::parse::Parser::new().parse(pattern) {
        // The syntax is fine; the crate refused it later (size limit, a Unicode class it lacks).
        Ok(_) => true,
        Err(e) => is_pcre_only_feature(e.kind()),
    }
}

/// A `/` that is not escaped ends the PCRE pattern early, so every upload would fail.
fn has_unescaped_delimiter(pattern: &str) -> bool {
    let mut escaped = false;
    for c in pattern.chars() {
        match (c, escaped) {
            ('/', false) => return true,
            ('\\', false) => escaped = true,
            _ => escaped = false,
        }
    }
    false
}

/// Parse errors that PCRE does not share: look-around, back-references, atomic groups and other
/// `(?…)` constructs, PCRE-only escapes (`\h`, `\Z`, `\Q…\E`, `\k<name>`), `[\b]`, and a `{`
/// that PCRE reads as a literal.
fn is_pcre_only_feature(kind: &ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::UnsupportedLookAround
            | ErrorKind::UnsupportedBackreference
            | ErrorKind::FlagUnrecognized
            | ErrorKind::EscapeUnrecognized
            | ErrorKind::ClassEscapeInvalid
            | ErrorKind::RepetitionCountUnclosed
            | ErrorKind::RepetitionCountDecimalEmpty
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_and_pcre_only_patterns() {
        for p in [
            r"^\d{3}$", r"(?=a)b", r"(a)\1", r"(?>a+)", r"\h+", r"a{", r"a\/b",
        ] {
            assert!(is_usable_pattern(p), "{p}");
        }
    }

    #[test]
    fn refuses_broken_patterns() {
        for p in [r"(", r"[a", r"a)", r"*a", r"x{2,1}", r"a/b", r"abc\"] {
            assert!(!is_usable_pattern(p), "{p}");
        }
    }
}
