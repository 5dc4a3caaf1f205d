//! Types shared by every Fleetward crate: account ids, the clock, ARN builders and
//! the millisecond timestamp form AWS uses in its JSON APIs.

pub mod clock;
pub mod thread_priority;
pub mod timestamp;

pub use clock::{Clock, ManualClock, SystemClock};

/// The authenticated caller of an operation: every service acts within its account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account_id: String,
    /// Who acted (the access key id), recorded in histories.
    pub identity: String,
}

/// The account created on first start, as in AWS's own examples.
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";

/// An AWS account id is exactly twelve decimal digits.
pub fn is_valid_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// Builds `arn:aws:SERVICE:REGION:ACCOUNT:RESOURCE`.
pub fn arn(service: &str, region: &str, account: &str, resource: &str) -> String {
    format!("arn:aws:{service}:{region}:{account}:{resource}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(is_valid_account_id("000000000000"));
        assert!(!is_valid_account_id("00000000000"));
        assert!(!is_valid_account_id("00000000000a"));
    }

    #[test]
    fn arn_has_six_parts() {
        assert_eq!(
            arn("securityhub", "us-east-1", "123456789012", "hub/default"),
            "arn:aws:securityhub:us-east-1:123456789012:hub/default"
        );
    }
}
