"""Helpers for the Device Defender audit interop tests (test_audit_*.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from support import DD_AUDIT_ARN, wait_until

ROLE_ARN = "arn:aws:iam::123456789012:role/AWSIoTDeviceDefenderAudit"


@dataclass
class AuditAccount:
    """An account of its own: hub enabled and accepting the audit product, iot clients."""
    account_id: str
    key_id: str
    secret: str
    hub: object
    iot: object
    iot_raw: object


def new_audit_account(fw, make_account, accept_audit: bool = True) -> AuditAccount:
    account = make_account(enable=True)
    if accept_audit:
        account.client.enable_import_findings_for_product(ProductArn=DD_AUDIT_ARN)
    return AuditAccount(
        account.account_id, account.key_id, account.secret, account.client,
        fw.client(account.key_id, account.secret, service="iot"),
        fw.client(account.key_id, account.secret, service="iot", validate=False),
    )


def enable_checks(iot, *checks: str, role_arn: str = ROLE_ARN, **extra) -> None:
    iot.update_account_audit_configuration(
        roleArn=role_arn,
        auditCheckConfigurations={c: {"enabled": True} for c in checks},
        **extra,
    )


def wait_task(iot, task_id: str, timeout: float = 30.0, status: str = "COMPLETED") -> dict:
    """Polls DescribeAuditTask until the task leaves IN_PROGRESS; asserts its final status."""
    def done():
        described = iot.describe_audit_task(taskId=task_id)
        return described if described["taskStatus"] != "IN_PROGRESS" else None

    described = wait_until(done, timeout=timeout, interval=0.2, what=f"audit task {task_id}")
    assert described["taskStatus"] == status, described
    return described


def run_audit(iot, *checks: str, timeout: float = 30.0) -> tuple[str, dict]:
    task_id = iot.start_on_demand_audit_task(targetCheckNames=list(checks))["taskId"]
    return task_id, wait_task(iot, task_id, timeout)


def all_findings(iot, **kwargs) -> list[dict]:
    out = []
    for page in iot.get_paginator("list_audit_findings").paginate(**kwargs):
        out.extend(page["findings"])
    return out


def hub_audit_findings(hub, **filters) -> list[dict]:
    """Audit-product findings in the hub, with extra filters (EQUALS on each value)."""
    f = {"ProductArn": [{"Value": DD_AUDIT_ARN, "Comparison": "EQUALS"}]}
    for key, value in filters.items():
        if isinstance(value, dict):
            f[key] = [{"Key": k, "Value": v, "Comparison": "EQUALS"} for k, v in value.items()]
        else:
            f[key] = [{"Value": value, "Comparison": "EQUALS"}]
    out = []
    for page in hub.get_paginator("get_findings").paginate(Filters=f):
        out.extend(page["Findings"])
    return out


def wait_hub(hub, predicate, timeout: float = 30.0, what: str = "hub findings", **filters) -> list[dict]:
    def probe():
        found = hub_audit_findings(hub, **filters)
        return found if predicate(found) else None

    return wait_until(probe, timeout=timeout, interval=0.3, what=what)


def policy_hub_id(account: str, policy: str, version: str, check: str, reason: str) -> str:
    return f"{account}/IOT_POLICY/{policy}/{version}/{check}/{reason}"


def sleep_briefly():
    time.sleep(0.2)
