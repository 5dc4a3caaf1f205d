"""The seed-000 scenario end to end with boto3, without any Lambda: an `iot:*` on `*` policy is
found by an on-demand audit and appears in the hub as a CRITICAL finding in the shape Device
Defender gives it (seed 002); when the policy is fixed, the next audit archives it."""

from __future__ import annotations

import json

from audit_support import (
    enable_checks,
    hub_audit_findings,
    new_audit_account,
    policy_hub_id,
    run_audit,
    wait_hub,
)
from support import DD_AUDIT_ARN, REGION, allow, iot_arn, policy_document

CHECK = "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"
REASON = "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS"
ALL_DATA_PLANE = (
    "[iot:Connect, iot:Publish, iot:Subscribe, iot:GetThingShadow, iot:UpdateThingShadow, "
    "iot:DeleteThingShadow, iot:DescribeJobExecution, iot:GetPendingJobExecutions, "
    "iot:StartNextPendingJobExecution, iot:UpdateJobExecution]"
)


def test_insecure_policy_becomes_a_critical_hub_finding_then_archived(fw, make_account):
    acct = new_audit_account(fw, make_account)
    iot, hub, account = acct.iot, acct.hub, acct.account_id
    policy = "InsecureIoTPolicy"
    iot.create_policy(policyName=policy, policyDocument=policy_document(allow("iot:*", "*")))
    enable_checks(iot, CHECK, "LOGGING_DISABLED_CHECK")

    task_id, described = run_audit(iot, CHECK)
    assert described["taskType"] == "ON_DEMAND_AUDIT_TASK"
    details = described["auditDetails"][CHECK]
    assert details["checkRunStatus"] == "COMPLETED_NON_COMPLIANT"
    assert details["checkCompliant"] is False
    assert details["nonCompliantResourcesCount"] == 1 and details["totalResourcesCount"] == 1
    assert described["taskStatistics"]["nonCompliantChecks"] == 1
    assert described["taskStatistics"]["totalChecks"] == 1

    findings = iot.list_audit_findings(taskId=task_id)["findings"]
    assert len(findings) == 1
    finding = findings[0]
    assert finding["checkName"] == CHECK and finding["severity"] == "CRITICAL"
    assert finding["nonCompliantResource"] == {
        "resourceType": "IOT_POLICY",
        "resourceIdentifier": {"policyVersionIdentifier": {"policyName": policy, "policyVersionId": "1"}},
    }
    assert finding["reasonForNonComplianceCode"] == REASON
    assert finding["reasonForNonCompliance"] == f"Policy allows broad access to IoT data plane actions: {ALL_DATA_PLANE}."
    assert finding["isSuppressed"] is False
    assert iot.describe_audit_finding(findingId=finding["findingId"])["finding"]["findingId"] == finding["findingId"]

    hub_id = policy_hub_id(account, policy, "1", CHECK, REASON)
    found = wait_hub(hub, lambda f: len(f) == 1, what="the policy finding in the hub", Id=hub_id)
    asff = found[0]
    # The shape of seed 002's audit finding.
    assert asff["ProductArn"] == DD_AUDIT_ARN
    assert asff["ProductName"] == "IoT Device Defender - Audit"
    assert asff["CompanyName"] == "AWS"
    assert asff["GeneratorId"] == finding["findingId"]
    assert asff["AwsAccountId"] == account
    assert asff["Types"] == ["Software and Configuration Check/Vulnerabilities"]
    assert asff["Severity"]["Label"] == "CRITICAL" and asff["Severity"]["Normalized"] == 90
    assert asff["Title"] == f"{CHECK}: {REASON}"
    assert asff["Description"] == (
        f"IOT_POLICY {policy}:1 is reported as non-compliant for {CHECK} by Audit task {task_id}. "
        f"The non-compliant reason is Policy allows broad access to IoT data plane actions: {ALL_DATA_PLANE}."
    )
    assert asff["SourceUrl"] == f"{fw.endpoint}/console/iot/home?region={REGION}#/policy/{policy}"
    fields = asff["ProductFields"]
    expected = {
        "CheckName": CHECK, "TaskId": task_id, "TaskType": "ON_DEMAND_AUDIT_TASK", "PolicyName": policy,
        "IsSuppressed": "false", "ReasonForNonComplianceCode": REASON, "ResourceType": "IOT_POLICY",
        "FindingId": finding["findingId"], "PolicyVersionId": "1", "ReportType": "AuditFinding",
        "aws/securityhub/ProductName": "IoT Device Defender - Audit", "aws/securityhub/CompanyName": "AWS",
    }
    for key, value in expected.items():
        assert fields[key] == value, key
    assert int(fields["TaskStartTime"]) > 0
    assert fields["aws/securityhub/FindingId"] == f"{DD_AUDIT_ARN}/{hub_id}"
    assert asff["Resources"] == [{
        "Type": "AwsIotPolicy", "Id": policy, "Partition": "aws", "Region": REGION,
        "Details": {"Other": {"PolicyVersionId": "1"}},
    }]
    assert asff["RecordState"] == "ACTIVE" and asff["Workflow"]["Status"] == "NEW"
    assert asff["FindingProviderFields"] == {
        "Severity": {"Label": "CRITICAL"}, "Types": ["Software and Configuration Check/Vulnerabilities"],
    }

    # The check summary (ReportType CheckSummary) is active too.
    summary_id = f"{account}/ON_DEMAND_AUDIT_TASK/{CHECK}"
    summary = wait_hub(hub, lambda f: len(f) == 1, Id=summary_id)[0]
    assert summary["Title"] == f"{CHECK} Summary: Completed with 1 non-compliant resources"
    assert summary["GeneratorId"] == task_id
    assert summary["ProductFields"]["ReportType"] == "CheckSummary"
    assert summary["ProductFields"]["CheckRunStatus"] == "COMPLETED_NON_COMPLIANT"
    assert summary["ProductFields"]["NonComopliantResourcesCount"] == "1"
    assert summary["ProductFields"]["TotalResourcesCount"] == "1"
    assert summary["Resources"] == [{"Type": "AwsIotAuditTask", "Id": task_id, "Region": REGION}]
    assert summary["RecordState"] == "ACTIVE"

    # Fix the policy with a new default version, audit again: the finding is archived.
    fixed = policy_document(allow("iot:Connect", iot_arn(account, "client", "${iot:Connection.Thing.ThingName}")))
    iot.create_policy_version(policyName=policy, policyDocument=fixed, setAsDefault=True)
    second, described = run_audit(iot, CHECK)
    assert described["auditDetails"][CHECK]["checkRunStatus"] == "COMPLETED_COMPLIANT"
    assert iot.list_audit_findings(taskId=second)["findings"] == []
    archived = wait_hub(
        hub, lambda f: len(f) == 1 and f[0]["RecordState"] == "ARCHIVED", what="the archived finding", Id=hub_id,
    )[0]
    assert archived["Severity"]["Label"] == "CRITICAL"
    wait_hub(hub, lambda f: len(f) == 1 and f[0]["RecordState"] == "ARCHIVED", Id=summary_id)
    active = hub_audit_findings(hub, RecordState="ACTIVE")
    assert active == [], json.dumps(active, default=str)[:2000]
