//! Topic-rule errors, each with the error code and status of the botocore `iot` model.
//! AWS answers a rule that does not exist with UnauthorizedException (the model lists no
//! ResourceNotFoundException for the rule operations); Fleetward does the same.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum RuleError {
    #[error("{0}")]
    SqlParse(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{message}")]
    ResourceAlreadyExists {
        message: String,
        resource_id: String,
        resource_arn: String,
    },
    #[error("{0}")]
    Unauthorized(String),
    /// Details are logged, never sent to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type RuleResult<T> = Result<T, RuleError>;

impl RuleError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::SqlParse(_) => "SqlParseException",
            Self::InvalidRequest(_) => "InvalidRequestException",
            Self::ResourceAlreadyExists { .. } => "ResourceAlreadyExistsException",
            Self::Unauthorized(_) => "UnauthorizedException",
            Self::Internal(_) => "InternalException",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::SqlParse(_) | Self::InvalidRequest(_) => 400,
            Self::ResourceAlreadyExists { .. } => 409,
            Self::Unauthorized(_) => 401,
            Self::Internal(_) => 500,
        }
    }

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

    pub fn no_rule(name: &str) -> Self {
        Self::Unauthorized(format!(
            "Topic rule {name} does not exist or access is denied."
        ))
    }
}

impl From<fleetward_store::StoreError> for RuleError {
    fn from(e: fleetward_store::StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}
