//! Keyset pages of a sorted selection (the data pages' paging, docs/protocol.md §8.4): a page
//! starts after or before one row's sort key, so any page costs one index range read however
//! deep it is, where an offset costs the rows it skips.

use super::params::SortBy;

/// A row's place in a sort: its sort value and the unique id that ends every sort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub value: KeyValue,
    pub id: i64,
}

/// The sort value: a time for `created_at`/`uploaded_at`, the title for `title` (whose byte
/// length, the sort's first part, follows from it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValue {
    Time(i64),
    Title(String),
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageAt {
    First,
    /// The last page, holding what is left after whole pages (so pages keep their numbers).
    Last,
    /// The rows that follow this key in the sort.
    After(SortKey),
    /// The rows that precede this key in the sort.
    Before(SortKey),
}

impl SortKey {
    /// `<id>.<value>`, for a link's query string (the value last: a title may hold dots).
    pub fn encode(&self) -> String {
        match &self.value {
            KeyValue::Time(t) => format!("{}.{t}", self.id),
            KeyValue::Title(s) => format!("{}.{s}", self.id),
        }
    }

    /// Reads [`SortKey::encode`]'s text for `sort`; `None` when it is not one.
    pub fn decode(sort: SortBy, text: &str) -> Option<SortKey> {
        let (id, value) = text.split_once('.')?;
        let id = id.parse().ok()?;
        let value = match sort {
            SortBy::CreatedAt | SortBy::UploadedAt => KeyValue::Time(value.parse().ok()?),
            SortBy::Title => KeyValue::Title(value.to_string()),
        };
        Some(SortKey { value, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back_what_they_write() {
        let title = SortKey {
            value: KeyValue::Title("Site 1.5 & co".into()),
            id: 42,
        };
        assert_eq!(title.encode(), "42.Site 1.5 & co");
        assert_eq!(SortKey::decode(SortBy::Title, &title.encode()), Some(title));
        let time = SortKey {
            value: KeyValue::Time(-5),
            id: 7,
        };
        assert_eq!(SortKey::decode(SortBy::UploadedAt, "7.-5"), Some(time));
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert_eq!(SortKey::decode(SortBy::CreatedAt, "7"), None);
        assert_eq!(SortKey::decode(SortBy::CreatedAt, "x.5"), None);
        assert_eq!(SortKey::decode(SortBy::CreatedAt, "7.title"), None);
    }
}
