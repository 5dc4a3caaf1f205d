//! The CRL-based checks: device certificates and CA certificates revoked by their issuer but
//! still usable, and intermediate CAs revoked while device certificates below them are active.

use std::collections::HashMap;

use fleetward_registry::CertId;

use super::certificates::{ca_in_use, in_use};
use super::{Inputs, NewFinding, Outcome};
use crate::crl::IssuerRef;
use crate::facts::CertFacts;
use crate::model::{IssuerCertificateIdentifier, Resource, ResourceIdentifier};

/// Registered CA certificates by subject name, with their public keys.
struct Issuers<'a> {
    by_subject: HashMap<&'a [u8], Vec<(&'a CertId, &'a CertFacts)>>,
}

impl<'a> Issuers<'a> {
    fn new(inputs: &'a Inputs) -> Self {
        let mut by_subject: HashMap<&[u8], Vec<_>> = HashMap::new();
        for ca in &inputs.view.ca_certificates {
            if let Some(facts) = inputs.ca_facts.get(&ca.id) {
                by_subject
                    .entry(&facts.subject[..])
                    .or_default()
                    .push((&ca.id, facts));
            }
        }
        Self { by_subject }
    }

    /// Whether `facts` (a device or CA certificate) is on a trusted CRL of its issuer; `own`
    /// is the certificate's own id when it is a CA (a CA never vouches for itself).
    fn revoked(&self, inputs: &Inputs, facts: &CertFacts, own: Option<&CertId>) -> bool {
        let keys: Vec<&[u8]> = self
            .by_subject
            .get(&facts.issuer[..])
            .into_iter()
            .flatten()
            .filter(|(id, _)| Some(*id) != own)
            .filter(
                |(_, f)| match (&facts.authority_key_id, &f.subject_key_id) {
                    (Some(aki), Some(ski)) => aki[..] == ski[..],
                    _ => true,
                },
            )
            .filter_map(|(_, f)| f.spki.as_deref())
            .collect();
        let issuer = IssuerRef {
            name: &facts.issuer,
            authority_key_id: facts.authority_key_id.as_deref(),
            known_keys: &keys,
        };
        inputs.crls.is_revoked(&issuer, &facts.serial)
    }
}

fn is_self_issued(facts: &CertFacts) -> bool {
    facts.issuer[..] == facts.subject[..]
}

pub fn revoked_devices(inputs: &Inputs) -> Outcome {
    let issuers = Issuers::new(inputs);
    let mut outcome = Outcome::default();
    for cert in inputs.view.certificates.iter().filter(|c| in_use(c)) {
        outcome.total += 1;
        let Some(facts) = inputs.cert_facts.get(&cert.id) else {
            continue;
        };
        if !issuers.revoked(inputs, facts, None) {
            continue;
        }
        let mut finding = NewFinding::new(
            Resource::new(
                "DEVICE_CERTIFICATE",
                ResourceIdentifier::device_certificate(&cert.id.to_string()),
            ),
            "CERTIFICATE_REVOKED_BY_ISSUER",
            "Certificate is revoked by its issuer but still active.",
        );
        if let Some(ca) = cert.ca_id {
            finding.related.push(Resource::new(
                "CA_CERTIFICATE",
                ResourceIdentifier::ca_certificate(&ca.to_string()),
            ));
        }
        outcome.findings.push(finding);
    }
    outcome
}

pub fn revoked_cas(inputs: &Inputs) -> Outcome {
    let issuers = Issuers::new(inputs);
    let mut outcome = Outcome::default();
    for ca in inputs.view.ca_certificates.iter().filter(|c| ca_in_use(c)) {
        outcome.total += 1;
        let Some(facts) = inputs.ca_facts.get(&ca.id) else {
            continue;
        };
        if is_self_issued(facts) || !issuers.revoked(inputs, facts, Some(&ca.id)) {
            continue;
        }
        outcome.findings.push(NewFinding::new(
            Resource::new(
                "CA_CERTIFICATE",
                ResourceIdentifier::ca_certificate(&ca.id.to_string()),
            ),
            "CERTIFICATE_REVOKED_BY_ISSUER",
            "CA certificate is revoked by its issuer but still active.",
        ));
    }
    outcome
}

/// Registered CA certificates that are not self-issued are the intermediates; each revoked
/// one with active device certificates registered under it is a finding, the device
/// certificates its related resources (ListRelatedResourcesForAuditFinding pages them).
pub fn revoked_intermediates(inputs: &Inputs) -> Outcome {
    let issuers = Issuers::new(inputs);
    let mut below: HashMap<&CertId, Vec<&CertId>> = HashMap::new();
    for cert in inputs.view.certificates.iter().filter(|c| in_use(c)) {
        if let Some(ca) = &cert.ca_id {
            below.entry(ca).or_default().push(&cert.id);
        }
    }
    let mut outcome = Outcome::default();
    for ca in &inputs.view.ca_certificates {
        let Some(facts) = inputs.ca_facts.get(&ca.id) else {
            continue;
        };
        if is_self_issued(facts) {
            continue;
        }
        outcome.total += 1;
        let Some(devices) = below.get(&ca.id) else {
            continue;
        };
        if !issuers.revoked(inputs, facts, Some(&ca.id)) {
            continue;
        }
        let related = devices
            .iter()
            .map(|id| {
                Resource::new(
                    "DEVICE_CERTIFICATE",
                    ResourceIdentifier::device_certificate(&id.to_string()),
                )
            })
            .collect();
        let identifier = ResourceIdentifier {
            issuer_certificate_identifier: Some(IssuerCertificateIdentifier {
                issuer_certificate_subject: Some(facts.subject_text.to_string()),
                issuer_id: Some(ca.id.to_string()),
                issuer_certificate_serial_number: Some(facts.serial_hex()),
            }),
            ..ResourceIdentifier::default()
        };
        outcome.findings.push(
            NewFinding::new(
                Resource::new("ISSUER_CERTIFICATE", identifier)
                    .with_info("ACTIVE_DEVICE_CERTIFICATES", devices.len().to_string()),
                "INTERMEDIATE_CA_REVOKED_BY_ISSUER",
                format!(
                    "Intermediate CA is revoked by its issuer; {} active device certificates are issued by it.",
                    devices.len()
                ),
            )
            .with_related(related),
        );
    }
    outcome
}
