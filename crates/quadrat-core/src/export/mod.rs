//! The entries export (docs/protocol.md §8) without the storage: query parameters, pagination
//! links and meta, and the rendering of stored entries as mapped JSON objects and CSV rows.
//!
//! A request is served in three steps, all pure:
//! 1. [`params::EntriesQuery::parse`] turns the raw query string into a typed query or the
//!    Epicollect5 errors, in the real server's order;
//! 2. the caller fetches the page of rows (and the total, newest and oldest `created_at`);
//! 3. [`render::ExportPlan`], built once per request, writes each row as a JSON entry or a CSV
//!    row, and [`links`] writes `meta` and `links`.
//!
//! ```
//! use quadrat_core::definition::{Definition, mapping::regenerate};
//! use quadrat_core::export::csv::CsvWriter;
//! use quadrat_core::export::links::{LinkBase, Links, Meta, Pagination};
//! use quadrat_core::export::params::{EntriesQuery, Format};
//! use quadrat_core::export::render::{ExportPlan, JsonPage, StoredEntry};
//! use quadrat_core::mappings::MappingList;
//!
//! let file: serde_json::Value =
//!     serde_json::from_str(include_str!("../../tests/fixtures/tree-survey-2024.json")).unwrap();
//! let def = Definition::from_data(&file["data"]).unwrap();
//! let maps = MappingList::from_stored(&regenerate(&file["data"], None));
//!
//! // 1. The request's query string (errors are the 400 envelope's list).
//! let query = EntriesQuery::parse("per_page=2&sort_order=asc", &def, &maps).unwrap();
//!
//! // 2. The store selects rows by `query.form_ref`, `query.branch_ref`, `query.selection`,
//! //    `query.filter`, `query.title`, sorts by `query.sort_by`/`sort_order` and pages by
//! //    `query.offset()`/`per_page`; it also counts the set and finds its newest and oldest
//! //    `created_at`. Here: one row, no answers.
//! let entry_data = r#"{"type":"entry","entry":{"answers":{},"created_at":"2024-06-03T09:15:27.000Z"}}"#;
//! let row = StoredEntry {
//!     uuid: "5f0c2a9e-7b1d-4c3e-9a8f-2d6b1e4c7a90",
//!     parent_uuid: "",
//!     owner_uuid: "",
//!     uploaded_at: 1_717_406_130_000,
//!     title: "Oak Ridge",
//!     created_by: None,
//!     entry_data,
//!     branch_counts: None,
//! };
//!
//! // 3. Render.
//! let plan = ExportPlan::for_query(&def, &maps, &query, false, "tree-survey-2024", "https://example.org");
//! assert_eq!(query.format, Format::Json);
//! let pagination = Pagination::for_query(1, &query);
//! let meta = Meta::new(pagination, Some(row.uploaded_at), Some(row.uploaded_at), 0);
//! let base = LinkBase::new("https", "example.org", "/api/export/entries/tree-survey-2024");
//! let links = Links::new(&base, &query, &pagination);
//! let mut page = JsonPage::begin(&meta, "tree-survey-2024");
//! page.push(&plan, &row);
//! let body = page.finish(&plan, &links);
//! assert!(body.starts_with(br#"{"meta":{"total":1,"per_page":2,"#));
//!
//! // The same rows as CSV.
//! let mut csv = CsvWriter::new();
//! if query.bom {
//!     csv.bom();
//! }
//! if query.headers {
//!     plan.write_csv_header(&mut csv);
//! }
//! plan.write_csv(&row, &mut csv);
//! assert!(csv.as_bytes().starts_with(b"ec5_uuid,created_at,uploaded_at,title,1_Site_name,"));
//! ```

pub mod csv;
pub mod dates;
pub mod jsonw;
mod keys;
pub mod keyset;
pub mod links;
pub mod params;
pub mod render;
mod row;
mod scan;
pub mod utm;
