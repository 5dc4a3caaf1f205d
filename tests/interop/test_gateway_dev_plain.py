"""The development listener: MQTT over plain TCP only when `--dev-plain-mqtt-addr` is given,
the device naming its registered, ACTIVE certificate id as the user name."""

from __future__ import annotations

import paho.mqtt.client as mqtt

from support import DEFAULT_ACCOUNT, free_port, provision_device, running, unique_client_id


def _connect(port: int, username: str | None) -> int | None:
    """CONNACK reason of a plain-TCP MQTT 3.1.1 connection (None: no CONNACK)."""
    result: dict = {}
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=unique_client_id(),
                         protocol=mqtt.MQTTv311)
    if username is not None:
        client.username_pw_set(username)
    client.on_connect = lambda c, u, flags, reason, props: result.setdefault("rc", reason.value)
    client.connect("127.0.0.1", port, keepalive=30)
    for _ in range(50):
        client.loop(timeout=0.1)
        if "rc" in result:
            break
    client.disconnect()
    return result.get("rc")


def test_plain_tcp_only_with_the_flag_and_a_registered_certificate_id(tmp_path):
    plain = free_port()
    with running(tmp_path / "data", tmp_path / "log", extra_args=["--dev-plain-mqtt-addr", f"127.0.0.1:{plain}"]) as server:
        iot = server.client(service="iot")
        device = provision_device(iot, DEFAULT_ACCOUNT, tmp_path / "devices")
        assert _connect(plain, device.cert_id) == 0
        assert _connect(plain, "f" * 64) not in (0, None)  # an unknown certificate id is refused
        assert _connect(plain, None) not in (0, None)
        iot.update_certificate(certificateId=device.cert_id, newStatus="INACTIVE")
        assert _connect(plain, device.cert_id) not in (0, None)
    # Without the flag nothing listens there.
    import socket
    with running(tmp_path / "data2", tmp_path / "log2"):
        s = socket.socket()
        try:
            assert s.connect_ex(("127.0.0.1", plain)) != 0
        finally:
            s.close()
