//! What a command or query can fail with. The edges turn each into their own answer
//! (the JSON API's error body, the dashboard's error page); none carries a value from
//! the request, and the log's and the stores' errors are kept as sources.

use clef_pro_log::LogError;
use clef_pro_projections::store::StoreError;
use clef_pro_schema::report::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A field of the request is not acceptable; names the field.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("missing or invalid credentials")]
    Unauthorized,
    #[error("not allowed")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// The log cannot take or give records now; a retry may succeed.
    #[error("the log is unavailable")]
    Unavailable(#[source] LogError),
    #[error("the log failed")]
    Log(#[source] LogError),
    #[error("a store failed")]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid(FieldError::new(field, message))
    }
}

impl From<LogError> for Error {
    fn from(e: LogError) -> Self {
        match e {
            LogError::Unavailable(_) => Self::Unavailable(e),
            other => Self::Log(other),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
