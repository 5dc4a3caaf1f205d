//! Firehose errors, each with the error code of the botocore `firehose` model. Firehose's
//! JSON 1.1 errors are all status 400 except ServiceUnavailableException (503).

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ExportError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceInUse(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    ConcurrentModification(String),
    /// The stream's buffer is full (or the service is stopping): the client retries later.
    #[error("{0}")]
    ServiceUnavailable(String),
    /// Details are logged, never sent to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type ExportResult<T> = Result<T, ExportError>;

impl ExportError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidArgument(_) => "InvalidArgumentException",
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::ResourceInUse(_) => "ResourceInUseException",
            Self::LimitExceeded(_) => "LimitExceededException",
            Self::ConcurrentModification(_) => "ConcurrentModificationException",
            Self::ServiceUnavailable(_) => "ServiceUnavailableException",
            Self::Internal(_) => "InternalFailure",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::ServiceUnavailable(_) => 503,
            Self::Internal(_) => 500,
            _ => 400,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidArgument(message.into())
    }

    pub fn not_found(account: &str, name: &str) -> Self {
        Self::ResourceNotFound(format!(
            "Firehose {name} under account {account} not found."
        ))
    }
}

impl From<fleetward_store::StoreError> for ExportError {
    fn from(e: fleetward_store::StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<std::io::Error> for ExportError {
    fn from(e: std::io::Error) -> Self {
        Self::Internal(e.to_string())
    }
}
