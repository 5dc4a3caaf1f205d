//! Registry behaviour end to end over a real SQLite store and a real CA, with a clock the
//! tests move.

use std::sync::Arc;

use fleetward_ca::CertificateAuthority;
use fleetward_ca::testing::{csr, issue_cert, self_signed_ca, verification_cert};
use fleetward_model::{Clock, ManualClock};
use fleetward_store::{AccountRow, Store};
use serde_json::{Value, json};

use crate::{Caller, Endpoints, Registry, RegistryError};

const ACCOUNT: &str = "000000000000";
const OTHER: &str = "111111111111";
/// 2026-01-01T00:00:00Z
const START_MS: i64 = 1_767_225_600_000;
const YEAR_MS: i64 = 365 * 24 * 3600 * 1000;

struct Fixture {
    dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    clock: ManualClock,
    registry: Registry,
}

async fn open_registry(
    dir: &tempfile::TempDir,
    store: Arc<dyn Store>,
    clock: &ManualClock,
) -> Registry {
    let ca =
        CertificateAuthority::load_or_create(&dir.path().join("ca"), &[], clock.now_ms()).unwrap();
    Registry::open(
        store,
        Arc::new(clock.clone()),
        "us-east-1",
        Arc::new(ca),
        Endpoints {
            data: "localhost".into(),
            credential_provider: "127.0.0.1:7440".into(),
        },
    )
    .await
    .unwrap()
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("registry.db").display());
    let store = fleetward_store::open(&url).await.unwrap();
    for account in [ACCOUNT, OTHER] {
        store
            .create_account(&AccountRow {
                account_id: account.into(),
                name: account.into(),
                created_ms: 0,
            })
            .await
            .unwrap();
    }
    let clock = ManualClock::new(START_MS);
    let registry = open_registry(&dir, store.clone(), &clock).await;
    Fixture {
        dir,
        store,
        clock,
        registry,
    }
}

impl Fixture {
    async fn reopen(&self) -> Registry {
        open_registry(&self.dir, self.store.clone(), &self.clock).await
    }
}

fn caller(account: &str) -> Caller {
    Caller {
        account_id: account.into(),
        identity: "test".into(),
    }
}

fn code(e: RegistryError) -> &'static str {
    e.code()
}

fn allow_publish(topic: &str) -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Publish",
        "Resource": format!("arn:aws:iot:us-east-1:{ACCOUNT}:topic/{topic}")}]})
    .to_string()
}

#[tokio::test]
async fn things_survive_a_restart_and_versions_guard_updates() {
    let fx = fixture().await;
    let r = &fx.registry;
    let me = caller(ACCOUNT);
    r.handle_create_thing(
        &me,
        &json!({"thingName": "t1", "attributePayload": {"attributes": {"a": "1", "b": "2"}}}),
    )
    .await
    .unwrap();
    // Same configuration again: idempotent; different: conflict with the existing id.
    r.handle_create_thing(
        &me,
        &json!({"thingName": "t1", "attributePayload": {"attributes": {"a": "1", "b": "2"}}}),
    )
    .await
    .unwrap();
    let e = r
        .handle_create_thing(&me, &json!({"thingName": "t1"}))
        .await
        .unwrap_err();
    assert_eq!(
        e.extra_members()[1].1,
        "arn:aws:iot:us-east-1:000000000000:thing/t1"
    );
    assert_eq!(code(e), "ResourceAlreadyExistsException");

    let e = r
        .handle_update_thing(&me, &json!({"thingName": "t1", "expectedVersion": 7, "attributePayload": {"attributes": {"a": "x"}}}))
        .await
        .unwrap_err();
    assert_eq!(code(e), "VersionConflictException");
    r.handle_update_thing(&me, &json!({"thingName": "t1", "expectedVersion": 1, "attributePayload": {"attributes": {"a": "x", "b": ""}, "merge": true}}))
        .await
        .unwrap();

    let reopened = fx.reopen().await;
    let thing = reopened
        .handle_describe_thing(&me, &json!({"thingName": "t1"}))
        .await
        .unwrap();
    assert_eq!(thing["attributes"], json!({"a": "x"}));
    assert_eq!(thing["version"], 2);
    // Another account sees nothing.
    let e = reopened
        .handle_describe_thing(&caller(OTHER), &json!({"thingName": "t1"}))
        .await
        .unwrap_err();
    assert_eq!(code(e), "ResourceNotFoundException");
}

#[tokio::test]
async fn list_things_pages_and_filters() {
    let fx = fixture().await;
    let me = caller(ACCOUNT);
    for i in 0..12 {
        let attrs = if i % 3 == 0 {
            json!({"fleet": format!("north-{i}")})
        } else {
            json!({"fleet": "south"})
        };
        fx.registry
            .handle_create_thing(&me, &json!({"thingName": format!("thing-{i:02}"), "attributePayload": {"attributes": attrs}}))
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({"maxResults": 5});
        if let Some(t) = &token {
            input["nextToken"] = json!(t);
        }
        let page = fx.registry.handle_list_things(&me, &input).await.unwrap();
        for t in page["things"].as_array().unwrap() {
            seen.push(t["thingName"].as_str().unwrap().to_string());
        }
        match page.get("nextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..12).map(|i| format!("thing-{i:02}")).collect();
    assert_eq!(seen, expected);
    let north = fx
        .registry
        .handle_list_things(&me, &json!({"attributeName": "fleet", "attributeValue": "north", "usePrefixAttributeValue": true}))
        .await
        .unwrap();
    assert_eq!(north["things"].as_array().unwrap().len(), 4);
    let e = fx
        .registry
        .handle_list_things(&me, &json!({"maxResults": 0}))
        .await
        .unwrap_err();
    assert_eq!(code(e), "InvalidRequestException");
    let e = fx
        .registry
        .handle_list_things(&me, &json!({"nextToken": "!!"}))
        .await
        .unwrap_err();
    assert_eq!(code(e), "InvalidRequestException");
}

#[tokio::test]
async fn group_hierarchy_membership_and_deletion_rules() {
    let fx = fixture().await;
    let r = &fx.registry;
    let me = caller(ACCOUNT);
    r.handle_create_thing_group(&me, &json!({"thingGroupName": "root"}))
        .await
        .unwrap();
    r.handle_create_thing_group(
        &me,
        &json!({"thingGroupName": "mid", "parentGroupName": "root"}),
    )
    .await
    .unwrap();
    r.handle_create_thing_group(
        &me,
        &json!({"thingGroupName": "leaf", "parentGroupName": "mid"}),
    )
    .await
    .unwrap();
    r.handle_create_thing_group(&me, &json!({"thingGroupName": "other"}))
        .await
        .unwrap();
    r.handle_create_thing(&me, &json!({"thingName": "dev"}))
        .await
        .unwrap();
    r.handle_add_thing_to_thing_group(&me, &json!({"thingGroupName": "leaf", "thingName": "dev"}))
        .await
        .unwrap();
    // One group per hierarchy.
    let e = r
        .handle_add_thing_to_thing_group(
            &me,
            &json!({"thingGroupName": "root", "thingName": "dev"}),
        )
        .await
        .unwrap_err();
    assert_eq!(code(e), "InvalidRequestException");
    r.handle_add_thing_to_thing_group(&me, &json!({"thingGroupName": "other", "thingName": "dev"}))
        .await
        .unwrap();

    let direct = r
        .handle_list_things_in_thing_group(&me, &json!({"thingGroupName": "root"}))
        .await
        .unwrap();
    assert_eq!(direct["things"], json!([]));
    let deep = r
        .handle_list_things_in_thing_group(
            &me,
            &json!({"thingGroupName": "root", "recursive": true}),
        )
        .await
        .unwrap();
    assert_eq!(deep["things"], json!(["dev"]));
    let described = r
        .handle_describe_thing_group(&me, &json!({"thingGroupName": "leaf"}))
        .await
        .unwrap();
    let chain: Vec<&str> = described["thingGroupMetadata"]["rootToParentThingGroups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["groupName"].as_str().unwrap())
        .collect();
    assert_eq!(chain, ["root", "mid"]);

    let e = r
        .handle_delete_thing_group(&me, &json!({"thingGroupName": "mid"}))
        .await
        .unwrap_err();
    assert_eq!(code(e), "InvalidRequestException");
    r.handle_delete_thing_group(&me, &json!({"thingGroupName": "leaf"}))
        .await
        .unwrap();
    let groups = r
        .handle_list_thing_groups_for_thing(&me, &json!({"thingName": "dev"}))
        .await
        .unwrap();
    assert_eq!(
        groups["thingGroups"].as_array().unwrap().len(),
        1,
        "leaf membership went with the group"
    );

    // Replacing memberships in one call is all or nothing.
    let e = r
        .handle_update_thing_groups_for_thing(
            &me,
            &json!({"thingName": "dev", "thingGroupsToAdd": ["mid", "nope"]}),
        )
        .await
        .unwrap_err();
    assert_eq!(code(e), "ResourceNotFoundException");
    let reopened = fx.reopen().await;
    let groups = reopened
        .handle_list_thing_groups_for_thing(&me, &json!({"thingName": "dev"}))
        .await
        .unwrap();
    assert_eq!(groups["thingGroups"][0]["groupName"], "other");
}

#[tokio::test]
async fn certificate_states_and_deletion_rules() {
    let fx = fixture().await;
    let r = &fx.registry;
    let me = caller(ACCOUNT);
    let created = r
        .handle_create_keys_and_certificate(&me, &json!({"setAsActive": true}))
        .await
        .unwrap();
    let id = created["certificateId"].as_str().unwrap().to_string();
    let arn = created["certificateArn"].as_str().unwrap().to_string();
    let parsed =
        fleetward_ca::parse_certificate_pem(created["certificatePem"].as_str().unwrap()).unwrap();
    assert_eq!(parsed.id, id, "the id is the SHA-256 of the DER");

    r.handle_create_thing(&me, &json!({"thingName": "dev"}))
        .await
        .unwrap();
    r.handle_attach_thing_principal(&me, &json!({"thingName": "dev", "principal": arn}))
        .await
        .unwrap();
    r.handle_create_policy(
        &me,
        &json!({"policyName": "p", "policyDocument": allow_publish("a")}),
    )
    .await
    .unwrap();
    r.handle_attach_policy(&me, &json!({"policyName": "p", "target": arn}))
        .await
        .unwrap();

    let e = r
        .handle_delete_certificate(&me, &json!({"certificateId": id}))
        .await
        .unwrap_err();
    assert_eq!(code(e), "CertificateStateException");
    r.handle_update_certificate(&me, &json!({"certificateId": id, "newStatus": "REVOKED"}))
        .await
        .unwrap();
    let e = r
        .handle_update_certificate(&me, &json!({"certificateId": id, "newStatus": "ACTIVE"}))
        .await
        .unwrap_err();
    assert_eq!(code(e), "CertificateStateException");
    let e = r
        .handle_delete_certificate(&me, &json!({"certificateId": id, "forceDelete": true}))
        .await
        .unwrap_err();
    assert_eq!(
        code(e),
        "DeleteConflictException",
        "a thing is still attached"
    );
    r.handle_detach_thing_principal(&me, &json!({"thingName": "dev", "principal": arn}))
        .await
        .unwrap();
    let e = r
        .handle_delete_certificate(&me, &json!({"certificateId": id}))
        .await
        .unwrap_err();
    assert_eq!(
        code(e),
        "DeleteConflictException",
        "a policy is still attached"
    );
    r.handle_delete_certificate(&me, &json!({"certificateId": id, "forceDelete": true}))
        .await
        .unwrap();
    let targets = r
        .handle_list_targets_for_policy(&me, &json!({"policyName": "p"}))
        .await
        .unwrap();
    assert_eq!(
        targets["targets"],
        json!([]),
        "forceDelete detached the policy"
    );
    let e = r
        .handle_describe_certificate(&me, &json!({"certificateId": id}))
        .await
        .unwrap_err();
    assert_eq!(code(e), "ResourceNotFoundException");
}

#[tokio::test]
async fn csr_and_ca_registration() {
    let fx = fixture().await;
    let r = &fx.registry;
    let me = caller(ACCOUNT);
    let request = csr("sensor-7");
    let signed = r
        .handle_create_certificate_from_csr(
            &me,
            &json!({"certificateSigningRequest": request.csr_pem, "setAsActive": true}),
        )
        .await
        .unwrap();
    let parsed =
        fleetward_ca::parse_certificate_pem(signed["certificatePem"].as_str().unwrap()).unwrap();
    assert_eq!(parsed.common_name(), Some("sensor-7"));

    let ca = self_signed_ca("Test CA");
    let e = r
        .handle_register_ca_certificate(
            &me,
            &json!({"caCertificate": ca.cert_pem, "verificationCertificate": ca.cert_pem}),
        )
        .await
        .unwrap_err();
    assert_eq!(
        code(e),
        "RegistrationCodeValidationException",
        "no registration code yet"
    );
    let code_out = r
        .handle_get_registration_code(&me, &json!({}))
        .await
        .unwrap();
    let reg = code_out["registrationCode"].as_str().unwrap();
    let wrong = verification_cert(&ca, "not-the-code");
    let e = r
        .handle_register_ca_certificate(
            &me,
            &json!({"caCertificate": ca.cert_pem, "verificationCertificate": wrong.cert_pem}),
        )
        .await
        .unwrap_err();
    assert_eq!(code(e), "RegistrationCodeValidationException");
    let proof = verification_cert(&ca, reg);
    let registered = r
        .handle_register_ca_certificate(
            &me,
            &json!({"caCertificate": ca.cert_pem, "verificationCertificate": proof.cert_pem}),
        )
        .await
        .unwrap();
    let ca_id = registered["certificateId"].as_str().unwrap().to_string();

    let device = issue_cert(&ca, "dev-1", START_MS - YEAR_MS, START_MS + YEAR_MS);
    // The CA is registered INACTIVE: its devices cannot be registered yet.
    let e = r
        .handle_register_certificate(&me, &json!({"certificatePem": device.cert_pem}))
        .await
        .unwrap_err();
    assert_eq!(code(e), "CertificateStateException");
    r.handle_update_ca_certificate(
        &me,
        &json!({"caCertificateId": ca_id, "newStatus": "ACTIVE"}),
    )
    .await
    .unwrap();
    let dev = r
        .handle_register_certificate(
            &me,
            &json!({"certificatePem": device.cert_pem, "setAsActive": true}),
        )
        .await
        .unwrap();
    let described = r
        .handle_describe_certificate(&me, &json!({"certificateId": dev["certificateId"]}))
        .await
        .unwrap();
    assert_eq!(
        described["certificateDescription"]["caCertificateId"],
        json!(ca_id)
    );
    assert_eq!(described["certificateDescription"]["status"], "ACTIVE");
    let by_ca = r
        .handle_list_certificates_by_ca(&me, &json!({"caCertificateId": ca_id}))
        .await
        .unwrap();
    assert_eq!(by_ca["certificates"].as_array().unwrap().len(), 1);

    // A certificate from an unregistered CA is refused; an expired one too.
    let stranger = self_signed_ca("Stranger CA");
    let foreign = issue_cert(&stranger, "x", START_MS - YEAR_MS, START_MS + YEAR_MS);
    let e = r
        .handle_register_certificate(&me, &json!({"certificatePem": foreign.cert_pem}))
        .await
        .unwrap_err();
    assert_eq!(code(e), "CertificateValidationException");
    let expired = issue_cert(&ca, "old", START_MS - 2 * YEAR_MS, START_MS - YEAR_MS);
    let e = r
        .handle_register_certificate(&me, &json!({"certificatePem": expired.cert_pem}))
        .await
        .unwrap_err();
    assert_eq!(code(e), "CertificateValidationException");

    // CA deletion: not while ACTIVE, not while its devices are registered.
    let e = r
        .handle_delete_ca_certificate(&me, &json!({"caCertificateId": ca_id}))
        .await
        .unwrap_err();
    assert_eq!(code(e), "CertificateStateException");

    // DEFAULT-mode certificates belong to one account; SNI_ONLY ones may be shared.
    let e = r
        .handle_register_certificate_without_ca(
            &caller(OTHER),
            &json!({"certificatePem": device.cert_pem}),
        )
        .await
        .unwrap_err();
    assert_eq!(code(e), "CertificateConflictException");
}

#[tokio::test]
async fn policy_versions_defaults_and_attachments() {
    let fx = fixture().await;
    let r = &fx.registry;
    let me = caller(ACCOUNT);
    let e = r
        .handle_create_policy(
            &me,
            &json!({"policyName": "p", "policyDocument": "{\"Statement\": 5}"}),
        )
        .await
        .unwrap_err();
    assert_eq!(code(e), "MalformedPolicyException");
    r.handle_create_policy(
        &me,
        &json!({"policyName": "p", "policyDocument": allow_publish("v1")}),
    )
    .await
    .unwrap();
    for v in 2..=5 {
        r.handle_create_policy_version(
            &me,
            &json!({"policyName": "p", "policyDocument": allow_publish(&format!("v{v}"))}),
        )
        .await
        .unwrap();
    }
    let e = r
        .handle_create_policy_version(
            &me,
            &json!({"policyName": "p", "policyDocument": allow_publish("v6")}),
        )
        .await
        .unwrap_err();
    assert_eq!(code(e), "VersionsLimitExceededException");
    let e = r
        .handle_delete_policy_version(&me, &json!({"policyName": "p", "policyVersionId": "1"}))
        .await
        .unwrap_err();
    assert_eq!(code(e), "DeleteConflictException");
    r.handle_set_default_policy_version(&me, &json!({"policyName": "p", "policyVersionId": "3"}))
        .await
        .unwrap();
    let got = r
        .handle_get_policy(&me, &json!({"policyName": "p"}))
        .await
        .unwrap();
    assert_eq!(got["defaultVersionId"], "3");
    assert!(got["policyDocument"].as_str().unwrap().contains("topic/v3"));
    let e = r
        .handle_delete_policy(&me, &json!({"policyName": "p"}))
        .await
        .unwrap_err();
    assert_eq!(
        code(e),
        "DeleteConflictException",
        "non-default versions remain"
    );

    // A group policy reaches a thing's certificate through TestAuthorization.
    r.handle_create_thing_group(&me, &json!({"thingGroupName": "fleet"}))
        .await
        .unwrap();
    r.handle_create_thing_group(
        &me,
        &json!({"thingGroupName": "sub", "parentGroupName": "fleet"}),
    )
    .await
    .unwrap();
    let group_arn = "arn:aws:iot:us-east-1:000000000000:thinggroup/fleet";
    r.handle_attach_policy(&me, &json!({"policyName": "p", "target": group_arn}))
        .await
        .unwrap();
    r.handle_create_thing(&me, &json!({"thingName": "dev"}))
        .await
        .unwrap();
    r.handle_add_thing_to_thing_group(&me, &json!({"thingGroupName": "sub", "thingName": "dev"}))
        .await
        .unwrap();
    let cert = r
        .handle_create_keys_and_certificate(&me, &json!({"setAsActive": true}))
        .await
        .unwrap();
    let cert_arn = cert["certificateArn"].as_str().unwrap();
    r.handle_attach_thing_principal(&me, &json!({"thingName": "dev", "principal": cert_arn}))
        .await
        .unwrap();
    let topic = |t: &str| format!("arn:aws:iot:us-east-1:{ACCOUNT}:topic/{t}");
    let result = r
        .handle_test_authorization(
            &me,
            &json!({"principal": cert_arn, "clientId": "dev", "authInfos": [
                {"actionType": "PUBLISH", "resources": [topic("v3")]},
                {"actionType": "PUBLISH", "resources": [topic("v1")]}]}),
        )
        .await
        .unwrap();
    assert_eq!(result["authResults"][0]["authDecision"], "ALLOWED");
    assert_eq!(
        result["authResults"][0]["allowed"]["policies"][0]["policyName"],
        "p"
    );
    assert_eq!(result["authResults"][1]["authDecision"], "IMPLICIT_DENY");
    // Without the client id naming the attached thing, the group's policy does not apply.
    let result = r
        .handle_test_authorization(
            &me,
            &json!({"principal": cert_arn, "clientId": "someone-else",
            "authInfos": [{"actionType": "PUBLISH", "resources": [topic("v3")]}]}),
        )
        .await
        .unwrap();
    assert_eq!(result["authResults"][0]["authDecision"], "IMPLICIT_DENY");
    let recursive = r
        .handle_list_attached_policies(&me, &json!({"target": "arn:aws:iot:us-east-1:000000000000:thinggroup/sub", "recursive": true}))
        .await
        .unwrap();
    assert_eq!(recursive["policies"][0]["policyName"], "p");

    let reopened = fx.reopen().await;
    let versions = reopened
        .handle_list_policy_versions(&me, &json!({"policyName": "p"}))
        .await
        .unwrap();
    assert_eq!(versions["policyVersions"].as_array().unwrap().len(), 5);
    let targets = reopened
        .handle_list_targets_for_policy(&me, &json!({"policyName": "p"}))
        .await
        .unwrap();
    assert_eq!(targets["targets"], json!([group_arn]));
}

#[tokio::test]
async fn thing_types_deprecate_before_delete() {
    let fx = fixture().await;
    let r = &fx.registry;
    let me = caller(ACCOUNT);
    r.handle_create_thing_type(&me, &json!({"thingTypeName": "sensor"}))
        .await
        .unwrap();
    let e = r
        .handle_delete_thing_type(&me, &json!({"thingTypeName": "sensor"}))
        .await
        .unwrap_err();
    assert_eq!(code(e), "InvalidRequestException");
    r.handle_deprecate_thing_type(&me, &json!({"thingTypeName": "sensor"}))
        .await
        .unwrap();
    let e = r
        .handle_create_thing(&me, &json!({"thingName": "x", "thingTypeName": "sensor"}))
        .await
        .unwrap_err();
    assert_eq!(code(e), "InvalidRequestException");
    let e = r
        .handle_delete_thing_type(&me, &json!({"thingTypeName": "sensor"}))
        .await
        .unwrap_err();
    assert_eq!(
        code(e),
        "InvalidRequestException",
        "five minutes have not passed"
    );
    fx.clock.advance(5 * 60 * 1000);
    r.handle_delete_thing_type(&me, &json!({"thingTypeName": "sensor"}))
        .await
        .unwrap();
}

#[tokio::test]
async fn concurrent_creates_all_commit() {
    let fx = fixture().await;
    let registry = Arc::new(fx.registry);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let r = registry.clone();
        tasks.push(tokio::spawn(async move {
            r.handle_create_thing(&caller(ACCOUNT), &json!({"thingName": format!("c{i}")}))
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let docs = fx
        .store
        .list_documents(ACCOUNT, crate::persist::THING)
        .await
        .unwrap();
    assert_eq!(docs.len(), 200, "every acknowledged create is in the store");
}

#[tokio::test]
async fn gateway_identifies_certificates_and_sees_changes() {
    use crate::Refusal;
    let fx = fixture().await;
    let r = &fx.registry;
    let me = caller(ACCOUNT);
    let mut changes = r.watch_generation();
    let created = r
        .handle_create_keys_and_certificate(&me, &json!({"setAsActive": true}))
        .await
        .unwrap();
    assert!(
        changes.has_changed().unwrap(),
        "a commit bumps the generation"
    );
    changes.mark_unchanged();
    let id: crate::CertId = created["certificateId"].as_str().unwrap().parse().unwrap();
    let identity = r.identify(&id, START_MS).unwrap();
    assert_eq!(identity.account_id, ACCOUNT);
    assert_eq!(identity.cert_arn, created["certificateArn"]);

    r.handle_create_thing(
        &me,
        &json!({"thingName": "dev", "attributePayload": {"attributes": {"fleet": "n"}}}),
    )
    .await
    .unwrap();
    r.handle_attach_thing_principal(
        &me,
        &json!({"thingName": "dev", "principal": identity.cert_arn}),
    )
    .await
    .unwrap();
    r.handle_create_policy(
        &me,
        &json!({"policyName": "p", "policyDocument": allow_publish("x")}),
    )
    .await
    .unwrap();
    r.handle_attach_policy(
        &me,
        &json!({"policyName": "p", "target": identity.cert_arn}),
    )
    .await
    .unwrap();
    let set = r.policy_set(&identity, "dev");
    assert_eq!(set.policies.len(), 1);
    assert_eq!(
        set.thing.as_ref().unwrap().attributes,
        [("fleet".to_string(), "n".to_string())]
    );
    assert_eq!(set.generation, r.generation());
    assert!(r.policy_set(&identity, "not-the-thing").thing.is_none());

    r.handle_update_certificate(
        &me,
        &json!({"certificateId": id.to_string(), "newStatus": "INACTIVE"}),
    )
    .await
    .unwrap();
    assert!(changes.has_changed().unwrap());
    assert!(
        set.generation < r.generation(),
        "cached policy sets go stale"
    );
    assert_eq!(
        r.identify(&id, START_MS),
        Err(Refusal::NotActive(crate::CertStatus::Inactive))
    );
    let unknown: crate::CertId = "00".repeat(32).parse().unwrap();
    assert_eq!(r.identify(&unknown, START_MS), Err(Refusal::Unknown));
}
