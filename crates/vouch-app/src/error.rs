use crate::authz::Action;
use vouch_domain::Role;
use vouch_domain::validate::FieldError;
use vouch_store::StoreError;

/// Why a use case refused or failed. Each variant maps to one HTTP status and one exit code.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("sign in first")]
    Unauthenticated,
    #[error("your role ({role}) may not {}", action.describe())]
    Forbidden { action: Action, role: Role },
    #[error("{}", summarize(.0))]
    Validation(Vec<FieldError>),
    #[error("{0} was not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// Existed once, removed on purpose (evidence purged under retention).
    #[error("{0}")]
    Gone(String),
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The evidence vault failed (disk, object store).
    #[error("evidence vault: {0}")]
    Vault(String),
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    InvalidCredentials(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn summarize(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> AppError {
        AppError::Validation(vec![FieldError::new(field, message)])
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Validation(vec![e])
    }
}
