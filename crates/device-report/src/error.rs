//! Why a report was rejected, in the shape of the `rejected` reply's `statusDetails`.

use std::fmt;

/// The only rejection code AWS documents (troubleshooting guide): every malformed or
/// invalid report gets it.
pub const INVALID_PAYLOAD: &str = "InvalidPayload";
/// A report that came sooner than the per-device minimum interval (UNCONFIRMED code).
pub const THROTTLED: &str = "Throttled";
/// A report whose `report_id` is not greater than the last accepted one (UNCONFIRMED code).
pub const INVALID_REPORT_ID: &str = "InvalidReportId";

/// AWS's documented `ErrorMessage`; ours start with it and add what exactly was wrong.
pub(crate) const MALFORMED: &str = "Malformed metrics report";

/// A rejected report: becomes `statusDetails {ErrorCode, ErrorMessage}` in the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportError {
    /// `ErrorCode`: [`INVALID_PAYLOAD`], [`THROTTLED`] or [`INVALID_REPORT_ID`].
    pub code: &'static str,
    /// `ErrorMessage`, meant for the device owner reading the `rejected` topic.
    pub message: String,
    /// The report's `report_id` when the header could be read, echoed as `reportId`.
    pub report_id: Option<u64>,
}

impl ReportError {
    /// An `InvalidPayload` error: "Malformed metrics report: <detail>".
    pub(crate) fn malformed(detail: impl fmt::Display) -> Self {
        ReportError {
            code: INVALID_PAYLOAD,
            message: format!("{MALFORMED}: {detail}"),
            report_id: None,
        }
    }

    /// Attaches the report id once the header has been read.
    pub(crate) fn with_report_id(mut self, report_id: Option<u64>) -> Self {
        if self.report_id.is_none() {
            self.report_id = report_id;
        }
        self
    }
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ReportError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_keeps_the_aws_message_as_prefix() {
        let e = ReportError::malformed("header is missing");
        assert_eq!(e.code, "InvalidPayload");
        assert_eq!(e.message, "Malformed metrics report: header is missing");
        assert_eq!(
            e.to_string(),
            "InvalidPayload: Malformed metrics report: header is missing"
        );
    }

    #[test]
    fn report_id_is_attached_once() {
        let e = ReportError::malformed("x")
            .with_report_id(Some(5))
            .with_report_id(Some(6));
        assert_eq!(e.report_id, Some(5));
    }
}
