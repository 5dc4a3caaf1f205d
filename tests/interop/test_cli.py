"""The AWS CLI against the server, configured only by DATA_DIR/credentials and DATA_DIR/config
(the config file's `endpoint_url`, no --endpoint-url flag)."""

from __future__ import annotations

import json

import pytest

from support import (
    DEFAULT_ACCOUNT,
    dd_audit_finding,
    dd_detect_finding,
    hub_arn,
    scope,
)

ACCT = DEFAULT_ACCOUNT


def test_config_file_points_at_the_server(fw):
    text = fw.config_path.read_text()
    assert f"endpoint_url = {fw.endpoint}" in text.replace("endpoint_url=", "endpoint_url = ")
    out = fw.aws("configure", "get", "region").stdout.strip()
    assert out == "us-east-1"


def test_describe_hub(fw):
    doc = fw.aws_json("securityhub", "describe-hub")
    assert doc["HubArn"] == hub_arn(ACCT)
    assert "SubscribedAt" in doc


def test_import_query_update(fw, tmp_path, tag):
    findings = [dd_audit_finding(ACCT, tag, severity="CRITICAL"), dd_detect_finding(ACCT, tag, severity="LOW")]
    path = tmp_path / "findings.json"
    path.write_text(json.dumps(findings))
    resp = fw.aws_json("securityhub", "batch-import-findings", "--findings", f"file://{path}")
    assert resp["SuccessCount"] == 2 and resp["FailedCount"] == 0, resp

    filters = json.dumps(scope(tag))
    everything = fw.aws_json("securityhub", "get-findings", "--filters", filters)
    assert sorted(f["Id"] for f in everything["Findings"]) == sorted(f["Id"] for f in findings)

    first = fw.aws_json("securityhub", "get-findings", "--filters", filters, "--max-items", "1")
    assert len(first["Findings"]) == 1 and first.get("NextToken"), first.keys()
    second = fw.aws_json("securityhub", "get-findings", "--filters", filters, "--max-items", "1",
                         "--starting-token", first["NextToken"])
    assert len(second["Findings"]) == 1
    assert {first["Findings"][0]["Id"], second["Findings"][0]["Id"]} == {f["Id"] for f in findings}

    critical = findings[0]
    identifiers = json.dumps([{"Id": critical["Id"], "ProductArn": critical["ProductArn"]}])
    resp = fw.aws_json("securityhub", "batch-update-findings", "--finding-identifiers", identifiers,
                       "--workflow", "Status=RESOLVED", "--note", "Text=Fixed the policy,UpdatedBy=cli-user")
    assert resp["ProcessedFindings"] == [{"Id": critical["Id"], "ProductArn": critical["ProductArn"]}]
    assert resp["UnprocessedFindings"] == []

    resolved = fw.aws_json("securityhub", "get-findings", "--filters",
                           json.dumps({**scope(tag), "WorkflowStatus": [{"Value": "RESOLVED", "Comparison": "EQUALS"}]}))
    assert [f["Id"] for f in resolved["Findings"]] == [critical["Id"]]
    assert resolved["Findings"][0]["Note"]["Text"] == "Fixed the policy"


def test_insight(fw, tmp_path, tag):
    findings = [dd_audit_finding(ACCT, tag, policy=f"p{n}-{tag}", severity="HIGH") for n in range(2)]
    findings.append(dd_detect_finding(ACCT, tag, severity="MEDIUM"))
    path = tmp_path / "findings.json"
    path.write_text(json.dumps(findings))
    fw.aws_json("securityhub", "batch-import-findings", "--findings", f"file://{path}")

    arn = fw.aws_json("securityhub", "create-insight", "--name", f"cli insight {tag}",
                      "--filters", json.dumps(scope(tag)), "--group-by-attribute", "SeverityLabel")["InsightArn"]
    try:
        res = fw.aws_json("securityhub", "get-insight-results", "--insight-arn", arn)["InsightResults"]
        assert res["InsightArn"] == arn and res["GroupByAttribute"] == "SeverityLabel"
        assert {v["GroupByAttributeValue"]: v["Count"] for v in res["ResultValues"]} == {"HIGH": 2, "MEDIUM": 1}
        listed = fw.aws_json("securityhub", "get-insights", "--insight-arns", arn)["Insights"]
        assert [i["Name"] for i in listed] == [f"cli insight {tag}"]
    finally:
        fw.aws_json("securityhub", "delete-insight", "--insight-arn", arn)


def test_list_automation_rules(fw, hub, tag):
    arn = hub.create_automation_rule(
        RuleName=f"cli-rule-{tag}", Description="listed through the CLI", RuleOrder=42,
        Criteria=scope(tag),
        Actions=[{"Type": "FINDING_FIELDS_UPDATE", "FindingFieldsUpdate": {"Workflow": {"Status": "NOTIFIED"}}}],
    )["RuleArn"]
    try:
        doc = fw.aws_json("securityhub", "list-automation-rules", "--max-results", "100")
        rules = {r["RuleArn"]: r for r in doc["AutomationRulesMetadata"]}
        assert arn in rules
        assert rules[arn]["RuleName"] == f"cli-rule-{tag}" and rules[arn]["RuleOrder"] == 42
        assert rules[arn]["RuleStatus"] == "ENABLED"
    finally:
        hub.batch_delete_automation_rules(AutomationRulesArns=[arn])


def test_cli_reports_aws_errors(fw):
    proc = fw.aws("securityhub", "describe-hub", check=False,
                  env_extra={"AWS_ACCESS_KEY_ID": "AKIAFLEETWARDNOSUCH1", "AWS_SECRET_ACCESS_KEY": "x" * 40})
    assert proc.returncode != 0
    assert "UnrecognizedClientException" in proc.stderr, proc.stderr

    proc = fw.aws("securityhub", "get-insight-results", "--insight-arn",
                  f"arn:aws:securityhub:us-east-1:{ACCT}:insight/{ACCT}/custom/00000000-0000-0000-0000-000000000000",
                  check=False)
    assert proc.returncode != 0
    assert "ResourceNotFoundException" in proc.stderr, proc.stderr


@pytest.mark.parametrize("command", [["describe-products", "--max-results", "5"],
                                     ["list-enabled-products-for-import"],
                                     ["describe-action-targets"],
                                     ["get-insights"]])
def test_read_commands_return_json(fw, command):
    doc = fw.aws_json("securityhub", *command)
    assert isinstance(doc, dict) and doc, doc
