//! The one error type of the use-cases.

use quadrat_core::Ec5Error;
use quadrat_store::StoreError;

/// A use-case failure: either the caller's (an Epicollect5 error list with the HTTP status the
/// real server answers with) or ours (logged, never shown).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{}", .errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Client { status: u16, errors: Vec<Ec5Error> },
    #[error("internal error: {0}")]
    Internal(String),
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

    /// The errors a client sees (an internal error shows as `ec5_116`, detail withheld).
    pub fn errors(&self) -> Vec<Ec5Error> {
        match self {
            AppError::Client { errors, .. } => errors.clone(),
            AppError::Internal(_) => vec![Ec5Error::new("ec5_116", "server")],
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => AppError::client(400, "ec5_224", what),
            StoreError::NotFound(what) => AppError::client(404, "ec5_11", what),
            other => AppError::Internal(other.to_string()),
        }
    }
}
