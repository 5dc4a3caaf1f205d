//! Which action types may be applied to the findings of which audit check (spec 4.2), and
//! the one type detect violations accept.

use crate::actions::ActionType;

/// Checks whose finding is a CA certificate.
const CA_CHECKS: &[&str] = &[
    "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK",
    "CA_CERTIFICATE_EXPIRING_CHECK",
    "CA_CERTIFICATE_KEY_QUALITY_CHECK",
];

/// Checks whose finding is a device certificate. AWS documents the first four; the age check
/// (UNCONFIRMED in the spec) and Fleetward's own key-size check have a device certificate as
/// their resource too, so the same actions apply.
const DEVICE_CERT_CHECKS: &[&str] = &[
    "DEVICE_CERTIFICATE_SHARED_CHECK",
    "DEVICE_CERTIFICATE_EXPIRING_CHECK",
    "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK",
    "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK",
    "DEVICE_CERTIFICATE_AGE_CHECK",
    "FLEETWARD_DEVICE_CERTIFICATE_KEY_SIZE_CHECK",
];

/// Checks whose finding is a policy version (the misconfiguration check is UNCONFIRMED in
/// the spec; its resource is a policy's default version, which the action replaces).
const POLICY_CHECKS: &[&str] = &[
    "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
    "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK",
];

/// Whether an action of `action_type` may be applied to findings of `check`.
pub fn allowed_for_check(check: &str, action_type: ActionType) -> bool {
    match action_type {
        ActionType::PublishFindingToSns => true,
        ActionType::UpdateCaCertificate => CA_CHECKS.contains(&check),
        ActionType::UpdateDeviceCertificate | ActionType::AddThingsToThingGroup => {
            DEVICE_CERT_CHECKS.contains(&check)
        }
        ActionType::ReplaceDefaultPolicyVersion => POLICY_CHECKS.contains(&check),
        ActionType::EnableIotLogging => check == "LOGGING_DISABLED_CHECK",
    }
}

/// The action types a check accepts, for error messages.
pub fn allowed_types(check: &str) -> Vec<&'static str> {
    ActionType::ALL
        .into_iter()
        .filter(|t| allowed_for_check(check, *t))
        .map(ActionType::as_str)
        .collect()
}

/// Detect violations accept only ADD_THINGS_TO_THING_GROUP (spec 4.2).
pub fn allowed_for_violations(action_type: ActionType) -> bool {
    action_type == ActionType::AddThingsToThingGroup
}

#[cfg(test)]
mod tests {
    use super::*;
    use ActionType::*;

    /// The matrix of spec 4.2, row by row.
    #[test]
    fn validity_matrix() {
        let rows: &[(&str, &[ActionType])] = &[
            (
                "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
                &[PublishFindingToSns],
            ),
            (
                "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
                &[PublishFindingToSns],
            ),
            (
                "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
                &[ReplaceDefaultPolicyVersion, PublishFindingToSns],
            ),
            (
                "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK",
                &[ReplaceDefaultPolicyVersion, PublishFindingToSns],
            ),
            (
                "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK",
                &[PublishFindingToSns],
            ),
            (
                "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK",
                &[PublishFindingToSns],
            ),
            (
                "CA_CERTIFICATE_EXPIRING_CHECK",
                &[UpdateCaCertificate, PublishFindingToSns],
            ),
            (
                "CA_CERTIFICATE_KEY_QUALITY_CHECK",
                &[UpdateCaCertificate, PublishFindingToSns],
            ),
            (
                "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK",
                &[UpdateCaCertificate, PublishFindingToSns],
            ),
            (
                "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK",
                &[PublishFindingToSns],
            ),
            (
                "DEVICE_CERTIFICATE_EXPIRING_CHECK",
                &[
                    UpdateDeviceCertificate,
                    AddThingsToThingGroup,
                    PublishFindingToSns,
                ],
            ),
            (
                "DEVICE_CERTIFICATE_AGE_CHECK",
                &[
                    UpdateDeviceCertificate,
                    AddThingsToThingGroup,
                    PublishFindingToSns,
                ],
            ),
            (
                "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK",
                &[
                    UpdateDeviceCertificate,
                    AddThingsToThingGroup,
                    PublishFindingToSns,
                ],
            ),
            (
                "DEVICE_CERTIFICATE_SHARED_CHECK",
                &[
                    UpdateDeviceCertificate,
                    AddThingsToThingGroup,
                    PublishFindingToSns,
                ],
            ),
            (
                "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK",
                &[
                    UpdateDeviceCertificate,
                    AddThingsToThingGroup,
                    PublishFindingToSns,
                ],
            ),
            ("CONFLICTING_CLIENT_IDS_CHECK", &[PublishFindingToSns]),
            (
                "LOGGING_DISABLED_CHECK",
                &[EnableIotLogging, PublishFindingToSns],
            ),
            (
                "FLEETWARD_DEVICE_CERTIFICATE_KEY_SIZE_CHECK",
                &[
                    UpdateDeviceCertificate,
                    AddThingsToThingGroup,
                    PublishFindingToSns,
                ],
            ),
        ];
        assert_eq!(rows.len(), fleetward_audit::catalog::CHECKS.len());
        for (check, allowed) in rows {
            assert!(fleetward_audit::catalog::find(check).is_some(), "{check}");
            for t in ActionType::ALL {
                assert_eq!(
                    allowed_for_check(check, t),
                    allowed.contains(&t),
                    "{check} / {}",
                    t.as_str()
                );
            }
        }
        assert!(allowed_for_violations(AddThingsToThingGroup));
        assert!(!allowed_for_violations(UpdateDeviceCertificate));
        assert!(!allowed_for_violations(PublishFindingToSns));
        assert_eq!(
            allowed_types("LOGGING_DISABLED_CHECK"),
            ["ENABLE_IOT_LOGGING", "PUBLISH_FINDING_TO_SNS"]
        );
    }
}
