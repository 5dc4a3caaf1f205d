//! `mqtt-setup`: the benchmark's devices, made through the `iot` API as a user would:
//! CreateKeysAndCertificate (active), one policy, AttachPolicy.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::{Value, json};

use crate::Target;
use crate::client::Client;

/// The policy every benchmark certificate gets. Publishing is allowed only on the device's
/// own topic through a policy variable, so each PUBLISH exercises variable substitution;
/// mosquitto's equivalent ACL is `pattern write bench/%c`.
pub const POLICY_NAME: &str = "bench-policy";

fn policy_document(target: &Target) -> String {
    let arn = |resource: &str| {
        format!(
            "arn:aws:iot:{}:{}:{resource}",
            target.region, target.account_id
        )
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iot:Connect", "Resource": arn("client/bench-*")},
            {"Effect": "Allow", "Action": "iot:Publish",
             "Resource": arn("topic/bench/${iot:ClientId}")},
            {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": arn("topicfilter/bench/*")},
            {"Effect": "Allow", "Action": "iot:Receive", "Resource": arn("topic/bench/*")}
        ]
    })
    .to_string()
}

/// Creates `devices` publisher certificates plus the subscriber's, attaches the policy to
/// each, and writes them under `out` with the CA files copied from `data_dir`.
pub async fn run(
    target: &Target,
    devices: usize,
    clients: usize,
    out: &Path,
    data_dir: &Path,
) -> Result<(), String> {
    let client = Client::new(target)?;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let root = read_text(&data_dir.join("root-ca.pem"))?;
    let issuing = read_text(&data_dir.join("issuing-ca.pem"))?;
    write(&out.join("root-ca.pem"), &root)?;
    write(&out.join("issuing-ca.pem"), &issuing)?;
    // mosquitto's `cafile` must hold the whole chain to verify device certificates.
    write(&out.join("ca-bundle.pem"), &format!("{root}{issuing}"))?;

    let body = json!({"policyDocument": policy_document(target)});
    match client
        .call_service(
            "iot",
            "POST",
            &format!("/policies/{POLICY_NAME}"),
            "",
            body.to_string().into_bytes(),
        )
        .await
    {
        Ok(_) => {}
        Err(e) if e.contains("ResourceAlreadyExists") => {}
        Err(e) => return Err(format!("CreatePolicy: {e}")),
    }

    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let out = Arc::new(out.to_path_buf());
    let mut workers = Vec::new();
    // Number `devices` is the subscriber's certificate.
    let total = devices + 1;
    for _ in 0..clients.max(1) {
        let (client, next, out) = (client.clone(), next.clone(), out.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return Ok::<(), String>(());
                }
                let name = if n == devices {
                    "sub".to_string()
                } else {
                    n.to_string()
                };
                create_device(&client, &out, &name).await?;
                if n > 0 && n.is_multiple_of(250) {
                    eprintln!("  {n} device certificates");
                }
            }
        }));
    }
    for worker in workers {
        worker.await.map_err(|e| e.to_string())??;
    }
    println!(
        "mqtt-setup: {total} certificates with policy {POLICY_NAME} in {:.1} s, written to {}",
        started.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}

async fn create_device(client: &Client, out: &Path, name: &str) -> Result<(), String> {
    let created: Value = client
        .call_service(
            "iot",
            "POST",
            "/keys-and-certificate",
            "setAsActive=true",
            Vec::new(),
        )
        .await
        .map_err(|e| format!("CreateKeysAndCertificate: {e}"))?;
    let field = |value: Option<&Value>, what: &str| {
        value
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or(format!("CreateKeysAndCertificate: no {what} in the answer"))
    };
    let arn = field(created.get("certificateArn"), "certificateArn")?;
    let cert = field(created.get("certificatePem"), "certificatePem")?;
    let key = field(
        created.get("keyPair").and_then(|k| k.get("PrivateKey")),
        "keyPair.PrivateKey",
    )?;
    client
        .call_service(
            "iot",
            "PUT",
            &format!("/target-policies/{POLICY_NAME}"),
            "",
            json!({"target": arn}).to_string().into_bytes(),
        )
        .await
        .map_err(|e| format!("AttachPolicy: {e}"))?;
    write(&out.join(format!("cert-{name}.pem")), &cert)?;
    write(&out.join(format!("key-{name}.pem")), &key)
}

fn read_text(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
