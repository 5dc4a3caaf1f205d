//! The errors of the notification service, each with the code and HTTP status of the botocore
//! `sns` model's error shape (`NotFoundException` is code `NotFound`, status 404, ...).

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SnsError {
    /// `InvalidParameter`: SNS words these "Invalid parameter: NAME" (+ " Reason: ...").
    #[error("{0}")]
    InvalidParameter(String),
    /// `ParameterValueInvalid` (InvalidParameterValueException): bad message attributes.
    #[error("{0}")]
    ParameterValueInvalid(String),
    #[error("{0}")]
    NotFound(String),
    /// Tag operations name a missing resource with `ResourceNotFound`, not `NotFound`.
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    AuthorizationError(String),
    #[error("{0}")]
    TagLimitExceeded(String),
    #[error("{0}")]
    TopicLimitExceeded(String),
    #[error("{0}")]
    SubscriptionLimitExceeded(String),
    /// Details are logged, never sent to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type SnsResult<T> = Result<T, SnsError>;

impl SnsError {
    /// "Invalid parameter: NAME".
    pub fn invalid(parameter: &str) -> Self {
        Self::InvalidParameter(format!("Invalid parameter: {parameter}"))
    }

    /// "Invalid parameter: NAME Reason: WHY".
    pub fn invalid_because(parameter: &str, reason: impl AsRef<str>) -> Self {
        Self::InvalidParameter(format!(
            "Invalid parameter: {parameter} Reason: {}",
            reason.as_ref()
        ))
    }

    pub fn topic_not_found() -> Self {
        Self::NotFound("Topic does not exist".to_string())
    }

    pub fn subscription_not_found() -> Self {
        Self::NotFound("Subscription does not exist".to_string())
    }

    /// The error code of the model's error shape.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidParameter(_) => "InvalidParameter",
            Self::ParameterValueInvalid(_) => "ParameterValueInvalid",
            Self::NotFound(_) => "NotFound",
            Self::ResourceNotFound(_) => "ResourceNotFound",
            Self::AuthorizationError(_) => "AuthorizationError",
            Self::TagLimitExceeded(_) => "TagLimitExceeded",
            Self::TopicLimitExceeded(_) => "TopicLimitExceeded",
            Self::SubscriptionLimitExceeded(_) => "SubscriptionLimitExceeded",
            Self::Internal(_) => "InternalError",
        }
    }

    /// The status of the model's error shape.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidParameter(_)
            | Self::ParameterValueInvalid(_)
            | Self::TagLimitExceeded(_) => 400,
            Self::NotFound(_) | Self::ResourceNotFound(_) => 404,
            Self::AuthorizationError(_)
            | Self::TopicLimitExceeded(_)
            | Self::SubscriptionLimitExceeded(_) => 403,
            Self::Internal(_) => 500,
        }
    }

    /// `Sender` for the caller's faults, `Receiver` for ours (the query protocol's `Type`).
    pub fn fault(&self) -> &'static str {
        match self {
            Self::Internal(_) => "Receiver",
            _ => "Sender",
        }
    }
}

impl From<fleetward_store::StoreError> for SnsError {
    fn from(e: fleetward_store::StoreError) -> Self {
        Self::Internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_follow_the_model() {
        assert_eq!(SnsError::topic_not_found().code(), "NotFound");
        assert_eq!(SnsError::topic_not_found().status(), 404);
        assert_eq!(SnsError::invalid("Endpoint").status(), 400);
        assert_eq!(
            SnsError::invalid_because("Subject", "too long").to_string(),
            "Invalid parameter: Subject Reason: too long"
        );
        assert_eq!(SnsError::AuthorizationError(String::new()).status(), 403);
        assert_eq!(SnsError::Internal(String::new()).fault(), "Receiver");
    }
}
