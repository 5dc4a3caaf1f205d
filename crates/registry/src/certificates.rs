//! Device certificates and CA certificates: issuing through Fleetward's CA, registering
//! certificates made elsewhere, the AWS state rules, and the listings.

use fleetward_ca::{
    ParsedCertificate, check_verification_certificate, is_signed_by, parse_certificate_pem,
};
use serde_json::{Value, json};

use crate::error::{RegistryError, RegistryResult};
use crate::input::Input;
use crate::names;
use crate::paging;
use crate::persist;
use crate::records::{CaCertificate, CertId, CertMode, CertStatus, Certificate};
use crate::state::AccountState;
use crate::{Caller, Registry, epoch_seconds, new_id};

/// AWS quota: CA certificates with the same subject per account.
const MAX_CAS_PER_SUBJECT: usize = 10;

fn cert_id_of(parsed: &ParsedCertificate) -> RegistryResult<CertId> {
    parsed
        .id
        .parse()
        .map_err(|_| RegistryError::Internal("certificate id is not hex".into()))
}

fn cert_not_found(id: &str) -> RegistryError {
    RegistryError::not_found(format!("The certificate {id} does not exist."))
}

fn ca_not_found(id: &str) -> RegistryError {
    RegistryError::not_found(format!("The CA certificate {id} does not exist."))
}

fn parse_pem(pem: &str) -> RegistryResult<ParsedCertificate> {
    parse_certificate_pem(pem)
        .map_err(|e| RegistryError::CertificateValidation(e.message().to_string()))
}

fn check_validity(parsed: &ParsedCertificate, now_ms: i64) -> RegistryResult<()> {
    if parsed.not_after_ms < now_ms {
        return Err(RegistryError::CertificateValidation(
            "The certificate has expired.".into(),
        ));
    }
    Ok(())
}

/// Status of a registration: `status` if given, else ACTIVE when `setAsActive`.
fn registration_status(input: &Input) -> RegistryResult<CertStatus> {
    if let Some(text) = input.opt_str("status")? {
        return CertStatus::parse(text)
            .ok_or_else(|| RegistryError::invalid(format!("{text} is not a certificate status.")));
    }
    Ok(if input.bool_or("setAsActive", false)? {
        CertStatus::Active
    } else {
        CertStatus::Inactive
    })
}

impl Registry {
    pub(crate) fn cert_arn(&self, account: &str, id: &CertId) -> String {
        self.arn(account, &format!("cert/{id}"))
    }

    fn ca_arn(&self, account: &str, id: &CertId) -> String {
        self.arn(account, &format!("cacert/{id}"))
    }

    /// Whether another account holds this certificate, and in which mode: a certificate in
    /// DEFAULT mode belongs to one account only, because the gateway finds the account from
    /// the certificate (multi-account registration needs SNI_ONLY, as in AWS).
    fn mode_elsewhere(&self, account: &str, id: &CertId) -> Option<CertMode> {
        let accounts = self
            .accounts
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        accounts
            .iter()
            .filter(|(a, _)| a.as_str() != account)
            .find_map(|(_, state)| state.certificates.get(id).map(|c| c.mode))
    }

    /// Whether another account holds this CA certificate in DEFAULT mode: AWS lets only
    /// one account register a CA in DEFAULT mode.
    fn default_ca_elsewhere(&self, account: &str, id: &CertId) -> bool {
        let accounts = self
            .accounts
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        accounts
            .iter()
            .filter(|(a, _)| a.as_str() != account)
            .any(|(_, state)| {
                state
                    .ca_certificates
                    .get(id)
                    .is_some_and(|c| c.mode == "DEFAULT")
            })
    }

    /// Stores a new device certificate (record and PEM) in the account.
    async fn add_certificate(
        &self,
        account: &str,
        parsed: ParsedCertificate,
        status: CertStatus,
        mode: CertMode,
        ca_id: Option<CertId>,
    ) -> RegistryResult<(CertId, String)> {
        let id = cert_id_of(&parsed)?;
        if let Some(other_mode) = self.mode_elsewhere(account, &id)
            && (mode == CertMode::Default || other_mode == CertMode::Default)
        {
            return Err(RegistryError::CertificateConflict(
                "The certificate is already registered in another account; register it with certificateMode SNI_ONLY (RegisterCertificateWithoutCA) in every account to share it.".into(),
            ));
        }
        let arn = self.cert_arn(account, &id);
        self.mutate(account, |state, changes| {
            if state.certificates.contains_key(&id) {
                return Err(RegistryError::already_exists(
                    "The certificate is already provisioned or registered",
                    &id.to_string(),
                    &arn,
                ));
            }
            let now = changes.now_ms();
            let cert = Certificate {
                id,
                status,
                mode,
                ca_id,
                created_ms: now,
                last_modified_ms: now,
                customer_version: 1,
                generation_id: uuid::Uuid::new_v4(),
                not_before_ms: parsed.not_before_ms,
                not_after_ms: parsed.not_after_ms,
            };
            changes.put(persist::CERT, &id.to_string(), &cert);
            changes.put(persist::CERT_PEM, &id.to_string(), &parsed.pem);
            state.insert_certificate(cert);
            Ok((id, arn.clone()))
        })
        .await
    }

    pub async fn handle_create_keys_and_certificate(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let status = if input.bool_or("setAsActive", false)? {
            CertStatus::Active
        } else {
            CertStatus::Inactive
        };
        let issued = self
            .ca
            .issue_keys_and_certificate(self.clock.now_ms())
            .map_err(|e| RegistryError::Internal(e.message().to_string()))?;
        let parsed = parse_pem(&issued.certificate_pem)?;
        let pem = parsed.pem.clone();
        let (id, arn) = self
            .add_certificate(&caller.account_id, parsed, status, CertMode::Default, None)
            .await?;
        Ok(json!({
            "certificateArn": arn,
            "certificateId": id.to_string(),
            "certificatePem": pem,
            "keyPair": {"PublicKey": issued.public_key_pem, "PrivateKey": issued.private_key_pem},
        }))
    }

    pub async fn handle_create_certificate_from_csr(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let csr = input.req_str("certificateSigningRequest")?;
        if csr.len() > 4096 {
            return Err(RegistryError::invalid(
                "certificateSigningRequest is longer than 4096 characters.",
            ));
        }
        let status = if input.bool_or("setAsActive", false)? {
            CertStatus::Active
        } else {
            CertStatus::Inactive
        };
        let pem = self
            .ca
            .sign_csr(csr, self.clock.now_ms())
            .map_err(|e| RegistryError::invalid(e.message().to_string()))?;
        let parsed = parse_pem(&pem)?;
        let pem = parsed.pem.clone();
        let (id, arn) = self
            .add_certificate(&caller.account_id, parsed, status, CertMode::Default, None)
            .await?;
        Ok(json!({"certificateArn": arn, "certificateId": id.to_string(), "certificatePem": pem}))
    }

    pub async fn handle_register_certificate(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let parsed = parse_pem(input.req_str("certificatePem")?)?;
        let given_ca = input
            .opt_str("caCertificatePem")?
            .map(parse_pem)
            .transpose()?;
        let status = registration_status(&input)?;
        check_validity(&parsed, self.clock.now_ms())?;
        let account = &caller.account_id;
        // The issuing CA must be registered in the account and active.
        let (ca_id, mode) = self.read(account, |state| {
            let id = find_issuer(state, &parsed, given_ca.as_ref())?;
            // A device certificate takes the mode of the CA that signed it (AWS docs).
            let mode = state
                .ca_certificates
                .get(&id)
                .and_then(|c| CertMode::parse(&c.mode))
                .unwrap_or(CertMode::Default);
            Ok::<_, RegistryError>((id, mode))
        })?;
        let (id, arn) = self
            .add_certificate(account, parsed, status, mode, Some(ca_id))
            .await?;
        Ok(json!({"certificateArn": arn, "certificateId": id.to_string()}))
    }

    pub async fn handle_register_certificate_without_ca(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let parsed = parse_pem(input.req_str("certificatePem")?)?;
        let status = registration_status(&input)?;
        check_validity(&parsed, self.clock.now_ms())?;
        let (id, arn) = self
            .add_certificate(&caller.account_id, parsed, status, CertMode::SniOnly, None)
            .await?;
        Ok(json!({"certificateArn": arn, "certificateId": id.to_string()}))
    }

    pub async fn handle_describe_certificate(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let id_text = names::certificate_id(Input(input).req_str("certificateId")?)?;
        let id: CertId = id_text.parse().map_err(|_| cert_not_found(&id_text))?;
        let account = &caller.account_id;
        let cert = self
            .read(account, |state| state.certificates.get(&id).cloned())
            .ok_or_else(|| cert_not_found(&id_text))?;
        let pem: String = match self
            .store
            .get_document(account, persist::CERT_PEM, &id_text)
            .await?
        {
            Some(doc) => persist::decode(&doc)?,
            None => return Err(cert_not_found(&id_text)),
        };
        let mut description = json!({
            "certificateArn": self.cert_arn(account, &id),
            "certificateId": id_text,
            "status": cert.status.as_str(),
            "certificatePem": pem,
            "ownedBy": account,
            "creationDate": epoch_seconds(cert.created_ms),
            "lastModifiedDate": epoch_seconds(cert.last_modified_ms),
            "customerVersion": cert.customer_version,
            "transferData": {},
            "generationId": cert.generation_id,
            "validity": {"notBefore": epoch_seconds(cert.not_before_ms), "notAfter": epoch_seconds(cert.not_after_ms)},
            "certificateMode": cert.mode.as_str(),
        });
        if let Some(ca) = cert.ca_id {
            description["caCertificateId"] = json!(ca.to_string());
        }
        Ok(json!({"certificateDescription": description}))
    }

    pub async fn handle_update_certificate(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let id_text = names::certificate_id(input.req_str("certificateId")?)?;
        let new_text = input.req_str("newStatus")?;
        let new_status = match CertStatus::parse(new_text) {
            Some(s @ (CertStatus::Active | CertStatus::Inactive | CertStatus::Revoked)) => s,
            Some(_) => {
                return Err(RegistryError::invalid(format!(
                    "A certificate cannot be set to {new_text} with UpdateCertificate."
                )));
            }
            None => {
                return Err(RegistryError::invalid(format!(
                    "{new_text} is not a certificate status."
                )));
            }
        };
        let id: CertId = id_text.parse().map_err(|_| cert_not_found(&id_text))?;
        self.mutate(&caller.account_id, |state, changes| {
            let current = state
                .certificates
                .get(&id)
                .ok_or_else(|| cert_not_found(&id_text))?;
            match current.status {
                CertStatus::Revoked if new_status != CertStatus::Revoked => {
                    return Err(RegistryError::CertificateState(
                        "Certificate is revoked; a revoked certificate cannot change state.".into(),
                    ));
                }
                CertStatus::PendingTransfer => {
                    return Err(RegistryError::CertificateState(
                        "Certificate is pending transfer.".into(),
                    ));
                }
                _ => {}
            }
            if new_status == CertStatus::Active
                && let Some(ca) = current.ca_id
                && state
                    .ca_certificates
                    .get(&ca)
                    .is_none_or(|c| c.status != "ACTIVE")
            {
                return Err(RegistryError::CertificateState(format!(
                    "The CA certificate {ca} that signed this certificate is not active."
                )));
            }
            if current.status == new_status {
                return Ok(json!({}));
            }
            let mut cert = current.clone();
            cert.status = new_status;
            cert.last_modified_ms = changes.now_ms();
            cert.customer_version += 1;
            cert.generation_id = uuid::Uuid::new_v4();
            changes.put(persist::CERT, &id_text, &cert);
            state.insert_certificate(cert);
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_delete_certificate(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let id_text = names::certificate_id(input.req_str("certificateId")?)?;
        let force = input.bool_or("forceDelete", false)?;
        let id: CertId = id_text.parse().map_err(|_| cert_not_found(&id_text))?;
        let account = &caller.account_id;
        let arn = self.cert_arn(account, &id);
        self.mutate(account, |state, changes| {
            let cert = state
                .certificates
                .get(&id)
                .ok_or_else(|| cert_not_found(&id_text))?;
            if matches!(
                cert.status,
                CertStatus::Active | CertStatus::PendingTransfer
            ) {
                return Err(RegistryError::CertificateState(format!(
                    "Certificate {id_text} is {}; deactivate or revoke it before deleting it.",
                    cert.status.as_str()
                )));
            }
            if state
                .principal_things
                .get(&arn)
                .is_some_and(|t| !t.is_empty())
            {
                return Err(RegistryError::DeleteConflict(
                    "Things are attached to the certificate; detach them first.".into(),
                ));
            }
            let policies: Vec<String> = state.policies_of(&arn).cloned().collect();
            if !policies.is_empty() && !force {
                return Err(RegistryError::DeleteConflict(
                    "Policies are attached to the certificate; detach them or use forceDelete."
                        .into(),
                ));
            }
            for policy in policies {
                changes.delete(persist::POLICY_TARGET, &format!("{policy}|{arn}"));
                state.detach(&policy, &arn);
            }
            changes.delete(persist::CERT, &id_text);
            changes.delete(persist::CERT_PEM, &id_text);
            state.remove_certificate(&id);
            Ok(json!({}))
        })
        .await
    }

    fn certificate_page(
        &self,
        account: &str,
        state: &AccountState,
        set: Option<&std::collections::BTreeSet<(i64, CertId)>>,
        input: &Input,
    ) -> RegistryResult<Value> {
        let limit = paging::page_size(input, "pageSize")?;
        let ascending = input.bool_or("ascendingOrder", false)?;
        let after = match paging::decode(input, "marker")? {
            Some(cursor) => {
                let (ms, id) = paging::parse_created_cursor(&cursor, "marker")?;
                let id: CertId = id
                    .parse()
                    .map_err(|_| RegistryError::invalid("The marker is not valid."))?;
                Some((ms, id))
            }
            None => None,
        };
        let empty = Default::default();
        let set = set.unwrap_or(&empty);
        let (page, more) = paging::page_of(set, after.as_ref(), ascending, limit);
        let items: Vec<Value> = page
            .iter()
            .filter_map(|(_, id)| state.certificates.get(id))
            .map(|c| {
                json!({
                    "certificateArn": self.cert_arn(account, &c.id),
                    "certificateId": c.id.to_string(),
                    "status": c.status.as_str(),
                    "certificateMode": c.mode.as_str(),
                    "creationDate": epoch_seconds(c.created_ms),
                })
            })
            .collect();
        let mut out = json!({"certificates": items});
        if more && let Some((ms, id)) = page.last() {
            out["nextMarker"] = json!(paging::encode(&paging::created_cursor(
                *ms,
                &id.to_string()
            )));
        }
        Ok(out)
    }

    pub async fn handle_list_certificates(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let account = &caller.account_id;
        self.read(account, |state| {
            self.certificate_page(
                account,
                state,
                Some(&state.certificates_by_created),
                &Input(input),
            )
        })
    }

    pub async fn handle_list_certificates_by_ca(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let ca_text = names::certificate_id(input.req_str("caCertificateId")?)?;
        let ca: CertId = ca_text.parse().map_err(|_| ca_not_found(&ca_text))?;
        let account = &caller.account_id;
        self.read(account, |state| {
            self.certificate_page(account, state, state.certificates_by_ca.get(&ca), &input)
        })
    }

    // ---- CA certificates ----

    pub async fn handle_get_registration_code(
        &self,
        caller: &Caller,
        _input: &Value,
    ) -> RegistryResult<Value> {
        self.mutate(&caller.account_id, |state, changes| {
            let code = match &state.registration_code {
                Some(code) => code.clone(),
                None => {
                    let code = fleetward_ca::new_registration_code();
                    changes.put(persist::REGISTRATION_CODE, "code", &code);
                    state.registration_code = Some(code.clone());
                    code
                }
            };
            Ok(json!({"registrationCode": code}))
        })
        .await
    }

    pub async fn handle_register_ca_certificate(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let ca = parse_pem(input.req_str("caCertificate")?)?;
        let mode = input.opt_str("certificateMode")?.unwrap_or("DEFAULT");
        if !matches!(mode, "DEFAULT" | "SNI_ONLY") {
            return Err(RegistryError::invalid(format!(
                "{mode} is not a certificate mode."
            )));
        }
        let verification = input
            .opt_str("verificationCertificate")?
            .map(parse_pem)
            .transpose()?;
        if mode == "SNI_ONLY" && verification.is_some() {
            return Err(RegistryError::invalid(
                "verificationCertificate must be empty for a CA certificate in SNI_ONLY mode.",
            ));
        }
        if mode == "DEFAULT" && verification.is_none() {
            return Err(RegistryError::invalid(
                "verificationCertificate is required to register a CA certificate in DEFAULT mode.",
            ));
        }
        let status = if input.bool_or("setAsActive", false)? {
            "ACTIVE"
        } else {
            "INACTIVE"
        };
        let auto = if input.bool_or("allowAutoRegistration", false)? {
            "ENABLE"
        } else {
            "DISABLE"
        };
        let registration_config = input.get("registrationConfig").cloned();
        let tags = crate::misc::tags_member(&input, "tags")?;
        if !ca.is_ca {
            return Err(RegistryError::CertificateValidation(
                "The certificate is not a CA certificate (basicConstraints CA:TRUE).".into(),
            ));
        }
        check_validity(&ca, self.clock.now_ms())?;
        let id = cert_id_of(&ca)?;
        let account = &caller.account_id;
        let arn = self.ca_arn(account, &id);
        if mode == "DEFAULT" && self.default_ca_elsewhere(account, &id) {
            return Err(RegistryError::invalid(
                "The CA certificate is registered in DEFAULT mode by another account; register it with certificateMode SNI_ONLY.",
            ));
        }
        self.mutate(account, |state, changes| {
            if let Some(verification) = &verification {
                let code = state.registration_code.as_deref().ok_or_else(|| {
                    RegistrationCode::missing()
                })?;
                check_verification_certificate(&ca, verification, code).map_err(|e| {
                    RegistryError::RegistrationCodeValidation(e.message().to_string())
                })?;
            }
            if state.ca_certificates.contains_key(&id) {
                return Err(RegistryError::already_exists(
                    "The CA certificate is already registered.",
                    &id.to_string(),
                    &arn,
                ));
            }
            let same_subject = state.ca_certificates.values().filter(|c| c.subject == ca.subject).count();
            if same_subject >= MAX_CAS_PER_SUBJECT {
                return Err(RegistryError::LimitExceeded(format!(
                    "At most {MAX_CAS_PER_SUBJECT} CA certificates with the same subject can be registered."
                )));
            }
            let now = changes.now_ms();
            let record = CaCertificate {
                id,
                status: status.to_string(),
                auto_registration: auto.to_string(),
                registration_config,
                mode: mode.to_string(),
                subject: ca.subject.clone(),
                pem: ca.pem.clone(),
                created_ms: now,
                last_modified_ms: now,
                customer_version: 1,
                generation_id: new_id(),
                not_before_ms: ca.not_before_ms,
                not_after_ms: ca.not_after_ms,
            };
            changes.put(persist::CA_CERT, &id.to_string(), &record);
            crate::misc::set_tags(state, changes, &arn, tags);
            state.insert_ca(record);
            Ok(json!({"certificateArn": arn, "certificateId": id.to_string()}))
        })
        .await
    }

    pub async fn handle_describe_ca_certificate(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let id_text = names::certificate_id(Input(input).req_str("caCertificateId")?)?;
        let id: CertId = id_text.parse().map_err(|_| ca_not_found(&id_text))?;
        let account = &caller.account_id;
        self.read(account, |state| {
            let ca = state.ca_certificates.get(&id).ok_or_else(|| ca_not_found(&id_text))?;
            let mut out = json!({
                "certificateDescription": {
                    "certificateArn": self.ca_arn(account, &id),
                    "certificateId": id_text,
                    "status": ca.status,
                    "certificatePem": ca.pem,
                    "ownedBy": account,
                    "creationDate": epoch_seconds(ca.created_ms),
                    "autoRegistrationStatus": ca.auto_registration,
                    "lastModifiedDate": epoch_seconds(ca.last_modified_ms),
                    "customerVersion": ca.customer_version,
                    "generationId": ca.generation_id,
                    "validity": {"notBefore": epoch_seconds(ca.not_before_ms), "notAfter": epoch_seconds(ca.not_after_ms)},
                    "certificateMode": ca.mode,
                }
            });
            if let Some(config) = &ca.registration_config {
                out["registrationConfig"] = config.clone();
            }
            Ok(out)
        })
    }

    pub async fn handle_update_ca_certificate(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let id_text = names::certificate_id(input.req_str("caCertificateId")?)?;
        let new_status = input.opt_str("newStatus")?;
        if let Some(s) = new_status
            && !matches!(s, "ACTIVE" | "INACTIVE")
        {
            return Err(RegistryError::invalid(format!(
                "{s} is not a CA certificate status."
            )));
        }
        let new_auto = input.opt_str("newAutoRegistrationStatus")?;
        if let Some(s) = new_auto
            && !matches!(s, "ENABLE" | "DISABLE")
        {
            return Err(RegistryError::invalid(format!(
                "{s} is not an auto-registration status."
            )));
        }
        let config = input.get("registrationConfig").cloned();
        let remove_auto = input.bool_or("removeAutoRegistration", false)?;
        let id: CertId = id_text.parse().map_err(|_| ca_not_found(&id_text))?;
        self.mutate(&caller.account_id, |state, changes| {
            let mut ca = state
                .ca_certificates
                .get(&id)
                .ok_or_else(|| ca_not_found(&id_text))?
                .clone();
            if let Some(s) = new_status {
                ca.status = s.to_string();
            }
            if let Some(s) = new_auto {
                ca.auto_registration = s.to_string();
            }
            if let Some(c) = config {
                ca.registration_config = Some(c);
            }
            if remove_auto {
                ca.auto_registration = "DISABLE".into();
                ca.registration_config = None;
            }
            ca.last_modified_ms = changes.now_ms();
            ca.customer_version += 1;
            ca.generation_id = new_id();
            changes.put(persist::CA_CERT, &id_text, &ca);
            state.insert_ca(ca);
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_delete_ca_certificate(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let id_text = names::certificate_id(Input(input).req_str("caCertificateId")?)?;
        let id: CertId = id_text.parse().map_err(|_| ca_not_found(&id_text))?;
        let account = &caller.account_id;
        let arn = self.ca_arn(account, &id);
        self.mutate(account, |state, changes| {
            let ca = state.ca_certificates.get(&id).ok_or_else(|| ca_not_found(&id_text))?;
            if ca.status == "ACTIVE" {
                return Err(RegistryError::CertificateState(
                    "The CA certificate is ACTIVE; set it INACTIVE before deleting it.".into(),
                ));
            }
            if state.certificates_by_ca.get(&id).is_some_and(|s| !s.is_empty()) {
                return Err(RegistryError::CertificateState(
                    "Device certificates registered with this CA certificate still exist; delete them first.".into(),
                ));
            }
            changes.delete(persist::CA_CERT, &id_text);
            if state.tags.remove(&arn).is_some() {
                changes.delete(persist::TAGS, &arn);
            }
            state.remove_ca(&id);
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_list_ca_certificates(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let limit = paging::page_size(&input, "pageSize")?;
        let ascending = input.bool_or("ascendingOrder", false)?;
        let template = input.opt_str("templateName")?;
        let after = match paging::decode(&input, "marker")? {
            Some(cursor) => {
                let (ms, id) = paging::parse_created_cursor(&cursor, "marker")?;
                Some((
                    ms,
                    id.parse::<CertId>()
                        .map_err(|_| RegistryError::invalid("The marker is not valid."))?,
                ))
            }
            None => None,
        };
        let account = &caller.account_id;
        Ok(self.read(account, |state| {
            let filtered: std::collections::BTreeSet<(i64, CertId)> = state
                .ca_by_created
                .iter()
                .filter(|(_, id)| {
                    template.is_none_or(|t| {
                        state
                            .ca_certificates
                            .get(id)
                            .and_then(|c| c.registration_config.as_ref())
                            .and_then(|c| c.get("templateName"))
                            .and_then(Value::as_str)
                            == Some(t)
                    })
                })
                .copied()
                .collect();
            let (page, more) = paging::page_of(&filtered, after.as_ref(), ascending, limit);
            let items: Vec<Value> = page
                .iter()
                .filter_map(|(_, id)| state.ca_certificates.get(id))
                .map(|c| {
                    json!({
                        "certificateArn": self.ca_arn(account, &c.id),
                        "certificateId": c.id.to_string(),
                        "status": c.status,
                        "creationDate": epoch_seconds(c.created_ms),
                    })
                })
                .collect();
            let mut out = json!({"certificates": items});
            if more && let Some((ms, id)) = page.last() {
                out["nextMarker"] = json!(paging::encode(&paging::created_cursor(
                    *ms,
                    &id.to_string()
                )));
            }
            out
        }))
    }
}

struct RegistrationCode;

impl RegistrationCode {
    fn missing() -> RegistryError {
        RegistryError::RegistrationCodeValidation(
            "No registration code exists for this account; call GetRegistrationCode first.".into(),
        )
    }
}

/// The registered CA of the account that signed `cert`: the given CA if any (it must be
/// registered), else any registered CA whose key verifies the signature. It must be ACTIVE.
fn find_issuer(
    state: &AccountState,
    cert: &ParsedCertificate,
    given: Option<&ParsedCertificate>,
) -> RegistryResult<CertId> {
    let candidates: Vec<(CertId, ParsedCertificate)> = match given {
        Some(ca) => {
            let id = cert_id_of(ca)?;
            if !state.ca_certificates.contains_key(&id) {
                return Err(RegistryError::CertificateValidation(
                    "The CA certificate is not registered in this account.".into(),
                ));
            }
            vec![(id, ca.clone())]
        }
        None => state
            .ca_certificates
            .values()
            .filter(|c| c.subject == cert.issuer)
            .filter_map(|c| parse_certificate_pem(&c.pem).ok().map(|p| (c.id, p)))
            .collect(),
    };
    let Some((id, _)) = candidates.iter().find(|(_, ca)| is_signed_by(cert, ca)) else {
        return Err(RegistryError::CertificateValidation(
            "The certificate is not signed by a CA certificate registered in this account.".into(),
        ));
    };
    if state
        .ca_certificates
        .get(id)
        .is_none_or(|c| c.status != "ACTIVE")
    {
        return Err(RegistryError::CertificateState(
            "The CA certificate that signed the certificate is not ACTIVE.".into(),
        ));
    }
    Ok(*id)
}
