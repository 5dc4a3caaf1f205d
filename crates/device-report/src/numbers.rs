//! Numbers as agents send them.
//!
//! Integer fields may arrive as floats: aws-c-iot (used by the AWS IoT Device Client) builds
//! reports with cJSON, which stores every number as a double and prints large ones as
//! `1.2345678901234568e+15`. So an integral float counts as an integer; a fraction does not.

use crate::error::ReportError;
use crate::tree::Node;

/// Largest value a count can have: AWS models counts as a `long`.
pub(crate) const MAX_COUNT: u64 = i64::MAX as u64;

/// Custom-metric numbers keep at most this many significant digits (AWS IoT Device SDK
/// sample README, "Device Defender Data Requirements").
pub(crate) const MAX_SIGNIFICANT_DIGITS: usize = 15;

/// Reads an integer in `min..=max`, or explains what `path` should hold.
pub(crate) fn integer(node: &Node, path: &str, min: u64, max: u64) -> Result<u64, ReportError> {
    let value = match node {
        Node::Int(i) => Some(*i),
        // `as` saturates, and the range check below catches saturated values.
        Node::Float(f) if f.is_finite() && f.fract() == 0.0 => Some(*f as i128),
        _ => None,
    };
    match value {
        Some(v) if v >= i128::from(min) && v <= i128::from(max) => {
            Ok(u64::try_from(v).expect("range checked above"))
        }
        _ => Err(ReportError::malformed(format!(
            "{path} must be an integer from {min} to {max}, got {}",
            describe(node)
        ))),
    }
}

/// A custom-metric number: `Err` when it is not a number at all (malformed report),
/// `Ok((value, conforming))` otherwise, where non-conforming numbers are dropped.
pub(crate) fn custom_number(node: &Node, path: &str) -> Result<(f64, bool), ReportError> {
    match node {
        Node::Int(i) => Ok((*i as f64, int_digits(*i) <= MAX_SIGNIFICANT_DIGITS)),
        Node::Float(f) => {
            let conforming = f.is_finite() && float_digits(*f) <= MAX_SIGNIFICANT_DIGITS;
            Ok((*f, conforming))
        }
        other => Err(ReportError::malformed(format!(
            "{path} must be a number, got {}",
            other.kind()
        ))),
    }
}

/// Significant digits of an integer: trailing zeros are not significant (1e20 has one).
fn int_digits(i: i128) -> usize {
    let digits = i.unsigned_abs().to_string();
    digits.trim_end_matches('0').len().max(1)
}

/// Significant digits of the shortest decimal that reads back as `f`.
///
/// A CBOR float may have been sent as single precision and widened on decoding; it is
/// judged by its shortest single-precision form so that `0.1f32` counts as one digit.
fn float_digits(f: f64) -> usize {
    let double = mantissa_digits(&format!("{f:e}"));
    let narrow = f as f32;
    if f64::from(narrow) == f {
        double.min(mantissa_digits(&format!("{narrow:e}")))
    } else {
        double
    }
}

/// Counts the digits before the exponent in Rust's `{:e}` form, e.g. `-1.2345e3` → 5.
fn mantissa_digits(scientific: &str) -> usize {
    let mantissa = scientific.split('e').next().unwrap_or("");
    mantissa.bytes().filter(u8::is_ascii_digit).count()
}

/// A short rendering of an offending value for error messages.
fn describe(node: &Node) -> String {
    match node {
        Node::Int(i) => i.to_string(),
        Node::Float(f) => f.to_string(),
        other => other.kind().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_in_range() {
        assert_eq!(integer(&Node::Int(80), "p", 1, 65535), Ok(80));
        assert_eq!(integer(&Node::Float(80.0), "p", 1, 65535), Ok(80));
        // cJSON prints large counts in exponent form.
        assert_eq!(
            integer(&Node::Float(1.6e16), "p", 0, MAX_COUNT),
            Ok(16_000_000_000_000_000)
        );
        assert_eq!(
            integer(&Node::Int(i64::MAX.into()), "p", 0, MAX_COUNT),
            Ok(MAX_COUNT)
        );
    }

    #[test]
    fn integers_out_of_range_or_not_integral() {
        for node in [
            Node::Int(0),
            Node::Int(65536),
            Node::Int(-1),
            Node::Float(80.5),
            Node::Float(f64::NAN),
            Node::Float(f64::INFINITY),
            Node::Str("80".into()),
            Node::Null,
        ] {
            let e = integer(&node, "listening_tcp_ports.ports[0].port", 1, 65535).unwrap_err();
            assert_eq!(e.code, "InvalidPayload");
            assert!(
                e.message.contains("listening_tcp_ports.ports[0].port"),
                "{}",
                e.message
            );
        }
        assert!(integer(&Node::Int(i128::from(i64::MAX) + 1), "c", 0, MAX_COUNT).is_err());
        assert!(integer(&Node::Float(1.8446744073709552e19), "c", 0, MAX_COUNT).is_err());
    }

    #[test]
    fn significant_digit_rule() {
        let ok = |n: Node| custom_number(&n, "x").unwrap().1;
        assert!(ok(Node::Int(123_456_789_012_345)));
        assert!(!ok(Node::Int(1_234_567_890_123_456)));
        assert!(ok(Node::Int(100_000_000_000_000_000_000)));
        assert!(ok(Node::Int(-42)));
        assert!(ok(Node::Float(0.1)));
        assert!(ok(Node::Float(-1.5e-300)));
        assert!(ok(Node::Float(12345.678901234)));
        assert!(!ok(Node::Float(0.1 + 0.2)));
        assert!(!ok(Node::Float(1234567890.1234567)));
        assert!(!ok(Node::Float(f64::NAN)));
        assert!(!ok(Node::Float(f64::NEG_INFINITY)));
        // 0.1 sent as a CBOR single-precision float.
        assert!(ok(Node::Float(f64::from(0.1f32))));
    }

    #[test]
    fn fifteen_digit_json_numbers_survive_decoding() {
        // Needs serde_json's exact float parser: the default one lands an ulp away and
        // the neighbour needs 17 digits.
        let node = crate::tree::decode(b"2.65094476403945e-11", crate::Encoding::Json).unwrap();
        assert_eq!(custom_number(&node, "x"), Ok((2.65094476403945e-11, true)));
    }

    #[test]
    fn custom_number_must_be_a_number() {
        let e = custom_number(&Node::Str("1".into()), "custom_metrics.m").unwrap_err();
        assert!(e.message.contains("custom_metrics.m must be a number"));
    }
}
