//! Entries rendered ahead: a form's JSON entry objects written once with the form's default
//! map and kept by the store, so that a page of JSON copies them instead of reading every
//! `entry_data` again (docs/architecture.md, "Entries rendered ahead").
//!
//! An object is only ever used by a request whose plan writes the same bytes for the same row:
//! its key ([`ExportPlan::ahead_key`]) names everything the plan is made of besides the rows
//! (the structure's version covers the definition and the mappings; then the map, the form,
//! the slug, and the source of this crate, which holds the rendering). Requests on private
//! projects (their `created_by` comes from the users table) and in branch mode have no key:
//! they always render.
//!
//! The one part of an object that varies with the request is the origin of its media URLs:
//! objects are written with [`ORIGIN_MARK`] in its place, and [`push_rendered_ahead`] writes
//! the request's origin there.

use std::hash::{Hash, Hasher};

use super::plan::{ExportPlan, PlanOptions};
use crate::definition::Definition;
use crate::export::jsonw::is_plain_json;
use crate::mappings::MappingList;

/// Written where the request's origin goes. A control character is always escaped in JSON
/// text, so this raw byte is never part of a written value.
pub const ORIGIN_MARK: &str = "\u{1}";

/// The source of this crate, which holds all of the rendering (a hash made by `build.rs`):
/// objects rendered by another build are rendered again instead of served.
const RENDER_CODE: &str = env!("QUADRAT_CORE_SOURCE");

impl ExportPlan {
    /// The plan a form's entries are rendered ahead with: its default map, as a public
    /// project's, with [`ORIGIN_MARK`] for the origin.
    pub fn ahead(def: &Definition, maps: &MappingList, form_ref: &str, slug: &str) -> ExportPlan {
        let mut plan = ExportPlan::new(
            def,
            maps,
            &PlanOptions {
                form_ref,
                branch_ref: None,
                map_index: maps.default_index(),
                private: false,
                slug,
                origin: ORIGIN_MARK,
            },
        );
        // The mark is written raw; the request's origin replaces it only when that origin
        // needs no escape either (else its plan has no key).
        plan.media_base_is_plain = is_plain_json(&format!("/api/media/{slug}?"));
        plan
    }

    /// The key of the objects rendered ahead that this plan writes as it would write their
    /// rows, or `None` when it renders every row (private projects, branch mode, an origin
    /// or slug that needs escaping in JSON). `structure_version` is the version of the
    /// stored structure the plan was made from.
    pub fn ahead_key(&self, structure_version: i64, form_ref: &str, slug: &str) -> Option<i64> {
        if self.private || self.body_key != "entry" || !self.media_base_is_plain {
            return None;
        }
        // Fixed keys: the same hash in every process of a build. A hash that changes with a
        // Rust release only makes the stored objects miss and be rendered again.
        let mut h = std::hash::DefaultHasher::new();
        RENDER_CODE.hash(&mut h);
        (structure_version, self.map_index, form_ref, slug).hash(&mut h);
        Some(h.finish() as i64)
    }
}

/// Appends an object rendered ahead to `out`, with `origin` where its marks are.
pub fn push_rendered_ahead(out: &mut Vec<u8>, stored: &str, origin: &str) {
    let mut rest = stored.as_bytes();
    while let Some(at) = memchr::memchr(ORIGIN_MARK.as_bytes()[0], rest) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(origin.as_bytes());
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_goes_where_each_mark_is() {
        let mut out = b"[".to_vec();
        push_rendered_ahead(
            &mut out,
            "{\"a\":\"\u{1}/x\",\"b\":\"\u{1}/y\"}",
            "http://h:1",
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[{\"a\":\"http://h:1/x\",\"b\":\"http://h:1/y\"}"
        );
        let mut out = Vec::new();
        push_rendered_ahead(&mut out, "{\"n\":1}", "http://h");
        assert_eq!(out, b"{\"n\":1}");
    }
}
