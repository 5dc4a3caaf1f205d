"""Helpers for the notification-topic (SNS) interop tests: an HTTP endpoint run by the test,
SNS signature verification with `cryptography`, and the certificate chain check."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

import support

# The members SNS signs, per message type, in the order they are signed.
SIGNED_MEMBERS = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
    "UnsubscribeConfirmation": ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
}


def sns_client(fw, key_id: str | None = None, secret: str | None = None, validate: bool = True):
    return fw.client(key_id, secret, service="sns", validate=validate)


def unique_topic_name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


class Endpoint:
    """An HTTP endpoint on loopback that records every POST (headers, body) and answers
    `status` (settable while running)."""

    def __init__(self, port: int | None = None):
        self.status = 200
        self.requests: list[dict] = []
        self._cond = threading.Condition()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                with owner._cond:
                    owner.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()},
                                           "body": body, "path": self.path})
                    owner._cond.notify_all()
                    status = owner.status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.port = port or support.free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sns"

    def close(self):
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, predicate, timeout: float = 10.0, what: str = "a request") -> dict:
        """The first recorded request matching `predicate(request)`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for r in self.requests:
                    if predicate(r):
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}; got {self.requests!r}")
                self._cond.wait(left)

    def messages(self, kind: str) -> list[dict]:
        with self._cond:
            return [json.loads(r["body"]) for r in self.requests
                    if r["headers"].get("x-amz-sns-message-type") == kind]

    def wait_message(self, kind: str, timeout: float = 10.0, **match) -> tuple[dict, dict]:
        """(JSON body, headers) of the first message of `kind` whose members equal `match`."""

        def pred(r):
            if r["headers"].get("x-amz-sns-message-type") != kind:
                return False
            try:
                body = json.loads(r["body"])
            except ValueError:
                return not match and kind == "Notification"
            return all(body.get(k) == v for k, v in match.items())

        r = self.wait_for(pred, timeout, what=f"{kind} {match}")
        try:
            return json.loads(r["body"]), r["headers"]
        except ValueError:
            return {"raw": r["body"]}, r["headers"]


def string_to_sign(message: dict) -> bytes:
    out = []
    for member in SIGNED_MEMBERS[message["Type"]]:
        if member in message:
            out.append(f"{member}\n{message[member]}\n")
    return "".join(out).encode()


def fetch(url: str) -> tuple[int, bytes]:
    """An unsigned GET (what a subscriber does with SubscribeURL, SigningCertURL)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def verify_signature(message: dict) -> x509.Certificate:
    """Verifies an SNS message's Signature with the certificate at its SigningCertURL, as SNS's
    validators do; returns that certificate."""
    status, pem = fetch(message["SigningCertURL"])
    assert status == 200, f"SigningCertURL answered {status}"
    cert = x509.load_pem_x509_certificate(pem)
    algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}[message["SignatureVersion"]]
    cert.public_key().verify(base64.b64decode(message["Signature"]), string_to_sign(message),
                             padding.PKCS1v15(), algorithm)
    return cert


def assert_chains_to_root(cert: x509.Certificate, data_dir: Path):
    """The signing certificate is issued by Fleetward's issuing CA, itself by root-ca.pem."""
    issuing = x509.load_pem_x509_certificate((data_dir / "issuing-ca.pem").read_bytes())
    root = x509.load_pem_x509_certificate((data_dir / "root-ca.pem").read_bytes())
    for child, parent in ((cert, issuing), (issuing, root)):
        assert child.issuer == parent.subject
        parent.public_key().verify(child.signature, child.tbs_certificate_bytes,
                                   ec.ECDSA(child.signature_hash_algorithm))


def subscribe_confirmed(sns, endpoint: Endpoint, topic_arn: str, *, attributes: dict | None = None,
                        via: str = "url") -> str:
    """Subscribes the endpoint and confirms it: by fetching SubscribeURL (`via="url"`) or by
    ConfirmSubscription (`via="api"`); returns the subscription ARN."""
    kwargs = {"Attributes": attributes} if attributes else {}
    resp = sns.subscribe(TopicArn=topic_arn, Protocol="http", Endpoint=endpoint.url, **kwargs)
    assert resp["SubscriptionArn"] == "pending confirmation"
    confirmation, headers = endpoint.wait_message("SubscriptionConfirmation", TopicArn=topic_arn)
    verify_signature(confirmation)
    if via == "url":
        status, body = fetch(confirmation["SubscribeURL"])
        assert status == 200, body
        arn = body.decode().split("<SubscriptionArn>")[1].split("</SubscriptionArn>")[0]
    else:
        arn = sns.confirm_subscription(TopicArn=topic_arn, Token=confirmation["Token"])["SubscriptionArn"]
    assert arn.startswith(topic_arn + ":")
    return arn


def metric_value(fw, name: str, **labels) -> float:
    """Sum of a Prometheus metric's samples whose labels include `labels`."""
    status, _, body = support.http_request(fw.endpoint, "GET", "/metrics")
    assert status == 200
    total = 0.0
    for line in body.decode().splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        if head != name and not head.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total
