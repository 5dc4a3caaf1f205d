"""Mitigation actions on live devices (paho-mqtt over mutual TLS): UPDATE_DEVICE_CERTIFICATE
closes the connection of the certificate it deactivates; ADD_THINGS_TO_THING_GROUP puts the
thing in a quarantine group whose policy denies a publish the device could do before, on its
live connection. Both applied by audit mitigation tasks to DEVICE_CERTIFICATE_EXPIRING_CHECK
findings; UPDATE_CA_CERTIFICATE refuses the devices of a deactivated CA."""

from __future__ import annotations

from audit_support import enable_checks, new_audit_account, run_audit
from mitigation_support import ACTION_ROLE, executions, expiring_device, register_ca, task_id, wait_mitigation
from support import (
    RC_NOT_AUTHORIZED,
    RC_SUCCESS,
    allow,
    deny,
    iot_arn,
    policy_document,
    unique_client_id,
    unique_topic,
)

CHECK = "DEVICE_CERTIFICATE_EXPIRING_CHECK"


def device_policy(account: str, base: str) -> str:
    return policy_document(allow("iot:Connect", iot_arn(account, "client", "*")),
                           allow(["iot:Publish", "iot:Receive"], iot_arn(account, "topic", f"{base}/*")),
                           allow("iot:Subscribe", iot_arn(account, "topicfilter", f"{base}/*")))


def finding_of(iot, audit_task: str, cert_id: str) -> dict:
    findings = iot.list_audit_findings(taskId=audit_task, checkName=CHECK)["findings"]
    [finding] = [f for f in findings if f["nonCompliantResource"]["resourceIdentifier"]["deviceCertificateId"]
                 == cert_id]
    return finding


def test_deactivated_certificate_connection_is_closed(fw, gateway, make_account, tmp_path):
    from conftest import GatewayKit

    acct = new_audit_account(fw, make_account)
    iot, account = acct.iot, acct.account_id
    gw = GatewayKit(fw, iot, account, tmp_path / "devices")
    try:
        base = unique_topic()
        ca = register_ca(iot)
        device = expiring_device(iot, account, gw.directory, ca, policy=device_policy(account, base))
        client = gw.connect(device)
        assert client.publish(f"{base}/t", b"before", qos=1) == RC_SUCCESS

        enable_checks(iot, CHECK)
        audit_task, _ = run_audit(iot, CHECK)
        finding = finding_of(iot, audit_task, device.cert_id)
        iot.create_mitigation_action(actionName="Deactivate", roleArn=ACTION_ROLE, actionParams={
            "updateDeviceCertificateParams": {"action": "DEACTIVATE"}})
        task = task_id()
        iot.start_audit_mitigation_actions_task(taskId=task, target={"findingIds": [finding["findingId"]]},
                                                auditCheckToActionsMapping={CHECK: ["Deactivate"]},
                                                clientRequestToken="t")
        wait_mitigation(iot, task)
        # The live connection is closed within moments, and the certificate cannot come back.
        client.wait_disconnected(timeout=3)
        status = iot.describe_certificate(certificateId=device.cert_id)["certificateDescription"]["status"]
        assert status == "INACTIVE"
        gw.client(device, client_id=unique_client_id()).connect().expect_refused_at_tls()
        # Deactivating an inactive certificate again succeeds and changes nothing.
        again = task_id()
        iot.start_audit_mitigation_actions_task(taskId=again, target={"findingIds": [finding["findingId"]]},
                                                auditCheckToActionsMapping={CHECK: ["Deactivate"]},
                                                clientRequestToken="t")
        wait_mitigation(iot, again)
        assert [e["status"] for e in executions(iot, again, finding["findingId"])] == ["COMPLETED"]
    finally:
        gw.close_all()


def test_quarantine_group_denies_a_publish_allowed_before(fw, gateway, make_account, tmp_path):
    from conftest import GatewayKit

    acct = new_audit_account(fw, make_account)
    iot, account = acct.iot, acct.account_id
    gw = GatewayKit(fw, iot, account, tmp_path / "devices")
    try:
        base = unique_topic()
        ca = register_ca(iot)
        device = expiring_device(iot, account, gw.directory, ca, policy=device_policy(account, base))
        iot.create_thing_group(thingGroupName="quarantine")
        iot.create_policy(policyName="QuarantinePolicy", policyDocument=policy_document(
            deny("iot:Publish", iot_arn(account, "topic", f"{base}/*"))))
        iot.attach_policy(policyName="QuarantinePolicy", target=iot_arn(account, "thinggroup", "quarantine"))
        watcher = gw.connect(gw.device(policy=device_policy(account, base), thing=False))
        watcher.subscribe(f"{base}/#")
        client = gw.connect(device, client_id=device.thing)
        assert client.publish(f"{base}/telemetry", b"before", qos=1) == RC_SUCCESS
        assert watcher.expect_message(f"{base}/telemetry").payload == b"before"

        enable_checks(iot, CHECK)
        audit_task, _ = run_audit(iot, CHECK)
        iot.create_mitigation_action(actionName="Quarantine", roleArn=ACTION_ROLE, actionParams={
            "addThingsToThingGroupParams": {"thingGroupNames": ["quarantine"], "overrideDynamicGroups": True}})
        task = task_id()
        iot.start_audit_mitigation_actions_task(
            taskId=task, target={"auditTaskId": audit_task,
                                 "auditCheckToReasonCodeFilter": {CHECK: ["CERTIFICATE_APPROACHING_EXPIRATION"]}},
            auditCheckToActionsMapping={CHECK: ["Quarantine"]}, clientRequestToken="t")
        described = wait_mitigation(iot, task)
        assert described["taskStatistics"][CHECK]["succeededFindingsCount"] >= 1
        groups = iot.list_thing_groups_for_thing(thingName=device.thing)["thingGroups"]
        assert [g["groupName"] for g in groups] == ["quarantine"]
        # The same live connection: its next publish is denied.
        assert client.publish(f"{base}/telemetry", b"after", qos=1) == RC_NOT_AUTHORIZED
        assert client.connected
    finally:
        gw.close_all()


def test_deactivated_ca_refuses_its_devices(fw, gateway, make_account, tmp_path):
    from conftest import GatewayKit

    acct = new_audit_account(fw, make_account)
    iot, account = acct.iot, acct.account_id
    gw = GatewayKit(fw, iot, account, tmp_path / "devices")
    try:
        base = unique_topic()
        # A CA about to expire: the CA expiring check reports it.
        from support import TestCA, build_cert, cert_pem

        ca = TestCA()
        ca.cert = build_cert(ca.cn, ca.key, ca=True, days=10)
        ca.pem = cert_pem(ca.cert)
        code = iot.get_registration_code()["registrationCode"]
        iot.register_ca_certificate(caCertificate=ca.pem, verificationCertificate=ca.verification_cert(code),
                                    setAsActive=True)
        ca_id = [c for c in iot.list_ca_certificates()["certificates"]][0]["certificateId"]
        device = expiring_device(iot, account, gw.directory, ca, policy=device_policy(account, base), days=5)
        client = gw.connect(device)
        enable_checks(iot, "CA_CERTIFICATE_EXPIRING_CHECK")
        audit_task, _ = run_audit(iot, "CA_CERTIFICATE_EXPIRING_CHECK")
        [finding] = iot.list_audit_findings(taskId=audit_task)["findings"]
        assert finding["nonCompliantResource"]["resourceIdentifier"]["caCertificateId"] == ca_id
        iot.create_mitigation_action(actionName="DeactivateCA", roleArn=ACTION_ROLE, actionParams={
            "updateCACertificateParams": {"action": "DEACTIVATE"}})
        task = task_id()
        iot.start_audit_mitigation_actions_task(
            taskId=task, target={"findingIds": [finding["findingId"]]},
            auditCheckToActionsMapping={"CA_CERTIFICATE_EXPIRING_CHECK": ["DeactivateCA"]}, clientRequestToken="t")
        wait_mitigation(iot, task)
        assert iot.describe_ca_certificate(certificateId=ca_id)["certificateDescription"]["status"] == "INACTIVE"
        client.wait_disconnected(timeout=3)
        gw.client(device, client_id=unique_client_id()).connect().expect_refused_at_tls()
    finally:
        gw.close_all()
