//! Requests captured from real botocore clients (`securityhub` and `iot`), signed at a fixed
//! time, in the header form and as presigned URLs (`SigV4QueryAuth`): see
//! `fixtures/botocore_vectors.py`, which regenerates the JSON file.

use fleetward_sigv4::{
    RequestParts, SigV4Error, SignatureLocation, SigningParams, parse, sign, verify,
};
use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/botocore_vectors.json");
const SIGNED_AT_MS: i64 = 1_767_270_896_000; // 20260101T123456Z

#[derive(Clone)]
struct Vector {
    name: String,
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// `X-Amz-Expires` of a presigned URL.
    expires_in_ms: i64,
}

impl Vector {
    fn check(&self, secret: &str, now_ms: i64) -> Result<(), SigV4Error> {
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
        verify(&req, &auth, secret, now_ms)
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().expect(key).to_owned()
}

fn vectors(doc: &Value, key: &str) -> Vec<Vector> {
    doc[key]
        .as_array()
        .expect(key)
        .iter()
        .map(|r| Vector {
            name: text(r, "name"),
            method: text(r, "method"),
            path: text(r, "path"),
            query: text(r, "query"),
            headers: r["headers"]
                .as_array()
                .expect("headers")
                .iter()
                .map(|h| (text_at(h, 0), text_at(h, 1)))
                .collect(),
            body: r["body"].as_str().unwrap_or_default().as_bytes().to_vec(),
            expires_in_ms: r["expires_in"].as_i64().unwrap_or_default() * 1000,
        })
        .collect()
}

fn fixture() -> (Value, Vec<Vector>) {
    let doc: Value = serde_json::from_str(FIXTURE).expect("fixture is JSON");
    let requests = vectors(&doc, "requests");
    (doc, requests)
}

fn presigned_fixture() -> (String, Vec<Vector>) {
    let doc: Value = serde_json::from_str(FIXTURE).expect("fixture is JSON");
    (text(&doc, "secret_access_key"), vectors(&doc, "presigned"))
}

fn text_at(v: &Value, i: usize) -> String {
    v[i].as_str().expect("header pair").to_owned()
}

#[test]
fn botocore_requests_verify() {
    let (doc, vectors) = fixture();
    let secret = text(&doc, "secret_access_key");
    assert_eq!(vectors.len(), 10);
    for v in &vectors {
        assert_eq!(v.check(&secret, SIGNED_AT_MS), Ok(()), "{}", v.name);
        assert_eq!(
            v.check("wrong", SIGNED_AT_MS),
            Err(SigV4Error::SignatureMismatch),
            "{}",
            v.name
        );
    }
}

#[test]
fn botocore_requests_fail_when_changed() {
    let (doc, vectors) = fixture();
    let secret = text(&doc, "secret_access_key");
    for v in vectors {
        let mut path = v.clone();
        path.path = path.path.replace("%3A", "%3a");
        if path.path != v.path {
            assert_eq!(
                path.check(&secret, SIGNED_AT_MS),
                Err(SigV4Error::SignatureMismatch),
                "{} path",
                v.name
            );
        }
        let mut body = v.clone();
        body.body.extend_from_slice(b" ");
        assert_eq!(
            body.check(&secret, SIGNED_AT_MS),
            Err(SigV4Error::SignatureMismatch),
            "{} body",
            v.name
        );
        let mut query = v.clone();
        query.query = if v.query.is_empty() {
            "a=1".into()
        } else {
            v.query.replacen('=', "=x", 1)
        };
        assert_eq!(
            query.check(&secret, SIGNED_AT_MS),
            Err(SigV4Error::SignatureMismatch),
            "{} query",
            v.name
        );
        // Unsigned headers (User-Agent, amz-sdk-*) are free to change.
        let mut unsigned = v.clone();
        for (name, value) in &mut unsigned.headers {
            if name.starts_with("amz-sdk") || name == "User-Agent" {
                value.push_str(" changed");
            }
        }
        assert_eq!(
            unsigned.check(&secret, SIGNED_AT_MS),
            Ok(()),
            "{} unsigned",
            v.name
        );
    }
}

#[test]
fn our_signer_matches_botocore() {
    let (doc, vectors) = fixture();
    for v in &vectors {
        let authorization = v.header("authorization");
        let signed_list = authorization
            .split("SignedHeaders=")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .expect("signed headers");
        let signed: Vec<&str> = signed_list.split(';').collect();
        let headers: Vec<(&str, &str)> = v
            .headers
            .iter()
            .filter(|(n, _)| signed.contains(&n.to_ascii_lowercase().as_str()))
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let req = RequestParts {
            method: &v.method,
            raw_path: &v.path,
            raw_query: &v.query,
            headers: &headers,
            body: &v.body,
        };
        let service = v.name.split('.').next().expect("service");
        let params = SigningParams {
            access_key_id: doc["access_key_id"].as_str().expect("akid"),
            secret_access_key: doc["secret_access_key"].as_str().expect("secret"),
            region: doc["region"].as_str().expect("region"),
            service,
            time_ms: SIGNED_AT_MS,
        };
        let ours = sign(&req, &params).expect("signs");
        assert_eq!(ours.authorization, authorization, "{}", v.name);
        assert_eq!(ours.amz_date, v.header("x-amz-date"), "{}", v.name);
    }
}

#[test]
fn botocore_presigned_urls_verify() {
    let (secret, vectors) = presigned_fixture();
    let names: Vec<&str> = vectors.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "securityhub.describe_hub",
            "securityhub.describe_hub",
            "iot.list_things",
            "iot.describe_thing"
        ]
    );
    for v in &vectors {
        assert!(v.query.contains("X-Amz-Signature="), "{}", v.name);
        assert!(v.headers.iter().all(|(n, _)| n != "Authorization"));
        // Any time from signing to expiry, including well past the 15-minute skew.
        for now in [
            SIGNED_AT_MS,
            SIGNED_AT_MS + v.expires_in_ms / 2,
            SIGNED_AT_MS + v.expires_in_ms,
        ] {
            assert_eq!(v.check(&secret, now), Ok(()), "{} at {now}", v.name);
        }
        assert_eq!(
            v.check("wrong", SIGNED_AT_MS),
            Err(SigV4Error::SignatureMismatch),
            "{}",
            v.name
        );
    }
    // The session token is a signed parameter like any other.
    let with_token = &vectors[2];
    assert!(with_token.query.contains("X-Amz-Security-Token="));
    let mut other_token = with_token.clone();
    other_token.query = other_token.query.replace("FAKE", "FAKF");
    assert_eq!(
        other_token.check(&secret, SIGNED_AT_MS),
        Err(SigV4Error::SignatureMismatch)
    );
}

#[test]
fn botocore_presigned_urls_parse_into_their_scope() {
    let (_, vectors) = presigned_fixture();
    for v in &vectors {
        let headers: Vec<(&str, &str)> = v
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let auth = parse(&RequestParts {
            method: &v.method,
            raw_path: &v.path,
            raw_query: &v.query,
            headers: &headers,
            body: &v.body,
        })
        .expect("parses");
        assert_eq!(auth.access_key_id, "AKIAFLEETWARDBOTO001");
        assert_eq!(auth.region, "us-east-1");
        assert_eq!(Some(auth.service.as_str()), v.name.split('.').next());
        assert_eq!(auth.request_time_ms, SIGNED_AT_MS);
        assert_eq!(auth.signed_headers, ["host"]);
        assert_eq!(
            auth.location,
            SignatureLocation::Query {
                expires_s: u32::try_from(v.expires_in_ms / 1000).expect("expires")
            }
        );
    }
}

#[test]
fn botocore_presigned_urls_fail_when_changed() {
    let (secret, vectors) = presigned_fixture();
    let mismatch = Err(SigV4Error::SignatureMismatch);
    for v in vectors {
        let with_query = |query: String| Vector { query, ..v.clone() };
        // Every parameter is signed: the operation's and the X-Amz-* ones.
        let expires_s = v.expires_in_ms / 1000;
        let expires = format!("X-Amz-Expires={expires_s}&");
        let shorter = format!("X-Amz-Expires={}&", expires_s - 1);
        for (from, to) in [
            ("HubArn=arn%3Aaws", "HubArn=arn%3Aaxs"),
            ("maxResults=7", "maxResults=8"),
            (expires.as_str(), shorter.as_str()),
            ("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=HOST"),
        ] {
            if from == expires {
                assert!(v.query.contains(from), "{}", v.name);
            }
            if v.query.contains(from) {
                let changed = with_query(v.query.replacen(from, to, 1));
                assert_eq!(
                    changed.check(&secret, SIGNED_AT_MS),
                    mismatch,
                    "{} {from}",
                    v.name
                );
            }
        }
        let extra = with_query(format!("{}&NextToken=abc", v.query));
        assert_eq!(extra.check(&secret, SIGNED_AT_MS), mismatch, "{}", v.name);

        let signature_at = v.query.find("X-Amz-Signature=").expect("signature") + 16;
        let mut signature = v.query.clone().into_bytes();
        signature[signature_at] = if signature[signature_at] == b'0' {
            b'1'
        } else {
            b'0'
        };
        let bad_signature = with_query(String::from_utf8(signature).expect("ASCII"));
        assert_eq!(
            bad_signature.check(&secret, SIGNED_AT_MS),
            mismatch,
            "{}",
            v.name
        );

        let mut path = v.clone();
        path.path.push('x');
        assert_eq!(path.check(&secret, SIGNED_AT_MS), mismatch, "{}", v.name);
        let mut method = v.clone();
        method.method = "DELETE".into();
        assert_eq!(method.check(&secret, SIGNED_AT_MS), mismatch, "{}", v.name);
        let mut host = v.clone();
        host.headers[0].1 = "localhost:4567".into();
        assert_eq!(host.check(&secret, SIGNED_AT_MS), mismatch, "{}", v.name);
        // botocore hashed an empty body: a body is not covered, so it fails.
        let mut body = v.clone();
        body.body = b"{}".to_vec();
        assert_eq!(body.check(&secret, SIGNED_AT_MS), mismatch, "{}", v.name);
    }
}

#[test]
fn botocore_presigned_urls_expire() {
    let (secret, vectors) = presigned_fixture();
    for v in &vectors {
        let expires_at = SIGNED_AT_MS + v.expires_in_ms;
        match v.check(&secret, expires_at + 1) {
            Err(e @ SigV4Error::RequestExpired { .. }) => {
                assert_eq!(e.message(), "Request has expired");
                assert_eq!((e.code(), e.status()), ("InvalidSignatureException", 403));
            }
            other => panic!("{}: expected RequestExpired, got {other:?}", v.name),
        }
        // Not usable more than 15 minutes before its date either.
        assert!(matches!(
            v.check(&secret, SIGNED_AT_MS - 15 * 60_000 - 1),
            Err(SigV4Error::SignatureNotYetCurrent { .. })
        ));
        assert_eq!(v.check(&secret, SIGNED_AT_MS - 15 * 60_000), Ok(()));
    }
}
