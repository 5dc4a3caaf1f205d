"""HTTP/S subscriptions: the SNS confirmation handshake done by the test's own endpoint,
signed notifications verified with the served certificate (which chains to root-ca.pem),
raw delivery, unsubscribing, and retries visible in attributes and on /metrics."""

from __future__ import annotations

import json
import time

import pytest

import support
from sns_support import (Endpoint, assert_chains_to_root, fetch, metric_value, sns_client,
                         subscribe_confirmed, unique_topic_name, verify_signature)
from support import expect_error


@pytest.fixture(scope="module")
def sns(fw):
    return sns_client(fw)


@pytest.fixture
def endpoint():
    e = Endpoint()
    yield e
    e.close()


def test_subscribe_confirm_publish_verify_unsubscribe(fw, sns, endpoint):
    topic = sns.create_topic(Name=unique_topic_name("http"))["TopicArn"]
    sub = subscribe_confirmed(sns, endpoint, topic, via="url")
    confirmation = endpoint.messages("SubscriptionConfirmation")[0]
    assert confirmation["Message"].startswith(f"You have chosen to subscribe to the topic {topic}.")
    assert confirmation["SignatureVersion"] == "1"
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert subs == [{"SubscriptionArn": sub, "Owner": support.DEFAULT_ACCOUNT, "Protocol": "http",
                     "Endpoint": endpoint.url, "TopicArn": topic}]
    attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert (attrs["SubscriptionsConfirmed"], attrs["SubscriptionsPending"]) == ("1", "0")

    message_id = sns.publish(TopicArn=topic, Subject="Audit finished", Message="3 non-compliant resources",
                             MessageAttributes={"severity": {"DataType": "String", "StringValue": "HIGH"}})["MessageId"]
    note, headers = endpoint.wait_message("Notification", MessageId=message_id)
    assert list(note) == ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion",
                          "Signature", "SigningCertURL", "UnsubscribeURL", "MessageAttributes"]
    assert (note["TopicArn"], note["Subject"], note["Message"]) == (topic, "Audit finished", "3 non-compliant resources")
    assert note["MessageAttributes"] == {"severity": {"Type": "String", "Value": "HIGH"}}
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-message-id"] == message_id
    assert headers["x-amz-sns-topic-arn"] == topic
    assert headers["x-amz-sns-subscription-arn"] == sub
    assert headers["content-type"].startswith("text/plain")
    assert note["SigningCertURL"].startswith(fw.endpoint + "/SimpleNotificationService-")
    cert = verify_signature(note)
    assert_chains_to_root(cert, fw.data_dir)

    # The unsubscribe URL works unsigned, and only with its token.
    url = note["UnsubscribeURL"]
    status, _ = fetch(url.split("&Token=")[0] + "&Token=forged")
    assert status == 403
    status, body = fetch(url)
    assert status == 200 and b"<UnsubscribeResponse" in body
    expect_error(sns.get_subscription_attributes, "NotFound", 404, SubscriptionArn=sub)
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    assert sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsDeleted"] == "1"
    before = len(endpoint.requests)
    sns.publish(TopicArn=topic, Message="after unsubscribe")
    time.sleep(1.0)
    assert len(endpoint.requests) == before


def test_confirm_subscription_api_signature_version_2_and_raw_delivery(fw, sns, endpoint):
    topic = sns.create_topic(Name=unique_topic_name("v2"), Attributes={"SignatureVersion": "2"})["TopicArn"]
    pending = sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=endpoint.url, ReturnSubscriptionArn=True)
    sub = pending["SubscriptionArn"]
    assert sub.startswith(topic + ":")
    assert sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["PendingConfirmation"] == "true"
    listed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == ["PendingConfirmation"]
    confirmation, _ = endpoint.wait_message("SubscriptionConfirmation", TopicArn=topic)
    assert confirmation["SignatureVersion"] == "2"
    verify_signature(confirmation)
    expect_error(sns.confirm_subscription, "InvalidParameter", 400, TopicArn=topic, Token="0" * 64)
    confirmed = sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"],
                                         AuthenticateOnUnsubscribe="true")["SubscriptionArn"]
    assert confirmed == sub
    # The same token again answers the same ARN.
    assert sns.confirm_subscription(TopicArn=topic, Token=confirmation["Token"])["SubscriptionArn"] == sub
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["PendingConfirmation"] == "false"
    assert attrs["ConfirmationWasAuthenticated"] == "true"

    message_id = sns.publish(TopicArn=topic, Message="signed with SHA256")["MessageId"]
    note, _ = endpoint.wait_message("Notification", MessageId=message_id)
    assert note["SignatureVersion"] == "2"
    verify_signature(note)
    # AuthenticateOnUnsubscribe: the unsigned URL is refused.
    status, _ = fetch(note["UnsubscribeURL"])
    assert status == 403

    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="RawMessageDelivery", AttributeValue="true")
    sns.publish(TopicArn=topic, Message="raw body")
    raw = endpoint.wait_for(lambda r: r["body"] == "raw body", what="the raw message")
    assert raw["headers"]["x-amz-sns-rawdelivery"] == "true"
    sns.unsubscribe(SubscriptionArn=sub)


def test_retries_are_visible_in_attributes_and_metrics(fw, sns, endpoint):
    topic = sns.create_topic(Name=unique_topic_name("retry"))["TopicArn"]
    sub = subscribe_confirmed(sns, endpoint, topic, via="api")
    policy = {"healthyRetryPolicy": {"numRetries": 2, "minDelayTarget": 1, "maxDelayTarget": 1}}
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="DeliveryPolicy",
                                    AttributeValue=json.dumps(policy))
    effective = json.loads(sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["EffectiveDeliveryPolicy"])
    assert effective["healthyRetryPolicy"]["numRetries"] == 2
    failed_before = metric_value(fw, "fleetward_sns_delivery_attempts_failed_total", protocol="http")
    dropped_before = metric_value(fw, "fleetward_sns_deliveries_total", protocol="http", outcome="failed")

    endpoint.status = 500
    message_id = sns.publish(TopicArn=topic, Message="will fail")["MessageId"]

    def attempts():
        return [r for r in endpoint.requests if r["headers"].get("x-amz-sns-message-id") == message_id]

    support.wait_until(lambda: len(attempts()) == 3, timeout=10, what="three attempts")
    attrs = support.wait_until(
        lambda: (a := sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"])["LastDeliveryStatus"]
        == "FAILURE" and a, timeout=5, what="the failure recorded")
    assert attrs["DeliveryAttemptsFailed"] == "3"
    assert attrs["DeliveriesFailed"] == "1"
    assert attrs["LastDeliveryError"] == "HTTP status 500"
    assert attrs["DeliveriesPending"] == "0"
    assert metric_value(fw, "fleetward_sns_delivery_attempts_failed_total", protocol="http") >= failed_before + 3
    assert metric_value(fw, "fleetward_sns_deliveries_total", protocol="http", outcome="failed") >= dropped_before + 1

    # A failure followed by a success: retried, then delivered.
    endpoint.status = 503
    message_id = sns.publish(TopicArn=topic, Message="will succeed")["MessageId"]
    support.wait_until(lambda: len(attempts()) == 1, timeout=5, what="the first attempt")
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
    assert attrs["LastDeliveryStatus"] == "RETRYING"
    endpoint.status = 200
    support.wait_until(lambda: len(attempts()) == 2, timeout=5, what="the retry")
    attrs = support.wait_until(
        lambda: (a := sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"])["LastDeliveryStatus"]
        == "SUCCESS" and a, timeout=5, what="the success recorded")
    assert int(attrs["DeliveriesSucceeded"]) >= 2  # the confirmation request and this message
