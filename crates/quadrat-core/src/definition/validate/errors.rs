//! The real server's error map `{source: [codes]}`: a PHP ordered array, where assigning a key
//! keeps its first position and replaces its codes, and `array_merge` overwrites keys in place.
//! The order of the errors Quadrat answers with falls out of these semantics.

use crate::codes::Ec5Error;

/// Internal key whose entries carry a question's text, for the formbuilder to find the input.
pub const QUESTION: &str = "question";

#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Code(String),
    QuestionText(String),
}

#[derive(Debug, Default)]
pub struct ErrorMap {
    entries: Vec<(String, Vec<Entry>)>,
}

impl ErrorMap {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn slot(&mut self, key: &str) -> &mut Vec<Entry> {
        let index = match self.entries.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                self.entries.push((key.to_string(), Vec::new()));
                self.entries.len() - 1
            }
        };
        &mut self.entries[index].1
    }

    /// `$errors[$key] = [$code]`.
    pub fn set(&mut self, key: &str, code: &str) {
        *self.slot(key) = vec![Entry::Code(code.to_string())];
    }

    /// `$errors[$key][] = $code`.
    pub fn push(&mut self, key: &str, code: &str) {
        self.slot(key).push(Entry::Code(code.to_string()));
    }

    /// `$errors['question'] = [$question]`.
    pub fn set_question(&mut self, question: &str) {
        *self.slot(QUESTION) = vec![Entry::QuestionText(question.to_string())];
    }

    /// Several codes for one key at once (a Laravel attribute that failed more than one rule).
    pub fn set_all(&mut self, key: &str, codes: &[&str]) {
        *self.slot(key) = codes.iter().map(|c| Entry::Code(c.to_string())).collect();
    }

    /// `array_merge($errors, $other)` for string keys.
    pub fn merge(&mut self, other: ErrorMap) {
        for (key, entries) in other.entries {
            *self.slot(&key) = entries;
        }
    }

    /// One error per (source, code), in map order. A question pseudo-error is rendered the way
    /// the real server does: code `question`, its text as title.
    pub fn into_errors(self) -> Vec<Ec5Error> {
        let mut out: Vec<Ec5Error> = Vec::new();
        for (source, entries) in self.entries {
            for entry in entries {
                let error = match entry {
                    Entry::Code(code) => Ec5Error::new(&code, source.clone()),
                    Entry::QuestionText(text) => Ec5Error {
                        code: QUESTION.to_string(),
                        title: text,
                        source: QUESTION.to_string(),
                    },
                };
                let duplicate = out
                    .iter()
                    .any(|e| e.source == error.source && e.code == error.code);
                if !duplicate {
                    out.push(error);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_keeps_position_and_replaces() {
        let mut m = ErrorMap::default();
        m.set("a", "ec5_65");
        m.set("b", "ec5_29");
        m.set("a", "ec5_337");
        let codes: Vec<_> = m
            .into_errors()
            .into_iter()
            .map(|e| (e.source, e.code))
            .collect();
        assert_eq!(
            codes,
            [
                ("a".into(), "ec5_337".into()),
                ("b".into(), "ec5_29".into())
            ]
        );
    }

    #[test]
    fn merge_overwrites_in_place_and_dedupes() {
        let mut m = ErrorMap::default();
        m.push("validation", "ec5_68");
        m.push("validation", "ec5_68");
        m.set("ref", "ec5_65");
        let mut detail = ErrorMap::default();
        detail.set("ref", "ec5_339");
        detail.set_question("Colour?");
        m.merge(detail);
        let errors = m.into_errors();
        assert_eq!(errors.len(), 3);
        assert_eq!(errors[1].code, "ec5_339");
        assert_eq!(errors[2].title, "Colour?");
    }
}
