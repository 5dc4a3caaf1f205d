"""Device Defender detect over boto3: security profile CRUD (versions, the delete* flags, targets,
5 profiles per target), custom metrics, dimensions, and behavior validation errors in AWS's shape
(ValidateSecurityProfileBehaviors answers with `validationErrors`; Create/Update refuse with
InvalidRequestException)."""

from __future__ import annotations

import datetime as dt

from support import DEFAULT_ACCOUNT, REGION, expect_error, unique

PORTS = {"name": "ports", "metric": "aws:listening-tcp-ports",
         "criteria": {"comparisonOperator": "in-port-set", "value": {"ports": [443, 8883]}}}
AUTH = {"name": "auth", "metric": "aws:num-authorization-failures",
        "criteria": {"comparisonOperator": "less-than-equals", "value": {"count": 5}, "durationSeconds": 300,
                     "consecutiveDatapointsToAlarm": 1, "consecutiveDatapointsToClear": 1}}


def profile_arn(name: str) -> str:
    return f"arn:aws:iot:{REGION}:{DEFAULT_ACCOUNT}:securityprofile/{name}"


def test_security_profile_crud_and_versions(iot):
    name = unique("sp")
    out = iot.create_security_profile(securityProfileName=name, securityProfileDescription="d",
                                      behaviors=[PORTS], tags=[{"Key": "k", "Value": "v"}])
    assert out["securityProfileArn"] == profile_arn(name)
    expect_error(lambda: iot.create_security_profile(securityProfileName=name), "ResourceAlreadyExistsException", 409)
    d = iot.describe_security_profile(securityProfileName=name)
    assert d["version"] == 1 and d["behaviors"] == [PORTS] and d["securityProfileDescription"] == "d"
    assert isinstance(d["creationDate"], dt.datetime)

    up = iot.update_security_profile(securityProfileName=name, behaviors=[PORTS, AUTH], expectedVersion=1,
                                     metricsExportConfig={"mqttTopic": "dd/export", "roleArn": "arn:aws:iam::1:role/r"})
    assert up["version"] == 2 and len(up["behaviors"]) == 2
    assert up["metricsExportConfig"]["mqttTopic"] == "dd/export"
    expect_error(lambda: iot.update_security_profile(securityProfileName=name, expectedVersion=1),
                 "VersionConflictException", 409)
    expect_error(lambda: iot.update_security_profile(securityProfileName=name, behaviors=[PORTS], deleteBehaviors=True),
                 "InvalidRequestException", 400)
    up = iot.update_security_profile(securityProfileName=name, deleteBehaviors=True, deleteMetricsExportConfig=True)
    assert up["version"] == 3 and up.get("behaviors", []) == [] and "metricsExportConfig" not in up

    listed = iot.list_security_profiles()["securityProfileIdentifiers"]
    assert {"name": name, "arn": profile_arn(name)} in listed
    expect_error(lambda: iot.delete_security_profile(securityProfileName=name, expectedVersion=1),
                 "VersionConflictException", 409)
    iot.delete_security_profile(securityProfileName=name)
    expect_error(lambda: iot.describe_security_profile(securityProfileName=name), "ResourceNotFoundException", 404)


def test_targets_groups_recursive_and_five_per_target(iot):
    parent, child = unique("g"), unique("g")
    iot.create_thing_group(thingGroupName=parent)
    iot.create_thing_group(thingGroupName=child, parentGroupName=parent)
    parent_arn = f"arn:aws:iot:{REGION}:{DEFAULT_ACCOUNT}:thinggroup/{parent}"
    child_arn = f"arn:aws:iot:{REGION}:{DEFAULT_ACCOUNT}:thinggroup/{child}"
    names = [unique("sp") for _ in range(6)]
    for n in names:
        iot.create_security_profile(securityProfileName=n, behaviors=[PORTS])
    for n in names[:5]:
        iot.attach_security_profile(securityProfileName=n, securityProfileTargetArn=parent_arn)
    expect_error(lambda: iot.attach_security_profile(securityProfileName=names[5], securityProfileTargetArn=parent_arn),
                 "LimitExceededException", 410)
    iot.attach_security_profile(securityProfileName=names[5], securityProfileTargetArn=child_arn)
    assert iot.list_targets_for_security_profile(securityProfileName=names[0])["securityProfileTargets"] == [
        {"arn": parent_arn}]
    direct = iot.list_security_profiles_for_target(securityProfileTargetArn=child_arn)
    assert [m["securityProfileIdentifier"]["name"] for m in direct["securityProfileTargetMappings"]] == [names[5]]
    recursive = iot.list_security_profiles_for_target(securityProfileTargetArn=child_arn, recursive=True,
                                                      maxResults=250)["securityProfileTargetMappings"]
    assert {m["securityProfileIdentifier"]["name"] for m in recursive} == set(names)
    expect_error(lambda: iot.attach_security_profile(
        securityProfileName=names[0], securityProfileTargetArn=f"arn:aws:iot:{REGION}:{DEFAULT_ACCOUNT}:thinggroup/none"),
        "ResourceNotFoundException", 404)
    iot.detach_security_profile(securityProfileName=names[0], securityProfileTargetArn=parent_arn)
    assert iot.list_targets_for_security_profile(securityProfileName=names[0])["securityProfileTargets"] == []
    for n in names:
        iot.delete_security_profile(securityProfileName=n)


def test_validation_errors_are_listed_and_refused(iot):
    bad = [
        {"name": "a", "metric": "aws:listening-tcp-ports",
         "criteria": {"comparisonOperator": "less-than", "value": {"ports": [22]}}},
        {"name": "b", "metric": "aws:num-messages-sent",
         "criteria": {"comparisonOperator": "less-than", "value": {"count": 5}, "durationSeconds": 42}},
        {"name": "c", "metric": "aws:no-such-metric",
         "criteria": {"comparisonOperator": "less-than", "value": {"count": 5}}},
    ]
    out = iot.validate_security_profile_behaviors(behaviors=bad)
    assert out["valid"] is False
    messages = [e["errorMessage"] for e in out["validationErrors"]]
    assert len(messages) == 3, messages
    assert "less-than cannot be used with metric aws:listening-tcp-ports" in messages[0]
    assert "durationSeconds" in messages[1]
    assert "aws:no-such-metric" in messages[2]
    good = iot.validate_security_profile_behaviors(behaviors=[PORTS, AUTH])
    assert good["valid"] is True and good["validationErrors"] == []
    name = unique("sp")
    err = expect_error(lambda: iot.create_security_profile(securityProfileName=name, behaviors=bad),
                       "InvalidRequestException", 400)
    assert "less-than cannot be used" in str(err)
    expect_error(lambda: iot.describe_security_profile(securityProfileName=name), "ResourceNotFoundException", 404)


def test_custom_metrics_and_dimensions(iot):
    metric, dim = unique("cm"), unique("dim")
    arn = iot.create_custom_metric(metricName=metric, metricType="number", displayName="CPU",
                                   clientRequestToken="tok-1")["metricArn"]
    assert arn == f"arn:aws:iot:{REGION}:{DEFAULT_ACCOUNT}:custommetric/{metric}"
    expect_error(lambda: iot.create_custom_metric(metricName="aws:x", metricType="number", clientRequestToken="t"),
                 "InvalidRequestException", 400)
    d = iot.update_custom_metric(metricName=metric, displayName="CPU load")
    assert d["displayName"] == "CPU load" and d["metricType"] == "number"
    assert metric in iot.list_custom_metrics(maxResults=250)["metricNames"]

    iot.create_dimension(name=dim, type="TOPIC_FILTER", stringValues=["cmd/#"], clientRequestToken="tok-2")
    assert iot.describe_dimension(name=dim)["stringValues"] == ["cmd/#"]
    assert iot.update_dimension(name=dim, stringValues=["cmd/+", "x"])["stringValues"] == ["cmd/+", "x"]

    sp = unique("sp")
    behaviors = [
        {"name": "cpu", "metric": metric, "criteria": {"comparisonOperator": "less-than", "value": {"number": 0.9}}},
        {"name": "cmds", "metric": "aws:num-messages-sent", "metricDimension": {"dimensionName": dim, "operator": "IN"},
         "criteria": {"comparisonOperator": "less-than", "value": {"count": 100}, "durationSeconds": 300}},
        {"name": "ml", "metric": "aws:num-messages-received", "criteria": {"mlDetectionConfig": {"confidenceLevel": "HIGH"}}},
    ]
    iot.create_security_profile(securityProfileName=sp, behaviors=behaviors)
    assert {"name": sp, "arn": profile_arn(sp)} in iot.list_security_profiles(dimensionName=dim)["securityProfileIdentifiers"]
    assert {"name": sp, "arn": profile_arn(sp)} in iot.list_security_profiles(metricName=metric)["securityProfileIdentifiers"]
    summaries = iot.get_behavior_model_training_summaries(securityProfileName=sp)["summaries"]
    assert [(s["behaviorName"], s["modelStatus"]) for s in summaries] == [("ml", "PENDING_BUILD")]
    expect_error(lambda: iot.delete_custom_metric(metricName=metric), "InvalidRequestException", 400)
    expect_error(lambda: iot.delete_dimension(name=dim), "InvalidRequestException", 400)
    iot.delete_security_profile(securityProfileName=sp)
    iot.delete_custom_metric(metricName=metric)
    iot.delete_dimension(name=dim)
    expect_error(lambda: iot.describe_custom_metric(metricName=metric), "ResourceNotFoundException", 404)
    expect_error(lambda: iot.describe_dimension(name=dim), "ResourceNotFoundException", 404)


def test_active_violations_of_a_missing_thing_is_not_found(iot):
    expect_error(lambda: iot.list_active_violations(thingName=unique("no-such-thing")),
                 "ResourceNotFoundException", 404)
    thing = unique("thing")
    iot.create_thing(thingName=thing)
    assert iot.list_active_violations(thingName=thing)["activeViolations"] == []
