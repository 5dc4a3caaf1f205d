//! Interop: OpenSSL, which mosquitto, paho (via Python's ssl) and most devices use, must
//! accept what we issue. Skipped with a message where `openssl` is not installed.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::CertificateAuthority;

fn openssl_available() -> bool {
    let found = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("skipping: `openssl` is not on PATH");
    }
    found
}

/// Runs openssl in `dir`, returning stdout; panics with its output if it fails.
fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "openssl {args:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// OpenSSL checks validity against the real clock, so these certificates use it too.
fn real_now_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(since_epoch.as_millis()).expect("time fits i64")
}

#[test]
fn openssl_verifies_device_and_server_certificates_and_loads_the_keys() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let now = real_now_ms();
    let ca = CertificateAuthority::load_or_create(&d.join("ca"), &["gw.example".to_string()], now)
        .unwrap();
    let issued = ca.issue_keys_and_certificate(now).unwrap();
    std::fs::write(d.join("root.pem"), ca.root_pem()).unwrap();
    std::fs::write(d.join("issuing.pem"), ca.issuing_pem()).unwrap();
    std::fs::write(d.join("device.pem"), &issued.certificate_pem).unwrap();
    std::fs::write(d.join("device.key"), &issued.private_key_pem).unwrap();
    std::fs::write(d.join("server.pem"), &ca.server().pem).unwrap();

    let out = openssl(
        d,
        &[
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "issuing.pem",
            "-purpose",
            "sslclient",
            "device.pem",
        ],
    );
    assert_eq!(out.trim(), "device.pem: OK");
    for check in [
        ["-verify_hostname", "gw.example"],
        ["-verify_hostname", "localhost"],
        ["-verify_ip", "127.0.0.1"],
        ["-verify_ip", "::1"],
    ] {
        let mut args = vec![
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "issuing.pem",
            "-purpose",
            "sslserver",
        ];
        args.extend_from_slice(&check);
        args.push("server.pem");
        assert_eq!(openssl(d, &args).trim(), "server.pem: OK", "{check:?}");
    }
    let public = openssl(d, &["pkey", "-in", "device.key", "-pubout"]);
    assert_eq!(public, issued.public_key_pem);
}

#[test]
fn openssl_csrs_with_rsa_keys_are_signed_and_verify() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let now = real_now_ms();
    let ca = CertificateAuthority::load_or_create(&d.join("ca"), &[], now).unwrap();
    openssl(
        d,
        &[
            "req",
            "-new",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "dev.key",
            "-subj",
            "/C=US/O=Acme Devices/CN=thing-42",
            "-out",
            "dev.csr",
        ],
    );
    let csr = std::fs::read_to_string(d.join("dev.csr")).unwrap();
    let cert = ca.sign_csr(&csr, now).unwrap();
    std::fs::write(d.join("dev.pem"), &cert).unwrap();
    std::fs::write(d.join("root.pem"), ca.root_pem()).unwrap();
    std::fs::write(d.join("issuing.pem"), ca.issuing_pem()).unwrap();
    let out = openssl(
        d,
        &[
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "issuing.pem",
            "-purpose",
            "sslclient",
            "dev.pem",
        ],
    );
    assert_eq!(out.trim(), "dev.pem: OK");
    let parsed = crate::parse_certificate_pem(&cert).unwrap();
    assert_eq!(parsed.subject, "CN=thing-42,O=Acme Devices,C=US");
    assert_eq!(
        (parsed.key.algorithm.as_str(), parsed.key.bits),
        ("RSA", 2048)
    );
    // The certificate carries the CSR's key: OpenSSL pairs it with the CSR's private key.
    let from_key = openssl(d, &["pkey", "-in", "dev.key", "-pubout"]);
    let from_cert = openssl(d, &["x509", "-in", "dev.pem", "-noout", "-pubkey"]);
    assert_eq!(from_key, from_cert);
}

#[test]
fn openssl_csr_variants_are_signed_or_refused_as_documented() {
    if !openssl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let now = real_now_ms();
    let ca = CertificateAuthority::load_or_create(&d.join("ca"), &[], now).unwrap();
    let ec_key = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let csr = |name: &str, extra: &[&str]| {
        let out = format!("{name}.csr");
        let key = format!("{name}.key");
        let mut args = vec!["req", "-new", "-keyout", &key, "-out", &out];
        args.extend_from_slice(&ec_key);
        args.extend_from_slice(extra);
        openssl(d, &args);
        std::fs::read_to_string(d.join(&out)).unwrap()
    };

    // Requested extensions OpenSSL adds (SAN, key usage) are ignored, not refused.
    let with_ext = csr(
        "ext",
        &[
            "-subj",
            "/CN=ext",
            "-addext",
            "subjectAltName=DNS:x.example",
        ],
    );
    let cert = crate::parse_certificate_pem(&ca.sign_csr(&with_ext, now).unwrap()).unwrap();
    assert_eq!(cert.subject, "CN=ext");
    assert!(cert.san.is_empty());

    let multi = csr("multi", &["-multivalue-rdn", "-subj", "/CN=a+O=b"]);
    assert!(
        ca.sign_csr(&multi, now)
            .unwrap_err()
            .message()
            .contains("multi-valued")
    );

    let sha1 = csr("sha1", &["-sha1", "-subj", "/CN=old"]);
    assert!(
        ca.sign_csr(&sha1, now)
            .unwrap_err()
            .message()
            .contains("signature")
    );

    let weak = [
        "req", "-new", "-newkey", "rsa:1024", "-nodes", "-keyout", "weak.key", "-subj", "/CN=weak",
        "-out", "weak.csr",
    ];
    openssl(d, &weak);
    let weak = std::fs::read_to_string(d.join("weak.csr")).unwrap();
    let err = ca.sign_csr(&weak, now).unwrap_err();
    assert!(err.message().contains("not supported"), "{err}");
}
