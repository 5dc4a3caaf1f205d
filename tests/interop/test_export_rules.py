"""Topic rules with the `firehose` action (iot CreateTopicRule family) with boto3: lifecycle,
the AWS error codes, and real MQTT messages reaching a HEC receiver through a rule (FROM
filter, Basic Ingest `$aws/rules/<name>`, disabled rules, batch mode and separator)."""

from __future__ import annotations

import json

import pytest

import support
from hec_support import HecReceiver, hec_event_processor, splunk_config, stream_name

ROLE = "arn:aws:iam::000000000000:role/rule-to-firehose"


@pytest.fixture
def hec():
    receiver = HecReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def firehose(fw, creds):
    return fw.client(*creds, service="firehose")


def rule_name() -> str:
    return support.unique("rule").replace("-", "_")


def payload(sql: str, stream: str, **extra) -> dict:
    action = {"deliveryStreamName": stream, "roleArn": ROLE}
    action.update(extra.pop("firehose", {}))
    return {"sql": sql, "actions": [{"firehose": action}], **extra}


def test_rule_lifecycle_with_boto3(iot):
    name = rule_name()
    iot.create_topic_rule(ruleName=name, topicRulePayload=payload(
        "SELECT * FROM 'fleet/+/metrics'", "s1", description="to splunk",
        firehose={"separator": "\n", "batchMode": True}))
    got = iot.get_topic_rule(ruleName=name)
    assert got["ruleArn"] == f"arn:aws:iot:{support.REGION}:000000000000:rule/{name}"
    rule = got["rule"]
    assert rule["ruleName"] == name and rule["sql"] == "SELECT * FROM 'fleet/+/metrics'"
    assert rule["description"] == "to splunk" and rule["ruleDisabled"] is False
    assert rule["awsIotSqlVersion"] == "2015-10-08"
    assert rule["actions"] == [{"firehose": {"deliveryStreamName": "s1", "roleArn": ROLE,
                                             "separator": "\n", "batchMode": True}}]
    created = rule["createdAt"]

    listed = {r["ruleName"]: r for r in iot.list_topic_rules()["rules"]}
    assert listed[name]["topicPattern"] == "fleet/+/metrics"
    assert listed[name]["ruleArn"] == got["ruleArn"]
    assert name in {r["ruleName"] for r in iot.list_topic_rules(topic="fleet/+/metrics")["rules"]}
    assert name not in {r["ruleName"] for r in iot.list_topic_rules(ruleDisabled=True)["rules"]}

    iot.replace_topic_rule(ruleName=name, topicRulePayload=payload("SELECT *", "s2", ruleDisabled=True))
    rule = iot.get_topic_rule(ruleName=name)["rule"]
    assert rule["sql"] == "SELECT *" and rule["ruleDisabled"] is True
    assert rule["createdAt"] == created and "description" not in rule
    assert name in {r["ruleName"] for r in iot.list_topic_rules(ruleDisabled=True)["rules"]}

    iot.delete_topic_rule(ruleName=name)
    support.expect_error(iot.get_topic_rule, "UnauthorizedException", 401, ruleName=name)


def test_rule_errors(iot, iot_raw):
    name = rule_name()
    good = payload("SELECT * FROM 'a/b'", "s")
    iot.create_topic_rule(ruleName=name, topicRulePayload=good)
    try:
        support.expect_error(iot.create_topic_rule, "ResourceAlreadyExistsException", 409,
                             ruleName=name, topicRulePayload=good)
        for sql in ["SELECT temperature FROM 'a/b'", "SELECT * FROM a/b", "SELECT * FROM 'a/#/b'",
                    "SELECT * FROM 'a' WHERE x > 1", "DELETE FROM 'a'"]:
            support.expect_error(iot.create_topic_rule, "SqlParseException", 400,
                                 ruleName=rule_name(), topicRulePayload=payload(sql, "s"))
            support.expect_error(iot.replace_topic_rule, "SqlParseException", 400,
                                 ruleName=name, topicRulePayload=payload(sql, "s"))
        support.expect_error(iot.create_topic_rule, "InvalidRequestException", 400, ruleName=rule_name(),
                             topicRulePayload={"sql": "SELECT * FROM 'a'",
                                               "actions": [{"lambda": {"functionArn": "arn:aws:lambda:x"}}]})
        support.expect_error(iot.create_topic_rule, "InvalidRequestException", 400, ruleName=rule_name(),
                             topicRulePayload=payload("SELECT * FROM 'a'", "s", firehose={"separator": ";"}))
        support.expect_error(iot_raw.create_topic_rule, "InvalidRequestException", 400,
                             ruleName="bad-name", topicRulePayload=good)
        support.expect_error(iot.replace_topic_rule, "UnauthorizedException", 401,
                             ruleName=rule_name(), topicRulePayload=good)
        support.expect_error(iot.delete_topic_rule, "UnauthorizedException", 401, ruleName=rule_name())
        # Nothing half-applied: the failed replaces left the rule as it was.
        assert iot.get_topic_rule(ruleName=name)["rule"]["sql"] == "SELECT * FROM 'a/b'"
    finally:
        iot.delete_topic_rule(ruleName=name)


def test_rules_are_per_account(fw, iot, make_iot_account):
    name = rule_name()
    iot.create_topic_rule(ruleName=name, topicRulePayload=payload("SELECT * FROM 'x'", "s"))
    try:
        other_iot = make_iot_account().iot
        support.expect_error(other_iot.get_topic_rule, "UnauthorizedException", 401, ruleName=name)
        assert name not in {r["ruleName"] for r in other_iot.list_topic_rules()["rules"]}
    finally:
        iot.delete_topic_rule(ruleName=name)


def test_published_messages_reach_the_hec_through_rules(iot, gw, firehose, hec):
    stream = stream_name("rules")
    firehose.create_delivery_stream(DeliveryStreamName=stream, SplunkDestinationConfiguration=splunk_config(
        hec.url, hec.token, processors=hec_event_processor("sourcetype=fleet&host={thing}")))
    on, off, ingest, batch = rule_name(), rule_name(), rule_name(), rule_name()
    iot.create_topic_rule(ruleName=on, topicRulePayload=payload("SELECT * FROM 'fleet/+/metrics'", stream))
    iot.create_topic_rule(ruleName=off, topicRulePayload=payload("SELECT * FROM 'fleet/#'", stream,
                                                                 ruleDisabled=True))
    iot.create_topic_rule(ruleName=ingest, topicRulePayload=payload("SELECT *", stream))
    iot.create_topic_rule(ruleName=batch, topicRulePayload=payload(
        "SELECT * FROM 'fleet/+/batch'", stream, firehose={"batchMode": True}))
    try:
        device = gw.device()
        watcher = gw.connect(gw.device())
        watcher.subscribe("fleet/#", f"$aws/rules/{ingest}")
        client = gw.connect(device)
        thing = device.thing
        assert client.publish(f"fleet/{thing}/metrics", json.dumps({"thing": thing, "n": 1})) == support.RC_SUCCESS
        assert client.publish(f"fleet/{thing}/other", json.dumps({"thing": thing, "n": 2})) == support.RC_SUCCESS
        assert client.publish(f"$aws/rules/{ingest}", json.dumps({"thing": thing, "n": 3})) == support.RC_SUCCESS
        assert client.publish(f"fleet/{thing}/batch",
                              json.dumps([{"thing": thing, "n": 4}, {"thing": thing, "n": 5}])) == support.RC_SUCCESS
        support.wait_until(lambda: len(hec.snapshot()) >= 4, timeout=15, what="four rule events")
        events = hec.snapshot()
        assert sorted(e["event"]["n"] for e in events) == [1, 3, 4, 5]
        assert all(e["sourcetype"] == "fleet" and e["host"] == thing for e in events)
        # Basic Ingest messages go to the rule only, never to subscribers.
        support.wait_until(lambda: len(watcher.inbox()) >= 3, timeout=5, what="the fleet/# messages")
        assert not watcher.inbox(f"$aws/rules/{ingest}")
    finally:
        for name in (on, off, ingest, batch):
            iot.delete_topic_rule(ruleName=name)
        firehose.delete_delivery_stream(DeliveryStreamName=stream)
