//! Round trips with the real `aws-sigv4` signer as the oracle: what the Rust SDK signs
//! (double path encoding, signature in headers) must verify, and any change to a signed
//! part of the request must not.

mod support;

use fleetward_sigv4::{RequestParts, SigV4Error, parse, verify};
use proptest::prelude::*;
use support::*;

#[test]
fn aws_sigv4_signatures_verify() {
    for req in examples() {
        let req = signed(&req);
        assert_eq!(req.verify_at(SECRET, T0), Ok(()), "{req:?}");
    }
}

#[test]
fn content_sha256_header_is_checked_against_the_body() {
    let oracle = Oracle {
        content_sha256_header: true,
        ..Oracle::default()
    };
    let req = oracle.sign(&WireRequest::new("POST", "/findings", "", FINDINGS_BODY));
    assert!(req.headers.iter().any(|(n, _)| n == "x-amz-content-sha256"));
    assert_eq!(req.verify_at(SECRET, T0), Ok(()));

    let mut tampered = req.clone();
    tampered.body.push(b' ');
    assert_eq!(
        tampered.verify_at(SECRET, T0),
        Err(SigV4Error::ContentSha256Mismatch)
    );
    let mut unsigned = req;
    for (name, value) in &mut unsigned.headers {
        if name == "x-amz-content-sha256" {
            *value = "UNSIGNED-PAYLOAD".into();
        }
    }
    assert_eq!(
        unsigned.verify_at(SECRET, T0),
        Err(SigV4Error::ContentSha256Mismatch)
    );
}

#[test]
fn tampering_is_detected() {
    let base = signed(
        &WireRequest::new("PATCH", INSIGHT_PATH, "a=1&b=2", br#"{"Name":"x"}"#)
            .header("Content-Type", "application/json")
            .header("User-Agent", "botocore/1.43"),
    );
    assert_eq!(base.verify_at(SECRET, T0), Ok(()));

    let mismatch = Err(SigV4Error::SignatureMismatch);
    let mut body = base.clone();
    body.body = br#"{"Name":"y"}"#.to_vec();
    assert_eq!(body.verify_at(SECRET, T0), mismatch, "body");

    let mut path = base.clone();
    path.path = path.path.replace("a1b2", "a1b3");
    assert_eq!(path.verify_at(SECRET, T0), mismatch, "path");

    // The ARN with ':' unencoded is a different wire path, so a different signature.
    let mut decoded = base.clone();
    decoded.path = decoded.path.replace("%3A", ":");
    assert_eq!(decoded.verify_at(SECRET, T0), mismatch, "decoded path");

    let mut query = base.clone();
    query.query = "a=1&b=3".into();
    assert_eq!(query.verify_at(SECRET, T0), mismatch, "query");

    let mut extra = base.clone();
    extra.query.push_str("&c=");
    assert_eq!(extra.verify_at(SECRET, T0), mismatch, "extra query");

    let mut method = base.clone();
    method.method = "PUT".into();
    assert_eq!(method.verify_at(SECRET, T0), mismatch, "method");

    let mut header = base.clone();
    for (name, value) in &mut header.headers {
        if name == "Content-Type" {
            *value = "text/plain".into();
        }
    }
    assert_eq!(header.verify_at(SECRET, T0), mismatch, "signed header");

    let mut host = base.clone();
    host.headers[0].1 = "evil.example:8443".into();
    assert_eq!(host.verify_at(SECRET, T0), mismatch, "host");

    assert_eq!(base.verify_at("not-the-secret", T0), mismatch, "secret");

    // Unsigned headers may change on the way.
    let mut unsigned = base.clone();
    for (name, value) in &mut unsigned.headers {
        if name == "User-Agent" {
            *value = "proxy/2".into();
        }
    }
    unsigned
        .headers
        .push(("X-Forwarded-For".into(), "10.0.0.1".into()));
    assert_eq!(unsigned.verify_at(SECRET, T0), Ok(()), "unsigned header");
}

#[test]
fn scope_from_the_signer_is_parsed() {
    let oracle = Oracle {
        region: "eu-west-3",
        service: "iot",
        ..Oracle::default()
    };
    let req = oracle.sign(&WireRequest::new("GET", "/things", "", b""));
    let headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let parts = RequestParts {
        method: &req.method,
        raw_path: &req.path,
        raw_query: &req.query,
        headers: &headers,
        body: &req.body,
    };
    let auth = parse(&parts).expect("parses");
    assert_eq!(
        (auth.region.as_str(), auth.service.as_str()),
        ("eu-west-3", "iot")
    );
    assert_eq!(auth.amz_date, "20260101T000000Z");
    assert_eq!(auth.request_time_ms, T0);
    assert_eq!(auth.signed_headers, ["host", "x-amz-date"]);
    assert_eq!(verify(&parts, &auth, SECRET, T0), Ok(()));
}

#[test]
fn clock_skew_boundaries() {
    let req = signed(&WireRequest::new("GET", "/things", "", b""));
    for offset in [0, 14 * MINUTE, -14 * MINUTE, 15 * MINUTE, -15 * MINUTE] {
        assert_eq!(req.verify_at(SECRET, T0 + offset), Ok(()), "{offset}");
    }
    // The server is 16 minutes ahead: the request is too old.
    match req.verify_at(SECRET, T0 + 16 * MINUTE) {
        Err(e @ SigV4Error::SignatureExpired { .. }) => {
            assert_eq!(e.code(), "InvalidSignatureException");
            assert_eq!(
                e.message(),
                "Signature expired: 20260101T000000Z is now earlier than 20260101T000100Z \
                 (20260101T001600Z - 15 min.)"
            );
        }
        other => panic!("expected SignatureExpired, got {other:?}"),
    }
    // The server is 16 minutes behind: the request is from the future.
    match req.verify_at(SECRET, T0 - 16 * MINUTE) {
        Err(e @ SigV4Error::SignatureNotYetCurrent { .. }) => assert_eq!(
            e.message(),
            "Signature not yet current: 20260101T000000Z is still later than \
             20251231T235900Z (20251231T234400Z + 15 min.)"
        ),
        other => panic!("expected SignatureNotYetCurrent, got {other:?}"),
    }
    assert!(matches!(
        req.verify_at(SECRET, T0 + 15 * MINUTE + 1),
        Err(SigV4Error::SignatureExpired { .. })
    ));
}

#[test]
fn scope_date_must_match_the_request_date() {
    let req = signed(&WireRequest::new("GET", "/things", "", b""));
    let mut other_day = req.clone();
    for (name, value) in &mut other_day.headers {
        if name == "authorization" {
            *value = value.replace("/20260101/", "/20251231/");
        }
    }
    let err = other_day.verify_at(SECRET, T0).expect_err("mismatch");
    assert_eq!(err.code(), "InvalidSignatureException");
    assert_eq!(err.status(), 403);
    assert_eq!(
        err.message(),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
         HTTP: '20251231' != '20260101', from '20260101T000000Z'."
    );
}

#[test]
fn missing_and_incomplete_headers() {
    let req = signed(&WireRequest::new("GET", "/things", "", b""));

    let mut missing = req.clone();
    missing.headers.retain(|(n, _)| n != "authorization");
    // Without X-Amz-Algorithm, X-Amz-* query parameters are not query-string authentication
    // (see aws_sigv4_presigned.rs for that), so this is no signature at all.
    missing.query = "X-Amz-Credential=AKID&X-Amz-Signature=abc".into();
    let err = missing.verify_at(SECRET, T0).expect_err("missing");
    assert_eq!(
        (err.code(), err.status(), err.message().as_str()),
        (
            "MissingAuthenticationTokenException",
            403,
            "Missing Authentication Token"
        )
    );

    let mut no_date = req.clone();
    no_date.headers.retain(|(n, _)| n != "x-amz-date");
    let err = no_date.verify_at(SECRET, T0).expect_err("no date");
    assert_eq!(
        (err.code(), err.status()),
        ("IncompleteSignatureException", 400)
    );
    assert!(err.message().starts_with(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
    ));

    let mut bad_date = req;
    for (name, value) in &mut bad_date.headers {
        if name == "x-amz-date" {
            *value = "2026-01-01T00:00:00Z".into();
        }
    }
    let err = bad_date.verify_at(SECRET, T0).expect_err("bad date");
    assert_eq!(err.code(), "IncompleteSignatureException");
    assert!(
        err.message()
            .starts_with("Date must be in ISO-8601 'basic format'.")
    );
}

// --- Property tests ----------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_requests_signed_by_aws_sigv4_verify(
        req in request(),
        sign_offset in -100_000_000i64..100_000_000,
        skew in -14 * MINUTE..14 * MINUTE,
        content_sha256_header in any::<bool>(),
    ) {
        let oracle = Oracle {
            time_ms: T0 + sign_offset,
            content_sha256_header,
            ..Oracle::default()
        };
        let signed = oracle.sign(&req);
        prop_assert_eq!(signed.verify_at(SECRET, oracle.time_ms + skew), Ok(()));
    }

    #[test]
    fn random_tampering_fails(req in request(), which in 0usize..4, byte in any::<u8>()) {
        let signed = signed(&req);
        let mut tampered = signed.clone();
        match which {
            0 => tampered.body.push(byte),
            1 => tampered.path.push_str("/x"),
            2 => {
                let sep = if tampered.query.is_empty() { "" } else { "&" };
                tampered.query = format!("{}{sep}zz{byte}=1", tampered.query);
            }
            _ => tampered.headers[0].1.push('x'),
        }
        prop_assert_eq!(tampered.verify_at(SECRET, T0), Err(SigV4Error::SignatureMismatch));
    }

    #[test]
    fn parse_and_verify_never_panic(
        method in "[A-Z]{0,7}",
        path in "\\PC{0,40}",
        query in "\\PC{0,40}",
        auth_params in prop::collection::vec((auth_param_name(), "\\PC{0,60}"), 0..8),
        headers in prop::collection::vec(("[A-Za-z-]{1,16}", "\\PC{0,80}"), 0..6),
        auth in prop::option::of("\\PC{0,200}"),
        body in prop::collection::vec(any::<u8>(), 0..64),
        now in any::<i64>(),
    ) {
        // Query-string authentication parameters with arbitrary values, mixed into an
        // arbitrary query, with or without an Authorization header.
        let mut query = query;
        for (name, value) in &auth_params {
            query.push('&');
            query.push_str(name);
            query.push('=');
            query.push_str(value);
        }
        let mut all: Vec<(&str, &str)> =
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        if let Some(auth) = &auth {
            all.push(("authorization", auth));
        }
        let req = RequestParts {
            method: &method,
            raw_path: &path,
            raw_query: &query,
            headers: &all,
            body: &body,
        };
        if let Ok(parsed) = parse(&req) {
            let _ = verify(&req, &parsed, SECRET, now);
        }
    }
}

/// The names of the query-string authentication parameters, as sent or oddly encoded.
fn auth_param_name() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
        "X%2DAmz-Signature",
        "x-amz-expires",
    ])
    .prop_map(str::to_owned)
}
