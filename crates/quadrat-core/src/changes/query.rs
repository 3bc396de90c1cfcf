//! The parameters of `GET /api/export/changes/{slug}` (docs/protocol.md §17.2), with the entries
//! export's codes where the parameter is the same.

use super::cursor::CursorToken;
use crate::codes::Ec5Error;
use crate::definition::{Definition, InputType};
use crate::export::params::{MAX_PER_PAGE, RawParam, parse_query_string};
use crate::mappings::MappingList;

/// Default `per_page` of the feed.
pub const DEFAULT_PER_PAGE: i64 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangesFormat {
    Json,
    Csv,
}

/// A checked feed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangesQuery {
    /// `None`: start from the beginning.
    pub cursor: Option<CursorToken>,
    pub per_page: i64,
    /// Only this form's entries and the branch entries it owns (set too when only `branch_ref`
    /// was sent: the branch's form).
    pub form_ref: Option<String>,
    /// Only this branch input's entries.
    pub branch_ref: Option<String>,
    pub map_index: usize,
    pub format: ChangesFormat,
    pub headers: bool,
}

impl ChangesQuery {
    /// Reads and checks the query string; the first error found, as a one-element list.
    pub fn parse(
        raw: &str,
        def: &Definition,
        maps: &MappingList,
    ) -> Result<ChangesQuery, Vec<Ec5Error>> {
        read(raw, def, maps).map_err(|e| vec![e])
    }
}

fn read(raw: &str, def: &Definition, maps: &MappingList) -> Result<ChangesQuery, Ec5Error> {
    let params = parse_query_string(raw);
    let get =
        |key: &str| -> Option<&RawParam> { params.iter().find(|(k, _)| k == key).map(|(_, v)| v) };
    // A value, or the error `code` for an array.
    let text = |key: &str, code: &str| -> Result<Option<String>, Ec5Error> {
        match get(key) {
            None => Ok(None),
            Some(RawParam::Str(s)) if s.is_empty() => Ok(None),
            Some(RawParam::Str(s)) => Ok(Some(s.clone())),
            Some(RawParam::Array(_)) => Err(Ec5Error::new(code, key)),
        }
    };
    let per_page = match text("per_page", "ec5_27")? {
        None => DEFAULT_PER_PAGE,
        Some(s) => match s.trim().parse::<i64>() {
            Ok(n) if n >= 1 => n,
            _ => return Err(Ec5Error::new("ec5_27", "per_page")),
        },
    };
    let wanted_map = match text("map_index", "ec5_27")? {
        None => None,
        Some(s) => match s.trim().parse::<f64>() {
            Ok(n) if n < 0.0 => return Err(Ec5Error::new("ec5_43", "map_index")),
            Ok(n) if n.is_finite() => Some((n, s)),
            _ => return Err(Ec5Error::new("ec5_27", "map_index")),
        },
    };
    let format = match text("format", "ec5_29")?.as_deref() {
        None | Some("json") => ChangesFormat::Json,
        Some("csv") => ChangesFormat::Csv,
        Some(_) => return Err(Ec5Error::new("ec5_29", "format")),
    };
    let headers = match text("headers", "ec5_29")?.as_deref() {
        None | Some("true") => true,
        Some("false") => false,
        Some(_) => return Err(Ec5Error::new("ec5_29", "headers")),
    };
    let mut form_ref = text("form_ref", "ec5_15")?;
    if let Some(f) = &form_ref
        && def.form(f).is_none()
    {
        return Err(Ec5Error::new("ec5_15", f.clone()));
    }
    let branch_ref = text("branch_ref", "ec5_99")?;
    if let Some(b) = &branch_ref {
        let owner = def
            .forms
            .iter()
            .find(|f| f.branches().any(|i| i.input_ref.as_str() == b));
        match (owner, &form_ref) {
            (None, _) => return Err(Ec5Error::new("ec5_99", b.clone())),
            (Some(o), Some(f)) if o.form_ref.as_str() != f => {
                return Err(Ec5Error::new("ec5_99", b.clone()));
            }
            (Some(o), _) => form_ref = Some(o.form_ref.as_str().to_string()),
        }
    }
    let map_index = match wanted_map {
        None => maps.default_index(),
        Some((n, shown)) => maps
            .indexes()
            .find(|&i| i as f64 == n)
            .ok_or_else(|| Ec5Error::new("ec5_322", format!("map_index: {shown}")))?,
    };
    if format == ChangesFormat::Csv && form_ref.is_none() {
        return Err(Ec5Error::new("ec5_21", "form_ref"));
    }
    if per_page > MAX_PER_PAGE {
        return Err(Ec5Error::new("ec5_335", "api"));
    }
    let cursor = match text("cursor", "qd_cursor_invalid")
        .map_err(|_| super::quadrat_error("qd_cursor_invalid", "cursor"))?
    {
        None => None,
        Some(t) => Some(CursorToken::decode(&t)?),
    };
    // Only branch inputs are accepted above; keep the type in use for readers of this module.
    debug_assert!(
        branch_ref.is_none()
            || def
                .input(branch_ref.as_deref().unwrap_or_default())
                .is_some_and(|i| i.kind == InputType::Branch)
    );
    Ok(ChangesQuery {
        cursor,
        per_page,
        form_ref,
        branch_ref,
        map_index,
        format,
        headers,
    })
}
