//! The web pages (docs/protocol.md §15.2): server-rendered HTML from compiled templates
//! (`templates/`), plain forms answered with Post/Redirect/Get, a session per browser kept in
//! the database, a CSRF token in every form. Handlers call the same use-cases as the CLI and the
//! API; the rules live there.

pub mod assets;
mod cookies;
pub(crate) mod forms;
mod pages;
mod render;
pub(crate) mod session;
mod streamed;

pub use cookies::wants_page;
pub use pages::{apps, mount};
pub use render::{not_found_page, security_headers};
