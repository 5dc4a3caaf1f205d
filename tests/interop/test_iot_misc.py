"""IoT registry odds and ends: role aliases, logging options (v1 and v2), DescribeEndpoint and
resource tags, with boto3."""

from __future__ import annotations

import datetime as dt

import pytest

from support import (
    DEFAULT_ACCOUNT,
    allow,
    collect_pages,
    expect_error,
    iot_arn,
    policy_document,
    unique,
)

ACCT = DEFAULT_ACCOUNT


def role_arn(account: str, name: str = "iot-logging") -> str:
    return f"arn:aws:iam::{account}:role/{name}"


# --------------------------------------------------------------------------------------------
# Role aliases


def test_role_alias_lifecycle(iot):
    alias = unique("alias")
    created = iot.create_role_alias(roleAlias=alias, roleArn=role_arn(ACCT, "device-role"))
    assert created["roleAlias"] == alias
    assert created["roleAliasArn"] == iot_arn(ACCT, "rolealias", alias)

    desc = iot.describe_role_alias(roleAlias=alias)["roleAliasDescription"]
    assert desc["roleAlias"] == alias
    assert desc["roleAliasArn"] == created["roleAliasArn"]
    assert desc["roleArn"] == role_arn(ACCT, "device-role")
    assert desc["owner"] == ACCT
    # CreateRoleAlias.credentialDurationSeconds: "The default value is 3,600 seconds."
    assert desc["credentialDurationSeconds"] == 3600
    assert abs(desc["creationDate"] - dt.datetime.now(dt.timezone.utc)) < dt.timedelta(minutes=5)

    updated = iot.update_role_alias(roleAlias=alias, roleArn=role_arn(ACCT, "other-role"),
                                    credentialDurationSeconds=900)
    assert updated["roleAlias"] == alias and updated["roleAliasArn"] == created["roleAliasArn"]
    desc2 = iot.describe_role_alias(roleAlias=alias)["roleAliasDescription"]
    assert desc2["roleArn"] == role_arn(ACCT, "other-role")
    assert desc2["credentialDurationSeconds"] == 900
    assert desc2["lastModifiedDate"] >= desc["lastModifiedDate"]

    exc = expect_error(iot.create_role_alias, "ResourceAlreadyExistsException", 409,
                       roleAlias=alias, roleArn=role_arn(ACCT, "device-role"))
    assert exc.response.get("resourceArn") in (None, created["roleAliasArn"]), exc.response

    iot.delete_role_alias(roleAlias=alias)
    expect_error(iot.describe_role_alias, "ResourceNotFoundException", 404, roleAlias=alias)
    expect_error(iot.delete_role_alias, "ResourceNotFoundException", 404, roleAlias=alias)
    expect_error(iot.update_role_alias, "ResourceNotFoundException", 404, roleAlias=alias, credentialDurationSeconds=900)


@pytest.mark.parametrize("seconds", [899, 43201])
def test_role_alias_credential_duration_range(iot_raw, seconds):
    # CredentialDurationSeconds: 900 to 43200.
    alias = unique("alias")
    expect_error(iot_raw.create_role_alias, "InvalidRequestException", 400,
                 roleAlias=alias, roleArn=role_arn(ACCT), credentialDurationSeconds=seconds)
    expect_error(iot_raw.describe_role_alias, "ResourceNotFoundException", 404, roleAlias=alias)


def test_list_role_aliases_order_and_paging(make_iot_account):
    # ListRoleAliases.ascendingOrder: "Return the list of role aliases in ascending alphabetical
    # order."
    acct = make_iot_account()
    names = ["delta", "alpha", "echo", "charlie", "bravo"]
    for name in names:
        acct.iot.create_role_alias(roleAlias=name, roleArn=role_arn(acct.account_id))

    def listing(ascending: bool):
        aliases, pages = collect_pages(acct.iot.list_role_aliases, "roleAliases", size=2, size_param="pageSize",
                                       token_param="marker", token_field="nextMarker", ascendingOrder=ascending)
        assert pages >= 3
        return aliases

    assert listing(True) == sorted(names)
    assert listing(False) == sorted(names, reverse=True)


# --------------------------------------------------------------------------------------------
# Logging options


def test_logging_options_v1(make_iot_account):
    acct = make_iot_account()
    acct.iot.set_logging_options(loggingOptionsPayload={"roleArn": role_arn(acct.account_id), "logLevel": "WARN"})
    got = acct.iot.get_logging_options()
    assert got["roleArn"] == role_arn(acct.account_id)
    assert got["logLevel"] == "WARN"
    acct.iot.set_logging_options(loggingOptionsPayload={"roleArn": role_arn(acct.account_id), "logLevel": "DEBUG"})
    assert acct.iot.get_logging_options()["logLevel"] == "DEBUG"
    expect_error(acct.iot_raw.set_logging_options, "InvalidRequestException", 400,
                 loggingOptionsPayload={"roleArn": role_arn(acct.account_id), "logLevel": "LOUD"})
    assert acct.iot.get_logging_options()["logLevel"] == "DEBUG"


def test_logging_options_v2_and_levels(make_iot_account):
    acct = make_iot_account()
    iot = acct.iot
    iot.set_v2_logging_options(roleArn=role_arn(acct.account_id), defaultLogLevel="INFO", disableAllLogs=False)
    got = iot.get_v2_logging_options()
    assert got["roleArn"] == role_arn(acct.account_id)
    assert got["defaultLogLevel"] == "INFO"
    assert got.get("disableAllLogs", False) is False

    iot.set_v2_logging_options(roleArn=role_arn(acct.account_id), defaultLogLevel="ERROR", disableAllLogs=True)
    got = iot.get_v2_logging_options()
    assert got["defaultLogLevel"] == "ERROR" and got["disableAllLogs"] is True

    group = unique("grp")
    iot.create_thing_group(thingGroupName=group)
    iot.set_v2_logging_level(logTarget={"targetType": "THING_GROUP", "targetName": group}, logLevel="DEBUG")
    iot.set_v2_logging_level(logTarget={"targetType": "CLIENT_ID", "targetName": "sensor-7"}, logLevel="WARN")

    def levels(target_type: str) -> dict:
        configs, _ = collect_pages(iot.list_v2_logging_levels, "logTargetConfigurations", size=250,
                                   targetType=target_type)
        return {c["logTarget"].get("targetName"): c["logLevel"] for c in configs
                if c["logTarget"]["targetType"] == target_type}

    assert levels("THING_GROUP") == {group: "DEBUG"}
    assert levels("CLIENT_ID") == {"sensor-7": "WARN"}

    iot.set_v2_logging_level(logTarget={"targetType": "THING_GROUP", "targetName": group}, logLevel="ERROR")
    assert levels("THING_GROUP") == {group: "ERROR"}

    iot.delete_v2_logging_level(targetType="THING_GROUP", targetName=group)
    assert levels("THING_GROUP") == {}
    assert levels("CLIENT_ID") == {"sensor-7": "WARN"}

    expect_error(acct.iot_raw.set_v2_logging_level, "InvalidRequestException", 400,
                 logTarget={"targetType": "CLIENT_ID", "targetName": "x"}, logLevel="LOUD")
    expect_error(acct.iot_raw.set_v2_logging_options, "InvalidRequestException", 400, defaultLogLevel="LOUD")


# --------------------------------------------------------------------------------------------
# DescribeEndpoint


@pytest.mark.parametrize("endpoint_type", ["iot:Data-ATS", "iot:Data", "iot:CredentialProvider", "iot:Jobs", None])
def test_describe_endpoint(iot, endpoint_type):
    kwargs = {"endpointType": endpoint_type} if endpoint_type else {}
    address = iot.describe_endpoint(**kwargs)["endpointAddress"]
    assert isinstance(address, str) and address.strip()
    assert iot.describe_endpoint(**kwargs)["endpointAddress"] == address


def test_describe_endpoint_unknown_type(iot):
    expect_error(iot.describe_endpoint, "InvalidRequestException", 400, endpointType="iot:Nonsense")


# --------------------------------------------------------------------------------------------
# Tags


def tags_of(iot, arn: str) -> dict:
    """All tags of `arn` (ListTagsForResource pages with nextToken only)."""
    out: dict = {}
    kwargs: dict = {"resourceArn": arn}
    for _ in range(50):
        page = iot.list_tags_for_resource(**kwargs)
        for tag in page["tags"]:
            assert tag["Key"] not in out, f"tag {tag['Key']} listed twice"
            out[tag["Key"]] = tag.get("Value", "")
        if not page.get("nextToken"):
            return out
        kwargs["nextToken"] = page["nextToken"]
    raise AssertionError("ListTagsForResource did not stop paging")


def test_tags_on_create_and_tag_untag(iot):
    group = unique("grp")
    arn = iot.create_thing_group(thingGroupName=group, tags=[{"Key": "env", "Value": "lab"},
                                                             {"Key": "owner", "Value": "ops"}])["thingGroupArn"]
    assert tags_of(iot, arn) == {"env": "lab", "owner": "ops"}

    # TagResource: "Adds to or modifies the tags of the given resource."
    iot.tag_resource(resourceArn=arn, tags=[{"Key": "env", "Value": "prod"}, {"Key": "tier", "Value": "1"}])
    assert tags_of(iot, arn) == {"env": "prod", "owner": "ops", "tier": "1"}
    iot.untag_resource(resourceArn=arn, tagKeys=["owner", "not-there"])
    assert tags_of(iot, arn) == {"env": "prod", "tier": "1"}


@pytest.mark.parametrize("kind", ["policy", "thingtype", "rolealias"])
def test_tags_on_other_resources(iot, kind):
    name = unique(kind)
    tags = [{"Key": "team", "Value": kind}]
    if kind == "policy":
        arn = iot.create_policy(policyName=name, policyDocument=policy_document(allow("iot:Connect", "*")),
                                tags=tags)["policyArn"]
    elif kind == "thingtype":
        arn = iot.create_thing_type(thingTypeName=name, tags=tags)["thingTypeArn"]
    else:
        arn = iot.create_role_alias(roleAlias=name, roleArn=role_arn(ACCT), tags=tags)["roleAliasArn"]
    assert arn == iot_arn(ACCT, kind, name)
    assert tags_of(iot, arn) == {"team": kind}
    iot.tag_resource(resourceArn=arn, tags=[{"Key": "extra", "Value": "yes"}])
    assert tags_of(iot, arn) == {"team": kind, "extra": "yes"}
    iot.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert tags_of(iot, arn) == {"extra": "yes"}


def test_tags_of_missing_resource(iot):
    arn = iot_arn(ACCT, "thinggroup", unique("nogroup"))
    expect_error(iot.list_tags_for_resource, "ResourceNotFoundException", 404, resourceArn=arn)
    expect_error(iot.tag_resource, "ResourceNotFoundException", 404, resourceArn=arn,
                 tags=[{"Key": "k", "Value": "v"}])
    expect_error(iot.untag_resource, "ResourceNotFoundException", 404, resourceArn=arn, tagKeys=["k"])
