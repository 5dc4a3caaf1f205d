"""SigV4 authentication and the AWS error shape, with raw HTTP and with boto3."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from botocore.exceptions import ClientError

from support import (
    DEFAULT_ACCOUNT,
    error_code_from_header,
    expect_error,
    http_request,
    make_client,
    signed_request,
    utcnow,
    wait_until,
)

GET_FINDINGS_BODY = json.dumps({"MaxResults": 1})


def assert_aws_error(status, headers, body, code, expected_status):
    """The rest-json error shape: x-amzn-ErrorType header and a JSON body naming the error."""
    summary = f"status={status} headers={headers} body={body[:500]!r}"
    assert status == expected_status, summary
    assert error_code_from_header(headers.get("x-amzn-errortype")) == code, summary
    doc = json.loads(body)
    assert doc.get("Code") == code, summary
    assert doc.get("__type", "").split("#")[-1] == code, summary
    assert isinstance(doc.get("Message"), str) and doc["Message"], summary
    assert doc.get("message") == doc.get("Message"), summary
    return doc


def test_unsigned_request_is_refused(fw):
    status, headers, body = http_request(fw.endpoint, "POST", "/findings", GET_FINDINGS_BODY,
                                         {"Content-Type": "application/json"})
    assert_aws_error(status, headers, body, "MissingAuthenticationTokenException", 403)


def test_unsigned_get_is_refused(fw):
    status, headers, body = http_request(fw.endpoint, "GET", "/accounts")
    assert_aws_error(status, headers, body, "MissingAuthenticationTokenException", 403)


def test_signed_raw_request_succeeds(fw, creds):
    """Positive control for the raw signing helper used by the negative tests below."""
    status, headers, body = signed_request(fw.endpoint, "POST", "/findings", GET_FINDINGS_BODY, *creds)
    assert status == 200, (status, body[:500])
    doc = json.loads(body)
    assert "Findings" in doc and isinstance(doc["Findings"], list)


def test_bad_secret_is_invalid_signature(fw, creds):
    key_id, secret = creds
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    client = make_client(fw.endpoint, key_id, wrong)
    expect_error(client.describe_hub, "InvalidSignatureException", 403)
    status, headers, body = signed_request(fw.endpoint, "POST", "/findings", GET_FINDINGS_BODY, key_id, wrong)
    assert_aws_error(status, headers, body, "InvalidSignatureException", 403)


def test_unknown_access_key_is_unrecognized(fw):
    client = make_client(fw.endpoint, "AKIAFLEETWARDNOSUCH1", "x" * 40)
    expect_error(client.get_findings, "UnrecognizedClientException", 403)
    status, headers, body = signed_request(fw.endpoint, "POST", "/findings", GET_FINDINGS_BODY,
                                           "AKIAFLEETWARDNOSUCH1", "x" * 40)
    assert_aws_error(status, headers, body, "UnrecognizedClientException", 403)


@pytest.mark.parametrize(
    "authorization",
    [
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 garbage",
        "AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/securityhub/aws4_request",
        "AWS4-HMAC-SHA256 Credential={key}/{date}/us-east-1/securityhub/aws4_request, SignedHeaders=host;x-amz-date",
    ],
    ids=["scheme-only", "garbage", "credential-only", "no-signature"],
)
def test_malformed_authorization_is_incomplete_signature(fw, creds, authorization):
    now = utcnow()
    headers = {
        "Content-Type": "application/json",
        "X-Amz-Date": now.strftime("%Y%m%dT%H%M%SZ"),
        "Authorization": authorization.format(key=creds[0], date=now.strftime("%Y%m%d")),
    }
    status, resp_headers, body = http_request(fw.endpoint, "POST", "/findings", GET_FINDINGS_BODY, headers)
    assert_aws_error(status, resp_headers, body, "IncompleteSignatureException", 400)


def test_signature_twenty_minutes_old_is_expired(fw, creds):
    when = utcnow() - dt.timedelta(minutes=20)
    status, headers, body = signed_request(fw.endpoint, "POST", "/findings", GET_FINDINGS_BODY, *creds, when=when)
    doc = assert_aws_error(status, headers, body, "InvalidSignatureException", 403)
    assert "Signature expired" in doc["Message"], doc


def test_signature_twenty_minutes_ahead_is_refused(fw, creds):
    when = utcnow() + dt.timedelta(minutes=20)
    status, headers, body = signed_request(fw.endpoint, "POST", "/findings", GET_FINDINGS_BODY, *creds, when=when)
    assert_aws_error(status, headers, body, "InvalidSignatureException", 403)


def test_small_clock_skew_is_accepted(fw, creds):
    when = utcnow() - dt.timedelta(minutes=5)
    status, _, body = signed_request(fw.endpoint, "POST", "/findings", GET_FINDINGS_BODY, *creds, when=when)
    assert status == 200, body[:500]


def test_tampered_body_is_invalid_signature(fw, creds):
    """The payload hash is part of the signature: same headers, different body → refused."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=fw.endpoint + "/findings", data=GET_FINDINGS_BODY.encode(),
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(*creds), "securityhub", "us-east-1").add_auth(request)
    tampered = json.dumps({"MaxResults": 2})
    status, headers, body = http_request(fw.endpoint, "POST", "/findings", tampered, dict(request.headers.items()))
    assert_aws_error(status, headers, body, "InvalidSignatureException", 403)


def test_application_error_shape(fw, creds):
    """A signed request that fails in the service (unknown insight) has the same error shape."""
    arn = f"arn:aws:securityhub:us-east-1:{DEFAULT_ACCOUNT}:insight/{DEFAULT_ACCOUNT}/custom/00000000-0000-0000-0000-000000000000"
    path = "/insights/results/" + arn.replace(":", "%3A")
    status, headers, body = signed_request(fw.endpoint, "GET", path, None, *creds)
    assert_aws_error(status, headers, body, "ResourceNotFoundException", 404)


def test_revoked_key_stops_working(fw, hub):
    out = fw.admin("create-access-key", "--account-id", DEFAULT_ACCOUNT, "--profile", "revokeme").stdout
    match = re.fullmatch(
        r"\[revokeme\]\naws_access_key_id = (\S+)\naws_secret_access_key = (\S+)\n?", out
    )
    assert match, f"unexpected create-access-key output:\n{out!r}"
    key_id, secret = match.groups()
    client = make_client(fw.endpoint, key_id, secret)
    assert client.describe_hub()["HubArn"] == f"arn:aws:securityhub:us-east-1:{DEFAULT_ACCOUNT}:hub/default"

    listing = fw.admin("list-access-keys", "--account-id", DEFAULT_ACCOUNT).stdout
    rows = {line.split("\t")[0]: line.split("\t") for line in listing.splitlines() if line}
    assert key_id in rows, listing
    assert rows[key_id][1:3] == [DEFAULT_ACCOUNT, "Active"], rows[key_id]
    assert len(rows[key_id]) == 4, rows[key_id]

    fw.admin("revoke-access-key", "--access-key-id", key_id)

    def refused():
        try:
            client.describe_hub()
            return False
        except ClientError as exc:
            return exc.response["Error"]["Code"]

    code = wait_until(refused, timeout=5.0, interval=0.2, what="the revoked key to be refused")
    assert code == "UnrecognizedClientException", code
    expect_error(client.get_findings, "UnrecognizedClientException", 403)

    listing = fw.admin("list-access-keys", "--account-id", DEFAULT_ACCOUNT).stdout
    rows = {line.split("\t")[0]: line.split("\t") for line in listing.splitlines() if line}
    assert rows[key_id][2] == "Inactive", rows[key_id]
    # The admin key of the same account is unaffected.
    assert hub.describe_hub()["HubArn"].endswith(f":{DEFAULT_ACCOUNT}:hub/default")


def test_revoking_unknown_key_fails(fw):
    proc = fw.admin("revoke-access-key", "--access-key-id", "AKIANOSUCHKEY0000000", check=False)
    assert proc.returncode != 0, proc.stdout


def test_health_is_unauthenticated(fw):
    status, headers, body = http_request(fw.endpoint, "GET", "/health")
    assert status == 200, body
    assert json.loads(body) == {"status": "ok"}


def test_metrics_is_unauthenticated_prometheus_text(fw, hub):
    hub.get_findings(MaxResults=1)  # at least one API request has been counted
    status, headers, body = http_request(fw.endpoint, "GET", "/metrics")
    assert status == 200, body[:300]
    assert headers.get("content-type", "").startswith("text/plain"), headers
    text = body.decode()
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert samples, f"no metric samples in /metrics:\n{text[:1000]}"
    sample = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? [-+0-9.eEinfNa]+( \d+)?$")
    bad = [line for line in samples if not sample.match(line)]
    assert not bad, f"lines that are not Prometheus samples: {bad[:5]}"
    assert "# TYPE " in text, text[:1000]


def test_credential_scope_with_wrong_region_is_refused(fw, creds):
    client = make_client(fw.endpoint, *creds, region="eu-west-1")
    expect_error(client.describe_hub, "InvalidSignatureException", 403)


def test_query_string_is_signed(fw, creds):
    """A signed query string cannot be changed afterwards."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="GET", url=fw.endpoint + "/products?MaxResults=1")
    SigV4Auth(Credentials(*creds), "securityhub", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    status, _, body = http_request(fw.endpoint, "GET", "/products?MaxResults=1", None, headers)
    assert status == 200, body[:300]
    status, resp_headers, body = http_request(fw.endpoint, "GET", "/products?MaxResults=2", None, headers)
    assert_aws_error(status, resp_headers, body, "InvalidSignatureException", 403)


def test_missing_amz_date_is_incomplete_signature(fw, creds):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=fw.endpoint + "/findings", data=GET_FINDINGS_BODY.encode(),
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(*creds), "securityhub", "us-east-1").add_auth(request)
    headers = {k: v for k, v in request.headers.items() if k.lower() != "x-amz-date"}
    status, resp_headers, body = http_request(fw.endpoint, "POST", "/findings", GET_FINDINGS_BODY, headers)
    doc = assert_aws_error(status, resp_headers, body, "IncompleteSignatureException", 400)
    assert "X-Amz-Date" in doc["Message"], doc


def test_presigned_url_query_auth(fw, hub):
    """SigV4 also carries the signature in the query string (boto3 generate_presigned_url)."""
    url = hub.generate_presigned_url("describe_hub", ExpiresIn=60)
    assert "X-Amz-Signature=" in url
    status, _, body = http_request(fw.endpoint, "GET", url[len(fw.endpoint):])
    assert status == 200, (status, body[:300])
    assert json.loads(body)["HubArn"] == f"arn:aws:securityhub:us-east-1:{DEFAULT_ACCOUNT}:hub/default"
    tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    status, headers, body = http_request(fw.endpoint, "GET", tampered[len(fw.endpoint):])
    assert status == 403 and error_code_from_header(headers.get("x-amzn-errortype")) == "InvalidSignatureException", body


def test_responses_carry_a_request_id(fw, creds, hub):
    """AWS answers every request, success or error, with an x-amzn-RequestId header; botocore
    reports it as ResponseMetadata.RequestId."""
    assert hub.describe_hub()["ResponseMetadata"].get("RequestId"), "no RequestId on a success"
    status, headers, _ = signed_request(fw.endpoint, "POST", "/findings", GET_FINDINGS_BODY, *creds)
    assert status == 200 and headers.get("x-amzn-requestid"), headers
    status, headers, _ = http_request(fw.endpoint, "POST", "/findings", GET_FINDINGS_BODY)
    assert status == 403 and headers.get("x-amzn-requestid"), headers
