"""Device gateway: AWS IoT Core's protocol limits and the QoS it does not support, with paho-mqtt
(and a raw socket where the exact answer matters).

AWS IoT Core message broker limits: client id at most 128 bytes; topic at most 256 bytes and at
most 7 forward slashes (8 levels) outside the reserved `$aws/` topics; payload at most 128 KB.
Refusals carry MQTT 5 reason codes (0x85 client identifier not valid, 0x90 topic name invalid,
0x95 packet too large); an MQTT 3.1.1 client, which has no way to hear a reason, is disconnected.
QoS 2 is not supported: a QoS 2 subscription is never granted QoS 2, a QoS 2 PUBLISH ends the
connection (AWS: "does not send a PUBACK or SUBACK when QoS 2 is requested").
"""

from __future__ import annotations

import time

import pytest

from support import (
    CONNACK_311_IDENTIFIER_REJECTED,
    MQTT5,
    MQTT311,
    PUBACK_REASON_CODES,
    RC_CLIENT_ID_INVALID,
    RC_PACKET_TOO_LARGE,
    RC_SUCCESS,
    RC_TOPIC_FILTER_INVALID,
    RC_TOPIC_NAME_INVALID,
    mqtt_connect_packet,
    mqtt_publish_packet,
    read_mqtt_packet,
    tls_socket,
    unique_client_id,
    unique_topic,
)

BOTH = pytest.mark.parametrize("version", [MQTT311, MQTT5], ids=["mqtt311", "mqtt5"])
MAX_PAYLOAD = 128 * 1024


def sized_topic(total_bytes: int, slashes: int = 1) -> str:
    """A unique topic of exactly `total_bytes` bytes with exactly `slashes` forward slashes."""
    head = unique_topic("lim")  # one slash
    levels = "/x" * (slashes - 1)
    topic = head + levels
    assert len(topic) <= total_bytes
    return topic + "z" * (total_bytes - len(topic))


def marker(publisher, subscriber, topic: str) -> None:
    payload = f"marker-{time.monotonic_ns()}".encode()
    publisher.publish(topic, payload, qos=1)
    subscriber.expect_message(topic, payload=payload)
    time.sleep(0.2)


def expect_publish_refused(client, topic: str, payload: bytes, mqtt5_codes: set[int]) -> None:
    """QoS 1 PUBLISH that must be refused: MQTT 5 with a PUBACK or DISCONNECT reason code in
    `mqtt5_codes`; MQTT 3.1.1 by closing the connection."""
    mid = client.publish_nowait(topic, payload, qos=1)
    code = client.puback(mid, timeout=3)
    if client.version == MQTT311:
        assert code is None, f"expected the connection to close, got PUBACK {code}"
        client.wait_disconnected(timeout=3)
        return
    if code is not None:
        assert code in mqtt5_codes, f"PUBACK 0x{code:02x}, expected one of {[hex(c) for c in mqtt5_codes]}"
        return
    ended = client.wait_disconnected(timeout=3)
    assert ended.from_server and ended.reason in mqtt5_codes, \
        f"expected PUBACK or DISCONNECT with {[hex(c) for c in mqtt5_codes]}, got {ended}"


# --------------------------------------------------------------------------------------------
# Client id


@BOTH
def test_client_id_of_128_bytes_is_accepted(gw, version):
    client_id = unique_client_id()
    client_id += "x" * (128 - len(client_id))
    assert len(client_id.encode()) == 128
    gw.connect(gw.device(), client_id=client_id, version=version)


@BOTH
def test_client_id_over_128_bytes_is_refused(gw, version):
    client_id = "c" * 129
    client = gw.client(gw.device(), client_id=client_id, version=version).connect()
    if version == MQTT5:
        assert client.connack is not None and client.connack.reason == RC_CLIENT_ID_INVALID, client.describe()
    else:
        # 3.1.1: CONNACK 2 (identifier rejected) or the connection closed without a CONNACK.
        assert client.connack is None or client.connack.reason == CONNACK_311_IDENTIFIER_REJECTED, client.describe()
    client.wait_disconnected(timeout=3)


# --------------------------------------------------------------------------------------------
# Topic size and depth


@BOTH
def test_topic_of_256_bytes_and_7_slashes_is_accepted(gw, version):
    topic = sized_topic(256, slashes=7)
    assert len(topic.encode()) == 256 and topic.count("/") == 7
    subscriber = gw.connect(gw.device())
    subscriber.subscribe(topic)
    publisher = gw.connect(gw.device(), version=version)
    assert publisher.publish(topic, b"edge", qos=1) == RC_SUCCESS
    assert subscriber.expect_message(topic).payload == b"edge"


@BOTH
@pytest.mark.parametrize("shape", ["257-bytes", "8-slashes"])
def test_oversized_topic_is_refused(gw, version, shape):
    topic = sized_topic(257, slashes=1) if shape == "257-bytes" else sized_topic(60, slashes=8)
    watcher, marker_topic = gw.connect(gw.device()), unique_topic()
    watcher.subscribe("lim/#", marker_topic)
    client = gw.connect(gw.device(), version=version)
    expect_publish_refused(client, topic, b"too deep", {RC_TOPIC_NAME_INVALID})
    marker(gw.connect(gw.device()), watcher, marker_topic)
    assert not [m for m in watcher.received if m.topic == topic], "the refused message was delivered"


def test_subscription_with_too_many_levels_is_refused(gw):
    client = gw.connect(gw.device())
    deep = unique_topic("lim") + "/a/b/c/d/e/f/g"  # 8 slashes
    ok = unique_topic("lim") + "/a/b/c/d/e/+"  # 7 slashes
    mid = client.subscribe_nowait(deep, ok, qos=1)
    codes = client.suback(mid, timeout=3)
    if codes is None:
        ended = client.wait_disconnected(timeout=3)
        assert ended.from_server and ended.reason >= 0x80, ended
        return
    assert codes[0] in (RC_TOPIC_FILTER_INVALID, 0x80, 0x87), codes
    assert codes[1] == 1, codes


# --------------------------------------------------------------------------------------------
# Payload size


@BOTH
def test_payload_of_128_kib_is_accepted(gw, version):
    topic = unique_topic()
    subscriber = gw.connect(gw.device())
    subscriber.subscribe(topic)
    publisher = gw.connect(gw.device(), version=version)
    payload = bytes(range(256)) * (MAX_PAYLOAD // 256)
    assert publisher.publish(topic, payload, qos=1, timeout=10) == RC_SUCCESS
    assert subscriber.expect_message(topic, timeout=10).payload == payload


@BOTH
def test_payload_over_128_kib_is_refused(gw, version):
    # A raw socket, so that the exact answer is visible (a client library may choke on it).
    topic = unique_topic()
    subscriber = gw.connect(gw.device())
    subscriber.subscribe(topic)
    device = gw.device()
    sock = tls_socket(gw.addr, gw.ca, device.cert_path, device.key_path)
    try:
        sock.sendall(mqtt_connect_packet(unique_client_id(), 30, version=version))
        connack = read_mqtt_packet(sock, 5)
        assert connack is not None and connack[0] == 0x20 and connack[1][1] == 0, connack
        sock.sendall(mqtt_publish_packet(topic, b"x" * (MAX_PAYLOAD + 1), qos=1, packet_id=7, version=version))
        try:
            answer = read_mqtt_packet(sock, 5)
        except TimeoutError:
            pytest.fail("no answer within 5s to a PUBLISH over 128 KiB")
        except OSError:
            answer = None  # reset: closed
        if version == MQTT311:
            assert answer is None, f"expected the connection to close, got {answer!r}"
        elif answer is not None and answer[0] == 0x40:  # PUBACK: packet id, reason code
            code = answer[1][2] if len(answer[1]) > 2 else 0
            assert code in PUBACK_REASON_CODES, \
                f"PUBACK reason 0x{code:02x} is not valid in a PUBACK (MQTT 5 section 3.4.2.1)"
            assert code >= 0x80, f"oversized PUBLISH acknowledged with 0x{code:02x}"
        else:
            assert answer is not None and answer[0] == 0xE0, f"expected DISCONNECT 0x95, got {answer!r}"
            assert answer[1][:1] == bytes([RC_PACKET_TOO_LARGE]), f"DISCONNECT {answer[1]!r}, expected 0x95"
    finally:
        sock.close()
    marker(gw.connect(gw.device()), subscriber, topic)
    assert all(len(m.payload) <= MAX_PAYLOAD for m in subscriber.received)


# --------------------------------------------------------------------------------------------
# QoS 2


@BOTH
def test_qos2_subscription_is_not_granted_qos2(gw, version):
    topic = unique_topic()
    client = gw.connect(gw.device(), version=version)
    mid = client.subscribe_nowait(topic, qos=2)
    codes = client.suback(mid, timeout=3)
    if codes is None:
        # AWS: no SUBACK for a QoS 2 request; the connection must not just hang then.
        client.wait_disconnected(timeout=3)
        return
    assert len(codes) == 1 and codes[0] != 2, f"QoS 2 granted: {codes}"
    assert codes[0] in (0, 1) or codes[0] >= 0x80, codes
    if codes[0] in (0, 1):
        gw.connect(gw.device()).publish(topic, b"downgraded", qos=1)
        assert client.expect_message(topic).qos <= 1


@BOTH
def test_qos2_publish_ends_the_connection(gw, version):
    topic = unique_topic()
    subscriber = gw.connect(gw.device())
    subscriber.subscribe(topic)
    publisher = gw.connect(gw.device(), version=version)
    publisher.publish_nowait(topic, b"exactly once?", qos=2)
    ended = publisher.wait_disconnected(timeout=3)
    if version == MQTT5 and ended.from_server:
        assert ended.reason >= 0x80, ended  # 0x9B QoS not supported, per MQTT 5 section 3.3.1.2
    marker(gw.connect(gw.device()), subscriber, topic)
    assert b"exactly once?" not in [m.payload for m in subscriber.received]
