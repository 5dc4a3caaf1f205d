"""Device gateway: getting in. TLS with mandatory client certificates (registered and ACTIVE,
with an ACTIVE CA), iot:Connect, takeover by client id, keep-alive, and live connections cut when
a certificate or its CA is deactivated. paho-mqtt, MQTT 3.1.1 and 5, and raw TLS sockets.

AWS IoT Core semantics: an unknown, INACTIVE or REVOKED certificate fails the TLS handshake; a
denied iot:Connect gets CONNACK "not authorized" (3.1.1 return code 5, MQTT 5 reason 0x87); a
second CONNECT with the same client id disconnects the first connection (MQTT 5: DISCONNECT 0x8E).
"""

from __future__ import annotations

import socket
import ssl
import time

import pytest

from support import (
    CONNACK_311_NOT_AUTHORIZED,
    DEFAULT_ACCOUNT,
    MQTT5,
    MQTT311,
    PINGREQ,
    RC_NOT_AUTHORIZED,
    RC_SESSION_TAKEN_OVER,
    Device,
    TestCA,
    allow,
    build_cert,
    cert_pem,
    deny,
    iot_arn,
    key_pem_of,
    mqtt_connect_packet,
    new_key,
    policy_document,
    read_mqtt_packet,
    tls_socket,
    unique,
    unique_client_id,
    unique_topic,
)

BOTH = pytest.mark.parametrize("version", [MQTT311, MQTT5], ids=["mqtt311", "mqtt5"])


def not_authorized(version: int) -> int:
    return CONNACK_311_NOT_AUTHORIZED if version == MQTT311 else RC_NOT_AUTHORIZED


def client_arn(name: str, account: str = DEFAULT_ACCOUNT) -> str:
    return iot_arn(account, "client", name)


def round_trip(client, topic: str | None = None) -> None:
    """The client can subscribe, publish and receive its own QoS 1 message."""
    topic = topic or unique_topic()
    assert client.subscribe(topic, qos=1) == [1]
    assert client.publish(topic, b"ping", qos=1) == 0
    message = client.expect_message(topic, timeout=5)
    assert message.payload == b"ping"


def unregistered_device(directory, cert_pem_text: str, key) -> Device:
    directory.mkdir(parents=True, exist_ok=True)
    cert_path = directory / f"{unique('unreg')}.pem"
    key_path = cert_path.with_suffix(".key")
    cert_path.write_text(cert_pem_text)
    key_path.write_text(key_pem_of(key))
    return Device(DEFAULT_ACCOUNT, "", "", cert_path, key_path, None, [])


def register_ca(iot, ca: TestCA) -> None:
    code = iot.get_registration_code()["registrationCode"]
    iot.register_ca_certificate(caCertificate=ca.pem, verificationCertificate=ca.verification_cert(code),
                                setAsActive=True)


# --------------------------------------------------------------------------------------------
# TLS


@BOTH
def test_registered_device_connects(gw, version):
    device = gw.device()
    client = gw.connect(device, version=version)
    assert client.connack.session_present is False  # clean start, new client id
    round_trip(client)


@pytest.mark.parametrize("tls", ["TLSv1_2", "TLSv1_3"])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_server_certificate_and_tls_versions(gw, tls, host):
    # The client trusts only DATA_DIR/root-ca.pem: the handshake verifies only if the server sends
    # its issuing CA with the leaf, and the leaf's SAN names both localhost and 127.0.0.1.
    device = gw.device()
    ctx = ssl.create_default_context(cafile=str(gw.ca))
    version = getattr(ssl.TLSVersion, tls)
    ctx.minimum_version = ctx.maximum_version = version
    ctx.load_cert_chain(str(device.cert_path), str(device.key_path))
    raw = socket.create_connection(gw.addr, timeout=5)
    with ctx.wrap_socket(raw, server_hostname=host) as sock:
        assert sock.version() == tls.replace("_", ".")
        assert sock.getpeercert()  # verified against the root CA
        sock.sendall(mqtt_connect_packet(unique_client_id(), 30))
        packet = read_mqtt_packet(sock, 5)
        assert packet is not None, "connection closed instead of CONNACK"
        assert packet == (0x20, b"\x00\x00"), f"expected CONNACK accepted, got {packet!r}"


@BOTH
def test_connection_without_client_certificate_is_refused(gw, version):
    gw.client(None, version=version).connect().expect_refused_at_tls()


@BOTH
@pytest.mark.parametrize("issuer", ["self-signed", "unregistered-ca"])
def test_unregistered_certificate_is_refused(gw, tmp_path, version, issuer):
    if issuer == "self-signed":
        key = new_key()
        pem = cert_pem(build_cert("unregistered device", key))
    else:
        key, pem = TestCA().issue("device of an unknown CA")
    device = unregistered_device(tmp_path / "unreg", pem, key)
    gw.client(device, client_id=unique_client_id(), version=version).connect().expect_refused_at_tls()


@pytest.mark.parametrize("status", ["created-inactive", "INACTIVE", "REVOKED"])
def test_inactive_or_revoked_certificate_is_refused(gw, iot, status):
    if status == "created-inactive":
        device = gw.device(active=False)
    else:
        device = gw.device()
        iot.update_certificate(certificateId=device.cert_id, newStatus=status)
    gw.client(device).connect().expect_refused_at_tls()
    if status != "REVOKED":
        # The same certificate gets in once it is ACTIVE: the refusal was about its status.
        iot.update_certificate(certificateId=device.cert_id, newStatus="ACTIVE")
        gw.connect(device)


def test_device_of_registered_ca_connects_until_its_ca_is_inactive(gw, iot):
    ca = TestCA()
    register_ca(iot, ca)
    key, pem = ca.issue()
    device = gw.device(cert_pem=pem, key_pem=key_pem_of(key), ca_pem=ca.pem)
    round_trip(gw.connect(device))
    iot.update_ca_certificate(certificateId=ca.id, newStatus="INACTIVE")
    gw.client(device, client_id=unique_client_id()).connect().expect_refused_at_tls()


# --------------------------------------------------------------------------------------------
# iot:Connect


@BOTH
def test_connect_denied_by_policy(gw, version):
    allowed_id = unique_client_id("allowed")
    device = gw.device(policy=policy_document(allow("iot:Connect", client_arn(allowed_id))))
    denied = gw.client(device, client_id=unique_client_id("other"), version=version).connect()
    assert denied.connack is not None, f"expected CONNACK not authorized: {denied.describe()}"
    assert denied.connack.reason == not_authorized(version), denied.describe()
    denied.wait_disconnected(timeout=3)
    gw.connect(device, client_id=allowed_id, version=version)


@BOTH
def test_certificate_without_policy_cannot_connect(gw, version):
    device = gw.device(policy=None)
    client = gw.client(device, version=version).connect()
    assert client.connack is not None and client.connack.reason == not_authorized(version), client.describe()


def test_explicit_deny_overrides_allow_for_connect(gw):
    banned = unique_client_id("banned")
    device = gw.device(policy=policy_document(allow("iot:*", "*"), deny("iot:Connect", client_arn(banned))))
    client = gw.client(device, client_id=banned).connect()
    assert client.connack is not None and client.connack.reason == RC_NOT_AUTHORIZED, client.describe()
    gw.connect(device, client_id=unique_client_id())


def test_policy_of_thing_group_authorizes_connect(gw, iot):
    # Policies attached to the thing groups of the certificate's things count too.
    device = gw.device(policy=None)
    group = unique("grp")
    group_arn = iot.create_thing_group(thingGroupName=group)["thingGroupArn"]
    policy = unique("grppol")
    iot.create_policy(policyName=policy, policyDocument=policy_document(allow("iot:*", "*")))
    iot.attach_policy(policyName=policy, target=group_arn)
    before = gw.client(device).connect()
    assert before.connack is not None and before.connack.reason == RC_NOT_AUTHORIZED, before.describe()
    iot.add_thing_to_thing_group(thingGroupName=group, thingName=device.thing)
    round_trip(gw.connect(device))


# --------------------------------------------------------------------------------------------
# Takeover


@BOTH
def test_same_client_id_takes_over(gw, version):
    device = gw.device()
    client_id = unique_client_id()
    first = gw.connect(device, client_id=client_id, version=version)
    second = gw.connect(device, client_id=client_id, version=version)
    ended = first.wait_disconnected(timeout=3)
    if version == MQTT5:
        assert ended.from_server and ended.reason == RC_SESSION_TAKEN_OVER, ended
    assert second.still_connected_after(0.3), second.describe()
    round_trip(second)


def test_takeover_works_across_certificates(gw):
    # AWS keys the session by client id alone: another allowed certificate takes it over too.
    client_id = unique_client_id()
    first = gw.connect(gw.device(), client_id=client_id)
    second = gw.connect(gw.device(), client_id=client_id)
    first.wait_disconnected(timeout=3)
    assert second.still_connected_after(0.3), second.describe()


# --------------------------------------------------------------------------------------------
# Keep-alive (raw sockets: a client library would ping on its own)


def raw_connection(gw, device, keepalive: int):
    sock = tls_socket(gw.addr, gw.ca, device.cert_path, device.key_path)
    sock.sendall(mqtt_connect_packet(unique_client_id(), keepalive))
    packet = read_mqtt_packet(sock, 5)
    assert packet == (0x20, b"\x00\x00"), f"expected CONNACK accepted, got {packet!r}"
    return sock


def test_silent_client_is_dropped_after_one_and_a_half_keepalives(gw):
    keepalive = 2
    sock = raw_connection(gw, gw.device(), keepalive)
    started = time.monotonic()
    try:
        try:
            packet = read_mqtt_packet(sock, keepalive * 1.5 + 3)
        except TimeoutError:
            pytest.fail(f"a client silent for {keepalive * 1.5 + 3}s with keep-alive {keepalive}s is still connected")
        elapsed = time.monotonic() - started
        assert packet is None, f"expected the connection to close, got packet {packet!r}"
        # MQTT 3.1.1 section 3.1.2.10: disconnect after 1.5 x keep-alive, never before 1 x.
        assert keepalive - 0.2 <= elapsed <= keepalive * 1.5 + 1.5, f"dropped after {elapsed:.2f}s"
    finally:
        sock.close()


def test_pinging_client_stays_connected(gw):
    keepalive = 2
    sock = raw_connection(gw, gw.device(), keepalive)
    try:
        deadline = time.monotonic() + keepalive * 2 + 0.5
        while time.monotonic() < deadline:
            time.sleep(1.0)
            sock.sendall(PINGREQ)
            try:
                packet = read_mqtt_packet(sock, 3)
            except TimeoutError:
                pytest.fail("no PINGRESP within 3s")
            assert packet == (0xD0, b""), f"expected PINGRESP, got {packet!r}"
    finally:
        sock.close()


# --------------------------------------------------------------------------------------------
# Deactivation cuts live connections


@pytest.mark.parametrize("status", ["INACTIVE", "REVOKED"])
def test_deactivating_certificate_closes_its_live_connection(gw, iot, status):
    device = gw.device()
    bystander = gw.connect(gw.device())
    client = gw.connect(device, version=MQTT5)
    other_session = gw.connect(device, client_id=unique_client_id(), version=MQTT311)
    started = time.monotonic()
    iot.update_certificate(certificateId=device.cert_id, newStatus=status)
    client.wait_disconnected(timeout=3)
    other_session.wait_disconnected(timeout=3)
    assert time.monotonic() - started <= 3.5
    # Nothing else is touched; the certificate cannot come back in.
    assert bystander.still_connected_after(0.2), bystander.describe()
    round_trip(bystander)
    gw.client(device, client_id=unique_client_id()).connect().expect_refused_at_tls()


def test_deactivating_ca_closes_live_connections_of_its_devices(gw, iot):
    ca = TestCA()
    register_ca(iot, ca)
    key, pem = ca.issue()
    device = gw.device(cert_pem=pem, key_pem=key_pem_of(key), ca_pem=ca.pem)
    bystander = gw.connect(gw.device())
    client = gw.connect(device)
    iot.update_ca_certificate(certificateId=ca.id, newStatus="INACTIVE")
    client.wait_disconnected(timeout=3)
    assert bystander.still_connected_after(0.2), bystander.describe()
