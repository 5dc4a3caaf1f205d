//! Reading the `Authorization` header and the request date.
//!
//! The header looks like
//! `AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iot/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa0…`.
//! Error messages follow the wording AWS services return for the same mistakes.

use super::{Scope, incomplete, require_signed_host};
use crate::amzdate::parse_basic;
use crate::crypto::ALGORITHM;
use crate::{Authorization, RequestParts, SigV4Error, SignatureLocation, header_values};

/// The first `Authorization` header, trimmed, unless it is blank: AWS treats a blank
/// header as no header at all.
pub(super) fn first_header<'a>(req: &RequestParts<'a>) -> Option<&'a str> {
    header_values(req.headers, "authorization")
        .next()
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Parses the `Authorization` header form; a missing header is
/// [`SigV4Error::MissingAuthenticationToken`], a malformed one
/// [`SigV4Error::IncompleteSignature`].
pub(super) fn parse(req: &RequestParts<'_>) -> Result<Authorization, SigV4Error> {
    let raw = first_header(req).ok_or(SigV4Error::MissingAuthenticationToken)?;
    if header_values(req.headers, "authorization").nth(1).is_some() {
        return Err(incomplete(format!(
            "Only one Authorization header is allowed. Authorization={raw}"
        )));
    }

    let (algorithm, rest) = raw
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((raw, ""));
    let params = Params::parse(rest, raw)?;

    // `Date` is the fallback AWS allows when `X-Amz-Date` is absent. It goes verbatim into
    // the string to sign, so like X-Amz-Date it must be in the basic format; an HTTP-date
    // there is refused below rather than guessed at.
    let amz_date = header_values(req.headers, "x-amz-date").next();
    let (date_header, date_value) = match amz_date {
        Some(v) => ("X-Amz-Date", Some(v)),
        None => ("Date", header_values(req.headers, "date").next()),
    };

    let mut missing = Vec::new();
    if params.credential.is_none() {
        missing.push("Authorization header requires 'Credential' parameter.");
    }
    if params.signature.is_none() {
        missing.push("Authorization header requires 'Signature' parameter.");
    }
    if params.signed_headers.is_none() {
        missing.push("Authorization header requires 'SignedHeaders' parameter.");
    }
    if date_value.is_none() {
        missing.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        );
    }
    let (Some(credential), Some(signature), Some(signed_headers), Some(date_value)) = (
        params.credential,
        params.signature,
        params.signed_headers,
        date_value,
    ) else {
        return Err(incomplete(format!(
            "{} Authorization={raw}",
            missing.join(" ")
        )));
    };

    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'"
        )));
    }

    let scope = Scope::parse(credential)?;

    let date_value = date_value.trim();
    let request_time_ms = parse_basic(date_value).ok_or_else(|| {
        incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{date_value}'. \
             See http://en.wikipedia.org/wiki/ISO_8601"
        ))
    })?;

    let signed_headers: Vec<String> = signed_headers.split(';').map(str::to_owned).collect();
    // Without the host and the date a signature could be replayed to another host or at
    // another time.
    require_signed_host(&signed_headers)?;
    if !signed_headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case(date_header))
    {
        return Err(incomplete(format!(
            "'{date_header}' must be a 'SignedHeader' in the AWS Authorization."
        )));
    }

    Ok(Authorization {
        access_key_id: scope.access_key_id.to_owned(),
        date: scope.date.to_owned(),
        region: scope.region.to_owned(),
        service: scope.service.to_owned(),
        signed_headers,
        signature: signature.to_owned(),
        amz_date: date_value.to_owned(),
        request_time_ms,
        location: SignatureLocation::Header,
    })
}

/// The `key=value` parameters after the algorithm, separated by `,` and optional spaces.
#[derive(Default)]
struct Params<'a> {
    credential: Option<&'a str>,
    signed_headers: Option<&'a str>,
    signature: Option<&'a str>,
}

impl<'a> Params<'a> {
    fn parse(text: &'a str, raw: &str) -> Result<Self, SigV4Error> {
        let mut params = Params::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return Err(incomplete(format!(
                    "'{part}' not a valid key=value pair (missing equal-sign) in \
                     Authorization header: '{raw}'."
                )));
            };
            let slot = match key.trim() {
                "Credential" => &mut params.credential,
                "SignedHeaders" => &mut params.signed_headers,
                "Signature" => &mut params.signature,
                _ => continue,
            };
            // The first occurrence counts; the signature check makes any choice safe.
            slot.get_or_insert(value.trim());
        }
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

    fn request<'a>(headers: &'a [(&'a str, &'a str)]) -> RequestParts<'a> {
        RequestParts {
            method: "GET",
            raw_path: "/",
            raw_query: "",
            headers,
            body: b"",
        }
    }

    fn parse_headers(headers: &[(&str, &str)]) -> Result<Authorization, SigV4Error> {
        parse(&request(headers))
    }

    fn incomplete_message(headers: &[(&str, &str)]) -> String {
        match parse_headers(headers) {
            Err(SigV4Error::IncompleteSignature(m)) => m,
            other => panic!("expected IncompleteSignature, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_get_vanilla_header() {
        let auth = parse_headers(&[
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
            ("Authorization", AUTH),
        ])
        .expect("valid");
        assert_eq!(
            auth,
            Authorization {
                access_key_id: "AKIDEXAMPLE".into(),
                date: "20150830".into(),
                region: "us-east-1".into(),
                service: "service".into(),
                signed_headers: vec!["host".into(), "x-amz-date".into()],
                signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
                    .into(),
                amz_date: "20150830T123600Z".into(),
                request_time_ms: 1_440_938_160_000,
                location: SignatureLocation::Header,
            }
        );
        assert_eq!(
            auth.credential_scope(),
            "20150830/us-east-1/service/aws4_request"
        );
    }

    #[test]
    fn accepts_spacing_variants_and_the_date_header() {
        let compact = "AWS4-HMAC-SHA256 Credential=AK/20150830/r/s/aws4_request,SignedHeaders=date;host,Signature=ab";
        let auth = parse_headers(&[
            ("date", "20150830T123600Z"),
            ("host", "h"),
            ("authorization", compact),
        ])
        .expect("valid");
        assert_eq!(auth.signed_headers, ["date", "host"]);
        assert_eq!(auth.signature, "ab");
        assert_eq!(auth.amz_date, "20150830T123600Z");
    }

    #[test]
    fn missing_header_is_missing_token() {
        for headers in [
            &[("host", "h"), ("x-amz-date", "20150830T123600Z")][..],
            &[("authorization", "  ")][..],
        ] {
            let err = parse_headers(headers).expect_err("missing");
            assert_eq!(err, SigV4Error::MissingAuthenticationToken);
            assert_eq!(err.status(), 403);
        }
    }

    #[test]
    fn missing_parameters_are_listed_together() {
        assert_eq!(
            incomplete_message(&[("authorization", "AWS4-HMAC-SHA256")]),
            "Authorization header requires 'Credential' parameter. Authorization header \
             requires 'Signature' parameter. Authorization header requires 'SignedHeaders' \
             parameter. Authorization header requires existence of either a 'X-Amz-Date' or \
             a 'Date' header. Authorization=AWS4-HMAC-SHA256"
        );
        let no_signature = "AWS4-HMAC-SHA256 Credential=AK/20150830/r/s/aws4_request, SignedHeaders=host;x-amz-date";
        assert_eq!(
            incomplete_message(&[
                ("authorization", no_signature),
                ("x-amz-date", "20150830T123600Z")
            ]),
            format!(
                "Authorization header requires 'Signature' parameter. Authorization={no_signature}"
            )
        );
        assert_eq!(
            incomplete_message(&[("authorization", AUTH)]),
            format!(
                "Authorization header requires existence of either a 'X-Amz-Date' or a \
                 'Date' header. Authorization={AUTH}"
            )
        );
    }

    #[test]
    fn malformed_headers_are_incomplete() {
        let date = ("x-amz-date", "20150830T123600Z");
        let with = |auth: &'static str| incomplete_message(&[("authorization", auth), date]);
        assert_eq!(
            with("Bearer abc"),
            "'abc' not a valid key=value pair (missing equal-sign) in Authorization header: \
             'Bearer abc'."
        );
        assert_eq!(
            with(
                "AWS4-HMAC-SHA512 Credential=AK/20150830/r/s/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab"
            ),
            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'"
        );
        assert_eq!(
            with(
                "AWS4-HMAC-SHA256 Credential=AK/20150830/r/s, SignedHeaders=host;x-amz-date, Signature=ab"
            ),
            "Credential must have exactly 5 slash-delimited elements, e.g. \
             keyid/date/region/service/term, got 'AK/20150830/r/s'"
        );
        assert!(
            with("AWS4-HMAC-SHA256 Credential=AK/20150830/r/s/aws4_request/x, SignedHeaders=host;x-amz-date, Signature=ab")
                .starts_with("Credential must have exactly 5")
        );
        assert!(
            with("AWS4-HMAC-SHA256 Credential=/20150830/r/s/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab")
                .starts_with("Credential must have exactly 5")
        );
        assert_eq!(
            with(
                "AWS4-HMAC-SHA256 Credential=AK/20150830/r/s/aws4_requests, SignedHeaders=host;x-amz-date, Signature=ab"
            ),
            "Credential should be scoped with a valid terminator: 'aws4_request', not \
             'aws4_requests'."
        );
        assert_eq!(
            with(
                "AWS4-HMAC-SHA256 Credential=AK/20150830/r/s/aws4_request, SignedHeaders=x-amz-date, Signature=ab"
            ),
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        );
        assert_eq!(
            with(
                "AWS4-HMAC-SHA256 Credential=AK/20150830/r/s/aws4_request, SignedHeaders=host, Signature=ab"
            ),
            "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."
        );
        assert_eq!(
            incomplete_message(&[
                (
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=AK/20150830/r/s/aws4_request, SignedHeaders=host, Signature=ab"
                ),
                ("date", "20150830T123600Z"),
            ]),
            "'Date' must be a 'SignedHeader' in the AWS Authorization."
        );
        assert!(
            incomplete_message(&[("authorization", AUTH), ("authorization", AUTH), date])
                .starts_with("Only one Authorization header is allowed.")
        );
    }

    #[test]
    fn date_must_be_basic_format() {
        assert_eq!(
            incomplete_message(&[
                ("authorization", AUTH),
                ("x-amz-date", "2015-08-30T12:36:00Z")
            ]),
            "Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. \
             See http://en.wikipedia.org/wiki/ISO_8601"
        );
        // X-Amz-Date wins over Date, as in AWS.
        assert!(
            incomplete_message(&[
                ("authorization", AUTH),
                ("date", "20150830T123600Z"),
                ("x-amz-date", "Sun, 30 Aug 2015 12:36:00 GMT"),
            ])
            .starts_with("Date must be in ISO-8601 'basic format'.")
        );
    }
}
