"""Scheduled audits with the clock moved: a server of its own runs with the hidden
`--test-clock-file` flag, so the test moves Device Defender audit's time (the rest of the node,
SigV4 included, keeps the real time). A due audit runs; runs missed while the node was down run
once at the next start."""

from __future__ import annotations

import datetime as dt
import time

from audit_support import ROLE_ARN, hub_audit_findings
from support import DD_AUDIT_ARN, DEFAULT_ACCOUNT, running, wait_until

CHECK = "LOGGING_DISABLED_CHECK"
DAY_MS = 86_400_000


def set_offset(path, ms: int) -> None:
    path.write_text(str(ms))
    time.sleep(0.4)  # the server re-reads the file every 100 ms


def scheduled_tasks(iot, now_ms: int) -> list[dict]:
    start = dt.datetime.fromtimestamp((now_ms - 2 * DAY_MS) / 1000, dt.timezone.utc)
    end = dt.datetime.fromtimestamp((now_ms + DAY_MS) / 1000, dt.timezone.utc)
    return iot.list_audit_tasks(startTime=start, endTime=end, taskType="SCHEDULED_AUDIT_TASK")["tasks"]


def test_scheduled_audit_fires_when_the_clock_reaches_it(tmp_path):
    clock = tmp_path / "clock-offset-ms"
    clock.write_text("0")
    data, log = tmp_path / "data", tmp_path / "server.log"
    args = ["--test-clock-file", str(clock)]
    with running(data, log, extra_args=args) as fw:
        iot = fw.client(service="iot")
        hub = fw.client()
        iot.update_account_audit_configuration(roleArn=ROLE_ARN, auditCheckConfigurations={CHECK: {"enabled": True}})
        arn = iot.create_scheduled_audit(scheduledAuditName="nightly", frequency="DAILY",
                                         targetCheckNames=[CHECK])["scheduledAuditArn"]
        assert arn == f"arn:aws:iot:us-east-1:{DEFAULT_ACCOUNT}:scheduledaudit/nightly"
        listed = iot.list_scheduled_audits()["scheduledAudits"]
        assert listed == [{"scheduledAuditName": "nightly", "scheduledAuditArn": arn, "frequency": "DAILY"}]
        now = int(time.time() * 1000)
        time.sleep(1.5)
        assert scheduled_tasks(iot, now) == [], "nothing is due before midnight UTC"

        # Past the next midnight UTC.
        next_midnight = (now // DAY_MS + 1) * DAY_MS
        offset = next_midnight - now + 60_000
        set_offset(clock, offset)
        moved = now + offset
        tasks = wait_until(lambda: scheduled_tasks(iot, moved), timeout=20, what="the scheduled audit")
        assert len(tasks) == 1
        task_id = tasks[0]["taskId"]
        described = wait_until(
            lambda: (d := iot.describe_audit_task(taskId=task_id))["taskStatus"] == "COMPLETED" and d,
            timeout=20, what="the scheduled task to complete")
        assert described["taskType"] == "SCHEDULED_AUDIT_TASK"
        assert described["scheduledAuditName"] == "nightly"
        summary_id = f"{DEFAULT_ACCOUNT}/SCHEDULED_AUDIT_TASK/nightly/{CHECK}"
        summary = wait_until(lambda: hub_audit_findings(hub, Id=summary_id), timeout=20, what="the summary")[0]
        assert summary["ProductArn"] == DD_AUDIT_ARN
        assert summary["ProductFields"]["ScheduledAuditName"] == "nightly"
        assert summary["ProductFields"]["TaskType"] == "SCHEDULED_AUDIT_TASK"
        assert "of daily scheduled Audit nightly completes" in summary["Description"]

    # Three days pass while the node is down: one run at start, not three.
    set_offset(clock, offset + 3 * DAY_MS)
    with running(data, log, extra_args=args) as fw:
        iot = fw.client(service="iot")
        later = moved + 3 * DAY_MS
        tasks = wait_until(lambda: len(t := scheduled_tasks(iot, later)) >= 1 and t, timeout=20,
                           what="the missed run")
        time.sleep(2.0)
        assert len(scheduled_tasks(iot, later)) == 1, scheduled_tasks(iot, later)
        # The first run stays listed (a wider window shows both).
        start = dt.datetime.fromtimestamp((moved - DAY_MS) / 1000, dt.timezone.utc)
        end = dt.datetime.fromtimestamp((later + DAY_MS) / 1000, dt.timezone.utc)
        both = iot.list_audit_tasks(startTime=start, endTime=end, taskType="SCHEDULED_AUDIT_TASK")["tasks"]
        assert len(both) == 2
        iot.update_scheduled_audit(scheduledAuditName="nightly", frequency="MONTHLY", dayOfMonth="LAST")
        described = iot.describe_scheduled_audit(scheduledAuditName="nightly")
        assert described["frequency"] == "MONTHLY" and described["dayOfMonth"] == "LAST"
        assert "dayOfWeek" not in described
        assert described["targetCheckNames"] == [CHECK]
        iot.delete_scheduled_audit(scheduledAuditName="nightly")
        assert iot.list_scheduled_audits()["scheduledAudits"] == []
        del tasks
