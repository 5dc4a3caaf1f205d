"""Streaming all hub findings: a delivery stream tagged `fleetward:source = securityhub-findings`
gets one `Security Hub Findings - Imported` EventBridge event per finding that
BatchImportFindings or BatchUpdateFindings writes in its account, at the HEC receiver; other
accounts' findings do not reach it, and untagging stops it."""

from __future__ import annotations

import time

import pytest

import support
from hec_support import HecReceiver, hec_event_processor, splunk_config, stream_name

TAG = {"Key": "fleetward:source", "Value": "securityhub-findings"}


@pytest.fixture
def hec():
    receiver = HecReceiver().start()
    yield receiver
    receiver.stop()


def test_findings_stream_as_imported_events(fw, make_account, hec):
    account, other = make_account(), make_account()
    firehose = fw.client(account.key_id, account.secret, service="firehose")
    hub, other_hub = account.client, other.client
    name = stream_name("hub")
    firehose.create_delivery_stream(DeliveryStreamName=name, SplunkDestinationConfiguration=splunk_config(
        hec.url, hec.token, processors=hec_event_processor("sourcetype=aws:securityhub")))
    try:
        tag = support.new_tag()
        before = support.prowler_finding(account.account_id, tag, product_arn=support.default_product_arn(account.account_id))
        assert hub.batch_import_findings(Findings=[before])["SuccessCount"] == 1
        firehose.tag_delivery_stream(DeliveryStreamName=name, Tags=[TAG])

        findings = [support.prowler_finding(account.account_id, f"{tag}-{i}",
                                            product_arn=support.default_product_arn(account.account_id))
                    for i in range(2)]
        assert hub.batch_import_findings(Findings=findings)["SuccessCount"] == 2
        foreign = support.prowler_finding(other.account_id, tag, product_arn=support.default_product_arn(other.account_id))
        assert other_hub.batch_import_findings(Findings=[foreign])["SuccessCount"] == 1
        hub.batch_update_findings(FindingIdentifiers=[support.ident(findings[0])],
                                  Workflow={"Status": "NOTIFIED"})

        support.wait_until(lambda: len(hec.snapshot()) >= 3, timeout=15, what="three finding events")
        time.sleep(0.5)
        events = [e["event"] for e in hec.snapshot()]
        assert len(events) == 3, events
        for e in events:
            assert e["detail-type"] == "Security Hub Findings - Imported"
            assert e["source"] == "aws.securityhub" and e["version"] == "0"
            assert e["account"] == account.account_id and e["region"] == support.REGION
            assert len(e["detail"]["findings"]) == 1
            f = e["detail"]["findings"][0]
            assert e["resources"] == [f["ProductFields"]["aws/securityhub/FindingId"]]
            assert e["resources"] == [f"{f['ProductArn']}/{f['Id']}"]
        # Delivery batches may arrive in any order: compare as (Id, workflow status) pairs.
        seen = sorted((f["Id"], f["Workflow"]["Status"], f["RecordState"])
                      for f in (e["detail"]["findings"][0] for e in events))
        assert seen == sorted([(findings[0]["Id"], "NEW", "ACTIVE"), (findings[1]["Id"], "NEW", "ACTIVE"),
                               (findings[0]["Id"], "NOTIFIED", "ACTIVE")])

        firehose.untag_delivery_stream(DeliveryStreamName=name, TagKeys=[TAG["Key"]])
        later = support.prowler_finding(account.account_id, f"{tag}-late",
                                        product_arn=support.default_product_arn(account.account_id))
        assert hub.batch_import_findings(Findings=[later])["SuccessCount"] == 1
        time.sleep(1.0)
        assert len(hec.snapshot()) == 3
    finally:
        firehose.delete_delivery_stream(DeliveryStreamName=name)
