"""Certificate checks through the real binary: expiry, key quality (a published ROCA-vulnerable
modulus; a Debian weak-key blocklist made by the test in the data dir), CRLs uploaded with
`fleetward admin audit put-crl` and fetched from a distribution point over HTTP."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import threading

from audit_support import enable_checks, new_audit_account, run_audit
from support import new_key

# crocs-muni/roca test data (mod03): a modulus made by the vulnerable Infineon library.
ROCA_2048 = int(
    "9dcd7420e420c270a68060eb8b5aa7457a9f6648f86fafed2775cc1f79ae962f1e63f1b9e51c55f9ea6fdc7332e9b0058c9ff2eb"
    "1fc89855029cf6aafe21e689feb38ac9ffb12f1ce371bb5d0e9aae64161abce74b4244bf68f1edb4411f756a097c8929c1474024"
    "5ea355f8332d1aa36bb50c7dcb4505da8de02e4e53d38f8df06097da7524df0df93db48eac8cc4af2d3a16257eb2b2adca6ba464"
    "e5974fa92550d31b1babf161e7692d00b86e3dd886ecab4abfbe1a8f8cc263ff4af55cdb45f4249a5193925f5e983d762f0b6800"
    "943eb0267b08f42ed311ce1f5c86eacbc8ce4d3cb7a2fee1ef5641423a1cf4114e5ecf50034a60a412523af9e6f4aa11", 16)


def _name(cn):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(cn, public_key, issuer_cn, issuer_key, *, serial, days=365, ca=False, crl_url=None, not_after=None):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(issuer_cn))
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(not_after or now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if crl_url:
        builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None, reasons=None,
            crl_issuer=None)]), critical=False)
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert):
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.PEM).decode()


def _der(cert):
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.DER)


def _id(cert):
    return hashlib.sha256(_der(cert)).hexdigest()


def _crl(issuer_cn, issuer_key, serials):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(_name(issuer_cn))
               .last_update(now - dt.timedelta(hours=1)).next_update(now + dt.timedelta(days=7)))
    for s in serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(s).revocation_date(now - dt.timedelta(hours=1)).build())
    return builder.sign(issuer_key, hashes.SHA256())


def register_ca(iot, cn):
    key = new_key()
    ca = _cert(cn, key.public_key(), cn, key, serial=1, days=3650, ca=True)
    code = iot.get_registration_code()["registrationCode"]
    verification = _cert(code, new_key().public_key(), cn, key, serial=2)
    iot.register_ca_certificate(caCertificate=_pem(ca), verificationCertificate=_pem(verification), setAsActive=True)
    return ca, key


def by_resource(findings):
    return {(f["nonCompliantResource"]["resourceIdentifier"].get("deviceCertificateId"), f["reasonForNonComplianceCode"])
            for f in findings}


def test_expiring_and_key_quality(fw, make_account):
    from cryptography.hazmat.primitives.asymmetric import rsa

    acct = new_audit_account(fw, make_account)
    iot = acct.iot
    ca, ca_key = register_ca(iot, "Audit Interop CA")
    soon = _cert("soon", new_key().public_key(), "Audit Interop CA", ca_key, serial=10, days=10)
    later = _cert("later", new_key().public_key(), "Audit Interop CA", ca_key, serial=11, days=400)
    roca = _cert("roca", rsa.RSAPublicNumbers(65537, ROCA_2048).public_key(), "Audit Interop CA", ca_key, serial=12)
    weak = new_key("rsa2048")
    debian = _cert("debian", weak.public_key(), "Audit Interop CA", ca_key, serial=13)
    for cert in (soon, later, roca, debian):
        iot.register_certificate(certificatePem=_pem(cert), caCertificatePem=_pem(ca), setAsActive=True)

    # The admin's openssl-blacklist file, in the format of Debian's openssl-blacklist package.
    modulus = format(weak.public_key().public_numbers().n, "X")
    line = hashlib.sha1(f"Modulus={modulus}\n".encode()).hexdigest()[20:]
    blocklist = fw.data_dir / "openssl-blacklist"
    blocklist.mkdir(exist_ok=True)
    (blocklist / f"blacklist.RSA-2048.{acct.account_id}").write_text(f"# test keys\n{line}\n")

    checks = ["DEVICE_CERTIFICATE_EXPIRING_CHECK", "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK",
              "CA_CERTIFICATE_EXPIRING_CHECK", "CA_CERTIFICATE_KEY_QUALITY_CHECK"]
    enable_checks(iot, *checks)
    task_id, described = run_audit(iot, *checks)
    details = described["auditDetails"]
    assert details["DEVICE_CERTIFICATE_EXPIRING_CHECK"]["totalResourcesCount"] == 4
    assert details["CA_CERTIFICATE_EXPIRING_CHECK"]["checkRunStatus"] == "COMPLETED_COMPLIANT"
    assert details["CA_CERTIFICATE_KEY_QUALITY_CHECK"]["checkRunStatus"] == "COMPLETED_COMPLIANT"
    expiring = iot.list_audit_findings(taskId=task_id, checkName="DEVICE_CERTIFICATE_EXPIRING_CHECK")["findings"]
    assert by_resource(expiring) == {(_id(soon), "CERTIFICATE_APPROACHING_EXPIRATION")}
    assert expiring[0]["severity"] == "MEDIUM"
    assert "EXPIRATION_TIME" in expiring[0]["nonCompliantResource"]["additionalInfo"]
    quality = iot.list_audit_findings(taskId=task_id, checkName="DEVICE_CERTIFICATE_KEY_QUALITY_CHECK")["findings"]
    assert by_resource(quality) == {
        (_id(roca), "CERTIFICATE_KEY_VULNERABILITY_CVE-2017-15361"),
        (_id(debian), "CERTIFICATE_KEY_VULNERABILITY_CVE-2008-0166"),
    }
    assert all(f["severity"] == "CRITICAL" for f in quality)


class _CrlServer:
    def __init__(self):
        self.body = b""
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/device-ca.crl"

    def close(self):
        self.server.shutdown()


def test_revocation_from_uploaded_and_fetched_crls(fw, make_account, tmp_path):
    from cryptography.hazmat.primitives.serialization import Encoding

    acct = new_audit_account(fw, make_account)
    iot = acct.iot
    server = _CrlServer()
    try:
        # Device certificates name the HTTP distribution point of their CA's CRL.
        ca, ca_key = register_ca(iot, "Fetched CRL CA")
        revoked = _cert("revoked", new_key().public_key(), "Fetched CRL CA", ca_key, serial=500, crl_url=server.url)
        fine = _cert("fine", new_key().public_key(), "Fetched CRL CA", ca_key, serial=501, crl_url=server.url)
        for cert in (revoked, fine):
            iot.register_certificate(certificatePem=_pem(cert), caCertificatePem=_pem(ca), setAsActive=True)
        server.body = _crl("Fetched CRL CA", ca_key, [500]).public_bytes(Encoding.DER)

        # An intermediate registered as a CA, revoked by a root that is not registered: the
        # admin uploads the root's CRL.
        root_key = new_key()
        inter_key = new_key()
        inter = _cert("Revoked Intermediate", inter_key.public_key(), "Unregistered Root", root_key, serial=777,
                      days=3650, ca=True)
        code = iot.get_registration_code()["registrationCode"]
        verification = _cert(code, new_key().public_key(), "Revoked Intermediate", inter_key, serial=3)
        iot.register_ca_certificate(caCertificate=_pem(inter), verificationCertificate=_pem(verification),
                                    setAsActive=True)
        below = _cert("below", new_key().public_key(), "Revoked Intermediate", inter_key, serial=900)
        iot.register_certificate(certificatePem=_pem(below), caCertificatePem=_pem(inter), setAsActive=True)
        crl_file = tmp_path / "root.crl.pem"
        crl_file.write_bytes(_crl("Unregistered Root", root_key, [777]).public_bytes(Encoding.PEM))
        out = fw.admin("audit", "put-crl", "--account-id", acct.account_id, "--file", str(crl_file)).stdout
        assert "Stored CRL upload:" in out
        bad = tmp_path / "bad.crl"
        bad.write_text("not a crl")
        assert fw.admin("audit", "put-crl", "--account-id", acct.account_id, "--file", str(bad),
                        check=False).returncode != 0

        checks = ["REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK", "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK",
                  "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK"]
        enable_checks(iot, *checks)
        task_id, described = run_audit(iot, *checks)
        devices = iot.list_audit_findings(taskId=task_id, checkName=checks[0])["findings"]
        assert by_resource(devices) == {(_id(revoked), "CERTIFICATE_REVOKED_BY_ISSUER")}
        cas = iot.list_audit_findings(taskId=task_id, checkName=checks[1])["findings"]
        assert [f["nonCompliantResource"]["resourceIdentifier"]["caCertificateId"] for f in cas] == [_id(inter)]
        inter_findings = iot.list_audit_findings(taskId=task_id, checkName=checks[2])["findings"]
        assert len(inter_findings) == 1
        issuer = inter_findings[0]["nonCompliantResource"]["resourceIdentifier"]["issuerCertificateIdentifier"]
        assert issuer["issuerId"] == _id(inter) and issuer["issuerCertificateSerialNumber"] == "0309"
        related = iot.list_related_resources_for_audit_finding(findingId=inter_findings[0]["findingId"])
        assert [r["resourceIdentifier"]["deviceCertificateId"] for r in related["relatedResources"]] == [_id(below)]
    finally:
        server.close()
