"""Insights (custom and managed), custom actions, automation rules and tags, with boto3."""

from __future__ import annotations

import re
import uuid

import pytest
from botocore.exceptions import ClientError

from support import (
    DEFAULT_ACCOUNT,
    REGION,
    dd_audit_finding,
    dd_detect_finding,
    default_product_arn,
    expect_error,
    get_one,
    hub_arn,
    ident,
    import_findings,
    prowler_finding,
    scope,
    wait_until,
    with_scope,
)

ACCT = DEFAULT_ACCOUNT
OWN = default_product_arn(ACCT)
CUSTOM_INSIGHT_ARN = re.compile(rf"^arn:aws:securityhub:{REGION}:{ACCT}:insight/{ACCT}/custom/[0-9a-f-]{{36}}$")
RULE_ARN = re.compile(rf"^arn:aws:securityhub:{REGION}:{ACCT}:automation-rule/[0-9a-f-]{{36}}$")


def results(client, arn):
    resp = client.get_insight_results(InsightArn=arn)["InsightResults"]
    assert resp["InsightArn"] == arn
    return resp["GroupByAttribute"], {v["GroupByAttributeValue"]: v["Count"] for v in resp["ResultValues"]}, resp


def all_insights(client):
    out = []
    for page in client.get_paginator("get_insights").paginate():
        out.extend(page["Insights"])
    return out


# --------------------------------------------------------------------------------------------
# Custom insights


def test_custom_insight_lifecycle(hub, tag):
    findings = (
        [dd_audit_finding(ACCT, tag, policy=f"p{n}-{tag}", severity="CRITICAL") for n in range(3)]
        + [dd_detect_finding(ACCT, tag, thing=f"low{n}-{tag}", severity="LOW") for n in range(2)]
        + [dd_detect_finding(ACCT, tag, thing=f"med-{tag}", severity="MEDIUM")]
    )
    import_findings(hub, findings)
    filters = with_scope(tag, {"RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}]})
    arn = hub.create_insight(Name=f"IoT findings {tag}", Filters=filters, GroupByAttribute="SeverityLabel")["InsightArn"]
    assert CUSTOM_INSIGHT_ARN.match(arn), arn

    got = hub.get_insights(InsightArns=[arn])["Insights"]
    assert len(got) == 1
    assert got[0]["InsightArn"] == arn and got[0]["Name"] == f"IoT findings {tag}"
    assert got[0]["GroupByAttribute"] == "SeverityLabel"
    assert got[0]["Filters"] == filters

    group, counts, raw = results(hub, arn)
    assert group == "SeverityLabel"
    assert counts == {"CRITICAL": 3, "LOW": 2, "MEDIUM": 1}
    ordered = [v["Count"] for v in raw["ResultValues"]]
    assert ordered == sorted(ordered, reverse=True), "result values are ordered by count, largest first"

    hub.update_insight(InsightArn=arn, Name=f"IoT by resource type {tag}", GroupByAttribute="ResourceType")
    group, counts, _ = results(hub, arn)
    assert group == "ResourceType"
    assert counts == {"AwsIotPolicy": 3, "AwsIotRegisteredThing": 3}

    narrowed = with_scope(tag, {"SeverityLabel": [{"Value": "LOW", "Comparison": "EQUALS"}]})
    hub.update_insight(InsightArn=arn, Filters=narrowed)
    _, counts, _ = results(hub, arn)
    assert counts == {"AwsIotRegisteredThing": 2}
    got = hub.get_insights(InsightArns=[arn])["Insights"][0]
    assert got["Name"] == f"IoT by resource type {tag}" and got["Filters"] == narrowed

    listed = {i["InsightArn"]: i for i in all_insights(hub)}
    assert arn in listed
    assert not any(a.startswith("arn:aws:securityhub:::insight/securityhub/default/") for a in listed), \
        "GetInsights without ARNs lists custom insights only"

    assert hub.delete_insight(InsightArn=arn)["InsightArn"] == arn
    expect_error(hub.get_insight_results, "ResourceNotFoundException", 404, InsightArn=arn)
    expect_error(hub.delete_insight, "ResourceNotFoundException", 404, InsightArn=arn)
    expect_error(hub.update_insight, "ResourceNotFoundException", 404, InsightArn=arn, Name="gone")
    assert arn not in {i["InsightArn"] for i in all_insights(hub)}


def _multi_resource_findings(tag):
    bucket1 = f"arn:aws:s3:::bucket-1-{tag}"
    bucket2 = f"arn:aws:s3:::bucket-2-{tag}"
    role = f"arn:aws:iam::{ACCT}:role/role-1-{tag}"
    a = prowler_finding(ACCT, tag, check="s3_bucket_policy_public_write_access", product_arn=OWN,
                        resource_type="AwsS3Bucket", resource_id=bucket1,
                        Types=["Effects/Data Exposure", "Software and Configuration Checks/AWS Security Best Practices"])
    a["Resources"].append({"Type": "AwsIamRole", "Id": role, "Partition": "aws", "Region": REGION})
    b = prowler_finding(ACCT, tag, check="s3_bucket_default_encryption", product_arn=OWN,
                        resource_type="AwsS3Bucket", resource_id=bucket1, Types=["Effects/Data Exposure"])
    c = prowler_finding(ACCT, tag, check="s3_bucket_default_encryption", product_arn=OWN,
                        resource_type="AwsS3Bucket", resource_id=bucket2, Types=["Effects/Data Exposure"])
    return [a, b, c], bucket1, bucket2, role


def test_insight_counts_each_value_of_multi_valued_attributes(hub, tag):
    findings, bucket1, bucket2, role = _multi_resource_findings(tag)
    import_findings(hub, findings)
    arn = hub.create_insight(Name=f"by resource {tag}", Filters=scope(tag), GroupByAttribute="ResourceId")["InsightArn"]
    try:
        _, counts, _ = results(hub, arn)
        assert counts == {bucket1: 2, bucket2: 1, role: 1}
        hub.update_insight(InsightArn=arn, GroupByAttribute="Type")
        _, counts, _ = results(hub, arn)
        assert counts == {"Effects/Data Exposure": 3,
                          "Software and Configuration Checks/AWS Security Best Practices": 1}
    finally:
        hub.delete_insight(InsightArn=arn)


def test_insight_resource_id_grouping_lists_all_resources_of_matching_findings(hub, tag):
    """Documented: grouping by ResourceId lists every resource of a matching finding, even
    resources that do not match a ResourceType filter."""
    findings, bucket1, bucket2, role = _multi_resource_findings(tag)
    import_findings(hub, findings)
    filters = with_scope(tag, {"ResourceType": [{"Value": "AwsS3Bucket", "Comparison": "EQUALS"}]})
    arn = hub.create_insight(Name=f"s3 {tag}", Filters=filters, GroupByAttribute="ResourceId")["InsightArn"]
    try:
        _, counts, _ = results(hub, arn)
        assert counts == {bucket1: 2, bucket2: 1, role: 1}
    finally:
        hub.delete_insight(InsightArn=arn)


def test_insight_unknown_arn(hub):
    arn = f"arn:aws:securityhub:{REGION}:{ACCT}:insight/{ACCT}/custom/{uuid.uuid4()}"
    expect_error(hub.get_insight_results, "ResourceNotFoundException", 404, InsightArn=arn)
    expect_error(hub.delete_insight, "ResourceNotFoundException", 404, InsightArn=arn)


def test_create_insight_requires_group_by(hub_raw, tag):
    expect_error(hub_raw.create_insight, "InvalidInputException", 400, Name=f"bad {tag}", Filters=scope(tag))


# --------------------------------------------------------------------------------------------
# Managed insights, in an account of their own so that the counts are exact


@pytest.fixture(scope="module")
def managed_account(make_account):
    account = make_account()
    acct = account.account_id
    own = default_product_arn(acct)
    tag = "managed"

    def f(check, severity, rtype, rid, types, **kw):
        return prowler_finding(acct, tag, check=check, product_arn=own, resource_type=rtype,
                               resource_id=rid, severity=severity, Types=types, **kw)

    best = ["Software and Configuration Checks/AWS Security Best Practices"]
    r1 = f"arn:aws:iam::{acct}:role/r1"
    r2 = f"arn:aws:iam::{acct}:role/r2"
    bucket = "arn:aws:s3:::public-bucket-x"
    i1 = f"arn:aws:ec2:{REGION}:{acct}:instance/i-0000000000000001"
    i2 = f"arn:aws:ec2:{REGION}:{acct}:instance/i-0000000000000002"
    notified = f("iam_role_admin_b", "MEDIUM", "AwsIamRole", r2, best)
    findings = [
        f("iam_role_admin_a", "HIGH", "AwsIamRole", r1, best),
        f("iam_role_admin_c", "HIGH", "AwsIamRole", r1, best),
        f("iam_role_unused", "LOW", "AwsIamRole", r2, best),
        f("iam_role_archived", "CRITICAL", "AwsIamRole", f"arn:aws:iam::{acct}:role/r3", best, RecordState="ARCHIVED"),
        f("iam_role_suppressed", "MEDIUM", "AwsIamRole", f"arn:aws:iam::{acct}:role/r4", best,
          Workflow={"Status": "SUPPRESSED"}),
        notified,
        f("s3_bucket_public", "LOW", "AwsS3Bucket", bucket, ["Effects/Data Exposure/Public bucket"]),
        f("ec2_port_probe", "MEDIUM", "AwsEc2Instance", i1, ["TTPs/Discovery/Recon:EC2-PortProbeUnprotectedPort"]),
        f("ec2_cve", "CRITICAL", "AwsEc2Instance", i2, ["Software and Configuration Checks/Vulnerabilities/CVE"]),
    ]
    import_findings(account.client, findings)
    resp = account.client.batch_update_findings(FindingIdentifiers=[ident(notified)], Workflow={"Status": "NOTIFIED"})
    assert resp["UnprocessedFindings"] == [], resp
    expected = {
        29: ("SeverityLabel", {"HIGH": 2, "LOW": 2, "MEDIUM": 2, "CRITICAL": 1}),
        27: ("AwsAccountId", {acct: 7}),
        28: ("ProductName", {"Default": 7}),
        1: ("ResourceId", {r1: 2, r2: 2, bucket: 1, i1: 1, i2: 1}),
        10: ("ResourceId", {bucket: 1}),
        14: ("ResourceId", {i1: 1}),
        16: ("ResourceId", {i2: 1}),
    }
    return account, expected


@pytest.mark.parametrize("number", [29, 1, 10, 14, 16, 27, 28])
def test_managed_insight_results(managed_account, number):
    account, expected = managed_account
    arn = f"arn:aws:securityhub:::insight/securityhub/default/{number}"
    group, counts, _ = results(account.client, arn)
    want_group, want_counts = expected[number]
    assert group == want_group
    assert counts == want_counts


def test_managed_insights_are_not_listed_but_can_be_read(managed_account):
    account, _ = managed_account
    assert all_insights(account.client) == [], "a new account has no custom insights"
    arn = "arn:aws:securityhub:::insight/securityhub/default/29"
    got = account.client.get_insights(InsightArns=[arn])["Insights"]
    assert len(got) == 1 and got[0]["InsightArn"] == arn and got[0]["GroupByAttribute"] == "SeverityLabel"


def test_managed_insights_cannot_be_changed(managed_account):
    account, _ = managed_account
    arn = "arn:aws:securityhub:::insight/securityhub/default/29"
    for call, kwargs in [(account.client.delete_insight, {}), (account.client.update_insight, {"Name": "mine"})]:
        try:
            call(InsightArn=arn, **kwargs)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] in {"InvalidInputException", "AccessDeniedException",
                                                     "ResourceNotFoundException"}, exc.response["Error"]
        else:
            raise AssertionError(f"{call.__name__} on a managed insight succeeded")
    _, counts, _ = results(account.client, arn)
    assert counts  # still there


# --------------------------------------------------------------------------------------------
# Custom actions


def test_action_target_crud(hub, tag):
    target_id = f"Ticket{tag[1:9]}"
    arn = hub.create_action_target(Name="Send to ticketing", Description="Open a ticket in the SOC queue",
                                   Id=target_id)["ActionTargetArn"]
    assert arn == f"arn:aws:securityhub:{REGION}:{ACCT}:action/custom/{target_id}"

    got = hub.describe_action_targets(ActionTargetArns=[arn])["ActionTargets"]
    assert got == [{"ActionTargetArn": arn, "Name": "Send to ticketing", "Description": "Open a ticket in the SOC queue"}]

    expect_error(hub.create_action_target, "ResourceConflictException", 409,
                 Name="Again", Description="duplicate id", Id=target_id)

    hub.update_action_target(ActionTargetArn=arn, Name="Ticket it", Description="Open a P2 ticket")
    got = hub.describe_action_targets(ActionTargetArns=[arn])["ActionTargets"][0]
    assert (got["Name"], got["Description"]) == ("Ticket it", "Open a P2 ticket")

    listed = [t["ActionTargetArn"] for p in hub.get_paginator("describe_action_targets").paginate()
              for t in p["ActionTargets"]]
    assert listed.count(arn) == 1

    assert hub.delete_action_target(ActionTargetArn=arn)["ActionTargetArn"] == arn
    listed = [t["ActionTargetArn"] for p in hub.get_paginator("describe_action_targets").paginate()
              for t in p["ActionTargets"]]
    assert arn not in listed
    expect_error(hub.update_action_target, "ResourceNotFoundException", 404, ActionTargetArn=arn, Name="x")
    expect_error(hub.delete_action_target, "ResourceNotFoundException", 404, ActionTargetArn=arn)
    # The Id is free again after deletion.
    again = hub.create_action_target(Name="Send to ticketing", Description="again", Id=target_id)["ActionTargetArn"]
    assert again == arn
    hub.delete_action_target(ActionTargetArn=arn)


def test_action_target_unknown_arn(hub):
    arn = f"arn:aws:securityhub:{REGION}:{ACCT}:action/custom/NoSuchAction"
    expect_error(hub.delete_action_target, "ResourceNotFoundException", 404, ActionTargetArn=arn)
    expect_error(hub.update_action_target, "ResourceNotFoundException", 404, ActionTargetArn=arn, Name="x")


@pytest.mark.parametrize("target_id,name", [("bad-id!", "ok"), ("A" * 21, "ok"), ("GoodId", "N" * 21)],
                         ids=["non-alphanumeric-id", "id-too-long", "name-too-long"])
def test_action_target_invalid_input(hub_raw, target_id, name):
    expect_error(hub_raw.create_action_target, "InvalidInputException", 400,
                 Name=name, Description="d", Id=target_id)


# --------------------------------------------------------------------------------------------
# Automation rules


def _rule(client, tag, name, order, update, extra_criteria=None, **kwargs):
    criteria = {"GeneratorId": [{"Value": f"{tag}/", "Comparison": "PREFIX"}]}
    criteria.update(extra_criteria or {})
    arn = client.create_automation_rule(
        RuleName=name, Description=f"{name} ({tag})", RuleOrder=order, RuleStatus="ENABLED",
        Criteria=criteria, Actions=[{"Type": "FINDING_FIELDS_UPDATE", "FindingFieldsUpdate": update}], **kwargs,
    )["RuleArn"]
    assert RULE_ARN.match(arn), arn
    return arn


@pytest.fixture
def rules(hub):
    created = []
    yield created
    if created:
        hub.batch_delete_automation_rules(AutomationRulesArns=created)


def _eventually(hub, finding, check, what):
    """Rules apply as findings are imported; allow a moment if the server applies them async."""
    return wait_until(lambda: check(get_one(hub, finding)), timeout=3.0, what=what)


def test_rule_applies_to_matching_imports(hub, tag, rules):
    rules.append(_rule(hub, tag, "escalate-critical", 1,
                       {"Workflow": {"Status": "NOTIFIED"},
                        "Note": {"Text": "Escalated to the IoT on-call", "UpdatedBy": "automation-rule"}},
                       extra_criteria={"SeverityLabel": [{"Value": "CRITICAL", "Comparison": "EQUALS"}]}))
    critical = dd_audit_finding(ACCT, tag, severity="CRITICAL")
    low = dd_detect_finding(ACCT, tag, severity="LOW")
    import_findings(hub, [critical, low])

    got = _eventually(hub, critical, lambda f: f if f["Workflow"]["Status"] == "NOTIFIED" else None,
                      "the rule to set Workflow NOTIFIED")
    assert got["Note"]["Text"] == "Escalated to the IoT on-call"
    untouched = get_one(hub, low)
    assert untouched["Workflow"]["Status"] == "NEW"
    assert "Note" not in untouched


def test_rule_order_and_is_terminal(hub, tag, rules):
    first = _rule(hub, tag, "confidence-10", 10, {"Confidence": 10, "UserDefinedFields": {"rule": "A"}})
    second = _rule(hub, tag, "confidence-20", 20, {"Confidence": 20})
    rules.extend([first, second])

    def imported(n):
        f = dd_detect_finding(ACCT, tag, thing=f"thing{n}-{tag}")
        import_findings(hub, [f])
        return get_one(hub, f)

    # Both match: applied in RuleOrder, the later one wins.
    f1 = imported(1)
    assert f1.get("Confidence") == 20 and f1.get("UserDefinedFields", {}).get("rule") == "A", f1

    resp = hub.batch_update_automation_rules(UpdateAutomationRulesRequestItems=[{"RuleArn": first, "RuleOrder": 30}])
    assert resp["ProcessedAutomationRules"] == [first] and not resp.get("UnprocessedAutomationRules"), resp
    f2 = imported(2)
    assert f2.get("Confidence") == 10 and f2.get("UserDefinedFields", {}).get("rule") == "A", f2

    hub.batch_update_automation_rules(UpdateAutomationRulesRequestItems=[{"RuleArn": second, "IsTerminal": True}])
    f3 = imported(3)
    assert f3.get("Confidence") == 20, f3
    assert "rule" not in f3.get("UserDefinedFields", {}), "a terminal rule stops the evaluation"

    hub.batch_update_automation_rules(UpdateAutomationRulesRequestItems=[{"RuleArn": second, "RuleStatus": "DISABLED"}])
    f4 = imported(4)
    assert f4.get("Confidence") == 10 and f4.get("UserDefinedFields", {}).get("rule") == "A", f4


def test_rule_crud(hub, tag):
    criteria = {"GeneratorId": [{"Value": f"{tag}/", "Comparison": "PREFIX"}],
                "ResourceType": [{"Value": "AwsIotPolicy", "Comparison": "EQUALS"}],
                "Criticality": [{"Gte": 50}]}
    actions = [{"Type": "FINDING_FIELDS_UPDATE",
                "FindingFieldsUpdate": {"Severity": {"Label": "HIGH"}, "VerificationState": "TRUE_POSITIVE"}}]
    arn = hub.create_automation_rule(RuleName=f"iot-policies-{tag}", Description="Raise IoT policy findings",
                                     RuleOrder=5, RuleStatus="ENABLED", IsTerminal=False, Criteria=criteria,
                                     Actions=actions, Tags={"owner": "secops"})["RuleArn"]
    assert RULE_ARN.match(arn), arn
    unknown = f"arn:aws:securityhub:{REGION}:{ACCT}:automation-rule/{uuid.uuid4()}"

    resp = hub.batch_get_automation_rules(AutomationRulesArns=[arn, unknown])
    assert len(resp["Rules"]) == 1
    rule = resp["Rules"][0]
    assert rule["RuleArn"] == arn and rule["RuleName"] == f"iot-policies-{tag}"
    assert rule["Description"] == "Raise IoT policy findings"
    assert rule["RuleOrder"] == 5 and rule["RuleStatus"] == "ENABLED" and rule["IsTerminal"] is False
    assert rule["Criteria"] == criteria
    assert rule["Actions"] == actions
    assert rule["CreatedAt"] and rule["UpdatedAt"] >= rule["CreatedAt"]
    unprocessed = resp["UnprocessedAutomationRules"]
    assert [u["RuleArn"] for u in unprocessed] == [unknown], resp
    assert isinstance(unprocessed[0]["ErrorCode"], int) and unprocessed[0]["ErrorMessage"]

    listed = _list_rules(hub)
    assert arn in listed
    meta = listed[arn]
    assert (meta["RuleName"], meta["RuleOrder"], meta["RuleStatus"], meta["IsTerminal"]) == \
        (f"iot-policies-{tag}", 5, "ENABLED", False)

    resp = hub.batch_update_automation_rules(UpdateAutomationRulesRequestItems=[
        {"RuleArn": arn, "RuleStatus": "DISABLED", "Description": "Paused"},
        {"RuleArn": unknown, "RuleStatus": "DISABLED"},
    ])
    assert resp["ProcessedAutomationRules"] == [arn]
    assert [u["RuleArn"] for u in resp["UnprocessedAutomationRules"]] == [unknown]
    rule = hub.batch_get_automation_rules(AutomationRulesArns=[arn])["Rules"][0]
    assert rule["RuleStatus"] == "DISABLED" and rule["Description"] == "Paused"
    assert rule["Criteria"] == criteria, "a partial update keeps the other fields"

    assert hub.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"owner": "secops"}
    hub.tag_resource(ResourceArn=arn, Tags={"env": "prod"})
    assert hub.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"owner": "secops", "env": "prod"}
    hub.untag_resource(ResourceArn=arn, TagKeys=["owner"])
    assert hub.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "prod"}

    resp = hub.batch_delete_automation_rules(AutomationRulesArns=[arn, unknown])
    assert resp["ProcessedAutomationRules"] == [arn]
    assert [u["RuleArn"] for u in resp["UnprocessedAutomationRules"]] == [unknown]
    resp = hub.batch_get_automation_rules(AutomationRulesArns=[arn])
    assert resp["Rules"] == [] and [u["RuleArn"] for u in resp["UnprocessedAutomationRules"]] == [arn]
    assert arn not in _list_rules(hub)
    expect_error(hub.list_tags_for_resource, "ResourceNotFoundException", 404, ResourceArn=arn)


def _list_rules(client):
    out, token = {}, None
    for _ in range(50):
        kwargs = {"MaxResults": 100}
        if token:
            kwargs["NextToken"] = token
        page = client.list_automation_rules(**kwargs)
        for meta in page["AutomationRulesMetadata"]:
            out[meta["RuleArn"]] = meta
        token = page.get("NextToken")
        if not token:
            return out
    raise AssertionError("ListAutomationRules did not stop paging")


def test_disabled_rule_does_not_apply(hub, tag, rules):
    arn = _rule(hub, tag, "notify", 3, {"Workflow": {"Status": "NOTIFIED"}})
    rules.append(arn)
    hub.batch_update_automation_rules(UpdateAutomationRulesRequestItems=[{"RuleArn": arn, "RuleStatus": "DISABLED"}])
    f = dd_detect_finding(ACCT, tag)
    import_findings(hub, [f])
    assert get_one(hub, f)["Workflow"]["Status"] == "NEW"


@pytest.mark.parametrize("order", [0, 1001])
def test_rule_order_out_of_range_is_invalid(hub_raw, tag, order):
    expect_error(hub_raw.create_automation_rule, "InvalidInputException", 400,
                 RuleName="bad", Description="bad", RuleOrder=order, Criteria=scope(tag),
                 Actions=[{"Type": "FINDING_FIELDS_UPDATE", "FindingFieldsUpdate": {"Confidence": 1}}])


def test_rule_without_actions_is_invalid(hub_raw, tag):
    expect_error(hub_raw.create_automation_rule, "InvalidInputException", 400,
                 RuleName="bad", Description="bad", RuleOrder=1, Criteria=scope(tag), Actions=[])


# --------------------------------------------------------------------------------------------
# Tags on the hub


def test_hub_tags(hub, tag):
    arn = hub_arn(ACCT)
    k1, k2 = f"cost-center-{tag}", f"team-{tag}"
    hub.tag_resource(ResourceArn=arn, Tags={k1: "1234", k2: "iot-security"})
    tags = hub.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert tags.get(k1) == "1234" and tags.get(k2) == "iot-security"
    hub.tag_resource(ResourceArn=arn, Tags={k1: "5678"})
    assert hub.list_tags_for_resource(ResourceArn=arn)["Tags"][k1] == "5678"
    hub.untag_resource(ResourceArn=arn, TagKeys=[k1])
    tags = hub.list_tags_for_resource(ResourceArn=arn)["Tags"]
    assert k1 not in tags and tags.get(k2) == "iot-security"
    hub.untag_resource(ResourceArn=arn, TagKeys=[k2])


def test_tags_unknown_resource(hub):
    arn = f"arn:aws:securityhub:{REGION}:{ACCT}:automation-rule/{uuid.uuid4()}"
    expect_error(hub.list_tags_for_resource, "ResourceNotFoundException", 404, ResourceArn=arn)
    expect_error(hub.tag_resource, "ResourceNotFoundException", 404, ResourceArn=arn, Tags={"a": "b"})


def test_tags_non_securityhub_arn_is_invalid(hub):
    expect_error(hub.list_tags_for_resource, "InvalidInputException", 400, ResourceArn="arn:aws:s3:::my-bucket")


def test_too_many_tags_is_invalid(hub_raw):
    tags = {f"k{n}": "v" for n in range(51)}
    expect_error(hub_raw.tag_resource, "InvalidInputException", 400, ResourceArn=hub_arn(ACCT), Tags=tags)


# --------------------------------------------------------------------------------------------
# Quotas, rule criteria operators, rules on provider updates, tag-key encoding


def test_insight_results_capped_at_100_values(hub, tag):
    findings = [dd_detect_finding(ACCT, tag, thing=f"dev{n:03d}-{tag}") for n in range(150)]
    findings[0]["Resources"].append({"Type": "AwsIotRegisteredThing", "Id": f"dev001-{tag}", "Region": REGION})
    import_findings(hub, findings)
    arn = hub.create_insight(Name=f"top devices {tag}", Filters=scope(tag), GroupByAttribute="ResourceId")["InsightArn"]
    try:
        _, counts, raw = results(hub, arn)
        assert len(raw["ResultValues"]) == 100
        assert raw["ResultValues"][0] == {"GroupByAttributeValue": f"dev001-{tag}", "Count": 2}
    finally:
        hub.delete_insight(InsightArn=arn)


def test_action_target_quota_is_50(make_account):
    client = make_account().client
    for n in range(50):
        client.create_action_target(Name=f"Action {n}", Description="quota", Id=f"Action{n}")
    expect_error(client.create_action_target, "LimitExceededException", 429,
                 Name="One too many", Description="quota", Id="Action50")
    listed = [t for p in client.get_paginator("describe_action_targets").paginate(PaginationConfig={"PageSize": 20})
              for t in p["ActionTargets"]]
    assert len(listed) == 50 and len({t["ActionTargetArn"] for t in listed}) == 50


def test_custom_insight_quota_is_100(make_account):
    client = make_account().client
    for n in range(100):
        client.create_insight(Name=f"insight {n}", Filters={}, GroupByAttribute="SeverityLabel")
    expect_error(client.create_insight, "LimitExceededException", 429,
                 Name="one too many", Filters={}, GroupByAttribute="SeverityLabel")
    pages = list(client.get_paginator("get_insights").paginate(PaginationConfig={"PageSize": 30}))
    arns = [i["InsightArn"] for p in pages for i in p["Insights"]]
    assert len(arns) == 100 == len(set(arns)) and len(pages) == 4


def test_automation_rule_quota_is_100(make_account):
    client = make_account().client
    action = [{"Type": "FINDING_FIELDS_UPDATE", "FindingFieldsUpdate": {"Confidence": 1}}]
    for n in range(100):
        client.create_automation_rule(RuleName=f"r{n}", Description="quota", RuleOrder=n % 1000 + 1,
                                      Criteria={"Title": [{"Value": f"t{n}", "Comparison": "EQUALS"}]}, Actions=action)
    expect_error(client.create_automation_rule, "LimitExceededException", 429, RuleName="r100", Description="quota",
                 RuleOrder=1, Criteria={}, Actions=action)
    assert len(_list_rules(client)) == 100


def test_rule_with_two_actions_is_invalid(hub_raw, tag):
    action = {"Type": "FINDING_FIELDS_UPDATE", "FindingFieldsUpdate": {"Confidence": 1}}
    expect_error(hub_raw.create_automation_rule, "InvalidInputException", 400, RuleName="bad", Description="bad",
                 RuleOrder=1, Criteria=scope(tag), Actions=[action, action])


def test_rule_contains_and_not_contains_criteria(hub, tag, rules):
    rules.append(_rule(hub, tag, "ssh-exposure", 7, {"Workflow": {"Status": "NOTIFIED"}},
                       extra_criteria={"Title": [{"Value": "exposes SSH", "Comparison": "CONTAINS"}],
                                       "Description": [{"Value": "staging", "Comparison": "NOT_CONTAINS"}]}))
    hit = prowler_finding(ACCT, tag, product_arn=OWN, Title="Instance i-1 exposes SSH to the internet",
                          Description="prod fleet gateway")
    miss_title = prowler_finding(ACCT, tag, check="ec2_imdsv2", product_arn=OWN, Title="Instance uses IMDSv1",
                                 Description="prod fleet gateway")
    miss_desc = prowler_finding(ACCT, tag, check="ec2_ssh_staging", product_arn=OWN,
                                Title="Instance i-2 exposes SSH too", Description="staging gateway")
    import_findings(hub, [hit, miss_title, miss_desc])
    _eventually(hub, hit, lambda f: f["Workflow"]["Status"] == "NOTIFIED", "the CONTAINS rule to apply")
    assert get_one(hub, miss_title)["Workflow"]["Status"] == "NEW"
    assert get_one(hub, miss_desc)["Workflow"]["Status"] == "NEW"


def test_rule_applies_to_provider_updates_not_retroactively(hub, tag, rules):
    import datetime as dt

    from support import iso_ms, parse_ts

    f = dd_audit_finding(ACCT, tag, severity="HIGH")
    import_findings(hub, [f])
    rules.append(_rule(hub, tag, "mark-true-positive", 4, {"VerificationState": "TRUE_POSITIVE"}))
    assert get_one(hub, f).get("VerificationState", "UNKNOWN") == "UNKNOWN", "rules do not apply retroactively"
    newer = dict(f, UpdatedAt=iso_ms(parse_ts(f["UpdatedAt"]) + dt.timedelta(minutes=1)))
    import_findings(hub, [newer])
    _eventually(hub, f, lambda g: g.get("VerificationState") == "TRUE_POSITIVE",
                "the rule to apply to an updated finding")


def test_untag_several_keys_with_special_characters(hub):
    arn = hub.create_automation_rule(
        RuleName="tag-encoding", Description="tag keys that need encoding", RuleOrder=999,
        RuleStatus="DISABLED", Criteria={"Title": [{"Value": "never", "Comparison": "EQUALS"}]},
        Actions=[{"Type": "FINDING_FIELDS_UPDATE", "FindingFieldsUpdate": {"Confidence": 1}}],
        Tags={"cost center": "1", "a+b": "2", "team:env/x=y": "3", "@owner": "4", "keep": "5"},
    )["RuleArn"]
    try:
        assert len(hub.list_tags_for_resource(ResourceArn=arn)["Tags"]) == 5
        hub.untag_resource(ResourceArn=arn, TagKeys=["cost center", "a+b", "team:env/x=y", "@owner"])
        assert hub.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"keep": "5"}
    finally:
        hub.batch_delete_automation_rules(AutomationRulesArns=[arn])
