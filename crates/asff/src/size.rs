//! The 240 KB finding size limit (spec §1.12), measured as compact serialized JSON bytes.

use serde_json::Value;

/// 240 KB. AWS does not say whether K is 1000 or 1024; the larger reading rejects nothing AWS
/// would accept.
pub const MAX_FINDING_BYTES: usize = 240 * 1024;

/// AWS's message (and, in `BatchUpdateFindings`, the text for `FindingSizeExceeded`).
pub const FINDING_SIZE_EXCEEDED: &str = "Finding size exceeded 240 KB";

/// `Err(FINDING_SIZE_EXCEEDED)` when the finding serializes to more than 240 KB.
pub fn check_size(finding: &Value) -> Result<(), String> {
    if fits(finding, MAX_FINDING_BYTES) {
        Ok(())
    } else {
        Err(FINDING_SIZE_EXCEEDED.to_string())
    }
}

/// Whether `v` serializes to at most `limit` bytes. A cheap upper bound (every string byte
/// escaped to six) settles typical findings without scanning their text.
pub(crate) fn fits(v: &Value, limit: usize) -> bool {
    upper_bound(v) <= limit || json_len(v) <= limit
}

fn upper_bound(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) => 5,
        // No number serializes longer than 24 bytes.
        Value::Number(_) => 24,
        Value::String(s) => 6 * s.len() + 2,
        Value::Array(items) => 2 + items.iter().map(|x| upper_bound(x) + 1).sum::<usize>(),
        Value::Object(map) => {
            2 + map
                .iter()
                .map(|(k, x)| 6 * k.len() + 4 + upper_bound(x))
                .sum::<usize>()
        }
    }
}

/// The length of `serde_json::to_string(v)` computed without building it. Exact for everything
/// but non-integral floats, whose length is taken from their `Display` form.
pub fn json_len(v: &Value) -> usize {
    match v {
        Value::Null => 4,
        Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => number_len(n),
        Value::String(s) => string_len(s),
        Value::Array(items) => {
            let commas = items.len().saturating_sub(1);
            2 + commas + items.iter().map(json_len).sum::<usize>()
        }
        Value::Object(map) => {
            let commas = map.len().saturating_sub(1);
            // Each member is `"key":value`.
            2 + commas
                + map
                    .iter()
                    .map(|(k, v)| string_len(k) + 1 + json_len(v))
                    .sum::<usize>()
        }
    }
}

fn number_len(n: &serde_json::Number) -> usize {
    if let Some(u) = n.as_u64() {
        digit_count(u)
    } else if let Some(i) = n.as_i64() {
        1 + digit_count(i.unsigned_abs())
    } else {
        n.to_string().len()
    }
}

fn digit_count(mut u: u64) -> usize {
    let mut d = 1;
    while u >= 10 {
        u /= 10;
        d += 1;
    }
    d
}

/// Quoted and escaped as serde_json does: `"` `\` and the short escapes take 2 bytes, other
/// control characters 6 (`\u00XX`).
fn string_len(s: &str) -> usize {
    let special = s
        .bytes()
        .filter(|&b| b < 0x20 || b == b'"' || b == b'\\')
        .count();
    if special == 0 {
        return s.len() + 2;
    }
    let escapes: usize = s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
            0..=0x1f => 5,
            _ => 0,
        })
        .sum();
    s.len() + escapes + 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_serde_json_exactly() {
        let samples = [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(-1),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(1.5),
            json!(""),
            json!("a\"b\\c\n\u{1}\u{7f}é😀"),
            json!([]),
            json!({}),
            json!({"a": [1, 2, {"b\t": null}], "c": "d"}),
        ];
        for v in samples {
            assert_eq!(
                json_len(&v),
                serde_json::to_string(&v).unwrap().len(),
                "{v}"
            );
        }
    }

    #[test]
    fn the_upper_bound_is_never_below_the_exact_length() {
        let v = json!({"a\"": ["\u{1}\u{1}", 1.0e300, i64::MIN, null, true], "b": {"c": "\\"}});
        assert!(upper_bound(&v) >= json_len(&v));
        assert!(fits(&v, json_len(&v)));
        assert!(!fits(&v, json_len(&v) - 1));
    }

    #[test]
    fn limit_is_240_kib() {
        let small = json!({"x": "y".repeat(MAX_FINDING_BYTES - 8)});
        assert_eq!(json_len(&small), MAX_FINDING_BYTES);
        assert_eq!(check_size(&small), Ok(()));
        let big = json!({"x": "y".repeat(MAX_FINDING_BYTES - 7)});
        assert_eq!(
            check_size(&big),
            Err("Finding size exceeded 240 KB".to_string())
        );
    }
}
