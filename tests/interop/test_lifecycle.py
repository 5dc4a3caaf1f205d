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


def test_sigterm_with_a_stalled_client_still_stops(paths):
    """A client stuck half-way through a request must not keep the server from stopping."""
    import socket
    import time

    data_dir, log = paths
    fw = Fleetward(data_dir, log).start()
    stalled = [socket.create_connection(("127.0.0.1", fw.port)) for _ in range(2)]
    stalled[0].sendall(b"POST /findings HTTP/1.1\r\nHost: x\r\n")  # headers never finish
    stalled[1].sendall(b"POST /findings HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")  # body never finishes
    time.sleep(0.2)
    try:
        started = time.monotonic()
        code = fw.stop(signal.SIGTERM, timeout=10.0)
        assert code == 0, fw.log()[-2000:]
        assert time.monotonic() - started < 10.0
    finally:
        for s in stalled:
            s.close()
        fw.kill()


# --------------------------------------------------------------------------------------------
# PostgreSQL (--database-url), when scripts/test.sh provides a cluster (FLEETWARD_TEST_PG_URL)


@pytest.fixture
def pg_url():
    import glob
    import os
    import shutil
    import subprocess
    import uuid

    admin_url = os.environ.get("FLEETWARD_TEST_PG_URL")
    if not admin_url:
        pytest.skip("FLEETWARD_TEST_PG_URL is not set (scripts/pg-test-cluster.sh start DIR)")
    psql = shutil.which("psql") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)), None)
    if not psql:
        pytest.skip("psql is not installed")
    name = f"interop_{uuid.uuid4().hex[:12]}"
    subprocess.run([psql, admin_url, "-qc", f"CREATE DATABASE {name}"], check=True, capture_output=True, timeout=30)
    yield admin_url.rsplit("/", 1)[0] + "/" + name
    subprocess.run([psql, admin_url, "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True, timeout=30)


def test_postgres_acknowledged_writes_survive_kill_9(pg_url, tmp_path):
    args = ["--database-url", pg_url]
    fw = Fleetward(tmp_path / "data", tmp_path / "server.log", extra_args=args).start()
    try:
        key = fw.read_credentials()
        client = fw.client(*key)
        findings = [dd_detect_finding(ACCT, "pgcrash", thing=f"dev{n}") for n in range(200)]
        import_findings(client, findings)
        client.batch_update_findings(FindingIdentifiers=[ident(findings[0])], Workflow={"Status": "RESOLVED"})
    finally:
        fw.kill()
    with running(tmp_path / "data", tmp_path / "server.log", extra_args=args) as fw:
        client = fw.client(*key)
        assert len(get_all_findings(client, scope("pgcrash"))) == 200
        assert get_one(client, findings[0])["Workflow"]["Status"] == "RESOLVED"


def test_postgres_second_node_on_the_same_database_is_refused(pg_url, tmp_path):
    """One node per database: the hub keeps its findings index in memory, so a second node on
    the same PostgreSQL database would serve stale data; it must refuse to start instead."""
    args = ["--database-url", pg_url]
    with running(tmp_path / "a", tmp_path / "a.log", extra_args=args) as node_a:
        second = Fleetward(tmp_path / "b", tmp_path / "b.log", extra_args=args)
        with pytest.raises(RuntimeError) as refused:
            second.start(timeout=20.0)
        assert "another Fleetward node" in str(refused.value), str(refused.value)[-2000:]
        key = node_a.read_credentials()
        assert node_a.client(*key).describe_hub()["HubArn"] == hub_arn(ACCT)
    # Once the first node has stopped, the database is free again.
    with running(tmp_path / "b", tmp_path / "b.log", extra_args=args) as node_b:
        assert node_b.client(*node_b.read_credentials()).describe_hub()["HubArn"] == hub_arn(ACCT)


def test_second_node_on_the_same_sqlite_file_is_refused(tmp_path):
    data = tmp_path / "data"
    with running(data, tmp_path / "a.log"):
        second = Fleetward(data, tmp_path / "b.log")
        with pytest.raises(RuntimeError) as refused:
            second.start(timeout=20.0)
        assert "another Fleetward node" in str(refused.value), str(refused.value)[-2000:]

def test_other_region(paths):
    data_dir, log = paths
    with running(data_dir, log, region="eu-west-1") as fw:
        assert f"  API:         {fw.endpoint}  (region eu-west-1)" in fw.log()
        config = configparser.ConfigParser()
        config.read(fw.config_path)
        assert config["default"]["region"] == "eu-west-1"
        client = fw.client(*fw.read_credentials(), region="eu-west-1")
        assert client.describe_hub()["HubArn"] == f"arn:aws:securityhub:eu-west-1:{ACCT}:hub/default"
        assert "arn:aws:securityhub:eu-west-1:000000000000:product-subscription/aws/iot-device-defender-audit" \
            in client.list_enabled_products_for_import()["ProductSubscriptions"]
        f = dd_audit_finding(ACCT, "eu", product_arn="arn:aws:securityhub:eu-west-1::product/aws/iot-device-defender-audit")
        import_findings(client, [f])
        assert get_one(client, f)["Region"] == "eu-west-1"
        # A request signed for another region is refused.
        from support import expect_error
        expect_error(fw.client(*fw.read_credentials(), region="us-east-1").describe_hub, "InvalidSignatureException", 403)
        # The AWS CLI follows DATA_DIR/config.
        assert fw.aws_json("securityhub", "describe-hub")["HubArn"].startswith("arn:aws:securityhub:eu-west-1:")
