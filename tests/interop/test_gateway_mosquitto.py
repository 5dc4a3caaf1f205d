"""Device gateway with Debian's mosquitto command-line clients (`mosquitto_pub`, `mosquitto_sub`,
package mosquitto-clients), using `--cafile/--cert/--key` exactly as a user would against AWS IoT.

scripts/test.sh installs the package; without the binaries these tests are skipped.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

import pytest

from support import (
    DEFAULT_ACCOUNT,
    MQTT5,
    MQTT311,
    Device,
    allow,
    build_cert,
    cert_pem,
    iot_arn,
    key_pem_of,
    mosquitto_client,
    new_key,
    policy_document,
    unique,
    unique_client_id,
    unique_topic,
)

MOSQUITTO_PUB = mosquitto_client("mosquitto_pub")
MOSQUITTO_SUB = mosquitto_client("mosquitto_sub")
STDBUF = shutil.which("stdbuf")
pytestmark = pytest.mark.skipif(
    not (MOSQUITTO_PUB and MOSQUITTO_SUB),
    reason="mosquitto_pub/mosquitto_sub not installed (apt-get install mosquitto-clients; scripts/test.sh does)",
)

VERSIONS = pytest.mark.parametrize("version", ["mqttv311", "mqttv5"])
FORMAT = "MSG|%t|%p|%r"  # topic, payload, retain flag


def common_args(gw, device: Device, client_id: str, version: str) -> list[str]:
    host, port = gw.addr
    return ["-h", host, "-p", str(port), "--cafile", str(gw.ca), "--cert", str(device.cert_path),
            "--key", str(device.key_path), "-i", client_id, "-V", version]


def pub(gw, device: Device, topic: str, message: str | None, version: str = "mqttv311",
        client_id: str | None = None, extra: list[str] | None = None) -> subprocess.CompletedProcess:
    args = [MOSQUITTO_PUB, *common_args(gw, device, client_id or unique_client_id("mpub"), version),
            "-t", topic, "-q", "1"]
    args += ["-n"] if message is None else ["-m", message]
    return subprocess.run(args + (extra or []), capture_output=True, text=True, timeout=15)


class Sub:
    """A running mosquitto_sub whose output lines are collected by a thread."""

    def __init__(self, gw, device: Device, filters: list[str], version: str = "mqttv311",
                 count: int = 1, client_id: str | None = None, wait_s: int = 10):
        args = [MOSQUITTO_SUB, *common_args(gw, device, client_id or unique_client_id("msub"), version),
                "-q", "1", "-C", str(count), "-W", str(wait_s), "-d", "-F", FORMAT]
        for f in filters:
            args += ["-t", f]
        if STDBUF:
            args = [STDBUF, "-oL", *args]  # mosquitto_sub block-buffers stdout into a pipe
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_line(self, predicate, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines:
                    if predicate(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"mosquitto_sub: no matching line within {timeout}s; output:\n"
                                         + "\n".join(self.lines))
                self._cond.wait(min(left, 0.1))

    def wait_subscribed(self) -> str:
        return self.wait_line(lambda line: line.startswith("Subscribed (mid"))

    def finish(self, timeout: float = 10.0) -> int:
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise AssertionError("mosquitto_sub did not exit; output:\n" + "\n".join(self.lines))
        self._reader.join(timeout=2)
        return code

    def messages(self) -> list[tuple[str, str, str]]:
        return [tuple(line.split("|", 3)[1:]) for line in self.lines if line.startswith("MSG|")]

    def output(self) -> str:
        return "\n".join(self.lines)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)


@pytest.fixture
def subs():
    started: list[Sub] = []
    yield started
    for sub in started:
        sub.kill()


@VERSIONS
def test_mosquitto_pub_and_sub_round_trip(gw, subs, version):
    topic = unique_topic()
    sub = Sub(gw, gw.device(), [topic], version)
    subs.append(sub)
    sub.wait_subscribed()
    result = pub(gw, gw.device(), topic, "hello from mosquitto", version)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sub.finish() == 0, sub.output()
    assert sub.messages() == [(topic, "hello from mosquitto", "0")], sub.output()


def test_mosquitto_pub_to_paho_subscriber_with_mqtt5_properties(gw):
    topic = unique_topic()
    subscriber = gw.connect(gw.device(), version=MQTT5)
    subscriber.subscribe(topic)
    result = pub(gw, gw.device(), topic, '{"t":1}', "mqttv5",
                 extra=["-D", "publish", "user-property", "origin", "mosquitto",
                        "-D", "publish", "content-type", "application/json"])
    assert result.returncode == 0, result.stdout + result.stderr
    message = subscriber.expect_message(topic)
    assert message.payload == b'{"t":1}'
    assert message.prop("UserProperty") == [("origin", "mosquitto")]
    assert message.prop("ContentType") == "application/json"


def test_paho_pub_to_mosquitto_sub(gw, subs):
    topic = unique_topic()
    sub = Sub(gw, gw.device(), [topic], "mqttv311")
    subs.append(sub)
    sub.wait_subscribed()
    gw.connect(gw.device(), version=MQTT311).publish(topic, b"hello from paho", qos=1)
    assert sub.finish() == 0, sub.output()
    assert sub.messages() == [(topic, "hello from paho", "0")]


def test_mosquitto_retained_message(gw, subs):
    topic = unique_topic()
    device = gw.device()
    result = pub(gw, device, topic, "kept", extra=["-r"])
    assert result.returncode == 0, result.stdout + result.stderr
    sub = Sub(gw, gw.device(), [topic], "mqttv5")
    subs.append(sub)
    assert sub.finish() == 0, sub.output()
    assert sub.messages() == [(topic, "kept", "1")], sub.output()
    result = pub(gw, device, topic, None, extra=["-r"])  # -r -n clears it
    assert result.returncode == 0, result.stdout + result.stderr


@VERSIONS
def test_mosquitto_connect_denied(gw, version):
    allowed = unique_client_id("allowed")
    device = gw.device(policy=policy_document(
        allow("iot:Connect", iot_arn(DEFAULT_ACCOUNT, "client", allowed)), allow("iot:Publish", "*")))
    result = pub(gw, device, unique_topic(), "x", version, client_id=unique_client_id("denied"))
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "not authori" in out.lower(), out
    ok = pub(gw, device, unique_topic(), "x", version, client_id=allowed)
    assert ok.returncode == 0, ok.stdout + ok.stderr


@VERSIONS
def test_mosquitto_subscribe_denied(gw, subs, version):
    base = unique_topic()
    device = gw.device(policy=policy_document(
        allow("iot:Connect", "*"),
        allow("iot:Subscribe", iot_arn(DEFAULT_ACCOUNT, "topicfilter", f"{base}/open")),
        allow("iot:Receive", "*")))
    sub = Sub(gw, device, [f"{base}/closed"], version, wait_s=5)
    subs.append(sub)
    sub.wait_line(lambda line: "All subscription requests were denied" in line)
    sub.finish()


def test_mosquitto_publish_denied_mqtt5(gw):
    base = unique_topic()
    device = gw.device(policy=policy_document(
        allow("iot:Connect", "*"), allow("iot:Publish", iot_arn(DEFAULT_ACCOUNT, "topic", f"{base}/open"))))
    watcher = gw.connect(gw.device())
    watcher.subscribe(f"{base}/#")
    result = pub(gw, device, f"{base}/closed", "denied", "mqttv5")
    out = result.stdout + result.stderr
    assert "Publish 1 failed: Not authorized" in out, out
    ok = pub(gw, device, f"{base}/open", "fine", "mqttv5")
    assert ok.returncode == 0 and "failed" not in ok.stdout + ok.stderr, ok.stdout + ok.stderr
    assert watcher.expect_message(f"{base}/open").payload == b"fine"
    time.sleep(0.2)
    assert b"denied" not in [m.payload for m in watcher.received]


@VERSIONS
def test_mosquitto_with_unregistered_certificate_fails(gw, tmp_path, version):
    key = new_key()
    cert_path, key_path = tmp_path / "stranger.pem", tmp_path / "stranger.key"
    cert_path.write_text(cert_pem(build_cert(unique("stranger"), key)))
    key_path.write_text(key_pem_of(key))
    stranger = Device(DEFAULT_ACCOUNT, "", "", cert_path, key_path, None, [])
    result = pub(gw, stranger, unique_topic(), "x", version)
    assert result.returncode != 0, result.stdout + result.stderr
