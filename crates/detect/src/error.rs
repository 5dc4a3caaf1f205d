//! Detect errors, each with the `iot` error code and HTTP status of the botocore model.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum DetectError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    ResourceNotFound(String),
    /// Carries the existing resource's id and ARN, as AWS does.
    #[error("{message}")]
    ResourceAlreadyExists {
        message: String,
        resource_id: String,
        resource_arn: String,
    },
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    VersionConflict(String),
    /// Details are logged, never sent to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type DetectResult<T> = Result<T, DetectError>;

impl DetectError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "InvalidRequestException",
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::ResourceAlreadyExists { .. } => "ResourceAlreadyExistsException",
            Self::LimitExceeded(_) => "LimitExceededException",
            Self::VersionConflict(_) => "VersionConflictException",
            Self::Internal(_) => "InternalFailureException",
        }
    }

    /// Statuses from the botocore `iot` error shapes (LimitExceededException is 410).
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidRequest(_) => 400,
            Self::ResourceNotFound(_) => 404,
            Self::ResourceAlreadyExists { .. } | Self::VersionConflict(_) => 409,
            Self::LimitExceeded(_) => 410,
            Self::Internal(_) => 500,
        }
    }

    /// Extra body members of the error shape (`resourceId`, `resourceArn`).
    pub fn extra_members(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::ResourceAlreadyExists {
                resource_id,
                resource_arn,
                ..
            } => vec![
                ("resourceId", resource_id.clone()),
                ("resourceArn", resource_arn.clone()),
            ],
            _ => Vec::new(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidRequest(message.into())
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::ResourceNotFound(message.into())
    }
}

impl From<fleetward_store::StoreError> for DetectError {
    fn from(e: fleetward_store::StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<serde_json::Error> for DetectError {
    fn from(e: serde_json::Error) -> Self {
        Self::Internal(format!("stored detect document does not decode: {e}"))
    }
}
