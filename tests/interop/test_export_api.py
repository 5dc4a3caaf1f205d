"""The `firehose` API with boto3 and the AWS CLI: delivery stream lifecycle, tags, validation,
and PutRecordBatch with per-record failures when a stream's buffer is full."""

from __future__ import annotations

import json

import pytest

import support
from hec_support import HecReceiver, splunk_config, stream_name


@pytest.fixture(scope="module")
def firehose(fw, creds):
    return fw.client(*creds, service="firehose")


@pytest.fixture(scope="module")
def firehose_raw(fw, creds):
    return fw.client(*creds, service="firehose", validate=False)


@pytest.fixture(scope="module")
def hec():
    receiver = HecReceiver().start()
    yield receiver
    receiver.stop()


def test_lifecycle_with_boto3(firehose, hec):
    name = stream_name("life")
    arn = firehose.create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="DirectPut",
        SplunkDestinationConfiguration=splunk_config(hec.url, hec.token),
        Tags=[{"Key": "team", "Value": "soc"}])["DeliveryStreamARN"]
    assert arn == f"arn:aws:firehose:{support.REGION}:000000000000:deliverystream/{name}"
    d = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    assert d["DeliveryStreamStatus"] == "ACTIVE"
    assert d["DeliveryStreamType"] == "DirectPut"
    assert d["VersionId"] == "1"
    splunk = d["Destinations"][0]["SplunkDestinationDescription"]
    assert splunk["HECEndpoint"] == hec.url
    assert splunk["HECAcknowledgmentTimeoutInSeconds"] == 180
    assert splunk["BufferingHints"] == {"IntervalInSeconds": 0, "SizeInMBs": 1}
    assert splunk["S3BackupMode"] == "FailedEventsOnly"
    assert name in firehose.list_delivery_streams(Limit=10000)["DeliveryStreamNames"]

    dest = d["Destinations"][0]["DestinationId"]
    firehose.update_destination(DeliveryStreamName=name, CurrentDeliveryStreamVersionId="1",
                                DestinationId=dest,
                                SplunkDestinationUpdate={"BufferingHints": {"IntervalInSeconds": 30}})
    d = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    assert d["VersionId"] == "2"
    assert d["Destinations"][0]["SplunkDestinationDescription"]["BufferingHints"]["IntervalInSeconds"] == 30
    support.expect_error(firehose.update_destination, "ConcurrentModificationException",
                         DeliveryStreamName=name, CurrentDeliveryStreamVersionId="1", DestinationId=dest,
                         SplunkDestinationUpdate={"HECToken": "x"})

    firehose.tag_delivery_stream(DeliveryStreamName=name, Tags=[{"Key": "env", "Value": "prod"}])
    tags = firehose.list_tags_for_delivery_stream(DeliveryStreamName=name)
    assert tags["Tags"] == [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "soc"}]
    assert tags["HasMoreTags"] is False
    page = firehose.list_tags_for_delivery_stream(DeliveryStreamName=name, Limit=1)
    assert page["HasMoreTags"] is True and len(page["Tags"]) == 1
    firehose.untag_delivery_stream(DeliveryStreamName=name, TagKeys=["env"])
    assert firehose.list_tags_for_delivery_stream(DeliveryStreamName=name)["Tags"] == [
        {"Key": "team", "Value": "soc"}]

    support.expect_error(firehose.create_delivery_stream, "ResourceInUseException", DeliveryStreamName=name,
                         SplunkDestinationConfiguration=splunk_config(hec.url, hec.token))
    firehose.delete_delivery_stream(DeliveryStreamName=name)
    assert name not in firehose.list_delivery_streams(Limit=10000)["DeliveryStreamNames"]
    support.expect_error(firehose.describe_delivery_stream, "ResourceNotFoundException", DeliveryStreamName=name)


def test_validation_errors(firehose, firehose_raw, hec):
    support.expect_error(firehose_raw.create_delivery_stream, "InvalidArgumentException", status=400,
                         message="less than or equal to 5", DeliveryStreamName=stream_name(),
                         SplunkDestinationConfiguration=splunk_config(hec.url, hec.token,
                                                                      BufferingHints={"SizeInMBs": 6}))
    support.expect_error(firehose_raw.create_delivery_stream, "InvalidArgumentException",
                         DeliveryStreamName=stream_name(),
                         SplunkDestinationConfiguration=splunk_config(
                             hec.url, hec.token, HECAcknowledgmentTimeoutInSeconds=60))
    support.expect_error(firehose_raw.create_delivery_stream, "InvalidArgumentException",
                         DeliveryStreamName="bad name!",
                         SplunkDestinationConfiguration=splunk_config(hec.url, hec.token))
    support.expect_error(firehose_raw.create_delivery_stream, "InvalidArgumentException",
                         DeliveryStreamName=stream_name(),
                         S3DestinationConfiguration={"RoleARN": "arn:aws:iam::0:role/r", "BucketARN": "arn:aws:s3:::b"})
    support.expect_error(firehose.put_record, "ResourceNotFoundException",
                         DeliveryStreamName="no-such-stream", Record={"Data": b"x"})
    name = stream_name("val")
    firehose.create_delivery_stream(DeliveryStreamName=name,
                                    SplunkDestinationConfiguration=splunk_config(hec.url, hec.token))
    try:
        support.expect_error(firehose_raw.put_record_batch, "InvalidArgumentException",
                             DeliveryStreamName=name, Records=[{"Data": b"x"}] * 501)
        support.expect_error(firehose_raw.put_record, "InvalidArgumentException",
                             DeliveryStreamName=name, Record={"Data": b"x" * 1_024_001})
        support.expect_error(firehose_raw.put_record_batch, "InvalidArgumentException", message="4 MiB",
                             DeliveryStreamName=name, Records=[{"Data": b"x" * 1_000_000}] * 5)
        support.expect_error(firehose_raw.tag_delivery_stream, "InvalidArgumentException",
                             DeliveryStreamName=name, Tags=[{"Key": "aws:reserved", "Value": "x"}])
    finally:
        firehose.delete_delivery_stream(DeliveryStreamName=name)


def test_streams_are_per_account(fw, firehose, make_account, hec):
    name = stream_name("acct")
    firehose.create_delivery_stream(DeliveryStreamName=name,
                                    SplunkDestinationConfiguration=splunk_config(hec.url, hec.token))
    other = make_account(enable=False)
    theirs = fw.client(other.key_id, other.secret, service="firehose")
    try:
        assert name not in theirs.list_delivery_streams(Limit=10000)["DeliveryStreamNames"]
        support.expect_error(theirs.put_record, "ResourceNotFoundException",
                             DeliveryStreamName=name, Record={"Data": b"x"})
        # The same name is free in the other account.
        theirs.create_delivery_stream(DeliveryStreamName=name,
                                      SplunkDestinationConfiguration=splunk_config(hec.url, hec.token))
        theirs.delete_delivery_stream(DeliveryStreamName=name)
    finally:
        firehose.delete_delivery_stream(DeliveryStreamName=name)


def test_lifecycle_with_the_aws_cli(fw, hec):
    name = stream_name("cli")
    config = json.dumps(splunk_config(hec.url, hec.token))
    out = fw.aws_json("firehose", "create-delivery-stream", "--delivery-stream-name", name,
                      "--splunk-destination-configuration", config)
    assert out["DeliveryStreamARN"].endswith(f":deliverystream/{name}")
    records = json.dumps([{"Data": "aGVsbG8="}, {"Data": "d29ybGQ="}])
    put = fw.aws_json("firehose", "put-record-batch", "--delivery-stream-name", name, "--records", records)
    assert put["FailedPutCount"] == 0 and len(put["RequestResponses"]) == 2
    listed = fw.aws_json("firehose", "list-delivery-streams", "--limit", "10000")
    assert name in listed["DeliveryStreamNames"]
    fw.aws_json("firehose", "delete-delivery-stream", "--delivery-stream-name", name)
    missing = fw.aws("firehose", "describe-delivery-stream", "--delivery-stream-name", name, check=False)
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr


def test_full_buffer_fails_records_per_record(tmp_path, monkeypatch):
    """A stream whose destination is down fills its (small) buffer: PutRecordBatch then
    reports the records that did not fit as ServiceUnavailableException, and a call with no
    room at all fails as a whole with ServiceUnavailableException (HTTP 503)."""
    monkeypatch.setenv("FLEETWARD_EXPORT_BUFFER_BYTES", "20000")
    receiver = HecReceiver().start()
    receiver.fail_next(10_000, 9)
    try:
        with support.running(tmp_path / "data", tmp_path / "server.log") as server:
            client = server.client(service="firehose")
            name = stream_name("full")
            client.create_delivery_stream(DeliveryStreamName=name,
                                          SplunkDestinationConfiguration=splunk_config(receiver.url, receiver.token))
            answer = client.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"x" * 1000}] * 30)
            assert 0 < answer["FailedPutCount"] < 30
            responses = answer["RequestResponses"]
            assert len(responses) == 30
            assert "RecordId" in responses[0]
            assert responses[-1]["ErrorCode"] == "ServiceUnavailableException"
            support.expect_error(client.put_record, "ServiceUnavailableException", status=503,
                                 DeliveryStreamName=name, Record={"Data": b"y" * 1000})
            metrics = support.http_request(server.endpoint, "GET", "/metrics")[2].decode()
            assert f'fleetward_export_records_rejected_total{{account="000000000000",stream="{name}"}}' in metrics
    finally:
        receiver.stop()
