"""IoT registry input validation: names, lengths, ranges, enums and required members are checked
by the server (the `iot_raw` client skips botocore's own checks), and errors use the rest-json
shape with the status code of the model's error shape."""

from __future__ import annotations

import json

import pytest

from support import (
    DEFAULT_ACCOUNT,
    IOT_SERVICE,
    TestCA,
    error_code_from_header,
    expect_error,
    iot_arn,
    signed_request,
    unique,
)

ACCT = DEFAULT_ACCOUNT
DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]})

# ThingName/ThingGroupName/ThingTypeName: 1-128 characters of [a-zA-Z0-9:_-]+.
BAD_THING_NAMES = {"space": "bad name", "slash": "a/b", "non-ascii": "th\u00efng", "dot": "a.b", "too-long": "x" * 129}
# PolicyName: 1-128 characters of [\w+=,.@-]+; RoleAlias: 1-128 characters of [\w=,@-]+.
BAD_POLICY_NAMES = {"space": "bad name", "slash": "p/q", "hash": "p#q", "too-long": "p" * 129}
BAD_ALIASES = {"space": "bad alias", "dot": "a.b", "too-long": "r" * 129}


@pytest.mark.parametrize("name", BAD_THING_NAMES.values(), ids=BAD_THING_NAMES.keys())
def test_invalid_registry_names(iot, name):
    expect_error(iot.create_thing, "InvalidRequestException", 400, thingName=name)
    expect_error(iot.create_thing_group, "InvalidRequestException", 400, thingGroupName=name)
    expect_error(iot.create_thing_type, "InvalidRequestException", 400, thingTypeName=name)
    # A name that cannot exist is a bad request, not a missing resource.
    expect_error(iot.describe_thing, "InvalidRequestException", 400, thingName=name)


def test_longest_valid_names(iot):
    name = "a:b_c-" + "x" * 122
    assert len(name) == 128
    assert iot.create_thing(thingName=name)["thingArn"] == iot_arn(ACCT, "thing", name)
    assert iot.describe_thing(thingName=name)["thingName"] == name
    iot.delete_thing(thingName=name)
    policy = "p+=,.@-_" + "y" * 120
    assert len(policy) == 128
    assert iot.create_policy(policyName=policy, policyDocument=DOC)["policyName"] == policy
    iot.delete_policy(policyName=policy)


@pytest.mark.parametrize("name", BAD_POLICY_NAMES.values(), ids=BAD_POLICY_NAMES.keys())
def test_invalid_policy_names(iot, name):
    expect_error(iot.create_policy, "InvalidRequestException", 400, policyName=name, policyDocument=DOC)


@pytest.mark.parametrize("name", BAD_ALIASES.values(), ids=BAD_ALIASES.keys())
def test_invalid_role_alias_names(iot, name):
    expect_error(iot.create_role_alias, "InvalidRequestException", 400,
                 roleAlias=name, roleArn=f"arn:aws:iam::{ACCT}:role/r")


CERT = "a" * 64
MISSING_MEMBERS = {
    "CreatePolicy.policyDocument": ("create_policy", {"policyName": "p-missing-doc"}),
    "CreatePolicyVersion.policyDocument": ("create_policy_version", {"policyName": "p-missing-doc"}),
    "AttachPolicy.target": ("attach_policy", {"policyName": "p-missing-target"}),
    "DetachPolicy.target": ("detach_policy", {"policyName": "p-missing-target"}),
    "TestAuthorization.authInfos": ("test_authorization", {"principal": iot_arn(ACCT, "cert", CERT)}),
    "CreateRoleAlias.roleArn": ("create_role_alias", {"roleAlias": "alias-missing-role"}),
    "RegisterCACertificate.caCertificate": ("register_ca_certificate", {}),
    "RegisterCertificate.certificatePem": ("register_certificate", {}),
    "RegisterCertificateWithoutCA.certificatePem": ("register_certificate_without_ca", {}),
    "CreateCertificateFromCsr.certificateSigningRequest": ("create_certificate_from_csr", {}),
    "UpdateCertificate.newStatus": ("update_certificate", {"certificateId": CERT}),
    "AttachThingPrincipal.principal": ("attach_thing_principal", {"thingName": "t-missing-principal"}),
    "ListPrincipalThings.principal": ("list_principal_things", {}),
    "SetLoggingOptions.loggingOptionsPayload": ("set_logging_options", {}),
    "SetV2LoggingLevel.logTarget": ("set_v2_logging_level", {"logLevel": "INFO"}),
    "DeleteV2LoggingLevel.targetName": ("delete_v2_logging_level", {"targetType": "CLIENT_ID"}),
    "TagResource.tags": ("tag_resource", {"resourceArn": iot_arn(ACCT, "thinggroup", "g")}),
    "UntagResource.tagKeys": ("untag_resource", {"resourceArn": iot_arn(ACCT, "thinggroup", "g")}),
    "ListTagsForResource.resourceArn": ("list_tags_for_resource", {}),
    "UpdateThingGroup.thingGroupProperties": ("update_thing_group", {"thingGroupName": "g-missing-props"}),
}


@pytest.mark.parametrize("operation,kwargs", MISSING_MEMBERS.values(), ids=MISSING_MEMBERS.keys())
def test_missing_required_members(iot_raw, operation, kwargs):
    expect_error(getattr(iot_raw, operation), "InvalidRequestException", 400, **kwargs)


OUT_OF_RANGE = {
    "ListThings.maxResults=0": ("list_things", {"maxResults": 0}),
    "ListThings.maxResults=251": ("list_things", {"maxResults": 251}),
    "ListThingGroups.maxResults=0": ("list_thing_groups", {"maxResults": 0}),
    "ListCertificates.pageSize=0": ("list_certificates", {"pageSize": 0}),
    "ListCertificates.pageSize=251": ("list_certificates", {"pageSize": 251}),
    "ListPolicies.pageSize=251": ("list_policies", {"pageSize": 251}),
    "ListRoleAliases.pageSize=0": ("list_role_aliases", {"pageSize": 0}),
    "UpdateCertificate.newStatus=BOGUS": ("update_certificate", {"certificateId": CERT, "newStatus": "BOGUS"}),
    "UpdateCACertificate.newStatus=REVOKED": ("update_ca_certificate", {"certificateId": CERT, "newStatus": "REVOKED"}),
    "ListV2LoggingLevels.targetType=BOGUS": ("list_v2_logging_levels", {"targetType": "BOGUS"}),
    "RegisterCACertificate.certificateMode=BOGUS": (
        "register_ca_certificate", {"caCertificate": None, "certificateMode": "BOGUS"}),
}


@pytest.mark.parametrize("operation,kwargs", OUT_OF_RANGE.values(), ids=OUT_OF_RANGE.keys())
def test_out_of_range_and_unknown_enum_values(iot_raw, operation, kwargs):
    if "caCertificate" in kwargs:
        kwargs = {**kwargs, "caCertificate": TestCA().pem}  # a valid CA: only the mode is wrong
    expect_error(getattr(iot_raw, operation), "InvalidRequestException", 400, **kwargs)


def test_bad_paging_token(iot):
    expect_error(iot.list_things, "InvalidRequestException", 400, nextToken="not-a-token-we-issued")
    expect_error(iot.list_certificates, "InvalidRequestException", 400, marker="bm90IGEgbWFya2Vy")


# --------------------------------------------------------------------------------------------
# The wire shape of errors


@pytest.mark.parametrize("method,path,body,code,status", [
    ("GET", "/things/{missing}", None, "ResourceNotFoundException", 404),
    ("GET", "/certificates/" + "0" * 64, None, "ResourceNotFoundException", 404),
    ("POST", "/policies/{missing}", json.dumps({"policyDocument": "nope"}), "MalformedPolicyException", 400),
    ("GET", "/endpoint?endpointType=iot%3ANope", None, "InvalidRequestException", 400),
], ids=["DescribeThing", "DescribeCertificate", "CreatePolicy", "DescribeEndpoint"])
def test_error_wire_shape(fw, creds, method, path, body, code, status):
    # Rest-json errors: the code in the x-amzn-ErrorType header (and/or the body's __type), the
    # text in the body's "message"; the HTTP status of the model's error shape.
    path = path.replace("{missing}", unique("missing"))
    got_status, headers, raw = signed_request(fw.endpoint, method, path, body, *creds, service=IOT_SERVICE)
    assert got_status == status, (got_status, raw[:300])
    doc = json.loads(raw)
    header_code = error_code_from_header(headers.get("x-amzn-errortype"))
    body_code = (doc.get("__type") or doc.get("code") or "").split("#")[-1] or None
    assert code in (header_code, body_code), (headers, doc)
    assert header_code in (None, code) and body_code in (None, code), (headers, doc)
    assert isinstance(doc.get("message"), str) and doc["message"], doc
    assert headers.get("content-type", "").startswith("application/json"), headers


def test_unknown_access_key_is_refused(fw, creds):
    status, _, _ = signed_request(fw.endpoint, "GET", "/things", None, "AKIAFLEETWARDNOSUCH1", "x" * 40,
                                  service=IOT_SERVICE)
    assert status in (401, 403), status
    status, _, raw = signed_request(fw.endpoint, "GET", "/things", None, *creds, service=IOT_SERVICE)
    assert status == 200, raw[:300]
    assert "things" in json.loads(raw)
