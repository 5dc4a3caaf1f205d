"""Device Defender detect end to end, on a server of its own (reports accepted back to back, the
cloud-side metrics period at 1 s): a real device reports `listening_tcp_ports` with port 21 open
against an `in-port-set [443, 8883]` behavior; the violation shows in ListActiveViolations, in the
hub as the seed's Detect finding, and as an alert on the SNS topic's http subscriber; the port
closes and it clears (finding archived). A cloud-side behavior (aws:num-authorization-failures
<= 5 in 300 s) is raised by a real client publishing where its policy forbids; after a restart
the violation is still active with the same id, and was raised once."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from sns_support import Endpoint, sns_client, subscribe_confirmed, unique_topic_name
from support import (
    DD_DETECT_ARN,
    DEFAULT_ACCOUNT,
    MQTT5,
    REGION,
    RC_NOT_AUTHORIZED,
    RC_SUCCESS,
    MqttClient,
    allow,
    iot_arn,
    policy_document,
    provision_device,
    running,
    unique,
    wait_until,
)

PORTS = {"name": "open-ports", "metric": "aws:listening-tcp-ports",
         "criteria": {"comparisonOperator": "in-port-set", "value": {"ports": [443, 8883]}}}
AUTH = {"name": "auth-failures", "metric": "aws:num-authorization-failures",
        "criteria": {"comparisonOperator": "less-than-equals", "value": {"count": 5}, "durationSeconds": 300}}
ARGS = ["--report-min-interval-secs", "0", "--metrics-period-secs", "1"]


def report(report_id: int, ports: list[int]) -> str:
    return json.dumps({"header": {"report_id": report_id, "version": "1.0"},
                       "metrics": {"listening_tcp_ports": {"ports": [{"port": p} for p in ports],
                                                           "total": len(ports)}}})


def violations(iot, thing: str) -> list[dict]:
    return iot.list_active_violations(thingName=thing)["activeViolations"]


def hub_finding(hub, violation_id: str) -> dict | None:
    found = hub.get_findings(Filters={"Id": [{"Value": violation_id, "Comparison": "EQUALS"}],
                                      "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"},
                                                      {"Value": "ARCHIVED", "Comparison": "EQUALS"}]})["Findings"]
    return found[0] if found else None


def alert(endpoint: Endpoint, topic_arn: str, violation_id: str, event: str) -> dict:
    def pred(r):
        if r["headers"].get("x-amz-sns-message-type") != "Notification":
            return False
        body = json.loads(r["body"])
        if body.get("TopicArn") != topic_arn:
            return False
        msg = json.loads(body["Message"])
        return msg.get("violationId") == violation_id and msg.get("violationEventType") == event

    r = endpoint.wait_for(pred, timeout=15, what=f"{event} alert")
    return json.loads(json.loads(r["body"])["Message"])


def connect(fw, device, client_id: str) -> MqttClient:
    c = MqttClient(fw.mqtt_addr, ca=fw.root_ca_path, cert=device.cert_path, key=device.key_path,
                   client_id=client_id, version=MQTT5).connect()
    c.expect_connected()
    return c


@pytest.fixture
def server(tmp_path):
    data, log = tmp_path / "data", tmp_path / "server.log"
    with running(data, log, extra_args=ARGS) as fw:
        yield fw


def test_open_port_raises_alerts_finds_and_clears(server, tmp_path):
    fw = server
    iot, hub, sns = fw.client(service="iot"), fw.client(), sns_client(fw)
    endpoint = Endpoint()
    clients = []
    try:
        topic_arn = sns.create_topic(Name=unique_topic_name("dd"))["TopicArn"]
        subscribe_confirmed(sns, endpoint, topic_arn)
        profile = unique("sp")
        iot.create_security_profile(
            securityProfileName=profile, behaviors=[PORTS],
            alertTargets={"SNS": {"alertTargetArn": topic_arn, "roleArn": "arn:aws:iam::000000000000:role/dd"}})
        iot.attach_security_profile(securityProfileName=profile,
                                    securityProfileTargetArn=f"arn:aws:iot:{REGION}:{DEFAULT_ACCOUNT}:all/registered-things")
        device = provision_device(iot, DEFAULT_ACCOUNT, tmp_path / "devices")
        thing = device.thing
        client = connect(fw, device, thing)
        clients.append(client)
        topic = f"$aws/things/{thing}/defender/metrics/json"
        assert client.subscribe(f"{topic}/accepted", qos=1) == [1]
        rid = int(time.time())
        assert client.publish(topic, report(rid, [443, 21]), qos=1) == RC_SUCCESS
        client.expect_message(f"{topic}/accepted", timeout=5)

        active = wait_until(lambda: violations(iot, thing), timeout=10, what="the violation")
        assert len(active) == 1
        v = active[0]
        assert v["securityProfileName"] == profile and v["behavior"]["name"] == "open-ports"
        assert sorted(v["lastViolationValue"]["ports"]) == [21, 443]
        assert v["verificationState"] == "UNKNOWN"
        vid = v["violationId"]

        finding = wait_until(lambda: hub_finding(hub, vid), timeout=10, what="the hub finding")
        assert finding["ProductArn"] == DD_DETECT_ARN
        assert finding["ProductName"] == "IoT Device Defender - Detect"
        assert finding["CompanyName"] == "AWS"
        assert finding["GeneratorId"] == f"arn:aws:iot:{REGION}:{DEFAULT_ACCOUNT}:securityprofile/{profile}"
        assert finding["Types"] == ["Unusual Behaviors"]
        assert finding["Title"] == f"Registered thing {thing} is in alarm for STATIC behavior open-ports."
        assert finding["Description"] == (
            f"Registered thing {thing} violates STATIC behavior open-ports of security profile {profile}. "
            "Violation was triggered because the device did not conform to aws:listening-tcp-ports in-port-set [443,8883].")
        assert finding["Severity"]["Label"] == "MEDIUM"
        fields = finding["ProductFields"]
        for key, value in {"ComparisonOperator": "in-port-set", "BehaviorName": "open-ports", "ViolationId": vid,
                           "SuppressAlerts": "false", "ConsecutiveDatapointsToAlarm": "1",
                           "ConsecutiveDatapointsToClear": "1", "MetricName": "aws:listening-tcp-ports",
                           "BehaviorCriteriaType": "STATIC", "ThingName": thing, "SecurityProfileName": profile,
                           "aws/securityhub/FindingId": f"{DD_DETECT_ARN}/{vid}"}.items():
            assert fields[key] == value, key
        resource = finding["Resources"][0]
        assert resource["Type"] == "AwsIotRegisteredThing" and resource["Id"] == thing
        assert resource["Details"]["Other"]["IsRegisteredThing"] == "true"
        assert resource["Details"]["Other"]["ThingArn"] == f"arn:aws:iot:{REGION}:{DEFAULT_ACCOUNT}:thing/{thing}"
        assert finding["RecordState"] == "ACTIVE"

        msg = alert(endpoint, topic_arn, vid, "in-alarm")
        assert msg["thingName"] == thing and msg["securityProfileName"] == profile
        assert msg["behavior"]["criteria"]["comparisonOperator"] == "in-port-set"
        assert sorted(msg["metricValue"]["ports"]) == [21, 443]

        # The port closes: the next report clears the violation and archives the finding.
        assert client.publish(topic, report(rid + 1, [443]), qos=1) == RC_SUCCESS
        wait_until(lambda: not violations(iot, thing), timeout=10, what="the violation to clear")
        wait_until(lambda: (f := hub_finding(hub, vid)) and f["RecordState"] == "ARCHIVED", timeout=10,
                   what="the finding to be archived")
        alert(endpoint, topic_arn, vid, "alarm-cleared")
        now = dt.datetime.now(dt.timezone.utc)
        events = iot.list_violation_events(startTime=now - dt.timedelta(minutes=5), endTime=now + dt.timedelta(minutes=1),
                                           thingName=thing)["violationEvents"]
        assert [e["violationEventType"] for e in events] == ["in-alarm", "alarm-cleared"]
        assert all(e["violationId"] == vid for e in events)
    finally:
        for c in clients:
            c.close()
        endpoint.close()


def test_authorization_failures_raise_a_cloud_side_violation_that_survives_restart(tmp_path):
    data, log = tmp_path / "data", tmp_path / "server.log"
    with running(data, log, extra_args=ARGS) as fw:
        iot = fw.client(service="iot")
        profile = unique("sp")
        iot.create_security_profile(securityProfileName=profile, behaviors=[AUTH])
        iot.attach_security_profile(securityProfileName=profile,
                                    securityProfileTargetArn=f"arn:aws:iot:{REGION}:{DEFAULT_ACCOUNT}:all/things")
        thing = unique("thing")
        policy = policy_document(allow("iot:Connect", iot_arn(DEFAULT_ACCOUNT, "client", thing)),
                                 allow("iot:Publish", iot_arn(DEFAULT_ACCOUNT, "topic", f"ok/{thing}")))
        device = provision_device(iot, DEFAULT_ACCOUNT, tmp_path / "devices", policy=policy, thing=thing)
        client = connect(fw, device, thing)
        try:
            assert client.publish(f"ok/{thing}", b"fine", qos=1) == RC_SUCCESS
            for _ in range(6):
                assert client.publish(f"forbidden/{thing}", b"nope", qos=1) == RC_NOT_AUTHORIZED
            active = wait_until(lambda: violations(iot, thing), timeout=15, what="the auth-failure violation")
        finally:
            client.close()
        assert len(active) == 1 and active[0]["behavior"]["name"] == "auth-failures"
        assert active[0]["lastViolationValue"] == {"count": 6}
        vid = active[0]["violationId"]
    with running(data, log, extra_args=ARGS) as fw:
        iot = fw.client(service="iot")
        again = violations(iot, thing)
        assert [v["violationId"] for v in again] == [vid]
        now = dt.datetime.now(dt.timezone.utc)
        events = iot.list_violation_events(startTime=now - dt.timedelta(minutes=10), endTime=now + dt.timedelta(minutes=1),
                                           thingName=thing)["violationEvents"]
        assert [e["violationEventType"] for e in events] == ["in-alarm"]
