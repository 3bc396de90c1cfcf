//! Standard output for commands. `println!` panics when the reader has gone (`quadrat … | head`);
//! [`outln!`] and [`stdout`] hand that back as an error marked [`ReaderGone`], and `main` ends
//! the command quietly on it ([`reader_gone`]), as `cat` or `grep` would. Only standard
//! output's own closed pipe is marked: a broken connection to a database or a remote server is
//! still a failure.

use std::io::{self, Write};

/// `println!` that returns (`?`) the error of a closed standard output from the enclosing
/// function instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!($crate::out::stdout(), $($arg)*)?
    }};
}

/// What a write to a standard output nobody reads any more fails with (inside an
/// [`io::Error`] of kind `BrokenPipe`).
#[derive(Debug)]
pub struct ReaderGone;

impl std::fmt::Display for ReaderGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("standard output was closed")
    }
}

impl std::error::Error for ReaderGone {}

/// Standard output (locked), its closed pipe marked [`ReaderGone`].
pub fn stdout() -> Stdout {
    Stdout(io::stdout().lock())
}

/// Standard output, locked for the writer's life; see [`stdout`].
pub struct Stdout(io::StdoutLock<'static>);

fn mark(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        io::Error::new(io::ErrorKind::BrokenPipe, ReaderGone)
    } else {
        e
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(mark)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf).map_err(mark)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(mark)
    }
}

/// Whether a command failed only because whoever read its standard output stopped reading.
pub fn reader_gone(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.is::<ReaderGone>()
            || cause
                .downcast_ref::<io::Error>()
                .and_then(|e| e.get_ref())
                .is_some_and(|inner| inner.is::<ReaderGone>())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_standard_outputs_closed_pipe_is_a_reader_gone() {
        let gone = mark(io::Error::from(io::ErrorKind::BrokenPipe));
        let err = anyhow::Error::new(gone).context("writing the export");
        assert!(reader_gone(&err));
        // A broken pipe elsewhere (a database connection, a remote server) is a failure.
        let other = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(!reader_gone(&other));
        let full = mark(io::Error::from(io::ErrorKind::StorageFull));
        assert!(!reader_gone(&anyhow::Error::new(full)));
    }
}
