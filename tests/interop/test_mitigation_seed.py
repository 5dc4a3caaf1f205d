"""The seed-000 scenario closed by a mitigation action: the overly permissive policy gets a
BLANK_POLICY default version through REPLACE_DEFAULT_POLICY_VERSION (its old version kept), the
next audit is compliant, and the hub finding is archived."""

from __future__ import annotations

import json

from audit_support import enable_checks, new_audit_account, policy_hub_id, run_audit, wait_hub
from mitigation_support import ACTION_ROLE, executions, task_id, wait_mitigation
from support import allow, policy_document

CHECK = "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"
REASON = "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS"


def test_blank_policy_closes_the_overly_permissive_finding(fw, make_account):
    acct = new_audit_account(fw, make_account)
    iot, hub, account = acct.iot, acct.hub, acct.account_id
    policy = "InsecureIoTPolicy"
    insecure = policy_document(allow("iot:*", "*"))
    iot.create_policy(policyName=policy, policyDocument=insecure)
    enable_checks(iot, CHECK)
    audit_task, _ = run_audit(iot, CHECK)
    [finding] = iot.list_audit_findings(taskId=audit_task)["findings"]
    hub_id = policy_hub_id(account, policy, "1", CHECK, REASON)
    wait_hub(hub, lambda f: len(f) == 1 and f[0]["RecordState"] == "ACTIVE", Id=hub_id)

    iot.create_mitigation_action(actionName="BlankPolicy", roleArn=ACTION_ROLE, actionParams={
        "replaceDefaultPolicyVersionParams": {"templateName": "BLANK_POLICY"}})
    task = task_id()
    iot.start_audit_mitigation_actions_task(taskId=task, target={"auditTaskId": audit_task},
                                            auditCheckToActionsMapping={CHECK: ["BlankPolicy"]},
                                            clientRequestToken="seed-000")
    described = wait_mitigation(iot, task)
    assert described["taskStatistics"][CHECK]["succeededFindingsCount"] == 1
    assert [e["status"] for e in executions(iot, task, finding["findingId"])] == ["COMPLETED"]

    versions = {v["versionId"]: v for v in iot.list_policy_versions(policyName=policy)["policyVersions"]}
    assert set(versions) == {"1", "2"}, versions
    assert versions["2"]["isDefaultVersion"] and not versions["1"]["isDefaultVersion"]
    assert iot.get_policy_version(policyName=policy, policyVersionId="1")["policyDocument"] == insecure
    blank = json.loads(iot.get_policy(policyName=policy)["policyDocument"])
    assert not [s for s in blank["Statement"] if s["Effect"] == "Allow"], blank

    # Applying it again changes nothing (idempotent): no third version.
    again = task_id()
    iot.start_audit_mitigation_actions_task(taskId=again, target={"findingIds": [finding["findingId"]]},
                                            auditCheckToActionsMapping={CHECK: ["BlankPolicy"]},
                                            clientRequestToken="seed-000")
    wait_mitigation(iot, again)
    assert len(iot.list_policy_versions(policyName=policy)["policyVersions"]) == 2

    second, details = run_audit(iot, CHECK)
    assert details["auditDetails"][CHECK]["checkRunStatus"] == "COMPLETED_COMPLIANT"
    assert iot.list_audit_findings(taskId=second)["findings"] == []
    wait_hub(hub, lambda f: len(f) == 1 and f[0]["RecordState"] == "ARCHIVED", what="the archived finding",
             Id=hub_id)
