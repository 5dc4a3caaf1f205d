//! The hub's errors, each with the Security Hub error code and HTTP status it maps to.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum HubError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    InvalidAccess(String),
    #[error("{0}")]
    AccessDenied(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceConflict(String),
    #[error("{0}")]
    LimitExceeded(String),
    /// Details are logged, never sent to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl HubError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "InvalidInputException",
            Self::InvalidAccess(_) => "InvalidAccessException",
            Self::AccessDenied(_) => "AccessDeniedException",
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::ResourceConflict(_) => "ResourceConflictException",
            Self::LimitExceeded(_) => "LimitExceededException",
            Self::Internal(_) => "InternalException",
        }
    }

    /// Statuses from the botocore error shapes (spec/security-hub.md 8.1).
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidInput(_) => 400,
            Self::InvalidAccess(_) => 401,
            Self::AccessDenied(_) => 403,
            Self::ResourceNotFound(_) => 404,
            Self::ResourceConflict(_) => 409,
            Self::LimitExceeded(_) => 429,
            Self::Internal(_) => 500,
        }
    }

    pub fn not_subscribed(account_id: &str) -> Self {
        Self::InvalidAccess(format!(
            "Account {account_id} is not subscribed to AWS Security Hub"
        ))
    }
}

impl From<fleetward_store::StoreError> for HubError {
    fn from(e: fleetward_store::StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

pub type HubResult<T> = Result<T, HubError>;
