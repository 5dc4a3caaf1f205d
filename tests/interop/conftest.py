"""Fixtures for the interop suite.

One `fleetward serve` process (the real binary, `$FLEETWARD_BIN`, default
target/debug/fleetward) is started per test session on a free loopback port in a temporary
data dir; most tests share it and keep out of each other's way by tagging their findings
(`support.scope(tag)`) or by using an account of their own. test_lifecycle.py starts its own
servers. At the end the session server is stopped with SIGTERM and must exit with status 0.
"""

from __future__ import annotations

import itertools
import os
import random
from dataclasses import dataclass

import pytest

import support
from support import DEFAULT_ACCOUNT, Fleetward


def pytest_report_header(config):
    return [f"fleetward binary: {support.fleetward_bin()}", f"aws cli: {support.aws_cli_bin()}",
            f"database: {os.environ.get('FLEETWARD_INTEROP_DATABASE_URL') or 'SQLite in the data dir'}"]


@pytest.fixture(scope="session")
def fw(tmp_path_factory):
    """The shared server: yields the running `Fleetward`, then SIGTERM and expects exit 0."""
    base = tmp_path_factory.mktemp("fleetward")
    extra = []
    if os.environ.get("FLEETWARD_INTEROP_DATABASE_URL"):
        # Run the shared server on another backend, e.g. an empty PostgreSQL database.
        extra = ["--database-url", os.environ["FLEETWARD_INTEROP_DATABASE_URL"]]
    server = Fleetward(base / "data", base / "server.log", extra_args=extra)
    try:
        server.start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    code = server.stop()
    assert code == 0, f"fleetward exited with {code} on SIGTERM; log tail:\n{server.log()[-4000:]}"


@pytest.fixture(scope="session")
def creds(fw):
    """(access key id, secret) of the default account's admin key, from DATA_DIR/credentials."""
    return fw.read_credentials()


@pytest.fixture(scope="session")
def hub(fw, creds):
    """boto3 securityhub client of the default account 000000000000."""
    return fw.client(*creds)


@pytest.fixture(scope="session")
def hub_raw(fw, creds):
    """Same, without botocore's client-side parameter validation (for invalid-input tests)."""
    return fw.client(*creds, validate=False)


@pytest.fixture
def tag():
    return support.new_tag()


@dataclass
class Account:
    account_id: str
    key_id: str
    secret: str
    client: object
    client_raw: object


_used_ids: set[str] = set()


def _fresh_account_id() -> str:
    for _ in itertools.count():
        candidate = str(random.randint(200_000_000_000, 999_999_999_999))
        if candidate not in _used_ids:
            _used_ids.add(candidate)
            return candidate
    raise AssertionError("unreachable")


def create_account(fw: Fleetward, account_id: str, name: str = "", profile: str = "default"):
    """`fleetward admin create-account` + `create-access-key`; returns (key id, secret)."""
    args = ["create-account", "--account-id", account_id]
    if name:
        args += ["--name", name]
    fw.admin(*args)
    out = fw.admin("create-access-key", "--account-id", account_id, "--profile", profile).stdout
    return parse_key_block(out, profile)


def parse_key_block(text: str, profile: str) -> tuple[str, str]:
    import configparser

    parser = configparser.ConfigParser()
    parser.read_string(text)
    assert parser.sections() == [profile], f"expected one [{profile}] block, got:\n{text}"
    section = parser[profile]
    return section["aws_access_key_id"], section["aws_secret_access_key"]


@pytest.fixture(scope="session")
def make_account(fw):
    """Factory: a new account with its own access key, the hub enabled unless enable=False."""

    def factory(enable: bool = True, name: str = "") -> Account:
        account_id = _fresh_account_id()
        key_id, secret = create_account(fw, account_id, name)
        account = Account(account_id, key_id, secret, fw.client(key_id, secret),
                          fw.client(key_id, secret, validate=False))
        if enable:
            account.client.enable_security_hub(EnableDefaultStandards=False)
        return account

    return factory


@pytest.fixture(scope="session")
def default_account():
    return DEFAULT_ACCOUNT


# --------------------------------------------------------------------------------------------
# AWS IoT registry (`iot` API) fixtures


@pytest.fixture(scope="session")
def iot(fw, creds):
    """boto3 iot client of the default account 000000000000."""
    return fw.client(*creds, service="iot")


@pytest.fixture(scope="session")
def iot_raw(fw, creds):
    """Same, without botocore's client-side parameter validation (for invalid-input tests)."""
    return fw.client(*creds, service="iot", validate=False)


@dataclass
class IotAccount:
    account_id: str
    key_id: str
    secret: str
    iot: object
    iot_raw: object

    def arn(self, kind: str, name: str) -> str:
        return support.iot_arn(self.account_id, kind, name)


@pytest.fixture(scope="session")
def make_iot_account(fw, make_account):
    """Factory: a new account (Security Hub not enabled) with iot clients, for tests that need
    exact listings, ordering or a second tenant."""

    def factory(name: str = "") -> IotAccount:
        account = make_account(enable=False, name=name)
        return IotAccount(
            account.account_id, account.key_id, account.secret,
            fw.client(account.key_id, account.secret, service="iot"),
            fw.client(account.key_id, account.secret, service="iot", validate=False),
        )

    return factory


# --------------------------------------------------------------------------------------------
# Device gateway (MQTT over mutual TLS) fixtures


@pytest.fixture(scope="session")
def gateway(fw):
    """(host, port) of the session server's device gateway (`--mqtt-addr`, a free port).

    Fails when nothing listens there; FLEETWARD_GATEWAY=0 skips the gateway tests instead (for a
    binary built before the gateway existed)."""
    if os.environ.get("FLEETWARD_GATEWAY") == "0":
        pytest.skip("FLEETWARD_GATEWAY=0: device gateway tests disabled")
    try:
        import paho.mqtt.client  # noqa: F401
    except ImportError:
        pytest.fail("paho-mqtt is not installed (pip install -r tests/interop/requirements.txt)", pytrace=False)
    addr = fw.mqtt_addr
    if not support.gateway_listening(addr, timeout=5.0):
        pytest.fail(f"the device gateway does not accept connections on {addr[0]}:{addr[1]} "
                    f"(set FLEETWARD_GATEWAY=0 to skip these tests); server log tail:\n{fw.log()[-3000:]}",
                    pytrace=False)
    return addr


class GatewayKit:
    """Per-test helper: registers devices (certificate files in the test's tmp dir, optional thing,
    policy) and opens paho clients to the gateway; every client is closed at the end of the test."""

    def __init__(self, fw: Fleetward, iot, account: str, directory):
        self.fw = fw
        self.iot = iot
        self.account = account
        self.directory = directory
        self.addr = fw.mqtt_addr
        self.ca = fw.root_ca_path
        self.clients: list[support.MqttClient] = []

    def device(self, policy: str | None = support.ALLOW_ALL_IOT, thing=True, *, iot=None,
               account: str | None = None, **kwargs) -> support.Device:
        return support.provision_device(iot or self.iot, account or self.account, self.directory,
                                        policy=policy, thing=thing, **kwargs)

    def client(self, device: support.Device | None, client_id: str | None = None,
               version: int = support.MQTT5, **kwargs) -> support.MqttClient:
        """An unconnected client with `device`'s certificate (None: no client certificate)."""
        cert = device.cert_path if device else None
        key = device.key_path if device else None
        if client_id is None:
            client_id = device.client_id if device else support.unique_client_id()
        c = support.MqttClient(self.addr, ca=self.ca, cert=cert, key=key, client_id=client_id,
                               version=version, **kwargs)
        self.clients.append(c)
        return c

    def connect(self, device: support.Device | None, client_id: str | None = None,
                version: int = support.MQTT5, **kwargs) -> support.MqttClient:
        """A client that must get a successful CONNACK."""
        c = self.client(device, client_id, version, **kwargs).connect()
        c.expect_connected()
        return c

    def close_all(self) -> None:
        for c in self.clients:
            c.close()


@pytest.fixture
def gw(fw, gateway, iot, tmp_path):
    """GatewayKit on the default account (use `gw.device(iot=..., account=...)` for another)."""
    kit = GatewayKit(fw, iot, DEFAULT_ACCOUNT, tmp_path / "devices")
    yield kit
    kit.close_all()
