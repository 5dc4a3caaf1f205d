"""The AWS CLI's `aws iot` commands against the server, configured only by DATA_DIR/credentials
and DATA_DIR/config (as in test_cli.py)."""

from __future__ import annotations

import json

from support import (
    DEFAULT_ACCOUNT,
    allow,
    cert_id_of,
    iot_arn,
    policy_document,
    unique,
)

ACCT = DEFAULT_ACCOUNT


def test_create_list_describe_thing(fw):
    name = unique("cli-thing")
    created = fw.aws_json("iot", "create-thing", "--thing-name", name,
                          "--attribute-payload", json.dumps({"attributes": {"room": "101"}}))
    assert created["thingName"] == name
    assert created["thingArn"] == iot_arn(ACCT, "thing", name)

    # list-things paginates on its own (ListThings has a botocore paginator).
    listed = fw.aws_json("iot", "list-things", "--attribute-name", "room", "--attribute-value", "101")
    mine = [t for t in listed["things"] if t["thingName"] == name]
    assert len(mine) == 1 and mine[0]["attributes"] == {"room": "101"}

    desc = fw.aws_json("iot", "describe-thing", "--thing-name", name)
    assert desc["thingId"] == created["thingId"]
    assert desc["version"] == 1


def test_certificate_policy_and_test_authorization(fw, tmp_path):
    cert = fw.aws_json("iot", "create-keys-and-certificate", "--set-as-active")
    assert cert["certificateId"] == cert_id_of(cert["certificatePem"])
    assert cert["certificateArn"] == iot_arn(ACCT, "cert", cert["certificateId"])
    assert "PRIVATE KEY" in cert["keyPair"]["PrivateKey"]
    desc = fw.aws_json("iot", "describe-certificate", "--certificate-id", cert["certificateId"])
    assert desc["certificateDescription"]["status"] == "ACTIVE"

    policy = unique("cli-pol")
    doc_path = tmp_path / "policy.json"
    doc = policy_document(allow("iot:Publish", iot_arn(ACCT, "topic", "cli/*")))
    doc_path.write_text(doc)
    created = fw.aws_json("iot", "create-policy", "--policy-name", policy, "--policy-document", f"file://{doc_path}")
    assert created["policyArn"] == iot_arn(ACCT, "policy", policy)
    assert created["policyVersionId"] == "1"
    assert json.loads(created["policyDocument"]) == json.loads(doc)

    out = fw.aws("iot", "attach-policy", "--policy-name", policy, "--target", cert["certificateArn"])
    assert out.stdout.strip() == ""
    attached = fw.aws_json("iot", "list-attached-policies", "--target", cert["certificateArn"])
    assert [p["policyName"] for p in attached["policies"]] == [policy]

    infos = json.dumps([
        {"actionType": "PUBLISH", "resources": [iot_arn(ACCT, "topic", "cli/hello")]},
        {"actionType": "SUBSCRIBE", "resources": [iot_arn(ACCT, "topicfilter", "cli/hello")]},
    ])
    results = fw.aws_json("iot", "test-authorization", "--principal", cert["certificateArn"],
                          "--auth-infos", infos)["authResults"]
    decisions = {r["authInfo"]["actionType"]: r["authDecision"] for r in results}
    assert decisions == {"PUBLISH": "ALLOWED", "SUBSCRIBE": "IMPLICIT_DENY"}
    publish = next(r for r in results if r["authInfo"]["actionType"] == "PUBLISH")
    assert [p["policyName"] for p in publish["allowed"]["policies"]] == [policy]


def test_describe_endpoint(fw):
    out = fw.aws_json("iot", "describe-endpoint", "--endpoint-type", "iot:Data-ATS")
    assert out["endpointAddress"].strip()


def test_cli_reports_iot_errors(fw):
    proc = fw.aws("iot", "describe-thing", "--thing-name", unique("nothing"), check=False)
    assert proc.returncode != 0
    assert "ResourceNotFoundException" in proc.stderr, proc.stderr

    name = unique("cli-pol")
    proc = fw.aws("iot", "create-policy", "--policy-name", name, "--policy-document", "{not json", check=False)
    assert proc.returncode != 0
    assert "MalformedPolicyException" in proc.stderr, proc.stderr
