//! Round trips with the real `aws-sigv4` signer as the oracle: what the Rust SDK signs
//! (double path encoding, signature in headers) must verify, and any change to a signed
//! part of the request must not.

use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use fleetward_sigv4::{RequestParts, SigV4Error, parse, verify};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;

const AKID: &str = "AKIAFLEETWARDTEST01";
const SECRET: &str = "fleetward/secret+KEY/0123456789abcdefghij";
const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const MINUTE: i64 = 60_000;
const HOST: &str = "fleetward.local:8443";

/// A request as the client will put it on the wire.
#[derive(Debug, Clone)]
struct WireRequest {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl WireRequest {
    fn new(method: &str, path: &str, query: &str, body: &[u8]) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: vec![("Host".into(), HOST.into())],
            body: body.to_vec(),
        }
    }

    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn verify_at(&self, secret: &str, now_ms: i64) -> Result<(), SigV4Error> {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let req = RequestParts {
            method: &self.method,
            raw_path: &self.path,
            raw_query: &self.query,
            headers: &headers,
            body: &self.body,
        };
        let auth = parse(&req)?;
        assert_eq!(auth.access_key_id, AKID);
        verify(&req, &auth, secret, now_ms)
    }
}

#[derive(Debug, Clone, Copy)]
struct Oracle {
    region: &'static str,
    service: &'static str,
    time_ms: i64,
    content_sha256_header: bool,
}

impl Default for Oracle {
    fn default() -> Self {
        Self {
            region: "us-east-1",
            service: "securityhub",
            time_ms: T0,
            content_sha256_header: false,
        }
    }
}

impl Oracle {
    /// Signs with `aws-sigv4` and returns the request with the signing headers added.
    fn sign(&self, req: &WireRequest) -> WireRequest {
        let identity: Identity = Credentials::new(AKID, SECRET, None, None, "test").into();
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Double;
        settings.signature_location = SignatureLocation::Headers;
        if self.content_sha256_header {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
        let time = UNIX_EPOCH + Duration::from_millis(u64::try_from(self.time_ms).expect("time"));
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(time)
            .settings(settings)
            .build()
            .expect("signing params")
            .into();
        let uri = if req.query.is_empty() {
            format!("https://{HOST}{}", req.path)
        } else {
            format!("https://{HOST}{}?{}", req.path, req.query)
        };
        let signable = SignableRequest::new(
            &req.method,
            uri,
            req.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            SignableBody::Bytes(&req.body),
        )
        .expect("signable request");
        let (instructions, _) = sign(signable, &params)
            .expect("aws-sigv4 signs")
            .into_parts();
        let mut signed = req.clone();
        for (name, value) in instructions.headers() {
            signed.headers.push((name.to_owned(), value.to_owned()));
        }
        signed
    }
}

fn signed(req: &WireRequest) -> WireRequest {
    Oracle::default().sign(req)
}

const SUBSCRIPTION_PATH: &str = "/productSubscriptions/arn%3Aaws%3Asecurityhub%3Aus-east-1%3A000000000000%3Aproduct-subscription/prowler/prowler";
const INSIGHT_PATH: &str = "/insights/arn%3Aaws%3Asecurityhub%3Aus-east-1%3A000000000000%3Ainsight/000000000000/custom/a1b2";
const FINDINGS_BODY: &[u8] =
    br#"{"Filters":{"SeverityLabel":[{"Value":"CRITICAL","Comparison":"EQUALS"}]},"MaxResults":10}"#;

fn examples() -> Vec<WireRequest> {
    vec![
        WireRequest::new("DELETE", SUBSCRIPTION_PATH, "", b""),
        WireRequest::new("PATCH", INSIGHT_PATH, "", br#"{"Name":"n\u00e9w"}"#)
            .header("Content-Type", "application/json"),
        WireRequest::new("POST", "/findings", "", FINDINGS_BODY)
            .header("Content-Type", "application/x-amz-json-1.1")
            .header("X-Amz-Target", "SecurityHubAPIService.GetFindings"),
        WireRequest::new(
            "GET",
            "/things",
            "nextToken=abc%2Fdef%3D%3D&maxResults=10&attributeName=color&attributeValue=dark%20blue",
            b"",
        ),
        WireRequest::new(
            "GET",
            "/standards/subscription",
            "b=2&a=3&a=1&c&%E1%88%B4=x",
            b"",
        ),
        WireRequest::new("GET", "/members", "OnlyAssociated=true&x=a+b&y=%7e:/?", b""),
        WireRequest::new(
            "PUT",
            "/test/@connections/JBDvjfGEIAMCERw%3D",
            "",
            b"raw bytes \x00\xff",
        )
        .header("User-Agent", "aws-sdk-rust/1.0")
        .header("X-Amzn-Trace-Id", "Root=1-abc")
        .header("amz-sdk-request", "attempt=1;  max=3")
        .header("X-Custom", "  one   two  ")
        .header("x-custom", "three"),
        WireRequest::new("GET", "/a/b/./c/../d//e/.", "", b""),
    ]
}

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
    // A presigned-URL query is not supported, so it is the same as no signature at all.
    missing.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc".into();
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

/// One path segment as a client may send it.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        // A label the SDK percent-encoded (everything but unreserved).
        any::<String>().prop_map(|s| utf8_percent_encode(&s, NON_ALPHANUMERIC).to_string()),
        // Characters RFC 3986 allows raw in a path segment.
        "[A-Za-z0-9._~!$&'()*+,;=:@-]{0,12}",
        // Lowercase escapes, which must not be normalised.
        "(%[0-9a-f]{2}){1,3}".prop_filter("valid UTF-8", |s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .is_ok()
        }),
        Just("arn%3Aaws%3Asecurityhub%3Aus-east-1%3A000000000000%3Aproduct%2Facme".to_owned()),
        Just(".".to_owned()),
        Just("..".to_owned()),
        Just(String::new()),
    ]
}

fn path() -> impl Strategy<Value = String> {
    (prop::collection::vec(segment(), 0..6), any::<bool>()).prop_map(|(segments, trailing)| {
        let mut path = format!("/{}", segments.join("/"));
        if trailing && !path.ends_with('/') {
            path.push('/');
        }
        path
    })
}

/// A query name or value as a client may send it.
fn query_part() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>().prop_map(|s| utf8_percent_encode(&s, NON_ALPHANUMERIC).to_string()),
        "[A-Za-z0-9._~!$'()*+,;:@/?-]{0,10}",
        Just(String::new()),
    ]
}

fn query() -> impl Strategy<Value = String> {
    prop::collection::vec((query_part(), prop::option::of(query_part())), 0..6).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k}={v}"),
                None => k,
            })
            .collect::<Vec<_>>()
            .join("&")
    })
}

fn extra_headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        "[xX]-[Ff][Ww]-[a-zA-Z]{1,6}",
        Just("Content-Type".to_owned()),
        Just("User-Agent".to_owned()),
        Just("X-Amzn-Trace-Id".to_owned()),
    ];
    prop::collection::vec((name, "[ -~]{0,24}"), 0..5)
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        any::<String>().prop_map(|s| format!("{{\"Name\":{s:?}}}").into_bytes()),
    ]
}

fn method() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
        .prop_map(str::to_owned)
}

fn request() -> impl Strategy<Value = WireRequest> {
    (method(), path(), query(), extra_headers(), body()).prop_map(
        |(method, path, query, headers, body)| {
            let mut req = WireRequest::new(&method, &path, &query, &body);
            req.headers.extend(headers);
            req
        },
    )
}

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
        headers in prop::collection::vec(("[A-Za-z-]{1,16}", "\\PC{0,80}"), 0..6),
        auth in "\\PC{0,200}",
        body in prop::collection::vec(any::<u8>(), 0..64),
        now in any::<i64>(),
    ) {
        let mut all: Vec<(&str, &str)> =
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        all.push(("authorization", &auth));
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
