"""Seed 001 end to end, wired as the seed's SAM template wires AWS: a security profile exports
its metrics to the Basic Ingest topic `$aws/rules/<rule>` of a `SELECT *` topic rule whose
`firehose` action feeds the delivery stream; the audit's SNS notification topic is subscribed
to the same stream with protocol `firehose` (no raw delivery: the record is the SNS envelope).
The stream's built-in transform does what the seed's Lambda does (`split=defender`: one HEC
event per metric and per audit check, under `event`, with the seed's sourcetype), and the
Splunk searches of the seed's blog post find what they look for."""

from __future__ import annotations

import json
import time

import pytest

from audit_support import ROLE_ARN, enable_checks, run_audit
from hec_support import HecReceiver, hec_event_processor, splunk_config, stream_name
from support import DEFAULT_ACCOUNT, MQTT5, REGION, MqttClient, RC_SUCCESS, provision_device, running, unique, wait_until

SOURCETYPE = "aws-iot-device-defender"
ARGS = ["--report-min-interval-secs", "0", "--metrics-period-secs", "1"]
RETAINED = ["aws:num-listening-tcp-ports", "aws:num-authorization-failures"]
# The seed's profile has no behaviors, only retained metrics. Fleetward's detect exports a
# profile's metrics only for devices that one of its behaviors monitors (see the README's
# export section), so this profile carries one behavior, itself exported.
PORTS = {"name": "open-ports", "metric": "aws:listening-tcp-ports", "exportMetric": True,
         "criteria": {"comparisonOperator": "in-port-set", "value": {"ports": [21, 443, 8883]}}}


@pytest.fixture
def server(tmp_path):
    with running(tmp_path / "data", tmp_path / "server.log", extra_args=ARGS) as fw:
        yield fw


@pytest.fixture
def hec():
    receiver = HecReceiver().start()
    yield receiver
    receiver.stop()


def report(report_id: int, ports: list[int]) -> str:
    return json.dumps({"header": {"report_id": report_id, "version": "1.0"},
                       "metrics": {"listening_tcp_ports": {"ports": [{"port": p} for p in ports],
                                                           "total": len(ports)}}})


def search(hec: HecReceiver, **fields) -> list[dict]:
    """`index=... sourcetype=SOURCETYPE | search field=value ...` over the received events."""
    return [e["event"] for e in hec.snapshot()
            if e.get("sourcetype") == SOURCETYPE and all(e["event"].get(k) == v for k, v in fields.items())]


def test_seed_001_metrics_and_audit_reports_reach_splunk(server, hec, tmp_path):
    fw = server
    iot, firehose, sns = fw.client(service="iot"), fw.client(service="firehose"), fw.client(service="sns")
    name = stream_name("seed001")
    stream_arn = firehose.create_delivery_stream(DeliveryStreamName=name, SplunkDestinationConfiguration=splunk_config(
        hec.url, hec.token, processors=hec_event_processor(f"sourcetype={SOURCETYPE}&split=defender"))
    )["DeliveryStreamARN"]

    # Metrics: security profile -> $aws/rules/<rule> -> topic rule (SELECT *) -> firehose.
    rule = unique("DeviceDefenderRule").replace("-", "_")
    iot.create_topic_rule(ruleName=rule, topicRulePayload={"sql": "SELECT *", "actions": [{"firehose": {
        "deliveryStreamName": name, "roleArn": "arn:aws:iam::000000000000:role/rule"}}]})
    profile = unique("sp")
    iot.create_security_profile(
        securityProfileName=profile,
        behaviors=[PORTS],
        additionalMetricsToRetainV2=[{"metric": m, "exportMetric": True} for m in RETAINED],
        metricsExportConfig={"mqttTopic": f"$aws/rules/{rule}", "roleArn": "arn:aws:iam::000000000000:role/dd"})
    iot.attach_security_profile(securityProfileName=profile,
                                securityProfileTargetArn=f"arn:aws:iot:{REGION}:{DEFAULT_ACCOUNT}:all/registered-things")
    device = provision_device(iot, DEFAULT_ACCOUNT, tmp_path / "devices")
    thing = device.thing
    client = MqttClient(fw.mqtt_addr, ca=fw.root_ca_path, cert=device.cert_path, key=device.key_path,
                        client_id=thing, version=MQTT5).connect()
    try:
        client.expect_connected()
        topic = f"$aws/things/{thing}/defender/metrics/json"
        client.subscribe(f"{topic}/accepted")
        assert client.publish(topic, report(int(time.time()), [443, 21])) == RC_SUCCESS
        client.expect_message(f"{topic}/accepted", timeout=5)

        # | spath name | search name="aws:listening-tcp-ports" | where thing="<thing>"
        ports = wait_until(lambda: search(hec, name="aws:listening-tcp-ports", thing=thing), timeout=20,
                           what="the exported aws:listening-tcp-ports metric at the HEC")
        assert sorted(ports[0]["value"]["ports"]) == [21, 443]
        # | chart max(value.count) as tcp_count over _time by thing
        counts = wait_until(lambda: search(hec, name="aws:num-listening-tcp-ports", thing=thing), timeout=20,
                            what="the exported aws:num-listening-tcp-ports metric")
        assert counts[0]["value"] == {"count": 2}
    finally:
        client.close()

    # Audit reports: notification topic -> firehose subscription -> the same stream.
    topic_arn = sns.create_topic(Name=unique("dd-audit"))["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="firehose", Endpoint=stream_arn)
    check = "LOGGING_DISABLED_CHECK"
    enable_checks(iot, check, auditNotificationTargetConfigurations={
        "SNS": {"targetArn": topic_arn, "roleArn": ROLE_ARN, "enabled": True}})
    task_id, described = run_audit(iot, check)
    # | where isnotnull(checkName)
    checks = wait_until(lambda: search(hec, checkName=check), timeout=30, what="the audit check result at the HEC")
    assert checks[0]["checkRunStatus"] == described["auditDetails"][check]["checkRunStatus"]
    assert checks[0]["totalResourcesCount"] == described["auditDetails"][check]["totalResourcesCount"]

    # Every event is a seed-shaped envelope, and nothing went to the backup directory.
    for envelope in hec.snapshot():
        assert set(envelope) == {"sourcetype", "event"}, envelope
        assert envelope["sourcetype"] == SOURCETYPE
    backup = fw.data_dir / "export" / "backup"
    assert not (backup.exists() and any(p.is_file() for p in backup.rglob("*"))), "records were backed up"
    assert task_id
