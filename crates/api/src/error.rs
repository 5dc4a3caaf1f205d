//! The one place where errors become AWS error responses.
//!
//! AWS rest-json clients read the error code from the `x-amzn-ErrorType` header, then from the
//! body's `__type`/`code`/`Code`; Security Hub's own error shapes carry `Code` and `Message`
//! members, so the body carries every spelling (spec/security-hub.md 8.1).

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode};
use fleetward_audit::AuditError;
use fleetward_hub::HubError;
use fleetward_registry::RegistryError;
use fleetward_sigv4::SigV4Error;

/// An error in the AWS wire shape: status code, error code and a client-safe message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// Extra members of the error shape (e.g. `resourceId`, `resourceArn`).
    pub extra: Vec<(&'static str, String)>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            extra: Vec::new(),
        }
    }

    /// The `iot` model has no InvalidInputException: input that fails to parse is an
    /// InvalidRequestException there.
    pub fn in_iot_shape(self) -> Self {
        if self.code == "InvalidInputException" {
            Self::new(400, "InvalidRequestException", self.message)
        } else {
            self
        }
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(400, "InvalidInputException", message)
    }

    pub fn unknown_operation(message: impl Into<String>) -> Self {
        Self::new(404, "UnknownOperationException", message)
    }

    /// Never tells the client what went wrong inside; the details go to the log.
    pub fn internal() -> Self {
        Self::new(500, "InternalException", "Internal service failure.")
    }

    pub fn into_response(self) -> Response<Body> {
        let mut body = serde_json::json!({
            "__type": self.code,
            "Code": self.code,
            "message": self.message,
            "Message": self.message,
        });
        for (member, value) in &self.extra {
            body[*member] = serde_json::Value::String(value.clone());
        }
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = Response::new(Body::from(body.to_string()));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert("x-amzn-ErrorType", HeaderValue::from_static(self.code));
        response
    }
}

impl From<SigV4Error> for ApiError {
    fn from(e: SigV4Error) -> Self {
        Self::new(e.status(), e.code(), e.message())
    }
}

/// The `iot` services' errors: an internal one is logged and answered without its details
/// (with the `$internal_code` of its model); any other keeps its status, code, message and
/// extra members.
macro_rules! from_iot_error {
    ($($error:ident)::+, $internal_code:tt, $log:tt) => {
        impl From<$($error)::+> for ApiError {
            fn from(e: $($error)::+) -> Self {
                match e {
                    $($error)::+::Internal(detail) => {
                        tracing::error!(%detail, $log);
                        Self::new(500, $internal_code, "Internal service failure.")
                    }
                    other => Self {
                        status: other.status(),
                        code: other.code(),
                        message: other.to_string(),
                        extra: other.extra_members(),
                    },
                }
            }
        }
    };
}

from_iot_error!(
    RegistryError,
    "InternalFailureException",
    "Registry operation failed."
);
from_iot_error!(
    AuditError,
    "InternalFailureException",
    "Audit operation failed."
);
from_iot_error!(
    fleetward_detect::DetectError,
    "InternalFailureException",
    "Detect operation failed."
);
from_iot_error!(
    fleetward_export::RuleError,
    "InternalException",
    "Topic rule operation failed."
);
from_iot_error!(
    fleetward_mitigate::MitigateError,
    "InternalFailureException",
    "Mitigation operation failed."
);

impl From<HubError> for ApiError {
    fn from(e: HubError) -> Self {
        match e {
            HubError::Internal(detail) => {
                tracing::error!(%detail, "Hub operation failed.");
                Self::internal()
            }
            other => Self::new(other.status(), other.code(), other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn error_carries_header_and_both_body_spellings() {
        let response = ApiError::invalid_input("bad MaxResults").into_response();
        assert_eq!(response.status(), 400);
        assert_eq!(
            response.headers()["x-amzn-ErrorType"],
            "InvalidInputException"
        );
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["__type"], "InvalidInputException");
        assert_eq!(body["Code"], "InvalidInputException");
        assert_eq!(body["Message"], "bad MaxResults");
    }
}
