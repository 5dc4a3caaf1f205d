//! Requests captured from real botocore clients (`securityhub` and `iot`), signed at a fixed
//! time: see `fixtures/botocore_vectors.py`, which regenerates the JSON file.

use fleetward_sigv4::{RequestParts, SigV4Error, SigningParams, parse, sign, verify};
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

fn fixture() -> (Value, Vec<Vector>) {
    let doc: Value = serde_json::from_str(FIXTURE).expect("fixture is JSON");
    let vectors = doc["requests"]
        .as_array()
        .expect("requests")
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
            body: text(r, "body").into_bytes(),
        })
        .collect();
    (doc, vectors)
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
