//! The six action types applied for real: to the registry (the gateway follows its changes:
//! a deactivated certificate's connections close, a new group's policies apply from the
//! next action) and to SNS topics. Each effect is idempotent: applied twice, the second time
//! changes nothing, so a task resumed after a restart may repeat its last batch safely.

use fleetward_registry::{Caller, RegistryError};
use serde_json::{Value, json};

use crate::Mitigate;
use crate::actions::{ActionParams, StoredAction};
use crate::model::ExecStatus;
use crate::sources::Finding;

/// The default version REPLACE_DEFAULT_POLICY_VERSION (BLANK_POLICY) installs. IoT policies
/// need at least one statement; this one denies every IoT action, so the version allows
/// nothing. (AWS's exact blank document is not published, spec 7.4.)
pub const BLANK_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:*","Resource":"*"}]}"#;

/// What an action acts on.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    Finding(&'a Finding),
    /// The thing of a detect violation.
    Thing(&'a str),
}

/// The result of one action on one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: ExecStatus,
    pub error_code: Option<String>,
    pub message: Option<String>,
}

impl Outcome {
    pub fn ok() -> Self {
        Self {
            status: ExecStatus::Completed,
            error_code: None,
            message: None,
        }
    }

    pub fn ok_with(message: impl Into<String>) -> Self {
        Self {
            message: Some(message.into()),
            ..Self::ok()
        }
    }

    pub fn failed(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status: ExecStatus::Failed,
            error_code: Some(code.into()),
            message: Some(message.into()),
        }
    }

    fn from_registry(e: RegistryError) -> Self {
        match e {
            RegistryError::Internal(detail) => {
                tracing::error!(%detail, "Mitigation action failed in the registry.");
                Self::failed("InternalFailureException", "Internal service failure.")
            }
            other => Self::failed(other.code(), other.to_string()),
        }
    }
}

fn caller(account: &str) -> Caller {
    Caller {
        account_id: account.to_string(),
        identity: "mitigation".to_string(),
    }
}

fn not_applicable(what: &str) -> Outcome {
    Outcome::failed(
        "InvalidRequestException",
        format!("The action cannot be applied: {what}."),
    )
}

impl Mitigate {
    /// Applies `action` to each subject; one outcome per subject, in order.
    pub(crate) async fn apply(
        &self,
        account: &str,
        action: &StoredAction,
        subjects: &[Subject<'_>],
    ) -> Vec<Outcome> {
        let params = match action.parsed() {
            Ok(p) => p,
            Err(e) => {
                return subjects
                    .iter()
                    .map(|_| Outcome::failed("InvalidRequestException", e.to_string()))
                    .collect();
            }
        };
        if let ActionParams::UpdateDeviceCertificate = params {
            return self.deactivate_device_certificates(account, subjects).await;
        }
        let mut out = Vec::with_capacity(subjects.len());
        for subject in subjects {
            out.push(self.apply_one(account, &params, subject).await);
        }
        out
    }

    async fn apply_one(
        &self,
        account: &str,
        params: &ActionParams,
        subject: &Subject<'_>,
    ) -> Outcome {
        match (params, subject) {
            (ActionParams::UpdateCaCertificate, Subject::Finding(f)) => {
                match f.resource_id("caCertificateId") {
                    Some(id) => self.deactivate_ca(account, id).await,
                    None => not_applicable("the finding is not about a CA certificate"),
                }
            }
            (
                ActionParams::AddThingsToThingGroup {
                    thing_group_names, ..
                },
                subject,
            ) => {
                let things = match subject {
                    Subject::Thing(name) => vec![name.to_string()],
                    Subject::Finding(f) => match f.resource_id("deviceCertificateId") {
                        Some(cert) => self.registry.things_of_certificate(account, cert),
                        None => {
                            return not_applicable("the finding is not about a device certificate");
                        }
                    },
                };
                if things.is_empty() {
                    return Outcome::ok_with("The certificate is attached to no thing.");
                }
                self.add_to_groups(account, &things, thing_group_names)
                    .await
            }
            (ActionParams::ReplaceDefaultPolicyVersion, Subject::Finding(f)) => {
                let name = f
                    .non_compliant_resource
                    .pointer("/resourceIdentifier/policyVersionIdentifier/policyName")
                    .and_then(Value::as_str);
                match name {
                    Some(name) => self.replace_with_blank(account, name).await,
                    None => not_applicable("the finding is not about a policy"),
                }
            }
            (
                ActionParams::EnableIotLogging {
                    role_arn_for_logging,
                    log_level,
                },
                _,
            ) => {
                let input = json!({"roleArn": role_arn_for_logging, "defaultLogLevel": log_level, "disableAllLogs": false});
                match self
                    .registry
                    .handle_set_v2_logging_options(&caller(account), &input)
                    .await
                {
                    Ok(_) => Outcome::ok(),
                    Err(e) => Outcome::from_registry(e),
                }
            }
            (ActionParams::PublishFindingToSns { topic_arn }, Subject::Finding(f)) => {
                let Some(publisher) = &self.publisher else {
                    return Outcome::failed(
                        "InternalFailureException",
                        "No notification service is connected.",
                    );
                };
                match publisher
                    .publish(account, topic_arn, &f.sns_message())
                    .await
                {
                    Ok(()) => Outcome::ok(),
                    Err(e) => Outcome::failed(e.code, e.message),
                }
            }
            (_, Subject::Thing(_)) => {
                not_applicable("violations accept ADD_THINGS_TO_THING_GROUP only")
            }
            (ActionParams::UpdateDeviceCertificate, Subject::Finding(_)) => {
                not_applicable("device certificates are deactivated in batches")
            }
        }
    }

    /// UPDATE_DEVICE_CERTIFICATE: every certificate of the batch in one registry commit.
    async fn deactivate_device_certificates(
        &self,
        account: &str,
        subjects: &[Subject<'_>],
    ) -> Vec<Outcome> {
        let ids: Vec<Option<String>> = subjects
            .iter()
            .map(|s| match s {
                Subject::Finding(f) => f.resource_id("deviceCertificateId").map(str::to_string),
                Subject::Thing(_) => None,
            })
            .collect();
        let present: Vec<String> = ids.iter().flatten().cloned().collect();
        let mut results = match self
            .registry
            .deactivate_certificates(account, &present)
            .await
        {
            Ok(results) => results.into_iter(),
            Err(e) => {
                let outcome = Outcome::from_registry(e);
                return subjects.iter().map(|_| outcome.clone()).collect();
            }
        };
        ids.iter()
            .map(|id| match id {
                None => not_applicable("the subject is not a device certificate"),
                Some(_) => match results.next() {
                    Some(Ok(_)) => Outcome::ok(),
                    Some(Err(e)) => Outcome::from_registry(e),
                    None => {
                        Outcome::failed("InternalFailureException", "Internal service failure.")
                    }
                },
            })
            .collect()
    }

    async fn deactivate_ca(&self, account: &str, id: &str) -> Outcome {
        let caller = caller(account);
        let described = match self
            .registry
            .handle_describe_ca_certificate(&caller, &json!({"caCertificateId": id}))
            .await
        {
            Ok(d) => d,
            Err(e) => return Outcome::from_registry(e),
        };
        if described["certificateDescription"]["status"] == "INACTIVE" {
            return Outcome::ok();
        }
        match self
            .registry
            .handle_update_ca_certificate(
                &caller,
                &json!({"caCertificateId": id, "newStatus": "INACTIVE"}),
            )
            .await
        {
            Ok(_) => Outcome::ok(),
            Err(e) => Outcome::from_registry(e),
        }
    }

    async fn add_to_groups(&self, account: &str, things: &[String], groups: &[String]) -> Outcome {
        let caller = caller(account);
        for thing in things {
            for group in groups {
                let input = json!({"thingName": thing, "thingGroupName": group});
                if let Err(e) = self
                    .registry
                    .handle_add_thing_to_thing_group(&caller, &input)
                    .await
                {
                    return Outcome::from_registry(e);
                }
            }
        }
        Outcome::ok()
    }

    async fn replace_with_blank(&self, account: &str, policy: &str) -> Outcome {
        let caller = caller(account);
        let current = match self
            .registry
            .handle_get_policy(&caller, &json!({"policyName": policy}))
            .await
        {
            Ok(p) => p,
            Err(e) => return Outcome::from_registry(e),
        };
        if current["policyDocument"].as_str() == Some(BLANK_POLICY) {
            return Outcome::ok();
        }
        let input =
            json!({"policyName": policy, "policyDocument": BLANK_POLICY, "setAsDefault": true});
        match self
            .registry
            .handle_create_policy_version(&caller, &input)
            .await
        {
            Ok(_) => Outcome::ok(),
            Err(e) => Outcome::from_registry(e),
        }
    }
}
