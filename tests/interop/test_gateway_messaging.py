"""Device gateway: MQTT messaging semantics with paho-mqtt (3.1.1 and 5). QoS 0/1, wildcards,
retained messages, last will, persistent sessions, shared subscriptions, MQTT 5 properties and
topic aliases, and the per-account topic namespace.

Negative checks ("X was not delivered") use a sentinel: the publisher sends X, then a message on
another topic the subscriber also gets; once the sentinel is in, X would have been too.
"""

from __future__ import annotations

import time

import pytest

from support import MQTT5, MQTT311, RC_SUCCESS, unique_client_id, unique_topic, wait_until

BOTH = pytest.mark.parametrize("version", [MQTT311, MQTT5], ids=["mqtt311", "mqtt5"])


def persistent(version: int) -> dict:
    """Connect options for a session that outlives the connection."""
    return {"clean": False} if version == MQTT311 else {"clean": False, "session_expiry": 300}


def payloads(messages) -> list[bytes]:
    return [m.payload for m in messages]


def sentinel(publisher, subscriber, topic: str) -> None:
    """Publishes a marker on `topic` (which `subscriber` must already receive) and waits for it."""
    marker = f"sentinel-{time.monotonic_ns()}".encode()
    publisher.publish(topic, marker, qos=1)
    subscriber.expect_message(topic, payload=marker, timeout=5)
    time.sleep(0.2)  # a little slack for anything the server had in flight


# --------------------------------------------------------------------------------------------
# Publish / subscribe


@BOTH
@pytest.mark.parametrize("qos", [0, 1])
def test_publish_subscribe_between_devices(gw, version, qos):
    topic = unique_topic()
    subscriber = gw.connect(gw.device(), version=version)
    publisher = gw.connect(gw.device(), version=version)
    assert subscriber.subscribe(topic, qos=qos) == [qos]
    code = publisher.publish(topic, b"hello", qos=qos)
    assert code in (None, RC_SUCCESS)
    message = subscriber.expect_message(topic)
    assert (message.payload, message.qos, message.retain) == (b"hello", qos, False)


def test_delivered_qos_is_the_lower_of_publish_and_subscription(gw):
    topic = unique_topic()
    subscriber = gw.connect(gw.device())
    publisher = gw.connect(gw.device())
    subscriber.subscribe(topic, qos=0)
    publisher.publish(topic, b"q1", qos=1)
    assert subscriber.expect_message(topic).qos == 0


def test_mqtt311_and_mqtt5_clients_talk_to_each_other(gw):
    old = gw.connect(gw.device(), version=MQTT311)
    new = gw.connect(gw.device(), version=MQTT5)
    t_old, t_new = unique_topic(), unique_topic()
    old.subscribe(t_old)
    new.subscribe(t_new)
    new.publish(t_old, b"from 5", qos=1, properties={"UserProperty": [("k", "v")]})
    old.publish(t_new, b"from 3.1.1", qos=1)
    assert old.expect_message(t_old).payload == b"from 5"
    assert new.expect_message(t_new).payload == b"from 3.1.1"


@BOTH
def test_wildcard_subscriptions(gw, version):
    base = unique_topic()
    subscriber = gw.connect(gw.device(), version=version)
    publisher = gw.connect(gw.device())
    assert subscriber.subscribe(f"{base}/+/temp", f"{base}/alerts/#", qos=1) == [1, 1]
    for topic in (f"{base}/a/temp", f"{base}/a/b/temp", f"{base}/alerts", f"{base}/alerts/x/y",
                  f"{base}/b/temp"):
        publisher.publish(topic, topic.encode(), qos=1)
    got = {subscriber.expect_message(t).topic for t in
           (f"{base}/a/temp", f"{base}/alerts", f"{base}/alerts/x/y", f"{base}/b/temp")}
    assert len(got) == 4
    assert not subscriber.inbox(f"{base}/a/b/temp"), "`+` matched two levels"


@BOTH
def test_unsubscribe_stops_delivery(gw, version):
    topic, marker_topic = unique_topic(), unique_topic()
    subscriber = gw.connect(gw.device(), version=version)
    publisher = gw.connect(gw.device())
    subscriber.subscribe(topic, marker_topic)
    publisher.publish(topic, b"before", qos=1)
    subscriber.expect_message(topic, payload=b"before")
    codes = subscriber.unsubscribe(topic)
    assert codes in ([], [0]), codes
    publisher.publish(topic, b"after", qos=1)
    sentinel(publisher, subscriber, marker_topic)
    assert b"after" not in payloads(subscriber.received)


# --------------------------------------------------------------------------------------------
# Retained messages


@BOTH
def test_retained_message(gw, version):
    topic, other = unique_topic(), unique_topic()
    publisher = gw.connect(gw.device(), version=version)
    live = gw.connect(gw.device(), version=version)
    live.subscribe(topic)
    assert publisher.publish(topic, b"r1", qos=1, retain=True) == RC_SUCCESS
    # A live subscriber gets it with RETAIN cleared (3.1.1 section 3.3.1.3; MQTT 5 default
    # Retain As Published = 0).
    assert live.expect_message(topic).retain is False

    late = gw.connect(gw.device(), version=version)
    late.subscribe(topic)
    message = late.expect_message(topic)
    assert (message.payload, message.retain) == (b"r1", True)

    publisher.publish(topic, b"r2", qos=1, retain=True)  # replaces r1
    later = gw.connect(gw.device(), version=version)
    later.subscribe(topic)
    assert later.expect_message(topic).payload == b"r2"
    time.sleep(0.3)
    assert payloads(later.received) == [b"r2"]

    # An empty retained payload clears it: a new subscriber gets nothing.
    publisher.publish(topic, b"", qos=1, retain=True)
    publisher.publish(other, b"marker", qos=1, retain=True)
    cleared = gw.connect(gw.device(), version=version)
    cleared.subscribe(topic)
    cleared.subscribe(other)  # its retained marker comes after anything retained on `topic`
    cleared.expect_message(other, payload=b"marker")
    time.sleep(0.3)
    assert not cleared.inbox(topic), cleared.inbox(topic)
    publisher.publish(other, b"", qos=1, retain=True)


def test_retained_messages_match_wildcard_subscriptions(gw):
    base = unique_topic()
    publisher = gw.connect(gw.device())
    for name in ("a", "b"):
        publisher.publish(f"{base}/{name}", name.encode(), qos=1, retain=True)
    subscriber = gw.connect(gw.device())
    subscriber.subscribe(f"{base}/+")
    got = sorted([subscriber.expect_message().payload, subscriber.expect_message().payload])
    assert got == [b"a", b"b"]
    for name in ("a", "b"):
        publisher.publish(f"{base}/{name}", b"", qos=1, retain=True)


# --------------------------------------------------------------------------------------------
# Last will


@BOTH
def test_last_will_published_on_ungraceful_disconnect(gw, version):
    will_topic = unique_topic("will")
    watcher = gw.connect(gw.device())
    watcher.subscribe(will_topic)
    device = gw.connect(gw.device(), version=version,
                        will={"topic": will_topic, "payload": b"gone", "qos": 1})
    device.drop()
    message = watcher.expect_message(will_topic, timeout=5)
    assert (message.payload, message.qos) == (b"gone", 1)


@BOTH
def test_no_last_will_on_clean_disconnect(gw, version):
    will_topic, marker_topic = unique_topic("will"), unique_topic()
    watcher = gw.connect(gw.device())
    watcher.subscribe(will_topic, marker_topic)
    device = gw.connect(gw.device(), version=version,
                        will={"topic": will_topic, "payload": b"gone", "qos": 1})
    device.disconnect()
    assert device.disconnect_info is not None
    sentinel(gw.connect(gw.device()), watcher, marker_topic)
    assert not watcher.inbox(will_topic), "the will was published after a clean DISCONNECT"


# --------------------------------------------------------------------------------------------
# Persistent sessions


@BOTH
def test_persistent_session(gw, version):
    topic = unique_topic()
    device = gw.device()
    client_id = unique_client_id()
    publisher = gw.connect(gw.device())

    first = gw.connect(device, client_id=client_id, version=version, **persistent(version))
    assert first.connack.session_present is False
    first.subscribe(topic, qos=1)
    first.disconnect()

    # Published while the device is offline: QoS 1 is queued for it.
    publisher.publish(topic, b"while offline", qos=1)

    resumed = gw.connect(device, client_id=client_id, version=version, **persistent(version))
    assert resumed.connack.session_present is True
    assert resumed.expect_message(topic, timeout=5).payload == b"while offline"
    # The subscription survived without a new SUBSCRIBE.
    publisher.publish(topic, b"online again", qos=1)
    assert resumed.expect_message(topic).payload == b"online again"
    resumed.disconnect()

    # A clean session ends the stored one.
    clean = gw.connect(device, client_id=client_id, version=version, clean=True)
    assert clean.connack.session_present is False
    clean.disconnect()
    publisher.publish(topic, b"nobody listens", qos=1)
    fresh = gw.connect(device, client_id=client_id, version=version, **persistent(version))
    assert fresh.connack.session_present is False
    time.sleep(0.5)
    assert not fresh.inbox(), fresh.inbox()


def test_persistent_session_survives_ungraceful_disconnect(gw):
    topic = unique_topic()
    device = gw.device()
    client_id = unique_client_id()
    first = gw.connect(device, client_id=client_id, version=MQTT311, clean=False)
    first.subscribe(topic, qos=1)
    first.drop()
    time.sleep(0.3)
    gw.connect(gw.device()).publish(topic, b"queued", qos=1)
    resumed = gw.connect(device, client_id=client_id, version=MQTT311, clean=False)
    assert resumed.connack.session_present is True
    assert resumed.expect_message(topic).payload == b"queued"


def test_mqtt5_session_without_expiry_ends_with_the_connection(gw):
    # MQTT 5 section 3.1.2.11.2: an absent Session Expiry Interval means 0, the session ends when
    # the network connection closes, even with Clean Start 0.
    device = gw.device()
    client_id = unique_client_id()
    first = gw.connect(device, client_id=client_id, version=MQTT5, clean=False)
    first.subscribe(unique_topic())
    first.disconnect()
    again = gw.connect(device, client_id=client_id, version=MQTT5, clean=False)
    assert again.connack.session_present is False


def test_mqtt5_expired_message_is_not_delivered_from_the_queue(gw):
    topic = unique_topic()
    device = gw.device()
    client_id = unique_client_id()
    first = gw.connect(device, client_id=client_id, clean=False, session_expiry=300)
    first.subscribe(topic)
    first.disconnect()
    publisher = gw.connect(gw.device())
    publisher.publish(topic, b"short-lived", qos=1, properties={"MessageExpiryInterval": 1})
    publisher.publish(topic, b"long-lived", qos=1, properties={"MessageExpiryInterval": 120})
    time.sleep(2.2)
    resumed = gw.connect(device, client_id=client_id, clean=False, session_expiry=300)
    assert resumed.connack.session_present is True
    message = resumed.expect_message(topic, payload=b"long-lived")
    # Section 3.3.2.3.3: the forwarded interval is reduced by the time spent waiting.
    assert 0 < message.prop("MessageExpiryInterval") <= 118, message.prop("MessageExpiryInterval")
    time.sleep(0.2)
    assert payloads(resumed.received) == [b"long-lived"]


# --------------------------------------------------------------------------------------------
# Shared subscriptions


@BOTH
def test_shared_subscription_delivers_each_message_to_one_member(gw, version):
    topic = unique_topic()
    group = f"$share/g{unique_client_id()[-8:]}/{topic}"
    members = [gw.connect(gw.device(), version=version) for _ in range(3)]
    for member in members:
        assert member.subscribe(group, qos=1) == [1]
    plain = gw.connect(gw.device(), version=version)
    plain.subscribe(topic)
    publisher = gw.connect(gw.device())
    sent = [f"m{i}".encode() for i in range(12)]
    for payload in sent:
        publisher.publish(topic, payload, qos=1)

    def group_count():
        return sum(len(m.received) for m in members)

    wait_until(lambda: group_count() >= len(sent), timeout=5, what="all messages reaching the group")
    wait_until(lambda: len(plain.received) >= len(sent), timeout=5, what="all messages reaching the plain subscriber")
    time.sleep(0.3)
    got = sorted(p for m in members for p in payloads(m.received))
    assert got == sorted(sent), "each message must reach exactly one member of the group"
    assert all(msg.topic == topic for m in members for msg in m.received)
    assert sorted(payloads(plain.received)) == sorted(sent)


# --------------------------------------------------------------------------------------------
# MQTT 5 features


def test_mqtt5_connack_advertises_gateway_limits(gw):
    connack = gw.connect(gw.device()).connack
    # No QoS 2: MQTT 5 section 3.2.2.3.4 makes Maximum QoS mandatory then.
    assert connack.prop("MaximumQoS") == 1, connack.properties
    assert connack.prop("RetainAvailable", 1) == 1
    assert connack.prop("SharedSubscriptionAvailable", 1) == 1
    assert connack.prop("TopicAliasMaximum", 0) >= 1


def test_mqtt5_properties_pass_through(gw):
    topic = unique_topic()
    subscriber = gw.connect(gw.device())
    subscriber.subscribe(topic)
    publisher = gw.connect(gw.device())
    user = [("k", "v1"), ("k", "v2"), ("trace-id", "abc")]
    publisher.publish(topic, b'{"t": 21.5}', qos=1, properties={
        "UserProperty": user,
        "MessageExpiryInterval": 600,
        "ContentType": "application/json",
        "ResponseTopic": f"{topic}/reply",
        "CorrelationData": b"\x00\x01corr",
        "PayloadFormatIndicator": 1,
    })
    message = subscriber.expect_message(topic)
    assert message.prop("UserProperty") == user  # order and duplicates kept (section 3.3.2.3.7)
    assert 0 < message.prop("MessageExpiryInterval") <= 600
    assert message.prop("ContentType") == "application/json"
    assert message.prop("ResponseTopic") == f"{topic}/reply"
    assert message.prop("CorrelationData") == b"\x00\x01corr"
    assert message.prop("PayloadFormatIndicator") == 1


def test_mqtt5_user_properties_reach_mqtt311_subscriber_as_plain_message(gw):
    topic = unique_topic()
    old = gw.connect(gw.device(), version=MQTT311)
    old.subscribe(topic)
    gw.connect(gw.device()).publish(topic, b"x", qos=1, properties={"UserProperty": [("a", "b")]})
    assert old.expect_message(topic).payload == b"x"


def test_mqtt5_topic_alias_from_client(gw):
    topic = unique_topic()
    subscriber = gw.connect(gw.device())
    subscriber.subscribe(topic)
    publisher = gw.connect(gw.device())
    assert publisher.connack.prop("TopicAliasMaximum", 0) >= 1
    assert publisher.publish(topic, b"first", qos=1, properties={"TopicAlias": 1}) == RC_SUCCESS
    assert publisher.publish("", b"second", qos=1, properties={"TopicAlias": 1}) == RC_SUCCESS
    first = subscriber.expect_message(topic, payload=b"first")
    second = subscriber.expect_message(topic, payload=b"second")
    assert first.topic == second.topic == topic
    # Aliases belong to the connection: the subscriber never sees the publisher's alias.
    assert second.prop("TopicAlias") is None


# --------------------------------------------------------------------------------------------
# Accounts


def test_topics_are_per_account(gw, make_iot_account):
    other = make_iot_account()
    topic, marker_topic = unique_topic(), unique_topic()
    here = gw.connect(gw.device())
    here.subscribe(topic, marker_topic)
    there_device = gw.device(iot=other.iot, account=other.account_id)
    there = gw.connect(there_device)
    there.subscribe(topic)
    there.publish(topic, b"other account", qos=1)
    assert there.expect_message(topic).payload == b"other account"
    here_publisher = gw.connect(gw.device())
    sentinel(here_publisher, here, marker_topic)
    assert not here.inbox(topic), "a message crossed accounts"
    here_publisher.publish(topic, b"this account", qos=1)
    assert here.expect_message(topic).payload == b"this account"
    time.sleep(0.2)
    assert payloads(there.received) == [b"other account"]
