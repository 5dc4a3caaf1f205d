"""A detect mitigation task on a live device (paho-mqtt over mutual TLS): a device reports port 21
open against an `in-port-set [443, 8883]` behavior, and StartDetectMitigationActionsTask applies an
ADD_THINGS_TO_THING_GROUP action to that violation; the thing joins a quarantine group whose
policy denies a publish it could do before, on its live connection. A second task on the same
violation changes nothing and still succeeds."""

from __future__ import annotations

import json
import time

import pytest

from mitigation_support import ACTION_ROLE, task_id
from support import (
    DEFAULT_ACCOUNT,
    MQTT5,
    REGION,
    RC_NOT_AUTHORIZED,
    RC_SUCCESS,
    MqttClient,
    allow,
    deny,
    iot_arn,
    policy_document,
    provision_device,
    running,
    unique,
    wait_until,
)

PORTS = {"name": "open-ports", "metric": "aws:listening-tcp-ports",
         "criteria": {"comparisonOperator": "in-port-set", "value": {"ports": [443, 8883]}}}
# Reports accepted back to back, so the test need not wait between them.
ARGS = ["--report-min-interval-secs", "0"]


def report(report_id: int, ports: list[int]) -> str:
    return json.dumps({"header": {"report_id": report_id, "version": "1.0"},
                       "metrics": {"listening_tcp_ports": {"ports": [{"port": p} for p in ports],
                                                           "total": len(ports)}}})


def wait_detect_task(iot, task: str) -> dict:
    def done():
        summary = iot.describe_detect_mitigation_actions_task(taskId=task)["taskSummary"]
        return summary if summary["taskStatus"] != "IN_PROGRESS" else None

    return wait_until(done, timeout=30, interval=0.2, what=f"detect mitigation task {task}")


@pytest.fixture
def server(tmp_path):
    with running(tmp_path / "data", tmp_path / "server.log", extra_args=ARGS) as fw:
        yield fw


def test_detect_task_quarantines_a_violating_device(server, tmp_path):
    fw = server
    iot = fw.client(service="iot")
    account = DEFAULT_ACCOUNT
    thing, base = unique("thing"), unique("plant")
    defender = f"$aws/things/{thing}/defender/metrics/json"
    policy = policy_document(
        allow("iot:Connect", iot_arn(account, "client", thing)),
        allow("iot:Publish", [iot_arn(account, "topic", f"{base}/*"), iot_arn(account, "topic", defender)]))
    group = unique("quarantine")
    iot.create_thing_group(thingGroupName=group)
    quarantine_policy = unique("Quarantine")
    iot.create_policy(policyName=quarantine_policy,
                      policyDocument=policy_document(deny("iot:Publish", iot_arn(account, "topic", f"{base}/*"))))
    iot.attach_policy(policyName=quarantine_policy, target=iot_arn(account, "thinggroup", group))

    profile = unique("sp")
    iot.create_security_profile(securityProfileName=profile, behaviors=[PORTS])
    iot.attach_security_profile(securityProfileName=profile,
                                securityProfileTargetArn=f"arn:aws:iot:{REGION}:{account}:all/registered-things")
    device = provision_device(iot, account, tmp_path / "devices", policy=policy, thing=thing)
    client = MqttClient(fw.mqtt_addr, ca=fw.root_ca_path, cert=device.cert_path, key=device.key_path,
                        client_id=thing, version=MQTT5).connect()
    try:
        client.expect_connected()
        assert client.publish(f"{base}/telemetry", b"before", qos=1) == RC_SUCCESS
        assert client.publish(defender, report(int(time.time()), [443, 21]), qos=1) == RC_SUCCESS
        [violation] = wait_until(lambda: iot.list_active_violations(thingName=thing)["activeViolations"],
                                 timeout=15, what="the violation")
        vid = violation["violationId"]

        action = unique("Quarantine")
        iot.create_mitigation_action(actionName=action, roleArn=ACTION_ROLE, actionParams={
            "addThingsToThingGroupParams": {"thingGroupNames": [group], "overrideDynamicGroups": False}})
        task = task_id()
        iot.start_detect_mitigation_actions_task(taskId=task, target={"violationIds": [vid]}, actions=[action],
                                                 clientRequestToken=task)
        summary = wait_detect_task(iot, task)
        assert summary["taskStatus"] == "SUCCESSFUL", summary
        assert summary["taskStatistics"]["actionsExecuted"] == 1
        assert summary["taskStatistics"]["actionsFailed"] == 0
        [execution] = iot.list_detect_mitigation_actions_executions(taskId=task)["actionsExecutions"]
        assert execution["violationId"] == vid and execution["thingName"] == thing
        assert execution["actionName"] == action and execution["status"] == "SUCCESSFUL"
        groups = iot.list_thing_groups_for_thing(thingName=thing)["thingGroups"]
        assert [g["groupName"] for g in groups] == [group]

        # The same live connection: a publish allowed before is now denied by the group's policy.
        assert client.publish(f"{base}/telemetry", b"after", qos=1) == RC_NOT_AUTHORIZED
        assert client.connected

        # Applying it again is idempotent: the thing is already in the group.
        again = task_id()
        iot.start_detect_mitigation_actions_task(taskId=again, target={"violationIds": [vid]}, actions=[action],
                                                 clientRequestToken=again)
        assert wait_detect_task(iot, again)["taskStatus"] == "SUCCESSFUL"
        groups = iot.list_thing_groups_for_thing(thingName=thing)["thingGroups"]
        assert [g["groupName"] for g in groups] == [group]
    finally:
        client.close()


def test_detect_task_refuses_an_unknown_action(server):
    # botocore's model lists no ResourceNotFoundException for this operation.
    iot = server.client(service="iot")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.start_detect_mitigation_actions_task(taskId=task_id(), target={"violationIds": ["nope"]},
                                                 actions=[unique("missing")], clientRequestToken="t")
