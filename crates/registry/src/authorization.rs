//! Which policies apply to a principal, and what they decide: GetEffectivePolicies and
//! TestAuthorization answer from the same policy engine the gateway uses.

use std::sync::Arc;

use fleetward_ca::ParsedCertificate;
use fleetward_policy::{
    Action, AltNameKind, AlternativeNames, AuthContext, CertificateContext, DistinguishedName,
    DnAttribute, Effect, Policy, ThingContext,
};
use serde_json::{Value, json};

use crate::error::{RegistryError, RegistryResult};
use crate::input::Input;
use crate::persist;
use crate::records::{CertId, Thing};
use crate::state::AccountState;
use crate::{Caller, Registry};

/// The thing a connection of `principal` is associated with, as AWS resolves the
/// `iot:Connection.Thing.*` variables: the thing the certificate is exclusively attached to,
/// else the attached thing named by the client id.
pub(crate) fn connection_thing<'s>(
    state: &'s AccountState,
    principal: &str,
    client_id: Option<&str>,
) -> Option<&'s Thing> {
    let attached = state.principal_things.get(principal)?;
    let exclusive = attached
        .iter()
        .filter_map(|t| state.things.get(t))
        .find(|t| t.principals.get(principal).map(String::as_str) == Some("EXCLUSIVE_THING"));
    exclusive.or_else(|| {
        client_id
            .filter(|c| attached.contains(*c))
            .and_then(|c| state.things.get(c))
    })
}

/// Builds the `iot:Certificate.*` values of a parsed certificate.
pub fn certificate_context(cert: &ParsedCertificate) -> CertificateContext {
    CertificateContext {
        id: cert.id.clone(),
        serial_number: cert.serial_hex.clone(),
        subject: distinguished_name(&cert.subject_fields),
        issuer: distinguished_name(&cert.issuer_fields),
        subject_alt_names: alternative_names(&cert.san),
        issuer_alt_names: AlternativeNames::default(),
        not_before_ms: Some(cert.not_before_ms),
        not_after_ms: Some(cert.not_after_ms),
    }
}

fn distinguished_name(fields: &[(String, String)]) -> DistinguishedName {
    let mut name = DistinguishedName::default();
    for (field, value) in fields {
        if let Some(attribute) = DnAttribute::ALL.iter().find(|a| a.policy_name() == field) {
            name = name.with(*attribute, value.clone());
        }
    }
    name
}

fn alternative_names(fields: &[(String, String)]) -> AlternativeNames {
    let mut names = AlternativeNames::default();
    for (field, value) in fields {
        if let Some(kind) = AltNameKind::ALL.iter().find(|k| k.policy_name() == field) {
            names = names.with(*kind, value.clone());
        }
    }
    names
}

/// A policy that applies, by name.
pub(crate) struct Applicable {
    pub name: String,
    pub policy: Arc<Policy>,
}

impl Registry {
    /// Policies attached to the principal, then to the thing's groups and their ancestors;
    /// each policy once, at its default version.
    pub(crate) fn applicable_policies(
        &self,
        account: &str,
        state: &AccountState,
        principal: Option<&str>,
        thing: Option<&Thing>,
    ) -> Vec<Applicable> {
        let mut names: Vec<String> = Vec::new();
        let mut add = |name: &String| {
            if !names.contains(name) {
                names.push(name.clone());
            }
        };
        if let Some(p) = principal {
            state.policies_of(p).for_each(&mut add);
        }
        if let Some(thing) = thing {
            for group in &thing.groups {
                let arn = self.group_arn(account, group);
                self.attached_policy_names(account, state, &arn, true)
                    .iter()
                    .for_each(&mut add);
            }
        }
        names
            .into_iter()
            .filter_map(|name| {
                let policy = state.policies.get(&name)?.default_policy()?.clone();
                Some(Applicable { name, policy })
            })
            .collect()
    }

    fn principal_cert(
        &self,
        account: &str,
        state: &AccountState,
        principal: &str,
    ) -> RegistryResult<CertId> {
        principal
            .strip_prefix(&self.arn(account, "cert/"))
            .and_then(|id| id.parse::<CertId>().ok())
            .filter(|id| state.certificates.contains_key(id))
            .ok_or_else(|| {
                RegistryError::not_found(format!("The principal {principal} does not exist."))
            })
    }

    pub async fn handle_get_effective_policies(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let principal = input.opt_str("principal")?;
        let thing_name = input.opt_str("thingName")?;
        if input.opt_str("cognitoIdentityPoolId")?.is_some() {
            return Err(RegistryError::invalid(
                "Cognito identities are not supported by Fleetward.",
            ));
        }
        let account = &caller.account_id;
        self.read(account, |state| {
            if let Some(p) = principal {
                self.principal_cert(account, state, p)?;
            }
            let thing = match thing_name {
                Some(name) => Some(
                    state
                        .things
                        .get(name)
                        .ok_or_else(|| crate::things::thing_not_found(name))?,
                ),
                None => None,
            };
            let policies = self.applicable_policies(account, state, principal, thing);
            let items: Vec<Value> = policies
                .iter()
                .map(|a| {
                    json!({
                        "policyName": a.name,
                        "policyArn": self.policy_arn(account, &a.name),
                        "policyDocument": a.policy.document(),
                    })
                })
                .collect();
            Ok(json!({"effectivePolicies": items}))
        })
    }

    pub async fn handle_test_authorization(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let principal = input.opt_str("principal")?;
        let client_id = input.opt_str("clientId")?;
        if input.opt_str("cognitoIdentityPoolId")?.is_some() {
            return Err(RegistryError::invalid(
                "Cognito identities are not supported by Fleetward.",
            ));
        }
        let to_add = input.opt_str_list("policyNamesToAdd")?.unwrap_or_default();
        let to_skip = input.opt_str_list("policyNamesToSkip")?.unwrap_or_default();
        let auth_infos = input
            .opt_list("authInfos")?
            .ok_or_else(|| crate::input::missing("authInfos"))?;
        if auth_infos.is_empty() || auth_infos.len() > 10 {
            return Err(RegistryError::invalid(
                "authInfos must have 1 to 10 members.",
            ));
        }
        let mut requests = Vec::new();
        for info in auth_infos {
            let info = Input(info);
            let action_type = info.req_str("actionType")?;
            let action = Action::from_action_type(action_type).ok_or_else(|| {
                RegistryError::invalid(format!(
                    "{action_type} is not an action type (PUBLISH, SUBSCRIBE, RECEIVE, CONNECT)."
                ))
            })?;
            let resources: Vec<String> = info
                .opt_str_list("resources")?
                .ok_or_else(|| crate::input::missing("resources"))?
                .into_iter()
                .map(str::to_string)
                .collect();
            requests.push((action_type.to_string(), action, resources));
        }
        let account = &caller.account_id;

        // The principal's certificate gives the iot:Certificate.* values.
        let cert_id = match principal {
            Some(p) => Some(self.read(account, |state| self.principal_cert(account, state, p))?),
            None => None,
        };
        let certificate = match cert_id {
            Some(id) => match self
                .store
                .get_document(account, persist::CERT_PEM, &id.to_string())
                .await?
            {
                Some(doc) => {
                    let pem: String = persist::decode(&doc)?;
                    fleetward_ca::parse_certificate_pem(&pem)
                        .ok()
                        .map(|c| certificate_context(&c))
                }
                None => None,
            },
            None => None,
        };

        self.read(account, |state| {
            let thing = principal.and_then(|p| connection_thing(state, p, client_id));
            let mut policies = self.applicable_policies(account, state, principal, thing);
            for name in &to_add {
                let entry = state.policies.get(*name).ok_or_else(|| {
                    RegistryError::not_found(format!("Policy {name} does not exist"))
                })?;
                if !policies.iter().any(|a| a.name == *name)
                    && let Some(policy) = entry.default_policy()
                {
                    policies.push(Applicable { name: name.to_string(), policy: policy.clone() });
                }
            }
            policies.retain(|a| !to_skip.contains(&a.name.as_str()));

            let context = AuthContext {
                client_id,
                thing: thing.map(|t| ThingContext {
                    name: &t.name,
                    type_name: t.type_name.as_deref(),
                    attributes: t.attributes.as_pairs(),
                    is_attached: true,
                }),
                certificate: certificate.as_ref(),
                ..AuthContext::new(&self.region, account, self.clock.now_ms())
            };
            let compiled: Vec<&Policy> = policies.iter().map(|a| a.policy.as_ref()).collect();
            let policy_ref = |i: &usize| {
                json!({"policyName": policies[*i].name, "policyArn": self.policy_arn(account, &policies[*i].name)})
            };
            let results: Vec<Value> = requests
                .iter()
                .map(|(action_type, action, resources)| {
                    let mut allowed: Vec<usize> = Vec::new();
                    let mut denied: Vec<usize> = Vec::new();
                    let mut missing: Vec<String> = Vec::new();
                    let mut any_implicit = resources.is_empty();
                    for resource in resources {
                        let answer = fleetward_policy::explain(&compiled, *action, resource, &context);
                        match answer.effect {
                            Effect::ExplicitDeny => {}
                            Effect::ImplicitDeny => any_implicit = true,
                            Effect::Allowed => {}
                        }
                        merge(&mut allowed, &answer.allowed_by);
                        merge(&mut denied, &answer.explicit_denied_by);
                        for m in answer.missing_context_values {
                            if !missing.contains(&m) {
                                missing.push(m);
                            }
                        }
                    }
                    let decision = if !denied.is_empty() {
                        "EXPLICIT_DENY"
                    } else if any_implicit {
                        "IMPLICIT_DENY"
                    } else {
                        "ALLOWED"
                    };
                    let implicit: Vec<Value> = if decision == "IMPLICIT_DENY" {
                        (0..policies.len()).filter(|i| !allowed.contains(i)).map(|i| policy_ref(&i)).collect()
                    } else {
                        Vec::new()
                    };
                    json!({
                        "authInfo": {"actionType": action_type, "resources": resources},
                        "allowed": {"policies": allowed.iter().map(policy_ref).collect::<Vec<_>>()},
                        "denied": {
                            "implicitDeny": {"policies": implicit},
                            "explicitDeny": {"policies": denied.iter().map(policy_ref).collect::<Vec<_>>()},
                        },
                        "authDecision": decision,
                        "missingContextValues": missing,
                    })
                })
                .collect();
            Ok(json!({"authResults": results}))
        })
    }
}

fn merge(into: &mut Vec<usize>, from: &[usize]) {
    for i in from {
        if !into.contains(i) {
            into.push(*i);
        }
    }
}
