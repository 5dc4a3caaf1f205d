"""The audit API with boto3 and the AWS CLI: suppressions honoured, bad input answered with the
AWS error codes (and nothing changed), scheduled-audit limits, role-alias checks over IAM roles
registered with `fleetward admin audit put-role`."""

from __future__ import annotations

import datetime as dt
import json

from audit_support import (
    ROLE_ARN,
    enable_checks,
    new_audit_account,
    policy_hub_id,
    run_audit,
    wait_hub,
)
from support import allow, expect_error, policy_document

POLICY_CHECK = "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"
REASON = "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS"


def test_suppressions_are_honoured(fw, make_account):
    acct = new_audit_account(fw, make_account)
    iot, hub = acct.iot, acct.hub
    iot.create_policy(policyName="wide", policyDocument=policy_document(allow("iot:*", "*")))
    iot.create_policy(policyName="wide2", policyDocument=policy_document(allow("iot:Connect", "*")))
    enable_checks(iot, POLICY_CHECK)
    resource = {"policyVersionIdentifier": {"policyName": "wide", "policyVersionId": "1"}}
    expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)
    iot.create_audit_suppression(checkName=POLICY_CHECK, resourceIdentifier=resource, expirationDate=expires,
                                 description="known lab device")
    described = iot.describe_audit_suppression(checkName=POLICY_CHECK, resourceIdentifier=resource)
    assert described["description"] == "known lab device"
    assert described["suppressIndefinitely"] is False
    assert abs(described["expirationDate"].timestamp() - expires.timestamp()) < 1
    expect_error(iot.create_audit_suppression, "ResourceAlreadyExistsException", 409, checkName=POLICY_CHECK,
                 resourceIdentifier=resource, suppressIndefinitely=True)

    task_id, described = run_audit(iot, POLICY_CHECK)
    details = described["auditDetails"][POLICY_CHECK]
    assert details["checkRunStatus"] == "COMPLETED_NON_COMPLIANT"
    assert details["nonCompliantResourcesCount"] == 2
    assert details["suppressedNonCompliantResourcesCount"] == 1
    suppressed = iot.list_audit_findings(taskId=task_id, listSuppressedFindings=True)["findings"]
    assert [f["nonCompliantResource"]["resourceIdentifier"] for f in suppressed] == [resource]
    assert suppressed[0]["isSuppressed"] is True
    unsuppressed = iot.list_audit_findings(taskId=task_id, listSuppressedFindings=False)["findings"]
    assert [f["isSuppressed"] for f in unsuppressed] == [False]

    wide = policy_hub_id(acct.account_id, "wide", "1", POLICY_CHECK, REASON)
    found = wait_hub(hub, lambda f: len(f) == 1, Id=wide)[0]
    assert found["RecordState"] == "ARCHIVED" and found["ProductFields"]["IsSuppressed"] == "true"
    wide2 = policy_hub_id(acct.account_id, "wide2", "1", POLICY_CHECK, REASON)
    assert wait_hub(hub, lambda f: len(f) == 1, Id=wide2)[0]["RecordState"] == "ACTIVE"

    iot.update_audit_suppression(checkName=POLICY_CHECK, resourceIdentifier=resource, suppressIndefinitely=True)
    listed = iot.list_audit_suppressions(checkName=POLICY_CHECK)["suppressions"]
    assert len(listed) == 1 and listed[0]["suppressIndefinitely"] is True and "expirationDate" not in listed[0]
    iot.delete_audit_suppression(checkName=POLICY_CHECK, resourceIdentifier=resource)
    expect_error(iot.describe_audit_suppression, "ResourceNotFoundException", 404, checkName=POLICY_CHECK,
                 resourceIdentifier=resource)
    # Deleting what does not exist succeeds (no ResourceNotFoundException in the model).
    iot.delete_audit_suppression(checkName=POLICY_CHECK, resourceIdentifier=resource)


def test_bad_input_gets_aws_errors_and_changes_nothing(fw, make_account):
    acct = new_audit_account(fw, make_account, accept_audit=False)
    iot, raw = acct.iot, acct.iot_raw
    expect_error(raw.update_account_audit_configuration, "InvalidRequestException", 400,
                 auditCheckConfigurations={"LOGGING_DISABLED_CHECK": {"enabled": True}})
    expect_error(raw.update_account_audit_configuration, "InvalidRequestException", 400, roleArn=ROLE_ARN,
                 auditCheckConfigurations={"NO_SUCH_CHECK": {"enabled": True}})
    expect_error(iot.delete_account_audit_configuration, "ResourceNotFoundException", 404)
    configured = iot.describe_account_audit_configuration()
    assert "roleArn" not in configured
    assert all(not c["enabled"] for c in configured["auditCheckConfigurations"].values())

    enable_checks(iot, "LOGGING_DISABLED_CHECK")
    expect_error(iot.start_on_demand_audit_task, "InvalidRequestException", 400,
                 targetCheckNames=["DEVICE_CERTIFICATE_AGE_CHECK"])
    expect_error(raw.start_on_demand_audit_task, "InvalidRequestException", 400, targetCheckNames=["BOGUS"])
    expect_error(iot.describe_audit_task, "ResourceNotFoundException", 404, taskId="0" * 32)
    expect_error(iot.cancel_audit_task, "ResourceNotFoundException", 404, taskId="0" * 32)
    expect_error(raw.describe_audit_task, "InvalidRequestException", 400, taskId="bad_id!")
    expect_error(raw.list_audit_findings, "InvalidRequestException", 400)
    expect_error(raw.list_audit_findings, "InvalidRequestException", 400, taskId="0" * 32,
                 startTime=dt.datetime(2024, 1, 1), endTime=dt.datetime(2024, 1, 2))
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=100)
    expect_error(iot.list_audit_tasks, "InvalidRequestException", 400, startTime=old,
                 endTime=dt.datetime.now(dt.timezone.utc))
    expect_error(iot.describe_audit_finding, "ResourceNotFoundException", 404, findingId="abc")
    expect_error(iot.list_related_resources_for_audit_finding, "ResourceNotFoundException", 404, findingId="abc")

    # Scheduled audits: required day members, duplicates, the limit of five (HTTP 410).
    expect_error(raw.create_scheduled_audit, "InvalidRequestException", 400, scheduledAuditName="w",
                 frequency="WEEKLY", targetCheckNames=["LOGGING_DISABLED_CHECK"])
    expect_error(raw.create_scheduled_audit, "InvalidRequestException", 400, scheduledAuditName="m",
                 frequency="MONTHLY", dayOfMonth="32", targetCheckNames=["LOGGING_DISABLED_CHECK"])
    expect_error(raw.create_scheduled_audit, "InvalidRequestException", 400, scheduledAuditName="bad name",
                 frequency="DAILY", targetCheckNames=["LOGGING_DISABLED_CHECK"])
    for n in range(5):
        iot.create_scheduled_audit(scheduledAuditName=f"s{n}", frequency="BIWEEKLY", dayOfWeek="MON",
                                   targetCheckNames=["LOGGING_DISABLED_CHECK"])
    exc = expect_error(iot.create_scheduled_audit, "ResourceAlreadyExistsException", 409, scheduledAuditName="s0",
                       frequency="DAILY", targetCheckNames=["LOGGING_DISABLED_CHECK"])
    assert exc.response["Error"]["Message"]
    expect_error(iot.create_scheduled_audit, "LimitExceededException", 410, scheduledAuditName="s5",
                 frequency="DAILY", targetCheckNames=["LOGGING_DISABLED_CHECK"])
    expect_error(iot.update_scheduled_audit, "ResourceNotFoundException", 404, scheduledAuditName="nope",
                 frequency="DAILY")
    expect_error(iot.delete_scheduled_audit, "ResourceNotFoundException", 404, scheduledAuditName="nope")
    # A check a scheduled audit runs cannot be disabled.
    expect_error(iot.update_account_audit_configuration, "InvalidRequestException", 400,
                 auditCheckConfigurations={"LOGGING_DISABLED_CHECK": {"enabled": False}})
    pages = list(iot.get_paginator("list_scheduled_audits").paginate(PaginationConfig={"PageSize": 2}))
    assert [a["scheduledAuditName"] for p in pages for a in p["scheduledAudits"]] == [f"s{n}" for n in range(5)]

    # Suppressions: a resource identifier with exactly one member, a future expiration.
    expect_error(raw.create_audit_suppression, "InvalidRequestException", 400, checkName="LOGGING_DISABLED_CHECK",
                 resourceIdentifier={}, suppressIndefinitely=True, clientRequestToken="t1")
    expect_error(raw.create_audit_suppression, "InvalidRequestException", 400, checkName="LOGGING_DISABLED_CHECK",
                 resourceIdentifier={"account": acct.account_id}, expirationDate=dt.datetime(2001, 1, 1),
                 clientRequestToken="t2")
    expect_error(iot.update_audit_suppression, "ResourceNotFoundException", 404, checkName="LOGGING_DISABLED_CHECK",
                 resourceIdentifier={"account": acct.account_id}, suppressIndefinitely=True)
    assert iot.list_audit_suppressions()["suppressions"] == []


def test_role_alias_check_over_a_registered_role(fw, make_account, tmp_path):
    acct = new_audit_account(fw, make_account)
    iot = acct.iot
    role_arn = f"arn:aws:iam::{acct.account_id}:role/device-credentials"
    iot.create_role_alias(roleAlias="devices", roleArn=role_arn)
    checks = ["IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK", "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK",
              "AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK"]
    enable_checks(iot, *checks)
    # Nothing registered: the checks complete with zero resources.
    _, described = run_audit(iot, *checks)
    for check in checks:
        assert described["auditDetails"][check]["checkRunStatus"] == "COMPLETED_COMPLIANT"
        assert described["auditDetails"][check]["totalResourcesCount"] == 0

    policy = tmp_path / "role-policy.json"
    policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"},
    ]}))
    fw.admin("audit", "put-role", "--account-id", acct.account_id, "--role-arn", role_arn,
             "--policy-file", str(policy), "--used-services", "s3")
    listed = fw.admin("audit", "list", "--account-id", acct.account_id).stdout
    assert f"role\t{role_arn}" in listed
    task_id, described = run_audit(iot, *checks)
    findings = iot.list_audit_findings(taskId=task_id)["findings"]
    got = {(f["checkName"], f["reasonForNonComplianceCode"]) for f in findings}
    assert got == {
        ("IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK", "ALLOWS_BROAD_ACCESS_TO_USED_SERVICES"),
        ("IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK", "ALLOWS_ACCESS_TO_UNUSED_SERVICES"),
    }
    alias_arn = f"arn:aws:iot:us-east-1:{acct.account_id}:rolealias/devices"
    assert all(f["nonCompliantResource"]["resourceIdentifier"] == {"roleAliasArn": alias_arn} for f in findings)
    assert findings[0]["relatedResources"] == [{"resourceType": "IAM_ROLE",
                                                "resourceIdentifier": {"iamRoleArn": role_arn}}]
    assert described["auditDetails"]["AUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK"]["totalResourcesCount"] == 0
    active = wait_hub(acct.hub, lambda f: len([x for x in f if x["ProductFields"].get("ReportType") == "AuditFinding"]) == 2,
                      RecordState="ACTIVE")
    assert {f["Resources"][0]["Type"] for f in active if f["ProductFields"]["ReportType"] == "AuditFinding"} == {
        "AwsIotRoleAlias"}


def test_aws_cli_round_trip(fw, make_account):
    acct = new_audit_account(fw, make_account)
    env = {"AWS_ACCESS_KEY_ID": acct.key_id, "AWS_SECRET_ACCESS_KEY": acct.secret,
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    endpoint = ["--endpoint-url", fw.endpoint, "--region", "us-east-1"]
    fw.aws("iot", "create-policy", "--policy-name", "cli-star", "--policy-document",
           policy_document(allow("iot:*", "*")), *endpoint, env_extra=env)
    fw.aws("iot", "update-account-audit-configuration", "--role-arn", ROLE_ARN,
           "--audit-check-configurations", json.dumps({POLICY_CHECK: {"enabled": True}}), *endpoint, env_extra=env)
    described = fw.aws_json("iot", "describe-account-audit-configuration", *endpoint, env_extra=env)
    assert described["auditCheckConfigurations"][POLICY_CHECK] == {"enabled": True}
    task_id = fw.aws_json("iot", "start-on-demand-audit-task", "--target-check-names", POLICY_CHECK, *endpoint,
                          env_extra=env)["taskId"]

    def status():
        return fw.aws_json("iot", "describe-audit-task", "--task-id", task_id, *endpoint, env_extra=env)

    from support import wait_until
    done = wait_until(lambda: (d := status())["taskStatus"] == "COMPLETED" and d, timeout=30, what="the task")
    assert done["auditDetails"][POLICY_CHECK]["checkRunStatus"] == "COMPLETED_NON_COMPLIANT"
    findings = fw.aws_json("iot", "list-audit-findings", "--task-id", task_id, *endpoint, env_extra=env)["findings"]
    assert findings[0]["nonCompliantResource"]["resourceIdentifier"]["policyVersionIdentifier"]["policyName"] == \
        "cli-star"
    assert findings[0]["reasonForNonComplianceCode"] == REASON
    # The finding reached the hub too.
    wait_hub(acct.hub, lambda f: any(x["GeneratorId"] == findings[0]["findingId"] for x in f))
