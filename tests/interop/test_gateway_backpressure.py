"""Device gateway: a subscriber that stops reading must not stall the broker or grow its memory.

Each connection's outbound queue is bounded. When a subscriber's queue is full, its publishers
wait for room (up to 2 s); a subscriber that keeps them waiting that long is marked congested,
and until its queue drains its messages are dropped and counted in
`fleetward_mqtt_deliveries_dropped_total` on `/metrics`. Everyone else carries on.
"""

from __future__ import annotations

import re
import time

from support import (
    MQTT311,
    _mqtt_str,
    _varint,
    http_request,
    mqtt_connect_packet,
    read_mqtt_packet,
    tls_socket,
    unique_topic,
)

CONNACK = 0x20
SUBACK = 0x90


def dropped_deliveries(fw) -> float:
    status, _, body = http_request(fw.endpoint, "GET", "/metrics")
    assert status == 200
    total = 0.0
    for line in body.decode().splitlines():
        match = re.match(r'fleetward_mqtt_deliveries_dropped_total\{[^}]*\} (\S+)', line)
        if match:
            total += float(match.group(1))
    return total


def stalled_subscriber(gw, device, topic: str):
    """A raw MQTT 3.1.1 client that subscribes to `topic` and then never reads again."""
    sock = tls_socket(gw.addr, gw.ca, device.cert_path, device.key_path)
    sock.sendall(mqtt_connect_packet(device.client_id, keepalive=600, version=MQTT311))
    first, body = read_mqtt_packet(sock, timeout=5)
    assert first == CONNACK and body[1] == 0, body
    subscribe = (7).to_bytes(2, "big") + _mqtt_str(topic) + bytes([0])
    sock.sendall(bytes([0x82]) + _varint(len(subscribe)) + subscribe)
    first, body = read_mqtt_packet(sock, timeout=5)
    assert first == SUBACK and body[2] == 0, body
    return sock


def test_a_stalled_subscriber_is_dropped_from_not_waited_for(fw, gw):
    topic = unique_topic("stall")
    stalled = stalled_subscriber(gw, gw.device(), topic)
    try:
        healthy = gw.connect(gw.device())
        healthy.subscribe(topic, qos=0)
        publisher = gw.connect(gw.device())
        before = dropped_deliveries(fw)

        # Far more than the stalled subscriber's socket buffers and queue can hold.
        payload = b"x" * 8192
        started = time.monotonic()
        for _ in range(6000):
            publisher.publish_nowait(topic, payload, qos=0)
        # The publisher is slowed by the stalled subscriber for a moment, then no longer.
        publisher.publish(unique_topic("after"), b"still here", qos=1)
        assert time.monotonic() - started < 60

        deadline = time.monotonic() + 20
        while dropped_deliveries(fw) <= before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert dropped_deliveries(fw) > before, "messages for the stalled subscriber were not dropped"

        # The healthy subscriber still gets what is published now.
        publisher.publish(topic, b"marker", qos=1)
        healthy.expect_message(topic, payload=b"marker", timeout=20)
    finally:
        stalled.close()
