//! Per-device report throttling (quota "Device metric minimum delay between reports",
//! 300 s, adjustable) and `report_id` ordering.
//!
//! The gateway keeps one [`LastAccepted`] per thing name and updates it only when a report
//! is accepted, so rejected reports never push the next allowed time back.

use crate::error::{INVALID_REPORT_ID, ReportError, THROTTLED};

/// AWS's default minimum delay between two reports of one device.
pub const DEFAULT_MIN_INTERVAL_MS: i64 = 300_000;

/// Slack for delivery jitter (UNCONFIRMED: AWS does not say how strict it is). Agents
/// schedule reports exactly 300 s apart, so a report that travelled a little faster than
/// the previous one would otherwise be throttled.
pub const DEFAULT_GRACE_MS: i64 = 5_000;

/// How often one device may report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Minimum time between two accepted reports of one thing.
    pub min_interval_ms: i64,
    /// How much earlier than `min_interval_ms` a report may still arrive.
    pub grace_ms: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            min_interval_ms: DEFAULT_MIN_INTERVAL_MS,
            grace_ms: DEFAULT_GRACE_MS,
        }
    }
}

/// What the gateway remembers about a thing's last accepted report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastAccepted {
    pub report_id: u64,
    /// When it was accepted, epoch milliseconds.
    pub at_ms: i64,
}

/// Decides whether a well-formed report may be accepted now.
///
/// The `report_id` rule is checked first: AWS documents the id as "monotonically
/// increasing", and a repeated id is most likely a redelivered report, which deserves that
/// explanation rather than a throttling one. Both error codes are UNCONFIRMED.
pub fn check_throttle(
    policy: &ThrottlePolicy,
    last: Option<LastAccepted>,
    report_id: u64,
    now_ms: i64,
) -> Result<(), ReportError> {
    let Some(last) = last else { return Ok(()) };
    if report_id <= last.report_id {
        let what = if report_id == last.report_id {
            "repeats"
        } else {
            "is lower than"
        };
        return Err(ReportError {
            code: INVALID_REPORT_ID,
            message: format!(
                "report_id {report_id} {what} the last accepted report_id {}; report_id must increase",
                last.report_id
            ),
            report_id: Some(report_id),
        });
    }
    let elapsed = now_ms.saturating_sub(last.at_ms);
    let needed = policy
        .min_interval_ms
        .saturating_sub(policy.grace_ms.max(0));
    if elapsed < needed {
        return Err(ReportError {
            code: THROTTLED,
            message: format!(
                "report sent {} s after the last accepted one; a device may report once every {} s",
                elapsed.max(0) / 1000,
                policy.min_interval_ms / 1000
            ),
            report_id: Some(report_id),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000;

    fn last(report_id: u64) -> Option<LastAccepted> {
        Some(LastAccepted {
            report_id,
            at_ms: T0,
        })
    }

    #[test]
    fn first_report_is_always_allowed() {
        assert_eq!(
            check_throttle(&ThrottlePolicy::default(), None, 1, T0),
            Ok(())
        );
    }

    #[test]
    fn interval_with_grace() {
        let p = ThrottlePolicy::default();
        assert_eq!(check_throttle(&p, last(1), 2, T0 + 300_000), Ok(()));
        assert_eq!(check_throttle(&p, last(1), 2, T0 + 295_000), Ok(()));
        let e = check_throttle(&p, last(1), 2, T0 + 294_999).unwrap_err();
        assert_eq!(e.code, "Throttled");
        assert_eq!(e.report_id, Some(2));
        assert!(e.message.contains("294 s"), "{}", e.message);
        assert!(e.message.contains("once every 300 s"), "{}", e.message);
    }

    #[test]
    fn strict_and_custom_policies() {
        let strict = ThrottlePolicy {
            min_interval_ms: 300_000,
            grace_ms: 0,
        };
        assert!(check_throttle(&strict, last(1), 2, T0 + 299_999).is_err());
        assert!(check_throttle(&strict, last(1), 2, T0 + 300_000).is_ok());
        let off = ThrottlePolicy {
            min_interval_ms: 0,
            grace_ms: 0,
        };
        assert!(check_throttle(&off, last(1), 2, T0).is_ok());
        let minute = ThrottlePolicy {
            min_interval_ms: 60_000,
            grace_ms: 0,
        };
        assert!(check_throttle(&minute, last(1), 2, T0 + 60_000).is_ok());
    }

    #[test]
    fn clock_going_backwards_is_throttled_not_a_panic() {
        let p = ThrottlePolicy::default();
        let e = check_throttle(&p, last(1), 2, T0 - 10_000).unwrap_err();
        assert!(e.message.contains("sent 0 s after"), "{}", e.message);
        assert!(
            check_throttle(
                &p,
                Some(LastAccepted {
                    report_id: 1,
                    at_ms: i64::MAX
                }),
                2,
                i64::MIN
            )
            .is_err()
        );
        assert!(
            check_throttle(
                &p,
                Some(LastAccepted {
                    report_id: 1,
                    at_ms: i64::MIN
                }),
                2,
                i64::MAX
            )
            .is_ok()
        );
    }

    #[test]
    fn report_id_must_increase() {
        let p = ThrottlePolicy::default();
        let later = T0 + 600_000;
        let e = check_throttle(&p, last(10), 10, later).unwrap_err();
        assert_eq!(e.code, "InvalidReportId");
        assert!(e.message.contains("repeats"));
        let e = check_throttle(&p, last(10), 9, later).unwrap_err();
        assert!(e.message.contains("is lower than"));
        assert_eq!(e.report_id, Some(9));
        // The id rule wins over the interval rule.
        let e = check_throttle(&p, last(10), 10, T0).unwrap_err();
        assert_eq!(e.code, "InvalidReportId");
    }
}
