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
    for &b in s.as_bytes() {
        let keep =
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') || (!form && b == b'~');
        if keep {
            out.push(char::from(b));
        } else if form && b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
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
    }
}
