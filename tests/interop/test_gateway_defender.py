"""Device gateway: Device Defender device-side metrics reports over MQTT, as the AWS device agents
send them. A report published to `$aws/things/THING/defender/metrics/json` (or `/cbor`) is answered
on `.../accepted` ({"thingName","reportId","status":"ACCEPTED","timestamp"}) or `.../rejected`
(statusDetails.ErrorCode "InvalidPayload" for a malformed report). The device needs the same
permissions as on AWS: iot:Publish on the report topic, iot:Subscribe / iot:Receive on the replies.

Each test uses a thing of its own: reports are throttled per device (one per 300 s by default).
"""

from __future__ import annotations

import datetime as dt
import json
import struct
import time

import pytest

from support import (
    DEFAULT_ACCOUNT,
    MQTT5,
    MQTT311,
    RC_NOT_AUTHORIZED,
    RC_SUCCESS,
    allow,
    iot_arn,
    policy_document,
    wait_until,
)

BOTH = pytest.mark.parametrize("version", [MQTT311, MQTT5], ids=["mqtt311", "mqtt5"])


def report_topic(thing: str, fmt: str = "json") -> str:
    return f"$aws/things/{thing}/defender/metrics/{fmt}"


def agent_policy(thing: str, publish: bool = True, fmt: str = "json") -> str:
    """What the AWS docs give a Device Defender agent (its thing name as client id)."""
    topic = report_topic(thing, fmt)
    statements = [allow("iot:Connect", iot_arn(DEFAULT_ACCOUNT, "client", thing))]
    if publish:
        statements.append(allow("iot:Publish", iot_arn(DEFAULT_ACCOUNT, "topic", topic)))
    statements += [
        allow("iot:Subscribe", [iot_arn(DEFAULT_ACCOUNT, "topicfilter", f"{topic}/accepted"),
                                iot_arn(DEFAULT_ACCOUNT, "topicfilter", f"{topic}/rejected")]),
        allow("iot:Receive", [iot_arn(DEFAULT_ACCOUNT, "topic", f"{topic}/accepted"),
                              iot_arn(DEFAULT_ACCOUNT, "topic", f"{topic}/rejected")]),
    ]
    return policy_document(*statements)


def long_report(report_id: int) -> dict:
    """The example report of the AWS Device Defender docs ("Device-side metrics"), long names."""
    return {
        "header": {"report_id": report_id, "version": "1.0"},
        "metrics": {
            "listening_tcp_ports": {
                "ports": [{"interface": "eth0", "port": 24800}, {"interface": "eth0", "port": 22},
                          {"interface": "eth0", "port": 53}],
                "total": 3,
            },
            "listening_udp_ports": {
                "ports": [{"interface": "eth0", "port": 5353}, {"interface": "eth0", "port": 67}],
                "total": 2,
            },
            "network_stats": {"bytes_in": 29358693495, "bytes_out": 26485035,
                              "packets_in": 10013573555, "packets_out": 11382615},
            "tcp_connections": {
                "established_connections": {
                    "connections": [
                        {"local_interface": "eth0", "local_port": 80, "remote_addr": "192.168.0.1:8000"},
                        {"local_interface": "eth0", "local_port": 80, "remote_addr": "192.168.0.1:8000"},
                    ],
                    "total": 2,
                }
            },
        },
    }


def short_report(report_id: int) -> dict:
    """The same report with the short key names."""
    return {
        "hed": {"rid": report_id, "v": "1.0"},
        "met": {
            "tp": {"pts": [{"if": "eth0", "pt": 24800}, {"if": "eth0", "pt": 22}, {"if": "eth0", "pt": 53}], "t": 3},
            "up": {"pts": [{"if": "eth0", "pt": 5353}, {"if": "eth0", "pt": 67}], "t": 2},
            "ns": {"bi": 29358693495, "bo": 26485035, "pi": 10013573555, "po": 11382615},
            "tc": {"ec": {"cs": [{"li": "eth0", "lp": 80, "rad": "192.168.0.1:8000"}], "t": 1}},
        },
    }


def agent(gw, version: int = MQTT5, publish: bool = True, fmt: str = "json"):
    """(device, connected client subscribed to the accepted/rejected replies)."""
    device = gw.device(policy=None, thing=True)
    gw.iot.create_policy(policyName=f"dd-{device.thing}", policyDocument=agent_policy(device.thing, publish, fmt))
    gw.iot.attach_policy(policyName=f"dd-{device.thing}", target=device.cert_arn)
    client = gw.connect(device, client_id=device.thing, version=version)
    topic = report_topic(device.thing, fmt)
    assert client.subscribe(f"{topic}/accepted", f"{topic}/rejected", qos=1) == [1, 1]
    return device, client


def now_ms() -> int:
    return int(time.time() * 1000)


def assert_recent(timestamp_ms: int) -> None:
    assert abs(timestamp_ms - now_ms()) < 60_000, f"timestamp {timestamp_ms} is not now ({now_ms()})"


# --------------------------------------------------------------------------------------------
# Accepted


@pytest.mark.parametrize("version,names", [(MQTT5, "long"), (MQTT311, "short")],
                         ids=["mqtt5-long-names", "mqtt311-short-names"])
def test_metrics_report_is_accepted(gw, version, names):
    device, client = agent(gw, version)
    report_id = int(time.time())
    report = long_report(report_id) if names == "long" else short_report(report_id)
    topic = report_topic(device.thing)
    assert client.publish(topic, json.dumps(report), qos=1) == RC_SUCCESS
    reply = client.expect_message(f"{topic}/accepted", timeout=5)
    body = json.loads(reply.payload)
    assert body["thingName"] == device.thing
    assert body["reportId"] == report_id
    assert body["status"] == "ACCEPTED"
    assert_recent(body["timestamp"])
    assert "statusDetails" not in body
    time.sleep(0.2)
    assert not client.inbox(f"{topic}/rejected")


def test_accepted_report_values_are_stored_as_metric_datapoints(gw, iot):
    device, client = agent(gw)
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    topic = report_topic(device.thing)
    client.publish(topic, json.dumps(long_report(int(time.time()))), qos=1)
    client.expect_message(f"{topic}/accepted")

    def datapoints(metric):
        return iot.list_metric_values(thingName=device.thing, metricName=metric, startTime=start,
                                      endTime=dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5)
                                      )["metricDatumList"]

    tcp = wait_until(lambda: datapoints("aws:num-listening-tcp-ports"), timeout=5,
                     what="aws:num-listening-tcp-ports datapoints")
    assert [d["value"]["count"] for d in tcp] == [3]
    ports = datapoints("aws:listening-tcp-ports")
    assert len(ports) == 1 and sorted(ports[0]["value"]["ports"]) == [22, 53, 24800]
    udp = datapoints("aws:num-listening-udp-ports")
    assert [d["value"]["count"] for d in udp] == [2]


def test_cbor_report_is_answered_in_cbor(gw):
    device, client = agent(gw, fmt="cbor")
    report_id = int(time.time())
    topic = report_topic(device.thing, "cbor")
    assert client.publish(topic, cbor_encode(short_report(report_id)), qos=1) == RC_SUCCESS
    body = cbor_decode(client.expect_message(f"{topic}/accepted").payload)
    assert body["thingName"] == device.thing
    assert body["reportId"] == report_id
    assert body["status"] == "ACCEPTED"
    assert_recent(body["timestamp"])


# --------------------------------------------------------------------------------------------
# Rejected


MALFORMED = {
    "not-json": b"this is not a report",
    "no-header": json.dumps({"metrics": long_report(1)["metrics"]}).encode(),
    "no-version": json.dumps({"header": {"report_id": 1}, "metrics": long_report(1)["metrics"]}).encode(),
    "no-metrics": json.dumps({"header": {"report_id": 1, "version": "1.0"}}).encode(),
    # Custom metric values must be an array of one object (spec section 3.2).
    "custom-metric-not-array": json.dumps({"header": {"report_id": 1, "version": "1.0"},
                                           "custom_metrics": {"temperature": {"number": 21}}}).encode(),
    "port-not-a-number": json.dumps({"header": {"report_id": 1, "version": "1.0"},
                                     "metrics": {"listening_tcp_ports": {"ports": [{"port": "http"}]}}}).encode(),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_report_is_rejected(gw, case):
    device, client = agent(gw)
    topic = report_topic(device.thing)
    assert client.publish(topic, MALFORMED[case], qos=1) == RC_SUCCESS
    body = json.loads(client.expect_message(f"{topic}/rejected", timeout=5).payload)
    assert body["thingName"] == device.thing
    assert body["status"] == "REJECTED"
    assert body["statusDetails"]["ErrorCode"] == "InvalidPayload", body
    assert body["statusDetails"].get("ErrorMessage"), body
    assert_recent(body["timestamp"])
    time.sleep(0.2)
    assert not client.inbox(f"{topic}/accepted")
    assert client.connected, "a malformed report must not cost the device its connection"


def test_malformed_report_does_not_disturb_other_devices(gw):
    bad_device, bad = agent(gw, MQTT311)
    good_device, good = agent(gw)
    bad_topic, good_topic = report_topic(bad_device.thing), report_topic(good_device.thing)
    bad.publish(bad_topic, b"\xff\xfe{{{", qos=1)
    good.publish(good_topic, json.dumps(long_report(int(time.time()))), qos=1)
    assert json.loads(good.expect_message(f"{good_topic}/accepted").payload)["status"] == "ACCEPTED"
    assert json.loads(bad.expect_message(f"{bad_topic}/rejected").payload)["status"] == "REJECTED"
    assert not good.inbox(f"{good_topic}/rejected")
    assert bad.connected and good.connected


def test_replies_go_only_to_the_reporting_thing(gw):
    device, client = agent(gw)
    other_device, other = agent(gw)
    topic = report_topic(device.thing)
    client.publish(topic, json.dumps(long_report(int(time.time()))), qos=1)
    client.expect_message(f"{topic}/accepted")
    time.sleep(0.3)
    assert not other.inbox(), other.inbox()


def test_report_needs_publish_permission(gw):
    device, client = agent(gw, publish=False)
    topic = report_topic(device.thing)
    assert client.publish(topic, json.dumps(long_report(int(time.time()))), qos=1) == RC_NOT_AUTHORIZED
    time.sleep(1.0)
    assert not client.inbox(), client.inbox()


# --------------------------------------------------------------------------------------------
# Minimal CBOR (RFC 8949) for the report and its reply: maps, arrays, text, bytes, integers,
# floats, booleans and null.


def _cbor_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    for size, code, fmt in ((1, 24, ">B"), (2, 25, ">H"), (4, 26, ">I"), (8, 27, ">Q")):
        if n < 1 << (8 * size):
            return bytes([major << 5 | code]) + struct.pack(fmt, n)
    raise ValueError(n)


def cbor_encode(value) -> bytes:
    if value is True or value is False:
        return bytes([0xF5 if value else 0xF4])
    if value is None:
        return b"\xf6"
    if isinstance(value, int):
        return _cbor_head(0, value) if value >= 0 else _cbor_head(1, -1 - value)
    if isinstance(value, float):
        return b"\xfb" + struct.pack(">d", value)
    if isinstance(value, str):
        data = value.encode()
        return _cbor_head(3, len(data)) + data
    if isinstance(value, bytes):
        return _cbor_head(2, len(value)) + value
    if isinstance(value, list):
        return _cbor_head(4, len(value)) + b"".join(cbor_encode(v) for v in value)
    if isinstance(value, dict):
        return _cbor_head(5, len(value)) + b"".join(cbor_encode(k) + cbor_encode(v) for k, v in value.items())
    raise TypeError(type(value))


def cbor_decode(data: bytes):
    value, end = _cbor_item(data, 0)
    assert end == len(data), f"{len(data) - end} trailing bytes after the CBOR item"
    return value


def _cbor_item(data: bytes, i: int):
    initial = data[i]
    major, info = initial >> 5, initial & 0x1F
    i += 1
    if major == 7:
        if info == 20:
            return False, i
        if info == 21:
            return True, i
        if info == 22:
            return None, i
        if info == 25:
            return struct.unpack(">e", data[i:i + 2])[0], i + 2
        if info == 26:
            return struct.unpack(">f", data[i:i + 4])[0], i + 4
        if info == 27:
            return struct.unpack(">d", data[i:i + 8])[0], i + 8
        raise ValueError(f"unsupported simple value {info}")
    if info < 24:
        n = info
    else:
        size = {24: 1, 25: 2, 26: 4, 27: 8}[info]
        n = int.from_bytes(data[i:i + size], "big")
        i += size
    if major == 0:
        return n, i
    if major == 1:
        return -1 - n, i
    if major in (2, 3):
        raw = data[i:i + n]
        return (raw if major == 2 else raw.decode()), i + n
    if major == 4:
        out = []
        for _ in range(n):
            item, i = _cbor_item(data, i)
            out.append(item)
        return out, i
    if major == 5:
        out = {}
        for _ in range(n):
            key, i = _cbor_item(data, i)
            out[key], i = _cbor_item(data, i)
        return out, i
    raise ValueError(f"unsupported CBOR major type {major}")
