"""IoT registry: policies and their versions, attachments (certificates, thing groups, things),
GetEffectivePolicies and TestAuthorization, with boto3."""

from __future__ import annotations

import json
import time

import pytest

from support import (
    DEFAULT_ACCOUNT,
    allow,
    collect_pages,
    deny,
    expect_error,
    iot_arn,
    policy_document,
    unique,
)

ACCT = DEFAULT_ACCOUNT
CONNECT_ANY = policy_document(allow("iot:Connect", "*"))


def topic(name: str) -> str:
    return iot_arn(ACCT, "topic", name)


def topicfilter(name: str) -> str:
    return iot_arn(ACCT, "topicfilter", name)


def client(name: str) -> str:
    return iot_arn(ACCT, "client", name)


def new_policy(iot, document: str = CONNECT_ANY, prefix: str = "pol") -> str:
    name = unique(prefix)
    iot.create_policy(policyName=name, policyDocument=document)
    return name


def new_cert(iot) -> dict:
    return iot.create_keys_and_certificate(setAsActive=True)


def policy_names(policies: list[dict]) -> set[str]:
    return {p["policyName"] for p in policies}


# --------------------------------------------------------------------------------------------
# Policies and versions


def test_create_and_get_policy(iot):
    name = unique("pol")
    doc = policy_document(allow(["iot:Publish", "iot:Receive"], topic("sensors/*")))
    created = iot.create_policy(policyName=name, policyDocument=doc)
    assert created["policyName"] == name
    assert created["policyArn"] == iot_arn(ACCT, "policy", name)
    assert created["policyVersionId"] == "1"
    assert json.loads(created["policyDocument"]) == json.loads(doc)

    got = iot.get_policy(policyName=name)
    assert got["policyName"] == name
    assert got["policyArn"] == created["policyArn"]
    assert got["defaultVersionId"] == "1"
    assert json.loads(got["policyDocument"]) == json.loads(doc)
    assert got["creationDate"] <= got["lastModifiedDate"]

    version = iot.get_policy_version(policyName=name, policyVersionId="1")
    assert version["isDefaultVersion"] is True
    assert version["policyArn"] == created["policyArn"]
    assert json.loads(version["policyDocument"]) == json.loads(doc)

    listed, _ = collect_pages(iot.list_policies, "policies", size=250, size_param="pageSize",
                              token_param="marker", token_field="nextMarker")
    assert {"policyName": name, "policyArn": created["policyArn"]} in listed


def test_duplicate_and_missing_policies(iot):
    name = new_policy(iot)
    exc = expect_error(iot.create_policy, "ResourceAlreadyExistsException", 409,
                       policyName=name, policyDocument=CONNECT_ANY)
    assert exc.response.get("resourceArn") == iot_arn(ACCT, "policy", name), exc.response
    missing = unique("nopol")
    expect_error(iot.get_policy, "ResourceNotFoundException", 404, policyName=missing)
    expect_error(iot.get_policy_version, "ResourceNotFoundException", 404, policyName=name, policyVersionId="9")
    expect_error(iot.list_policy_versions, "ResourceNotFoundException", 404, policyName=missing)
    expect_error(iot.create_policy_version, "ResourceNotFoundException", 404,
                 policyName=missing, policyDocument=CONNECT_ANY)
    expect_error(iot.delete_policy, "ResourceNotFoundException", 404, policyName=missing)


MALFORMED = {
    "not-json": "this is not json",
    "top-level-array": "[]",
    "no-statement": json.dumps({"Version": "2012-10-17"}),
    "bad-effect": policy_document({"Effect": "Perhaps", "Action": "iot:Connect", "Resource": "*"}),
    "statement-is-a-string": json.dumps({"Version": "2012-10-17", "Statement": "allow everything"}),
    "no-action": policy_document({"Effect": "Allow", "Resource": "*"}),
}


@pytest.mark.parametrize("doc", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_policy_documents(iot, doc):
    # CreatePolicy/CreatePolicyVersion: MalformedPolicyException (400), "The policy documentation
    # is not valid."
    name = unique("bad")
    expect_error(iot.create_policy, "MalformedPolicyException", 400, policyName=name, policyDocument=doc)
    expect_error(iot.get_policy, "ResourceNotFoundException", 404, policyName=name)
    good = new_policy(iot)
    expect_error(iot.create_policy_version, "MalformedPolicyException", 400, policyName=good, policyDocument=doc)
    assert [v["versionId"] for v in iot.list_policy_versions(policyName=good)["policyVersions"]] == ["1"]


def test_policy_versions(iot):
    name = new_policy(iot, policy_document(allow("iot:Connect", client("v1"))))
    docs = {"1": policy_document(allow("iot:Connect", client("v1")))}
    for n in range(2, 6):
        docs[str(n)] = policy_document(allow("iot:Connect", client(f"v{n}")))
        resp = iot.create_policy_version(policyName=name, policyDocument=docs[str(n)], setAsDefault=(n == 3))
        assert resp["policyVersionId"] == str(n)
        assert resp["isDefaultVersion"] is (n == 3)
        assert resp["policyArn"] == iot_arn(ACCT, "policy", name)

    got = iot.get_policy(policyName=name)
    assert got["defaultVersionId"] == "3"
    assert json.loads(got["policyDocument"]) == json.loads(docs["3"])
    versions = iot.list_policy_versions(policyName=name)["policyVersions"]
    assert sorted(v["versionId"] for v in versions) == ["1", "2", "3", "4", "5"]
    assert [v["versionId"] for v in versions if v["isDefaultVersion"]] == ["3"]

    # CreatePolicyVersion docs: "A managed policy can have up to five versions. If the policy has
    # five versions, you must use DeletePolicyVersion to delete an existing version before you
    # create a new one." The model's error for this is VersionsLimitExceededException (409).
    expect_error(iot.create_policy_version, "VersionsLimitExceededException", 409,
                 policyName=name, policyDocument=CONNECT_ANY)

    # DeletePolicyVersion docs: "You cannot delete the default version of a policy using this
    # action." (DeleteConflictException, 409)
    expect_error(iot.delete_policy_version, "DeleteConflictException", 409, policyName=name, policyVersionId="3")

    iot.set_default_policy_version(policyName=name, policyVersionId="1")
    got = iot.get_policy(policyName=name)
    assert got["defaultVersionId"] == "1"
    assert json.loads(got["policyDocument"]) == json.loads(docs["1"])
    assert iot.get_policy_version(policyName=name, policyVersionId="3")["isDefaultVersion"] is False

    iot.delete_policy_version(policyName=name, policyVersionId="3")
    expect_error(iot.get_policy_version, "ResourceNotFoundException", 404, policyName=name, policyVersionId="3")
    expect_error(iot.set_default_policy_version, "ResourceNotFoundException", 404,
                 policyName=name, policyVersionId="3")
    # Version ids keep counting up; a deleted id is not handed out again.
    resp = iot.create_policy_version(policyName=name, policyDocument=CONNECT_ANY)
    assert int(resp["policyVersionId"]) > 5
    assert sorted(int(v["versionId"]) for v in iot.list_policy_versions(policyName=name)["policyVersions"]) == \
        [1, 2, 4, 5, int(resp["policyVersionId"])]


def test_delete_policy_rules(iot):
    # DeletePolicy docs: "A policy cannot be deleted if it has non-default versions or it is
    # attached to any certificate." (DeleteConflictException, 409)
    name = new_policy(iot)
    iot.create_policy_version(policyName=name, policyDocument=CONNECT_ANY)
    expect_error(iot.delete_policy, "DeleteConflictException", 409, policyName=name)
    iot.delete_policy_version(policyName=name, policyVersionId="2")

    cert = new_cert(iot)
    iot.attach_policy(policyName=name, target=cert["certificateArn"])
    expect_error(iot.delete_policy, "DeleteConflictException", 409, policyName=name)
    iot.detach_policy(policyName=name, target=cert["certificateArn"])

    group = unique("grp")
    group_arn = iot.create_thing_group(thingGroupName=group)["thingGroupArn"]
    iot.attach_policy(policyName=name, target=group_arn)
    expect_error(iot.delete_policy, "DeleteConflictException", 409, policyName=name)
    iot.detach_policy(policyName=name, target=group_arn)

    iot.delete_policy(policyName=name)
    expect_error(iot.get_policy, "ResourceNotFoundException", 404, policyName=name)
    expect_error(iot.delete_policy, "ResourceNotFoundException", 404, policyName=name)


def test_list_policies_order_and_paging(make_iot_account):
    # ListPolicies.ascendingOrder: "If true, the results are returned in ascending creation order."
    # The names are created out of alphabetical order so that a name sort would show.
    acct = make_iot_account()
    created = [f"pol-{letter}" for letter in "ecadb"]
    for name in created:
        acct.iot.create_policy(policyName=name, policyDocument=CONNECT_ANY)
        time.sleep(0.01)

    def listing(ascending: bool):
        policies, pages = collect_pages(acct.iot.list_policies, "policies", size=2, size_param="pageSize",
                                        token_param="marker", token_field="nextMarker", ascendingOrder=ascending)
        assert pages >= 3
        for policy in policies:
            assert policy["policyArn"] == acct.arn("policy", policy["policyName"])
        return [p["policyName"] for p in policies]

    assert listing(True) == created
    assert listing(False) == created[::-1]


# --------------------------------------------------------------------------------------------
# Attachments


def test_attach_and_detach_policy_to_certificate(iot):
    name = new_policy(iot)
    cert = new_cert(iot)
    arn = cert["certificateArn"]
    iot.attach_policy(policyName=name, target=arn)
    iot.attach_policy(policyName=name, target=arn)  # attaching again changes nothing

    attached = iot.list_attached_policies(target=arn)["policies"]
    assert attached == [{"policyName": name, "policyArn": iot_arn(ACCT, "policy", name)}]
    assert iot.list_targets_for_policy(policyName=name)["targets"] == [arn]

    iot.detach_policy(policyName=name, target=arn)
    assert iot.list_attached_policies(target=arn)["policies"] == []
    assert iot.list_targets_for_policy(policyName=name)["targets"] == []


def test_attach_policy_to_missing_things(iot):
    name = new_policy(iot)
    cert = new_cert(iot)
    expect_error(iot.attach_policy, "ResourceNotFoundException", 404,
                 policyName=unique("nopol"), target=cert["certificateArn"])
    expect_error(iot.attach_policy, "ResourceNotFoundException", 404,
                 policyName=name, target=iot_arn(ACCT, "cert", "0" * 64))
    expect_error(iot.attach_policy, "ResourceNotFoundException", 404,
                 policyName=name, target=iot_arn(ACCT, "thinggroup", unique("nogroup")))
    expect_error(iot.list_targets_for_policy, "ResourceNotFoundException", 404, policyName=unique("nopol"))
    assert iot.list_targets_for_policy(policyName=name)["targets"] == []


def test_attach_policy_limit_per_certificate(iot):
    # AWS IoT Core quotas: at most 10 policies attached to a certificate; AttachPolicy lists
    # LimitExceededException (410).
    cert = new_cert(iot)
    policies = [new_policy(iot) for _ in range(11)]
    for name in policies[:10]:
        iot.attach_policy(policyName=name, target=cert["certificateArn"])
    expect_error(iot.attach_policy, "LimitExceededException", 410,
                 policyName=policies[10], target=cert["certificateArn"])
    attached, _ = collect_pages(iot.list_attached_policies, "policies", size=4, size_param="pageSize",
                                token_param="marker", token_field="nextMarker", target=cert["certificateArn"])
    assert policy_names(attached) == set(policies[:10])
    assert len(attached) == 10


def test_list_attached_policies_and_targets_page(iot):
    cert = new_cert(iot)
    policies = {new_policy(iot) for _ in range(5)}
    for name in policies:
        iot.attach_policy(policyName=name, target=cert["certificateArn"])
    attached, pages = collect_pages(iot.list_attached_policies, "policies", size=2, size_param="pageSize",
                                    token_param="marker", token_field="nextMarker", target=cert["certificateArn"])
    assert len(attached) == 5, f"duplicates across pages: {attached}"
    assert policy_names(attached) == policies
    assert pages >= 3

    shared = new_policy(iot)
    certs = {new_cert(iot)["certificateArn"] for _ in range(5)}
    for arn in certs:
        iot.attach_policy(policyName=shared, target=arn)
    targets, pages = collect_pages(iot.list_targets_for_policy, "targets", size=2, size_param="pageSize",
                                   token_param="marker", token_field="nextMarker", policyName=shared)
    assert sorted(targets) == sorted(certs)
    assert pages >= 3


def test_thing_group_policies_are_inherited(iot):
    # Developer guide, "Static thing groups": a policy attached to a parent group is inherited by
    # its child groups; ListAttachedPolicies.recursive: "When true, recursively list attached
    # policies."
    root, child = unique("root"), unique("child")
    root_arn = iot.create_thing_group(thingGroupName=root)["thingGroupArn"]
    child_arn = iot.create_thing_group(thingGroupName=child, parentGroupName=root)["thingGroupArn"]
    p_root, p_child = new_policy(iot), new_policy(iot)
    iot.attach_policy(policyName=p_root, target=root_arn)
    iot.attach_policy(policyName=p_child, target=child_arn)

    assert policy_names(iot.list_attached_policies(target=child_arn)["policies"]) == {p_child}
    assert policy_names(iot.list_attached_policies(target=child_arn, recursive=True)["policies"]) == \
        {p_root, p_child}
    assert policy_names(iot.list_attached_policies(target=root_arn, recursive=True)["policies"]) == {p_root}
    assert iot.list_targets_for_policy(policyName=p_root)["targets"] == [root_arn]


def test_get_effective_policies(iot):
    # GetEffectivePolicies: the policies that affect the device, "including policies attached to
    # any groups to which it belongs" (AWS CLI example), parents included.
    root, child = unique("root"), unique("child")
    root_arn = iot.create_thing_group(thingGroupName=root)["thingGroupArn"]
    child_arn = iot.create_thing_group(thingGroupName=child, parentGroupName=root)["thingGroupArn"]
    docs = {
        "cert": policy_document(allow("iot:Connect", client("c"))),
        "root": policy_document(allow("iot:Publish", topic("root/*"))),
        "child": policy_document(allow("iot:Subscribe", topicfilter("child/*"))),
    }
    names = {key: new_policy(iot, doc, prefix=key) for key, doc in docs.items()}
    cert = new_cert(iot)
    thing = unique("thing")
    iot.create_thing(thingName=thing)
    iot.attach_thing_principal(thingName=thing, principal=cert["certificateArn"])
    iot.add_thing_to_thing_group(thingGroupName=child, thingName=thing)
    iot.attach_policy(policyName=names["cert"], target=cert["certificateArn"])
    iot.attach_policy(policyName=names["root"], target=root_arn)
    iot.attach_policy(policyName=names["child"], target=child_arn)

    effective = iot.get_effective_policies(principal=cert["certificateArn"], thingName=thing)["effectivePolicies"]
    by_name = {p["policyName"]: p for p in effective}
    assert set(by_name) == set(names.values())
    for key, name in names.items():
        assert by_name[name]["policyArn"] == iot_arn(ACCT, "policy", name)
        assert json.loads(by_name[name]["policyDocument"]) == json.loads(docs[key])

    only_cert = iot.get_effective_policies(principal=cert["certificateArn"])["effectivePolicies"]
    assert policy_names(only_cert) == {names["cert"]}


# --------------------------------------------------------------------------------------------
# Things and principals


def test_thing_principals(iot):
    thing = unique("thing")
    iot.create_thing(thingName=thing)
    certs = [new_cert(iot)["certificateArn"] for _ in range(3)]
    for arn in certs:
        iot.attach_thing_principal(thingName=thing, principal=arn)

    principals, pages = collect_pages(iot.list_thing_principals, "principals", size=1, thingName=thing)
    assert sorted(principals) == sorted(certs)
    assert pages >= 3

    other = unique("thing")
    iot.create_thing(thingName=other)
    iot.attach_thing_principal(thingName=other, principal=certs[0])
    things, _ = collect_pages(iot.list_principal_things, "things", size=1, principal=certs[0])
    assert sorted(things) == sorted([thing, other])
    assert iot.list_principal_things(principal=certs[1])["things"] == [thing]

    iot.detach_thing_principal(thingName=thing, principal=certs[0])
    assert sorted(iot.list_thing_principals(thingName=thing)["principals"]) == sorted(certs[1:])
    assert iot.list_principal_things(principal=certs[0])["things"] == [other]


def test_thing_principal_errors(iot):
    thing = unique("thing")
    iot.create_thing(thingName=thing)
    cert = new_cert(iot)["certificateArn"]
    expect_error(iot.attach_thing_principal, "ResourceNotFoundException", 404,
                 thingName=unique("nothing"), principal=cert)
    expect_error(iot.attach_thing_principal, "ResourceNotFoundException", 404,
                 thingName=thing, principal=iot_arn(ACCT, "cert", "0" * 64))
    expect_error(iot.list_thing_principals, "ResourceNotFoundException", 404, thingName=unique("nothing"))
    expect_error(iot.list_principal_things, "ResourceNotFoundException", 404,
                 principal=iot_arn(ACCT, "cert", "0" * 64))


# --------------------------------------------------------------------------------------------
# TestAuthorization


def decision(result: dict) -> str:
    return result["authDecision"]


def allowed_names(result: dict) -> set[str]:
    return policy_names((result.get("allowed") or {}).get("policies") or [])


def explicit_deny_names(result: dict) -> set[str]:
    return policy_names(((result.get("denied") or {}).get("explicitDeny") or {}).get("policies") or [])


def implicit_deny_names(result: dict) -> set[str]:
    return policy_names(((result.get("denied") or {}).get("implicitDeny") or {}).get("policies") or [])


def authorize(iot, principal: str, *infos: tuple[str, str], **kwargs) -> list[dict]:
    """TestAuthorization for (actionType, resource) pairs; returns the results in request order,
    matched by their echoed authInfo."""
    auth_infos = [{"actionType": action, "resources": [resource]} for action, resource in infos]
    results = iot.test_authorization(principal=principal, authInfos=auth_infos, **kwargs)["authResults"]
    assert len(results) == len(auth_infos)
    by_info = {(r["authInfo"]["actionType"], tuple(r["authInfo"]["resources"])): r for r in results}
    return [by_info[(action, (resource,))] for action, resource in infos]


def test_authorization_allow_explicit_and_implicit_deny(iot):
    # AuthResult.authDecision: "An explicit deny statement can override multiple allow
    # statements." ImplicitDeny.policies: "Policies that don't contain a matching allow or deny
    # statement for the specified action on the specified resource."
    cert = new_cert(iot)["certificateArn"]
    p_allow = new_policy(iot, policy_document(allow("iot:Publish", topic("sensors/*"))), prefix="allow")
    p_deny = new_policy(iot, policy_document(deny("iot:Publish", topic("sensors/secret"))), prefix="deny")
    for name in (p_allow, p_deny):
        iot.attach_policy(policyName=name, target=cert)

    ok, denied, unknown = authorize(iot, cert, ("PUBLISH", topic("sensors/room1/temp")),
                                    ("PUBLISH", topic("sensors/secret")), ("PUBLISH", topic("other")))
    assert decision(ok) == "ALLOWED"
    assert allowed_names(ok) == {p_allow}
    assert decision(denied) == "EXPLICIT_DENY"
    assert explicit_deny_names(denied) == {p_deny}
    assert decision(unknown) == "IMPLICIT_DENY"
    assert allowed_names(unknown) == set() and explicit_deny_names(unknown) == set()
    assert implicit_deny_names(unknown) == {p_allow, p_deny}


def test_authorization_action_types(iot):
    cert = new_cert(iot)["certificateArn"]
    name = new_policy(iot, policy_document(
        allow("iot:Connect", client("dev-1")),
        allow("iot:Publish", topic("t/out")),
        allow("iot:Subscribe", topicfilter("t/in")),
        allow("iot:Receive", topic("t/in")),
    ))
    iot.attach_policy(policyName=name, target=cert)
    results = authorize(iot, cert,
                        ("CONNECT", client("dev-1")), ("PUBLISH", topic("t/out")),
                        ("SUBSCRIBE", topicfilter("t/in")), ("RECEIVE", topic("t/in")),
                        ("CONNECT", client("dev-2")), ("PUBLISH", topic("t/in")),
                        ("SUBSCRIBE", topicfilter("t/out")), ("RECEIVE", topic("t/out")))
    assert [decision(r) for r in results] == ["ALLOWED"] * 4 + ["IMPLICIT_DENY"] * 4
    assert all(allowed_names(r) == {name} for r in results[:4])


def test_authorization_policy_names_to_add_and_skip(iot):
    cert = new_cert(iot)["certificateArn"]
    attached = new_policy(iot, policy_document(allow("iot:Publish", topic("a"))))
    iot.attach_policy(policyName=attached, target=cert)
    extra = new_policy(iot, policy_document(allow("iot:Receive", topic("b"))))

    [before] = authorize(iot, cert, ("RECEIVE", topic("b")))
    assert decision(before) == "IMPLICIT_DENY"
    # policyNamesToAdd: "treated as if they are attached to the principal being authorized".
    [with_extra] = authorize(iot, cert, ("RECEIVE", topic("b")), policyNamesToAdd=[extra])
    assert decision(with_extra) == "ALLOWED"
    assert allowed_names(with_extra) == {extra}
    # policyNamesToSkip: "treated as if they are not attached to the principal being authorized".
    [skipped] = authorize(iot, cert, ("PUBLISH", topic("a")), policyNamesToSkip=[attached])
    assert decision(skipped) == "IMPLICIT_DENY"
    assert attached not in allowed_names(skipped)
    [plain] = authorize(iot, cert, ("PUBLISH", topic("a")))
    assert decision(plain) == "ALLOWED"


def test_authorization_thing_name_policy_variable(iot):
    # Thing policy variables: iot:Connection.Thing.ThingName is the name of the thing whose name
    # is the MQTT client ID, when that thing is attached to the certificate.
    doc = policy_document(allow("iot:Connect", client("${iot:Connection.Thing.ThingName}")),
                          allow("iot:Publish", topic("things/${iot:Connection.Thing.ThingName}/*")))
    policy = new_policy(iot, doc)
    thing = unique("dev")
    iot.create_thing(thingName=thing)
    cert = new_cert(iot)["certificateArn"]
    iot.attach_policy(policyName=policy, target=cert)
    iot.attach_thing_principal(thingName=thing, principal=cert)

    own_connect, other_connect, own_publish, other_publish = authorize(
        iot, cert, ("CONNECT", client(thing)), ("CONNECT", client("someone-else")),
        ("PUBLISH", topic(f"things/{thing}/telemetry")), ("PUBLISH", topic("things/someone-else/telemetry")),
        clientId=thing)
    assert decision(own_connect) == "ALLOWED"
    assert allowed_names(own_connect) == {policy}
    assert decision(other_connect) == "IMPLICIT_DENY"
    assert decision(own_publish) == "ALLOWED"
    assert decision(other_publish) == "IMPLICIT_DENY"

    # A certificate not attached to the thing gets no thing name: nothing matches.
    stranger = new_cert(iot)["certificateArn"]
    iot.attach_policy(policyName=policy, target=stranger)
    [connect] = authorize(iot, stranger, ("CONNECT", client(thing)), clientId=thing)
    assert decision(connect) == "IMPLICIT_DENY"


def test_authorization_errors(iot, iot_raw):
    cert = new_cert(iot)["certificateArn"]
    info = [{"actionType": "PUBLISH", "resources": [topic("x")]}]
    expect_error(iot.test_authorization, "ResourceNotFoundException", 404,
                 principal=iot_arn(ACCT, "cert", "0" * 64), authInfos=info)
    expect_error(iot.test_authorization, "ResourceNotFoundException", 404,
                 principal=cert, authInfos=info, policyNamesToAdd=[unique("nopol")])
    # AuthInfos: 1 to 10 entries.
    expect_error(iot_raw.test_authorization, "InvalidRequestException", 400, principal=cert, authInfos=[])
    expect_error(iot_raw.test_authorization, "InvalidRequestException", 400, principal=cert, authInfos=info * 11)
    expect_error(iot_raw.test_authorization, "InvalidRequestException", 400, principal=cert,
                 authInfos=[{"actionType": "FLY", "resources": [topic("x")]}])
