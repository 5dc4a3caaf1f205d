//! What Device Defender mitigation actions change in the registry in bulk: one mitigation
//! task may deactivate a hundred thousand certificates, so they change in batches (one
//! registry commit per batch) instead of one UpdateCertificate each.

use crate::Registry;
use crate::error::{RegistryError, RegistryResult};
use crate::names;
use crate::persist;
use crate::records::{CertId, CertStatus};

impl Registry {
    /// Deactivates device certificates (UPDATE_DEVICE_CERTIFICATE DEACTIVATE), each on its
    /// own: the answer has one result per id, in order. `Ok(true)` when it was made INACTIVE,
    /// `Ok(false)` when it already could not connect (INACTIVE or REVOKED: deactivating is
    /// idempotent). The gateway closes the live connections of every deactivated certificate
    /// after the commit.
    pub async fn deactivate_certificates(
        &self,
        account: &str,
        ids: &[String],
    ) -> RegistryResult<Vec<RegistryResult<bool>>> {
        self.mutate(account, |state, changes| {
            let mut results = Vec::with_capacity(ids.len());
            for text in ids {
                let result = (|| {
                    let id_text = names::certificate_id(text)?;
                    let not_found = || {
                        RegistryError::not_found(format!(
                            "The certificate {id_text} does not exist."
                        ))
                    };
                    let id: CertId = id_text.parse().map_err(|_| not_found())?;
                    let current = state.certificates.get(&id).ok_or_else(not_found)?;
                    match current.status {
                        CertStatus::Inactive | CertStatus::Revoked => return Ok(false),
                        CertStatus::PendingTransfer => {
                            return Err(RegistryError::CertificateState(
                                "Certificate is pending transfer.".into(),
                            ));
                        }
                        _ => {}
                    }
                    let mut cert = current.clone();
                    cert.status = CertStatus::Inactive;
                    cert.last_modified_ms = changes.now_ms();
                    cert.customer_version += 1;
                    cert.generation_id = uuid::Uuid::new_v4();
                    changes.put(persist::CERT, &id_text, &cert);
                    state.insert_certificate(cert);
                    Ok(true)
                })();
                results.push(result);
            }
            Ok(results)
        })
        .await
    }

    /// The things a device certificate is attached to (ADD_THINGS_TO_THING_GROUP on a
    /// certificate finding acts on them).
    pub fn things_of_certificate(&self, account: &str, certificate_id: &str) -> Vec<String> {
        let arn = self.cert_arn_text(account, &certificate_id.to_ascii_lowercase());
        self.read(account, |state| {
            state
                .principal_things
                .get(&arn)
                .map(|things| things.iter().cloned().collect())
                .unwrap_or_default()
        })
    }

    fn cert_arn_text(&self, account: &str, id: &str) -> String {
        self.arn(account, &format!("cert/{id}"))
    }
}
