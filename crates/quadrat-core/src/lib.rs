//! Quadrat's domain: everything about Epicollect5 projects and entries that needs no IO.

pub mod codes;
pub mod definition;
pub mod export;
pub mod ids;
pub mod json;
pub mod mappings;
pub mod roles;
pub mod slug;
pub mod stats;
pub mod time;

pub use codes::Ec5Error;
