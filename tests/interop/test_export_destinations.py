"""The other destinations: the Firehose HTTP-endpoint protocol (request id stable across
retries, gzip, access key, common attributes), local files, syslog to a real rsyslog on
loopback over TCP and TLS (RFC 5424, octet counting; JSON, CEF and LEEF), and the external HTTP transform."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import support
from hec_support import FirehoseHttpReceiver, http_config, stream_name


@pytest.fixture(scope="module")
def firehose(fw, creds):
    return fw.client(*creds, service="firehose")


@pytest.fixture
def receiver():
    r = FirehoseHttpReceiver().start()
    yield r
    r.stop()


def test_http_endpoint_protocol_with_gzip_and_a_stable_request_id(firehose, receiver):
    receiver.failures = [500, 503]
    name = stream_name("http")
    arn = firehose.create_delivery_stream(DeliveryStreamName=name, HttpEndpointDestinationConfiguration=http_config(
        receiver.url, gzip=True))["DeliveryStreamARN"]
    try:
        d = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
        http = d["Destinations"][0]["HttpEndpointDestinationDescription"]
        assert http["EndpointConfiguration"] == {"Url": receiver.url, "Name": "siem"}  # no AccessKey
        assert http["BufferingHints"] == {"IntervalInSeconds": 0, "SizeInMBs": 1}
        firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"one"}, {"Data": b"two"}])
        support.wait_until(lambda: len(receiver.requests) >= 3, timeout=20, what="two retries and a success")
        ids = {h["x-amz-firehose-request-id"] for h, _ in receiver.requests}
        assert len(ids) == 1, "the request id must stay the same across retries"
        headers, body = receiver.requests[-1]
        assert body["requestId"] == ids.pop()
        assert headers["x-amz-firehose-protocol-version"] == "1.0"
        assert headers["x-amz-firehose-access-key"] == "secret-key"
        assert headers["x-amz-firehose-source-arn"] == arn
        assert json.loads(headers["x-amz-firehose-common-attributes"]) == {"commonAttributes": {"env": "test"}}
        assert headers["content-encoding"] == "gzip"
        assert [base64.b64decode(r["data"]) for r in body["records"]] == [b"one", b"two"]
    finally:
        firehose.delete_delivery_stream(DeliveryStreamName=name)


def test_http_413_is_permanent(fw, firehose, receiver):
    receiver.failures = [413]
    name = stream_name("h413")
    firehose.create_delivery_stream(DeliveryStreamName=name, HttpEndpointDestinationConfiguration=http_config(
        receiver.url))
    try:
        firehose.put_record(DeliveryStreamName=name, Record={"Data": b"big"})
        root = fw.data_dir / "export" / "backup" / "000000000000" / name / "http-endpoint-failed"
        files = support.wait_until(lambda: [f for f in root.rglob("*") if f.is_file()] if root.exists() else [],
                                   timeout=15, what="an error record")
        line = json.loads(files[0].read_text().splitlines()[0])
        assert line["errorCode"] == "HttpEndpoint.PayloadTooLarge"
        assert line["errorMessage"] == "injected 413"
        assert base64.b64decode(line["rawData"]) == b"big"
        assert len(receiver.requests) == 1
    finally:
        firehose.delete_delivery_stream(DeliveryStreamName=name)


def test_local_files(firehose, tmp_path):
    name = stream_name("file")
    out = tmp_path / "siem"
    firehose.create_delivery_stream(DeliveryStreamName=name, HttpEndpointDestinationConfiguration=http_config(
        f"file://{out}"))
    try:
        firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b'{"a":1}'}, {"Data": b'{"a":2}\n'}])
        files = support.wait_until(lambda: list(out.glob(f"{name}-*.log")) if out.exists() else [], timeout=15,
                                   what="the output file")
        support.wait_until(lambda: files[0].read_text() == '{"a":1}\n{"a":2}\n', timeout=5, what="both lines")
    finally:
        firehose.delete_delivery_stream(DeliveryStreamName=name)


class Transform:
    """An external transform with the Firehose record-transformation contract: upper-cases
    records, drops `drop`, fails `fail`."""

    def __init__(self):
        self.port = support.free_port()
        self.calls = []

        transform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                transform.calls.append(event)
                out = []
                for r in event["records"]:
                    data = base64.b64decode(r["data"])
                    result = {b"drop": "Dropped", b"fail": "ProcessingFailed"}.get(data, "Ok")
                    out.append({"recordId": r["recordId"], "result": result,
                                "data": base64.b64encode(data.upper()).decode()})
                body = json.dumps({"records": out}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_external_transform_ok_dropped_failed(fw, firehose, receiver):
    transform = Transform()
    name = stream_name("xf")
    firehose.create_delivery_stream(DeliveryStreamName=name, HttpEndpointDestinationConfiguration=http_config(
        receiver.url, ProcessingConfiguration={"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
            {"ParameterName": "LambdaArn", "ParameterValue": f"http://127.0.0.1:{transform.port}/"}]}]}))
    try:
        firehose.put_record_batch(DeliveryStreamName=name,
                                  Records=[{"Data": b"keep"}, {"Data": b"drop"}, {"Data": b"fail"}])
        support.wait_until(lambda: receiver.records(), timeout=15, what="the transformed record")
        assert receiver.records() == [b"KEEP"]
        event = transform.calls[0]
        assert event["deliveryStreamArn"].endswith(f"deliverystream/{name}")
        assert {"invocationId", "region", "records"} <= set(event)
        assert {"recordId", "approximateArrivalTimestamp", "data"} <= set(event["records"][0])
        root = fw.data_dir / "export" / "backup" / "000000000000" / name / "processing-failed"
        files = support.wait_until(lambda: [f for f in root.rglob("*") if f.is_file()] if root.exists() else [],
                                   timeout=15, what="the processing-failed record")
        line = json.loads(files[0].read_text().splitlines()[0])
        assert base64.b64decode(line["rawData"]) == b"fail"
        assert line["lambdaArn"] == f"http://127.0.0.1:{transform.port}/"
    finally:
        transform.server.shutdown()
        firehose.delete_delivery_stream(DeliveryStreamName=name)


RSYSLOG_PLAIN = """
module(load="imtcp")
input(type="imtcp" port="{port}" address="127.0.0.1")
"""

RSYSLOG_TLS = """
global(DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="{dir}/ca.pem"
       DefaultNetstreamDriverCertFile="{dir}/cert.pem" DefaultNetstreamDriverKeyFile="{dir}/key.pem")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.Authmode="anon")
input(type="imtcp" port="{port}" address="127.0.0.1")
"""

RSYSLOG_OUT = """
template(name="raw" type="string" string="%msg%|%app-name%|%msgid%\\n")
action(type="omfile" file="{out}" template="raw")
"""


def write_tls_files(d):
    """A CA and a server certificate for 127.0.0.1 (the TLS receiver's), as PEM files."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "syslog test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(1)
          .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (d / "ca.pem").write_bytes(ca.public_bytes(pem))
    (d / "cert.pem").write_bytes(cert.public_bytes(pem))
    (d / "key.pem").write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))


@pytest.fixture(params=["tcp", "tls"])
def rsyslog(tmp_path, request):
    binary = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
    if not shutil.os.path.exists(binary):
        pytest.fail("rsyslogd is not installed (scripts/test.sh installs Debian's rsyslog)", pytrace=False)
    port = support.free_port()
    out = tmp_path / "received.log"
    conf = tmp_path / "rsyslog.conf"
    if request.param == "tls":
        write_tls_files(tmp_path)
        conf.write_text(RSYSLOG_TLS.format(port=port, dir=tmp_path) + RSYSLOG_OUT.format(out=out))
        url = f"syslog+tls://127.0.0.1:{port}?ca={tmp_path}/ca.pem"
    else:
        conf.write_text(RSYSLOG_PLAIN.format(port=port) + RSYSLOG_OUT.format(out=out))
        url = f"syslog+tcp://127.0.0.1:{port}?"
    proc = subprocess.Popen([binary, "-n", "-f", str(conf), "-i", str(tmp_path / "rsyslog.pid")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not support.gateway_listening(("127.0.0.1", port), timeout=0.2):
        assert time.monotonic() < deadline, "rsyslogd did not listen"
        time.sleep(0.1)
    yield url, out
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.parametrize("fmt", ["json", "cef", "leef"])
def test_syslog_to_rsyslog(firehose, rsyslog, fmt):
    url, out = rsyslog
    name = stream_name(f"sys{fmt}")
    sep = "" if url.endswith("?") else "&"
    firehose.create_delivery_stream(DeliveryStreamName=name, HttpEndpointDestinationConfiguration=http_config(
        f"{url}{sep}format={fmt}"))
    try:
        records = [{"thing": "pump-7", "name": "aws:num-listening-tcp-ports", "n": i} for i in range(3)]
        firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": json.dumps(r).encode()} for r in records])
        lines = support.wait_until(
            lambda: [l for l in out.read_text().splitlines() if l.endswith(f"|fleetward|{name}")] if out.exists() else [],
            timeout=20, what="three syslog messages")
        support.wait_until(lambda: len([l for l in out.read_text().splitlines() if name in l]) == 3, timeout=10,
                           what="all three")
        lines = [l for l in out.read_text().splitlines() if name in l]
        msgs = [l.rsplit("|", 2)[0].strip() for l in lines]
        if fmt == "json":
            assert [json.loads(m) for m in msgs] == records
        elif fmt == "cef":
            assert msgs[0].startswith("CEF:0|Fleetward|Fleetward|1.0|aws:num-listening-tcp-ports|")
            assert "thing=pump-7" in msgs[0] and "n=0" in msgs[0]
        else:
            assert msgs[0].startswith("LEEF:1.0|Fleetward|Fleetward|1.0|aws:num-listening-tcp-ports|")
            assert "thing=pump-7" in msgs[0]
    finally:
        firehose.delete_delivery_stream(DeliveryStreamName=name)
