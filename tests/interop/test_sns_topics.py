"""Notification topics through boto3 and the AWS CLI (`sns`, the AWS query protocol): topic
lifecycle, attributes, tags, paging, SNS error codes for bad input, account isolation."""

from __future__ import annotations

import json

import pytest

import support
from sns_support import sns_client, unique_topic_name
from support import expect_error


@pytest.fixture(scope="module")
def sns(fw):
    return sns_client(fw)


@pytest.fixture(scope="module")
def sns_raw(fw):
    return sns_client(fw, validate=False)


def test_topic_lifecycle_attributes_and_tags(sns):
    name = unique_topic_name("life")
    arn = sns.create_topic(Name=name, Attributes={"DisplayName": "Alerts"},
                           Tags=[{"Key": "team", "Value": "sec"}])["TopicArn"]
    assert arn == f"arn:aws:sns:{support.REGION}:{support.DEFAULT_ACCOUNT}:{name}"
    # Same name, same attributes: the same topic. Different attributes: InvalidParameter.
    assert sns.create_topic(Name=name, Attributes={"DisplayName": "Alerts"})["TopicArn"] == arn
    expect_error(sns.create_topic, "InvalidParameter", 400, Name=name, Attributes={"DisplayName": "Other"})

    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert attrs["TopicArn"] == arn
    assert attrs["Owner"] == support.DEFAULT_ACCOUNT
    assert attrs["DisplayName"] == "Alerts"
    assert attrs["SubscriptionsConfirmed"] == "0"
    assert attrs["SubscriptionsPending"] == "0"
    assert attrs["SubscriptionsDeleted"] == "0"
    policy = json.loads(attrs["Policy"])
    assert policy["Statement"][0]["Resource"] == arn
    effective = json.loads(attrs["EffectiveDeliveryPolicy"])
    retry = effective["http"]["defaultHealthyRetryPolicy"]
    assert (retry["numRetries"], retry["minDelayTarget"], retry["maxDelayTarget"], retry["backoffFunction"]) \
        == (3, 20, 20, "linear")

    delivery = {"http": {"defaultHealthyRetryPolicy": {"numRetries": 5, "minDelayTarget": 2, "maxDelayTarget": 10}}}
    sns.set_topic_attributes(TopicArn=arn, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(delivery))
    sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="2")
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert json.loads(attrs["DeliveryPolicy"]) == delivery
    assert json.loads(attrs["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 5
    assert attrs["SignatureVersion"] == "2"
    expect_error(sns.set_topic_attributes, "InvalidParameter", 400, TopicArn=arn,
                 AttributeName="DeliveryPolicy", AttributeValue='{"http":{"defaultHealthyRetryPolicy":{"numRetries":500}}}')
    expect_error(sns.set_topic_attributes, "InvalidParameter", 400, TopicArn=arn,
                 AttributeName="NoSuchAttribute", AttributeValue="x")
    # A rejected change changed nothing.
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["DeliveryPolicy"] == attrs["DeliveryPolicy"]

    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "sec"}]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "ops"}])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "team", "Value": "ops"}, {"Key": "env", "Value": "prod"}]
    sns.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "prod"}]

    listed = [t["TopicArn"] for page in sns.get_paginator("list_topics").paginate() for t in page["Topics"]]
    assert arn in listed
    sns.delete_topic(TopicArn=arn)
    expect_error(sns.get_topic_attributes, "NotFound", 404, TopicArn=arn)
    expect_error(sns.list_tags_for_resource, "ResourceNotFound", 404, ResourceArn=arn)
    sns.delete_topic(TopicArn=arn)  # deleting a missing topic succeeds, as in SNS


def test_list_topics_pages_by_100(fw, make_iot_account):
    account = make_iot_account()
    sns = sns_client(fw, account.key_id, account.secret)
    arns = {sns.create_topic(Name=f"page-{i:03d}")["TopicArn"] for i in range(150)}
    first = sns.list_topics()
    assert len(first["Topics"]) == 100 and first["NextToken"]
    second = sns.list_topics(NextToken=first["NextToken"])
    assert len(second["Topics"]) == 50 and "NextToken" not in second
    assert {t["TopicArn"] for t in first["Topics"] + second["Topics"]} == arns
    expect_error(sns.list_topics, "InvalidParameter", 400, NextToken="not a token!")


def test_bad_input_gets_sns_error_codes(fw, sns, sns_raw, creds):
    arn = sns.create_topic(Name=unique_topic_name("bad"))["TopicArn"]
    missing = arn + "-missing"
    expect_error(sns.publish, "NotFound", 404, TopicArn=missing, Message="x")
    expect_error(sns.subscribe, "NotFound", 404, TopicArn=missing, Protocol="http", Endpoint="http://127.0.0.1:1/")
    expect_error(sns.get_topic_attributes, "InvalidParameter", 400, TopicArn="not-an-arn")
    expect_error(sns.subscribe, "InvalidParameter", 400, TopicArn=arn, Protocol="carrier-pigeon", Endpoint="x")
    expect_error(sns.subscribe, "InvalidParameter", 400, TopicArn=arn, Protocol="http", Endpoint="not a url")
    expect_error(sns.subscribe, "InvalidParameter", 400, TopicArn=arn, Protocol="http", Endpoint="https://x.example/")
    expect_error(sns.subscribe, "InvalidParameter", 400, TopicArn=arn, Protocol="mqtt", Endpoint="alerts/#")
    expect_error(sns.subscribe, "InvalidParameter", 400, TopicArn=arn, Protocol="file", Endpoint="../../etc/passwd")
    expect_error(sns.create_topic, "InvalidParameter", 400, Name="has spaces")
    expect_error(sns.create_topic, "InvalidParameter", 400, Name="fifo", Attributes={"FifoTopic": "true"})
    expect_error(sns.publish, "InvalidParameter", 400, TopicArn=arn, Message="x", Subject="s" * 100)
    expect_error(sns.publish, "InvalidParameter", 400, TopicArn=arn, Message="x", Subject="two\nlines")
    expect_error(sns.publish, "InvalidParameter", 400, TopicArn=arn, Message="x" * (256 * 1024 + 1))
    expect_error(sns.publish, "InvalidParameter", 400, TopicArn=arn, Message='{"http":"x"}', MessageStructure="json")
    expect_error(sns.publish, "ParameterValueInvalid", 400, TopicArn=arn, Message="x",
                 MessageAttributes={"n": {"DataType": "Number", "StringValue": "abc"}})
    expect_error(sns_raw.publish, "InvalidParameter", 400, TopicArn=arn, Message="")
    expect_error(sns.unsubscribe, "NotFound", 404,
                 SubscriptionArn=arn + ":8b4c5f4e-0000-4000-8000-000000000000")
    # The largest message is accepted, with attributes counted in.
    assert sns.publish(TopicArn=arn, Message="x" * (256 * 1024))["MessageId"]

    # Missing required parameters (botocore would refuse to send these): raw signed requests.
    status, headers, body = support.signed_request(
        fw.endpoint, "POST", "/", "Action=Subscribe&Version=2010-03-31&Protocol=http", *creds,
        service="sns", content_type="application/x-www-form-urlencoded; charset=utf-8")
    assert status == 400, body
    assert b"<Code>InvalidParameter</Code>" in body and b"<Type>Sender</Type>" in body
    assert b"TopicArn" in body and b"<RequestId>" in body
    status, _, body = support.signed_request(
        fw.endpoint, "POST", "/", "Action=NoSuchThing&Version=2010-03-31", *creds,
        service="sns", content_type="application/x-www-form-urlencoded; charset=utf-8")
    assert status == 400 and b"NoSuchThing" in body
    # A bad signature is refused in the query protocol's shape.
    status, _, body = support.signed_request(
        fw.endpoint, "POST", "/", "Action=ListTopics&Version=2010-03-31", creds[0], "wrong-secret",
        service="sns", content_type="application/x-www-form-urlencoded; charset=utf-8")
    assert status == 403 and b"<Code>SignatureDoesNotMatch</Code>" in body


def test_accounts_never_see_each_others_topics(fw, sns, make_iot_account):
    mine = sns.create_topic(Name=unique_topic_name("iso"))["TopicArn"]
    other = make_iot_account()
    theirs = sns_client(fw, other.key_id, other.secret)
    their_topic = theirs.create_topic(Name=unique_topic_name("theirs"))["TopicArn"]
    their_topics = [t["TopicArn"] for t in theirs.list_topics()["Topics"]]
    assert their_topics == [their_topic]
    assert mine not in their_topics
    for call, kwargs in [
        (theirs.get_topic_attributes, {"TopicArn": mine}),
        (theirs.publish, {"TopicArn": mine, "Message": "x"}),
        (theirs.subscribe, {"TopicArn": mine, "Protocol": "http", "Endpoint": "http://127.0.0.1:1/"}),
        (theirs.delete_topic, {"TopicArn": mine}),
        (theirs.list_subscriptions_by_topic, {"TopicArn": mine}),
    ]:
        expect_error(call, "AuthorizationError", 403, **kwargs)
    # A topic that does not exist in another account answers the same: nothing leaks.
    expect_error(theirs.get_topic_attributes, "AuthorizationError", 403, TopicArn=mine + "-nope")
    assert sns.get_topic_attributes(TopicArn=mine)["Attributes"]["TopicArn"] == mine
    assert their_topic not in [t["TopicArn"] for p in sns.get_paginator("list_topics").paginate() for t in p["Topics"]]


def test_aws_cli_round_trip(fw):
    name = unique_topic_name("cli")
    arn = fw.aws_json("sns", "create-topic", "--name", name, "--attributes", "DisplayName=CLI")["TopicArn"]
    attrs = fw.aws_json("sns", "get-topic-attributes", "--topic-arn", arn)["Attributes"]
    assert attrs["DisplayName"] == "CLI"
    sub = fw.aws_json("sns", "subscribe", "--topic-arn", arn, "--protocol", "file",
                      "--notification-endpoint", f"cli/{name}.jsonl")["SubscriptionArn"]
    assert sub.startswith(arn + ":")
    subs = fw.aws_json("sns", "list-subscriptions-by-topic", "--topic-arn", arn)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in subs] == [sub]
    message_id = fw.aws_json("sns", "publish", "--topic-arn", arn, "--subject", "From the CLI",
                             "--message", "hello")["MessageId"]
    path = fw.data_dir / "notifications" / "cli" / f"{name}.jsonl"
    lines = support.wait_until(lambda: path.exists() and path.read_text().splitlines(), what="the file line")
    line = json.loads(lines[0])
    assert (line["MessageId"], line["Subject"], line["Message"]) == (message_id, "From the CLI", "hello")
    fw.aws("sns", "tag-resource", "--resource-arn", arn, "--tags", "Key=k,Value=v")
    assert fw.aws_json("sns", "list-tags-for-resource", "--resource-arn", arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    fw.aws("sns", "unsubscribe", "--subscription-arn", sub)
    fw.aws("sns", "delete-topic", "--topic-arn", arn)
    proc = fw.aws("sns", "get-topic-attributes", "--topic-arn", arn, check=False)
    assert proc.returncode != 0 and "NotFound" in proc.stderr
