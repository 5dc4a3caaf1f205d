//! The registry's errors, each with the `iot` error code and HTTP status of the botocore
//! model's error shapes.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum RegistryError {
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
    VersionConflict(String),
    #[error("{0}")]
    VersionsLimitExceeded(String),
    #[error("{0}")]
    DeleteConflict(String),
    #[error("{0}")]
    CertificateState(String),
    #[error("{0}")]
    CertificateValidation(String),
    #[error("{0}")]
    CertificateConflict(String),
    #[error("{0}")]
    RegistrationCodeValidation(String),
    #[error("{0}")]
    MalformedPolicy(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    NotConfigured(String),
    /// Details are logged, never sent to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type RegistryResult<T> = Result<T, RegistryError>;

impl RegistryError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidRequest(_) => "InvalidRequestException",
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::ResourceAlreadyExists { .. } => "ResourceAlreadyExistsException",
            Self::VersionConflict(_) => "VersionConflictException",
            Self::VersionsLimitExceeded(_) => "VersionsLimitExceededException",
            Self::DeleteConflict(_) => "DeleteConflictException",
            Self::CertificateState(_) => "CertificateStateException",
            Self::CertificateValidation(_) => "CertificateValidationException",
            Self::CertificateConflict(_) => "CertificateConflictException",
            Self::RegistrationCodeValidation(_) => "RegistrationCodeValidationException",
            Self::MalformedPolicy(_) => "MalformedPolicyException",
            Self::LimitExceeded(_) => "LimitExceededException",
            Self::NotConfigured(_) => "NotConfiguredException",
            Self::Internal(_) => "InternalFailureException",
        }
    }

    /// Statuses from the botocore `iot` error shapes.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidRequest(_)
            | Self::CertificateValidation(_)
            | Self::RegistrationCodeValidation(_)
            | Self::MalformedPolicy(_) => 400,
            Self::ResourceNotFound(_) | Self::NotConfigured(_) => 404,
            Self::CertificateState(_) => 406,
            Self::ResourceAlreadyExists { .. }
            | Self::VersionConflict(_)
            | Self::VersionsLimitExceeded(_)
            | Self::DeleteConflict(_)
            | Self::CertificateConflict(_) => 409,
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

    pub fn already_exists(message: impl Into<String>, id: &str, arn: &str) -> Self {
        Self::ResourceAlreadyExists {
            message: message.into(),
            resource_id: id.to_string(),
            resource_arn: arn.to_string(),
        }
    }
}

impl From<fleetward_store::StoreError> for RegistryError {
    fn from(e: fleetward_store::StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}
