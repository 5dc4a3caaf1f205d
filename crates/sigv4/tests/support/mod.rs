//! Shared by the `aws-sigv4` oracle tests: requests as they go on the wire, the real
//! `aws-sigv4` signer (header form or presigned), example requests and proptest strategies.

// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use fleetward_sigv4::{Authorization, RequestParts, SigV4Error, parse, verify};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;

pub const AKID: &str = "AKIAFLEETWARDTEST01";
pub const SECRET: &str = "fleetward/secret+KEY/0123456789abcdefghij";
pub const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z
pub const MINUTE: i64 = 60_000;
pub const HOST: &str = "fleetward.local:8443";

/// How `aws-sigv4` writes query parameter values (`aws_smithy_http::query::fmt_string`):
/// everything but the unreserved characters percent-encoded.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A request as the client will put it on the wire.
#[derive(Debug, Clone)]
pub struct WireRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl WireRequest {
    pub fn new(method: &str, path: &str, query: &str, body: &[u8]) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            headers: vec![("Host".into(), HOST.into())],
            body: body.to_vec(),
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// [`parse`], with the borrowed view the verifier takes.
    pub fn parse(&self) -> Result<Authorization, SigV4Error> {
        self.with_parts(parse)
    }

    pub fn verify_at(&self, secret: &str, now_ms: i64) -> Result<(), SigV4Error> {
        self.with_parts(|req| {
            let auth = parse(req)?;
            assert_eq!(auth.access_key_id, AKID);
            verify(req, &auth, secret, now_ms)
        })
    }

    /// [`WireRequest::verify_at`] for whatever access key the request names.
    pub fn verify_any_key_at(&self, secret: &str, now_ms: i64) -> Result<(), SigV4Error> {
        self.with_parts(|req| verify(req, &parse(req)?, secret, now_ms))
    }

    fn with_parts<T>(&self, f: impl FnOnce(&RequestParts<'_>) -> T) -> T {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        f(&RequestParts {
            method: &self.method,
            raw_path: &self.path,
            raw_query: &self.query,
            headers: &headers,
            body: &self.body,
        })
    }

    /// Replaces the value of every query parameter named `name` (as written on the wire).
    pub fn with_query_param(&self, name: &str, value: &str) -> Self {
        let query = self
            .query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((n, _)) if n == name => format!("{n}={value}"),
                _ => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&");
        Self {
            query,
            ..self.clone()
        }
    }

    /// The value of the first query parameter named `name`, as written on the wire.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .find_map(|pair| pair.split_once('=').filter(|(n, _)| *n == name))
            .map(|(_, v)| v)
    }
}

/// The real `aws-sigv4` signer, configured as the Rust SDK does for our services.
#[derive(Debug, Clone, Copy)]
pub struct Oracle {
    pub region: &'static str,
    pub service: &'static str,
    pub time_ms: i64,
    pub content_sha256_header: bool,
    /// Presign: the signature goes into the query (`SignatureLocation::QueryParams`),
    /// valid for this many seconds. `None` signs in the headers.
    pub presign_expires_s: Option<u64>,
    /// Sign `UNSIGNED-PAYLOAD` (`SignableBody::UnsignedPayload`, what the SDK's presigners
    /// use) instead of the body's hash.
    pub unsigned_payload: bool,
    pub session_token: Option<&'static str>,
}

impl Default for Oracle {
    fn default() -> Self {
        Self {
            region: "us-east-1",
            service: "securityhub",
            time_ms: T0,
            content_sha256_header: false,
            presign_expires_s: None,
            unsigned_payload: false,
            session_token: None,
        }
    }
}

impl Oracle {
    pub fn presigned(expires_s: u64) -> Self {
        Self {
            presign_expires_s: Some(expires_s),
            ..Self::default()
        }
    }

    /// Signs with `aws-sigv4` and returns the request with the signing headers or query
    /// parameters added.
    pub fn sign(&self, req: &WireRequest) -> WireRequest {
        let identity: Identity = Credentials::new(
            AKID,
            SECRET,
            self.session_token.map(str::to_owned),
            None,
            "test",
        )
        .into();
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Double;
        settings.signature_location = SignatureLocation::Headers;
        if let Some(expires_s) = self.presign_expires_s {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(Duration::from_secs(expires_s));
        }
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
        let body = if self.unsigned_payload {
            SignableBody::UnsignedPayload
        } else {
            SignableBody::Bytes(&req.body)
        };
        let signable = SignableRequest::new(
            &req.method,
            uri,
            req.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            body,
        )
        .expect("signable request");
        let (instructions, _) = sign(signable, &params)
            .expect("aws-sigv4 signs")
            .into_parts();
        let mut signed = req.clone();
        for (name, value) in instructions.headers() {
            signed.headers.push((name.to_owned(), value.to_owned()));
        }
        for (name, value) in instructions.params() {
            if !signed.query.is_empty() {
                signed.query.push('&');
            }
            let value = utf8_percent_encode(value, QUERY_VALUE);
            signed.query.push_str(&format!("{name}={value}"));
        }
        signed
    }
}

pub fn signed(req: &WireRequest) -> WireRequest {
    Oracle::default().sign(req)
}

pub const SUBSCRIPTION_PATH: &str = "/productSubscriptions/arn%3Aaws%3Asecurityhub%3Aus-east-1%3A000000000000%3Aproduct-subscription/prowler/prowler";
pub const INSIGHT_PATH: &str = "/insights/arn%3Aaws%3Asecurityhub%3Aus-east-1%3A000000000000%3Ainsight/000000000000/custom/a1b2";
pub const FINDINGS_BODY: &[u8] =
    br#"{"Filters":{"SeverityLabel":[{"Value":"CRITICAL","Comparison":"EQUALS"}]},"MaxResults":10}"#;

pub fn examples() -> Vec<WireRequest> {
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

// --- Proptest strategies -----------------------------------------------------------

/// One path segment as a client may send it.
pub fn segment() -> impl Strategy<Value = String> {
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

pub fn path() -> impl Strategy<Value = String> {
    (prop::collection::vec(segment(), 0..6), any::<bool>()).prop_map(|(segments, trailing)| {
        let mut path = format!("/{}", segments.join("/"));
        if trailing && !path.ends_with('/') {
            path.push('/');
        }
        path
    })
}

/// A query name or value as a client may send it.
pub fn query_part() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>().prop_map(|s| utf8_percent_encode(&s, NON_ALPHANUMERIC).to_string()),
        "[A-Za-z0-9._~!$'()*+,;:@/?-]{0,10}",
        Just(String::new()),
    ]
}

pub fn query() -> impl Strategy<Value = String> {
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

pub fn extra_headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        "[xX]-[Ff][Ww]-[a-zA-Z]{1,6}",
        Just("Content-Type".to_owned()),
        Just("User-Agent".to_owned()),
        Just("X-Amzn-Trace-Id".to_owned()),
    ];
    prop::collection::vec((name, "[ -~]{0,24}"), 0..5)
}

pub fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        any::<String>().prop_map(|s| format!("{{\"Name\":{s:?}}}").into_bytes()),
    ]
}

pub fn method() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
        .prop_map(str::to_owned)
}

pub fn request() -> impl Strategy<Value = WireRequest> {
    (method(), path(), query(), extra_headers(), body()).prop_map(
        |(method, path, query, headers, body)| {
            let mut req = WireRequest::new(&method, &path, &query, &body);
            req.headers.extend(headers);
            req
        },
    )
}
