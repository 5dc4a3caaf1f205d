"""IoT registry account isolation: two accounts made with `fleetward admin` cannot see, change or
use each other's things, groups, certificates, CAs, policies and role aliases."""

from __future__ import annotations

import pytest

from support import (
    TestCA,
    allow,
    cert_id_of,
    collect_pages,
    expect_error,
    expect_error_one_of,
    iot_arn,
    policy_document,
    unique,
)

DOC = policy_document(allow("iot:Connect", "*"))


@pytest.fixture(scope="module")
def pair(make_iot_account):
    """Accounts A and B, each with a thing, a group, a certificate and a policy of its own."""
    a, b = make_iot_account("tenant A"), make_iot_account("tenant B")
    for acct in (a, b):
        acct.thing = unique("thing")
        acct.iot.create_thing(thingName=acct.thing, attributePayload={"attributes": {"owner": acct.account_id}})
        acct.group = unique("grp")
        acct.iot.create_thing_group(thingGroupName=acct.group)
        acct.cert = acct.iot.create_keys_and_certificate(setAsActive=True)
        acct.policy = unique("pol")
        acct.iot.create_policy(policyName=acct.policy, policyDocument=DOC)
    return a, b


def test_things_are_per_account(pair):
    a, b = pair
    expect_error(b.iot.describe_thing, "ResourceNotFoundException", 404, thingName=a.thing)
    expect_error(b.iot.update_thing, "ResourceNotFoundException", 404,
                 thingName=a.thing, attributePayload={"attributes": {"owner": "b"}})
    listed, _ = collect_pages(b.iot.list_things, "things", size=250)
    assert [t["thingName"] for t in listed] == [b.thing]
    # DeleteThing succeeds for a thing the caller does not have (docs), and A's thing stays.
    b.iot.delete_thing(thingName=a.thing)
    desc = a.iot.describe_thing(thingName=a.thing)
    assert desc["attributes"] == {"owner": a.account_id}

    # The same name is free in the other account, with that account's ARN.
    created = b.iot.create_thing(thingName=a.thing)
    assert created["thingArn"] == iot_arn(b.account_id, "thing", a.thing)
    assert created["thingId"] != desc["thingId"]
    assert a.iot.describe_thing(thingName=a.thing)["thingArn"] == iot_arn(a.account_id, "thing", a.thing)
    b.iot.delete_thing(thingName=a.thing)
    a.iot.describe_thing(thingName=a.thing)


def test_thing_groups_are_per_account(pair):
    a, b = pair
    expect_error(b.iot.describe_thing_group, "ResourceNotFoundException", 404, thingGroupName=a.group)
    expect_error(b.iot.add_thing_to_thing_group, "ResourceNotFoundException", 404,
                 thingGroupName=a.group, thingName=b.thing)
    expect_error(b.iot.list_things_in_thing_group, "ResourceNotFoundException", 404, thingGroupName=a.group)
    groups, _ = collect_pages(b.iot.list_thing_groups, "thingGroups", size=250)
    assert a.group not in {g["groupName"] for g in groups}
    expect_error(b.iot.list_tags_for_resource, "ResourceNotFoundException", 404,
                 resourceArn=iot_arn(a.account_id, "thinggroup", a.group))
    a.iot.describe_thing_group(thingGroupName=a.group)


def test_certificates_are_per_account(pair):
    a, b = pair
    cert_id, cert_arn = a.cert["certificateId"], a.cert["certificateArn"]
    assert cert_arn == iot_arn(a.account_id, "cert", cert_id)
    expect_error(b.iot.describe_certificate, "ResourceNotFoundException", 404, certificateId=cert_id)
    expect_error(b.iot.update_certificate, "ResourceNotFoundException", 404, certificateId=cert_id,
                 newStatus="REVOKED")
    expect_error(b.iot.delete_certificate, "ResourceNotFoundException", 404, certificateId=cert_id)
    certs, _ = collect_pages(b.iot.list_certificates, "certificates", size=250, size_param="pageSize",
                             token_param="marker", token_field="nextMarker")
    assert [c["certificateId"] for c in certs] == [b.cert["certificateId"]]

    # B cannot attach A's certificate to its thing or its policy, nor test A's certificate.
    expect_error_one_of(b.iot.attach_thing_principal, {"ResourceNotFoundException", "InvalidRequestException"},
                        thingName=b.thing, principal=cert_arn)
    expect_error_one_of(b.iot.attach_policy, {"ResourceNotFoundException", "InvalidRequestException"},
                        policyName=b.policy, target=cert_arn)
    expect_error_one_of(b.iot.test_authorization, {"ResourceNotFoundException", "InvalidRequestException"},
                        principal=cert_arn, authInfos=[{"actionType": "CONNECT",
                                                        "resources": [iot_arn(a.account_id, "client", "c")]}])
    desc = a.iot.describe_certificate(certificateId=cert_id)["certificateDescription"]
    assert desc["status"] == "ACTIVE" and desc["ownedBy"] == a.account_id
    assert a.iot.list_principal_things(principal=cert_arn)["things"] == []
    assert a.iot.list_targets_for_policy(policyName=a.policy)["targets"] == []


def test_policies_are_per_account(pair):
    a, b = pair
    expect_error(b.iot.get_policy, "ResourceNotFoundException", 404, policyName=a.policy)
    expect_error(b.iot.delete_policy, "ResourceNotFoundException", 404, policyName=a.policy)
    expect_error(b.iot.create_policy_version, "ResourceNotFoundException", 404,
                 policyName=a.policy, policyDocument=DOC)
    expect_error(b.iot.attach_policy, "ResourceNotFoundException", 404,
                 policyName=a.policy, target=b.cert["certificateArn"])
    policies, _ = collect_pages(b.iot.list_policies, "policies", size=250, size_param="pageSize",
                                token_param="marker", token_field="nextMarker")
    assert [p["policyName"] for p in policies] == [b.policy]

    created = b.iot.create_policy(policyName=a.policy, policyDocument=DOC)
    assert created["policyArn"] == iot_arn(b.account_id, "policy", a.policy)
    b.iot.delete_policy(policyName=a.policy)
    got = a.iot.get_policy(policyName=a.policy)
    assert got["policyArn"] == iot_arn(a.account_id, "policy", a.policy)


def test_role_aliases_are_per_account(pair):
    a, b = pair
    alias = unique("alias")
    a.iot.create_role_alias(roleAlias=alias, roleArn=f"arn:aws:iam::{a.account_id}:role/r")
    expect_error(b.iot.describe_role_alias, "ResourceNotFoundException", 404, roleAlias=alias)
    expect_error(b.iot.delete_role_alias, "ResourceNotFoundException", 404, roleAlias=alias)
    assert alias not in b.iot.list_role_aliases()["roleAliases"]
    assert a.iot.describe_role_alias(roleAlias=alias)["roleAliasDescription"]["owner"] == a.account_id


def test_registration_codes_are_per_account(pair):
    a, b = pair
    code_a = a.iot.get_registration_code()["registrationCode"]
    code_b = b.iot.get_registration_code()["registrationCode"]
    assert code_a and code_b and code_a != code_b
    # A verification certificate made for A's code does not register a CA in B.
    ca = TestCA()
    expect_error(b.iot.register_ca_certificate, "RegistrationCodeValidationException", 400,
                 caCertificate=ca.pem, verificationCertificate=ca.verification_cert(code_a))


def test_sni_only_ca_can_be_registered_in_both_accounts(pair):
    # Developer guide: "A CA certificate can be registered in SNI_ONLY mode by multiple accounts in
    # a Region."
    a, b = pair
    ca = TestCA()
    for acct in (a, b):
        resp = acct.iot.register_ca_certificate(caCertificate=ca.pem, certificateMode="SNI_ONLY", setAsActive=True)
        assert resp["certificateId"] == ca.id
        assert resp["certificateArn"] == iot_arn(acct.account_id, "cacert", ca.id)
    for acct in (a, b):
        desc = acct.iot.describe_ca_certificate(certificateId=ca.id)["certificateDescription"]
        assert desc["ownedBy"] == acct.account_id

    # A device certificate of that CA registered in A is A's alone.
    _, pem = ca.issue()
    device_id = a.iot.register_certificate(certificatePem=pem, caCertificatePem=ca.pem,
                                           status="ACTIVE")["certificateId"]
    assert device_id == cert_id_of(pem)
    expect_error(b.iot.describe_certificate, "ResourceNotFoundException", 404, certificateId=device_id)
    assert b.iot.list_certificates_by_ca(caCertificateId=ca.id)["certificates"] == []
    assert [c["certificateId"] for c in a.iot.list_certificates_by_ca(caCertificateId=ca.id)["certificates"]] == \
        [device_id]

    # Deleting the CA in A leaves B's registration alone. (The device certificate goes first:
    # Fleetward refuses to delete a CA that still has device certificates.)
    a.iot.update_certificate(certificateId=device_id, newStatus="INACTIVE")
    a.iot.delete_certificate(certificateId=device_id)
    a.iot.update_ca_certificate(certificateId=ca.id, newStatus="INACTIVE")
    a.iot.delete_ca_certificate(certificateId=ca.id)
    expect_error(a.iot.describe_ca_certificate, "ResourceNotFoundException", 404, certificateId=ca.id)
    assert b.iot.describe_ca_certificate(certificateId=ca.id)["certificateDescription"]["status"] == "ACTIVE"


def test_default_mode_ca_belongs_to_one_account(pair):
    # Developer guide: "A CA certificate can be registered in DEFAULT mode by only one account in a
    # Region." The error code for the second account is not documented.
    a, b = pair
    ca = TestCA()
    code_a = a.iot.get_registration_code()["registrationCode"]
    a.iot.register_ca_certificate(caCertificate=ca.pem, verificationCertificate=ca.verification_cert(code_a),
                                  setAsActive=True)
    code_b = b.iot.get_registration_code()["registrationCode"]
    expect_error_one_of(b.iot.register_ca_certificate,
                        {"ResourceAlreadyExistsException", "CertificateConflictException", "InvalidRequestException"},
                        caCertificate=ca.pem, verificationCertificate=ca.verification_cert(code_b))
    expect_error(b.iot.describe_ca_certificate, "ResourceNotFoundException", 404, certificateId=ca.id)
    assert a.iot.describe_ca_certificate(certificateId=ca.id)["certificateDescription"]["ownedBy"] == a.account_id
