//! `format=geojson` on the entries export (docs/protocol.md §17.12): which location input maps
//! the rows, and the FeatureCollection around the export's own rendering.

use quadrat_core::Ec5Error;
use quadrat_core::export::jsonw::push_str;
use quadrat_core::export::links::{Links, Meta};
use quadrat_core::export::params::{RawParam, parse_query_string};
use quadrat_core::export::render::{ExportPlan, LocationInput, StoredEntry};

use crate::{AppError, Result};

/// The GeoJSON parameters of a request.
#[derive(Debug, Clone)]
pub struct GeoOptions {
    /// The location inputs that give Features, in form order (one unless `locations=all`).
    pub inputs: Vec<LocationInput>,
    /// `locations=all`: one Feature per answered location input.
    pub all: bool,
    /// `include_unlocated=true`: every selected row, `geometry: null` without a point.
    pub include_unlocated: bool,
    /// Map markers only ([`ExportPlan::write_marker`]): the map page's feed.
    pub markers: bool,
}

fn invalid(source: &str) -> AppError {
    AppError::Client {
        status: 400,
        errors: vec![Ec5Error::new("ec5_29", source)],
    }
}

impl GeoOptions {
    /// Reads `input_ref`, `locations` and `include_unlocated` against the plan's location
    /// inputs (the query's other parameters are already checked, `input_ref` existing).
    pub fn read(raw_query: &str, plan: &ExportPlan) -> Result<GeoOptions> {
        let params = parse_query_string(raw_query);
        let get = |key: &str| -> Option<&RawParam> {
            params.iter().find(|(k, _)| k == key).map(|(_, v)| v)
        };
        let text = |key: &str| -> Result<Option<String>> {
            match get(key) {
                None => Ok(None),
                Some(RawParam::Str(s)) if s.is_empty() => Ok(None),
                Some(RawParam::Str(s)) => Ok(Some(s.clone())),
                Some(RawParam::Array(_)) => Err(invalid(key)),
            }
        };
        let all = match text("locations")?.as_deref() {
            None | Some("first") => false,
            Some("all") => true,
            Some(_) => return Err(invalid("locations")),
        };
        let include_unlocated = match text("include_unlocated")?.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => return Err(invalid("include_unlocated")),
        };
        let located = plan.location_inputs();
        let inputs = match text("input_ref")? {
            Some(_) if all => return Err(invalid("input_ref")),
            Some(input_ref) => match located.iter().find(|l| l.input_ref == input_ref) {
                Some(l) => vec![l.clone()],
                // An input of the project, but not a location of this form or branch.
                None => return Err(invalid("input_ref")),
            },
            None if all => located,
            None => located.into_iter().take(1).collect(),
        };
        Ok(GeoOptions {
            inputs,
            all,
            include_unlocated,
            markers: false,
        })
    }

    /// The input refs a row must have a point in to be selected.
    pub fn refs(&self) -> Vec<String> {
        self.inputs.iter().map(|l| l.input_ref.clone()).collect()
    }

    /// The export's links with `locations` and `include_unlocated` before `page`.
    pub fn links(&self, mut links: Links) -> Links {
        let extra = format!(
            "&locations={}&include_unlocated={}",
            if self.all { "all" } else { "first" },
            self.include_unlocated
        );
        let fix = |l: &mut String| {
            if let Some(at) = l.rfind("&page=") {
                l.insert_str(at, &extra);
            }
        };
        fix(&mut links.self_link);
        fix(&mut links.first);
        if let Some(l) = links.prev.as_mut() {
            fix(l);
        }
        if let Some(l) = links.next.as_mut() {
            fix(l);
        }
        fix(&mut links.last);
        links
    }

    /// `{"type":"FeatureCollection","meta":…,"links":…,"features":[` (`type` first, for
    /// streaming readers; `meta` and `links` are foreign members, RFC 7946 §6.1).
    pub fn begin(&self, meta: &Meta, plan: &ExportPlan, links: &Links, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"type\":\"FeatureCollection\",\"meta\":");
        let mut m = Vec::new();
        meta.write_json(&mut m);
        if m.last() == Some(&b'}') {
            m.pop();
        }
        out.extend_from_slice(&m);
        out.extend_from_slice(b",\"mapping\":{\"map_name\":");
        push_str(out, plan.map_name());
        out.extend_from_slice(b",\"map_index\":");
        out.extend_from_slice(plan.map_index().to_string().as_bytes());
        out.extend_from_slice(b"},\"location\":[");
        for (i, l) in self.inputs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"input_ref\":");
            push_str(out, &l.input_ref);
            out.extend_from_slice(b",\"map_to\":");
            push_str(out, &l.map_to);
            out.push(b'}');
        }
        out.extend_from_slice(b"]},\"links\":");
        links.write_json(out);
        out.extend_from_slice(b",\"features\":[");
    }

    /// The row's Features: one for the chosen input, or with `locations=all` one per input
    /// with a point. Nothing is written for a row without one unless `include_unlocated`.
    pub fn push(
        &self,
        plan: &ExportPlan,
        row: &StoredEntry<'_>,
        first: &mut bool,
        out: &mut Vec<u8>,
    ) {
        if self.markers {
            for l in &self.inputs {
                let at = out.len();
                if !*first {
                    out.push(b',');
                }
                if plan.write_marker(row, &l.input_ref, out) {
                    *first = false;
                } else {
                    out.truncate(at);
                }
            }
            return;
        }
        let mut wrote = false;
        for l in &self.inputs {
            if !self.include_unlocated && !plan.has_point(row, &l.input_ref) {
                continue;
            }
            if !*first {
                out.push(b',');
            }
            *first = false;
            plan.write_feature(row, &l.input_ref, self.all, out);
            wrote = true;
        }
        if !wrote && self.include_unlocated && self.inputs.is_empty() {
            if !*first {
                out.push(b',');
            }
            *first = false;
            plan.write_feature(row, "", false, out);
        }
    }
}

/// The `Link` header of a page's links (RFC 8288).
pub fn link_header(links: &Links) -> String {
    let mut parts = vec![format!("<{}>; rel=\"first\"", links.first)];
    if let Some(p) = &links.prev {
        parts.push(format!("<{p}>; rel=\"prev\""));
    }
    if let Some(n) = &links.next {
        parts.push(format!("<{n}>; rel=\"next\""));
    }
    parts.push(format!("<{}>; rel=\"last\"", links.last));
    parts.join(", ")
}
