//! Every `ec5_N` code the program can answer with is in the code table (`codes::title`), so a
//! typo cannot ship: the sources of every crate (`crates/*/src/**/*.rs`) are scanned for code
//! tokens outside comments, and an unknown one fails with its file and line.

use std::path::{Path, PathBuf};

use quadrat_core::codes;

/// `(line, code)` of every `ec5_<digits>…` token in `source` outside comments: string
/// literals and code. A token starts where no letter, digit or `_` goes before it
/// (`is_ec5_269` is a name, not a code) and runs to the end of the word, so `ec5_2O` is
/// reported whole; `ec5_uuid` and other names without a digit after `ec5_` are not codes.
fn code_tokens(source: &str) -> Vec<(usize, String)> {
    let text = without_comments(source);
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("ec5_").map(|i| i + from) {
        from = at + 4;
        let boundary = at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        let digits = bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let word = bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        if boundary && digits > 0 {
            let line = text[..at].matches('\n').count() + 1;
            found.push((line, text[at..from + word].to_string()));
        }
    }
    found
}

/// `source` with every comment's characters turned into spaces (line breaks kept, so lines
/// still count right). String, raw string, byte string and char literals are kept whole, so a
/// `//` or `"` inside them changes nothing.
fn without_comments(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if let Some(end) = raw_string_end(&chars, i) {
            out.extend(&chars[i..end]);
            i = end;
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i = (i + 1).min(chars.len());
            out.extend(&chars[start..i]);
        } else if c == '\'' {
            // A char literal ('x', '\n', '"'), or a lifetime ('a), which has no closing quote.
            let end = match (next, chars.get(i + 2)) {
                (Some('\\'), _) => (i + 2..chars.len())
                    .find(|&j| chars[j] == '\'')
                    .map(|j| j + 1),
                (Some(_), Some('\'')) => Some(i + 3),
                _ => None,
            };
            let end = end.unwrap_or(i + 1);
            out.extend(&chars[i..end]);
            i = end;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Where the raw string literal starting at `i` (`r"…"`, `r#"…"#`, `br#"…"#`) ends, if one does.
fn raw_string_end(chars: &[char], i: usize) -> Option<usize> {
    // Not the `r` at the end of a name such as `for` or `buffer`.
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = chars[j..].iter().take_while(|&&c| c == '#').count();
    j += hashes;
    if chars.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < chars.len() {
        if chars[j] == '"'
            && chars[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(chars.len())
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_ec5_code_in_the_sources_is_in_the_code_table() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).expect("the crates folder") {
        let src = krate.expect("directory entry").path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    files.sort();
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("quadrat-core/src/codes.rs")),
        "the scan found the sources: {files:?}"
    );
    let mut unknown = Vec::new();
    let mut seen = 0;
    for file in &files {
        let source = std::fs::read_to_string(file).expect("a source file");
        for (line, code) in code_tokens(&source) {
            seen += 1;
            if codes::title(&code).is_none() {
                let place = file.strip_prefix(&crates).unwrap_or(file);
                unknown.push(format!("crates/{}:{line}: {code}", place.display()));
            }
        }
    }
    assert!(seen > 100, "only {seen} codes found: the scan is broken");
    assert!(
        unknown.is_empty(),
        "codes missing from quadrat-core/src/codes.rs (a typo, or a title to add):\n{}",
        unknown.join("\n")
    );
}

#[test]
fn the_scan_finds_codes_in_literals_and_skips_comments_and_names() {
    let source = r####"
// ec5_1 in a line comment
/* ec5_2 /* nested ec5_3 */ still ec5_4 */
/// ec5_5 in a doc comment
fn missing_data_is_ec5_269() {}
let url = "http://x//ec5_6";
let quote = '"'; let code = "ec5_7";
let raw = r#"a "ec5_8" b"#;
let life: &'static str = "ec5_9"; let c = '\''; // ec5_10
let json = json!({"code": "ec5_11x"}); let ec5_uuid = 1; x = ec5_12;
"####;
    let found = code_tokens(source);
    let found: Vec<(usize, &str)> = found.iter().map(|(l, c)| (*l, c.as_str())).collect();
    assert_eq!(
        found,
        [
            (6, "ec5_6"),
            (7, "ec5_7"),
            (8, "ec5_8"),
            (9, "ec5_9"),
            (10, "ec5_11x"),
            (10, "ec5_12"),
        ]
    );
}
