//! End to end inside the crate: streams created through the handlers, records put, a small
//! HEC receiver (axum) acknowledging them, failures going to the backup directory, and
//! records surviving a restart.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use fleetward_model::{Caller, SystemClock};
use fleetward_store::{AccountRow, Store};
use serde_json::{Value, json};

use crate::{Export, ExportOptions};

const TOKEN: &str = "token-1";

#[derive(Default)]
struct Hec {
    bodies: Mutex<Vec<String>>,
    /// Answer data requests with this HEC code while set.
    fail_code: Mutex<Option<i64>>,
    next_ack: Mutex<u64>,
}

async fn event(
    State(hec): State<Arc<Hec>>,
    headers: HeaderMap,
    body: String,
) -> (StatusCode, Json<Value>) {
    if headers.get("authorization").and_then(|v| v.to_str().ok())
        != Some(&format!("Splunk {TOKEN}"))
    {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"text": "Invalid token", "code": 4})),
        );
    }
    if headers.get("x-splunk-request-channel").is_none() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"text": "Data channel is missing", "code": 10})),
        );
    }
    if let Some(code) = *hec.fail_code.lock().unwrap() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"text": "Server is busy", "code": code})),
        );
    }
    hec.bodies.lock().unwrap().push(body);
    let mut next = hec.next_ack.lock().unwrap();
    let id = *next;
    *next += 1;
    (
        StatusCode::OK,
        Json(json!({"text": "Success", "code": 0, "ackId": id})),
    )
}

async fn ack(Json(body): Json<Value>) -> Json<Value> {
    let mut acks = serde_json::Map::new();
    for id in body["acks"].as_array().cloned().unwrap_or_default() {
        acks.insert(id.to_string(), json!(true));
    }
    Json(json!({ "acks": acks }))
}

async fn start_hec() -> (SocketAddr, Arc<Hec>) {
    let hec = Arc::new(Hec::default());
    let app = axum::Router::new()
        .route("/services/collector/event", axum::routing::post(event))
        .route("/services/collector/ack", axum::routing::post(ack))
        .with_state(hec.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, hec)
}

async fn open(dir: &Path, max_buffer: u64) -> (Arc<dyn Store>, Arc<Export>) {
    let store = fleetward_store::open(&format!("sqlite://{}", dir.join("db.sqlite").display()))
        .await
        .unwrap();
    store
        .create_account(&AccountRow {
            account_id: "000000000000".into(),
            name: "default".into(),
            created_ms: 0,
        })
        .await
        .unwrap();
    let mut options = ExportOptions::new(dir.to_path_buf());
    options.max_buffer_bytes = max_buffer;
    options.ack_poll_ms = 20;
    let export = Export::open(store.clone(), Arc::new(SystemClock), "us-east-1", options)
        .await
        .unwrap();
    (store, export)
}

fn caller() -> Caller {
    Caller {
        account_id: "000000000000".into(),
        identity: "AKIDTEST".into(),
    }
}

fn create_input(name: &str, hec: SocketAddr, token: &str, retry: u32) -> Value {
    json!({
        "DeliveryStreamName": name,
        "SplunkDestinationConfiguration": {
            "HECEndpoint": format!("http://{hec}"),
            "HECEndpointType": "Event",
            "HECToken": token,
            "RetryOptions": {"DurationInSeconds": retry},
            "BufferingHints": {"IntervalInSeconds": 0, "SizeInMBs": 1},
            "S3Configuration": {"RoleARN": "arn:aws:iam::000000000000:role/r", "BucketARN": "arn:aws:s3:::b"},
            "ProcessingConfiguration": {"Enabled": true, "Processors": [{"Type": "Lambda", "Parameters": [
                {"ParameterName": "LambdaArn", "ParameterValue": "fleetward:hec-event?sourcetype=aws:iot&host={thing}"}
            ]}]}
        }
    })
}

fn batch(name: &str, from: usize, n: usize) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    let records: Vec<Value> = (from..from + n)
        .map(|i| json!({"Data": b64.encode(json!({"thing": format!("t{i}"), "seq": i}).to_string())}))
        .collect();
    json!({"DeliveryStreamName": name, "Records": records})
}

fn delivered_events(hec: &Hec) -> Vec<Value> {
    let mut out = Vec::new();
    for body in hec.bodies.lock().unwrap().iter() {
        let stream = serde_json::Deserializer::from_str(body).into_iter::<Value>();
        out.extend(stream.map(|v| v.unwrap()));
    }
    out
}

async fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_reach_the_hec_transformed_and_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let (hec_addr, hec) = start_hec().await;
    let (_store, export) = open(dir.path(), 1 << 30).await;
    let c = caller();
    export
        .handle_create_delivery_stream(&c, &create_input("s1", hec_addr, TOKEN, 60))
        .await
        .unwrap();
    let answer = export
        .handle_put_record_batch(&c, &batch("s1", 0, 50))
        .await
        .unwrap();
    assert_eq!(answer["FailedPutCount"], 0);
    assert_eq!(answer["RequestResponses"].as_array().unwrap().len(), 50);
    wait_for("50 events", || delivered_events(&hec).len() >= 50).await;
    let events = delivered_events(&hec);
    assert_eq!(
        events[7],
        json!({"sourcetype": "aws:iot", "host": "t7", "event": {"thing": "t7", "seq": 7}})
    );
    let stream = export.get("000000000000", "s1").unwrap();
    wait_for("the checkpoint", || stream.log.pending_bytes() == 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_token_sends_the_batch_to_the_backup_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (hec_addr, hec) = start_hec().await;
    let (_store, export) = open(dir.path(), 1 << 30).await;
    let c = caller();
    export
        .handle_create_delivery_stream(&c, &create_input("bad", hec_addr, "wrong", 60))
        .await
        .unwrap();
    export
        .handle_put_record_batch(&c, &batch("bad", 0, 3))
        .await
        .unwrap();
    let root = dir
        .path()
        .join("export/backup/000000000000/bad/splunk-failed");
    wait_for("a backup file", || root.exists()).await;
    let stream = export.get("000000000000", "bad").unwrap();
    wait_for("the checkpoint", || stream.log.pending_bytes() == 0).await;
    let mut lines = Vec::new();
    for entry in walk(&root) {
        lines.extend(
            std::fs::read_to_string(entry)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()),
        );
    }
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["errorCode"], "Splunk.InvalidToken");
    assert_eq!(lines[0]["attemptsMade"], 1);
    let raw = base64::engine::general_purpose::STANDARD
        .decode(lines[0]["rawData"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&raw).unwrap(),
        json!({"thing": "t0", "seq": 0})
    );
    assert!(delivered_events(&hec).is_empty());
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_accepted_while_the_hec_is_busy_are_delivered_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (hec_addr, hec) = start_hec().await;
    *hec.fail_code.lock().unwrap() = Some(9);
    {
        let (_store, export) = open(dir.path(), 1 << 30).await;
        let c = caller();
        export
            .handle_create_delivery_stream(&c, &create_input("r", hec_addr, TOKEN, 600))
            .await
            .unwrap();
        export
            .handle_put_record_batch(&c, &batch("r", 0, 20))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        export.stop();
    }
    assert!(delivered_events(&hec).is_empty());
    *hec.fail_code.lock().unwrap() = None;
    let (_store, export) = open(dir.path(), 1 << 30).await;
    wait_for("20 events after restart", || {
        delivered_events(&hec).len() >= 20
    })
    .await;
    let mut seqs: Vec<i64> = delivered_events(&hec)
        .iter()
        .map(|e| e["event"]["seq"].as_i64().unwrap())
        .collect();
    seqs.sort();
    seqs.dedup();
    assert_eq!(seqs, (0..20).collect::<Vec<_>>());
    export.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_buffer_fails_the_records_that_do_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let (hec_addr, hec) = start_hec().await;
    *hec.fail_code.lock().unwrap() = Some(9);
    // Room for about five of the ~40-byte records.
    let (_store, export) = open(dir.path(), 5 * 60).await;
    let c = caller();
    export
        .handle_create_delivery_stream(&c, &create_input("full", hec_addr, TOKEN, 600))
        .await
        .unwrap();
    let answer = export
        .handle_put_record_batch(&c, &batch("full", 0, 10))
        .await
        .unwrap();
    let failed = answer["FailedPutCount"].as_u64().unwrap();
    assert!(failed > 0 && failed < 10, "{answer}");
    let responses = answer["RequestResponses"].as_array().unwrap();
    assert_eq!(responses[9]["ErrorCode"], "ServiceUnavailableException");
    assert!(responses[0]["RecordId"].is_string());
    let e = export
        .handle_put_record_batch(&c, &batch("full", 10, 1))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "ServiceUnavailableException");
    assert_eq!(e.status(), 503);
    export.stop();
}

#[tokio::test]
async fn lifecycle_validation_and_tags() {
    let dir = tempfile::tempdir().unwrap();
    let (_store, export) = open(dir.path(), 1 << 20).await;
    let c = caller();
    let hec: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let created = export
        .handle_create_delivery_stream(&c, &create_input("a", hec, TOKEN, 0))
        .await
        .unwrap();
    assert_eq!(
        created["DeliveryStreamARN"],
        "arn:aws:firehose:us-east-1:000000000000:deliverystream/a"
    );
    let again = export
        .handle_create_delivery_stream(&c, &create_input("a", hec, TOKEN, 0))
        .await
        .unwrap_err();
    assert_eq!(again.code(), "ResourceInUseException");
    let bad_name = export
        .handle_create_delivery_stream(&c, &create_input("a b", hec, TOKEN, 0))
        .await
        .unwrap_err();
    assert_eq!(bad_name.code(), "InvalidArgumentException");
    let too_many = batch("a", 0, 501);
    assert_eq!(
        export
            .handle_put_record_batch(&c, &too_many)
            .await
            .unwrap_err()
            .code(),
        "InvalidArgumentException"
    );
    let missing = export
        .handle_put_record(
            &c,
            &json!({"DeliveryStreamName": "nope", "Record": {"Data": ""}}),
        )
        .await
        .unwrap_err();
    assert_eq!(missing.code(), "ResourceNotFoundException");
    export
        .handle_tag_delivery_stream(
            &c,
            &json!({"DeliveryStreamName": "a", "Tags": [{"Key": "team", "Value": "soc"}]}),
        )
        .await
        .unwrap();
    let tags = export
        .handle_list_tags_for_delivery_stream(&c, &json!({"DeliveryStreamName": "a"}))
        .await
        .unwrap();
    assert_eq!(
        tags,
        json!({"Tags": [{"Key": "team", "Value": "soc"}], "HasMoreTags": false})
    );
    let aws_key = export
        .handle_tag_delivery_stream(
            &c,
            &json!({"DeliveryStreamName": "a", "Tags": [{"Key": "aws:x"}]}),
        )
        .await
        .unwrap_err();
    assert_eq!(aws_key.code(), "InvalidArgumentException");
    let stale = export
        .handle_update_destination(&c, &json!({"DeliveryStreamName": "a", "CurrentDeliveryStreamVersionId": "7",
            "DestinationId": "destinationId-000000000001", "SplunkDestinationUpdate": {"HECToken": "x"}}))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), "ConcurrentModificationException");
    export
        .handle_update_destination(&c, &json!({"DeliveryStreamName": "a", "CurrentDeliveryStreamVersionId": "1",
            "DestinationId": "destinationId-000000000001", "SplunkDestinationUpdate": {"HECToken": "x"}}))
        .await
        .unwrap();
    let described = export
        .handle_describe_delivery_stream(&c, &json!({"DeliveryStreamName": "a"}))
        .await
        .unwrap();
    let d = &described["DeliveryStreamDescription"];
    assert_eq!(d["VersionId"], "2");
    assert_eq!(
        d["Destinations"][0]["SplunkDestinationDescription"]["HECToken"],
        "x"
    );
    let other = Caller {
        account_id: "111111111111".into(),
        identity: "x".into(),
    };
    let list = export
        .handle_list_delivery_streams(&other, &json!({}))
        .await
        .unwrap();
    assert_eq!(list["DeliveryStreamNames"], json!([]));
    export
        .handle_delete_delivery_stream(&c, &json!({"DeliveryStreamName": "a"}))
        .await
        .unwrap();
    let list = export
        .handle_list_delivery_streams(&c, &json!({}))
        .await
        .unwrap();
    assert_eq!(
        list,
        json!({"DeliveryStreamNames": [], "HasMoreDeliveryStreams": false})
    );
}

fn rule_input(name: &str, sql: &str, stream: &str, disabled: bool) -> Value {
    json!({
        "ruleName": name,
        "sql": sql,
        "ruleDisabled": disabled,
        "actions": [{"firehose": {
            "roleArn": "arn:aws:iam::000000000000:role/r",
            "deliveryStreamName": stream
        }}]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_rules_route_matching_messages_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (hec_addr, hec) = start_hec().await;
    let c = caller();
    {
        let (_store, export) = open(dir.path(), 1 << 30).await;
        export
            .handle_create_delivery_stream(&c, &create_input("m", hec_addr, TOKEN, 60))
            .await
            .unwrap();
        export
            .handle_create_topic_rule(
                &c,
                &rule_input("on", "SELECT * FROM 'dd/+/metrics'", "m", false),
            )
            .await
            .unwrap();
        export
            .handle_create_topic_rule(&c, &rule_input("off", "SELECT * FROM '#'", "m", true))
            .await
            .unwrap();
        let again = export
            .handle_create_topic_rule(&c, &rule_input("on", "SELECT * FROM 'x'", "m", false))
            .await
            .unwrap_err();
        assert_eq!(again.code(), "ResourceAlreadyExistsException");
        export.rule_message(
            "000000000000",
            "dd/t1/metrics",
            br#"{"thing":"t1","seq":1}"#,
        );
        export.rule_message("000000000000", "dd/t1/other", br#"{"thing":"t1","seq":2}"#);
        export.rule_message(
            "111111111111",
            "dd/t1/metrics",
            br#"{"thing":"t1","seq":3}"#,
        );
        wait_for("the matching message", || {
            !delivered_events(&hec).is_empty()
        })
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let events = delivered_events(&hec);
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["event"]["seq"], 1);
        let stream = export.get("000000000000", "m").unwrap();
        wait_for("the checkpoint", || stream.log.pending_bytes() == 0).await;
        export.stop();
    }
    let (_store, export) = open(dir.path(), 1 << 30).await;
    let got = export
        .handle_get_topic_rule(&c, &json!({"ruleName": "on"}))
        .await
        .unwrap();
    assert_eq!(got["rule"]["sql"], "SELECT * FROM 'dd/+/metrics'");
    assert_eq!(got["ruleArn"], "arn:aws:iot:us-east-1:000000000000:rule/on");
    let listed = export
        .handle_list_topic_rules(&c, &json!({"maxResults": 1}))
        .await
        .unwrap();
    assert_eq!(listed["rules"][0]["ruleName"], "off");
    assert_eq!(listed["nextToken"], "off");
    // Replacing re-enables "off" with a new filter; deleting "on" stops its routing.
    export
        .handle_replace_topic_rule(&c, &rule_input("off", "SELECT * FROM 'late/#'", "m", false))
        .await
        .unwrap();
    export
        .handle_delete_topic_rule(&c, &json!({"ruleName": "on"}))
        .await
        .unwrap();
    let gone = export
        .handle_get_topic_rule(&c, &json!({"ruleName": "on"}))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), "UnauthorizedException");
    export.rule_message(
        "000000000000",
        "dd/t1/metrics",
        br#"{"thing":"t1","seq":4}"#,
    );
    export.rule_message("000000000000", "late/x", br#"{"thing":"t1","seq":5}"#);
    wait_for("the replaced rule's message", || {
        delivered_events(&hec).len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let seqs: Vec<i64> = delivered_events(&hec)
        .iter()
        .map(|e| e["event"]["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 5]);
    export.stop();
}
