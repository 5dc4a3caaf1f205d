//! Presigned URLs with the real `aws-sigv4` signer as the oracle
//! (`SignatureLocation::QueryParams` with `expires_in`): they must verify from their date
//! until they expire, and any change to a signed part of the request must not.

mod support;

use fleetward_sigv4::{SigV4Error, SignatureLocation};
use proptest::prelude::*;
use support::*;

const MISMATCH: Result<(), SigV4Error> = Err(SigV4Error::SignatureMismatch);

fn presigned(req: &WireRequest, expires_s: u64) -> WireRequest {
    Oracle::presigned(expires_s).sign(req)
}

fn describe_hub() -> WireRequest {
    WireRequest::new(
        "GET",
        "/accounts",
        "HubArn=arn%3Aaws%3Asecurityhub%3Aus-east-1%3A000000000000%3Ahub%2Fdefault",
        b"",
    )
}

#[test]
fn aws_sigv4_presigned_urls_verify() {
    for req in examples() {
        let url = presigned(&req, 900);
        assert!(url.headers.iter().all(|(n, _)| n != "authorization"));
        assert!(url.query.contains("X-Amz-Signature="), "{url:?}");
        assert_eq!(url.verify_at(SECRET, T0), Ok(()), "{url:?}");
    }
}

#[test]
fn the_scope_and_expiry_are_parsed() {
    let oracle = Oracle {
        region: "eu-west-3",
        service: "iot",
        ..Oracle::presigned(300)
    };
    let url = oracle.sign(&WireRequest::new("GET", "/things", "maxResults=7", b""));
    let auth = url.parse().expect("parses");
    assert_eq!(auth.access_key_id, AKID);
    assert_eq!(
        (auth.region.as_str(), auth.service.as_str()),
        ("eu-west-3", "iot")
    );
    assert_eq!(auth.amz_date, "20260101T000000Z");
    assert_eq!(auth.request_time_ms, T0);
    assert_eq!(auth.signed_headers, ["host"]);
    assert_eq!(auth.location, SignatureLocation::Query { expires_s: 300 });
    assert_eq!(url.verify_at(SECRET, T0), Ok(()));
}

#[test]
fn a_session_token_is_signed_with_the_query() {
    let oracle = Oracle {
        session_token: Some("FwoGZXIvYXdzEFAKE//token+with/slashes=="),
        ..Oracle::presigned(900)
    };
    let url = oracle.sign(&describe_hub());
    assert_eq!(
        url.query_param("X-Amz-Security-Token"),
        Some("FwoGZXIvYXdzEFAKE%2F%2Ftoken%2Bwith%2Fslashes%3D%3D")
    );
    assert_eq!(url.verify_at(SECRET, T0), Ok(()));
    let swapped = url.with_query_param("X-Amz-Security-Token", "other");
    assert_eq!(swapped.verify_at(SECRET, T0), MISMATCH);
}

#[test]
fn payload_hash_is_the_body_or_unsigned_without_a_body() {
    // aws-sigv4 hashes SignableBody::Bytes, as for headers: a body can be presigned.
    let post = WireRequest::new("POST", "/findings", "", FINDINGS_BODY)
        .header("Content-Type", "application/x-amz-json-1.1");
    let url = presigned(&post, 60);
    assert_eq!(url.verify_at(SECRET, T0), Ok(()));
    let mut other_body = url.clone();
    other_body.body = b"{}".to_vec();
    assert_eq!(other_body.verify_at(SECRET, T0), MISMATCH);

    // The SDK's presigners sign UNSIGNED-PAYLOAD: accepted while there is no body.
    let unsigned = Oracle {
        unsigned_payload: true,
        ..Oracle::presigned(60)
    };
    let url = unsigned.sign(&describe_hub());
    assert_eq!(url.verify_at(SECRET, T0), Ok(()));
    let mut with_body = url.clone();
    with_body.body = b"{}".to_vec();
    assert_eq!(with_body.verify_at(SECRET, T0), MISMATCH);
    // A body we would otherwise let through unsigned is refused, even when it was signed
    // for as UNSIGNED-PAYLOAD.
    let url = unsigned.sign(&post);
    assert_eq!(url.verify_at(SECRET, T0), MISMATCH);

    // UNSIGNED-PAYLOAD remains refused in the header form.
    let header_unsigned = Oracle {
        unsigned_payload: true,
        ..Oracle::default()
    };
    assert_eq!(
        header_unsigned.sign(&describe_hub()).verify_at(SECRET, T0),
        MISMATCH
    );
}

#[test]
fn tampering_is_detected() {
    let base = presigned(
        &WireRequest::new("GET", "/things/sensor%3A42", "a=1&b=2", b"")
            .header("X-Custom", "signed"),
        3600,
    );
    assert_eq!(
        base.query_param("X-Amz-SignedHeaders"),
        Some("host%3Bx-custom")
    );
    assert_eq!(base.verify_at(SECRET, T0), Ok(()));

    let cases = [
        ("query value", base.with_query_param("b", "3")),
        (
            "query name",
            WireRequest {
                query: base.query.replacen("a=1", "A=1", 1),
                ..base.clone()
            },
        ),
        (
            "extra parameter",
            WireRequest {
                query: format!("{}&c=", base.query),
                ..base.clone()
            },
        ),
        (
            "removed parameter",
            WireRequest {
                query: base.query.replacen("a=1&", "", 1),
                ..base.clone()
            },
        ),
        ("expires", base.with_query_param("X-Amz-Expires", "3599")),
        (
            "signed headers",
            base.with_query_param("X-Amz-SignedHeaders", "host"),
        ),
        (
            "signature",
            base.with_query_param("X-Amz-Signature", &"0".repeat(64)),
        ),
        (
            "path",
            WireRequest {
                path: "/things/sensor%3A43".into(),
                ..base.clone()
            },
        ),
        (
            "decoded path",
            WireRequest {
                path: "/things/sensor:42".into(),
                ..base.clone()
            },
        ),
        (
            "method",
            WireRequest {
                method: "DELETE".into(),
                ..base.clone()
            },
        ),
    ];
    for (what, tampered) in cases {
        assert_ne!(tampered.query, "", "{what}");
        assert_eq!(tampered.verify_at(SECRET, T0), MISMATCH, "{what}");
    }

    let mut header = base.clone();
    for (name, value) in &mut header.headers {
        if name == "X-Custom" {
            *value = "changed".into();
        }
    }
    assert_eq!(header.verify_at(SECRET, T0), MISMATCH, "signed header");
    let mut host = base.clone();
    host.headers[0].1 = "evil.example:8443".into();
    assert_eq!(host.verify_at(SECRET, T0), MISMATCH, "host");
    assert_eq!(base.verify_at("not-the-secret", T0), MISMATCH, "secret");

    // Unsigned headers may be added on the way, as for the header form.
    let unsigned = base.clone().header("User-Agent", "curl/8");
    assert_eq!(unsigned.verify_at(SECRET, T0), Ok(()), "unsigned header");
}

#[test]
fn scope_date_must_match_the_request_date() {
    let url = presigned(&describe_hub(), 900);
    let credential = url.query_param("X-Amz-Credential").expect("credential");
    let other_day = url.with_query_param(
        "X-Amz-Credential",
        &credential.replace("%2F20260101%2F", "%2F20251231%2F"),
    );
    let err = other_day.verify_at(SECRET, T0).expect_err("mismatch");
    assert!(
        matches!(err, SigV4Error::ScopeDateMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn valid_from_its_date_until_it_expires() {
    let url = presigned(&describe_hub(), 3600);
    for offset in [0, 15 * MINUTE, 16 * MINUTE, 59 * MINUTE, 60 * MINUTE] {
        assert_eq!(url.verify_at(SECRET, T0 + offset), Ok(()), "{offset}");
    }
    match url.verify_at(SECRET, T0 + 60 * MINUTE + 1) {
        Err(e @ SigV4Error::RequestExpired { .. }) => {
            assert_eq!(e.message(), "Request has expired");
            assert_eq!((e.code(), e.status()), ("InvalidSignatureException", 403));
        }
        other => panic!("expected RequestExpired, got {other:?}"),
    }

    // A week, the most AWS allows, is honoured in full.
    let week = presigned(&describe_hub(), 604_800);
    assert_eq!(week.verify_at(SECRET, T0 + 7 * 24 * 60 * MINUTE), Ok(()));
    assert!(matches!(
        week.verify_at(SECRET, T0 + 7 * 24 * 60 * MINUTE + 1),
        Err(SigV4Error::RequestExpired { .. })
    ));

    // Shorter than the 15-minute skew: its own expiry wins.
    let short = presigned(&describe_hub(), 30);
    assert_eq!(short.verify_at(SECRET, T0 + 30_000), Ok(()));
    assert!(matches!(
        short.verify_at(SECRET, T0 + 30_001),
        Err(SigV4Error::RequestExpired { .. })
    ));
}

#[test]
fn not_valid_long_before_its_date() {
    let url = presigned(&describe_hub(), 3600);
    // A client clock up to 15 minutes ahead is tolerated, as for headers.
    assert_eq!(url.verify_at(SECRET, T0 - 15 * MINUTE), Ok(()));
    match url.verify_at(SECRET, T0 - 16 * MINUTE) {
        Err(e @ SigV4Error::SignatureNotYetCurrent { .. }) => assert_eq!(
            e.message(),
            "Signature not yet current: 20260101T000000Z is still later than \
             20251231T235900Z (20251231T234400Z + 15 min.)"
        ),
        other => panic!("expected SignatureNotYetCurrent, got {other:?}"),
    }
}

#[test]
fn out_of_range_expiry_from_the_signer_is_refused() {
    // aws-sigv4 signs whatever it is given; AWS's limits are ours.
    for (expires_s, message) in [
        (0, "X-Amz-Expires must be greater than 0 seconds"),
        (
            604_801,
            "X-Amz-Expires must be less than a week (in seconds); that is, the given \
             X-Amz-Expires must be less than 604800 seconds",
        ),
    ] {
        let url = presigned(&describe_hub(), expires_s);
        let err = url.verify_at(SECRET, T0).expect_err("out of range");
        assert_eq!(
            (err.code(), err.status(), err.message().as_str()),
            ("IncompleteSignatureException", 400, message)
        );
    }
}

#[test]
fn header_and_query_together_are_refused() {
    let url = presigned(&describe_hub(), 900);
    let header = signed(&describe_hub());
    let both = WireRequest {
        headers: header.headers.clone(),
        ..url
    };
    let err = both.verify_at(SECRET, T0).expect_err("both");
    assert_eq!(err, SigV4Error::HeaderAndQueryAuthentication);
    assert_eq!(
        (err.code(), err.status(), err.message().as_str()),
        (
            "InvalidSignatureException",
            400,
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as \
             HTTP header."
        )
    );
}

#[test]
fn incomplete_query_parameters() {
    let url = presigned(&describe_hub(), 900);
    let without = |name: &str| WireRequest {
        query: url
            .query
            .split('&')
            .filter(|pair| !pair.starts_with(&format!("{name}=")))
            .collect::<Vec<_>>()
            .join("&"),
        ..url.clone()
    };
    for name in [
        "X-Amz-Credential",
        "X-Amz-Signature",
        "X-Amz-SignedHeaders",
        "X-Amz-Date",
        "X-Amz-Expires",
    ] {
        let err = without(name).verify_at(SECRET, T0).expect_err(name);
        assert_eq!(
            (err.code(), err.status()),
            ("IncompleteSignatureException", 400)
        );
        assert_eq!(
            err.message(),
            format!(
                "AWS query-string parameters must include '{name}'. Re-examine the \
                 query-string parameters."
            )
        );
    }
    // Without X-Amz-Algorithm it is not query-string authentication at all.
    assert_eq!(
        without("X-Amz-Algorithm").verify_at(SECRET, T0),
        Err(SigV4Error::MissingAuthenticationToken)
    );
    let err = url
        .with_query_param("X-Amz-Algorithm", "AWS4-HMAC-SHA1")
        .verify_at(SECRET, T0)
        .expect_err("algorithm");
    assert_eq!(
        err.message(),
        "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1'"
    );
    let err = url
        .with_query_param("X-Amz-Date", "2026-01-01T00%3A00%3A00Z")
        .verify_at(SECRET, T0)
        .expect_err("date");
    assert!(
        err.message()
            .starts_with("Date must be in ISO-8601 'basic format'.")
    );
    let err = WireRequest {
        query: format!("{}&X-Amz-Signature=00", url.query),
        ..url.clone()
    }
    .verify_at(SECRET, T0)
    .expect_err("repeated");
    assert!(
        err.message()
            .starts_with("Only one 'X-Amz-Signature' query-string parameter is allowed.")
    );
}

// --- Property tests ----------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_presigned_urls_verify_until_they_expire(
        req in request(),
        sign_offset in -100_000_000i64..100_000_000,
        expires_s in 1u64..=604_800,
        unsigned_payload in any::<bool>(),
        per_mille in 0i64..=1000,
    ) {
        let oracle = Oracle {
            time_ms: T0 + sign_offset,
            unsigned_payload,
            ..Oracle::presigned(expires_s)
        };
        let url = oracle.sign(&req);
        let expires_ms = i64::try_from(expires_s).expect("expires") * 1000;
        // X-Amz-Date is the signing time truncated to the second.
        let date_ms = oracle.time_ms.div_euclid(1000) * 1000;
        let now = date_ms + expires_ms * per_mille / 1000;
        let expected = if unsigned_payload && !req.body.is_empty() { MISMATCH } else { Ok(()) };
        prop_assert_eq!(url.verify_at(SECRET, now), expected);
        let late = url.verify_at(SECRET, date_ms + expires_ms + 1);
        prop_assert!(matches!(late, Err(SigV4Error::RequestExpired { .. })), "{:?}", late);
    }

    #[test]
    fn random_presigned_tampering_fails(req in request(), which in 0usize..5, byte in any::<u8>()) {
        let url = presigned(&req, 900);
        let mut tampered = url.clone();
        match which {
            0 => tampered.body.push(byte),
            1 => tampered.path.push_str("/x"),
            2 => tampered.query = format!("{}&zz{byte}=1", tampered.query),
            3 => tampered.headers[0].1.push('x'),
            _ => {
                let signature = url.query_param("X-Amz-Signature").expect("signature");
                let flipped: String = signature
                    .chars()
                    .enumerate()
                    .map(|(i, c)| match (i == usize::from(byte) % 64, c) {
                        (true, '0') => '1',
                        (true, _) => '0',
                        (false, c) => c,
                    })
                    .collect();
                tampered = url.with_query_param("X-Amz-Signature", &flipped);
            }
        }
        prop_assert_eq!(tampered.verify_at(SECRET, T0), MISMATCH);
    }

    #[test]
    fn damaged_presigned_urls_never_panic(
        req in request(),
        name in prop::sample::select(vec![
            "X-Amz-Algorithm",
            "X-Amz-Credential",
            "X-Amz-Date",
            "X-Amz-Expires",
            "X-Amz-SignedHeaders",
            "X-Amz-Signature",
            "X-Amz-Security-Token",
        ]),
        value in prop_oneof![
            "\\PC{0,40}",
            "-?[0-9]{0,25}",
            "[0-9]{8}T[0-9]{6}Z",
            "[A-Za-z0-9%]{0,12}(%2F[A-Za-z0-9%]{0,12}){0,6}",
        ],
        now in any::<i64>(),
    ) {
        // Any outcome but a panic. (Whether a changed value can verify is the tampering
        // tests' business: a signature spelled with escapes, `%61` for `a`, rightly does.)
        let url = presigned(&req, 900).with_query_param(name, &value);
        let _ = url.verify_any_key_at(SECRET, now);
    }
}
