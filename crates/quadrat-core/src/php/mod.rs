//! The PHP (and Laravel) value semantics Quadrat reproduces, in one place. The real server's
//! answers depend on how PHP reads, compares, casts and writes values; each function here is
//! named after the PHP function, cast or setting it follows, so two behaviours that differ
//! (floats written at `precision = 14` or at `serialize_precision = -1`, `null` cast to `""` or
//! refused) never share a name.
//!
//! - [`values`]: `trim()`, `empty()`, truthiness;
//! - [`numeric`]: `is_numeric()`, `FILTER_VALIDATE_INT`, `floatval()`, `(int)` casts;
//! - [`strval`]: values and floats written as strings;
//! - [`compare`]: PHP 8 loose comparison (`==`, `<`, `>`);
//! - [`arrays`]: decoded JSON walked and indexed as PHP arrays;
//! - [`url`]: `rawurlencode()` and `urlencode()`;
//! - [`laravel`]: the Laravel validation rules built on these (`required`, `boolean`, `size`).

pub mod arrays;
pub mod compare;
pub mod laravel;
pub mod numeric;
pub mod strval;
pub mod url;
pub mod values;

pub use arrays::{array_get, array_key, assoc, foreach_pairs, foreach_values, integer_key};
pub use compare::{loose_compare, loose_eq};
pub use numeric::{
    filter_validate_int, filter_validate_int_str, floatval_str, intval_float, intval_str,
    is_numeric, is_numeric_str,
};
pub use strval::{
    strval_float_precision14, strval_float_serialize_precision, strval_plain_decimal,
    strval_precision14, strval_scalar_serialize_precision,
};
pub use url::{push_rawurlencoded, push_urlencoded};
pub use values::{empty, empty_str, trim, truthy};
