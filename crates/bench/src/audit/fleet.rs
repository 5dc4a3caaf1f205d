//! The audit benchmark's fleet: on top of the `things` and `certs` generators' fleet, IoT
//! policies (a few overly permissive or misconfigured), device certificates registered
//! without a CA whose findings are known (approaching expiry, ROCA-vulnerable, Debian weak
//! keys with a blocklist written to the data dir, RSA 1024), and connection history (shared
//! certificates, client-id takeovers) appended straight to the store.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use fleetward_store::ConnectionEvent;
use rcgen::{CertificateParams, DnType, Issuer, KeyPair, SerialNumber};
use serde_json::json;

use crate::Target;
use crate::client::Client;

/// Published ROCA-vulnerable 2048-bit modulus (crocs-muni/roca test data, mod03).
const ROCA_2048: &str = "9dcd7420e420c270a68060eb8b5aa7457a9f6648f86fafed2775cc1f79ae962f1e63f1b9e51c55f9ea6fdc7332e9b0058c9ff2eb1fc89855029cf6aafe21e689feb38ac9ffb12f1ce371bb5d0e9aae64161abce74b4244bf68f1edb4411f756a097c8929c14740245ea355f8332d1aa36bb50c7dcb4505da8de02e4e53d38f8df06097da7524df0df93db48eac8cc4af2d3a16257eb2b2adca6ba464e5974fa92550d31b1babf161e7692d00b86e3dd886ecab4abfbe1a8f8cc263ff4af55cdb45f4249a5193925f5e983d762f0b6800943eb0267b08f42ed311ce1f5c86eacbc8ce4d3cb7a2fee1ef5641423a1cf4114e5ecf50034a60a412523af9e6f4aa11";
const DAY_MS: i64 = 86_400_000;

#[derive(clap::Args, Clone)]
pub struct FleetArgs {
    /// IoT policies to create; 1 in 100 allows `iot:*` on `*`, 1 in 200 has an MQTT wildcard
    /// in a Deny statement.
    #[arg(long, default_value_t = 100_000)]
    pub policies: usize,
    /// Device certificates registered without a CA, per kind: approaching expiry, ROCA key,
    /// Debian weak key, RSA 1024 key (expiry gets ten times this number).
    #[arg(long, default_value_t = 1_000)]
    pub special_certs: usize,
    /// Connection events appended to the store (needs --database-url).
    #[arg(long, default_value_t = 200_000)]
    pub connection_events: usize,
    /// The node's database, for the connection history (e.g. sqlite:///tmp/fw-bench/fleetward.db).
    #[arg(long)]
    pub database_url: Option<String>,
    /// The node's data dir: the Debian weak-key blocklist is written to its openssl-blacklist/.
    #[arg(long)]
    pub data_dir: Option<std::path::PathBuf>,
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
}

pub async fn run(target: &Target, args: &FleetArgs) -> Result<(), String> {
    let client = Client::new(target)?;
    create_policies(&client, &target.account_id, args.policies, args.clients).await?;
    register_special_certificates(&client, args).await?;
    if let Some(url) = &args.database_url {
        append_connections(url, &target.account_id, args.connection_events).await?;
    }
    Ok(())
}

fn policy_document(n: usize, account: &str) -> String {
    let arn = format!("arn:aws:iot:us-east-1:{account}");
    if n.is_multiple_of(100) {
        return json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}).to_string();
    }
    let mut statements = vec![
        json!({"Effect": "Allow", "Action": "iot:Connect",
            "Resource": format!("{arn}:client/${{iot:Connection.Thing.ThingName}}")}),
        json!({"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
            "Resource": format!("{arn}:topic/fleet/{n}/${{iot:Connection.Thing.ThingName}}/*")}),
        json!({"Effect": "Allow", "Action": "iot:Subscribe",
            "Resource": format!("{arn}:topicfilter/fleet/{n}/${{iot:Connection.Thing.ThingName}}/*")}),
    ];
    if n % 200 == 1 {
        statements.push(json!({"Effect": "Deny", "Action": "iot:Subscribe",
            "Resource": format!("{arn}:topicfilter/fleet/{n}/admin/#")}));
    }
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

async fn create_policies(
    client: &Client,
    account: &str,
    total: usize,
    clients: usize,
) -> Result<(), String> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let account = account.to_string();
    let mut workers = Vec::new();
    for _ in 0..clients.max(1) {
        let (client, next, account) = (client.clone(), next.clone(), account.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    return Ok::<(), String>(());
                }
                let body = json!({"policyDocument": policy_document(n, &account)});
                client
                    .call_service(
                        "iot",
                        "POST",
                        &format!("/policies/bench-policy-{n:06}"),
                        "",
                        body.to_string().into_bytes(),
                    )
                    .await?;
            }
        }));
    }
    for worker in workers {
        worker.await.map_err(|e| e.to_string())??;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "CreatePolicy: {total} policies in {seconds:.1} s ({:.0}/s)",
        total as f64 / seconds
    );
    Ok(())
}

/// DER SubjectPublicKeyInfo of an RSA key (modulus, exponent 65537).
fn rsa_spki(modulus: &[u8]) -> Vec<u8> {
    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match content.len() {
            n if n < 128 => out.push(n as u8),
            n if n < 256 => out.extend([0x81, n as u8]),
            n => out.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend_from_slice(content);
        out
    }
    let mut n = modulus.to_vec();
    if n.first().is_some_and(|b| b & 0x80 != 0) {
        n.insert(0, 0);
    }
    let key = tlv(0x30, &[tlv(0x02, &n), tlv(0x02, &[1, 0, 1])].concat());
    let mut bits = vec![0u8];
    bits.extend(key);
    let algorithm = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    tlv(0x30, &[algorithm.to_vec(), tlv(0x03, &bits)].concat())
}

/// (label, SPKI DER or None for a fresh P-256 key, validity in days, count)
type Kind = (&'static str, Option<Vec<u8>>, i64, usize);

async fn register_special_certificates(client: &Client, args: &FleetArgs) -> Result<(), String> {
    let n = args.special_certs;
    let roca = hex::decode(ROCA_2048).map_err(|e| e.to_string())?;
    let debian = fleetward_ca::parse_certificate_pem(
        &fleetward_ca::testing::issue(
            &fleetward_ca::testing::self_signed_ca("bench"),
            &fleetward_ca::testing::CertSpec {
                key: fleetward_ca::testing::TestKey::Rsa2048,
                ..fleetward_ca::testing::CertSpec::new("debian")
            },
        )
        .cert_pem,
    )
    .map_err(|e| e.message().to_string())?
    .key;
    let small =
        fleetward_ca::parse_certificate_pem(fleetward_ca::testing::RSA_1024_SELF_SIGNED_PEM)
            .map_err(|e| e.message().to_string())?
            .key;
    if let (Some(dir), Some(rsa)) = (&args.data_dir, &debian.rsa) {
        let dir = dir.join("openssl-blacklist");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let line = fleetward_audit::keys::debian_blocklist_line(&rsa.modulus);
        std::fs::write(
            dir.join("blacklist.RSA-2048"),
            format!("# fleetward-bench\n{line}\n"),
        )
        .map_err(|e| e.to_string())?;
    }
    let kinds: Vec<Kind> = vec![
        ("approaching expiry", None, 10, n * 10),
        ("ROCA", Some(rsa_spki(&roca)), 3650, n),
        ("Debian weak key", Some(debian.spki_der.clone()), 3650, n),
        ("RSA 1024", Some(small.spki_der.clone()), 3650, n),
    ];
    let ca_key = KeyPair::generate().map_err(|e| e.to_string())?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Fleetward bench external CA");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let issuer = Issuer::new(ca_params, ca_key);
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs() as i64;
    let started = Instant::now();
    let mut serial = rand::random::<u32>() as u64 * 1_000_000;
    for (label, spki, days, count) in kinds {
        let mut pems = Vec::with_capacity(count);
        for _ in 0..count {
            serial += 1;
            let mut params =
                CertificateParams::new(Vec::<String>::new()).map_err(|e| e.to_string())?;
            params
                .distinguished_name
                .push(DnType::CommonName, format!("bench special {serial}"));
            params.serial_number = Some(SerialNumber::from(serial));
            params.not_before = time::OffsetDateTime::from_unix_timestamp(now_s - 86_400)
                .map_err(|e| e.to_string())?;
            params.not_after = time::OffsetDateTime::from_unix_timestamp(now_s + days * 86_400)
                .map_err(|e| e.to_string())?;
            let cert = match &spki {
                Some(der) => {
                    let key =
                        rcgen::SubjectPublicKeyInfo::from_der(der).map_err(|e| e.to_string())?;
                    params.signed_by(&key, &issuer)
                }
                None => params.signed_by(&KeyPair::generate().map_err(|e| e.to_string())?, &issuer),
            }
            .map_err(|e| e.to_string())?;
            pems.push(cert.pem());
        }
        register_all(client, pems, args.clients).await?;
        println!("Registered {count} certificates ({label})");
    }
    println!(
        "Special certificates in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn register_all(client: &Client, pems: Vec<String>, clients: usize) -> Result<(), String> {
    let pems = Arc::new(pems);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..clients.max(1) {
        let (client, next, pems) = (client.clone(), next.clone(), pems.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(pem) = pems.get(i) else {
                    return Ok::<(), String>(());
                };
                let body = json!({"certificatePem": pem, "status": "ACTIVE"});
                client
                    .call_service(
                        "iot",
                        "POST",
                        "/certificate/register-no-ca",
                        "",
                        body.to_string().into_bytes(),
                    )
                    .await?;
            }
        }));
    }
    for worker in workers {
        worker.await.map_err(|e| e.to_string())??;
    }
    Ok(())
}

/// Connection history of the last ten days: ordinary sessions, 100 certificates used by two
/// clients at once, 100 client ids taken over by another connection.
async fn append_connections(url: &str, account: &str, total: usize) -> Result<(), String> {
    let store = fleetward_store::open(url)
        .await
        .map_err(|e| e.to_string())?;
    let now = fleetward_model::Clock::now_ms(&fleetward_model::SystemClock);
    let base = now - 10 * DAY_MS;
    let span = 9 * DAY_MS;
    let event =
        |time_ms: i64, kind: &str, client: String, cert: String, port: i64, reason: &str| {
            ConnectionEvent {
                account_id: account.to_string(),
                time_ms,
                kind: kind.to_string(),
                client_id: client,
                certificate_id: cert,
                thing_name: String::new(),
                source_ip: "10.1.2.3".into(),
                source_port: port,
                reason: reason.to_string(),
            }
        };
    let cert = |n: usize| format!("{n:064x}");
    let mut batch = Vec::with_capacity(10_000);
    let started = Instant::now();
    let mut written = 0;
    let sessions = total / 2;
    for s in 0..sessions {
        let t = base + (s as i64 * span) / sessions.max(1) as i64;
        let (client, c) = (format!("device-{}", s % 50_000), cert(s % 50_000));
        let (connect_reason, kick) = if s < 100 {
            ("", "DUPLICATE_CLIENTID")
        } else {
            ("", "CLIENT_INITIATED_DISCONNECT")
        };
        batch.push(event(
            t,
            "CONNECTED",
            client.clone(),
            c.clone(),
            s as i64,
            connect_reason,
        ));
        batch.push(event(t + 60_000, "DISCONNECTED", client, c, s as i64, kick));
        if s < 100 {
            // A second device with the same certificate, connected at the same time.
            batch.push(event(
                t + 1_000,
                "CONNECTED",
                format!("clone-{s}"),
                cert(s % 50_000),
                70_000 + s as i64,
                "",
            ));
        }
        if batch.len() >= 10_000 {
            store
                .append_connection_events(&batch)
                .await
                .map_err(|e| e.to_string())?;
            written += batch.len();
            batch.clear();
        }
    }
    written += batch.len();
    store
        .append_connection_events(&batch)
        .await
        .map_err(|e| e.to_string())?;
    store.close().await;
    println!(
        "Connection history: {written} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
