"""What Publish acknowledged survives a crash: Fleetward is killed with SIGKILL while
deliveries wait for a down endpoint; after the restart they are delivered. Topics and
subscriptions (with their attributes) come back too."""

from __future__ import annotations

import json
import time

import support
from sns_support import Endpoint, sns_client, subscribe_confirmed, unique_topic_name
from support import running


def test_pending_deliveries_survive_kill_9(tmp_path):
    data = tmp_path / "data"
    endpoint = Endpoint()
    port = endpoint.port
    with running(data, tmp_path / "log1") as server:
        sns = sns_client(server)
        topic = sns.create_topic(Name=unique_topic_name("durable"), Attributes={"DisplayName": "Durable"},
                                 Tags=[{"Key": "k", "Value": "v"}])["TopicArn"]
        sub = subscribe_confirmed(sns, endpoint, topic)
        policy = {"healthyRetryPolicy": {"numRetries": 100, "minDelayTarget": 1, "maxDelayTarget": 1}}
        sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="DeliveryPolicy",
                                        AttributeValue=json.dumps(policy))
        endpoint.close()  # the endpoint goes down: connections are refused
        ids = [sns.publish(TopicArn=topic, Message=f"pending {i}")["MessageId"] for i in range(3)]
        support.wait_until(
            lambda: int(sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
                        ["DeliveryAttemptsFailed"]) >= 3, timeout=10, what="failed attempts")
        attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
        assert attrs["DeliveriesPending"] == "3"
        assert attrs["LastDeliveryStatus"] == "RETRYING"
        assert attrs["LastDeliveryError"] == "connection failed"
        server.kill()

    endpoint = Endpoint(port=port)  # the endpoint is back, at the same address
    try:
        with running(data, tmp_path / "log2") as server:
            sns = sns_client(server)
            for message_id in ids:
                note, headers = endpoint.wait_message("Notification", timeout=20, MessageId=message_id)
                assert note["TopicArn"] == topic
                assert headers["x-amz-sns-subscription-arn"] == sub
            attrs = support.wait_until(
                lambda: (a := sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"])
                ["DeliveriesPending"] == "0" and a, timeout=10, what="nothing pending")
            assert attrs["LastDeliveryStatus"] == "SUCCESS"
            assert json.loads(attrs["DeliveryPolicy"]) == policy
            topic_attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
            assert topic_attrs["DisplayName"] == "Durable"
            assert topic_attrs["SubscriptionsConfirmed"] == "1"
            assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "k", "Value": "v"}]
            # Delivered messages are not kept: a second restart delivers nothing again.
            delivered = len(endpoint.requests)
            server.stop()
        with running(data, tmp_path / "log3") as server:
            time.sleep(2.0)
            assert len(endpoint.requests) == delivered
    finally:
        endpoint.close()
