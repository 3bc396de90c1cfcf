//! The query parameters of `GET /api/export/entries/{slug}` (export-api.md §1.2–1.3): PHP's
//! reading of the query string, the defaults, the validation rules with their `ec5_*` codes in
//! the real server's order, the semantic checks, and the typed query the store runs.

use super::dates::PhpDate;

use crate::codes::Ec5Error;
use crate::definition::{Definition, InputType};
use crate::mappings::MappingList;
use crate::php::{empty_str, filter_validate_int_str, is_numeric_str, push_rawurlencoded, trim};
use crate::time::UnixMillis;

/// Default and largest `per_page` (decision 4).
pub const DEFAULT_PER_PAGE: i64 = 50;
pub const MAX_PER_PAGE: i64 = 1000;

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

/// A query-string value as PHP decodes it: a string, or an array (`key[]=…`, `key[k]=…`) of
/// its first-level keys and values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawParam {
    Str(String),
    Array(Vec<(String, String)>),
}

impl RawParam {
    fn as_str(&self) -> Option<&str> {
        match self {
            RawParam::Str(s) => Some(s),
            RawParam::Array(_) => None,
        }
    }
}

/// Decodes a raw query string the way PHP fills `$_GET`: `&`-separated pairs, `+` and `%XX`
/// decoded, the last of repeated keys wins, `key[]` and `key[k]` make arrays, and in names
/// blanks and dots become `_` (`form.ref` is `form_ref`) and an unclosed `[` becomes `_`.
pub fn parse_query_string(raw: &str) -> Vec<(String, RawParam)> {
    let mut out: Vec<(String, RawParam)> = Vec::new();
    for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
        let Some((name, index)) = php_var_name(&key) else {
            continue;
        };
        let value = value.into_owned();
        let slot = out.iter().position(|(k, _)| *k == name);
        match index {
            None => match slot {
                Some(i) => out[i].1 = RawParam::Str(value),
                None => out.push((name, RawParam::Str(value))),
            },
            Some(index) => {
                let i = match slot {
                    Some(i) => i,
                    None => {
                        out.push((name, RawParam::Array(Vec::new())));
                        out.len() - 1
                    }
                };
                if !matches!(out[i].1, RawParam::Array(_)) {
                    out[i].1 = RawParam::Array(Vec::new());
                }
                if let RawParam::Array(items) = &mut out[i].1 {
                    let key = index.unwrap_or_else(|| next_index(items).to_string());
                    match items.iter().position(|(k, _)| *k == key) {
                        Some(j) => items[j].1 = value,
                        None => items.push((key, value)),
                    }
                }
            }
        }
    }
    out
}

/// PHP's next automatic array key: one past the largest integer key.
fn next_index(items: &[(String, String)]) -> i64 {
    items
        .iter()
        .filter_map(|(k, _)| k.parse::<i64>().ok())
        .max()
        .map_or(0, |m| m.saturating_add(1))
}

/// The variable name PHP registers for a query key, and for an array key its first index
/// (`None` for `[]`).
fn php_var_name(key: &str) -> Option<(String, Option<Option<String>>)> {
    let key = key.trim_start_matches(' ');
    let mut name = String::with_capacity(key.len());
    for (i, c) in key.char_indices() {
        match c {
            ' ' | '.' => name.push('_'),
            '[' => {
                let rest = &key[i + 1..];
                return match rest.find(']') {
                    Some(close) if !name.is_empty() => {
                        let index = &rest[..close];
                        Some((name, Some((!index.is_empty()).then(|| index.to_string()))))
                    }
                    Some(_) => None,
                    None => {
                        name.push('_');
                        name.push_str(rest);
                        Some((name, None))
                    }
                };
            }
            other => name.push(other),
        }
    }
    (!name.is_empty()).then_some((name, None))
}

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

/// Which rows a request selects (export-api.md §1.3), besides the filters.
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
    /// Validated and echoed, with no other effect (decision 5).
    pub input_ref: String,
    /// The 18 link keys with the values to echo, in [`LINK_KEYS`] order.
    echo: Vec<RawParam>,
}

impl EntriesQuery {
    /// Reads `raw_query` (without the `?`) for a project with this definition and mapping
    /// list. The errors are those the real server answers with (all HTTP 400): every failed
    /// validation rule in rule order, else the first failed semantic check, else `ec5_322`,
    /// else `ec5_335`.
    pub fn parse(
        raw_query: &str,
        def: &Definition,
        maps: &MappingList,
    ) -> Result<EntriesQuery, Vec<Ec5Error>> {
        let params = parse_query_string(raw_query);
        Reader {
            params: &params,
            errors: Vec::new(),
        }
        .read(def, maps)
    }

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

struct Reader<'a> {
    params: &'a [(String, RawParam)],
    errors: Vec<Ec5Error>,
}

/// What PHP's `request()->get($k) ?? ''` gives for a key that is not there.
static EMPTY: RawParam = RawParam::Str(String::new());

impl<'a> Reader<'a> {
    fn get(&self, key: &str) -> &'a RawParam {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map_or(&EMPTY, |(_, v)| v)
    }

    fn fail(&mut self, code: &str, source: &str) {
        self.errors.push(Ec5Error::new(code, source));
    }

    /// A `nullable|string` parameter: an array is `ec5_87`.
    fn string(&mut self, key: &str) -> String {
        match self.get(key) {
            RawParam::Str(s) => s.clone(),
            RawParam::Array(_) => {
                self.fail("ec5_87", key);
                String::new()
            }
        }
    }

    /// `nullable|min:36`: shorter values are `ec5_43`; blank ones skip the rule (Laravel), and
    /// an array is always refused (the real server counts its items).
    fn uuid(&mut self, key: &str) -> String {
        match self.get(key) {
            RawParam::Str(s) if trim(s).is_empty() || s.chars().count() >= 36 => s.clone(),
            _ => {
                self.fail("ec5_43", key);
                String::new()
            }
        }
    }

    /// A `string|in:…` parameter with its default for PHP-empty values. An array fails both
    /// rules; a blank value is refused (the real server skips the rules and then crashes or
    /// ignores it).
    fn choice<T: Copy>(
        &mut self,
        key: &str,
        string_rule: bool,
        default: Option<&'static str>,
        allowed: &[(&str, T)],
    ) -> (Option<T>, RawParam) {
        match self.get(key) {
            RawParam::Array(_) => {
                if string_rule {
                    self.fail("ec5_87", key);
                }
                self.fail("ec5_29", key);
                (None, RawParam::Str(String::new()))
            }
            RawParam::Str(s) => {
                let value = match default {
                    Some(d) if empty_str(s) => d,
                    _ => s.as_str(),
                };
                if value.is_empty() {
                    return (None, RawParam::Str(String::new()));
                }
                match allowed.iter().find(|(name, _)| *name == value) {
                    Some((_, v)) => (Some(*v), RawParam::Str(value.to_string())),
                    None => {
                        self.fail("ec5_29", key);
                        (None, RawParam::Str(value.to_string()))
                    }
                }
            }
        }
    }

    fn date(&mut self, key: &str) -> (Option<PhpDate>, RawParam) {
        match self.get(key) {
            RawParam::Str(s) if s.is_empty() => (None, RawParam::Str(String::new())),
            RawParam::Str(s) => match PhpDate::parse(s).filter(PhpDate::is_valid_date) {
                Some(d) => (Some(d), RawParam::Str(s.clone())),
                None => {
                    self.fail("ec5_79", key);
                    (None, RawParam::Str(s.clone()))
                }
            },
            RawParam::Array(_) => {
                self.fail("ec5_79", key);
                (None, RawParam::Str(String::new()))
            }
        }
    }

    fn read(mut self, def: &Definition, maps: &MappingList) -> Result<EntriesQuery, Vec<Ec5Error>> {
        // Rule order: page, per_page, form_ref, uuid, parent_form_ref, parent_uuid, branch_ref,
        // branch_owner_uuid, input_ref, (search), map_index, sort_by, sort_order, filter_by,
        // filter_from, filter_to, format, headers, title.
        let page = match self.get("page") {
            RawParam::Str(s) if trim(s).is_empty() => 1,
            RawParam::Str(s) => match filter_validate_int_str(s) {
                Some(n) => n.max(1),
                None => {
                    self.fail("ec5_27", "page");
                    1
                }
            },
            RawParam::Array(_) => {
                self.fail("ec5_27", "page");
                1
            }
        };

        let (per_page, per_page_echo) = match self.get("per_page") {
            RawParam::Str(s) if empty_str(s) => (
                DEFAULT_PER_PAGE,
                RawParam::Str(DEFAULT_PER_PAGE.to_string()),
            ),
            RawParam::Str(s) => match filter_validate_int_str(s) {
                // Decision 4: zero (other than "0", PHP's empty) and negatives are refused.
                Some(n) if n > 0 => (n, RawParam::Str(s.clone())),
                _ => {
                    self.fail("ec5_27", "per_page");
                    (DEFAULT_PER_PAGE, RawParam::Str(s.clone()))
                }
            },
            RawParam::Array(_) => {
                self.fail("ec5_27", "per_page");
                (DEFAULT_PER_PAGE, RawParam::Str(String::new()))
            }
        };

        let mut form_ref = self.string("form_ref");
        if empty_str(&form_ref) {
            form_ref = def
                .forms
                .first()
                .map(|f| f.form_ref.0.clone())
                .unwrap_or_default();
        }
        let uuid = self.uuid("uuid");
        let parent_form_ref = self.string("parent_form_ref");
        let parent_uuid = self.uuid("parent_uuid");
        let branch_ref = self.string("branch_ref");
        let branch_owner_uuid = self.string("branch_owner_uuid");
        let input_ref = self.string("input_ref");

        let default_map = maps.default_index();
        let (map_index_raw, map_index_echo) = match self.get("map_index") {
            RawParam::Str(s) if s.is_empty() => (
                Some(default_map as f64),
                RawParam::Str(default_map.to_string()),
            ),
            RawParam::Str(s) if trim(s).is_empty() => (None, RawParam::Str(s.clone())),
            RawParam::Str(s) => match is_numeric_str(s) {
                Some(n) if n < 0.0 => {
                    self.fail("ec5_43", "map_index");
                    (None, RawParam::Str(s.clone()))
                }
                Some(n) => (Some(n), RawParam::Str(s.clone())),
                None => {
                    self.fail("ec5_27", "map_index");
                    (None, RawParam::Str(s.clone()))
                }
            },
            RawParam::Array(_) => {
                self.fail("ec5_27", "map_index");
                (None, RawParam::Str(String::new()))
            }
        };

        let (sort_by, sort_by_echo) = self.choice(
            "sort_by",
            true,
            Some("created_at"),
            &[
                ("created_at", SortBy::CreatedAt),
                ("uploaded_at", SortBy::UploadedAt),
                ("title", SortBy::Title),
            ],
        );
        let (sort_order, sort_order_echo) = self.choice(
            "sort_order",
            true,
            Some("DESC"),
            &[
                ("asc", SortOrder::Asc),
                ("ASC", SortOrder::Asc),
                ("desc", SortOrder::Desc),
                ("DESC", SortOrder::Desc),
            ],
        );
        let (filter_by, filter_by_echo) = self.choice(
            "filter_by",
            true,
            None,
            &[
                ("created_at", DateColumn::CreatedAt),
                ("uploaded_at", DateColumn::UploadedAt),
            ],
        );
        let (filter_from, filter_from_echo) = self.date("filter_from");
        let (filter_to, filter_to_echo) = self.date("filter_to");
        let (format, format_echo) = self.choice(
            "format",
            false,
            Some("json"),
            &[("json", Format::Json), ("csv", Format::Csv)],
        );
        let (headers, headers_echo) = self.choice(
            "headers",
            false,
            Some("true"),
            &[("true", true), ("false", false)],
        );
        let title = self.string("title");
        // Quadrat's own parameter: checked last, never echoed.
        let (bom, _) = self.choice("bom", false, None, &[("true", true), ("false", false)]);

        if !self.errors.is_empty() {
            return Err(self.errors);
        }

        // Semantic checks: the first failure is the only error.
        if def.form(&form_ref).is_none() {
            return Err(vec![Ec5Error::new("ec5_15", form_ref)]);
        }
        if !empty_str(&parent_form_ref) && def.form(&parent_form_ref).is_none() {
            return Err(vec![Ec5Error::new("ec5_15", parent_form_ref)]);
        }
        if !empty_str(&input_ref) && def.input(&input_ref).is_none() {
            return Err(vec![Ec5Error::new("ec5_84", input_ref)]);
        }
        // The real server skips this check for "0" and then crashes; it is refused here.
        let is_branch_of_form = def.form(&form_ref).is_some_and(|f| {
            f.inputs
                .iter()
                .any(|i| i.kind == InputType::Branch && i.input_ref.as_str() == branch_ref)
        });
        if !branch_ref.is_empty() && !is_branch_of_form {
            return Err(vec![Ec5Error::new("ec5_99", branch_ref)]);
        }

        let map_index =
            map_index_raw.and_then(|wanted| maps.indexes().find(|&i| i as f64 == wanted));
        let Some(map_index) = map_index else {
            let shown = match &map_index_echo {
                RawParam::Str(s) => s.as_str(),
                RawParam::Array(_) => "",
            };
            return Err(vec![Ec5Error::new(
                "ec5_322",
                format!("map_index: {shown}"),
            )]);
        };
        if per_page > MAX_PER_PAGE {
            return Err(vec![Ec5Error::new("ec5_335", "api")]);
        }

        let selection = if branch_ref.is_empty() {
            if !empty_str(&uuid) {
                Selection::Entry { uuid: uuid.clone() }
            } else if !empty_str(&parent_uuid) {
                Selection::Children {
                    parent_uuid: parent_uuid.clone(),
                    parent_form_ref: parent_form_ref.clone(),
                }
            } else {
                Selection::Form
            }
        } else if !empty_str(&uuid) {
            Selection::BranchEntry { uuid: uuid.clone() }
        } else if !empty_str(&branch_owner_uuid) {
            Selection::OwnerBranch {
                owner_uuid: branch_owner_uuid.clone(),
            }
        } else {
            Selection::Branch
        };

        // Both bounds: whole days as written; one bound: that instant.
        let filter = filter_by.and_then(|column| {
            let (from, to) = match (filter_from, filter_to) {
                (Some(from), Some(to)) => (
                    from.day_bounds_millis().map(|(start, _)| start),
                    to.day_bounds_millis().map(|(_, end)| end),
                ),
                (from, to) => (
                    from.and_then(|d| d.instant_millis()),
                    to.and_then(|d| d.instant_millis()),
                ),
            };
            (from.is_some() || to.is_some()).then_some(DateFilter { column, from, to })
        });

        let branch = self.get("branch").clone();
        let echo = vec![
            RawParam::Str(form_ref.clone()),
            RawParam::Str(parent_form_ref),
            branch,
            RawParam::Str(branch_ref.clone()),
            RawParam::Str(branch_owner_uuid),
            RawParam::Str(parent_uuid),
            RawParam::Str(uuid),
            RawParam::Str(input_ref.clone()),
            per_page_echo,
            sort_by_echo,
            sort_order_echo,
            map_index_echo,
            filter_by_echo,
            filter_from_echo,
            filter_to_echo,
            format_echo,
            headers_echo,
            RawParam::Str(title.clone()),
        ];
        Ok(EntriesQuery {
            form_ref,
            branch_ref: (!branch_ref.is_empty()).then_some(branch_ref),
            selection,
            filter,
            title: (!empty_str(&title)).then_some(title),
            sort_by: sort_by.unwrap_or(SortBy::CreatedAt),
            sort_order: sort_order.unwrap_or(SortOrder::Desc),
            per_page,
            page,
            map_index,
            format: format.unwrap_or(Format::Json),
            headers: headers.unwrap_or(true),
            bom: bom.unwrap_or(false),
            input_ref,
            echo,
        })
    }
}

impl EntriesQuery {
    /// The string a link echoes for one of the [`LINK_KEYS`] (`None` for an array value).
    pub fn echoed(&self, key: &str) -> Option<&str> {
        let pos = LINK_KEYS.iter().position(|k| *k == key)?;
        self.echo.get(pos).and_then(RawParam::as_str)
    }
}
