//! One error type whose message is always safe to show a client.

use std::fmt;

/// What went wrong, so the caller can pick the AWS error (400 for `Invalid`, 500 otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaErrorKind {
    /// The caller's input (a PEM, a CSR, a name) was rejected.
    Invalid,
    /// Reading or writing the CA's files failed.
    Io,
    /// Anything else: a crypto library failure, a corrupt CA directory.
    Internal,
}

/// An error with a client-safe `message()` and, for logs only, a `detail`.
#[derive(Debug)]
pub struct CaError {
    kind: CaErrorKind,
    message: String,
    detail: Option<String>,
}

const INTERNAL_MESSAGE: &str = "An internal error occurred in the certificate authority";

impl CaError {
    /// Bad input; `message` goes to the client as is.
    pub fn invalid(message: impl Into<String>) -> Self {
        CaError {
            kind: CaErrorKind::Invalid,
            message: message.into(),
            detail: None,
        }
    }

    /// A file operation failed; the path and OS error stay in `detail`.
    pub fn io(what: impl fmt::Display, err: std::io::Error) -> Self {
        CaError {
            kind: CaErrorKind::Io,
            message: INTERNAL_MESSAGE.to_string(),
            detail: Some(format!("{what}: {err}")),
        }
    }

    /// An internal failure; `detail` is for logs and never reaches a client.
    pub fn internal(detail: impl fmt::Display) -> Self {
        CaError {
            kind: CaErrorKind::Internal,
            message: INTERNAL_MESSAGE.to_string(),
            detail: Some(detail.to_string()),
        }
    }

    /// Adds log-only detail to an error (e.g. the parser's own words).
    pub(crate) fn with_detail(mut self, detail: impl fmt::Display) -> Self {
        self.detail = Some(detail.to_string());
        self
    }

    pub fn kind(&self) -> CaErrorKind {
        self.kind
    }

    /// The message to put in an API error body.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Extra context for logs; may name files or library errors.
    pub fn detail(&self) -> Option<&str> {
        self.detail.as_deref()
    }
}

impl fmt::Display for CaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.detail {
            Some(detail) => write!(f, "{} ({detail})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for CaError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_detail_from_message() {
        let err = CaError::internal("ring said no at /secret/path");
        assert_eq!(err.kind(), CaErrorKind::Internal);
        assert!(!err.message().contains("/secret/path"));
        assert!(err.to_string().contains("/secret/path"));
    }
}
