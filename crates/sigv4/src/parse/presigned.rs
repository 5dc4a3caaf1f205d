//! Reading a presigned URL's query-string authentication parameters.
//!
//! A presigned URL carries, besides the operation's own parameters:
//! `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fiot%2Faws4_request&X-Amz-Date=20260101T123456Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=…`,
//! and `X-Amz-Security-Token` for temporary credentials, which is signed like any other
//! parameter and needs nothing here. Names are case-sensitive and compared after decoding.
//! Error messages are those AWS's JSON services return for the same mistakes, and S3's for
//! `X-Amz-Expires`, which those services do not word differently.

use super::{Scope, incomplete, require_signed_host};
use crate::amzdate::parse_basic;
use crate::crypto::ALGORITHM;
use crate::query::decoded_pairs;
use crate::validity::MAX_PRESIGNED_EXPIRES_S;
use crate::{Authorization, SigV4Error, SignatureLocation};

const ALGORITHM_PARAM: &str = "X-Amz-Algorithm";
const CREDENTIAL_PARAM: &str = "X-Amz-Credential";
/// The only parameter the signature does not cover.
pub(crate) const SIGNATURE_PARAM: &str = "X-Amz-Signature";
const SIGNED_HEADERS_PARAM: &str = "X-Amz-SignedHeaders";
const DATE_PARAM: &str = "X-Amz-Date";
const EXPIRES_PARAM: &str = "X-Amz-Expires";

/// The parameters read, in the order AWS lists the missing ones.
const PARAMS: [&str; 6] = [
    ALGORITHM_PARAM,
    CREDENTIAL_PARAM,
    SIGNATURE_PARAM,
    SIGNED_HEADERS_PARAM,
    DATE_PARAM,
    EXPIRES_PARAM,
];

/// Whether the query asks for query-string authentication: for AWS, an `X-Amz-Algorithm`
/// parameter does, whatever its value and whatever else is there.
pub(super) fn is_presigned(raw_query: &str) -> bool {
    decoded_pairs(raw_query).any(|(name, _)| name == ALGORITHM_PARAM)
}

/// Parses the query-string authentication parameters of `raw_query`.
pub(super) fn parse(raw_query: &str) -> Result<Authorization, SigV4Error> {
    let mut values: [Option<String>; 6] = Default::default();
    for (name, value) in decoded_pairs(raw_query) {
        let Some(i) = PARAMS.iter().position(|p| *p == name) else {
            continue;
        };
        // A client never repeats these; accepting a second X-Amz-Signature (which nothing
        // signs) would let anyone append parameters to a valid URL.
        if values[i].is_some() {
            return Err(incomplete(format!(
                "Only one '{name}' query-string parameter is allowed. \
                 Re-examine the query-string parameters."
            )));
        }
        values[i] = Some(value);
    }

    // Empty values count as missing, as for AWS.
    let missing: Vec<String> = PARAMS
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.as_deref().is_none_or(str::is_empty))
        .map(|(p, _)| format!("AWS query-string parameters must include '{p}'."))
        .collect();
    let [
        Some(algorithm),
        Some(credential),
        Some(signature),
        Some(signed_headers),
        Some(amz_date),
        Some(expires),
    ] = values
    else {
        return Err(missing_message(&missing));
    };
    if !missing.is_empty() {
        return Err(missing_message(&missing));
    }

    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'"
        )));
    }
    let scope = Scope::parse(&credential)?;
    let request_time_ms = parse_basic(&amz_date).ok_or_else(|| {
        incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{amz_date}'. \
             See http://en.wikipedia.org/wiki/ISO_8601"
        ))
    })?;
    let expires_s = parse_expires(&expires)?;
    let signed_headers: Vec<String> = signed_headers.split(';').map(str::to_owned).collect();
    // The date needs no signed header here: X-Amz-Date is a signed query parameter.
    require_signed_host(&signed_headers)?;

    Ok(Authorization {
        access_key_id: scope.access_key_id.to_owned(),
        date: scope.date.to_owned(),
        region: scope.region.to_owned(),
        service: scope.service.to_owned(),
        signed_headers,
        signature,
        amz_date,
        request_time_ms,
        location: SignatureLocation::Query { expires_s },
    })
}

fn missing_message(missing: &[String]) -> SigV4Error {
    incomplete(format!(
        "{} Re-examine the query-string parameters.",
        missing.join(" ")
    ))
}

/// Whole seconds, 1 to [`MAX_PRESIGNED_EXPIRES_S`]. Only ASCII digits (after an optional
/// `-`, to say why a negative value is refused): `+5` or ` 5` are not numbers to AWS.
fn parse_expires(value: &str) -> Result<u32, SigV4Error> {
    let (negative, digits) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(incomplete(format!("{EXPIRES_PARAM} should be a number")));
    }
    let significant = digits.trim_start_matches('0');
    if negative && !significant.is_empty() {
        return Err(incomplete(format!("{EXPIRES_PARAM} must be non-negative")));
    }
    // More than 7 significant digits is more than a week; no need to parse it.
    let seconds = if significant.len() > 7 {
        None
    } else {
        significant.parse::<u32>().ok()
    };
    match seconds {
        None if significant.is_empty() => Err(incomplete(format!(
            "{EXPIRES_PARAM} must be greater than 0 seconds"
        ))),
        Some(s) if (1..=MAX_PRESIGNED_EXPIRES_S).contains(&s) => Ok(s),
        _ => Err(incomplete(format!(
            "{EXPIRES_PARAM} must be less than a week (in seconds); that is, the given \
             {EXPIRES_PARAM} must be less than {MAX_PRESIGNED_EXPIRES_S} seconds"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNATURE: &str = "a0964a2b976d35e391bd77550473d81b4697ada6cf3da4dbaeb694daf209bc31";

    /// A botocore presigned query, with `(name, value)` replacements; `None` removes.
    fn query(changes: &[(&str, Option<&str>)]) -> String {
        let mut pairs = vec![
            (
                "HubArn",
                "arn%3Aaws%3Asecurityhub%3Aus-east-1%3A000000000000%3Ahub%2Fdefault",
            ),
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            (
                "X-Amz-Credential",
                "AK%2F20260101%2Fus-east-1%2Fsecurityhub%2Faws4_request",
            ),
            ("X-Amz-Date", "20260101T123456Z"),
            ("X-Amz-Expires", "900"),
            ("X-Amz-SignedHeaders", "host"),
            ("X-Amz-Signature", SIGNATURE),
        ];
        for (name, value) in changes {
            pairs.retain(|(n, _)| n != name);
            if let Some(value) = value {
                pairs.push((name, value));
            }
        }
        pairs
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn message(raw_query: &str) -> String {
        match parse(raw_query) {
            Err(SigV4Error::IncompleteSignature(m)) => m,
            other => panic!("expected IncompleteSignature, got {other:?}"),
        }
    }

    fn with(name: &str, value: &str) -> String {
        message(&query(&[(name, Some(value))]))
    }

    #[test]
    fn parses_a_botocore_query() {
        assert!(is_presigned(&query(&[])));
        assert_eq!(
            parse(&query(&[])),
            Ok(Authorization {
                access_key_id: "AK".into(),
                date: "20260101".into(),
                region: "us-east-1".into(),
                service: "securityhub".into(),
                signed_headers: vec!["host".into()],
                signature: SIGNATURE.into(),
                amz_date: "20260101T123456Z".into(),
                request_time_ms: 1_767_270_896_000,
                location: SignatureLocation::Query { expires_s: 900 },
            })
        );
        let encoded = parse(&query(&[
            ("X-Amz-SignedHeaders", Some("content-type%3Bhost")),
            ("X-Amz-Security-Token", Some("tok%2Fen%2B%3D")),
            ("X-Amz-Expires", Some("0604800")),
        ]))
        .expect("valid");
        assert_eq!(encoded.signed_headers, ["content-type", "host"]);
        assert_eq!(
            encoded.location,
            SignatureLocation::Query { expires_s: 604_800 }
        );
    }

    #[test]
    fn missing_and_empty_parameters_are_listed() {
        assert_eq!(
            message("X-Amz-Algorithm"),
            "AWS query-string parameters must include 'X-Amz-Algorithm'. AWS query-string \
             parameters must include 'X-Amz-Credential'. AWS query-string parameters must \
             include 'X-Amz-Signature'. AWS query-string parameters must include \
             'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. \
             AWS query-string parameters must include 'X-Amz-Expires'. Re-examine the \
             query-string parameters."
        );
        assert_eq!(
            message(&query(&[("X-Amz-Expires", None)])),
            "AWS query-string parameters must include 'X-Amz-Expires'. Re-examine the \
             query-string parameters."
        );
        assert_eq!(
            message(&query(&[
                ("X-Amz-Signature", Some("")),
                ("X-Amz-Date", None)
            ])),
            "AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string \
             parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."
        );
        // Names are case-sensitive.
        assert!(
            message(&query(&[
                ("X-Amz-Credential", None),
                (
                    "x-amz-credential",
                    Some("AK%2F20260101%2Fr%2Fs%2Faws4_request")
                ),
            ]))
            .starts_with("AWS query-string parameters must include 'X-Amz-Credential'.")
        );
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let repeated = format!("{}&X-Amz-Signature=00", query(&[]));
        assert_eq!(
            message(&repeated),
            "Only one 'X-Amz-Signature' query-string parameter is allowed. Re-examine the \
             query-string parameters."
        );
        let encoded_name = format!("{}&X%2DAmz-Date=20260101T123456Z", query(&[]));
        assert!(message(&encoded_name).starts_with("Only one 'X-Amz-Date'"));
    }

    #[test]
    fn malformed_values_are_incomplete() {
        assert_eq!(
            with("X-Amz-Algorithm", "AWS4-HMAC-SHA512"),
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'"
        );
        assert_eq!(
            with("X-Amz-Credential", "AK%2F20260101%2Fr%2Fs"),
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got 'AK/20260101/r/s'"
        );
        assert!(
            with("X-Amz-Credential", "AK%2F20260101%2Fr%2Fs%2Faws4")
                .starts_with("Credential should be scoped with a valid terminator")
        );
        assert_eq!(
            with("X-Amz-Date", "2026-01-01T12%3A34%3A56Z"),
            "Date must be in ISO-8601 'basic format'. Got '2026-01-01T12:34:56Z'. \
             See http://en.wikipedia.org/wiki/ISO_8601"
        );
        assert_eq!(
            with("X-Amz-SignedHeaders", "content-type"),
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        );
    }

    #[test]
    fn expires_is_one_second_to_a_week() {
        let week = "X-Amz-Expires must be less than a week (in seconds); that is, the given \
                    X-Amz-Expires must be less than 604800 seconds";
        for (value, expected) in [
            ("abc", "X-Amz-Expires should be a number"),
            ("1.5", "X-Amz-Expires should be a number"),
            ("%2B60", "X-Amz-Expires should be a number"),
            ("+60", "X-Amz-Expires should be a number"),
            ("-", "X-Amz-Expires should be a number"),
            ("-60", "X-Amz-Expires must be non-negative"),
            ("0", "X-Amz-Expires must be greater than 0 seconds"),
            ("-0", "X-Amz-Expires must be greater than 0 seconds"),
            ("604801", week),
            ("99999999999999999999999", week),
        ] {
            assert_eq!(with("X-Amz-Expires", value), expected, "{value}");
        }
        for (value, seconds) in [("1", 1), ("00000000001", 1), ("604800", 604_800)] {
            let auth = parse(&query(&[("X-Amz-Expires", Some(value))])).expect(value);
            assert_eq!(
                auth.location,
                SignatureLocation::Query { expires_s: seconds }
            );
        }
    }
}
