//! The one error type of the crate: a policy document that cannot be accepted.

use std::fmt;

/// Why a policy document was rejected. The message is written for the client: the API
/// returns it as the `message` of AWS's `MalformedPolicyException`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    message: String,
}

impl PolicyError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        PolicyError {
            message: message.into(),
        }
    }

    /// The client-facing explanation.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PolicyError {}

/// Shorthand for the `Err` of a parse step.
pub(crate) fn malformed<T>(message: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError::new(message))
}
