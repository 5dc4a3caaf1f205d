//! `fleetward-bench mitigate`: registers N device certificates that expire within ten days
//! (one shared key, so generating them is cheap), runs an on-demand audit of
//! DEVICE_CERTIFICATE_EXPIRING_CHECK (N findings) and measures an audit mitigation task
//! that deactivates every one of those certificates, from StartAuditMitigationActionsTask
//! until the task is COMPLETED.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rcgen::{CertificateParams, DnType, Issuer, KeyPair, SerialNumber};
use serde_json::{Value, json};

use crate::Target;
use crate::client::Client;

const CHECK: &str = "DEVICE_CERTIFICATE_EXPIRING_CHECK";

#[derive(clap::Args, Clone)]
pub struct MitigateArgs {
    /// Expiring device certificates to register (0: use those already registered).
    #[arg(long, default_value_t = 100_000)]
    pub certs: usize,
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
}

pub async fn run(target: &Target, args: &MitigateArgs) -> Result<(), String> {
    let client = Client::new(target)?;
    if args.certs > 0 {
        register_expiring(&client, args.certs, args.clients).await?;
    }
    let config = json!({"roleArn": "arn:aws:iam::000000000000:role/bench-audit",
        "auditCheckConfigurations": {CHECK: {"enabled": true}}});
    iot(&client, "PATCH", "/audit/configuration", "", config).await?;
    let started = Instant::now();
    let task = iot(
        &client,
        "POST",
        "/audit/tasks",
        "",
        json!({"targetCheckNames": [CHECK]}),
    )
    .await?;
    let audit_task = task["taskId"].as_str().ok_or("no taskId")?.to_string();
    let described = poll(&client, &format!("/audit/tasks/{audit_task}")).await?;
    let findings = described["auditDetails"][CHECK]["nonCompliantResourcesCount"]
        .as_u64()
        .unwrap_or(0);
    println!(
        "Audit {audit_task}: {} with {findings} non-compliant certificates after {:.1} s",
        described["taskStatus"],
        started.elapsed().as_secs_f64()
    );
    let action = "bench-deactivate";
    let created = iot(
        &client,
        "POST",
        &format!("/mitigationactions/actions/{action}"),
        "",
        json!({"roleArn": "arn:aws:iam::000000000000:role/bench-mitigation",
            "actionParams": {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}}}),
    )
    .await;
    if let Err(e) = created
        && !e.contains("ResourceAlreadyExists")
    {
        return Err(e);
    }
    let task_id = format!("bench-{}", rand::random::<u32>());
    let started = Instant::now();
    iot(
        &client,
        "POST",
        &format!("/audit/mitigationactions/tasks/{task_id}"),
        "",
        json!({"target": {"auditTaskId": audit_task},
            "auditCheckToActionsMapping": {CHECK: [action]},
            "clientRequestToken": task_id}),
    )
    .await?;
    let described = poll(
        &client,
        &format!("/audit/mitigationactions/tasks/{task_id}"),
    )
    .await?;
    let seconds = started.elapsed().as_secs_f64();
    let stats = &described["taskStatistics"][CHECK];
    let done = stats["succeededFindingsCount"].as_u64().unwrap_or(0);
    println!(
        "Mitigation task {task_id}: {} after {seconds:.1} s: {done} certificates deactivated ({:.0}/s), {} failed, {} skipped",
        described["taskStatus"],
        done as f64 / seconds,
        stats["failedFindingsCount"],
        stats["skippedFindingsCount"]
    );
    Ok(())
}

async fn iot(
    client: &Client,
    method: &str,
    path: &str,
    query: &str,
    body: Value,
) -> Result<Value, String> {
    // GET requests carry no body.
    let bytes = match body {
        Value::Null => Vec::new(),
        body => body.to_string().into_bytes(),
    };
    client.call_service("iot", method, path, query, bytes).await
}

/// Polls a describe path until its status leaves IN_PROGRESS.
async fn poll(client: &Client, path: &str) -> Result<Value, String> {
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let d = iot(client, "GET", path, "", Value::Null).await?;
        if d["taskStatus"] != "IN_PROGRESS" {
            return Ok(d);
        }
        if Instant::now() > deadline {
            return Err(format!("{path} still in progress after 30 minutes"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Certificates signed by a throwaway CA, valid for ten more days, registered without a CA.
async fn register_expiring(client: &Client, count: usize, clients: usize) -> Result<(), String> {
    let started = Instant::now();
    let ca_key = KeyPair::generate().map_err(|e| e.to_string())?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Fleetward mitigation bench CA");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let issuer = Issuer::new(ca_params, ca_key);
    let device_key = KeyPair::generate().map_err(|e| e.to_string())?;
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs() as i64;
    let base = rand::random::<u32>() as u64 * 10_000_000;
    let mut pems = Vec::with_capacity(count);
    for n in 0..count as u64 {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
        params
            .distinguished_name
            .push(DnType::CommonName, format!("mitigation bench {n}"));
        params.serial_number = Some(SerialNumber::from(base + n));
        params.not_before =
            time::OffsetDateTime::from_unix_timestamp(now_s - 86_400).map_err(|e| e.to_string())?;
        params.not_after = time::OffsetDateTime::from_unix_timestamp(now_s + 10 * 86_400)
            .map_err(|e| e.to_string())?;
        pems.push(
            params
                .signed_by(&device_key, &issuer)
                .map_err(|e| e.to_string())?
                .pem(),
        );
    }
    println!(
        "Generated {count} certificates in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let pems = Arc::new(pems);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..clients.max(1) {
        let (client, next, pems) = (client.clone(), next.clone(), pems.clone());
        workers.push(tokio::spawn(async move {
            while let Some(pem) = pems.get(next.fetch_add(1, Ordering::Relaxed)) {
                iot(
                    &client,
                    "POST",
                    "/certificate/register-no-ca",
                    "",
                    json!({"certificatePem": pem, "status": "ACTIVE"}),
                )
                .await?;
            }
            Ok::<(), String>(())
        }));
    }
    for worker in workers {
        worker.await.map_err(|e| e.to_string())??;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "Registered {count} certificates in {seconds:.1} s ({:.0}/s)",
        count as f64 / seconds
    );
    Ok(())
}
