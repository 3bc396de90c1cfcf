//! The validation rules of an entries request in the real server's order, then its semantic
//! checks, then the typed query with its defaults.

use super::query_string::{RawParam, parse_query_string};
use super::types::{
    DEFAULT_PER_PAGE, DateColumn, DateFilter, EntriesQuery, Format, MAX_PER_PAGE,
    MAX_TITLE_FILTER_CHARS, Selection, SortBy, SortOrder,
};
use crate::codes::Ec5Error;
use crate::definition::{Definition, InputType};
use crate::export::dates::PhpDate;
use crate::mappings::MappingList;
use crate::php::{empty_str, filter_validate_int_str, is_numeric_str, trim};

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
        EntriesQuery::parse_with(raw_query, def, maps, false)
    }

    /// [`EntriesQuery::parse`], also accepting `format=geojson` when `geojson` (Quadrat's
    /// extension, docs/protocol.md §17.12; off, the value is `ec5_29` as on the real server).
    pub fn parse_with(
        raw_query: &str,
        def: &Definition,
        maps: &MappingList,
        geojson: bool,
    ) -> Result<EntriesQuery, Vec<Ec5Error>> {
        let params = parse_query_string(raw_query);
        Reader {
            params: &params,
            errors: Vec::new(),
            geojson,
        }
        .read(def, maps)
    }
}

/// The decoded parameters, and the rule failures in the order they were found.
struct Reader<'a> {
    params: &'a [(String, RawParam)],
    errors: Vec<Ec5Error>,
    geojson: bool,
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
    ) -> Echoed<Option<T>> {
        match self.get(key) {
            RawParam::Array(_) => {
                if string_rule {
                    self.fail("ec5_87", key);
                }
                self.fail("ec5_29", key);
                Echoed::new(None, String::new())
            }
            RawParam::Str(s) => {
                let value = match default {
                    Some(d) if empty_str(s) => d,
                    _ => s.as_str(),
                };
                if value.is_empty() {
                    return Echoed::new(None, String::new());
                }
                match allowed.iter().find(|(name, _)| *name == value) {
                    Some((_, v)) => Echoed::new(Some(*v), value.to_string()),
                    None => {
                        self.fail("ec5_29", key);
                        Echoed::new(None, value.to_string())
                    }
                }
            }
        }
    }

    /// A `date` parameter: Laravel's `date` rule (`strtotime` reads it, the day exists).
    fn date(&mut self, key: &str) -> Echoed<Option<PhpDate>> {
        match self.get(key) {
            RawParam::Str(s) if s.is_empty() => Echoed::new(None, String::new()),
            RawParam::Str(s) => match PhpDate::parse(s).filter(PhpDate::is_valid_date) {
                Some(d) => Echoed::new(Some(d), s.clone()),
                None => {
                    self.fail("ec5_79", key);
                    Echoed::new(None, s.clone())
                }
            },
            RawParam::Array(_) => {
                self.fail("ec5_79", key);
                Echoed::new(None, String::new())
            }
        }
    }

    /// The rules (every failure), else the semantic checks (the first failure), else the query.
    fn read(mut self, def: &Definition, maps: &MappingList) -> Result<EntriesQuery, Vec<Ec5Error>> {
        let checked = self.apply_rules(def, maps);
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        let map_index = checked.semantic_checks(def, maps).map_err(|e| vec![e])?;
        let echo = self.echo(&checked);
        let Checked {
            page,
            per_page,
            refs,
            sort_by,
            sort_order,
            filter,
            format,
            headers,
            title,
            bom,
            ..
        } = checked;
        Ok(EntriesQuery {
            selection: refs.selection(),
            filter: filter.date_filter(),
            form_ref: refs.form_ref,
            branch_ref: (!refs.branch_ref.is_empty()).then_some(refs.branch_ref),
            title: (!empty_str(&title)).then_some(title),
            sort_by: sort_by.value.unwrap_or(SortBy::CreatedAt),
            sort_order: sort_order.value.unwrap_or(SortOrder::Desc),
            per_page: per_page.value,
            page,
            map_index,
            format: format.value.unwrap_or(Format::Json),
            headers: headers.value.unwrap_or(true),
            bom: bom.unwrap_or(false),
            input_ref: refs.input_ref,
            echo,
        })
    }

    /// Every validation rule, in the real server's rule order: page, per_page, form_ref, uuid,
    /// parent_form_ref, parent_uuid, branch_ref, branch_owner_uuid, input_ref, (search),
    /// map_index, sort_by, sort_order, filter_by, filter_from, filter_to, format, headers, title;
    /// then Quadrat's own `bom`. Failures are collected in `self.errors`.
    fn apply_rules(&mut self, def: &Definition, maps: &MappingList) -> Checked {
        let page = self.page();
        let per_page = self.per_page();
        let refs = self.refs(def);
        let map_index = self.map_index(maps);
        let sort_by = self.choice(
            "sort_by",
            true,
            Some("created_at"),
            &[
                ("created_at", SortBy::CreatedAt),
                ("uploaded_at", SortBy::UploadedAt),
                ("title", SortBy::Title),
            ],
        );
        let sort_order = self.choice(
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
        let filter = self.filter();
        let formats: &[(&str, Format)] = if self.geojson {
            &[
                ("json", Format::Json),
                ("csv", Format::Csv),
                ("geojson", Format::GeoJson),
            ]
        } else {
            &[("json", Format::Json), ("csv", Format::Csv)]
        };
        let format = self.choice("format", false, Some("json"), formats);
        let headers = self.choice(
            "headers",
            false,
            Some("true"),
            &[("true", true), ("false", false)],
        );
        let title = self.title();
        // Quadrat's own parameter: checked last, never echoed.
        let bom = self
            .choice("bom", false, None, &[("true", true), ("false", false)])
            .value;
        Checked {
            page,
            per_page,
            refs,
            map_index,
            sort_by,
            sort_order,
            filter,
            format,
            headers,
            title,
            bom,
        }
    }

    /// `title`: a string (`ec5_87` for a list) of at most [`MAX_TITLE_FILTER_CHARS`] characters
    /// (`ec5_44`, Laravel's `max` rule; the real server has no limit).
    fn title(&mut self) -> String {
        let title = self.string("title");
        if title.chars().nth(MAX_TITLE_FILTER_CHARS).is_some() {
            self.fail("ec5_44", "title");
            return String::new();
        }
        title
    }

    /// `page`: an integer, at least 1 (smaller ones are 1); blank is 1.
    fn page(&mut self) -> i64 {
        match self.get("page") {
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
        }
    }

    /// `per_page`: a positive integer, [`DEFAULT_PER_PAGE`] when PHP-empty.
    fn per_page(&mut self) -> Echoed<i64> {
        let (value, echo) = match self.get("per_page") {
            RawParam::Str(s) if empty_str(s) => (
                DEFAULT_PER_PAGE,
                RawParam::Str(DEFAULT_PER_PAGE.to_string()),
            ),
            RawParam::Str(s) => match filter_validate_int_str(s) {
                // docs/protocol.md §8.2: zero (other than "0", PHP's empty) and negatives are
                // refused.
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
        Echoed { value, echo }
    }

    /// The refs and uuids that say which rows: `form_ref` (the first form when PHP-empty),
    /// `uuid`, `parent_form_ref`, `parent_uuid`, `branch_ref`, `branch_owner_uuid`, `input_ref`.
    fn refs(&mut self, def: &Definition) -> Refs {
        let mut form_ref = self.string("form_ref");
        if empty_str(&form_ref) {
            form_ref = def
                .forms
                .first()
                .map(|f| f.form_ref.0.clone())
                .unwrap_or_default();
        }
        Refs {
            form_ref,
            uuid: self.uuid("uuid"),
            parent_form_ref: self.string("parent_form_ref"),
            parent_uuid: self.uuid("parent_uuid"),
            branch_ref: self.string("branch_ref"),
            branch_owner_uuid: self.string("branch_owner_uuid"),
            input_ref: self.string("input_ref"),
        }
    }

    /// `map_index`: a non-negative number; empty is the project's default map. Whether the
    /// project has that map is a semantic check.
    fn map_index(&mut self, maps: &MappingList) -> Echoed<Option<f64>> {
        let default_map = maps.default_index();
        let (value, echo) = match self.get("map_index") {
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
        Echoed { value, echo }
    }

    /// `filter_by`, `filter_from`, `filter_to`, in that order.
    fn filter(&mut self) -> FilterParams {
        FilterParams {
            by: self.choice(
                "filter_by",
                true,
                None,
                &[
                    ("created_at", DateColumn::CreatedAt),
                    ("uploaded_at", DateColumn::UploadedAt),
                ],
            ),
            from: self.date("filter_from"),
            to: self.date("filter_to"),
        }
    }

    /// The values the pagination links echo, in `LINK_KEYS` order.
    fn echo(&self, checked: &Checked) -> Vec<RawParam> {
        let refs = &checked.refs;
        vec![
            RawParam::Str(refs.form_ref.clone()),
            RawParam::Str(refs.parent_form_ref.clone()),
            self.get("branch").clone(),
            RawParam::Str(refs.branch_ref.clone()),
            RawParam::Str(refs.branch_owner_uuid.clone()),
            RawParam::Str(refs.parent_uuid.clone()),
            RawParam::Str(refs.uuid.clone()),
            RawParam::Str(refs.input_ref.clone()),
            checked.per_page.echo.clone(),
            checked.sort_by.echo.clone(),
            checked.sort_order.echo.clone(),
            checked.map_index.echo.clone(),
            checked.filter.by.echo.clone(),
            checked.filter.from.echo.clone(),
            checked.filter.to.echo.clone(),
            checked.format.echo.clone(),
            checked.headers.echo.clone(),
            RawParam::Str(checked.title.clone()),
        ]
    }
}

/// A parameter as the query uses it (`None` when refused or blank) and as its links echo it.
struct Echoed<T> {
    value: T,
    echo: RawParam,
}

impl<T> Echoed<T> {
    fn new(value: T, echo: String) -> Echoed<T> {
        Echoed {
            value,
            echo: RawParam::Str(echo),
        }
    }
}

/// The refs and uuids of a request, after the rules.
struct Refs {
    form_ref: String,
    uuid: String,
    parent_form_ref: String,
    parent_uuid: String,
    branch_ref: String,
    branch_owner_uuid: String,
    input_ref: String,
}

impl Refs {
    /// Which rows the request selects (docs/protocol.md §8.4): `uuid` first, then the parent or
    /// owner, else the whole form or branch.
    fn selection(&self) -> Selection {
        if self.branch_ref.is_empty() {
            if !empty_str(&self.uuid) {
                Selection::Entry {
                    uuid: self.uuid.clone(),
                }
            } else if !empty_str(&self.parent_uuid) {
                Selection::Children {
                    parent_uuid: self.parent_uuid.clone(),
                    parent_form_ref: self.parent_form_ref.clone(),
                }
            } else {
                Selection::Form
            }
        } else if !empty_str(&self.uuid) {
            Selection::BranchEntry {
                uuid: self.uuid.clone(),
            }
        } else if !empty_str(&self.branch_owner_uuid) {
            Selection::OwnerBranch {
                owner_uuid: self.branch_owner_uuid.clone(),
            }
        } else {
            Selection::Branch
        }
    }
}

/// `filter_by`, `filter_from` and `filter_to`, after the rules.
struct FilterParams {
    by: Echoed<Option<DateColumn>>,
    from: Echoed<Option<PhpDate>>,
    to: Echoed<Option<PhpDate>>,
}

impl FilterParams {
    /// Both bounds: whole days as written; one bound: that instant. `None` without a column
    /// or without a bound.
    fn date_filter(&self) -> Option<DateFilter> {
        let column = self.by.value?;
        let (from, to) = match (self.from.value, self.to.value) {
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
    }
}

/// Every parameter after the validation rules, before the semantic checks.
struct Checked {
    page: i64,
    per_page: Echoed<i64>,
    refs: Refs,
    map_index: Echoed<Option<f64>>,
    sort_by: Echoed<Option<SortBy>>,
    sort_order: Echoed<Option<SortOrder>>,
    filter: FilterParams,
    format: Echoed<Option<Format>>,
    headers: Echoed<Option<bool>>,
    title: String,
    bom: Option<bool>,
}

impl Checked {
    /// The checks against the project, after every rule passed: the first failure is the only
    /// error (the forms, the input, the branch, then `ec5_322` for a map the project lacks,
    /// then `ec5_335` for too large a page). Returns the map index.
    fn semantic_checks(&self, def: &Definition, maps: &MappingList) -> Result<usize, Ec5Error> {
        let refs = &self.refs;
        if def.form(&refs.form_ref).is_none() {
            return Err(Ec5Error::new("ec5_15", refs.form_ref.clone()));
        }
        if !empty_str(&refs.parent_form_ref) && def.form(&refs.parent_form_ref).is_none() {
            return Err(Ec5Error::new("ec5_15", refs.parent_form_ref.clone()));
        }
        if !empty_str(&refs.input_ref) && def.input(&refs.input_ref).is_none() {
            return Err(Ec5Error::new("ec5_84", refs.input_ref.clone()));
        }
        // The real server skips this check for "0" and then crashes; it is refused here.
        let is_branch_of_form = def.form(&refs.form_ref).is_some_and(|f| {
            f.inputs
                .iter()
                .any(|i| i.kind == InputType::Branch && i.input_ref.as_str() == refs.branch_ref)
        });
        if !refs.branch_ref.is_empty() && !is_branch_of_form {
            return Err(Ec5Error::new("ec5_99", refs.branch_ref.clone()));
        }
        let map_index = self
            .map_index
            .value
            .and_then(|wanted| maps.indexes().find(|&i| i as f64 == wanted));
        let Some(map_index) = map_index else {
            let shown = match &self.map_index.echo {
                RawParam::Str(s) => s.as_str(),
                RawParam::Array(_) => "",
            };
            return Err(Ec5Error::new("ec5_322", format!("map_index: {shown}")));
        };
        if self.per_page.value > MAX_PER_PAGE {
            return Err(Ec5Error::new("ec5_335", "api"));
        }
        Ok(map_index)
    }
}
