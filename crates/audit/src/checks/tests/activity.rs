//! Checks on the connection history and on IAM roles behind role aliases and Cognito pools.

use super::*;
use crate::checks::Inputs;
use crate::model::ResourceIdentifier;

// ---- connection history ----

fn event(
    kind: &str,
    time_ms: i64,
    client: &str,
    cert: u8,
    port: i64,
    reason: &str,
) -> ConnectionEvent {
    ConnectionEvent {
        account_id: ACCOUNT.into(),
        time_ms,
        kind: kind.into(),
        client_id: client.into(),
        certificate_id: CertId([cert; 32]).to_string(),
        thing_name: String::new(),
        source_ip: "10.0.0.1".into(),
        source_port: port,
        reason: reason.into(),
    }
}

#[test]
fn device_certificate_shared() {
    let mut i = inputs();
    let t = NOW - 10 * DAY;
    i.connections = vec![
        // Certificate 1: two clients at once.
        event("CONNECTED", t, "a", 1, 1, ""),
        event("CONNECTED", t + 10, "b", 1, 2, ""),
        event(
            "DISCONNECTED",
            t + 20,
            "a",
            1,
            1,
            "CLIENT_INITIATED_DISCONNECT",
        ),
        // Certificate 2: one client after the other.
        event("CONNECTED", t, "c", 2, 3, ""),
        event(
            "DISCONNECTED",
            t + 5,
            "c",
            2,
            3,
            "CLIENT_INITIATED_DISCONNECT",
        ),
        event("CONNECTED", t + 6, "d", 2, 4, ""),
    ];
    let outcome = run_check("DEVICE_CERTIFICATE_SHARED_CHECK", &i);
    assert_eq!(outcome.total, 2);
    assert_eq!(codes(&outcome), ["CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES"]);
    let f = &outcome.findings[0];
    assert_eq!(f.reason, "Certificate shared by one or more devices.");
    assert_eq!(
        f.resource.resource_identifier.device_certificate_id,
        Some(CertId([1; 32]).to_string())
    );
    // Related client ids, most recent connection first, with their times.
    assert_eq!(
        f.related[0].resource_identifier.client_id.as_deref(),
        Some("b")
    );
    assert_eq!(
        f.related[0].additional_info["CONNECTION_TIME"],
        (t + 10).to_string()
    );
    assert!(
        !f.related[0]
            .additional_info
            .contains_key("DISCONNECTION_TIME")
    );
    assert_eq!(
        f.related[1].additional_info["DISCONNECTION_TIME"],
        (t + 20).to_string()
    );
}

#[test]
fn conflicting_client_ids() {
    let mut i = inputs();
    let t = NOW - DAY;
    i.connections = vec![
        event("CONNECTED", t, "dup", 1, 1, ""),
        event("CONNECTED", t + 1, "dup", 2, 2, ""),
        event("DISCONNECTED", t + 1, "dup", 1, 1, "DUPLICATE_CLIENTID"),
        event("CONNECTED", t, "calm", 3, 3, ""),
        event(
            "DISCONNECTED",
            t + 9,
            "calm",
            3,
            3,
            "MQTT_KEEP_ALIVE_TIMEOUT",
        ),
    ];
    let outcome = run_check("CONFLICTING_CLIENT_IDS_CHECK", &i);
    assert_eq!(outcome.total, 2);
    assert_eq!(codes(&outcome), ["DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS"]);
    assert_eq!(
        outcome.findings[0].resource.resource_identifier,
        ResourceIdentifier::client_id("dup")
    );
    assert_eq!(
        outcome.findings[0].resource.additional_info["DISCONNECTION_COUNT"],
        "1"
    );
}

// ---- IAM roles behind role aliases and Cognito pools ----

fn role(arn: &str, statements: serde_json::Value, used: Option<&[&str]>) -> IamRoleDoc {
    IamRoleDoc {
        role_arn: arn.into(),
        policies: vec![
            serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string(),
        ],
        last_accessed_services: used.map(|u| u.iter().map(|s| s.to_string()).collect()),
    }
}

fn with_alias(i: &mut Inputs, name: &str, role: IamRoleDoc) {
    i.view.role_aliases.push(AuditRoleAlias {
        name: name.into(),
        arn: format!("arn:aws:iot:us-east-1:{ACCOUNT}:rolealias/{name}"),
        role_arn: role.role_arn.clone(),
    });
    i.roles.insert(role.role_arn.clone(), role);
}

#[test]
fn role_alias_checks_complete_with_nothing_registered() {
    let mut i = inputs();
    i.view.role_aliases.push(AuditRoleAlias {
        name: "a".into(),
        arn: "arn:x".into(),
        role_arn: "arn:aws:iam::1:role/unknown".into(),
    });
    for check in [
        "IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK",
        "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK",
        "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
        "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK",
    ] {
        let outcome = run_check(check, &i);
        assert_eq!((outcome.total, outcome.findings.len()), (0, 0), "{check}");
    }
}

#[test]
fn role_alias_overly_permissive_each_reason() {
    let mut i = inputs();
    with_alias(
        &mut i,
        "admin",
        role(
            "arn:aws:iam::123456789012:role/admin",
            serde_json::json!([
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"},
                {"Effect": "Allow", "Action": "iot:DescribeThing", "Resource": "*"},
                {"Effect": "Allow", "Action": "iot:UpdateCertificate", "Resource": "*"},
                {"Effect": "Allow", "Action": "iot:CreateThing", "Resource": "*"},
                {"Effect": "Allow", "Action": "iot:Publish", "Resource": "arn:aws:iot:us-east-1:123456789012:topic/*"},
            ]),
            Some(&["s3", "iot"]),
        ),
    );
    with_alias(
        &mut i,
        "tight",
        role(
            "arn:aws:iam::123456789012:role/tight",
            serde_json::json!([
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::firmware/*"},
            ]),
            Some(&["s3"]),
        ),
    );
    let outcome = run_check("IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK", &i);
    assert_eq!(outcome.total, 2);
    assert_eq!(
        codes(&outcome),
        [
            "ALLOWS_BROAD_ACCESS_TO_USED_SERVICES",
            "ALLOWS_ACCESS_TO_SECURITY_AUDITING_SERVICES",
            "ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS",
            "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS",
            "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS",
            "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
        ]
    );
    assert!(outcome.findings.iter().all(|f| {
        f.resource
            .resource_identifier
            .role_alias_arn
            .as_deref()
            .unwrap()
            .ends_with("/admin")
    }));
    assert_eq!(outcome.findings[0].related[0].resource_type, "IAM_ROLE");
}

#[test]
fn role_alias_unused_services() {
    let mut i = inputs();
    with_alias(
        &mut i,
        "wide",
        role(
            "arn:aws:iam::123456789012:role/wide",
            serde_json::json!([
                {"Effect": "Allow", "Action": ["s3:GetObject", "dynamodb:PutItem"], "Resource": "*"},
            ]),
            Some(&["s3"]),
        ),
    );
    with_alias(
        &mut i,
        "used",
        role(
            "arn:aws:iam::123456789012:role/used",
            serde_json::json!([
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            ]),
            Some(&["s3"]),
        ),
    );
    let outcome = run_check("IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK", &i);
    assert_eq!(outcome.total, 2);
    assert_eq!(codes(&outcome), ["ALLOWS_ACCESS_TO_UNUSED_SERVICES"]);
    assert!(outcome.findings[0].reason.contains("[dynamodb]"));
}

#[test]
fn cognito_roles() {
    let mut i = inputs();
    let admin = role(
        "arn:aws:iam::123456789012:role/cognito-admin",
        serde_json::json!([
            {"Effect": "Allow", "Action": ["iot:CreateThing", "iot:DescribeThing", "iot:ListPolicies"], "Resource": "*"},
            {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "*"},
        ]),
        None,
    );
    let narrow = role(
        "arn:aws:iam::123456789012:role/cognito-narrow",
        serde_json::json!([
            {"Effect": "Allow", "Action": "iot:DescribeThing", "Resource": "arn:aws:iot:us-east-1:123456789012:thing/one"},
        ]),
        None,
    );
    i.roles.insert(admin.role_arn.clone(), admin.clone());
    i.roles.insert(narrow.role_arn.clone(), narrow.clone());
    i.pools = vec![
        IdentityPoolDoc {
            pool_id: "us-east-1:bad".into(),
            authenticated_role_arn: Some(admin.role_arn.clone()),
            unauthenticated_role_arn: Some(admin.role_arn.clone()),
        },
        IdentityPoolDoc {
            pool_id: "us-east-1:good".into(),
            authenticated_role_arn: Some(narrow.role_arn.clone()),
            unauthenticated_role_arn: None,
        },
    ];
    let auth = run_check("AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK", &i);
    assert_eq!(auth.total, 2);
    assert_eq!(
        codes(&auth),
        [
            "ALLOWS_BROAD_ACCESS_TO_IOT_THING_ADMIN_READ_ACTIONS",
            "ALLOWS_ACCESS_TO_IOT_NON_THING_ADMIN_ACTIONS",
            "ALLOWS_ACCESS_TO_IOT_THING_ADMIN_WRITE_ACTIONS",
        ]
    );
    assert!(auth.findings.iter().all(|f| {
        f.resource
            .resource_identifier
            .cognito_identity_pool_id
            .as_deref()
            == Some("us-east-1:bad")
    }));
    let unauth = run_check("UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK", &i);
    assert_eq!(unauth.total, 1);
    assert_eq!(
        codes(&unauth),
        [
            "ALLOWS_ACCESS_TO_IOT_ADMIN_ACTIONS",
            "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS"
        ]
    );
    // An unauthenticated role with only a narrow read is still admin access.
    i.pools[1].unauthenticated_role_arn = Some(narrow.role_arn.clone());
    let unauth = run_check("UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK", &i);
    assert_eq!(unauth.total, 2);
    assert_eq!(
        unauth
            .findings
            .iter()
            .filter(|f| f.code == "ALLOWS_ACCESS_TO_IOT_ADMIN_ACTIONS")
            .count(),
        2
    );
}
