"""Delivery streams to a Splunk-HEC-compatible receiver (hec_support.HecReceiver): the
built-in seed-001 transform, indexer acknowledgement, retried and permanent HEC errors, the
failed-record backup, and no loss across `kill -9`."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

import support
from hec_support import HecReceiver, hec_event_processor, splunk_config, stream_name


@pytest.fixture
def hec():
    receiver = HecReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def firehose(fw, creds):
    return fw.client(*creds, service="firehose")


def put_json(client, name: str, records: list[dict]):
    answer = client.put_record_batch(DeliveryStreamName=name,
                                     Records=[{"Data": json.dumps(r).encode()} for r in records])
    assert answer["FailedPutCount"] == 0, answer
    return answer


def test_seed_transform_reaches_the_hec_with_acks(firehose, hec):
    name = stream_name("seed")
    firehose.create_delivery_stream(DeliveryStreamName=name, SplunkDestinationConfiguration=splunk_config(
        hec.url, hec.token, processors=hec_event_processor("sourcetype=aws:iot:defender&host={thing}")))
    try:
        metric = {"thing": "pump-7", "name": "aws:num-listening-tcp-ports", "value": {"count": 3}}
        put_json(firehose, name, [metric, {**metric, "thing": "pump-8"}])
        support.wait_until(lambda: len(hec.snapshot()) >= 2, timeout=15, what="two HEC events")
        events = sorted(hec.snapshot(), key=lambda e: e["host"])
        assert events[0] == {"sourcetype": "aws:iot:defender", "host": "pump-7", "event": metric}
        assert events[1]["event"]["thing"] == "pump-8"
        path, headers = hec.requests[0]
        assert path == "/services/collector/event"
        assert headers.get("x-splunk-request-channel")
        assert headers["authorization"] == f"Splunk {hec.token}"
    finally:
        firehose.delete_delivery_stream(DeliveryStreamName=name)


def test_raw_endpoint_gets_the_records_concatenated(firehose, hec):
    name = stream_name("raw")
    firehose.create_delivery_stream(DeliveryStreamName=name, SplunkDestinationConfiguration=splunk_config(
        hec.url, hec.token, endpoint_type="Raw",
        processors=[{"Type": "AppendDelimiterToRecord"}]))
    try:
        firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"line one"}, {"Data": b"line two"}])
        support.wait_until(lambda: hec.raw, timeout=15, what="a raw request")
        query, body = hec.raw[0]
        assert body == "line one\nline two\n"
        assert query.get("channel")
    finally:
        firehose.delete_delivery_stream(DeliveryStreamName=name)


def test_server_busy_is_retried_until_delivered(firehose, hec):
    hec.fail_next(2, 9)
    name = stream_name("busy")
    firehose.create_delivery_stream(DeliveryStreamName=name,
                                    SplunkDestinationConfiguration=splunk_config(hec.url, hec.token))
    try:
        firehose.put_record(DeliveryStreamName=name, Record={"Data": json.dumps({"event": "x"}).encode()})
        support.wait_until(lambda: hec.snapshot(), timeout=20, what="delivery after two 503s")
        assert len(hec.requests) == 3
    finally:
        firehose.delete_delivery_stream(DeliveryStreamName=name)


def backup_lines(data_dir: Path, name: str, prefix: str) -> list[dict]:
    root = data_dir / "export" / "backup" / "000000000000" / name / prefix
    if not root.exists():
        return []
    return [json.loads(line) for f in sorted(root.rglob("*")) if f.is_file()
            for line in f.read_text().splitlines()]


def test_invalid_token_goes_to_the_backup_without_retry(fw, firehose, hec):
    name = stream_name("tok")
    firehose.create_delivery_stream(DeliveryStreamName=name,
                                    SplunkDestinationConfiguration=splunk_config(hec.url, "not-the-token"))
    try:
        firehose.put_record(DeliveryStreamName=name, Record={"Data": b'{"event": 1}'})
        lines = support.wait_until(lambda: backup_lines(fw.data_dir, name, "splunk-failed"), timeout=15,
                                   what="an error record")
        assert lines[0]["errorCode"] == "Splunk.InvalidToken"
        assert lines[0]["attemptsMade"] == 1
        assert base64.b64decode(lines[0]["rawData"]) == b'{"event": 1}'
        for key in ("arrivalTimestamp", "attemptEndingTimestamp", "errorMessage", "EventId"):
            assert key in lines[0]
        assert not hec.snapshot()
    finally:
        firehose.delete_delivery_stream(DeliveryStreamName=name)


def test_retry_duration_zero_backs_up_after_one_attempt(fw, firehose, hec):
    hec.fail_next(5, 8)
    name = stream_name("zero")
    firehose.create_delivery_stream(DeliveryStreamName=name,
                                    SplunkDestinationConfiguration=splunk_config(hec.url, hec.token, retry=0))
    try:
        firehose.put_record(DeliveryStreamName=name, Record={"Data": b'{"event": 2}'})
        lines = support.wait_until(lambda: backup_lines(fw.data_dir, name, "splunk-failed"), timeout=15,
                                   what="an error record")
        assert lines[0]["errorCode"] == "Splunk.ServerError"
        assert len(hec.requests) == 1
    finally:
        firehose.delete_delivery_stream(DeliveryStreamName=name)


def test_no_record_lost_across_kill_9(tmp_path, hec):
    """Records acknowledged by PutRecordBatch while the HEC withholds its acks survive kill -9:
    after the restart every one is delivered (duplicates allowed, at-least-once)."""
    hec.hold_acks = True
    with support.running(tmp_path / "data", tmp_path / "server.log") as server:
        client = server.client(service="firehose")
        name = stream_name("kill")
        client.create_delivery_stream(DeliveryStreamName=name, SplunkDestinationConfiguration=splunk_config(
            hec.url, hec.token, retry=600, HECAcknowledgmentTimeoutInSeconds=180))
        for chunk in range(4):
            put_json(client, name, [{"event": {"n": chunk * 100 + i}} for i in range(100)])
        support.wait_until(lambda: len(hec.snapshot()) >= 400, timeout=15, what="first sends")
        server.kill()
        hec.hold_acks = False
        server.start()
        support.wait_until(lambda: len(hec.snapshot()) >= 800, timeout=30,
                           what="re-delivery after the restart")
        seen = [e["event"]["n"] for e in hec.snapshot()]
        assert set(seen) == set(range(400))
        client.delete_delivery_stream(DeliveryStreamName=name)


def test_sns_topic_subscribed_with_protocol_firehose(fw, creds, firehose, hec):
    """Seed 001's audit path: audit reports published on an SNS topic reach the HEC through a
    `firehose` subscription and the built-in transform (`checkName` under `event`)."""
    sns = fw.client(*creds, service="sns")
    name = stream_name("audit")
    arn = firehose.create_delivery_stream(DeliveryStreamName=name, SplunkDestinationConfiguration=splunk_config(
        hec.url, hec.token, processors=hec_event_processor("sourcetype=aws:iot:defender:audit")))["DeliveryStreamARN"]
    topic = sns.create_topic(Name=stream_name("reports"))["TopicArn"]
    try:
        support.expect_error(sns.subscribe, "InvalidParameter", TopicArn=topic, Protocol="firehose",
                             Endpoint="not-an-arn")
        sub = sns.subscribe(TopicArn=topic, Protocol="firehose", Endpoint=arn, ReturnSubscriptionArn=True,
                            Attributes={"RawMessageDelivery": "true"})["SubscriptionArn"]
        report = {"checkName": "LOGGING_DISABLED_CHECK", "taskId": "t1", "nonCompliantResourcesCount": 1}
        sns.publish(TopicArn=topic, Message=json.dumps(report))
        events = support.wait_until(hec.snapshot, timeout=20, what="the audit report at the HEC")
        assert events[0] == {"sourcetype": "aws:iot:defender:audit", "event": report}
        sns.unsubscribe(SubscriptionArn=sub)
    finally:
        sns.delete_topic(TopicArn=topic)
        firehose.delete_delivery_stream(DeliveryStreamName=name)
