//! The checks on the gateway's connection history (spec 1.3): a certificate used by several
//! concurrent connections, and client ids whose connections took each other over.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use fleetward_store::ConnectionEvent;

use super::{Inputs, NewFinding, Outcome, ms_text};
use crate::model::{Resource, ResourceIdentifier};

/// Related resources listed per shared-certificate finding (most recent first).
const MAX_RELATED: usize = 100;

/// One connection: who, and when it was open within the window.
#[derive(Debug, Clone)]
struct Session<'a> {
    certificate: &'a str,
    client_id: &'a str,
    from_ms: i64,
    /// `None`: still open at the end of the window.
    to_ms: Option<i64>,
}

/// Pairs CONNECTED and DISCONNECTED events of the same connection (certificate, client id,
/// source address). A connection open before the window starts at the window's start.
fn sessions<'a>(events: &'a [ConnectionEvent], window_from_ms: i64) -> Vec<Session<'a>> {
    type Key<'a> = (&'a str, &'a str, &'a str, i64);
    let mut open: HashMap<Key<'a>, usize> = HashMap::new();
    let mut out: Vec<Session<'a>> = Vec::new();
    for e in events {
        if e.certificate_id.is_empty() {
            continue;
        }
        let key = (
            e.certificate_id.as_str(),
            e.client_id.as_str(),
            e.source_ip.as_str(),
            e.source_port,
        );
        match e.kind.as_str() {
            "CONNECTED" => {
                open.insert(key, out.len());
                out.push(Session {
                    certificate: &e.certificate_id,
                    client_id: &e.client_id,
                    from_ms: e.time_ms,
                    to_ms: None,
                });
            }
            "DISCONNECTED" => match open.remove(&key) {
                Some(i) => out[i].to_ms = Some(e.time_ms),
                None => out.push(Session {
                    certificate: &e.certificate_id,
                    client_id: &e.client_id,
                    from_ms: window_from_ms,
                    to_ms: Some(e.time_ms),
                }),
            },
            _ => {}
        }
    }
    out
}

pub fn shared_certificates(inputs: &Inputs) -> Outcome {
    let sessions = sessions(&inputs.connections, inputs.window_from_ms);
    let mut by_cert: BTreeMap<&str, Vec<&Session>> = BTreeMap::new();
    for s in &sessions {
        by_cert.entry(s.certificate).or_default().push(s);
    }
    let end = inputs.window_to_ms;
    let mut outcome = Outcome {
        total: by_cert.len() as u64,
        findings: Vec::new(),
    };
    for (cert, mut list) in by_cert {
        list.sort_by_key(|s| s.from_ms);
        // Overlapping sessions of different client ids: the certificate is in two places.
        let mut shared = false;
        for (i, a) in list.iter().enumerate() {
            let a_end = a.to_ms.unwrap_or(end);
            if list[i + 1..]
                .iter()
                .take_while(|b| b.from_ms < a_end)
                .any(|b| b.client_id != a.client_id)
            {
                shared = true;
                break;
            }
        }
        if !shared || cert.len() != 64 {
            continue;
        }
        let mut related: Vec<&Session> = list.clone();
        related.sort_by_key(|s| std::cmp::Reverse(s.from_ms));
        let related = related
            .into_iter()
            .take(MAX_RELATED)
            .map(|s| {
                let mut r = Resource::new("CLIENT_ID", ResourceIdentifier::client_id(s.client_id))
                    .with_info("CONNECTION_TIME", ms_text(s.from_ms));
                if let Some(to) = s.to_ms {
                    r = r.with_info("DISCONNECTION_TIME", ms_text(to));
                }
                r
            })
            .collect();
        outcome.findings.push(
            NewFinding::new(
                Resource::new(
                    "DEVICE_CERTIFICATE",
                    ResourceIdentifier::device_certificate(cert),
                ),
                "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES",
                "Certificate shared by one or more devices.",
            )
            .with_related(related),
        );
    }
    outcome
}

/// A client id is non-compliant when, in the window, one of its connections was closed
/// because another connection with the same client id took over (`DUPLICATE_CLIENTID`).
pub fn conflicting_client_ids(inputs: &Inputs) -> Outcome {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut takeovers: BTreeMap<&str, Vec<&ConnectionEvent>> = BTreeMap::new();
    for e in &inputs.connections {
        if e.client_id.is_empty() {
            continue;
        }
        seen.insert(&e.client_id);
        if e.kind == "DISCONNECTED" && e.reason == "DUPLICATE_CLIENTID" {
            takeovers.entry(&e.client_id).or_default().push(e);
        }
    }
    let mut outcome = Outcome {
        total: seen.len() as u64,
        findings: Vec::new(),
    };
    for (client_id, events) in takeovers {
        let mut principals: BTreeMap<&str, i64> = BTreeMap::new();
        for e in &events {
            let last = principals.entry(&e.certificate_id).or_insert(e.time_ms);
            *last = (*last).max(e.time_ms);
        }
        let related = principals
            .into_iter()
            .filter(|(cert, _)| cert.len() == 64)
            .map(|(cert, at)| {
                Resource::new(
                    "DEVICE_CERTIFICATE",
                    ResourceIdentifier::device_certificate(cert),
                )
                .with_info("DISCONNECTION_TIME", ms_text(at))
            })
            .collect();
        let last = events.iter().map(|e| e.time_ms).max().unwrap_or_default();
        outcome.findings.push(
            NewFinding::new(
                Resource::new("CLIENT_ID", ResourceIdentifier::client_id(client_id))
                    .with_info("DISCONNECTION_COUNT", events.len().to_string())
                    .with_info("LAST_DISCONNECTION_TIME", ms_text(last)),
                "DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS",
                format!(
                    "Client id used by multiple connections: {} connections were disconnected because another connection took over the client id.",
                    events.len()
                ),
            )
            .with_related(related),
        );
    }
    outcome
}
