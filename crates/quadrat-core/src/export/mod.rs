//! The entries export (export-api.md §1–2) without the storage: query parameters, pagination
//! links and meta, and the rendering of stored entries as mapped JSON objects and CSV rows.
//!
//! A request is served in three steps, all pure:
//! 1. [`params::EntriesQuery::parse`] turns the raw query string into a typed query or the
//!    Epicollect5 errors, in the real server's order;
//! 2. the caller fetches the page of rows (and the total, newest and oldest `created_at`);
//! 3. [`render::ExportPlan`], built once per request, writes each row as a JSON entry or a CSV
//!    row, and [`links`] writes `meta` and `links`.

pub mod csv;
pub mod dates;
mod jsonw;
pub mod links;
pub mod params;
mod php;
pub mod render;
mod row;
pub mod utm;
