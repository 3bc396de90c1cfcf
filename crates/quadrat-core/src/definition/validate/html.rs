//! The length of a readme question as the real server measures it:
//! `mb_strlen(strip_tags(html_entity_decode($question)))`.

/// HTML 4.01 entity names that `html_entity_decode` (ENT_QUOTES | ENT_HTML401) decodes, apart
/// from `lt`, `gt`, `amp` and `quot`, which are handled separately because they change markup.
const HTML401_NAMES: &[&str] = &[
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml", "fnof", "Alpha", "Beta", "Gamma", "Delta", "Epsilon",
    "Zeta", "Eta", "Theta", "Iota", "Kappa", "Lambda", "Mu", "Nu", "Xi", "Omicron", "Pi", "Rho",
    "Sigma", "Tau", "Upsilon", "Phi", "Chi", "Psi", "Omega", "alpha", "beta", "gamma", "delta",
    "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron",
    "pi", "rho", "sigmaf", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega", "thetasym",
    "upsih", "piv", "bull", "hellip", "prime", "Prime", "oline", "frasl", "weierp", "image",
    "real", "trade", "alefsym", "larr", "uarr", "rarr", "darr", "harr", "crarr", "lArr", "uArr",
    "rArr", "dArr", "hArr", "forall", "part", "exist", "empty", "nabla", "isin", "notin", "ni",
    "prod", "sum", "minus", "lowast", "radic", "prop", "infin", "ang", "and", "or", "cap", "cup",
    "int", "there4", "sim", "cong", "asymp", "ne", "equiv", "le", "ge", "sub", "sup", "nsub",
    "sube", "supe", "oplus", "otimes", "perp", "sdot", "lceil", "rceil", "lfloor", "rfloor",
    "lang", "rang", "loz", "spades", "clubs", "hearts", "diams", "OElig", "oelig", "Scaron",
    "scaron", "Yuml", "circ", "tilde", "ensp", "emsp", "thinsp", "zwnj", "zwj", "lrm", "rlm",
    "ndash", "mdash", "lsquo", "rsquo", "sbquo", "ldquo", "rdquo", "bdquo", "dagger", "Dagger",
    "permil", "lsaquo", "rsaquo", "euro",
];

/// Longest entity body worth scanning for (`&thetasym;`, `&#x10FFFF;`, long decimal forms).
const MAX_ENTITY_LEN: usize = 12;

/// Characters of a readme question once entities are decoded and tags stripped.
pub fn readme_text_len(question: &str) -> usize {
    strip_tags(&decode_entities(question)).chars().count()
}

/// `html_entity_decode`. Named entities other than the four markup ones decode to a stand-in
/// character: only the resulting length matters here.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        match entity_at(after) {
            Some((c, used)) => {
                out.push(c);
                rest = &after[used..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The entity at the start of `s` (just after `&`): its character and how many bytes it used,
/// including the `;`.
fn entity_at(s: &str) -> Option<(char, usize)> {
    let end = s
        .char_indices()
        .take(MAX_ENTITY_LEN + 1)
        .find(|&(_, c)| c == ';')
        .map(|(i, _)| i)?;
    let body = &s[..end];
    let c = match body.strip_prefix('#') {
        Some(num) => numeric_entity(num)?,
        None => named_entity(body)?,
    };
    Some((c, end + 1))
}

fn numeric_entity(num: &str) -> Option<char> {
    let code = match num.strip_prefix(['x', 'X']) {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            u32::from_str_radix(hex, 16).ok()?
        }
        Some(_) => return None,
        None if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => num.parse().ok()?,
        None => return None,
    };
    html401_allows(code).then(|| char::from_u32(code)).flatten()
}

/// Code points PHP decodes for the HTML 4.01 document type.
fn html401_allows(cp: u32) -> bool {
    matches!(cp, 0x09 | 0x0A | 0x0D | 0x20..=0x7E | 0xA0..=0xD7FF)
        || ((0xE000..=0x10FFFF).contains(&cp)
            && (cp & 0xFFFF) < 0xFFFE
            && !(0xFDD0..=0xFDEF).contains(&cp))
}

fn named_entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        _ if HTML401_NAMES.contains(&name) => Some('\u{FFFD}'),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Text,
    Tag,
    Comment,
    Declaration,
}

/// PHP `strip_tags` without allowed tags: drops tags, comments and declarations; a `<` followed
/// by whitespace is kept as text.
fn strip_tags(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut state = State::Text;
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, &c) in chars.iter().enumerate() {
        match state {
            State::Text => {
                if c != '<' {
                    out.push(c);
                    continue;
                }
                match chars.get(i + 1) {
                    Some(n) if n.is_ascii_whitespace() || *n == '\x0B' => out.push(c),
                    Some('!')
                        if chars.get(i + 2) == Some(&'-') && chars.get(i + 3) == Some(&'-') =>
                    {
                        state = State::Comment;
                    }
                    Some('!' | '?') => state = State::Declaration,
                    _ => state = State::Tag,
                }
                depth = 0;
                quote = None;
            }
            State::Tag | State::Declaration => match (c, quote) {
                ('"' | '\'', None) => quote = Some(c),
                (_, Some(q)) if q == c => quote = None,
                ('<', None) => depth += 1,
                ('>', None) if depth > 0 => depth -= 1,
                ('>', None) => state = State::Text,
                _ => {}
            },
            State::Comment => {
                if c == '>' && i >= 2 && chars[i - 1] == '-' && chars[i - 2] == '-' {
                    state = State::Text;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_then_strips_markup() {
        assert_eq!(readme_text_len("&lt;p&gt;Hello&lt;/p&gt;"), 5);
        assert_eq!(readme_text_len("a &amp;lt;b&amp;gt; c"), 13);
        assert_eq!(readme_text_len("caf&eacute; &#233;&#xE9;"), 7);
        assert_eq!(readme_text_len("&bogus; &#0;"), 12);
        assert_eq!(readme_text_len("1 &lt; 2"), 5);
        assert_eq!(readme_text_len("&lt;!-- note --&gt;x"), 1);
        assert_eq!(
            readme_text_len("&lt;a title=\"x&gt;y\"&gt;link&lt;/a&gt;"),
            4
        );
    }
}
