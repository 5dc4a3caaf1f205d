"""Helpers for the interop suite: running the real `fleetward` binary, signing raw requests,
driving the AWS CLI, and building realistic ASFF findings.

Fixtures live in conftest.py; this module holds the plain functions and classes so that the
test modules can import them (`from support import ...`).
"""

from __future__ import annotations

import configparser
import contextlib
import datetime as dt
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from unittest import mock

import boto3
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

REGION = "us-east-1"
DEFAULT_ACCOUNT = "000000000000"
SERVICE = "securityhub"

DD_AUDIT_ARN = f"arn:aws:securityhub:{REGION}::product/aws/iot-device-defender-audit"
DD_DETECT_ARN = f"arn:aws:securityhub:{REGION}::product/aws/iot-device-defender-detect"
PROWLER_ARN = f"arn:aws:securityhub:{REGION}::product/prowler/prowler"

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / "target" / "debug" / "fleetward"


def fleetward_bin() -> Path:
    return Path(os.environ.get("FLEETWARD_BIN", str(DEFAULT_BIN)))


def aws_cli_bin() -> str:
    """The AWS CLI of the interpreter running the tests (the venv's), else the one on PATH."""
    candidate = Path(sys.executable).parent / "aws"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("aws")
    if not found:
        raise RuntimeError("the AWS CLI is not installed (pip install -r tests/interop/requirements.txt)")
    return found


def default_product_arn(account: str) -> str:
    return f"arn:aws:securityhub:{REGION}:{account}:product/{account}/default"


def hub_arn(account: str) -> str:
    return f"arn:aws:securityhub:{REGION}:{account}:hub/default"


def subscription_arn(account: str, company: str, product: str) -> str:
    return f"arn:aws:securityhub:{REGION}:{account}:product-subscription/{company}/{product}"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def new_tag() -> str:
    """A short unique marker that scopes a test's findings (GeneratorId prefix)."""
    return "t" + uuid.uuid4().hex[:12]


def scope(tag: str) -> dict:
    """Filter selecting only the findings built with `tag` (all builders prefix GeneratorId)."""
    return {"GeneratorId": [{"Value": f"{tag}/", "Comparison": "PREFIX"}]}


def with_scope(tag: str, filters: dict | None = None) -> dict:
    merged = dict(filters or {})
    merged.update(scope(tag))
    return merged


def wait_until(predicate, timeout: float = 5.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last value: {last!r})")


# --------------------------------------------------------------------------------------------
# Timestamps


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso_ms(when: dt.datetime) -> str:
    when = when.astimezone(dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def iso_s(when: dt.datetime) -> str:
    """Prowler's timestamp format (`%Y-%m-%dT%H:%M:%SZ`)."""
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(days: float = 0, hours: float = 0, minutes: float = 0, seconds: float = 0) -> dt.datetime:
    delta = dt.timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    # Whole milliseconds, so values round-trip exactly.
    when = utcnow() - delta
    return when.replace(microsecond=(when.microsecond // 1000) * 1000)


def parse_ts(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def same_instant(a, b) -> bool:
    return parse_ts(a) == parse_ts(b)


# --------------------------------------------------------------------------------------------
# ASFF builders (shapes follow the real findings shown in seeds/002_*.txt and prowler's output)


def _apply(finding: dict, overrides: dict) -> dict:
    for key, value in overrides.items():
        if value is None:
            finding.pop(key, None)
        else:
            finding[key] = value
    return finding


def _severity(severity) -> dict:
    if isinstance(severity, dict):
        return dict(severity)
    return {"Label": severity}


def dd_audit_finding(account: str, tag: str, *, policy: str | None = None, version: str = "1",
                     check: str = "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
                     reason: str = "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS",
                     severity="CRITICAL", created: dt.datetime | None = None,
                     updated: dt.datetime | None = None, task_id: str | None = None,
                     product_arn: str = DD_AUDIT_ARN, **overrides) -> dict:
    """A Device Defender Audit finding for a non-compliant IoT policy (ReportType AuditFinding)."""
    policy = policy or f"policy-{tag}"
    task_id = task_id or uuid.uuid4().hex
    created = created or ago(minutes=5)
    updated = updated or created
    types = ["Software and Configuration Check/Vulnerabilities"]
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": f"{account}/IOT_POLICY/{policy}/{version}/{check}/{reason}",
        "ProductArn": product_arn,
        "GeneratorId": f"{tag}/{task_id}",
        "AwsAccountId": account,
        "Types": types,
        "CreatedAt": iso_ms(created),
        "UpdatedAt": iso_ms(updated),
        "Severity": _severity(severity),
        "Title": f"{check}: {reason}",
        "Description": (
            f"IOT_POLICY {policy}:{version} is reported as non-compliant for {check} by Audit task "
            f"{task_id}. The non-compliant reason is Policy allows broad access to IoT data plane "
            "actions: [iot:Connect]."
        ),
        "SourceUrl": f"https://{REGION}.console.aws.amazon.com/iot/home?region={REGION}#/policy/{policy}",
        "ProductFields": {
            "CheckName": check,
            "TaskId": task_id,
            "TaskType": "ON_DEMAND_AUDIT_TASK",
            "PolicyName": policy,
            "IsSuppressed": "false",
            "ReasonForNonComplianceCode": reason,
            "ResourceType": "IOT_POLICY",
            "FindingId": uuid.uuid4().hex,
            "PolicyVersionId": version,
            "ReportType": "AuditFinding",
            "TaskStartTime": str(int(created.timestamp() * 1000)),
        },
        "Resources": [
            {
                "Type": "AwsIotPolicy",
                "Id": policy,
                "Partition": "aws",
                "Region": REGION,
                "Details": {"Other": {"PolicyVersionId": version}},
            }
        ],
    }
    return _apply(finding, overrides)


def dd_audit_summary_finding(account: str, tag: str, *, check: str = "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK",
                             noncompliant: int = 2, total: int = 1000, severity="CRITICAL",
                             created: dt.datetime | None = None, updated: dt.datetime | None = None,
                             **overrides) -> dict:
    """A Device Defender Audit check summary (ReportType CheckSummary)."""
    task_id = uuid.uuid4().hex
    created = created or ago(minutes=5)
    updated = updated or created
    schedule = f"daily-{tag}"
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": f"{account}/SCHEDULED_AUDIT_TASK/{schedule}/{check}",
        "ProductArn": DD_AUDIT_ARN,
        "GeneratorId": f"{tag}/{task_id}",
        "AwsAccountId": account,
        "Types": ["Software and Configuration Check/Vulnerabilities/CVE"],
        "CreatedAt": iso_ms(created),
        "UpdatedAt": iso_ms(updated),
        "Severity": _severity(severity),
        "Title": f"{check} Summary: Completed with {noncompliant} non-compliant resources",
        "Description": (
            f"Task {task_id} of weekly scheduled Audit {schedule} completes. {noncompliant} "
            f"non-compliant resources are found for {check} out of {total} resources in the account."
        ),
        "ProductFields": {
            "TaskId": task_id,
            "TaskType": "SCHEDULED_AUDIT_TASK",
            "ScheduledAuditName": schedule,
            "CheckName": check,
            "ReportType": "CheckSummary",
            "CheckRunStatus": "COMPLETED_NON_COMPLIANT",
            "NonCompliantResourcesCount": str(noncompliant),
            "TotalResourcesCount": str(total),
        },
        "Resources": [{"Type": "AwsIotAuditTask", "Id": task_id, "Region": REGION}],
    }
    return _apply(finding, overrides)


def dd_detect_finding(account: str, tag: str, *, thing: str = "MyThing", behavior: str = "MyBehavior",
                      profile: str = "MySecurityProfile", metric: str = "aws:num-disconnects",
                      severity="MEDIUM", created: dt.datetime | None = None,
                      updated: dt.datetime | None = None, violation_id: str | None = None,
                      **overrides) -> dict:
    """A Device Defender Detect violation finding."""
    violation_id = violation_id or uuid.uuid4().hex
    created = created or ago(minutes=5)
    updated = updated or created
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": violation_id,
        "ProductArn": DD_DETECT_ARN,
        "GeneratorId": f"{tag}/arn:aws:iot:{REGION}:{account}:securityprofile/{profile}",
        "AwsAccountId": account,
        "Types": ["Unusual Behaviors"],
        "CreatedAt": iso_ms(created),
        "UpdatedAt": iso_ms(updated),
        "Severity": _severity(severity),
        "Title": f"Registered thing {thing} is in alarm for STATIC behavior {behavior}.",
        "Description": (
            f"Registered thing {thing} violates STATIC behavior {behavior} of security profile "
            f"{profile}. Violation was triggered because the device did not conform to {metric} less-than 1."
        ),
        "SourceUrl": f"https://{REGION}.console.aws.amazon.com/iot/home?region={REGION}#/dd/securityProfile/{profile}?tab=violations",
        "ProductFields": {
            "ComparisonOperator": "less-than",
            "BehaviorName": behavior,
            "ViolationId": violation_id,
            "ViolationStartTime": str(int(created.timestamp() * 1000)),
            "SuppressAlerts": "false",
            "ConsecutiveDatapointsToAlarm": "1",
            "ConsecutiveDatapointsToClear": "1",
            "DurationSeconds": "300",
            "Count": "1",
            "MetricName": metric,
            "BehaviorCriteriaType": "STATIC",
            "ThingName": thing,
            "SecurityProfileName": profile,
        },
        "Resources": [
            {
                "Type": "AwsIotRegisteredThing",
                "Id": thing,
                "Region": REGION,
                "Details": {
                    "Other": {
                        "IsRegisteredThing": "true",
                        "ThingArn": f"arn:aws:iot:{REGION}:{account}:thing/{thing}",
                    }
                },
            }
        ],
    }
    return _apply(finding, overrides)


def prowler_finding(account: str, tag: str, *, check: str = "ec2_instance_port_ssh_exposed_to_internet",
                    resource_type: str = "AwsEc2Instance", resource_id: str | None = None,
                    status: str = "FAILED", severity="HIGH", product_arn: str = PROWLER_ARN,
                    created: dt.datetime | None = None, updated: dt.datetime | None = None,
                    **overrides) -> dict:
    """A finding shaped like prowler's ASFF output (prowler/lib/outputs/asff/asff.py)."""
    resource_id = resource_id or f"arn:aws:ec2:{REGION}:{account}:instance/i-{uuid.uuid4().hex[:17]}"
    created = created or ago(minutes=5)
    updated = updated or created
    digest = hashlib.sha512(f"{resource_id}/{tag}".encode()).hexdigest()
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": f"prowler-{check}-{account}-{REGION}-{digest[:64]}",
        "ProductArn": product_arn,
        "GeneratorId": f"{tag}/prowler-{check}",
        "AwsAccountId": account,
        "Types": ["Software and Configuration Checks/AWS Security Best Practices/Network Reachability"],
        "FirstObservedAt": iso_s(created),
        "CreatedAt": iso_s(created),
        "UpdatedAt": iso_s(updated),
        "Severity": _severity(severity),
        "Title": f"Ensure no EC2 instances allow ingress from the internet to TCP port 22 ({check}).",
        "Description": f"Instance {resource_id.rsplit('/', 1)[-1]} has SSH exposed to 0.0.0.0/0 on public IP.",
        "ProductFields": {
            "ProviderName": "Prowler",
            "ProviderVersion": "5.7.0",
            "ProwlerResourceName": resource_id.rsplit("/", 1)[-1],
        },
        "Resources": [
            {
                "Type": resource_type,
                "Id": resource_id,
                "Partition": "aws",
                "Region": REGION,
            }
        ],
        "Compliance": {
            "Status": status,
            "RelatedRequirements": ["CIS-2.0 5.2", "AWS-Foundational-Security-Best-Practices EC2.13"],
            "AssociatedStandards": [
                {"StandardsId": "CIS-2.0"},
                {"StandardsId": "AWS-Foundational-Security-Best-Practices"},
            ],
        },
        "Remediation": {
            "Recommendation": {
                "Text": "Modify the security group to remove the rule that allows ingress from 0.0.0.0/0 to port 22.",
                "Url": "https://docs.aws.amazon.com/securityhub/latest/userguide/ec2-controls.html#ec2-13",
            }
        },
    }
    return _apply(finding, overrides)


def key_of(finding: dict) -> tuple[str, str]:
    return (finding["ProductArn"], finding["Id"])


def ident(finding: dict) -> dict:
    return {"Id": finding["Id"], "ProductArn": finding["ProductArn"]}


# --------------------------------------------------------------------------------------------
# boto3 helpers


_BOTO_SESSION = None


def boto_session():
    global _BOTO_SESSION
    if _BOTO_SESSION is None:
        _BOTO_SESSION = boto3.session.Session(region_name=REGION)
    return _BOTO_SESSION


def make_client(endpoint: str, key_id: str, secret: str, *, validate: bool = True, region: str = REGION,
                service: str = SERVICE):
    """A boto3 client of `service` (securityhub unless told, e.g. "iot") against the server."""
    config = Config(
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
        parameter_validation=validate,
    )
    return boto_session().client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=config,
    )


def error_of(call, *args, **kwargs) -> ClientError:
    """Runs a boto3 call that must fail with a ClientError and returns the error."""
    try:
        result = call(*args, **kwargs)
    except ClientError as exc:
        return exc
    raise AssertionError(f"expected a ClientError, got success: {result!r}")


def expect_error(call, code: str, status: int | None = None, message: str | None = None, **kwargs):
    exc = error_of(call, **kwargs)
    err = exc.response.get("Error", {})
    got_status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    assert err.get("Code") == code, f"expected {code}, got {err.get('Code')} ({got_status}): {err.get('Message')}"
    if status is not None:
        assert got_status == status, f"{code}: expected HTTP {status}, got {got_status}"
    if message is not None:
        assert message in (err.get("Message") or ""), f"{code}: message {err.get('Message')!r} lacks {message!r}"
    return exc


def import_findings(client, findings: list[dict]) -> dict:
    """BatchImportFindings in chunks of 100; asserts every finding was accepted."""
    total = {"SuccessCount": 0, "FailedCount": 0, "FailedFindings": []}
    for start in range(0, len(findings), 100):
        resp = client.batch_import_findings(Findings=findings[start:start + 100])
        total["SuccessCount"] += resp["SuccessCount"]
        total["FailedCount"] += resp["FailedCount"]
        total["FailedFindings"] += resp.get("FailedFindings", [])
    assert total["FailedCount"] == 0, f"import failures: {total['FailedFindings']}"
    assert total["SuccessCount"] == len(findings), total
    return total


def get_all_findings(client, filters: dict | None = None, sort=None, page_size: int = 100) -> list[dict]:
    kwargs = {"Filters": filters or {}}
    if sort:
        kwargs["SortCriteria"] = sort
    out = []
    for page in client.get_paginator("get_findings").paginate(
        PaginationConfig={"PageSize": page_size}, **kwargs
    ):
        out.extend(page["Findings"])
    return out


def get_one(client, finding: dict) -> dict:
    found = client.get_findings(
        Filters={
            "Id": [{"Value": finding["Id"], "Comparison": "EQUALS"}],
            "ProductArn": [{"Value": finding["ProductArn"], "Comparison": "EQUALS"}],
        }
    )["Findings"]
    assert len(found) == 1, f"expected exactly one finding {finding['Id']}, got {len(found)}"
    return found[0]


# --------------------------------------------------------------------------------------------
# Raw HTTP and SigV4


def http_request(endpoint: str, method: str, path: str, body: bytes | str | None = None,
                 headers: dict | None = None, timeout: float = 10.0):
    """Plain HTTP request; returns (status, headers with lower-cased names, body bytes)."""
    host, port = endpoint.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        if isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def signed_request(endpoint: str, method: str, path: str, body: bytes | str | None, key_id: str,
                   secret: str, *, when: dt.datetime | None = None, region: str = REGION,
                   service: str = SERVICE, content_type: str = "application/json"):
    """SigV4-signs a request with botocore's signer (optionally at a frozen time) and sends it."""
    if isinstance(body, str):
        body = body.encode()
    url = endpoint + path
    request = AWSRequest(method=method, url=url, data=body or b"",
                         headers={"Content-Type": content_type} if body else {})
    signer = botocore.auth.SigV4Auth(Credentials(key_id, secret), service, region)
    if when is None:
        signer.add_auth(request)
    else:
        frozen = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
        with mock.patch("botocore.auth.get_current_datetime", return_value=frozen):
            signer.add_auth(request)
    headers = {k: v for k, v in request.headers.items()}
    return http_request(endpoint, method, path, body, headers)


def parse_error(status: int, headers: dict, body: bytes) -> dict:
    """Returns a summary of an AWS-style error response."""
    try:
        doc = json.loads(body or b"{}")
    except ValueError:
        doc = {"<unparsable body>": body[:200].decode(errors="replace")}
    return {"status": status, "header": headers.get("x-amzn-errortype"), "body": doc}


def error_code_from_header(value: str | None) -> str | None:
    if value is None:
        return None
    return value.split(":", 1)[0].split("#")[-1]


# --------------------------------------------------------------------------------------------
# The server process


class Fleetward:
    """One `fleetward serve` process on a data dir."""

    API_LINE = re.compile(r"^  API:\s+http://(\S+)\s+\(region (\S+)\)\s*$", re.M)
    CRED_LINE = re.compile(r"^  Credentials: (.+?)\s*$", re.M)

    def __init__(self, data_dir: Path, log_path: Path, *, port: int | None = None,
                 region: str = REGION, extra_args: list[str] | None = None):
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.port = port or free_port()
        self.region = region
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen | None = None
        self._log = None

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"http://{self.addr}"

    @property
    def credentials_path(self) -> Path:
        return self.data_dir / "credentials"

    @property
    def config_path(self) -> Path:
        return self.data_dir / "config"

    def start(self, timeout: float = 30.0) -> "Fleetward":
        binary = fleetward_bin()
        if not binary.exists():
            raise RuntimeError(f"FLEETWARD_BIN {binary} does not exist (run `cargo build` first)")
        cmd = [str(binary), "serve", "--data-dir", str(self.data_dir), "--api-addr", self.addr,
               "--region", self.region, *self.extra_args]
        env = clean_env()
        env.setdefault("RUST_LOG", "info")
        env["RUST_BACKTRACE"] = "1"
        self._log = open(self.log_path, "ab")
        self._log.write(f"\n=== {' '.join(cmd)}\n".encode())
        self._log.flush()
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"fleetward exited with {self.proc.returncode} during start:\n{self.log()}")
            try:
                status, _, body = http_request(self.endpoint, "GET", "/health", timeout=1.0)
                if status == 200 and self.API_LINE.search(self.log()):
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"fleetward did not become healthy within {timeout}s:\n{self.log()}")
            time.sleep(0.05)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Sends `sig` and waits; returns the exit code (kills and fails on timeout)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"fleetward did not stop within {timeout}s of signal {sig}")
        self._close_log()
        return self.proc.returncode

    def _database_args(self) -> list[str]:
        """`admin` must use the same database as the server."""
        if "--database-url" in self.extra_args:
            i = self.extra_args.index("--database-url")
            return self.extra_args[i:i + 2]
        return []

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._close_log()

    def _close_log(self):
        if self._log is not None:
            self._log.close()
            self._log = None

    def read_credentials(self, profile: str = "default") -> tuple[str, str]:
        parser = configparser.ConfigParser()
        parser.read(self.credentials_path)
        section = parser[profile]
        return section["aws_access_key_id"], section["aws_secret_access_key"]

    def client(self, key_id: str | None = None, secret: str | None = None, **kwargs):
        if key_id is None:
            key_id, secret = self.read_credentials()
        return make_client(self.endpoint, key_id, secret, **kwargs)

    def admin(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(fleetward_bin()), "admin", "--data-dir", str(self.data_dir), *self._database_args(), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=clean_env())
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def aws(self, *args: str, check: bool = True, env_extra: dict | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Runs `aws ARGS --output json` with the data dir's credentials and config files."""
        env = clean_env()
        env.update({
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials_path),
            "AWS_CONFIG_FILE": str(self.config_path),
            "AWS_PAGER": "",
            "AWS_DEFAULT_OUTPUT": "json",
        })
        env.update(env_extra or {})
        cmd = [aws_cli_bin(), *args, "--output", "json"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env,
                              cwd=str(cwd) if cwd else None)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def aws_json(self, *args: str, **kwargs):
        proc = self.aws(*args, **kwargs)
        return json.loads(proc.stdout) if proc.stdout.strip() else None


def clean_env() -> dict:
    """The environment without any AWS_* settings of the machine running the tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


@contextlib.contextmanager
def running(data_dir: Path, log_path: Path, **kwargs):
    """A server for one test; stopped with SIGTERM at the end (exit code must be 0)."""
    server = Fleetward(data_dir, log_path, **kwargs).start()
    try:
        yield server
    finally:
        if server.proc is not None and server.proc.poll() is None:
            code = server.stop()
            assert code == 0, f"fleetward exited with {code} on SIGTERM:\n{server.log()[-3000:]}"


# --------------------------------------------------------------------------------------------
# AWS IoT registry helpers (the `iot` 2015-05-28 API). The X.509 helpers import `cryptography`
# lazily so that the rest of the suite does not depend on it.

IOT_SERVICE = "iot"


def iot_arn(account: str, kind: str, name: str) -> str:
    """`arn:aws:iot:REGION:ACCOUNT:KIND/NAME` (kind: thing, thinggroup, thingtype, cert, cacert,
    policy, rolealias, topic, topicfilter, client)."""
    return f"arn:aws:iot:{REGION}:{account}:{kind}/{name}"


def unique(prefix: str = "t") -> str:
    """A name that no other test uses; valid for things, groups, types, policies and role aliases."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def policy_document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(actions, resources) -> dict:
    return {"Effect": "Allow", "Action": actions, "Resource": resources}


def deny(actions, resources) -> dict:
    return {"Effect": "Deny", "Action": actions, "Resource": resources}


def expect_error_one_of(call, codes, status: int | None = None, **kwargs) -> ClientError:
    """Like `expect_error` where AWS documents the failure but not the exact error code."""
    exc = error_of(call, **kwargs)
    err = exc.response.get("Error", {})
    got_status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    assert err.get("Code") in set(codes), f"expected one of {sorted(codes)}, got {err.get('Code')} ({got_status})"
    if status is not None:
        assert got_status == status, f"{err.get('Code')}: expected HTTP {status}, got {got_status}"
    return exc


def collect_pages(call, items_key: str, *, size: int, size_param: str = "maxResults",
                  token_param: str = "nextToken", token_field: str = "nextToken", max_pages: int = 200,
                  **kwargs) -> tuple[list, int]:
    """Follows a list operation's tokens to the end with page size `size`.

    Asserts that no page is larger than `size`, that the first page is full when there is more
    than one page, and that no token repeats. Returns (all items, number of pages)."""
    items: list = []
    pages = 0
    seen: set = set()
    token = None
    while True:
        args = dict(kwargs)
        args[size_param] = size
        if token is not None:
            args[token_param] = token
        resp = call(**args)
        page = resp.get(items_key, [])
        assert len(page) <= size, f"page {pages + 1} has {len(page)} items, more than {size}"
        items.extend(page)
        pages += 1
        token = resp.get(token_field)
        if not token:
            break
        if pages == 1:
            assert len(page) == size, f"first page has {len(page)} items but a {token_field} follows"
        assert token not in seen, f"{token_field} {token!r} repeated"
        seen.add(token)
        assert pages < max_pages, "too many pages"
    return items, pages


def pem_to_der(pem: str) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)


def cert_id_of(pem: str) -> str:
    """The AWS certificate id: lowercase hex SHA-256 of the certificate's DER encoding."""
    return hashlib.sha256(pem_to_der(pem)).hexdigest()


def load_cert(pem: str):
    from cryptography import x509

    return x509.load_pem_x509_certificate(pem.encode())


def cert_pem(cert) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.PEM).decode()


def public_key_der(key_or_cert) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    public = key_or_cert.public_key()
    return public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def new_key(kind: str = "p256"):
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if kind == "p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    raise ValueError(kind)


def _name(cn: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Fleetward interop"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def build_cert(subject_cn: str, key, issuer_cn: str | None = None, issuer_key=None, *, ca: bool = False,
               days: int = 365):
    """An X.509 certificate for `key`, signed by `issuer_key` (self-signed when None)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject_cn))
        .issuer_name(_name(issuer_cn or subject_cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False), critical=True)
    return builder.sign(issuer_key or key, hashes.SHA256())


class TestCA:
    """A certificate authority of the test's own (the customer's CA in AWS terms)."""

    __test__ = False  # not a pytest test class

    def __init__(self, cn: str | None = None, kind: str = "p256"):
        self.cn = cn or f"Interop CA {uuid.uuid4().hex[:8]}"
        self.key = new_key(kind)
        self.cert = build_cert(self.cn, self.key, ca=True)
        self.pem = cert_pem(self.cert)
        self.id = cert_id_of(self.pem)

    def issue(self, cn: str | None = None, key=None):
        """(key, PEM) of a device certificate signed by this CA."""
        key = key or new_key()
        cert = build_cert(cn or f"device-{uuid.uuid4().hex[:8]}", key, self.cn, self.key)
        return key, cert_pem(cert)

    def verification_cert(self, registration_code: str) -> str:
        """The private-key verification certificate: CN = registration code, signed by this CA."""
        return self.issue(cn=registration_code)[1]


def self_signed_device_cert(cn: str | None = None) -> str:
    key = new_key()
    return cert_pem(build_cert(cn or f"device-{uuid.uuid4().hex[:8]}", key))


def make_csr(key, cn: str = "device") -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding

    csr = x509.CertificateSigningRequestBuilder().subject_name(_name(cn)).sign(key, hashes.SHA256())
    return csr.public_bytes(Encoding.PEM).decode()


def assert_chains_to_root(device_pem: str, data_dir: Path) -> list:
    """Checks that `device_pem` chains up to DATA_DIR/root-ca.pem (through DATA_DIR/issuing-ca.pem
    when that is the issuer), verifying each signature; returns the chain from the leaf up."""
    from cryptography import x509

    root = x509.load_pem_x509_certificate((data_dir / "root-ca.pem").read_bytes())
    root.verify_directly_issued_by(root)  # the root is self-signed
    candidates = [root]
    issuing_path = data_dir / "issuing-ca.pem"
    if issuing_path.exists():
        candidates.insert(0, x509.load_pem_x509_certificate(issuing_path.read_bytes()))
    chain = [load_cert(device_pem)]
    now = dt.datetime.now(dt.timezone.utc)
    for _ in range(4):
        current = chain[-1]
        assert current.not_valid_before_utc <= now <= current.not_valid_after_utc, \
            f"{current.subject.rfc4514_string()} is not valid now"
        if current == root:
            return chain
        issuers = [c for c in candidates if c.subject == current.issuer and c != current]
        assert issuers, f"no CA in the data dir issued {current.subject.rfc4514_string()} " \
                        f"(issuer {current.issuer.rfc4514_string()})"
        current.verify_directly_issued_by(issuers[0])
        chain.append(issuers[0])
    raise AssertionError("certificate chain too long")
