//! Service tests: real store (SQLite), real CA, a real HTTP endpoint on loopback.

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use fleetward_ca::CertificateAuthority;
use fleetward_model::{Caller, SystemClock};
use fleetward_store::{AccountRow, Store};
use serde_json::Value;

use crate::{Events, EventsConfig, MqttSink, PublishInput, SnsError};

const ACCOUNT: &str = "000000000000";
const OTHER: &str = "111111111111";

fn caller(account: &str) -> Caller {
    Caller {
        account_id: account.to_string(),
        identity: format!("arn:aws:iam::{account}:user/test"),
    }
}

/// One request an endpoint received.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: String,
}

/// An HTTP endpoint on loopback that records requests and answers `status`.
struct Endpoint {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
}

impl Endpoint {
    async fn start() -> Endpoint {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(200));
        let (r, s) = (received.clone(), status.clone());
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let (r, s) = (r.clone(), s.clone());
            async move {
                r.lock().unwrap().push(Received {
                    headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Endpoint {
            url,
            received,
            status,
        }
    }

    async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..200 {
            let got = self.received.lock().unwrap().clone();
            if got.len() >= count {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("endpoint got {:?}", self.received.lock().unwrap());
    }
}

struct Harness {
    events: Arc<Events>,
    _dir: tempfile::TempDir,
}

async fn store_at(dir: &std::path::Path) -> Arc<dyn Store> {
    let store = fleetward_store::open(dir.join("db.sqlite").to_str().unwrap())
        .await
        .unwrap();
    for account in [ACCOUNT, OTHER] {
        store
            .create_account(&AccountRow {
                account_id: account.into(),
                name: String::new(),
                created_ms: 0,
            })
            .await
            .unwrap();
    }
    store
}

async fn open_at(dir: &std::path::Path, mqtt: Option<Arc<dyn MqttSink>>) -> Arc<Events> {
    let clock = Arc::new(SystemClock);
    let ca = CertificateAuthority::load_or_create(
        dir,
        &[],
        fleetward_model::Clock::now_ms(&SystemClock),
    )
    .unwrap();
    let config = EventsConfig::new("us-east-1", dir.to_path_buf(), "http://127.0.0.1:7440");
    Events::open(store_at(dir).await, clock, &ca, mqtt, config)
        .await
        .unwrap()
}

async fn harness() -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let events = open_at(dir.path(), None).await;
    Harness { events, _dir: dir }
}

fn publish(topic: &str, message: &str) -> PublishInput {
    PublishInput {
        topic_arn: Some(topic.to_string()),
        message: Some(message.to_string()),
        ..PublishInput::default()
    }
}

fn attribute(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// Subscribes the endpoint and confirms with the token of the confirmation it received.
async fn confirmed_http(events: &Events, topic: &str, endpoint: &Endpoint) -> String {
    let me = caller(ACCOUNT);
    let answer = events
        .subscribe(&me, topic, "http", Some(&endpoint.url), &[], false)
        .await
        .unwrap();
    assert_eq!(answer, "pending confirmation");
    let got = endpoint.wait_for(1).await;
    let confirmation: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(confirmation["Type"], "SubscriptionConfirmation");
    assert_eq!(
        got[0].headers["x-amz-sns-message-type"],
        "SubscriptionConfirmation"
    );
    let token = confirmation["Token"].as_str().unwrap();
    assert!(
        confirmation["SubscribeURL"]
            .as_str()
            .unwrap()
            .contains(token)
    );
    events
        .confirm_subscription(None, topic, token, None)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_lifecycle_attributes_tags_and_paging() {
    let h = harness().await;
    let me = caller(ACCOUNT);
    let attrs = vec![("DisplayName".to_string(), "Alerts".to_string())];
    let arn = h
        .events
        .create_topic(&me, "alerts", &attrs, &[])
        .await
        .unwrap();
    assert_eq!(arn, "arn:aws:sns:us-east-1:000000000000:alerts");
    // Same name and attributes: the same ARN; different attributes: InvalidParameter.
    assert_eq!(
        h.events
            .create_topic(&me, "alerts", &attrs, &[])
            .await
            .unwrap(),
        arn
    );
    let other = vec![("DisplayName".to_string(), "Other".to_string())];
    let err = h
        .events
        .create_topic(&me, "alerts", &other, &[])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "InvalidParameter");
    assert_eq!(
        h.events
            .create_topic(&me, "bad name", &[], &[])
            .await
            .unwrap_err()
            .code(),
        "InvalidParameter"
    );

    let got = h.events.get_topic_attributes(&me, &arn).unwrap();
    assert_eq!(attribute(&got, "DisplayName").as_deref(), Some("Alerts"));
    assert_eq!(attribute(&got, "Owner").as_deref(), Some(ACCOUNT));
    assert_eq!(
        attribute(&got, "SubscriptionsConfirmed").as_deref(),
        Some("0")
    );
    assert!(
        attribute(&got, "EffectiveDeliveryPolicy")
            .unwrap()
            .contains("numRetries")
    );
    h.events
        .set_topic_attributes(&me, &arn, "SignatureVersion", Some("2"))
        .await
        .unwrap();
    let got = h.events.get_topic_attributes(&me, &arn).unwrap();
    assert_eq!(attribute(&got, "SignatureVersion").as_deref(), Some("2"));

    let tags = vec![("team".to_string(), "sec".to_string())];
    h.events.tag_resource(&me, &arn, &tags).await.unwrap();
    assert_eq!(h.events.list_tags_for_resource(&me, &arn).unwrap(), tags);
    h.events
        .untag_resource(&me, &arn, &["team".into()])
        .await
        .unwrap();
    assert!(
        h.events
            .list_tags_for_resource(&me, &arn)
            .unwrap()
            .is_empty()
    );

    for i in 0..150 {
        h.events
            .create_topic(&me, &format!("t{i:03}"), &[], &[])
            .await
            .unwrap();
    }
    let (first, token) = h.events.list_topics(&me, None).unwrap();
    assert_eq!(first.len(), 100);
    let (second, token2) = h.events.list_topics(&me, token.as_deref()).unwrap();
    assert_eq!(second.len(), 51);
    assert!(token2.is_none());

    h.events.delete_topic(&me, &arn).await.unwrap();
    let err = h.events.get_topic_attributes(&me, &arn).unwrap_err();
    assert_eq!(err, SnsError::topic_not_found());
    let err = h.events.list_tags_for_resource(&me, &arn).unwrap_err();
    assert_eq!(err.code(), "ResourceNotFound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_never_see_each_others_topics() {
    let h = harness().await;
    let arn = h
        .events
        .create_topic(&caller(ACCOUNT), "private", &[], &[])
        .await
        .unwrap();
    let them = caller(OTHER);
    assert!(h.events.list_topics(&them, None).unwrap().0.is_empty());
    let err = h.events.get_topic_attributes(&them, &arn).unwrap_err();
    assert_eq!(err.code(), "AuthorizationError");
    let err = h
        .events
        .publish(&them, publish(&arn, "x"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "AuthorizationError");
    let missing = "arn:aws:sns:us-east-1:000000000000:missing";
    let err = h.events.get_topic_attributes(&them, missing).unwrap_err();
    assert_eq!(err.code(), "AuthorizationError", "existence must not leak");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_subscription_handshake_signed_notification_and_unsubscribe() {
    let h = harness().await;
    let me = caller(ACCOUNT);
    let endpoint = Endpoint::start().await;
    let topic = h.events.create_topic(&me, "audit", &[], &[]).await.unwrap();
    let sub_arn = confirmed_http(&h.events, &topic, &endpoint).await;
    assert!(sub_arn.starts_with(&format!("{topic}:")));

    let mut input = publish(&topic, "audit finished");
    input.subject = Some("Audit".into());
    let message_id = h.events.publish(&me, input).await.unwrap();
    let got = endpoint.wait_for(2).await;
    let n: Value = serde_json::from_str(&got[1].body).unwrap();
    assert_eq!(n["Type"], "Notification");
    assert_eq!(n["MessageId"], message_id);
    assert_eq!(n["Message"], "audit finished");
    assert_eq!(n["Subject"], "Audit");
    assert_eq!(n["SignatureVersion"], "1");
    assert_eq!(
        got[1].headers["x-amz-sns-subscription-arn"],
        sub_arn.as_str()
    );
    assert_eq!(got[1].headers["x-amz-sns-topic-arn"], topic.as_str());

    // The signature verifies with the served certificate's key.
    let file = h.events.signing_cert_url();
    let file = file.rsplit('/').next().unwrap();
    let pem = h.events.signing_certificate(file).unwrap();
    let leaf = crate::signing::leaf_of(pem).unwrap();
    let rsa = leaf.key.rsa.unwrap();
    let key = ring::signature::RsaPublicKeyComponents {
        n: &rsa.modulus,
        e: &rsa.exponent,
    };
    let to_sign = format!(
        "Message\n{}\nMessageId\n{}\nSubject\n{}\nTimestamp\n{}\nTopicArn\n{}\nType\nNotification\n",
        n["Message"].as_str().unwrap(),
        n["MessageId"].as_str().unwrap(),
        n["Subject"].as_str().unwrap(),
        n["Timestamp"].as_str().unwrap(),
        n["TopicArn"].as_str().unwrap()
    );
    use base64::Engine;
    let signature = base64::engine::general_purpose::STANDARD
        .decode(n["Signature"].as_str().unwrap())
        .unwrap();
    key.verify(
        &ring::signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        to_sign.as_bytes(),
        &signature,
    )
    .expect("signature verifies");

    let attrs = h.events.get_subscription_attributes(&me, &sub_arn).unwrap();
    assert_eq!(
        attribute(&attrs, "PendingConfirmation").as_deref(),
        Some("false")
    );
    // The unsubscribe URL works without a signature, with its token.
    let url = n["UnsubscribeURL"].as_str().unwrap();
    let token = url.rsplit("Token=").next().unwrap();
    let err = h
        .events
        .unsubscribe_with_token(&sub_arn, "wrong")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "AuthorizationError");
    h.events
        .unsubscribe_with_token(&sub_arn, token)
        .await
        .unwrap();
    let err = h
        .events
        .get_subscription_attributes(&me, &sub_arn)
        .unwrap_err();
    assert_eq!(err.code(), "NotFound");
    let got = h.events.get_topic_attributes(&me, &topic).unwrap();
    assert_eq!(
        attribute(&got, "SubscriptionsDeleted").as_deref(),
        Some("1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_deliveries_are_retried_by_policy_and_counted() {
    let h = harness().await;
    let me = caller(ACCOUNT);
    let endpoint = Endpoint::start().await;
    let topic = h.events.create_topic(&me, "flaky", &[], &[]).await.unwrap();
    let sub = confirmed_http(&h.events, &topic, &endpoint).await;
    h.events
        .set_subscription_attributes(
            &me,
            &sub,
            "DeliveryPolicy",
            Some(
                r#"{"healthyRetryPolicy":{"numRetries":2,"minDelayTarget":1,"maxDelayTarget":1}}"#,
            ),
        )
        .await
        .unwrap();
    endpoint.status.store(500, Ordering::SeqCst);
    h.events.publish(&me, publish(&topic, "one")).await.unwrap();
    // First attempt and two retries a second apart, then the message is given up.
    endpoint.wait_for(4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let attrs = h.events.get_subscription_attributes(&me, &sub).unwrap();
    assert_eq!(
        attribute(&attrs, "DeliveryAttemptsFailed").as_deref(),
        Some("3")
    );
    assert_eq!(attribute(&attrs, "DeliveriesFailed").as_deref(), Some("1"));
    assert_eq!(
        attribute(&attrs, "LastDeliveryStatus").as_deref(),
        Some("FAILURE")
    );
    assert_eq!(
        attribute(&attrs, "LastDeliveryError").as_deref(),
        Some("HTTP status 500")
    );
    assert_eq!(attribute(&attrs, "DeliveriesPending").as_deref(), Some("0"));
    // A retry that succeeds.
    h.events.publish(&me, publish(&topic, "two")).await.unwrap();
    endpoint.wait_for(5).await;
    endpoint.status.store(200, Ordering::SeqCst);
    endpoint.wait_for(6).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let attrs = h.events.get_subscription_attributes(&me, &sub).unwrap();
    // The confirmation request counts too.
    assert_eq!(
        attribute(&attrs, "DeliveriesSucceeded").as_deref(),
        Some("2")
    );
    assert_eq!(
        attribute(&attrs, "LastDeliveryStatus").as_deref(),
        Some("SUCCESS")
    );
}

#[derive(Default)]
struct RecordingSink(Mutex<Vec<(String, String, Vec<u8>)>>);

#[async_trait::async_trait]
impl MqttSink for RecordingSink {
    async fn publish(&self, account: &str, topic: &str, payload: Vec<u8>) -> Result<(), String> {
        self.0
            .lock()
            .unwrap()
            .push((account.to_string(), topic.to_string(), payload));
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt_and_file_subscriptions_need_no_confirmation() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(RecordingSink::default());
    let events = open_at(dir.path(), Some(sink.clone())).await;
    let me = caller(ACCOUNT);
    let topic = events.create_topic(&me, "ops", &[], &[]).await.unwrap();
    let raw = vec![("RawMessageDelivery".to_string(), "true".to_string())];
    let mqtt = events
        .subscribe(&me, &topic, "mqtt", Some("alerts/ops"), &raw, false)
        .await
        .unwrap();
    assert!(mqtt.starts_with(&topic));
    events
        .subscribe(&me, &topic, "file", Some("ops/alerts.jsonl"), &[], false)
        .await
        .unwrap();
    let err = events
        .subscribe(&me, &topic, "file", Some("../escape"), &[], false)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "InvalidParameter");
    events
        .publish_internal(ACCOUNT, &topic, Some("Alarm"), "device x in alarm")
        .await
        .unwrap();
    let path = dir.path().join("notifications/ops/alerts.jsonl");
    for _ in 0..100 {
        if path.exists() && !sink.0.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let published = sink.0.lock().unwrap().clone();
    assert_eq!(
        published,
        vec![(
            ACCOUNT.to_string(),
            "alerts/ops".to_string(),
            b"device x in alarm".to_vec()
        )]
    );
    let line: Value = serde_json::from_str(std::fs::read_to_string(&path).unwrap().trim()).unwrap();
    assert_eq!(line["Message"], "device x in alarm");
    assert_eq!(line["Subject"], "Alarm");
}

#[test]
fn pending_deliveries_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint_runtime = tokio::runtime::Runtime::new().unwrap();
    let endpoint = endpoint_runtime.block_on(Endpoint::start());
    let (topic, sub) = {
        // The first node: the endpoint fails, the message waits for its retry, then the node
        // dies with its runtime (no shutdown of any kind).
        let node = tokio::runtime::Runtime::new().unwrap();
        let result = node.block_on(async {
            let events = open_at(dir.path(), None).await;
            let me = caller(ACCOUNT);
            let topic = events.create_topic(&me, "durable", &[], &[]).await.unwrap();
            let sub = confirmed_http(&events, &topic, &endpoint).await;
            events
                .set_subscription_attributes(
                    &me,
                    &sub,
                    "DeliveryPolicy",
                    Some(r#"{"healthyRetryPolicy":{"numRetries":50,"minDelayTarget":1,"maxDelayTarget":1}}"#),
                )
                .await
                .unwrap();
            endpoint.status.store(503, Ordering::SeqCst);
            events.publish(&me, publish(&topic, "kept")).await.unwrap();
            endpoint.wait_for(2).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            (topic, sub)
        });
        drop(node);
        result
    };
    endpoint.status.store(200, Ordering::SeqCst);
    let node = tokio::runtime::Runtime::new().unwrap();
    node.block_on(async {
        let events = open_at(dir.path(), None).await;
        let got = endpoint.wait_for(3).await;
        let last: Value = serde_json::from_str(&got.last().unwrap().body).unwrap();
        assert_eq!(last["Message"], "kept");
        assert_eq!(last["TopicArn"], topic.as_str());
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let attrs = events
            .get_subscription_attributes(&caller(ACCOUNT), &sub)
            .unwrap();
        assert_eq!(
            attribute(&attrs, "DeliveriesSucceeded").as_deref(),
            Some("2")
        );
    });
}
