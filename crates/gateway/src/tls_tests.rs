//! Real TLS handshakes between a tokio-rustls client and the gateway's configuration.

use std::sync::Arc;

use fleetward_ca::CertificateAuthority;
use fleetward_model::{Caller, ManualClock};
use fleetward_registry::{Endpoints, Registry};
use fleetward_store::AccountRow;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::server_config;

/// 2026-01-01T00:00:00Z
const START_MS: i64 = 1_767_225_600_000;

struct Fixture {
    _dir: tempfile::TempDir,
    ca: Arc<CertificateAuthority>,
    registry: Arc<Registry>,
    clock: ManualClock,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = fleetward_store::open(&format!("sqlite://{}", dir.path().join("db").display()))
        .await
        .unwrap();
    store
        .create_account(&AccountRow {
            account_id: "000000000000".into(),
            name: "d".into(),
            created_ms: 0,
        })
        .await
        .unwrap();
    let clock = ManualClock::new(START_MS);
    let ca = Arc::new(CertificateAuthority::load_or_create(dir.path(), &[], START_MS).unwrap());
    let registry = Arc::new(
        Registry::open(
            store,
            Arc::new(clock.clone()),
            "us-east-1",
            ca.clone(),
            Endpoints {
                data: "localhost".into(),
                credential_provider: "localhost".into(),
            },
        )
        .await
        .unwrap(),
    );
    Fixture {
        _dir: dir,
        ca,
        registry,
        clock,
    }
}

fn caller() -> Caller {
    Caller {
        account_id: "000000000000".into(),
        identity: "test".into(),
    }
}

/// Runs one handshake with this client certificate; true if the client could exchange data.
async fn handshake(fx: &Fixture, cert_pem: &str, key_pem: &str) -> bool {
    let server = server_config(&fx.ca, fx.registry.clone(), Arc::new(fx.clock.clone())).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(server);
    let serving = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        if let Ok(mut tls) = acceptor.accept(tcp).await {
            let mut byte = [0u8; 1];
            if tls.read_exact(&mut byte).await.is_ok() {
                let _ = tls.write_all(&byte).await;
                let _ = tls.flush().await;
            }
        }
    });

    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(fx.ca.root_pem().as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let chain = vec![CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, key)
    .unwrap();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let ok = match connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
    {
        // TLS 1.3 finishes the client side before the server checks the client certificate:
        // only an echoed byte proves the server let the client in.
        Ok(mut tls) => {
            let mut echo = [0u8; 1];
            tls.write_all(b"x").await.is_ok()
                && tls.flush().await.is_ok()
                && tls.read_exact(&mut echo).await.is_ok()
        }
        Err(_) => false,
    };
    serving.await.unwrap();
    ok
}

#[tokio::test]
async fn registered_active_certificates_get_in_and_others_do_not() {
    let fx = fixture().await;
    let created = fx
        .registry
        .handle_create_keys_and_certificate(&caller(), &json!({"setAsActive": true}))
        .await
        .unwrap();
    let cert = created["certificatePem"].as_str().unwrap();
    let key = created["keyPair"]["PrivateKey"].as_str().unwrap();
    assert!(
        handshake(&fx, cert, key).await,
        "an ACTIVE registered certificate connects"
    );

    fx.registry
        .handle_update_certificate(
            &caller(),
            &json!({"certificateId": created["certificateId"], "newStatus": "INACTIVE"}),
        )
        .await
        .unwrap();
    assert!(
        !handshake(&fx, cert, key).await,
        "an INACTIVE certificate is refused"
    );

    // A certificate nobody registered, even one issued by a CA the server trusts, is refused.
    let stranger_ca = fleetward_ca::testing::self_signed_ca("Stranger");
    let stranger = fleetward_ca::testing::issue_cert(
        &stranger_ca,
        "dev",
        START_MS - 1000,
        START_MS + 86_400_000,
    );
    assert!(!handshake(&fx, &stranger.cert_pem, &stranger.key_pem).await);
}

#[tokio::test]
async fn certificates_without_a_ca_connect_once_registered() {
    let fx = fixture().await;
    let own = fleetward_ca::testing::self_signed_ca("device-own");
    assert!(!handshake(&fx, &own.cert_pem, &own.key_pem).await);
    fx.registry
        .handle_register_certificate_without_ca(
            &caller(),
            &json!({"certificatePem": own.cert_pem, "status": "ACTIVE"}),
        )
        .await
        .unwrap();
    assert!(handshake(&fx, &own.cert_pem, &own.key_pem).await);
}
