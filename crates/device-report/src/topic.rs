//! The reserved Device Defender topics and the thing-name rule.
//!
//! Devices publish to `$aws/things/{thing}/defender/metrics/{json|cbor}` and hear back on
//! the same topic plus `/accepted` or `/rejected`, in the same encoding.

use crate::error::ReportError;

const PREFIX: &str = "$aws/things/";
const BRIDGE: &str = "/defender/metrics/";

/// AWS rejects reports whose thing name is longer than this many UTF-8 bytes.
pub const MAX_THING_NAME_BYTES: usize = 128;

/// The payload encoding a report topic names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Json,
    Cbor,
}

impl Encoding {
    /// The topic segment: `json` or `cbor` (lowercase only, as AWS spells them).
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Json => "json",
            Encoding::Cbor => "cbor",
        }
    }
}

/// Splits a report topic into the thing name and encoding; `None` for any other topic,
/// including the `/accepted` and `/rejected` reply topics.
///
/// The thing name is returned as written (it only has to be one non-empty topic level);
/// [`check_thing_name`] decides whether the report is rejected for it, because AWS answers
/// such reports on the `rejected` topic rather than ignoring them.
pub fn parse_report_topic(topic: &str) -> Option<(&str, Encoding)> {
    let rest = topic.strip_prefix(PREFIX)?;
    let (thing, format) = rest.split_once(BRIDGE)?;
    if thing.is_empty() || thing.contains('/') {
        return None;
    }
    let enc = match format {
        "json" => Encoding::Json,
        "cbor" => Encoding::Cbor,
        _ => return None,
    };
    Some((thing, enc))
}

/// The topic a device reads acceptances on.
pub fn accepted_topic(thing: &str, enc: Encoding) -> String {
    format!("{PREFIX}{thing}{BRIDGE}{}/accepted", enc.as_str())
}

/// The topic a device reads rejections on.
pub fn rejected_topic(thing: &str, enc: Encoding) -> String {
    format!("{PREFIX}{thing}{BRIDGE}{}/rejected", enc.as_str())
}

/// AWS troubleshooting guide: reports are rejected when the thing name has control
/// characters or is longer than 128 bytes of UTF-8.
pub fn check_thing_name(thing: &str) -> Result<(), ReportError> {
    if thing.is_empty() {
        return Err(ReportError::malformed("thing name is empty"));
    }
    if thing.len() > MAX_THING_NAME_BYTES {
        return Err(ReportError::malformed(format!(
            "thing name is {} bytes long, the limit is {MAX_THING_NAME_BYTES}",
            thing.len()
        )));
    }
    if thing.chars().any(char::is_control) {
        return Err(ReportError::malformed(
            "thing name contains control characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_report_topics() {
        assert_eq!(
            parse_report_topic("$aws/things/dev-1/defender/metrics/json"),
            Some(("dev-1", Encoding::Json))
        );
        assert_eq!(
            parse_report_topic("$aws/things/dev:1_x/defender/metrics/cbor"),
            Some(("dev:1_x", Encoding::Cbor))
        );
    }

    #[test]
    fn other_topics_are_not_reports() {
        for topic in [
            "$aws/things/dev/defender/metrics/json/accepted",
            "$aws/things/dev/defender/metrics/cbor/rejected",
            "$aws/things/dev/defender/metrics/JSON",
            "$aws/things/dev/defender/metrics/xml",
            "$aws/things/dev/defender/metrics/",
            "$aws/things//defender/metrics/json",
            "$aws/things/a/b/defender/metrics/json",
            "$aws/things/dev/shadow/update",
            "aws/things/dev/defender/metrics/json",
            "$aws/things/dev/defender/metrics/json/",
            "",
        ] {
            assert_eq!(parse_report_topic(topic), None, "{topic}");
        }
    }

    #[test]
    fn reply_topics() {
        assert_eq!(
            accepted_topic("dev", Encoding::Json),
            "$aws/things/dev/defender/metrics/json/accepted"
        );
        assert_eq!(
            rejected_topic("dev", Encoding::Cbor),
            "$aws/things/dev/defender/metrics/cbor/rejected"
        );
    }

    #[test]
    fn thing_name_rules() {
        assert!(check_thing_name("Thing-1").is_ok());
        assert!(check_thing_name(&"a".repeat(128)).is_ok());
        // 64 two-byte characters: 128 bytes, fine; one more byte is not.
        assert!(check_thing_name(&"é".repeat(64)).is_ok());
        assert!(check_thing_name(&format!("{}a", "é".repeat(64))).is_err());
        assert!(check_thing_name(&"a".repeat(129)).is_err());
        assert!(check_thing_name("bad\u{7}name").is_err());
        assert!(check_thing_name("bad\u{85}name").is_err());
        assert!(check_thing_name("").is_err());
        let e = check_thing_name("x\ny").unwrap_err();
        assert_eq!(e.code, "InvalidPayload");
    }
}
