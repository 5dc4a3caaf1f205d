"""Helpers for the Device Defender mitigation interop tests (test_mitigation_*.py)."""

from __future__ import annotations

import uuid

from support import TestCA, build_cert, cert_pem, key_pem_of, new_key, provision_device, wait_until

ACTION_ROLE = "arn:aws:iam::123456789012:role/IoTMitigationActionErrorLogging_Role"
LOGGING_ROLE = "arn:aws:iam::123456789012:role/AWSIoTLogging_Role"


def task_id() -> str:
    return f"mit-{uuid.uuid4().hex[:16]}"


def wait_mitigation(iot, task: str, timeout: float = 30.0, status: str = "COMPLETED") -> dict:
    """Polls DescribeAuditMitigationActionsTask until the task leaves IN_PROGRESS."""

    def done():
        described = iot.describe_audit_mitigation_actions_task(taskId=task)
        return described if described["taskStatus"] != "IN_PROGRESS" else None

    described = wait_until(done, timeout=timeout, interval=0.2, what=f"mitigation task {task}")
    assert described["taskStatus"] == status, described
    return described


def executions(iot, task: str, finding: str) -> list[dict]:
    return iot.list_audit_mitigation_actions_executions(taskId=task, findingId=finding)["actionsExecutions"]


def register_ca(iot) -> TestCA:
    ca = TestCA()
    code = iot.get_registration_code()["registrationCode"]
    iot.register_ca_certificate(caCertificate=ca.pem, verificationCertificate=ca.verification_cert(code),
                                setAsActive=True)
    return ca


def expiring_device(iot, account: str, directory, ca: TestCA, *, policy: str, days: int = 10):
    """A device (thing + certificate from `ca` valid `days` more days + policy): the device
    certificate expiring check reports it."""
    key = new_key()
    pem = cert_pem(build_cert(f"device-{uuid.uuid4().hex[:8]}", key, ca.cn, ca.key, days=days))
    return provision_device(iot, account, directory, policy=policy, cert_pem=pem, key_pem=key_pem_of(key),
                            ca_pem=ca.pem)
