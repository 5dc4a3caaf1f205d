//! One call for the gateway: topic in, reply (and report) out, checks in AWS's order.

use crate::error::ReportError;
use crate::model::Report;
use crate::parse::parse_report;
use crate::response::{accepted_response, rejected_response};
use crate::throttle::{LastAccepted, ThrottlePolicy, check_throttle};
use crate::topic::{accepted_topic, check_thing_name, parse_report_topic, rejected_topic};

/// What to publish back, and the report when it was accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The thing name from the topic (also the key for [`LastAccepted`]).
    pub thing: String,
    /// `…/accepted` or `…/rejected`.
    pub reply_topic: String,
    /// The reply, in the report's encoding.
    pub reply_payload: Vec<u8>,
    /// `Ok` with the report to store (then record a [`LastAccepted`] for `thing`), or the
    /// reason it was rejected.
    pub result: Result<Report, ReportError>,
}

/// Handles a PUBLISH on a report topic; `None` when `topic` is not one.
///
/// Order: thing name, then payload, then throttling, so a malformed report is answered
/// as malformed even when it also came too soon.
pub fn handle_report(
    topic: &str,
    payload: &[u8],
    last: Option<LastAccepted>,
    policy: &ThrottlePolicy,
    now_ms: i64,
) -> Option<Outcome> {
    let (thing, enc) = parse_report_topic(topic)?;
    let result = check_thing_name(thing)
        .and_then(|()| parse_report(payload, enc))
        .and_then(|report| check_throttle(policy, last, report.report_id, now_ms).map(|()| report));
    let (reply_topic, reply_payload) = match &result {
        Ok(report) => (
            accepted_topic(thing, enc),
            accepted_response(thing, report.report_id, now_ms, enc),
        ),
        Err(error) => (
            rejected_topic(thing, enc),
            rejected_response(thing, error, now_ms, enc),
        ),
    };
    Some(Outcome {
        thing: thing.to_owned(),
        reply_topic,
        reply_payload,
        result,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: &str = "$aws/things/cam-1/defender/metrics/json";
    const REPORT: &[u8] = br#"{"hed":{"rid":100,"v":"1.0"},"met":{"ns":{"bi":1}}}"#;

    #[test]
    fn accepted_report() {
        let out = handle_report(TOPIC, REPORT, None, &ThrottlePolicy::default(), 5).unwrap();
        assert_eq!(out.thing, "cam-1");
        assert_eq!(
            out.reply_topic,
            "$aws/things/cam-1/defender/metrics/json/accepted"
        );
        assert_eq!(
            out.reply_payload,
            br#"{"thingName":"cam-1","reportId":100,"status":"ACCEPTED","timestamp":5}"#
        );
        assert_eq!(out.result.unwrap().report_id, 100);
    }

    #[test]
    fn malformed_report_echoes_report_id() {
        let payload = br#"{"hed":{"rid":100,"v":"1.0"},"met":{"ns":{"bi":-1}}}"#;
        let out = handle_report(TOPIC, payload, None, &ThrottlePolicy::default(), 5).unwrap();
        assert_eq!(
            out.reply_topic,
            "$aws/things/cam-1/defender/metrics/json/rejected"
        );
        let v: serde_json::Value = serde_json::from_slice(&out.reply_payload).unwrap();
        assert_eq!(v["reportId"], 100);
        assert_eq!(v["status"], "REJECTED");
        assert_eq!(v["statusDetails"]["ErrorCode"], "InvalidPayload");
    }

    #[test]
    fn throttled_report() {
        let last = Some(LastAccepted {
            report_id: 99,
            at_ms: 0,
        });
        let out = handle_report(TOPIC, REPORT, last, &ThrottlePolicy::default(), 1_000).unwrap();
        assert_eq!(out.result.unwrap_err().code, "Throttled");
        let out = handle_report(TOPIC, REPORT, last, &ThrottlePolicy::default(), 300_000).unwrap();
        assert!(out.result.is_ok());
    }

    #[test]
    fn malformed_beats_throttled() {
        let last = Some(LastAccepted {
            report_id: 99,
            at_ms: 0,
        });
        let out = handle_report(TOPIC, b"{", last, &ThrottlePolicy::default(), 1).unwrap();
        assert_eq!(out.result.unwrap_err().code, "InvalidPayload");
    }

    #[test]
    fn bad_thing_name_is_rejected_on_its_topic() {
        let topic = format!("$aws/things/{}/defender/metrics/cbor", "x".repeat(129));
        let out = handle_report(&topic, REPORT, None, &ThrottlePolicy::default(), 1).unwrap();
        assert!(out.reply_topic.ends_with("/defender/metrics/cbor/rejected"));
        let reply: ciborium::Value =
            ciborium::de::from_reader(out.reply_payload.as_slice()).unwrap();
        assert!(reply.is_map());
        assert!(out.result.is_err());
    }

    #[test]
    fn other_topics_are_ignored() {
        let topic = "$aws/things/cam-1/defender/metrics/json/accepted";
        assert!(handle_report(topic, REPORT, None, &ThrottlePolicy::default(), 1).is_none());
    }
}
