//! The query parameters of `GET /api/export/entries/{slug}` (docs/protocol.md §8.2–8.5): PHP's
//! reading of the query string, the defaults, the validation rules with their `ec5_*` codes in
//! the real server's order, the semantic checks, and the typed query the store runs.
//!
//! - `query_string`: the raw query string as PHP decodes it ([`parse_query_string`]);
//! - `types`: the typed [`EntriesQuery`] and its link echoes;
//! - `rules`: [`EntriesQuery::parse`], the rules and checks in the real server's order.

mod query_string;
mod rules;
mod types;

pub use query_string::{RawParam, parse_query_string};
pub use types::{
    DEFAULT_PER_PAGE, DateColumn, DateFilter, EntriesQuery, Format, LINK_KEYS, MAX_PER_PAGE,
    MAX_TITLE_FILTER_CHARS, Selection, SortBy, SortOrder,
};
