"""The workshop of seed 003 end to end with boto3: logging disabled by mistake, an on-demand
audit finds it, the EnableErrorLoggingAction mitigation action applied to the finding (reason
code LOGGING_DISABLED) turns logging on at level ERROR; and the optional PUBLISH_FINDING_TO_SNS
action delivers the finding in the workshop's payload. Also the action API itself: CRUD,
filtering by type, the 4.2 validity rule at task start, idempotent starts."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from audit_support import enable_checks, new_audit_account, run_audit
from mitigation_support import ACTION_ROLE, LOGGING_ROLE, executions, task_id, wait_mitigation
from sns_support import Endpoint, sns_client, subscribe_confirmed, unique_topic_name
from support import REGION, expect_error

CHECK = "LOGGING_DISABLED_CHECK"
SEED_KEYS = ["findingId", "findingTime", "severity", "taskStartTime", "nonCompliantResource", "taskId",
             "checkName", "reasonForNonComplianceCode", "reasonForNonCompliance"]


def test_workshop_enable_error_logging(fw, make_account):
    acct = new_audit_account(fw, make_account)
    iot, account = acct.iot, acct.account_id
    # An operator disabled logging by mistake.
    iot.set_v2_logging_options(roleArn=LOGGING_ROLE, defaultLogLevel="DEBUG", disableAllLogs=True)

    created = iot.create_mitigation_action(
        actionName="EnableErrorLoggingAction", roleArn=ACTION_ROLE,
        actionParams={"enableIoTLoggingParams": {"roleArnForLogging": LOGGING_ROLE, "logLevel": "ERROR"}})
    assert created["actionArn"] == f"arn:aws:iot:{REGION}:{account}:mitigationaction/EnableErrorLoggingAction"
    described = iot.describe_mitigation_action(actionName="EnableErrorLoggingAction")
    assert described["actionType"] == "ENABLE_IOT_LOGGING"
    assert described["actionId"] == created["actionId"] and described["roleArn"] == ACTION_ROLE
    assert described["actionParams"] == {"enableIoTLoggingParams": {"roleArnForLogging": LOGGING_ROLE,
                                                                     "logLevel": "ERROR"}}

    enable_checks(iot, CHECK)
    audit_task, details = run_audit(iot, CHECK)
    assert details["auditDetails"][CHECK]["checkRunStatus"] == "COMPLETED_NON_COMPLIANT"
    [finding] = iot.list_audit_findings(taskId=audit_task)["findings"]
    assert finding["reasonForNonComplianceCode"] == "LOGGING_DISABLED"

    # "Start mitigation actions": reason code LOGGING_DISABLED, action EnableErrorLoggingAction.
    task = task_id()
    target = {"auditTaskId": audit_task, "auditCheckToReasonCodeFilter": {CHECK: ["LOGGING_DISABLED"]}}
    mapping = {CHECK: ["EnableErrorLoggingAction"]}
    assert iot.start_audit_mitigation_actions_task(
        taskId=task, target=target, auditCheckToActionsMapping=mapping, clientRequestToken="tok-1",
    )["taskId"] == task
    described = wait_mitigation(iot, task)
    assert described["taskStatistics"][CHECK] == {
        "totalFindingsCount": 1, "failedFindingsCount": 0, "succeededFindingsCount": 1,
        "skippedFindingsCount": 0, "canceledFindingsCount": 0}
    assert described["target"] == target and described["auditCheckToActionsMapping"] == mapping
    assert [a["name"] for a in described["actionsDefinition"]] == ["EnableErrorLoggingAction"]
    assert described["endTime"] >= described["startTime"]
    [execution] = executions(iot, task, finding["findingId"])
    assert execution["status"] == "COMPLETED" and execution["actionName"] == "EnableErrorLoggingAction"
    assert execution["actionId"] == created["actionId"]

    # Settings: logs ENABLED, verbosity Error.
    options = iot.get_v2_logging_options()
    assert options["defaultLogLevel"] == "ERROR" and options["disableAllLogs"] is False
    assert options["roleArn"] == LOGGING_ROLE
    _, again = run_audit(iot, CHECK)
    assert again["auditDetails"][CHECK]["checkRunStatus"] == "COMPLETED_COMPLIANT"

    # Retrying the start with the same token answers the same; another token is refused.
    assert iot.start_audit_mitigation_actions_task(
        taskId=task, target=target, auditCheckToActionsMapping=mapping, clientRequestToken="tok-1",
    )["taskId"] == task
    expect_error(iot.start_audit_mitigation_actions_task, "TaskAlreadyExistsException", 400, taskId=task,
                 target=target, auditCheckToActionsMapping=mapping, clientRequestToken="tok-2")
    listed = iot.list_audit_mitigation_actions_tasks(startTime=0, endTime=4102444800, auditTaskId=audit_task)
    assert [t["taskId"] for t in listed["tasks"]] == [task]
    assert listed["tasks"][0]["taskStatus"] == "COMPLETED"
    found = iot.list_audit_mitigation_actions_tasks(startTime=0, endTime=4102444800,
                                                    findingId=finding["findingId"])["tasks"]
    assert [t["taskId"] for t in found] == [task]


def test_publish_finding_to_sns_sends_the_workshop_payload(fw, make_account):
    acct = new_audit_account(fw, make_account)
    iot = acct.iot
    sns = sns_client(fw, acct.key_id, acct.secret)
    topic = sns.create_topic(Name=unique_topic_name("DevDefenderAudit"))["TopicArn"]
    endpoint = Endpoint()
    try:
        subscribe_confirmed(sns, endpoint, topic)
        iot.create_mitigation_action(actionName="ToSns", roleArn=ACTION_ROLE,
                                     actionParams={"publishFindingToSnsParams": {"topicArn": topic}})
        enable_checks(iot, CHECK)
        audit_task, _ = run_audit(iot, CHECK)
        [finding] = iot.list_audit_findings(taskId=audit_task)["findings"]
        task = task_id()
        iot.start_audit_mitigation_actions_task(taskId=task, target={"findingIds": [finding["findingId"]]},
                                                auditCheckToActionsMapping={CHECK: ["ToSns"]},
                                                clientRequestToken="t")
        wait_mitigation(iot, task)
        envelope, _ = endpoint.wait_message("Notification", TopicArn=topic)
        assert envelope.get("Subject") is None
        message = json.loads(envelope["Message"])
        assert list(message) == SEED_KEYS
        assert message["findingId"] == finding["findingId"] and message["taskId"] == audit_task
        assert message["checkName"] == CHECK and message["severity"] == "LOW"
        assert message["reasonForNonComplianceCode"] == "LOGGING_DISABLED"
        assert message["nonCompliantResource"] == finding["nonCompliantResource"]
        # Epoch milliseconds, as in the workshop's payload.
        assert isinstance(message["findingTime"], int)
        assert abs(message["findingTime"] / 1000 - finding["findingTime"].timestamp()) < 0.002
        assert isinstance(message["taskStartTime"], int)
    finally:
        endpoint.close()

    # A topic that does not exist fails the execution with SNS's error code.
    iot.create_mitigation_action(actionName="ToNowhere", roleArn=ACTION_ROLE, actionParams={
        "publishFindingToSnsParams": {"topicArn": f"arn:aws:sns:{REGION}:{acct.account_id}:missing"}})
    failing = task_id()
    iot.start_audit_mitigation_actions_task(taskId=failing, target={"findingIds": [finding["findingId"]]},
                                            auditCheckToActionsMapping={CHECK: ["ToNowhere", "ToSns"]},
                                            clientRequestToken="t")
    described = wait_mitigation(iot, failing, status="FAILED")
    assert described["taskStatistics"][CHECK]["failedFindingsCount"] == 1
    first, second = executions(iot, failing, finding["findingId"])
    assert first["status"] == "FAILED" and first["errorCode"] == "NotFound"
    assert second["status"] == "SKIPPED" and second["actionName"] == "ToSns"


def test_actions_api_and_validity_rule(fw, make_account):
    acct = new_audit_account(fw, make_account)
    iot, raw = acct.iot, acct.iot_raw
    params = {
        "deact": {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}},
        "deact-ca": {"updateCACertificateParams": {"action": "DEACTIVATE"}},
        "quarantine": {"addThingsToThingGroupParams": {"thingGroupNames": ["q"], "overrideDynamicGroups": True}},
        "blank": {"replaceDefaultPolicyVersionParams": {"templateName": "BLANK_POLICY"}},
        "logs": {"enableIoTLoggingParams": {"roleArnForLogging": LOGGING_ROLE, "logLevel": "WARN"}},
    }
    for name, p in params.items():
        iot.create_mitigation_action(actionName=name, roleArn=ACTION_ROLE, actionParams=p,
                                     tags=[{"Key": "team", "Value": "sec"}])
    expect_error(iot.create_mitigation_action, "ResourceAlreadyExistsException", 409, actionName="deact",
                 roleArn=ACTION_ROLE, actionParams=params["deact"])
    for bad in [{}, {"enableIoTLoggingParams": {"roleArnForLogging": LOGGING_ROLE, "logLevel": "DISABLED"}},
                {"updateDeviceCertificateParams": {"action": "DEACTIVATE"},
                 "replaceDefaultPolicyVersionParams": {"templateName": "BLANK_POLICY"}}]:
        expect_error(raw.create_mitigation_action, "InvalidRequestException", 400, actionName="bad",
                     roleArn=ACTION_ROLE, actionParams=bad)
    names = [a["actionName"] for a in iot.list_mitigation_actions()["actionIdentifiers"]]
    assert names == sorted(params)
    by_type = iot.list_mitigation_actions(actionType="ADD_THINGS_TO_THING_GROUP")["actionIdentifiers"]
    assert [a["actionName"] for a in by_type] == ["quarantine"]
    pages = iot.get_paginator("list_mitigation_actions").paginate(PaginationConfig={"PageSize": 2})
    assert [a["actionName"] for p in pages for a in p["actionIdentifiers"]] == sorted(params)

    iot.update_mitigation_action(actionName="logs", actionParams={
        "enableIoTLoggingParams": {"roleArnForLogging": LOGGING_ROLE, "logLevel": "INFO"}})
    assert iot.describe_mitigation_action(actionName="logs")["actionParams"]["enableIoTLoggingParams"][
        "logLevel"] == "INFO"
    expect_error(iot.update_mitigation_action, "ResourceNotFoundException", 404, actionName="nope",
                 roleArn=ACTION_ROLE)
    iot.delete_mitigation_action(actionName="deact-ca")
    iot.delete_mitigation_action(actionName="deact-ca")  # deleting a missing action succeeds
    expect_error(iot.describe_mitigation_action, "ResourceNotFoundException", 404, actionName="deact-ca")

    enable_checks(iot, CHECK)
    audit_task, _ = run_audit(iot, CHECK)
    # An action invalid for the check is refused at start with a clear error (spec 4.2).
    with pytest.raises(ClientError) as caught:
        iot.start_audit_mitigation_actions_task(
            taskId=task_id(), target={"auditTaskId": audit_task},
            auditCheckToActionsMapping={CHECK: ["logs", "blank"]}, clientRequestToken="t")
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidRequestException"
    assert "blank (REPLACE_DEFAULT_POLICY_VERSION) cannot be applied to findings of LOGGING_DISABLED_CHECK" in \
        error["Message"]
    expect_error(iot.start_audit_mitigation_actions_task, "InvalidRequestException", 400, taskId=task_id(),
                 target={"auditTaskId": audit_task}, auditCheckToActionsMapping={CHECK: ["missing"]},
                 clientRequestToken="t")
    expect_error(iot.start_audit_mitigation_actions_task, "InvalidRequestException", 400, taskId=task_id(),
                 target={"auditTaskId": "0" * 32}, auditCheckToActionsMapping={CHECK: ["logs"]},
                 clientRequestToken="t")
    expect_error(iot.start_audit_mitigation_actions_task, "InvalidRequestException", 400, taskId=task_id(),
                 target={"auditTaskId": audit_task, "auditCheckToReasonCodeFilter": {CHECK: ["NOT_A_CODE"]}},
                 auditCheckToActionsMapping={CHECK: ["logs"]}, clientRequestToken="t")
    expect_error(iot.describe_audit_mitigation_actions_task, "ResourceNotFoundException", 404, taskId="none")
    # Detect violations accept ADD_THINGS_TO_THING_GROUP only.
    expect_error(iot.start_detect_mitigation_actions_task, "InvalidRequestException", 400, taskId=task_id(),
                 target={"violationIds": ["abc"]}, actions=["deact"], clientRequestToken="t")
    # Nothing was started by the refused requests.
    assert iot.list_audit_mitigation_actions_tasks(startTime=0, endTime=4102444800)["tasks"] == []
