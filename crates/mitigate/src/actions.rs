//! Mitigation action definitions (`MitigationActionParams`, spec 4.1): the six types, their
//! parameters as validated from the wire, and the stored action.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{MitigateResult, invalid};
use crate::input::{check_name, epoch_seconds, str_list};

/// `MitigationActionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionType {
    UpdateDeviceCertificate,
    UpdateCaCertificate,
    AddThingsToThingGroup,
    ReplaceDefaultPolicyVersion,
    EnableIotLogging,
    PublishFindingToSns,
}

impl ActionType {
    pub const ALL: [ActionType; 6] = [
        Self::UpdateDeviceCertificate,
        Self::UpdateCaCertificate,
        Self::AddThingsToThingGroup,
        Self::ReplaceDefaultPolicyVersion,
        Self::EnableIotLogging,
        Self::PublishFindingToSns,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UpdateDeviceCertificate => "UPDATE_DEVICE_CERTIFICATE",
            Self::UpdateCaCertificate => "UPDATE_CA_CERTIFICATE",
            Self::AddThingsToThingGroup => "ADD_THINGS_TO_THING_GROUP",
            Self::ReplaceDefaultPolicyVersion => "REPLACE_DEFAULT_POLICY_VERSION",
            Self::EnableIotLogging => "ENABLE_IOT_LOGGING",
            Self::PublishFindingToSns => "PUBLISH_FINDING_TO_SNS",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The `MitigationActionParams` member that carries this type's parameters.
    fn member(self) -> &'static str {
        match self {
            Self::UpdateDeviceCertificate => "updateDeviceCertificateParams",
            Self::UpdateCaCertificate => "updateCACertificateParams",
            Self::AddThingsToThingGroup => "addThingsToThingGroupParams",
            Self::ReplaceDefaultPolicyVersion => "replaceDefaultPolicyVersionParams",
            Self::EnableIotLogging => "enableIoTLoggingParams",
            Self::PublishFindingToSns => "publishFindingToSnsParams",
        }
    }
}

/// Validated parameters of one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionParams {
    /// `action`: DEACTIVATE, the only value of the model.
    UpdateDeviceCertificate,
    UpdateCaCertificate,
    AddThingsToThingGroup {
        thing_group_names: Vec<String>,
        override_dynamic_groups: Option<bool>,
    },
    /// `templateName`: BLANK_POLICY, the only value of the model.
    ReplaceDefaultPolicyVersion,
    EnableIotLogging {
        role_arn_for_logging: String,
        log_level: String,
    },
    PublishFindingToSns {
        topic_arn: String,
    },
}

impl ActionParams {
    pub fn action_type(&self) -> ActionType {
        match self {
            Self::UpdateDeviceCertificate => ActionType::UpdateDeviceCertificate,
            Self::UpdateCaCertificate => ActionType::UpdateCaCertificate,
            Self::AddThingsToThingGroup { .. } => ActionType::AddThingsToThingGroup,
            Self::ReplaceDefaultPolicyVersion => ActionType::ReplaceDefaultPolicyVersion,
            Self::EnableIotLogging { .. } => ActionType::EnableIotLogging,
            Self::PublishFindingToSns { .. } => ActionType::PublishFindingToSns,
        }
    }

    /// Reads `actionParams`: exactly one member, each within its shape.
    pub fn parse(value: &Value) -> MitigateResult<Self> {
        let object = value
            .as_object()
            .ok_or_else(|| invalid("actionParams must be a structure."))?;
        let set: Vec<(&String, &Value)> = object.iter().filter(|(_, v)| !v.is_null()).collect();
        let [(member, params)] = set.as_slice() else {
            return Err(invalid(
                "actionParams must have exactly one member: the parameters of the action's type.",
            ));
        };
        let action_type = ActionType::ALL
            .into_iter()
            .find(|t| t.member() == member.as_str())
            .ok_or_else(|| invalid(format!("Unknown member {member} in actionParams.")))?;
        if !params.is_object() {
            return Err(invalid(format!("{member} must be a structure.")));
        }
        let field = |name: &str| -> MitigateResult<&str> {
            params.get(name).and_then(Value::as_str).ok_or_else(|| {
                invalid(format!("{member}.{name} is required and must be a string."))
            })
        };
        match action_type {
            ActionType::UpdateDeviceCertificate | ActionType::UpdateCaCertificate => {
                let action = field("action")?;
                if action != "DEACTIVATE" {
                    return Err(invalid(format!(
                        "{member}.action must be DEACTIVATE, not {action}."
                    )));
                }
                Ok(if action_type == ActionType::UpdateDeviceCertificate {
                    Self::UpdateDeviceCertificate
                } else {
                    Self::UpdateCaCertificate
                })
            }
            ActionType::AddThingsToThingGroup => {
                let names = params
                    .get("thingGroupNames")
                    .ok_or_else(|| invalid(format!("{member}.thingGroupNames is required.")))?;
                let names = str_list(names, "thingGroupNames", 1, 10)?;
                for name in &names {
                    check_name("thingGroupNames", name, 128, true)?;
                }
                let override_dynamic_groups = match params.get("overrideDynamicGroups") {
                    None | Some(Value::Null) => None,
                    Some(Value::Bool(b)) => Some(*b),
                    Some(_) => {
                        return Err(invalid("overrideDynamicGroups must be a boolean."));
                    }
                };
                let mut thing_group_names: Vec<String> = Vec::new();
                for name in names {
                    if !thing_group_names.iter().any(|n| n == name) {
                        thing_group_names.push(name.to_string());
                    }
                }
                Ok(Self::AddThingsToThingGroup {
                    thing_group_names,
                    override_dynamic_groups,
                })
            }
            ActionType::ReplaceDefaultPolicyVersion => {
                let template = field("templateName")?;
                if template != "BLANK_POLICY" {
                    return Err(invalid(format!(
                        "{member}.templateName must be BLANK_POLICY, not {template}."
                    )));
                }
                Ok(Self::ReplaceDefaultPolicyVersion)
            }
            ActionType::EnableIotLogging => {
                let role = field("roleArnForLogging")?;
                role_arn("roleArnForLogging", role)?;
                let level = field("logLevel")?;
                match level {
                    "DEBUG" | "INFO" | "ERROR" | "WARN" => {}
                    "DISABLED" => {
                        return Err(invalid(
                            "logLevel DISABLED cannot be used by ENABLE_IOT_LOGGING: the action turns logging on.",
                        ));
                    }
                    other => return Err(invalid(format!("Unknown logLevel {other}."))),
                }
                Ok(Self::EnableIotLogging {
                    role_arn_for_logging: role.to_string(),
                    log_level: level.to_string(),
                })
            }
            ActionType::PublishFindingToSns => {
                let topic = field("topicArn")?;
                if topic.is_empty() || topic.len() > 350 || !topic.starts_with("arn:") {
                    return Err(invalid(
                        "topicArn must be an SNS topic ARN of at most 350 characters.",
                    ));
                }
                Ok(Self::PublishFindingToSns {
                    topic_arn: topic.to_string(),
                })
            }
        }
    }

    /// The `MitigationActionParams` shape.
    pub fn to_wire(&self) -> Value {
        let member = self.action_type().member();
        let params = match self {
            Self::UpdateDeviceCertificate | Self::UpdateCaCertificate => {
                json!({"action": "DEACTIVATE"})
            }
            Self::AddThingsToThingGroup {
                thing_group_names,
                override_dynamic_groups,
            } => {
                let mut p = json!({"thingGroupNames": thing_group_names});
                if let Some(o) = override_dynamic_groups {
                    p["overrideDynamicGroups"] = json!(o);
                }
                p
            }
            Self::ReplaceDefaultPolicyVersion => json!({"templateName": "BLANK_POLICY"}),
            Self::EnableIotLogging {
                role_arn_for_logging,
                log_level,
            } => json!({"roleArnForLogging": role_arn_for_logging, "logLevel": log_level}),
            Self::PublishFindingToSns { topic_arn } => json!({"topicArn": topic_arn}),
        };
        json!({ member: params })
    }
}

/// `RoleArn`: 20–2048 characters. Fleetward has no IAM: the role is kept and shown, not
/// assumed.
pub fn role_arn(member: &str, value: &str) -> MitigateResult<()> {
    if !(20..=2048).contains(&value.len()) {
        return Err(invalid(format!("{member} must be 20 to 2048 characters.")));
    }
    Ok(())
}

/// A mitigation action as stored (one document per action, key: its name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredAction {
    pub name: String,
    pub id: String,
    pub arn: String,
    pub role_arn: String,
    /// The `MitigationActionParams` wire form (validated when written).
    pub params: Value,
    #[serde(default)]
    pub tags: Vec<Value>,
    pub created_ms: i64,
    pub modified_ms: i64,
}

impl StoredAction {
    /// The parameters; a stored action was validated when written, so this fails only on a
    /// damaged document.
    pub fn parsed(&self) -> MitigateResult<ActionParams> {
        ActionParams::parse(&self.params)
    }

    pub fn action_type(&self) -> Option<ActionType> {
        self.parsed().ok().map(|p| p.action_type())
    }

    /// DescribeMitigationAction's output.
    pub fn describe(&self) -> Value {
        json!({
            "actionName": self.name,
            "actionType": self.action_type().map(ActionType::as_str),
            "actionArn": self.arn,
            "actionId": self.id,
            "roleArn": self.role_arn,
            "actionParams": self.params,
            "creationDate": epoch_seconds(self.created_ms),
            "lastModifiedDate": epoch_seconds(self.modified_ms),
        })
    }

    /// The `MitigationAction` shape (a task's `actionsDefinition`).
    pub fn definition(&self) -> Value {
        json!({"name": self.name, "id": self.id, "roleArn": self.role_arn, "actionParams": self.params})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_through_the_wire_form() {
        let samples = [
            json!({"updateDeviceCertificateParams": {"action": "DEACTIVATE"}}),
            json!({"updateCACertificateParams": {"action": "DEACTIVATE"}}),
            json!({"addThingsToThingGroupParams": {"thingGroupNames": ["quarantine"], "overrideDynamicGroups": true}}),
            json!({"replaceDefaultPolicyVersionParams": {"templateName": "BLANK_POLICY"}}),
            json!({"enableIoTLoggingParams": {"roleArnForLogging": "arn:aws:iam::000000000000:role/log", "logLevel": "ERROR"}}),
            json!({"publishFindingToSnsParams": {"topicArn": "arn:aws:sns:us-east-1:000000000000:t"}}),
        ];
        for (sample, t) in samples.iter().zip(ActionType::ALL) {
            let parsed = ActionParams::parse(sample).unwrap();
            assert_eq!(parsed.action_type(), t);
            assert_eq!(&parsed.to_wire(), sample);
        }
    }

    #[test]
    fn bad_parameters_are_refused() {
        for bad in [
            json!({}),
            json!({"updateDeviceCertificateParams": {"action": "ACTIVATE"}}),
            json!({"updateDeviceCertificateParams": {"action": "DEACTIVATE"}, "updateCACertificateParams": {"action": "DEACTIVATE"}}),
            json!({"addThingsToThingGroupParams": {"thingGroupNames": []}}),
            json!({"addThingsToThingGroupParams": {"thingGroupNames": ["a b"]}}),
            json!({"addThingsToThingGroupParams": {"thingGroupNames": ["a","b","c","d","e","f","g","h","i","j","k"]}}),
            json!({"replaceDefaultPolicyVersionParams": {"templateName": "OTHER"}}),
            json!({"enableIoTLoggingParams": {"roleArnForLogging": "arn:aws:iam::000000000000:role/log", "logLevel": "DISABLED"}}),
            json!({"enableIoTLoggingParams": {"roleArnForLogging": "short", "logLevel": "ERROR"}}),
            json!({"publishFindingToSnsParams": {}}),
            json!({"nope": {}}),
            json!("x"),
        ] {
            assert!(ActionParams::parse(&bad).is_err(), "{bad}");
        }
    }
}
