"""What the gateway promised survives a crash: a persistent session's subscriptions, the QoS 1
messages queued for it while it was offline (acknowledged to their publisher), and retained
messages. Each test runs its own server and kills it with SIGKILL."""

from __future__ import annotations

import time

from support import DEFAULT_ACCOUNT, MqttClient, provision_device, running, unique_client_id, unique_topic


def _client(server, device, **kwargs) -> MqttClient:
    c = MqttClient(server.mqtt_addr, ca=server.root_ca_path, cert=device.cert_path, key=device.key_path,
                   **kwargs)
    c.connect()
    c.expect_connected()
    return c


def test_persistent_session_and_retained_messages_survive_kill_9(tmp_path):
    data = tmp_path / "data"
    topic = unique_topic("durable")
    retained_topic = unique_topic("retained")
    subscriber_id = unique_client_id()
    with running(data, tmp_path / "log1") as server:
        iot = server.client(service="iot")
        subscriber = provision_device(iot, DEFAULT_ACCOUNT, tmp_path / "devices")
        publisher = provision_device(iot, DEFAULT_ACCOUNT, tmp_path / "devices")
        sub = _client(server, subscriber, client_id=subscriber_id, clean=False, session_expiry=3600)
        sub.subscribe(topic, qos=1)
        sub.disconnect()
        pub = _client(server, publisher)
        pub.publish(topic, b"while-you-were-away", qos=1)  # waits for the PUBACK
        pub.publish(retained_topic, b"sticky", qos=1, retain=True)
        server.kill()

    with running(data, tmp_path / "log2") as server:
        resumed = _client(server, subscriber, client_id=subscriber_id, clean=False, session_expiry=3600)
        assert resumed.connack.session_present is True
        resumed.expect_message(topic, payload=b"while-you-were-away", timeout=5)
        # The stored subscription still routes new messages.
        pub = _client(server, publisher)
        pub.publish(topic, b"after-restart", qos=1)
        resumed.expect_message(topic, payload=b"after-restart", timeout=5)
        late = _client(server, publisher, client_id=unique_client_id())
        late.subscribe(retained_topic, qos=1)
        message = late.expect_message(retained_topic, timeout=5)
        assert message.payload == b"sticky" and message.retain


def test_a_delivered_queue_is_not_delivered_again_after_restart(tmp_path):
    data = tmp_path / "data"
    topic = unique_topic("once")
    subscriber_id = unique_client_id()
    with running(data, tmp_path / "log1") as server:
        iot = server.client(service="iot")
        subscriber = provision_device(iot, DEFAULT_ACCOUNT, tmp_path / "devices")
        publisher = provision_device(iot, DEFAULT_ACCOUNT, tmp_path / "devices")
        sub = _client(server, subscriber, client_id=subscriber_id, clean=False, session_expiry=3600)
        sub.subscribe(topic, qos=1)
        sub.disconnect()
        _client(server, publisher).publish(topic, b"one", qos=1)
        again = _client(server, subscriber, client_id=subscriber_id, clean=False, session_expiry=3600)
        again.expect_message(topic, payload=b"one", timeout=5)
        again.disconnect()
        time.sleep(0.5)  # the dequeue is written in the background
        server.kill()

    with running(data, tmp_path / "log2") as server:
        resumed = _client(server, subscriber, client_id=subscriber_id, clean=False, session_expiry=3600)
        assert resumed.connack.session_present is True
        time.sleep(1.0)
        assert [m.payload for m in resumed.received if m.topic == topic] == []
