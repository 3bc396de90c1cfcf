//! The typed query an entries request becomes, and the values its pagination links echo.

use super::query_string::RawParam;
use crate::php::push_rawurlencoded;
use crate::time::UnixMillis;

/// Default and largest `per_page` (docs/protocol.md §8.2).
pub const DEFAULT_PER_PAGE: i64 = 50;
pub const MAX_PER_PAGE: i64 = 1000;

/// The longest `title` filter, in characters (docs/protocol.md §8.3): far more than anyone types
/// into a search, and far below what a SQL `LIKE` pattern may hold (SQLite refuses patterns over
/// 50,000 bytes; longer patterns cost more per row on both engines).
pub const MAX_TITLE_FILTER_CHARS: usize = 1000;

/// The keys echoed in pagination links, in their order; `page` always follows.
pub const LINK_KEYS: [&str; 18] = [
    "form_ref",
    "parent_form_ref",
    "branch",
    "branch_ref",
    "branch_owner_uuid",
    "parent_uuid",
    "uuid",
    "input_ref",
    "per_page",
    "sort_by",
    "sort_order",
    "map_index",
    "filter_by",
    "filter_from",
    "filter_to",
    "format",
    "headers",
    "title",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    CreatedAt,
    UploadedAt,
    /// By byte length of the title, then by title, both in the sort order.
    Title,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    /// Quadrat's extension (docs/protocol.md §17.12).
    GeoJson,
}

/// The timestamp column a date filter or a sort applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateColumn {
    CreatedAt,
    UploadedAt,
}

/// Inclusive bounds on a timestamp column, in Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateFilter {
    pub column: DateColumn,
    pub from: Option<UnixMillis>,
    pub to: Option<UnixMillis>,
}

/// Which rows a request selects (docs/protocol.md §8.4), besides the filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Form mode, `uuid` given: that entry, if it belongs to `form_ref`.
    Entry { uuid: String },
    /// Form mode, `parent_uuid` given: the children of that entry in `form_ref` whose
    /// `parent_form_ref` is this one (`""` when the request sent none, which matches nothing).
    Children {
        parent_uuid: String,
        parent_form_ref: String,
    },
    /// Form mode: every entry of `form_ref`.
    Form,
    /// Branch mode, `uuid` given: that branch entry of `form_ref`, whatever its branch.
    BranchEntry { uuid: String },
    /// Branch mode, `branch_owner_uuid` given: the entries of `branch_ref` owned by that entry.
    OwnerBranch { owner_uuid: String },
    /// Branch mode: every entry of `branch_ref`, whatever its owner.
    Branch,
}

/// A validated entries request with every default applied.
#[derive(Debug, Clone, PartialEq)]
pub struct EntriesQuery {
    pub form_ref: String,
    /// `Some` in branch mode.
    pub branch_ref: Option<String>,
    pub selection: Selection,
    pub filter: Option<DateFilter>,
    /// Case-insensitive substring of the title; `%` and `_` stay wildcards as on the real
    /// server. `None` when the request sends none (or `"0"`, which PHP takes for empty).
    pub title: Option<String>,
    pub sort_by: SortBy,
    pub sort_order: SortOrder,
    pub per_page: i64,
    /// 1-based; never below 1, possibly beyond the last page.
    pub page: i64,
    /// An index the project's mapping list has.
    pub map_index: usize,
    pub format: Format,
    /// CSV: write the header row.
    pub headers: bool,
    /// CSV: prefix a UTF-8 byte order mark (Quadrat's own `bom=true`, never echoed in links).
    pub bom: bool,
    /// Validated and echoed, with no other effect (docs/protocol.md §8.2).
    pub input_ref: String,
    /// The 18 link keys with the values to echo, in [`LINK_KEYS`] order.
    pub(super) echo: Vec<RawParam>,
}

impl EntriesQuery {
    /// Rows to skip before this page, saturating for absurd page numbers.
    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }

    pub fn is_branch(&self) -> bool {
        self.branch_ref.is_some()
    }

    /// The query string of a pagination link to `page`: the 18 keys with their effective
    /// values, RFC 3986 encoded, then `page`.
    pub fn link_query(&self, page: i64) -> String {
        let mut out = String::with_capacity(256);
        for (key, value) in LINK_KEYS.iter().zip(&self.echo) {
            match value {
                RawParam::Str(s) => push_pair(&mut out, key, s),
                RawParam::Array(items) => {
                    for (index, item) in items {
                        push_pair(&mut out, &format!("{key}[{index}]"), item);
                    }
                }
            }
        }
        push_pair(&mut out, "page", &page.to_string());
        out
    }
}

fn push_pair(out: &mut String, key: &str, value: &str) {
    if !out.is_empty() {
        out.push('&');
    }
    push_rawurlencoded(out, key);
    out.push('=');
    push_rawurlencoded(out, value);
}

impl EntriesQuery {
    /// The string a link echoes for one of the [`LINK_KEYS`] (`None` for an array value).
    pub fn echoed(&self, key: &str) -> Option<&str> {
        let pos = LINK_KEYS.iter().position(|k| *k == key)?;
        self.echo.get(pos).and_then(RawParam::as_str)
    }
}
