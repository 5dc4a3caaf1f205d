"""Process lifecycle of `fleetward serve`: first start, restart, signals, crash durability and
bad input. Every test here runs its own server on its own data dir."""

from __future__ import annotations

import configparser
import json
import signal
import stat

import pytest

from support import (
    DEFAULT_ACCOUNT,
    Fleetward,
    default_product_arn,
    dd_audit_finding,
    dd_detect_finding,
    get_all_findings,
    get_one,
    hub_arn,
    ident,
    import_findings,
    http_request,
    prowler_finding,
    running,
    scope,
    signed_request,
    subscription_arn,
)

ACCT = DEFAULT_ACCOUNT


@pytest.fixture
def paths(tmp_path):
    # The data dir does not exist yet: the server creates it.
    return tmp_path / "nested" / "data", tmp_path / "server.log"


def test_first_start_creates_credentials_and_config(paths):
    data_dir, log = paths
    assert not data_dir.exists()
    with running(data_dir, log) as fw:
        creds = fw.credentials_path
        assert creds.exists()
        assert stat.S_IMODE(creds.stat().st_mode) == 0o600, oct(creds.stat().st_mode)
        parser = configparser.ConfigParser()
        parser.read(creds)
        assert parser.sections() == ["default"]
        key_id = parser["default"]["aws_access_key_id"]
        secret = parser["default"]["aws_secret_access_key"]
        assert key_id and secret and key_id != secret

        config = configparser.ConfigParser()
        config.read(fw.config_path)
        assert config["default"]["region"] == "us-east-1"
        assert config["default"]["endpoint_url"] == fw.endpoint

        output = fw.log()
        assert f"  API:         {fw.endpoint}  (region us-east-1)" in output, output
        assert f"  Credentials: {creds}" in output, output

        client = fw.client(key_id, secret)
        assert client.describe_hub()["HubArn"] == hub_arn(ACCT)
        subs = client.list_enabled_products_for_import()["ProductSubscriptions"]
        assert subscription_arn(ACCT, "aws", "iot-device-defender-audit") in subs
        assert subscription_arn(ACCT, "aws", "iot-device-defender-detect") in subs
        # Device Defender findings are accepted straight away.
        import_findings(client, [dd_audit_finding(ACCT, "first"), dd_detect_finding(ACCT, "first")])


def test_restart_reuses_the_key(paths):
    data_dir, log = paths
    with running(data_dir, log) as fw:
        first = fw.credentials_path.read_text()
        key = fw.read_credentials()
        client = fw.client(*key)
        client.create_action_target(Name="Persisted", Description="survives restarts", Id="Persisted")
    with running(data_dir, log) as fw:
        assert fw.credentials_path.read_text() == first
        client = fw.client(*key)
        assert client.describe_hub()["HubArn"] == hub_arn(ACCT)
        targets = client.describe_action_targets()["ActionTargets"]
        assert [t["Name"] for t in targets] == ["Persisted"]
        config = configparser.ConfigParser()
        config.read(fw.config_path)
        assert config["default"]["endpoint_url"] == fw.endpoint, "config follows the new address"
        # The hub was not re-enabled from scratch (no ResourceConflict surprises, subscriptions intact).
        subs = client.list_enabled_products_for_import()["ProductSubscriptions"]
        assert subs.count(subscription_arn(ACCT, "aws", "iot-device-defender-audit")) == 1


def test_disabled_product_stays_disabled_after_restart(paths):
    """The first-start defaults (hub on, Device Defender accepted) can be turned off for good."""
    data_dir, log = paths
    audit_sub = subscription_arn(ACCT, "aws", "iot-device-defender-audit")
    with running(data_dir, log) as fw:
        fw.client().disable_import_findings_for_product(ProductSubscriptionArn=audit_sub)
    with running(data_dir, log) as fw:
        client = fw.client()
        assert audit_sub not in client.list_enabled_products_for_import()["ProductSubscriptions"]
        resp = client.batch_import_findings(Findings=[dd_audit_finding(ACCT, "off")])
        assert resp["FailedCount"] == 1 and resp["FailedFindings"][0]["ErrorCode"] == "InvalidAccess", resp


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_cleanly(paths, sig):
    data_dir, log = paths
    fw = Fleetward(data_dir, log).start()
    client = fw.client()
    import_findings(client, [dd_audit_finding(ACCT, "sig")])
    assert fw.stop(sig) == 0, fw.log()[-3000:]
    # Stopped means stopped: the port no longer answers.
    with pytest.raises(OSError):
        http_request(fw.endpoint, "GET", "/health", timeout=1.0)


def test_acknowledged_writes_survive_kill_9(paths):
    data_dir, log = paths
    tag = "crash"
    fw = Fleetward(data_dir, log).start()
    try:
        key = fw.read_credentials()
        client = fw.client(*key)
        findings = [prowler_finding(ACCT, tag, product_arn=default_product_arn(ACCT),
                                    resource_id=f"arn:aws:ec2:us-east-1:{ACCT}:instance/i-{n:017x}")
                    for n in range(300)]
        import_findings(client, findings[:200])
        client.batch_update_findings(FindingIdentifiers=[ident(findings[0]), ident(findings[1])],
                                     Workflow={"Status": "RESOLVED"},
                                     Note={"Text": "fixed before the crash", "UpdatedBy": "ops"})
        insight = client.create_insight(Name="before crash", Filters=scope(tag), GroupByAttribute="SeverityLabel")
        import_findings(client, findings[200:])  # the last acknowledged write before the crash
    finally:
        fw.kill()

    with running(data_dir, log) as fw:
        client = fw.client(*key)
        stored = get_all_findings(client, scope(tag))
        assert len(stored) == 300, f"{300 - len(stored)} acknowledged findings lost in the crash"
        assert {f["Id"] for f in stored} == {f["Id"] for f in findings}
        got = get_one(client, findings[0])
        assert got["Workflow"]["Status"] == "RESOLVED" and got["Note"]["Text"] == "fixed before the crash"
        res = client.get_insight_results(InsightArn=insight["InsightArn"])["InsightResults"]
        assert {v["GroupByAttributeValue"]: v["Count"] for v in res["ResultValues"]} == {"HIGH": 300}


@pytest.mark.parametrize(
    "path,body",
    [
        ("/findings/import", "{not json"),
        ("/findings/import", '{"Findings": "not a list"}'),
        ("/findings", '{"MaxResults": "ten"}'),
        ("/findings/import", "[1, 2, 3]"),
        ("/findings/import", "\xff\xfe garbage"),
    ],
    ids=["syntax", "wrong-type", "string-for-int", "array-body", "not-utf8"],
)
def test_bad_json_body_gets_400_and_server_keeps_serving(lifecycle_server, path, body):
    fw = lifecycle_server
    key = fw.read_credentials()
    raw = body.encode("latin-1") if body.startswith("\xff") else body
    status, headers, resp = signed_request(fw.endpoint, "POST", path, raw, *key)
    assert status == 400, (status, resp[:300])
    code = (headers.get("x-amzn-errortype") or "").split(":")[0]
    assert code in {"SerializationException", "InvalidInputException"}, (headers, resp[:300])
    doc = json.loads(resp)
    assert doc.get("__type", "").split("#")[-1] == code
    assert fw.proc.poll() is None, "the server died"
    assert http_request(fw.endpoint, "GET", "/health")[0] == 200
    client = fw.client(*key)
    assert client.describe_hub()["HubArn"] == hub_arn(ACCT)
    assert isinstance(client.get_findings(MaxResults=1)["Findings"], list)


@pytest.fixture(scope="module")
def lifecycle_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("badjson")
    with running(base / "data", base / "server.log") as fw:
        yield fw


def test_unknown_operation_path(lifecycle_server):
    fw = lifecycle_server
    status, headers, resp = signed_request(fw.endpoint, "POST", "/no/such/operation", "{}", *fw.read_credentials())
    assert 400 <= status < 500, (status, resp[:300])
    assert headers.get("x-amzn-errortype"), headers
    assert fw.proc.poll() is None
