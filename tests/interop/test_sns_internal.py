"""The internal publish path: a finished Device Defender audit announces itself on the
account's SNS notification target (auditNotificationTargetConfigurations), delivered to an
HTTP endpoint run by the test as a signed SNS notification."""

from __future__ import annotations

import json

from audit_support import ROLE_ARN, enable_checks, new_audit_account, run_audit
from sns_support import Endpoint, sns_client, subscribe_confirmed, unique_topic_name, verify_signature


def test_audit_reports_reach_the_notification_topic(fw, make_account):
    account = new_audit_account(fw, make_account)
    sns = sns_client(fw, account.key_id, account.secret)
    topic = sns.create_topic(Name=unique_topic_name("audit-reports"))["TopicArn"]
    endpoint = Endpoint()
    try:
        subscribe_confirmed(sns, endpoint, topic)
        check = "LOGGING_DISABLED_CHECK"
        enable_checks(account.iot, check, auditNotificationTargetConfigurations={
            "SNS": {"targetArn": topic, "roleArn": ROLE_ARN, "enabled": True}})
        task_id, _ = run_audit(account.iot, check)
        note, headers = endpoint.wait_message("Notification", timeout=30, TopicArn=topic)
        assert headers["x-amz-sns-topic-arn"] == topic
        assert task_id in note["Subject"]
        report = json.loads(note["Message"])
        assert report["taskId"] == task_id
        verify_signature(note)
    finally:
        endpoint.close()
