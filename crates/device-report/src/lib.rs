//! Device Defender device-side metrics reports, as the AWS IoT Device Defender agents
//! (AWS IoT Device Client / aws-c-iot, the Python sample agent, the embedded-C library)
//! publish them to `$aws/things/THING/defender/metrics/json` and `.../cbor`.
//!
//! Pure: no I/O, no clock. The MQTT gateway calls [`handle_report`] (or the steps it is made
//! of) for every PUBLISH on a report topic, publishes the reply, stores [`datapoints`] of
//! accepted reports and remembers a [`LastAccepted`] per thing.
//!
//! # Validation (spec `device-defender.md` §3)
//! - Payload: 1 to [`MAX_PAYLOAD_BYTES`] (128 KiB) bytes, one JSON document or one CBOR item
//!   (a leading CBOR self-describe tag is skipped), object at the top. Duplicate keys
//!   anywhere are rejected.
//! - Keys: every field by its long or short name (`header`/`hed`, `report_id`/`rid`, …);
//!   names may be mixed within a report, but one field may not be given twice. Unknown keys
//!   are ignored. `null` in an optional field counts as absent.
//! - `header` required; `report_id` an integer from 1 to 2^63−1 (the troubleshooting guide
//!   asks for a positive integer); `version` a `Major.Minor` string with major 1.
//! - At least one of `metrics` / `custom_metrics`.
//! - Integers may be written as integral floats (cJSON writes `1.6e+16`); fractions are
//!   rejected. Totals and `network_stats` deltas: 0 to 2^63−1. Listening `port`: 1 to
//!   65535 ("greater than 0"), optional per the AWS table. `local_port`: 0 to 65535.
//!   `remote_addr` (required per connection): `ip:port`, IPv4, `[IPv6]:port`, or IPv6
//!   without brackets split at the last colon.
//! - No list holds more than [`MAX_LIST_ENTRIES`] (1,000) entries, and a report holds at
//!   most that many custom metrics. `total` is not checked against list lengths: agents
//!   sample lists (the Python agent sends 50 entries and the true total).
//! - Custom metrics: each value is an array of exactly one object holding exactly one of
//!   `number`, `number_list`, `string_list`, `ip_list`, with data of the right JSON type;
//!   anything else is "Malformed metrics report", as AWS answers. Data that breaks AWS's
//!   data requirements is accepted but not retained (listed in
//!   [`Report::dropped_custom_metrics`]): numbers not finite or with more than 15
//!   significant digits, strings with characters outside letters, digits and `: _ - / .`,
//!   ip entries that are not IPv4/IPv6 addresses, and metric names that are not 1–128 of
//!   `[a-zA-Z0-9:_-]` or that start with `aws:`.
//! - Thing name (from the topic): 1 to 128 UTF-8 bytes, no control characters.
//! - Throttling: a report within `min_interval_ms` (300 s) minus `grace_ms` (5 s) of the
//!   last accepted one is rejected; so is a `report_id` not greater than the last accepted.
//!
//! # Replies
//! `{"thingName","reportId","status":"ACCEPTED","timestamp"}`; rejections add
//! `statusDetails {ErrorCode, ErrorMessage}` and leave `reportId` out when the header could
//! not be read. Every `InvalidPayload` message starts with AWS's "Malformed metrics report".
//!
//! # UNCONFIRMED choices (AWS documents none of these)
//! - Mixed long/short keys are accepted; a field given twice, or any repeated key, is
//!   rejected; unknown keys are ignored; `null` optional fields count as absent.
//! - `version` other than `1.x` is rejected.
//! - `report_id` 0 is rejected, as are values above 2^63−1 (AWS models counts as longs);
//!   the same bound applies to counts, so a wrapped 64-bit counter delta is rejected.
//! - List cap of 1,000 entries, rejecting beyond it.
//! - Digits are allowed in `string_list` (the SDK README names only letters and
//!   punctuation, but AWS's example sends `value_1`); empty strings are allowed.
//! - A non-conforming custom metric is dropped whole, not element by element.
//! - Rejection codes other than `InvalidPayload`: [`THROTTLED`] (`"Throttled"`) for the
//!   interval, [`INVALID_REPORT_ID`] (`"InvalidReportId"`) for a repeated or lower
//!   `report_id`, checked before the interval; the 5 s grace.
//! - The reply to a CBOR report is CBOR, with the same keys as the JSON reply.
//! - Counts come from `total`, or the list length when `total` is absent (inferred).

mod custom;
mod datapoints;
mod error;
mod fast;
mod handle;
mod keys;
mod model;
mod numbers;
mod parse;
mod response;
mod throttle;
mod topic;
mod tree;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests_examples;
#[cfg(test)]
mod tests_fast;
#[cfg(test)]
mod tests_fuzz;
#[cfg(test)]
mod tests_props;

pub use datapoints::{
    ALL_BYTES_IN, ALL_BYTES_OUT, ALL_PACKETS_IN, ALL_PACKETS_OUT, DESTINATION_IP_ADDRESSES,
    LISTENING_TCP_PORTS, LISTENING_UDP_PORTS, MetricValue, NUM_ESTABLISHED_TCP_CONNECTIONS,
    NUM_LISTENING_TCP_PORTS, NUM_LISTENING_UDP_PORTS, datapoint_refs, datapoints,
};
pub use error::{INVALID_PAYLOAD, INVALID_REPORT_ID, ReportError, THROTTLED};
pub use handle::{Outcome, handle_report};
pub use model::{
    Connection, CustomValue, DeviceMetrics, DroppedCustomMetric, EstablishedConnections,
    ListeningPort, ListeningPorts, NetworkStats, Report,
};
pub use parse::{MAX_LIST_ENTRIES, MAX_PAYLOAD_BYTES, parse_report};
pub use response::{accepted_response, rejected_response};
pub use throttle::{
    DEFAULT_GRACE_MS, DEFAULT_MIN_INTERVAL_MS, LastAccepted, ThrottlePolicy, check_throttle,
};
pub use topic::{
    Encoding, MAX_THING_NAME_BYTES, accepted_topic, check_thing_name, parse_report_topic,
    rejected_topic,
};
