//! Project definitions: the typed model, whole-definition validation (docs/protocol.md §3.3),
//! and what is derived from a definition (project_extra, the EC5_AUTO mapping).

pub mod datetime_format;
pub mod edit;
pub mod extra;
pub mod mapping;
pub mod model;
pub mod validate;

pub use datetime_format::DatetimeFormat;
pub use model::{Definition, Form, Input, InputType, Jump, PossibleAnswer};
