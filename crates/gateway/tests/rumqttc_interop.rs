//! The gateway with rumqttc (MQTT 3.1.1 and 5) as the device: the whole stack in process
//! (SQLite store, registry, CA, TLS), the device's certificate from CreateKeysAndCertificate.

use std::sync::Arc;
use std::time::Duration;

use fleetward_ca::CertificateAuthority;
use fleetward_gateway::{Gateway, GatewayConfig, server_config};
use fleetward_model::{Caller, SystemClock};
use fleetward_registry::{Endpoints, Registry};
use fleetward_store::AccountRow;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::json;

struct Stack {
    _dir: tempfile::TempDir,
    addr: std::net::SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    registry: Arc<Registry>,
    cert_id: String,
}

fn caller() -> Caller {
    Caller {
        account_id: "000000000000".into(),
        identity: "test".into(),
    }
}

async fn stack(policy: serde_json::Value) -> Stack {
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
    let clock = Arc::new(SystemClock);
    let now = fleetward_model::Clock::now_ms(&SystemClock);
    let ca = Arc::new(CertificateAuthority::load_or_create(dir.path(), &[], now).unwrap());
    let registry = Arc::new(
        Registry::open(
            store.clone(),
            clock.clone(),
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
    let me = caller();
    let created = registry
        .handle_create_keys_and_certificate(&me, &json!({"setAsActive": true}))
        .await
        .unwrap();
    registry
        .handle_create_policy(
            &me,
            &json!({"policyName": "device", "policyDocument": policy.to_string()}),
        )
        .await
        .unwrap();
    registry
        .handle_attach_policy(
            &me,
            &json!({"policyName": "device", "target": created["certificateArn"]}),
        )
        .await
        .unwrap();

    let gateway = Gateway::new(
        registry.clone(),
        store,
        clock.clone(),
        GatewayConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server_tls = server_config(&ca, registry.clone(), Arc::new(SystemClock)).unwrap();
    tokio::spawn(gateway.serve(listener, server_tls));

    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca.root_pem().as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let chain = vec![
        CertificateDer::from_pem_slice(created["certificatePem"].as_str().unwrap().as_bytes())
            .unwrap(),
    ];
    let key = PrivateKeyDer::from_pem_slice(
        created["keyPair"]["PrivateKey"]
            .as_str()
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, key)
    .unwrap();
    Stack {
        _dir: dir,
        addr,
        tls: Arc::new(tls),
        registry,
        cert_id: created["certificateId"].as_str().unwrap().to_string(),
    }
}

fn allow_all() -> serde_json::Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})
}

fn v4_options(stack: &Stack, client_id: &str) -> rumqttc::MqttOptions {
    let mut options = rumqttc::MqttOptions::new(client_id, "localhost", stack.addr.port());
    options.set_transport(rumqttc::Transport::tls_with_config(
        rumqttc::TlsConfiguration::Rustls(stack.tls.clone()),
    ));
    options.set_keep_alive(Duration::from_secs(30));
    options
}

/// Polls the event loop until `want` matches an incoming packet (or times out).
async fn wait_for(
    events: &mut rumqttc::EventLoop,
    mut want: impl FnMut(&rumqttc::Packet) -> bool,
) -> Result<rumqttc::Packet, String> {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match events.poll().await {
                Ok(rumqttc::Event::Incoming(packet)) if want(&packet) => return Ok(packet),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    })
    .await
    .map_err(|_| "timed out".to_string())?
}

#[tokio::test]
async fn rumqttc_v311_publishes_and_receives_over_mutual_tls() {
    let stack = stack(allow_all()).await;
    let (client, mut events) = rumqttc::AsyncClient::new(v4_options(&stack, "rumqttc-device"), 10);
    client
        .subscribe("sensors/#", rumqttc::QoS::AtLeastOnce)
        .await
        .unwrap();
    wait_for(&mut events, |p| matches!(p, rumqttc::Packet::SubAck(_)))
        .await
        .unwrap();
    client
        .publish(
            "sensors/t1",
            rumqttc::QoS::AtLeastOnce,
            false,
            b"21.5".to_vec(),
        )
        .await
        .unwrap();
    let got = wait_for(&mut events, |p| matches!(p, rumqttc::Packet::Publish(_)))
        .await
        .unwrap();
    let rumqttc::Packet::Publish(publish) = got else {
        unreachable!()
    };
    assert_eq!(publish.topic, "sensors/t1");
    assert_eq!(&publish.payload[..], b"21.5");
}

#[tokio::test]
async fn a_denied_publish_closes_an_mqtt311_connection_and_deactivation_cuts_it() {
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iot:Connect", "iot:Subscribe", "iot:Receive"], "Resource": "*"},
        {"Effect": "Allow", "Action": "iot:Publish", "Resource": "arn:aws:iot:us-east-1:000000000000:topic/allowed"}]});
    let stack = stack(policy).await;
    let (client, mut events) = rumqttc::AsyncClient::new(v4_options(&stack, "limited"), 10);
    client
        .publish("allowed", rumqttc::QoS::AtLeastOnce, false, b"ok".to_vec())
        .await
        .unwrap();
    wait_for(&mut events, |p| matches!(p, rumqttc::Packet::PubAck(_)))
        .await
        .unwrap();
    client
        .publish(
            "forbidden",
            rumqttc::QoS::AtLeastOnce,
            false,
            b"no".to_vec(),
        )
        .await
        .unwrap();
    assert!(
        wait_for(&mut events, |_| false).await.is_err(),
        "the connection is closed"
    );

    // A fresh connection, then the certificate is deactivated: the gateway closes it.
    let (_client, mut events) = rumqttc::AsyncClient::new(v4_options(&stack, "limited-2"), 10);
    wait_for(&mut events, |p| matches!(p, rumqttc::Packet::ConnAck(_)))
        .await
        .unwrap();
    stack
        .registry
        .handle_update_certificate(
            &caller(),
            &json!({"certificateId": stack.cert_id, "newStatus": "INACTIVE"}),
        )
        .await
        .unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            if events.poll().await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the live connection was closed within one second"
    );
}

#[tokio::test]
async fn rumqttc_v5_gets_reason_codes() {
    use rumqttc::v5::mqttbytes::QoS as Qos5;
    use rumqttc::v5::mqttbytes::v5::{Packet as P5, PubAckReason};
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iot:Connect", "iot:Subscribe", "iot:Receive"], "Resource": "*"}]});
    let stack = stack(policy).await;
    let mut options = rumqttc::v5::MqttOptions::new("v5-device", "localhost", stack.addr.port());
    options.set_transport(rumqttc::Transport::tls_with_config(
        rumqttc::TlsConfiguration::Rustls(stack.tls.clone()),
    ));
    let (client, mut events) = rumqttc::v5::AsyncClient::new(options, 10);
    client
        .publish("anything", Qos5::AtLeastOnce, false, b"x".to_vec())
        .await
        .unwrap();
    let puback = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match events.poll().await {
                Ok(rumqttc::v5::Event::Incoming(P5::PubAck(ack))) => return Ok(ack),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    })
    .await
    .expect("a PUBACK in time")
    .expect("the connection stays open under MQTT 5");
    assert_eq!(puback.reason, PubAckReason::NotAuthorized);
}
