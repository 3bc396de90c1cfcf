//! Slug normalisation, as Laravel's `Str::slug` does it (docs/protocol.md §2.2).

/// Normalises a project name or a slug as typed in a URL: transliterate to ASCII, lower-case,
/// `_` → `-`, `@` → `-at-`, drop other punctuation, collapse whitespace and `-` runs, trim `-`.
/// The result may be empty (the caller answers `ec5_21`).
pub fn normalize(input: &str) -> String {
    let ascii = deunicode::deunicode(input);
    let mut spaced = String::with_capacity(ascii.len());
    for c in ascii.chars() {
        match c {
            '_' => spaced.push('-'),
            '@' => spaced.push_str("-at-"),
            _ => spaced.push(c),
        }
    }
    let mut out = String::with_capacity(spaced.len());
    let mut pending_sep = false;
    for c in spaced.chars().flat_map(char::to_lowercase) {
        if c == '-' || c.is_whitespace() {
            pending_sep = true;
        } else if c.is_alphanumeric() {
            if pending_sep && !out.is_empty() {
                out.push('-');
            }
            pending_sep = false;
            out.push(c);
        }
        // Any other character is dropped without separating words, as the real regex does.
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn normalizes_like_laravel() {
        assert_eq!(normalize("EC5 API Test"), "ec5-api-test");
        assert_eq!(normalize("ec5-api-test"), "ec5-api-test");
        assert_eq!(normalize("Tree Survey 2024"), "tree-survey-2024");
        assert_eq!(normalize("  a__b  "), "a-b");
        assert_eq!(normalize("me@home"), "me-at-home");
        assert_eq!(normalize("Año nuevo!"), "ano-nuevo");
        assert_eq!(normalize("a - b"), "a-b");
        assert_eq!(normalize("what's up"), "whats-up");
        assert_eq!(normalize("---"), "");
        assert_eq!(normalize("!!!"), "");
    }

    proptest::proptest! {
        #[test]
        fn normalized_is_idempotent(s in ".{0,40}") {
            let once = normalize(&s);
            proptest::prop_assert_eq!(normalize(&once), once.clone());
            proptest::prop_assert!(once.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'));
        }
    }
}
