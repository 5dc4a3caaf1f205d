"""IoT registry: device certificates (issued by Fleetward's CA, from a CSR, registered with a
customer CA or without one) and CA certificates, with boto3 and `cryptography`.

The certificate id is the lowercase hex SHA-256 of the certificate's DER (as in AWS); every test
recomputes it from the PEM it got back.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from support import (
    DEFAULT_ACCOUNT,
    TestCA,
    assert_chains_to_root,
    cert_id_of,
    collect_pages,
    expect_error,
    expect_error_one_of,
    iot_arn,
    load_cert,
    make_csr,
    new_key,
    policy_document,
    allow,
    pem_to_der,
    public_key_der,
    self_signed_device_cert,
    unique,
)

ACCT = DEFAULT_ACCOUNT
NOW_SLACK = dt.timedelta(minutes=5)


def near_now(when: dt.datetime) -> bool:
    return abs(when - dt.datetime.now(dt.timezone.utc)) < NOW_SLACK


def describe(iot, cert_id: str) -> dict:
    return iot.describe_certificate(certificateId=cert_id)["certificateDescription"]


def register_ca(iot, ca: TestCA, **kwargs) -> dict:
    code = iot.get_registration_code()["registrationCode"]
    return iot.register_ca_certificate(caCertificate=ca.pem, verificationCertificate=ca.verification_cert(code),
                                       **kwargs)


# --------------------------------------------------------------------------------------------
# CreateKeysAndCertificate / CreateCertificateFromCsr


def test_create_keys_and_certificate(iot, fw):
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_pem_private_key,
        load_pem_public_key,
    )

    resp = iot.create_keys_and_certificate(setAsActive=True)
    pem = resp["certificatePem"]
    cert_id = cert_id_of(pem)
    assert resp["certificateId"] == cert_id
    assert resp["certificateArn"] == iot_arn(ACCT, "cert", cert_id)

    # Fleetward issues ECDSA P-256 keys in PKCS#8 (AWS: RSA 2048); the pair must match the cert.
    private_pem = resp["keyPair"]["PrivateKey"]
    assert private_pem.lstrip().startswith("-----BEGIN PRIVATE KEY-----"), private_pem[:40]
    private = load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey) and private.curve.name == "secp256r1"
    public = load_pem_public_key(resp["keyPair"]["PublicKey"].encode())
    cert = load_cert(pem)
    assert public_key_der(private) == public_key_der(cert)
    assert public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo) == public_key_der(cert)

    chain = assert_chains_to_root(pem, fw.data_dir)
    assert len(chain) >= 2

    desc = describe(iot, cert_id)
    assert desc["certificateId"] == cert_id
    assert desc["certificateArn"] == resp["certificateArn"]
    assert desc["status"] == "ACTIVE"
    assert pem_to_der(desc["certificatePem"]) == pem_to_der(pem)
    assert desc["ownedBy"] == ACCT
    assert desc["certificateMode"] == "DEFAULT"
    assert near_now(desc["creationDate"])
    assert abs(desc["validity"]["notBefore"] - cert.not_valid_before_utc) < dt.timedelta(seconds=1)
    assert abs(desc["validity"]["notAfter"] - cert.not_valid_after_utc) < dt.timedelta(seconds=1)


def test_certificates_are_inactive_unless_set_as_active(iot):
    resp = iot.create_keys_and_certificate()
    assert describe(iot, resp["certificateId"])["status"] == "INACTIVE"
    resp = iot.create_keys_and_certificate(setAsActive=False)
    assert describe(iot, resp["certificateId"])["status"] == "INACTIVE"
    assert resp["certificateId"] != iot.create_keys_and_certificate(setAsActive=True)["certificateId"]


@pytest.mark.parametrize("kind", ["p256", "p384", "rsa2048"])
def test_create_certificate_from_csr(iot, fw, kind):
    # CreateCertificateFromCsr: RSA >= 2048 bits or NIST P-256/P-384/P-521 keys are accepted.
    key = new_key(kind)
    csr = make_csr(key, cn=unique("csr"))
    resp = iot.create_certificate_from_csr(certificateSigningRequest=csr, setAsActive=True)
    pem = resp["certificatePem"]
    assert resp["certificateId"] == cert_id_of(pem)
    assert resp["certificateArn"] == iot_arn(ACCT, "cert", resp["certificateId"])
    assert public_key_der(load_cert(pem)) == public_key_der(key)
    assert_chains_to_root(pem, fw.data_dir)
    desc = describe(iot, resp["certificateId"])
    assert desc["status"] == "ACTIVE"
    assert desc["certificateMode"] == "DEFAULT"

    # "Reusing the same certificate signing request (CSR) results in a distinct certificate."
    again = iot.create_certificate_from_csr(certificateSigningRequest=csr)
    assert again["certificateId"] != resp["certificateId"]
    assert describe(iot, again["certificateId"])["status"] == "INACTIVE"


def test_create_certificate_from_bad_csr(iot):
    expect_error(iot.create_certificate_from_csr, "InvalidRequestException", 400,
                 certificateSigningRequest="-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n"
                                           "-----END CERTIFICATE REQUEST-----\n")
    expect_error(iot.create_certificate_from_csr, "InvalidRequestException", 400,
                 certificateSigningRequest="hello")
    # CreateCertificateFromCsr: "The CSR must include a public key that is either an RSA key with a
    # length of at least 2048 bits or an ECC key from NIST P-256, NIST P-384, or NIST P-521 curves."
    weak = make_csr(new_key("rsa1024"))
    expect_error(iot.create_certificate_from_csr, "InvalidRequestException", 400, certificateSigningRequest=weak)


# --------------------------------------------------------------------------------------------
# Certificate status and deletion


def test_update_certificate_status_rules(iot):
    cert_id = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    iot.update_certificate(certificateId=cert_id, newStatus="INACTIVE")
    assert describe(iot, cert_id)["status"] == "INACTIVE"
    # UpdateCertificate docs: "This operation is idempotent."
    iot.update_certificate(certificateId=cert_id, newStatus="INACTIVE")
    iot.update_certificate(certificateId=cert_id, newStatus="ACTIVE")
    assert describe(iot, cert_id)["status"] == "ACTIVE"
    before = describe(iot, cert_id)["lastModifiedDate"]

    iot.update_certificate(certificateId=cert_id, newStatus="REVOKED")
    desc = describe(iot, cert_id)
    assert desc["status"] == "REVOKED"
    assert desc["lastModifiedDate"] >= before
    # Developer guide, "Revoke a client certificate": "Once a certificate is revoked, it's status
    # can't be changed ... to Active or any other status." UpdateCertificate lists
    # CertificateStateException (406) for a disallowed transition.
    expect_error(iot.update_certificate, "CertificateStateException", 406, certificateId=cert_id, newStatus="ACTIVE")
    expect_error(iot.update_certificate, "CertificateStateException", 406, certificateId=cert_id,
                 newStatus="INACTIVE")
    assert describe(iot, cert_id)["status"] == "REVOKED"


def test_update_certificate_to_internal_status_is_refused(iot):
    # UpdateCertificate docs: "Setting the status to PENDING_TRANSFER or PENDING_ACTIVATION will
    # result in an exception being thrown." The exception is not named.
    cert_id = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    for status in ("PENDING_TRANSFER", "PENDING_ACTIVATION"):
        expect_error_one_of(iot.update_certificate, {"InvalidRequestException", "CertificateStateException"},
                            certificateId=cert_id, newStatus=status)
    assert describe(iot, cert_id)["status"] == "ACTIVE"


def test_missing_and_malformed_certificate_ids(iot, iot_raw):
    missing = "0" * 64
    expect_error(iot.describe_certificate, "ResourceNotFoundException", 404, certificateId=missing)
    expect_error(iot.update_certificate, "ResourceNotFoundException", 404, certificateId=missing, newStatus="ACTIVE")
    expect_error(iot.delete_certificate, "ResourceNotFoundException", 404, certificateId=missing)
    # CertificateId: fixed length 64, pattern (0x)?[a-fA-F0-9]+.
    expect_error(iot.describe_certificate, "InvalidRequestException", 400, certificateId="z" * 64)
    expect_error(iot_raw.describe_certificate, "InvalidRequestException", 400, certificateId="abc123")


def test_delete_certificate_rules(iot):
    # DeleteCertificate docs: "A certificate cannot be deleted if it has a policy or IoT thing
    # attached to it or if its status is set to ACTIVE." AWS's answers (quoted in
    # github.com/rebuy-de/aws-nuke/issues/374): CertificateStateException "Certificate must be
    # deactivated (not ACTIVE) before deletion", DeleteConflictException for attachments.
    # forceDelete: "Forces the deletion of a certificate if it is inactive and is not attached to
    # an IoT thing" -- it overrides attached policies only.
    resp = iot.create_keys_and_certificate(setAsActive=True)
    cert_id, arn = resp["certificateId"], resp["certificateArn"]
    policy = unique("pol")
    iot.create_policy(policyName=policy, policyDocument=policy_document(allow("iot:Connect", "*")))
    thing = unique("thing")
    iot.create_thing(thingName=thing)

    expect_error(iot.delete_certificate, "CertificateStateException", 406, certificateId=cert_id)
    iot.update_certificate(certificateId=cert_id, newStatus="INACTIVE")

    iot.attach_policy(policyName=policy, target=arn)
    expect_error(iot.delete_certificate, "DeleteConflictException", 409, certificateId=cert_id)

    iot.attach_thing_principal(thingName=thing, principal=arn)
    expect_error(iot.delete_certificate, "DeleteConflictException", 409, certificateId=cert_id, forceDelete=True)
    iot.detach_thing_principal(thingName=thing, principal=arn)

    iot.delete_certificate(certificateId=cert_id, forceDelete=True)
    expect_error(iot.describe_certificate, "ResourceNotFoundException", 404, certificateId=cert_id)
    assert arn not in iot.list_targets_for_policy(policyName=policy)["targets"]
    assert iot.list_thing_principals(thingName=thing)["principals"] == []


def test_delete_revoked_and_inactive_certificates(iot):
    revoked = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    iot.update_certificate(certificateId=revoked, newStatus="REVOKED")
    iot.delete_certificate(certificateId=revoked)
    expect_error(iot.describe_certificate, "ResourceNotFoundException", 404, certificateId=revoked)

    inactive = iot.create_keys_and_certificate()["certificateId"]
    iot.delete_certificate(certificateId=inactive)
    expect_error(iot.describe_certificate, "ResourceNotFoundException", 404, certificateId=inactive)
    listed, _ = collect_pages(iot.list_certificates, "certificates", size=250, size_param="pageSize",
                              token_param="marker", token_field="nextMarker")
    assert not {revoked, inactive} & {c["certificateId"] for c in listed}


def test_list_certificates_order_and_paging(make_iot_account):
    # ListCertificates.ascendingOrder: "If True, the results are returned in ascending order,
    # based on the creation date."
    acct = make_iot_account()
    created = []
    for _ in range(5):
        created.append(acct.iot.create_keys_and_certificate(setAsActive=True)["certificateId"])
        time.sleep(0.01)  # distinct creation instants

    def listing(ascending: bool):
        certs, pages = collect_pages(acct.iot.list_certificates, "certificates", size=2, size_param="pageSize",
                                     token_param="marker", token_field="nextMarker", ascendingOrder=ascending)
        assert pages >= 3
        return certs

    ascending = listing(True)
    assert [c["certificateId"] for c in ascending] == created
    for cert in ascending:
        assert cert["certificateArn"] == acct.arn("cert", cert["certificateId"])
        assert cert["status"] == "ACTIVE"
        assert cert["certificateMode"] == "DEFAULT"
        assert near_now(cert["creationDate"])
    assert [c["creationDate"] for c in ascending] == sorted(c["creationDate"] for c in ascending)
    assert [c["certificateId"] for c in listing(False)] == created[::-1]


# --------------------------------------------------------------------------------------------
# CA certificates


def test_registration_code_is_stable(iot):
    # GetRegistrationCode: "If you already have a registration code, this API call will return the
    # same registration code."
    code = iot.get_registration_code()["registrationCode"]
    assert code and code == iot.get_registration_code()["registrationCode"]


def test_register_ca_certificate_with_verification_certificate(iot):
    ca = TestCA()
    resp = register_ca(iot, ca, setAsActive=True)
    assert resp["certificateId"] == ca.id
    assert resp["certificateArn"] == iot_arn(ACCT, "cacert", ca.id)

    desc = iot.describe_ca_certificate(certificateId=ca.id)["certificateDescription"]
    assert desc["certificateId"] == ca.id
    assert desc["certificateArn"] == resp["certificateArn"]
    assert desc["status"] == "ACTIVE"
    assert desc["certificateMode"] == "DEFAULT"
    assert desc["ownedBy"] == ACCT
    assert pem_to_der(desc["certificatePem"]) == pem_to_der(ca.pem)
    assert near_now(desc["creationDate"])
    assert abs(desc["validity"]["notAfter"] - ca.cert.not_valid_after_utc) < dt.timedelta(seconds=1)

    listed, _ = collect_pages(iot.list_ca_certificates, "certificates", size=250, size_param="pageSize",
                              token_param="marker", token_field="nextMarker")
    mine = [c for c in listed if c["certificateId"] == ca.id]
    assert len(mine) == 1 and mine[0]["status"] == "ACTIVE" and mine[0]["certificateArn"] == resp["certificateArn"]

    exc = expect_error(iot.register_ca_certificate, "ResourceAlreadyExistsException", 409,
                       caCertificate=ca.pem,
                       verificationCertificate=ca.verification_cert(iot.get_registration_code()["registrationCode"]))
    assert exc.response.get("resourceId") == ca.id, exc.response


def test_register_ca_certificate_is_inactive_unless_set_as_active(iot):
    ca = TestCA()
    register_ca(iot, ca)
    assert iot.describe_ca_certificate(certificateId=ca.id)["certificateDescription"]["status"] == "INACTIVE"


def test_register_ca_certificate_proof_of_possession(iot):
    ca = TestCA()
    code = iot.get_registration_code()["registrationCode"]
    # The verification certificate's Common Name must be the registration code
    # (RegistrationCodeValidationException, 400: "The registration code is invalid").
    expect_error(iot.register_ca_certificate, "RegistrationCodeValidationException", 400,
                 caCertificate=ca.pem, verificationCertificate=ca.verification_cert(unique("notthecode")))
    # ... and it must be signed by the CA's key. The docs do not name the error for a wrong
    # signature; both certificate-validation errors are 400s.
    impostor = TestCA(cn=ca.cn)
    expect_error_one_of(iot.register_ca_certificate,
                        {"CertificateValidationException", "RegistrationCodeValidationException"}, 400,
                        caCertificate=ca.pem, verificationCertificate=impostor.verification_cert(code))
    # "If certificateMode is DEFAULT or not provided, the verificationCertificate field must not be
    # empty"; "If certificateMode is SNI_ONLY, the verificationCertificate field must be empty."
    expect_error_one_of(iot.register_ca_certificate, {"InvalidRequestException", "CertificateValidationException"},
                        400, caCertificate=ca.pem)
    expect_error_one_of(iot.register_ca_certificate, {"InvalidRequestException", "CertificateValidationException"},
                        400, caCertificate=ca.pem, verificationCertificate=ca.verification_cert(code),
                        certificateMode="SNI_ONLY")
    expect_error(iot.describe_ca_certificate, "ResourceNotFoundException", 404, certificateId=ca.id)


def test_register_ca_certificate_sni_only(iot):
    ca = TestCA()
    resp = iot.register_ca_certificate(caCertificate=ca.pem, certificateMode="SNI_ONLY", setAsActive=True)
    assert resp["certificateId"] == ca.id
    desc = iot.describe_ca_certificate(certificateId=ca.id)["certificateDescription"]
    assert desc["certificateMode"] == "SNI_ONLY"
    assert desc["status"] == "ACTIVE"


def test_register_device_certificate_with_registered_ca(iot):
    ca = TestCA()
    register_ca(iot, ca, setAsActive=True)
    key, pem = ca.issue()
    resp = iot.register_certificate(certificatePem=pem, caCertificatePem=ca.pem, status="ACTIVE")
    cert_id = cert_id_of(pem)
    assert resp["certificateId"] == cert_id
    assert resp["certificateArn"] == iot_arn(ACCT, "cert", cert_id)
    desc = describe(iot, cert_id)
    assert desc["status"] == "ACTIVE"
    assert desc["caCertificateId"] == ca.id
    assert desc["certificateMode"] == "DEFAULT"
    assert pem_to_der(desc["certificatePem"]) == pem_to_der(pem)

    # Without caCertificatePem: only one registered CA has this subject, so it is found.
    _, pem2 = ca.issue()
    resp2 = iot.register_certificate(certificatePem=pem2, status="INACTIVE")
    assert resp2["certificateId"] == cert_id_of(pem2)
    desc2 = describe(iot, resp2["certificateId"])
    assert desc2["status"] == "INACTIVE" and desc2["caCertificateId"] == ca.id

    exc = expect_error(iot.register_certificate, "ResourceAlreadyExistsException", 409,
                       certificatePem=pem, caCertificatePem=ca.pem)
    assert exc.response.get("resourceId") == cert_id, exc.response
    assert exc.response.get("resourceArn") == resp["certificateArn"], exc.response

    by_ca, _ = collect_pages(iot.list_certificates_by_ca, "certificates", size=1, size_param="pageSize",
                             token_param="marker", token_field="nextMarker", caCertificateId=ca.id)
    assert sorted(c["certificateId"] for c in by_ca) == sorted([cert_id, resp2["certificateId"]])


def test_device_certificate_inherits_sni_only_mode_of_its_ca(iot):
    # RegisterCertificate: "Registers a device certificate with IoT in the same certificate mode
    # as the signing CA."
    ca = TestCA()
    iot.register_ca_certificate(caCertificate=ca.pem, certificateMode="SNI_ONLY", setAsActive=True)
    _, pem = ca.issue()
    cert_id = iot.register_certificate(certificatePem=pem, caCertificatePem=ca.pem, status="ACTIVE")["certificateId"]
    assert describe(iot, cert_id)["certificateMode"] == "SNI_ONLY"


def test_register_certificate_of_unregistered_ca_is_refused(iot):
    # The CA must be registered to verify the device certificate's ownership (developer guide,
    # "Register your CA certificate"); the error code is not documented.
    ca = TestCA()
    _, pem = ca.issue()
    expect_error_one_of(iot.register_certificate,
                        {"CertificateValidationException", "ResourceNotFoundException", "InvalidRequestException"},
                        certificatePem=pem, caCertificatePem=ca.pem)
    expect_error(iot.describe_certificate, "ResourceNotFoundException", 404, certificateId=cert_id_of(pem))


def test_register_certificate_without_ca(iot):
    pem = self_signed_device_cert()
    resp = iot.register_certificate_without_ca(certificatePem=pem, status="ACTIVE")
    cert_id = cert_id_of(pem)
    assert resp["certificateId"] == cert_id
    assert resp["certificateArn"] == iot_arn(ACCT, "cert", cert_id)
    desc = describe(iot, cert_id)
    assert desc["status"] == "ACTIVE"
    # CertificateMode docs: a certificate registered without a CA is in SNI_ONLY mode.
    assert desc["certificateMode"] == "SNI_ONLY"
    assert not desc.get("caCertificateId")
    expect_error(iot.register_certificate_without_ca, "ResourceAlreadyExistsException", 409, certificatePem=pem)

    pem2 = self_signed_device_cert()
    cert2 = iot.register_certificate_without_ca(certificatePem=pem2)["certificateId"]
    assert describe(iot, cert2)["status"] == "INACTIVE"


BAD_PEMS = [
    "not a certificate",
    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
]


@pytest.mark.parametrize("bad", BAD_PEMS, ids=["text", "truncated-der"])
def test_bad_pem_is_a_certificate_validation_error(iot, bad):
    # CertificateValidationException (400): "The certificate is invalid."
    expect_error(iot.register_certificate_without_ca, "CertificateValidationException", 400, certificatePem=bad)
    expect_error(iot.register_certificate, "CertificateValidationException", 400, certificatePem=bad)
    code = iot.get_registration_code()["registrationCode"]
    expect_error(iot.register_ca_certificate, "CertificateValidationException", 400,
                 caCertificate=bad, verificationCertificate=TestCA().verification_cert(code))


def test_update_ca_certificate(iot):
    ca = TestCA()
    register_ca(iot, ca, setAsActive=True)
    iot.update_ca_certificate(certificateId=ca.id, newStatus="INACTIVE")
    desc = iot.describe_ca_certificate(certificateId=ca.id)["certificateDescription"]
    assert desc["status"] == "INACTIVE"
    iot.update_ca_certificate(certificateId=ca.id, newStatus="ACTIVE", newAutoRegistrationStatus="ENABLE")
    desc = iot.describe_ca_certificate(certificateId=ca.id)["certificateDescription"]
    assert desc["status"] == "ACTIVE"
    assert desc["autoRegistrationStatus"] == "ENABLE"
    iot.update_ca_certificate(certificateId=ca.id, newAutoRegistrationStatus="DISABLE")
    assert iot.describe_ca_certificate(certificateId=ca.id)["certificateDescription"]["autoRegistrationStatus"] \
        == "DISABLE"
    expect_error(iot.update_ca_certificate, "ResourceNotFoundException", 404, certificateId="1" * 64,
                 newStatus="ACTIVE")


def test_delete_ca_certificate(iot):
    # DeleteCACertificate lists CertificateStateException (406); the console and CLI guides
    # deactivate a CA before deleting it, so an ACTIVE CA is refused.
    ca = TestCA()
    register_ca(iot, ca, setAsActive=True)
    expect_error(iot.delete_ca_certificate, "CertificateStateException", 406, certificateId=ca.id)
    iot.update_ca_certificate(certificateId=ca.id, newStatus="INACTIVE")
    iot.delete_ca_certificate(certificateId=ca.id)
    expect_error(iot.describe_ca_certificate, "ResourceNotFoundException", 404, certificateId=ca.id)
    expect_error(iot.delete_ca_certificate, "ResourceNotFoundException", 404, certificateId=ca.id)


def test_list_ca_certificates_order_and_paging(make_iot_account):
    acct = make_iot_account()
    created = []
    for _ in range(3):
        ca = TestCA()
        acct.iot.register_ca_certificate(caCertificate=ca.pem, certificateMode="SNI_ONLY", setAsActive=True)
        created.append(ca.id)
        time.sleep(0.01)

    def listing(ascending: bool):
        certs, _ = collect_pages(acct.iot.list_ca_certificates, "certificates", size=2, size_param="pageSize",
                                 token_param="marker", token_field="nextMarker", ascendingOrder=ascending)
        return [c["certificateId"] for c in certs]

    assert listing(True) == created
    assert listing(False) == created[::-1]
