//! The one error type of the use-cases.

use std::error::Error as StdError;

use quadrat_core::Ec5Error;
use quadrat_store::StoreError;

/// What caused an internal error: any error, kept with its own source chain for the log.
pub type Cause = Box<dyn StdError + Send + Sync + 'static>;

/// A use-case failure: either the caller's (an Epicollect5 error list with the HTTP status the
/// real server answers with) or ours (logged with its cause, never shown).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{}", .errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Client { status: u16, errors: Vec<Ec5Error> },
    /// `context` says what we were doing; `cause` is why it failed (absent when the failure is
    /// a broken invariant of ours rather than an error from below).
    #[error("internal error: {context}")]
    Internal {
        context: String,
        #[source]
        cause: Option<Cause>,
    },
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

impl AppError {
    pub fn client(status: u16, code: &str, source: impl Into<String>) -> AppError {
        AppError::Client {
            status,
            errors: vec![Ec5Error::new(code, source)],
        }
    }

    pub fn invalid(errors: Vec<Ec5Error>) -> AppError {
        AppError::Client {
            status: 400,
            errors,
        }
    }

    /// An internal error while doing `context`, caused by `cause` (kept, with its chain):
    /// `.map_err(|e| AppError::internal("reading a file", e))`.
    pub fn internal(context: impl Into<String>, cause: impl Into<Cause>) -> AppError {
        AppError::Internal {
            context: context.into(),
            cause: Some(cause.into()),
        }
    }

    /// An internal error with no error below it: one of our own invariants does not hold.
    pub fn broken(context: impl Into<String>) -> AppError {
        AppError::Internal {
            context: context.into(),
            cause: None,
        }
    }

    /// The errors a client sees (an internal error shows as `ec5_116`, detail withheld).
    pub fn errors(&self) -> Vec<Ec5Error> {
        match self {
            AppError::Client { errors, .. } => errors.clone(),
            AppError::Internal { .. } => vec![Ec5Error::new("ec5_116", "server")],
        }
    }

    /// The whole story of an internal error for the log: the context, then each cause in turn
    /// (`what we did: why: why that`).
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut next = self.source();
        while let Some(cause) = next {
            out.push_str(": ");
            out.push_str(&cause.to_string());
            next = cause.source();
        }
        out
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => AppError::client(400, "ec5_224", what.to_string()),
            StoreError::NotFound(what) => AppError::client(404, "ec5_11", what),
            StoreError::DiskFull => disk_full("ec5_45"),
            other => AppError::internal("storage", other),
        }
    }
}

/// A write refused because the server's disk is full: `507 Insufficient Storage` with `code`
/// (`ec5_45` for data, `ec5_83` for files) and the source `disk-full`; nothing was kept, the
/// client keeps its data and retries later (docs/durability.md).
pub fn disk_full(code: &str) -> AppError {
    tracing::error!("a write was refused: the disk is full");
    AppError::client(507, code, "disk-full")
}

/// Whether an I/O error means the disk (or the quota) is full.
pub fn is_disk_full_io(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull || matches!(e.raw_os_error(), Some(28 | 122))
}

/// Turns any error into an internal one with a context, so call sites stay one line:
/// `file.head(n).await.internal("reading an uploaded file")?`.
pub trait OrInternal<T> {
    fn internal(self, context: &str) -> Result<T>;
}

impl<T, E: Into<Cause>> OrInternal<T> for std::result::Result<T, E> {
    fn internal(self, context: &str) -> Result<T> {
        self.map_err(|e| AppError::internal(context, e))
    }
}

#[cfg(test)]
mod tests {
    use quadrat_store::Conflict;

    use super::*;

    #[test]
    fn internal_errors_keep_their_chain_and_show_only_ec5_116() {
        let io = std::io::Error::other("disk full");
        let e = AppError::internal("writing a media file", io);
        assert_eq!(e.chain(), "internal error: writing a media file: disk full");
        assert_eq!(e.errors(), vec![Ec5Error::new("ec5_116", "server")]);
        let conflict: AppError = StoreError::Conflict(Conflict::ProjectSlug).into();
        assert!(matches!(conflict, AppError::Client { status: 400, .. }));
        let broken = AppError::broken("a form vanished");
        assert_eq!(broken.chain(), "internal error: a form vanished");
    }
}
