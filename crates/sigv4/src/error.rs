//! Verification failures, with the code, status and message AWS returns for each.
//!
//! AWS's JSON services report these as `{"__type": code, "message": message}`; the wording
//! below mirrors what AWS sends so that SDK users see familiar errors.

/// Why a request's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// Neither an `Authorization` header nor an `X-Amz-Algorithm` query parameter.
    #[error("Missing Authentication Token")]
    MissingAuthenticationToken,
    /// The `Authorization` header, the date header or the presigned URL's query parameters
    /// are malformed; the message says how.
    #[error("{0}")]
    IncompleteSignature(String),
    /// Both an `Authorization` header and an `X-Amz-Algorithm` query parameter. AWS refuses
    /// such requests (400) rather than pick one, and so do we: the two could name different
    /// keys, and whichever we ignored would still be logged and trusted by someone.
    #[error(
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
    )]
    HeaderAndQueryAuthentication,
    /// The access key id is unknown. Returned by the caller, which owns the key store.
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
    /// The request time is more than the allowed skew before now.
    #[error("Signature expired: {request_time} is now earlier than {earliest} ({now} - 15 min.)")]
    SignatureExpired {
        request_time: String,
        earliest: String,
        now: String,
    },
    /// The request time is more than the allowed skew after now.
    #[error(
        "Signature not yet current: {request_time} is still later than {latest} ({now} + 15 min.)"
    )]
    SignatureNotYetCurrent {
        request_time: String,
        latest: String,
        now: String,
    },
    /// A presigned URL used after `X-Amz-Date` + `X-Amz-Expires`. The message is AWS's; the
    /// times (`YYYYMMDDTHHMMSSZ`) are for logs.
    #[error("Request has expired")]
    RequestExpired { expires_at: String, now: String },
    /// The credential scope date is not the day of `X-Amz-Date`.
    #[error(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{request_date}', from '{amz_date}'."
    )]
    ScopeDateMismatch {
        scope_date: String,
        request_date: String,
        amz_date: String,
    },
    /// `x-amz-content-sha256` is present but is not the SHA-256 of the body received.
    /// S3 calls this `XAmzContentSHA256Mismatch` (400); the other services have no such
    /// code, so we report it as a signature failure with S3's wording.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    ContentSha256Mismatch,
    /// The signature does not match the one computed with the secret.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )]
    SignatureMismatch,
    /// The credential scope names a region this endpoint does not serve. For the caller.
    #[error("Credential should be scoped to a valid region. ")]
    WrongRegion,
    /// The credential scope names a service this endpoint does not serve. For the caller.
    #[error("Credential should be scoped to correct service: '{expected}'. ")]
    WrongService { expected: String },
}

impl SigV4Error {
    /// The AWS error code (`__type` and `x-amzn-ErrorType`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Self::IncompleteSignature(_) => "IncompleteSignatureException",
            Self::UnrecognizedClient => "UnrecognizedClientException",
            Self::HeaderAndQueryAuthentication
            | Self::SignatureExpired { .. }
            | Self::SignatureNotYetCurrent { .. }
            | Self::RequestExpired { .. }
            | Self::ScopeDateMismatch { .. }
            | Self::ContentSha256Mismatch
            | Self::SignatureMismatch
            | Self::WrongRegion
            | Self::WrongService { .. } => "InvalidSignatureException",
        }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        match self {
            Self::IncompleteSignature(_) | Self::HeaderAndQueryAuthentication => 400,
            _ => 403,
        }
    }

    /// The message for the client.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_statuses_and_messages() {
        let missing = SigV4Error::MissingAuthenticationToken;
        assert_eq!(missing.code(), "MissingAuthenticationTokenException");
        assert_eq!(missing.status(), 403);
        assert_eq!(missing.message(), "Missing Authentication Token");

        let incomplete = SigV4Error::IncompleteSignature("bad".into());
        assert_eq!(incomplete.code(), "IncompleteSignatureException");
        assert_eq!(incomplete.status(), 400);
        assert_eq!(incomplete.message(), "bad");

        let unknown = SigV4Error::UnrecognizedClient;
        assert_eq!(unknown.code(), "UnrecognizedClientException");
        assert_eq!(unknown.status(), 403);
        assert_eq!(
            unknown.message(),
            "The security token included in the request is invalid."
        );

        let expired = SigV4Error::SignatureExpired {
            request_time: "20240101T000000Z".into(),
            earliest: "20240101T000500Z".into(),
            now: "20240101T002000Z".into(),
        };
        assert_eq!(expired.code(), "InvalidSignatureException");
        assert_eq!(expired.status(), 403);
        assert_eq!(
            expired.message(),
            "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z \
             (20240101T002000Z - 15 min.)"
        );

        let mismatch = SigV4Error::ScopeDateMismatch {
            scope_date: "20240102".into(),
            request_date: "20240101".into(),
            amz_date: "20240101T000000Z".into(),
        };
        assert_eq!(
            mismatch.message(),
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '20240102' != '20240101', from '20240101T000000Z'."
        );
        let both = SigV4Error::HeaderAndQueryAuthentication;
        assert_eq!(
            (both.code(), both.status()),
            ("InvalidSignatureException", 400)
        );
        assert_eq!(
            both.message(),
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP \
             header."
        );
        let presign_expired = SigV4Error::RequestExpired {
            expires_at: "20240101T010000Z".into(),
            now: "20240101T010001Z".into(),
        };
        assert_eq!(
            (presign_expired.code(), presign_expired.status()),
            ("InvalidSignatureException", 403)
        );
        assert_eq!(presign_expired.message(), "Request has expired");
        assert_eq!(
            SigV4Error::WrongService {
                expected: "iot".into()
            }
            .code(),
            "InvalidSignatureException"
        );
    }
}
