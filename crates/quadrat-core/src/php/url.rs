//! `rawurlencode()` and `urlencode()`, appending to a buffer.

/// `rawurlencode` (RFC 3986): everything but `A-Z a-z 0-9 - _ . ~` as `%XX`.
pub fn push_rawurlencoded(out: &mut String, s: &str) {
    push_encoded(out, s, false);
}

/// `urlencode` (form encoding): everything but `A-Z a-z 0-9 - _ .` as `%XX`, space as `+`.
pub fn push_urlencoded(out: &mut String, s: &str) {
    push_encoded(out, s, true);
}

fn push_encoded(out: &mut String, s: &str, form: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    // Runs of kept bytes are copied whole (media names are mostly such a run).
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let keep =
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') || (!form && b == b'~');
        if keep {
            continue;
        }
        if start < i {
            // Kept bytes are ASCII: the run starts and ends on character boundaries.
            out.push_str(&s[start..i]);
        }
        start = i + 1;
        if form && b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    if start < s.len() {
        out.push_str(&s[start..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_encodings() {
        let mut raw = String::new();
        push_rawurlencoded(&mut raw, "a b:~/é");
        assert_eq!(raw, "a%20b%3A~%2F%C3%A9");
        let mut form = String::new();
        push_urlencoded(&mut form, "a b:~_.-");
        assert_eq!(form, "a+b%3A%7E_.-");
        let mut name = String::new();
        push_urlencoded(&mut name, "é1_x.jpg ab");
        assert_eq!(name, "%C3%A91_x.jpg+ab");
    }

    proptest::proptest! {
        #[test]
        fn runs_encode_as_byte_by_byte(s in proptest::prelude::any::<String>(), form in proptest::prelude::any::<bool>()) {
            let mut expected = String::new();
            for &b in s.as_bytes() {
                let keep = b.is_ascii_alphanumeric()
                    || matches!(b, b'-' | b'_' | b'.')
                    || (!form && b == b'~');
                if keep {
                    expected.push(char::from(b));
                } else if form && b == b' ' {
                    expected.push('+');
                } else {
                    expected.push_str(&format!("%{b:02X}"));
                }
            }
            let mut out = String::new();
            push_encoded(&mut out, &s, form);
            proptest::prop_assert_eq!(out, expected);
        }
    }
}
