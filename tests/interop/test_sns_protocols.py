"""Fleetward's own subscription protocols: `mqtt` (a topic on the device gateway, received by a
paho client over mutual TLS) and `file` (JSON lines under DATA_DIR/notifications)."""

from __future__ import annotations

import json

import pytest

import support
from sns_support import sns_client, string_to_sign, unique_topic_name, verify_signature


@pytest.fixture(scope="module")
def sns(fw):
    return sns_client(fw)


def test_mqtt_subscription_reaches_a_paho_client(sns, gw):
    topic = sns.create_topic(Name=unique_topic_name("mqtt"))["TopicArn"]
    mqtt_topic = support.unique_topic("alerts")
    device = gw.device()
    client = gw.connect(device)
    client.subscribe(mqtt_topic, qos=1)
    sub = sns.subscribe(TopicArn=topic, Protocol="mqtt", Endpoint=mqtt_topic)["SubscriptionArn"]
    assert sub.startswith(topic + ":"), "mqtt subscriptions need no confirmation"
    message_id = sns.publish(TopicArn=topic, Subject="Alarm", Message="thing-1 violates behavior x")["MessageId"]
    received = client.expect_message(mqtt_topic, timeout=10)
    envelope = json.loads(received.payload)
    assert (envelope["Type"], envelope["MessageId"], envelope["Message"], envelope["Subject"]) == \
        ("Notification", message_id, "thing-1 violates behavior x", "Alarm")
    verify_signature(envelope)

    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true")
    sns.publish(TopicArn=topic, Message='{"raw": true}')
    assert client.expect_message(mqtt_topic, timeout=10).payload == b'{"raw": true}'
    attrs = support.wait_until(
        lambda: (a := sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"])["DeliveriesSucceeded"] == "2"
        and a, what="two deliveries counted")
    assert attrs["Protocol"] == "mqtt" and attrs["Endpoint"] == mqtt_topic


def test_file_subscription_appends_json_lines(fw, sns):
    topic = sns.create_topic(Name=unique_topic_name("file"))["TopicArn"]
    relative = f"team/{unique_topic_name('alerts')}.jsonl"
    sub = sns.subscribe(TopicArn=topic, Protocol="file", Endpoint=relative)["SubscriptionArn"]
    ids = [sns.publish(TopicArn=topic, Message=f"line {i}\nwith a newline")["MessageId"] for i in range(3)]
    path = fw.data_dir / "notifications" / relative
    lines = support.wait_until(lambda: path.exists() and len(path.read_text().splitlines()) == 3 and
                               path.read_text().splitlines(), what="three lines")
    records = [json.loads(line) for line in lines]
    assert sorted(r["MessageId"] for r in records) == sorted(ids)
    for record in records:
        assert record["TopicArn"] == topic and record["Type"] == "Notification"
        assert string_to_sign(record).startswith(b"Message\nline ")
        verify_signature(record)
    expect = support.expect_error
    expect(sns.set_subscription_attributes, "InvalidParameter", 400, SubscriptionArn=sub,
           AttributeName="RawMessageDelivery", AttributeValue="true")
    for bad in ["/etc/passwd", "../outside.jsonl", "a/../../b", "dir/"]:
        expect(sns.subscribe, "InvalidParameter", 400, TopicArn=topic, Protocol="file", Endpoint=bad)
