"""AWS IoT logs: the gateway writes one JSON line per event to DATA_DIR/iot-logs.jsonl, at the
levels the account's logging options set (SetV2LoggingOptions, SetV2LoggingLevel)."""

from __future__ import annotations

import json
import time

from support import unique_client_id, unique_topic, wait_until

ROLE = "arn:aws:iam::123456789012:role/iot-logging"


def _entries(fw, account: str) -> list[dict]:
    path = fw.data_dir / "iot-logs.jsonl"
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [e for e in lines if e.get("accountId") == account]


def test_events_are_logged_at_the_configured_levels(fw, gw, make_iot_account):
    acct = make_iot_account()
    device = gw.device(iot=acct.iot, account=acct.account_id)
    quiet_id = unique_client_id("quiet")

    # No logging configured: nothing is written for this account.
    c = gw.connect(device, client_id=unique_client_id())
    c.disconnect()
    time.sleep(0.3)
    assert _entries(fw, acct.account_id) == []

    acct.iot.set_v2_logging_options(roleArn=ROLE, defaultLogLevel="INFO")
    acct.iot.set_v2_logging_level(logTarget={"targetType": "CLIENT_ID", "targetName": quiet_id},
                                  logLevel="DISABLED")
    loud_id = unique_client_id("loud")
    topic = unique_topic()
    loud = gw.connect(device, client_id=loud_id)
    loud.publish(topic, b"x", qos=1)
    loud.disconnect()
    quiet = gw.connect(device, client_id=quiet_id)
    quiet.publish(topic, b"x", qos=1)
    quiet.disconnect()

    wait_until(lambda: any(e["eventType"] == "Disconnect" and e["clientId"] == loud_id
                           for e in _entries(fw, acct.account_id)), timeout=5, what="log entries")
    entries = _entries(fw, acct.account_id)
    loud_events = [(e["eventType"], e["status"]) for e in entries if e["clientId"] == loud_id]
    assert ("Connect", "Success") in loud_events
    assert ("Publish-In", "Success") in loud_events
    published = next(e for e in entries if e["clientId"] == loud_id and e["eventType"] == "Publish-In")
    assert published["topicName"] == topic and published["logLevel"] == "INFO"
    assert published["principalId"] == device.cert_id
    assert not [e for e in entries if e["clientId"] == quiet_id], "the client's own level DISABLED wins"

    # At ERROR only failures are logged.
    acct.iot.set_v2_logging_options(roleArn=ROLE, defaultLogLevel="ERROR")
    error_id = unique_client_id("err")
    c = gw.connect(device, client_id=error_id)
    c.disconnect()
    time.sleep(0.5)
    assert not [e for e in _entries(fw, acct.account_id) if e["clientId"] == error_id]
