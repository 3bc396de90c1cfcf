//! Standard output for commands. `println!` panics when the reader has gone (`quadrat … | head`);
//! [`outln!`] hands that back as an error instead, and `main` ends the command quietly on it
//! ([`reader_gone`]), as `cat` or `grep` would.

/// `println!` that returns (`?`) the error of a closed standard output from the enclosing
/// function instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?
    }};
}

/// Whether a command failed only because whoever read its standard output stopped reading.
pub fn reader_gone(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
