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
import threading
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
                 region: str = REGION, extra_args: list[str] | None = None, mqtt_port: int | None = None):
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.port = port or free_port()
        # The device gateway's port (`--mqtt-addr`), free like the API's so that servers started
        # side by side never fight over 8883.
        self.mqtt_port = mqtt_port or free_port()
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
    def mqtt_addr(self) -> tuple[str, int]:
        """(host, port) of the device gateway (MQTT over TLS)."""
        return ("127.0.0.1", self.mqtt_port)

    @property
    def root_ca_path(self) -> Path:
        """The CA file devices trust for the gateway's server certificate."""
        return self.data_dir / "root-ca.pem"

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
        if "--mqtt-addr" not in self.extra_args and serve_has_mqtt_addr(binary):
            cmd += ["--mqtt-addr", "%s:%d" % self.mqtt_addr]
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


_SERVE_HELP: dict[str, str] = {}


def serve_has_mqtt_addr(binary: Path) -> bool:
    """Whether `fleetward serve` takes `--mqtt-addr` (read once per binary from `serve --help`;
    FLEETWARD_GATEWAY=1 forces it on)."""
    if os.environ.get("FLEETWARD_GATEWAY") == "1":
        return True
    key = str(binary)
    if key not in _SERVE_HELP:
        try:
            proc = subprocess.run([key, "serve", "--help"], capture_output=True, text=True, timeout=30,
                                  env=clean_env())
            _SERVE_HELP[key] = proc.stdout + proc.stderr
        except (OSError, subprocess.TimeoutExpired):
            _SERVE_HELP[key] = ""
    return "--mqtt-addr" in _SERVE_HELP[key]


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


# --------------------------------------------------------------------------------------------
# Device gateway (MQTT 3.1.1 and 5 over mutual TLS). paho-mqtt is imported lazily, so that the
# rest of the suite does not depend on it.

MQTT311 = 4
MQTT5 = 5

# MQTT 5 reason codes the gateway tests look for (MQTT 5.0 section 2.4).
RC_SUCCESS = 0x00
RC_GRANTED_QOS_1 = 0x01
RC_UNSPECIFIED = 0x80
RC_NOT_AUTHORIZED = 0x87
RC_CLIENT_ID_INVALID = 0x85
RC_SESSION_TAKEN_OVER = 0x8E
RC_TOPIC_FILTER_INVALID = 0x8F
RC_TOPIC_NAME_INVALID = 0x90
RC_PACKET_TOO_LARGE = 0x95
RC_QOS_NOT_SUPPORTED = 0x9B

# MQTT 3.1.1 CONNACK return codes (section 3.2.2.3).
CONNACK_311_IDENTIFIER_REJECTED = 2
CONNACK_311_NOT_AUTHORIZED = 5

# paho reports an MQTT 3.1.1 CONNACK return code as the matching MQTT 5 reason code; this maps
# the reason's name back to the 3.1.1 return code that was on the wire.
_CONNACK_311 = {"Success": 0, "Unsupported protocol version": 1, "Client identifier not valid": 2,
                "Server unavailable": 3, "Bad user name or password": 4, "Not authorized": 5}

ALLOW_ALL_IOT = json.dumps({"Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})


def gateway_listening(addr: tuple[str, int], timeout: float = 5.0) -> bool:
    """Whether something accepts TCP connections on `addr` within `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(addr, timeout=1.0):
                return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)


def unique_topic(prefix: str = "gw") -> str:
    return f"{prefix}/{uuid.uuid4().hex[:12]}"


def unique_client_id(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


class Device:
    """A device as AWS IoT knows it: a registered certificate (files on disk), optionally a thing
    attached to it, and the policies attached to the certificate."""

    def __init__(self, account: str, cert_id: str, cert_arn: str, cert_path: Path, key_path: Path,
                 thing: str | None, policies: list[str]):
        self.account = account
        self.cert_id = cert_id
        self.cert_arn = cert_arn
        self.cert_path = cert_path
        self.key_path = key_path
        self.thing = thing
        self.policies = policies

    @property
    def client_id(self) -> str:
        """The thing name when there is a thing (AWS's recommended client id), else a fresh id."""
        return self.thing or unique_client_id()

    def arn(self, kind: str, name: str) -> str:
        return iot_arn(self.account, kind, name)

    def __repr__(self) -> str:
        return f"Device(account={self.account}, thing={self.thing}, cert={self.cert_id[:12]})"


def _write_private(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def provision_device(iot, account: str, directory: Path, *, policy: str | None = ALLOW_ALL_IOT,
                     thing: bool | str | None = True, active: bool = True,
                     cert_pem: str | None = None, key_pem: str | None = None,
                     ca_pem: str | None = None) -> Device:
    """Registers a device in `account` through the `iot` API and writes its files to `directory`.

    Without `cert_pem` the certificate comes from CreateKeysAndCertificate (Fleetward's CA);
    with it, RegisterCertificate (with `ca_pem` when given). `thing`: True for a new thing with a
    unique name, a string for that name (created if missing), None/False for no thing. `policy`:
    a policy document to create and attach to the certificate (None: no policy)."""
    directory.mkdir(parents=True, exist_ok=True)
    if cert_pem is None:
        resp = iot.create_keys_and_certificate(setAsActive=active)
        cert_pem, key_pem = resp["certificatePem"], resp["keyPair"]["PrivateKey"]
        cert_id, cert_arn = resp["certificateId"], resp["certificateArn"]
    else:
        kwargs = {"certificatePem": cert_pem, "status": "ACTIVE" if active else "INACTIVE"}
        if ca_pem is not None:
            kwargs["caCertificatePem"] = ca_pem
        resp = iot.register_certificate(**kwargs)
        cert_id, cert_arn = resp["certificateId"], resp["certificateArn"]
    stem = cert_id[:16]
    cert_path = _write_private(directory / f"{stem}.pem", cert_pem)
    key_path = _write_private(directory / f"{stem}.key", key_pem)
    thing_name = None
    if thing:
        thing_name = unique("thing") if thing is True else thing
        try:
            iot.create_thing(thingName=thing_name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceAlreadyExistsException":
                raise
        iot.attach_thing_principal(thingName=thing_name, principal=cert_arn)
    policies = []
    if policy is not None:
        name = unique("gwpol")
        iot.create_policy(policyName=name, policyDocument=policy)
        iot.attach_policy(policyName=name, target=cert_arn)
        policies.append(name)
    return Device(account, cert_id, cert_arn, cert_path, key_path, thing_name, policies)


def key_pem_of(key) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


class Connack:
    """What the server answered to CONNECT. `reason` is the MQTT 5 reason code, or for MQTT 3.1.1
    the CONNACK return code as it was on the wire."""

    def __init__(self, reason: int, session_present: bool, properties):
        self.reason = reason
        self.session_present = session_present
        self.properties = properties

    def prop(self, name: str, default=None):
        return getattr(self.properties, name, default) if self.properties is not None else default

    def __repr__(self) -> str:
        return f"Connack(reason=0x{self.reason:02x}, session_present={self.session_present})"


class Disconnect:
    """How a connection ended: `from_server` is True when the server sent a DISCONNECT packet
    (MQTT 5), whose reason code is then `reason`; otherwise the socket was closed."""

    def __init__(self, from_server: bool, reason: int | None, at: float):
        self.from_server = from_server
        self.reason = reason
        self.at = at

    def __repr__(self) -> str:
        reason = "-" if self.reason is None else f"0x{self.reason:02x}"
        return f"Disconnect(from_server={self.from_server}, reason={reason})"


class Message:
    def __init__(self, msg, at: float):
        self.topic = msg.topic
        self.payload = bytes(msg.payload)
        self.qos = msg.qos
        self.retain = bool(msg.retain)
        self.properties = getattr(msg, "properties", None)
        self.at = at

    def prop(self, name: str, default=None):
        return getattr(self.properties, name, default) if self.properties is not None else default

    def __repr__(self) -> str:
        return f"Message({self.topic!r}, {self.payload[:40]!r}, qos={self.qos}, retain={self.retain})"


class MqttClient:
    """A paho-mqtt client on its own network thread, with blocking, deadline-bounded helpers.

    The thread drives `client.loop()` itself and never reconnects (paho's `loop_start` would,
    which would turn a takeover or a denial into a reconnect loop). Every wait has a timeout."""

    def __init__(self, addr: tuple[str, int], *, ca: Path, cert: Path | None = None, key: Path | None = None,
                 client_id: str = "", version: int = MQTT5, clean: bool = True,
                 session_expiry: int | None = None, keepalive: int = 30, will: dict | None = None,
                 connect_properties: dict | None = None):
        import ssl

        import paho.mqtt.client as mqtt

        self.addr = addr
        self.client_id = client_id
        self.version = version
        self.clean = clean
        self.session_expiry = session_expiry
        self.keepalive = keepalive
        self.connect_properties = connect_properties or {}
        self.connack: Connack | None = None
        self.disconnect_info: Disconnect | None = None
        self.error: BaseException | None = None
        self._cond = threading.Condition()
        self._subacks: dict[int, list[int]] = {}
        self._unsubacks: dict[int, list[int]] = {}
        self._pubacks: dict[int, int] = {}
        self._messages: list[Message] = []
        self.received: list[Message] = []  # everything ever received, in order
        self.log: list[str] = []  # paho's own log, for failure messages
        self._stop = threading.Event()
        self._thread = None
        protocol = mqtt.MQTTv5 if version == MQTT5 else mqtt.MQTTv311
        kwargs = {"clean_session": clean} if version == MQTT311 else {}
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=protocol,
                                  reconnect_on_failure=False, **kwargs)
        self.client.connect_timeout = 5.0
        self.client.tls_set(ca_certs=str(ca), certfile=str(cert) if cert else None,
                            keyfile=str(key) if key else None, cert_reqs=ssl.CERT_REQUIRED,
                            tls_version=ssl.PROTOCOL_TLS_CLIENT)
        if will:
            self.client.will_set(will["topic"], will.get("payload"), will.get("qos", 0), will.get("retain", False),
                                 self._properties("WILLMESSAGE", will.get("properties")))
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_unsubscribe = self._on_unsubscribe
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        self.client.on_log = self._on_log

    # -- paho callbacks (network thread)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if self.version == MQTT311:
            code = _CONNACK_311.get(reason_code.getName(), 0xFF)
        else:
            code = reason_code.value
        with self._cond:
            self.connack = Connack(code, bool(flags.session_present), properties)
            self._cond.notify_all()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        with self._cond:
            if self.disconnect_info is None:
                from_server = bool(flags.is_disconnect_packet_from_server)
                reason = reason_code.value if from_server and reason_code is not None else None
                self.disconnect_info = Disconnect(from_server, reason, time.monotonic())
            self._cond.notify_all()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        with self._cond:
            self._subacks[mid] = [rc.value for rc in reason_codes]
            self._cond.notify_all()

    def _on_unsubscribe(self, client, userdata, mid, reason_codes, properties):
        with self._cond:
            self._unsubacks[mid] = [rc.value for rc in reason_codes or []]
            self._cond.notify_all()

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        with self._cond:
            self._pubacks[mid] = reason_code.value if reason_code is not None else 0
            self._cond.notify_all()

    def _on_log(self, client, userdata, level, text):
        self.log.append(text[:300])
        del self.log[:-12]

    def _on_message(self, client, userdata, msg):
        with self._cond:
            message = Message(msg, time.monotonic())
            self._messages.append(message)
            self.received.append(message)
            self._cond.notify_all()

    def _run(self):
        import paho.mqtt.client as mqtt

        while not self._stop.is_set():
            try:
                rc = self.client.loop(timeout=0.05)
            except Exception as exc:  # noqa: BLE001 - any failure ends the connection
                with self._cond:
                    self.error = self.error or exc
                    if self.disconnect_info is None:
                        self.disconnect_info = Disconnect(False, None, time.monotonic())
                    self._cond.notify_all()
                return
            if rc != mqtt.MQTT_ERR_SUCCESS:
                with self._cond:
                    if self.disconnect_info is None:
                        self.disconnect_info = Disconnect(False, None, time.monotonic())
                    self._cond.notify_all()
                return

    def _properties(self, packet: str, values: dict | None):
        if self.version != MQTT5 or not values:
            return None
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        props = Properties(getattr(PacketTypes, packet))
        for name, value in values.items():
            setattr(props, name, value)
        return props

    def _wait(self, predicate, timeout: float):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    return value
                self._cond.wait(min(left, 0.1))

    # -- connection

    def connect(self, timeout: float = 5.0) -> "MqttClient":
        """Opens TCP + TLS, sends CONNECT and waits for the CONNACK or the end of the connection
        (up to `timeout`). Never raises for a refused connection: look at `connack`, `error`,
        `disconnect_info` (or use `connected`)."""
        import paho.mqtt.client as mqtt

        props = dict(self.connect_properties)
        if self.session_expiry is not None:
            props["SessionExpiryInterval"] = self.session_expiry
        kwargs = {}
        if self.version == MQTT5:
            kwargs = {"clean_start": self.clean, "properties": self._properties("CONNECT", props)}
        try:
            rc = self.client.connect(self.addr[0], self.addr[1], keepalive=self.keepalive, **kwargs)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            self.error = exc
            self.disconnect_info = Disconnect(False, None, time.monotonic())
            return self
        if rc != mqtt.MQTT_ERR_SUCCESS:
            self.error = RuntimeError(f"paho connect returned {rc}")
            self.disconnect_info = Disconnect(False, None, time.monotonic())
            return self
        self._thread = threading.Thread(target=self._run, name=f"mqtt-{self.client_id}", daemon=True)
        # Tell paho a network thread exists, so that publish/subscribe from the test's thread only
        # queue packets for it: paho would otherwise write to the TLS socket from the caller's
        # thread while ours reads from it, and an SSL object must not be used from two threads.
        self.client._thread = self._thread
        self._thread.start()
        self._wait(lambda: self.connack is not None or self.disconnect_info is not None, timeout)
        return self

    @property
    def connected(self) -> bool:
        return self.connack is not None and self.connack.reason == 0 and self.disconnect_info is None

    def describe(self) -> str:
        return (f"client {self.client_id!r} (MQTT {'5' if self.version == MQTT5 else '3.1.1'}): "
                f"connack={self.connack}, disconnect={self.disconnect_info}, error={self.error!r}; "
                f"paho log tail: {self.log[-6:]}")

    def expect_connected(self, timeout: float = 5.0) -> Connack:
        if self.connack is None and self.disconnect_info is None:
            self._wait(lambda: self.connack is not None or self.disconnect_info is not None, timeout)
        assert self.connected, f"expected a successful CONNACK: {self.describe()}"
        return self.connack

    def expect_refused_at_tls(self, timeout: float = 5.0) -> None:
        """The connection must end without any CONNACK (a failed TLS handshake; with TLS 1.3 the
        client learns of the rejected certificate only when it next reads)."""
        self._wait(lambda: self.disconnect_info is not None, timeout)
        assert self.connack is None, f"expected the TLS handshake to fail, got a CONNACK: {self.describe()}"
        assert self.disconnect_info is not None, f"connection still open after {timeout}s: {self.describe()}"

    def wait_disconnected(self, timeout: float = 5.0) -> Disconnect:
        self._wait(lambda: self.disconnect_info is not None, timeout)
        assert self.disconnect_info is not None, f"still connected after {timeout}s: {self.describe()}"
        return self.disconnect_info

    def still_connected_after(self, seconds: float) -> bool:
        self._wait(lambda: self.disconnect_info is not None, seconds)
        return self.disconnect_info is None

    def disconnect(self, timeout: float = 3.0) -> None:
        """A clean MQTT DISCONNECT (no last will)."""
        if self.connected:
            self.client.disconnect()
            self._wait(lambda: self.disconnect_info is not None, timeout)
        self._halt()

    def drop(self) -> None:
        """Ends the connection without DISCONNECT, as a crashed device would (the TCP connection is
        shut down under TLS, so the server sees the socket close)."""
        self._halt()
        sock = self.client.socket()
        if sock is not None:
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                socket.socket.close(sock)
            except OSError:
                pass
        with self._cond:
            if self.disconnect_info is None:
                self.disconnect_info = Disconnect(False, None, time.monotonic())
            self._cond.notify_all()

    def _halt(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def close(self) -> None:
        """Teardown: a clean DISCONNECT if still connected, then stop the thread and the socket."""
        try:
            self.disconnect(timeout=1.0)
        except Exception:  # noqa: BLE001 - best effort at teardown
            pass
        self._halt()
        try:
            self.client._sock_close()
        except Exception:  # noqa: BLE001
            pass

    # -- subscribe / publish

    def subscribe_nowait(self, *filters, qos: int = 1, options: dict | None = None,
                         properties: dict | None = None) -> int:
        from paho.mqtt.subscribeoptions import SubscribeOptions

        if self.version == MQTT5:
            items = [(f, SubscribeOptions(qos=qos, **(options or {}))) for f in filters]
        else:
            items = [(f, qos) for f in filters]
        rc, mid = self.client.subscribe(items, properties=self._properties("SUBSCRIBE", properties))
        assert rc == 0, f"paho could not send SUBSCRIBE ({rc}): {self.describe()}"
        return mid

    def suback(self, mid: int, timeout: float = 5.0) -> list[int] | None:
        """The SUBACK's return/reason codes for `mid`, or None if none came within `timeout`."""
        self._wait(lambda: mid in self._subacks or self.disconnect_info is not None, timeout)
        return self._subacks.get(mid)

    def subscribe(self, *filters, qos: int = 1, timeout: float = 5.0, **kwargs) -> list[int]:
        """SUBSCRIBE and wait for the SUBACK; returns one code per filter."""
        mid = self.subscribe_nowait(*filters, qos=qos, **kwargs)
        codes = self.suback(mid, timeout)
        assert codes is not None, f"no SUBACK within {timeout}s for {filters}: {self.describe()}"
        assert len(codes) == len(filters), f"SUBACK has {len(codes)} codes for {len(filters)} filters: {codes}"
        return codes

    def unsubscribe(self, *filters, timeout: float = 5.0) -> list[int]:
        """UNSUBSCRIBE and wait for the UNSUBACK (MQTT 3.1.1: an empty list of codes)."""
        rc, mid = self.client.unsubscribe(list(filters))
        assert rc == 0, f"paho could not send UNSUBSCRIBE ({rc}): {self.describe()}"
        self._wait(lambda: mid in self._unsubacks or self.disconnect_info is not None, timeout)
        assert mid in self._unsubacks, f"no UNSUBACK within {timeout}s for {filters}: {self.describe()}"
        return self._unsubacks[mid]

    def publish_nowait(self, topic: str, payload: bytes | str = b"", qos: int = 0, retain: bool = False,
                       properties: dict | None = None) -> int:
        info = self.client.publish(topic, payload, qos=qos, retain=retain,
                                   properties=self._properties("PUBLISH", properties))
        return info.mid

    def puback(self, mid: int, timeout: float = 5.0) -> int | None:
        """The PUBACK reason code (MQTT 3.1.1: 0) for `mid`, or None if none came in `timeout`."""
        self._wait(lambda: mid in self._pubacks or self.disconnect_info is not None, timeout)
        return self._pubacks.get(mid)

    def publish(self, topic: str, payload: bytes | str = b"", qos: int = 1, retain: bool = False,
                properties: dict | None = None, timeout: float = 5.0) -> int | None:
        """PUBLISH; for QoS 1 waits for the PUBACK and returns its reason code (fails without one),
        for QoS 0 returns None once paho has written the packet."""
        mid = self.publish_nowait(topic, payload, qos=qos, retain=retain, properties=properties)
        if qos == 0:
            self._wait(lambda: mid in self._pubacks or self.disconnect_info is not None, timeout)
            return None
        code = self.puback(mid, timeout)
        assert code is not None, f"no PUBACK within {timeout}s for {topic!r}: {self.describe()}"
        return code

    # -- receiving

    def expect_message(self, topic: str | None = None, timeout: float = 5.0,
                       payload: bytes | None = None) -> Message:
        """Takes the first received message on `topic` (any topic if None, and with `payload` if
        given) from the inbox, waiting up to `timeout`."""

        def find():
            for i, m in enumerate(self._messages):
                if (topic is None or m.topic == topic) and (payload is None or m.payload == payload):
                    return self._messages.pop(i)
            return None

        found = self._wait(find, timeout)
        assert found is not None, (f"no message on {topic!r} within {timeout}s; inbox: {self._messages[:10]}; "
                                   f"{self.describe()}")
        return found

    def inbox(self, topic: str | None = None) -> list[Message]:
        with self._cond:
            return [m for m in self._messages if topic is None or m.topic == topic]

    def drain(self) -> list[Message]:
        with self._cond:
            out, self._messages = self._messages, []
            return out


# -- raw MQTT over TLS (for what a client library does not let a test do, e.g. stay silent)


def tls_socket(addr: tuple[str, int], ca: Path, cert: Path | None, key: Path | None, timeout: float = 5.0):
    import ssl

    ctx = ssl.create_default_context(cafile=str(ca))
    if cert is not None:
        ctx.load_cert_chain(str(cert), str(key))
    raw = socket.create_connection(addr, timeout=timeout)
    return ctx.wrap_socket(raw, server_hostname=addr[0])


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _mqtt_str(s: str | bytes) -> bytes:
    data = s.encode() if isinstance(s, str) else s
    return len(data).to_bytes(2, "big") + data


def mqtt_connect_packet(client_id: str, keepalive: int, version: int = MQTT311, clean: bool = True) -> bytes:
    body = _mqtt_str("MQTT") + bytes([version, 0x02 if clean else 0x00]) + keepalive.to_bytes(2, "big")
    if version == MQTT5:
        body += _varint(0)  # no properties
    body += _mqtt_str(client_id)
    return bytes([0x10]) + _varint(len(body)) + body


PINGREQ = b"\xc0\x00"

# MQTT 5 section 3.4.2.1: the only reason codes a PUBACK may carry.
PUBACK_REASON_CODES = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99}


def mqtt_publish_packet(topic: str, payload: bytes, qos: int = 1, packet_id: int = 1,
                        version: int = MQTT311, retain: bool = False) -> bytes:
    body = _mqtt_str(topic)
    if qos:
        body += packet_id.to_bytes(2, "big")
    if version == MQTT5:
        body += _varint(0)  # no properties
    body += payload
    return bytes([0x30 | qos << 1 | int(retain)]) + _varint(len(body)) + body


def read_mqtt_packet(sock, timeout: float) -> tuple[int, bytes] | None:
    """(first byte, body) of the next packet, or None if the server closed the connection.
    Raises TimeoutError if nothing arrives within `timeout`."""
    import ssl

    sock.settimeout(timeout)

    def read_exact(n: int) -> bytes | None:
        data = b""
        while len(data) < n:
            try:
                chunk = sock.recv(n - len(data))
            except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
                return None
            except socket.timeout as exc:
                raise TimeoutError from exc
            if not chunk:
                return None
            data += chunk
        return data

    head = read_exact(1)
    if head is None:
        return None
    length, shift = 0, 0
    while True:
        b = read_exact(1)
        if b is None:
            return None
        length |= (b[0] & 0x7F) << shift
        shift += 7
        if not b[0] & 0x80:
            break
    body = read_exact(length) if length else b""
    if body is None:
        return None
    return head[0], body


# -- mosquitto command-line clients


def mosquitto_client(name: str) -> str | None:
    """Path of `mosquitto_pub` / `mosquitto_sub` (Debian's mosquitto-clients), or None."""
    return shutil.which(name)
