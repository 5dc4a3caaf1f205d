"""Test support for the export (Firehose) interop tests: a Splunk-HEC-compatible receiver
(token check, `{"text","code"}` replies, channels, indexer acknowledgement, injectable
failures) and helpers to create delivery streams.

The receiver follows spec/export-and-anomaly.md A2: `/services/collector[/event]` takes
concatenated JSON envelopes, `/services/collector/raw` raw text; with acks on every data
request needs a channel (code 10 otherwise) and gets an `ackId` (per channel, from 0);
`/services/collector/ack` answers `{"acks": {"id": bool}}`, a true reported once."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import support

REPLIES = {
    0: (200, "Success"),
    2: (401, "Token is required"),
    3: (401, "Invalid authorization"),
    4: (403, "Invalid token"),
    5: (400, "No data"),
    6: (400, "Invalid data format"),
    7: (400, "Incorrect index"),
    8: (500, "Internal server error"),
    9: (503, "Server is busy"),
    10: (400, "Data channel is missing"),
    12: (400, "Event field is required"),
    13: (400, "Event field cannot be blank"),
    14: (400, "ACK is disabled"),
}


def split_envelopes(body: str) -> list:
    """HEC's batch form: JSON objects concatenated, optional whitespace between."""
    decoder = json.JSONDecoder()
    out, i = [], 0
    while i < len(body):
        while i < len(body) and body[i].isspace():
            i += 1
        if i >= len(body):
            break
        obj, i = decoder.raw_decode(body, i)
        out.append(obj)
    return out


class HecReceiver:
    def __init__(self, token: str = "00000000-0000-0000-0000-000000000001", acks: bool = True):
        self.token = token
        self.acks = acks
        self.lock = threading.Lock()
        self.events: list = []        # envelopes from /event
        self.raw: list = []           # (query, body) from /raw
        self.requests: list = []      # (path, lower-cased headers) of data requests
        self.failures: list = []      # queued (status, code) replies for data requests
        self.hold_acks = False        # never report acks while set
        self.channels: dict = {}      # channel -> {"next": int, "done": set}
        self.server = None
        self.port = support.free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, n: int, code: int, status: int | None = None):
        with self.lock:
            self.failures.extend([(status or REPLIES[code][0], code)] * n)

    def start(self) -> "HecReceiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def code(self, code: int):
                status, text = REPLIES[code]
                self.reply(status, {"text": text, "code": code})

            def do_GET(self):
                if urlparse(self.path).path.startswith("/services/collector/health"):
                    return self.reply(200, {"text": "HEC is healthy", "code": 17})
                self.reply(404, {"text": "not found", "code": 404})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                auth = self.headers.get("Authorization") or ""
                if not auth:
                    return self.code(2)
                if auth != f"Splunk {receiver.token}":
                    return self.code(4 if auth.startswith("Splunk ") else 3)
                channel = self.headers.get("X-Splunk-Request-Channel") or query.get("channel")
                if url.path == "/services/collector/ack":
                    return self.ack(channel, body)
                if url.path not in ("/services/collector", "/services/collector/event",
                                    "/services/collector/raw"):
                    return self.reply(404, {"text": "not found", "code": 404})
                with receiver.lock:
                    failure = receiver.failures.pop(0) if receiver.failures else None
                    receiver.requests.append((url.path, {k.lower(): v for k, v in self.headers.items()}))
                if failure:
                    status, code = failure
                    return self.reply(status, {"text": REPLIES.get(code, (0, "injected"))[1], "code": code})
                if receiver.acks and not channel:
                    return self.code(10)
                if not body.strip():
                    return self.code(5)
                if url.path.endswith("/raw"):
                    with receiver.lock:
                        receiver.raw.append((query, body))
                else:
                    try:
                        envelopes = split_envelopes(body)
                    except ValueError:
                        return self.code(6)
                    for e in envelopes:
                        if "event" not in e:
                            return self.code(12)
                    with receiver.lock:
                        receiver.events.extend(envelopes)
                if not receiver.acks:
                    return self.code(0)
                with receiver.lock:
                    state = receiver.channels.setdefault(channel, {"next": 0, "done": set()})
                    ack_id = state["next"]
                    state["next"] += 1
                    state["done"].add(ack_id)
                self.reply(200, {"text": "Success", "code": 0, "ackId": ack_id})

            def ack(self, channel, body):
                if not receiver.acks:
                    return self.code(14)
                if not channel:
                    return self.code(10)
                try:
                    wanted = json.loads(body)["acks"]
                except (ValueError, KeyError, TypeError):
                    return self.code(6)
                answer = {}
                with receiver.lock:
                    state = receiver.channels.get(channel, {"next": 0, "done": set()})
                    for ack_id in wanted:
                        ok = not receiver.hold_acks and ack_id in state["done"]
                        if ok:
                            state["done"].discard(ack_id)  # true is reported once
                        answer[str(ack_id)] = ok
                self.reply(200, {"acks": answer})

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def snapshot(self) -> list:
        with self.lock:
            return list(self.events)


def splunk_config(hec_url: str, token: str, *, endpoint_type: str = "Event", interval: int = 0,
                  retry: int = 300, processors: list | None = None, **extra) -> dict:
    config = {
        "HECEndpoint": hec_url,
        "HECEndpointType": endpoint_type,
        "HECToken": token,
        "S3Configuration": {"RoleARN": "arn:aws:iam::000000000000:role/firehose",
                            "BucketARN": "arn:aws:s3:::backup"},
        "BufferingHints": {"IntervalInSeconds": interval, "SizeInMBs": 1},
        "RetryOptions": {"DurationInSeconds": retry},
    }
    if processors is not None:
        config["ProcessingConfiguration"] = {"Enabled": True, "Processors": processors}
    config.update(extra)
    return config


def hec_event_processor(query: str) -> list:
    return [{"Type": "Lambda", "Parameters": [
        {"ParameterName": "LambdaArn", "ParameterValue": f"fleetward:hec-event?{query}"}]}]


def stream_name(prefix: str = "s") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class FirehoseHttpReceiver:
    """An HTTP endpoint speaking the Firehose HTTP-endpoint delivery protocol v1.0: records
    every request (headers, decoded body), answers `{"requestId", "timestamp"}` with 200, or
    the queued failure statuses first."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests: list = []   # (lower-cased headers, body dict)
        self.failures: list = []   # statuses to answer before succeeding
        self.port = support.free_port()
        self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ingest"

    def records(self) -> list:
        import base64
        with self.lock:
            return [base64.b64decode(r["data"]) for _, body in self.requests for r in body["records"]]

    def start(self) -> "FirehoseHttpReceiver":
        import gzip
        import time
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if headers.get("content-encoding") == "gzip":
                    raw = gzip.decompress(raw)
                body = json.loads(raw)
                with receiver.lock:
                    receiver.requests.append((headers, body))
                    status = receiver.failures.pop(0) if receiver.failures else 200
                answer = {"requestId": body["requestId"], "timestamp": int(time.time() * 1000)}
                if status != 200:
                    answer["errorMessage"] = f"injected {status}"
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def http_config(url: str, *, gzip: bool = False, interval: int = 0, retry: int = 300, **extra) -> dict:
    config = {
        "EndpointConfiguration": {"Url": url, "Name": "siem", "AccessKey": "secret-key"},
        "RequestConfiguration": {"ContentEncoding": "GZIP" if gzip else "NONE",
                                 "CommonAttributes": [{"AttributeName": "env", "AttributeValue": "test"}]},
        "BufferingHints": {"IntervalInSeconds": interval, "SizeInMBs": 1},
        "RetryOptions": {"DurationInSeconds": retry},
        "S3Configuration": {"RoleARN": "arn:aws:iam::000000000000:role/firehose",
                            "BucketARN": "arn:aws:s3:::backup"},
    }
    config.update(extra)
    return config
