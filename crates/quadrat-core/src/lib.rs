//! Quadrat's domain: everything about Epicollect5 projects and entries that needs no IO.

pub mod bulk;
pub mod changes;
pub mod codes;
pub mod definition;
pub mod entry;
pub mod export;
pub mod ids;
pub mod json;
pub mod jwt;
pub mod mappings;
pub mod media;
pub mod oauth;
pub mod php;
pub mod project_state;
pub mod ratelimit;
pub mod roles;
pub mod slug;
pub mod stats;
pub mod time;
pub mod users;

pub use codes::Ec5Error;
