"""Device gateway: authorization of PUBLISH, SUBSCRIBE and delivery (iot:Publish, iot:Subscribe,
iot:Receive) by the IoT policies attached to the certificate, with policy variables and live
policy changes. paho-mqtt, MQTT 3.1.1 and 5.

AWS IoT Core answers: a denied QoS 1 PUBLISH gets PUBACK 0x87 (MQTT 5), a denied QoS 0 PUBLISH is
dropped silently (MQTT 5), and an MQTT 3.1.1 client is disconnected on a denied PUBLISH; a denied
filter gets 0x80 (3.1.1) / 0x87 (5) in the SUBACK; iot:Receive denied means the message is simply
not delivered to that subscriber.
"""

from __future__ import annotations

import time

import pytest

from support import (
    DEFAULT_ACCOUNT,
    MQTT5,
    MQTT311,
    RC_NOT_AUTHORIZED,
    RC_SUCCESS,
    allow,
    deny,
    iot_arn,
    policy_document,
    unique,
    unique_client_id,
    unique_topic,
)

BOTH = pytest.mark.parametrize("version", [MQTT311, MQTT5], ids=["mqtt311", "mqtt5"])
THING = "${iot:Connection.Thing.ThingName}"


def arn(kind: str, name: str) -> str:
    return iot_arn(DEFAULT_ACCOUNT, kind, name)


def denied_filter_code(version: int) -> int:
    return 0x80 if version == MQTT311 else RC_NOT_AUTHORIZED


def only(actions_to_resources: dict) -> str:
    """A policy allowing exactly the given {action: resources} plus iot:Connect for any client."""
    statements = [allow("iot:Connect", arn("client", "*"))]
    statements += [allow(action, resources) for action, resources in actions_to_resources.items()]
    return policy_document(*statements)


def sentinel(publisher, subscriber, topic: str) -> None:
    marker = f"sentinel-{time.monotonic_ns()}".encode()
    assert publisher.publish(topic, marker, qos=1) == RC_SUCCESS
    subscriber.expect_message(topic, payload=marker)
    time.sleep(0.2)


# --------------------------------------------------------------------------------------------
# iot:Publish


def test_publish_denied_mqtt5_qos1_gets_puback_not_authorized(gw):
    base = unique_topic()
    device = gw.device(policy=only({"iot:Publish": arn("topic", f"{base}/allowed/*")}))
    watcher = gw.connect(gw.device())
    watcher.subscribe(f"{base}/#")
    client = gw.connect(device)
    assert client.publish(f"{base}/secret/x", b"denied", qos=1) == RC_NOT_AUTHORIZED
    assert client.publish(f"{base}/allowed/x", b"allowed", qos=1) == RC_SUCCESS
    assert watcher.expect_message(f"{base}/allowed/x").payload == b"allowed"
    time.sleep(0.2)
    assert b"denied" not in [m.payload for m in watcher.received]
    assert client.connected, client.describe()


def test_publish_denied_mqtt5_qos0_is_dropped_silently(gw):
    base = unique_topic()
    device = gw.device(policy=only({"iot:Publish": arn("topic", f"{base}/allowed/*")}))
    watcher = gw.connect(gw.device())
    watcher.subscribe(f"{base}/#")
    client = gw.connect(device)
    client.publish(f"{base}/secret/x", b"denied", qos=0)
    assert client.publish(f"{base}/allowed/x", b"allowed", qos=1) == RC_SUCCESS
    watcher.expect_message(f"{base}/allowed/x")
    time.sleep(0.2)
    assert b"denied" not in [m.payload for m in watcher.received]
    assert client.connected, client.describe()


@pytest.mark.parametrize("qos", [0, 1])
def test_publish_denied_mqtt311_closes_the_connection(gw, qos):
    base = unique_topic()
    device = gw.device(policy=only({"iot:Publish": arn("topic", f"{base}/allowed/*")}))
    watcher = gw.connect(gw.device())
    watcher.subscribe(f"{base}/#", "marker/" + base)
    client = gw.connect(device, version=MQTT311)
    assert client.publish(f"{base}/allowed/x", b"allowed", qos=1) == RC_SUCCESS
    mid = client.publish_nowait(f"{base}/secret/x", b"denied", qos=qos)
    if qos == 1:
        assert client.puback(mid, timeout=3) is None, "a denied 3.1.1 PUBLISH was acknowledged"
    client.wait_disconnected(timeout=3)
    sentinel(gw.connect(gw.device()), watcher, "marker/" + base)
    assert b"denied" not in [m.payload for m in watcher.received]


def test_explicit_deny_wins_over_allow(gw):
    base = unique_topic()
    device = gw.device(policy=policy_document(allow("iot:*", "*"),
                                              deny("iot:Publish", arn("topic", f"{base}/secret/*"))))
    client = gw.connect(device)
    assert client.publish(f"{base}/open", b"ok", qos=1) == RC_SUCCESS
    assert client.publish(f"{base}/secret/x", b"no", qos=1) == RC_NOT_AUTHORIZED


# --------------------------------------------------------------------------------------------
# iot:Subscribe and iot:Receive


@BOTH
def test_subscribe_denied_for_one_filter(gw, version):
    base = unique_topic()
    device = gw.device(policy=only({
        "iot:Subscribe": arn("topicfilter", f"{base}/open/*"),
        "iot:Receive": arn("topic", f"{base}/*"),
        "iot:Publish": arn("topic", f"{base}/*"),
    }))
    client = gw.connect(device, version=version)
    codes = client.subscribe(f"{base}/open/x", f"{base}/closed/x", qos=1)
    assert codes == [1, denied_filter_code(version)], codes
    assert client.still_connected_after(0.2), client.describe()
    # The granted one works; the denied one delivers nothing.
    client.publish(f"{base}/closed/x", b"closed", qos=1)
    client.publish(f"{base}/open/x", b"open", qos=1)
    assert client.expect_message(f"{base}/open/x").payload == b"open"
    time.sleep(0.2)
    assert not client.inbox(f"{base}/closed/x")


@BOTH
def test_receive_denied_is_not_delivered(gw, version):
    base = unique_topic()
    device = gw.device(policy=only({
        "iot:Subscribe": arn("topicfilter", f"{base}/*"),
        "iot:Receive": arn("topic", f"{base}/visible/*"),
    }))
    subscriber = gw.connect(device, version=version)
    assert subscriber.subscribe(f"{base}/#", qos=1) == [1]
    publisher = gw.connect(gw.device())
    publisher.publish(f"{base}/hidden/x", b"hidden", qos=1)
    publisher.publish(f"{base}/visible/x", b"visible", qos=1)
    assert subscriber.expect_message(f"{base}/visible/x").payload == b"visible"
    time.sleep(0.2)
    assert [m.payload for m in subscriber.received] == [b"visible"]
    assert subscriber.connected, subscriber.describe()


# --------------------------------------------------------------------------------------------
# Policy variables


def thing_scoped_policy() -> str:
    return policy_document(
        allow("iot:Connect", arn("client", THING)),
        allow("iot:Publish", arn("topic", f"things/{THING}/*")),
        allow("iot:Subscribe", arn("topicfilter", f"things/{THING}/*")),
        allow("iot:Receive", arn("topic", f"things/{THING}/*")),
    )


@BOTH
def test_thing_name_policy_variable(gw, version):
    device = gw.device(policy=thing_scoped_policy())
    other_thing = unique("thing")
    client = gw.connect(device, client_id=device.thing, version=version)
    own = f"things/{device.thing}/telemetry"
    assert client.subscribe(own, f"things/{other_thing}/telemetry") == [1, denied_filter_code(version)]
    assert client.publish(own, b"mine", qos=1) == RC_SUCCESS
    assert client.expect_message(own).payload == b"mine"
    if version == MQTT5:
        assert client.publish(f"things/{other_thing}/telemetry", b"theirs", qos=1) == RC_NOT_AUTHORIZED
    else:
        client.publish_nowait(f"things/{other_thing}/telemetry", b"theirs", qos=1)
        client.wait_disconnected(timeout=3)


@BOTH
def test_thing_name_policy_variable_needs_client_id_equal_to_thing_name(gw, version):
    device = gw.device(policy=thing_scoped_policy())
    client = gw.client(device, client_id=unique_client_id(), version=version).connect()
    expected = 5 if version == MQTT311 else RC_NOT_AUTHORIZED
    assert client.connack is not None and client.connack.reason == expected, client.describe()


def test_thing_name_policy_variable_needs_the_thing_attached(gw, iot):
    # Another device's thing name as client id: that thing is not attached to this certificate.
    someone = gw.device()
    device = gw.device(policy=thing_scoped_policy())
    client = gw.client(device, client_id=someone.thing).connect()
    assert client.connack is not None and client.connack.reason == RC_NOT_AUTHORIZED, client.describe()


# --------------------------------------------------------------------------------------------
# Policy changes reach live connections


def publish_until(client, topic: str, wanted: int, timeout: float = 3.0) -> int:
    """Publishes (QoS 1) until the PUBACK code is `wanted` (a changed policy applies from the
    connection's next action, as soon as the registry has it)."""
    deadline = time.monotonic() + timeout
    while True:
        code = client.publish(topic, b"probe", qos=1)
        if code == wanted or time.monotonic() > deadline:
            return code
        time.sleep(0.1)


def test_policy_changes_apply_to_live_connections(gw, iot):
    topic = unique_topic()
    device = gw.device(policy=None)
    connect_only = unique("conn")
    iot.create_policy(policyName=connect_only, policyDocument=only({}))
    iot.attach_policy(policyName=connect_only, target=device.cert_arn)
    publishing = unique("pub")
    iot.create_policy(policyName=publishing, policyDocument=only({"iot:Publish": arn("topic", topic)}))

    client = gw.connect(device)
    assert client.publish(topic, b"before", qos=1) == RC_NOT_AUTHORIZED

    iot.attach_policy(policyName=publishing, target=device.cert_arn)
    assert publish_until(client, topic, RC_SUCCESS) == RC_SUCCESS

    # A new default version that no longer allows the topic.
    iot.create_policy_version(policyName=publishing, setAsDefault=True,
                              policyDocument=only({"iot:Publish": arn("topic", topic + "/other")}))
    assert publish_until(client, topic, RC_NOT_AUTHORIZED) == RC_NOT_AUTHORIZED

    iot.set_default_policy_version(policyName=publishing, policyVersionId="1")
    assert publish_until(client, topic, RC_SUCCESS) == RC_SUCCESS

    iot.detach_policy(policyName=publishing, target=device.cert_arn)
    assert publish_until(client, topic, RC_NOT_AUTHORIZED) == RC_NOT_AUTHORIZED
    assert client.connected, client.describe()
