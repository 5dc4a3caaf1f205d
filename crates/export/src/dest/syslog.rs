//! The syslog destination: RFC 5424 messages over TCP (RFC 6587) or TLS (RFC 5425), with
//! octet-counting framing, one connection per batch attempt. Syslog has no application-level
//! acknowledgement: a batch is delivered once every byte is written and flushed.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::Failure;
use super::siem_format::{octet_counted, rfc5424};
use crate::config::SyslogTarget;
use crate::stream::StreamDoc;
use crate::transform::Out;

const TIMEOUT: Duration = Duration::from_secs(30);

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn payload(doc: &StreamDoc, target: &SyslogTarget, out: &[Out]) -> Vec<u8> {
    let host = hostname();
    let mut bytes = Vec::new();
    for o in out {
        let msg = rfc5424(o.data(), o.arrival_ms, target.format, &host, &doc.name);
        bytes.extend_from_slice(&octet_counted(&msg));
    }
    bytes
}

fn tls_config(ca: &std::path::Path) -> Result<Arc<rustls::ClientConfig>, Failure> {
    use rustls::pki_types::{CertificateDer, pem::PemObject};
    let pem = std::fs::read(ca).map_err(|e| {
        Failure::permanent("Syslog.SSLUnverified", format!("{}: {e}", ca.display()))
    })?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| Failure::permanent("Syslog.SSLUnverified", e.to_string()))?;
        roots
            .add(cert)
            .map_err(|e| Failure::permanent("Syslog.SSLUnverified", e.to_string()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Failure::permanent("Syslog.SSLHandshake", e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

async fn send(target: &SyslogTarget, bytes: &[u8]) -> Result<(), Failure> {
    let tcp = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| Failure::retryable("Syslog.ConnectionFailed", e.to_string()))?;
    let closed = |e: std::io::Error| Failure::retryable("Syslog.ConnectionClosed", e.to_string());
    match &target.tls_ca {
        None => {
            let mut tcp = tcp;
            tcp.write_all(bytes).await.map_err(closed)?;
            tcp.flush().await.map_err(closed)?;
            tcp.shutdown().await.map_err(closed)
        }
        Some(ca) => {
            let connector = tokio_rustls::TlsConnector::from(tls_config(ca)?);
            let name = rustls::pki_types::ServerName::try_from(target.host.clone())
                .map_err(|e| Failure::permanent("Syslog.SSLUnverified", e.to_string()))?;
            let mut tls = connector
                .connect(name, tcp)
                .await
                .map_err(|e| Failure::retryable("Syslog.SSLHandshake", e.to_string()))?;
            tls.write_all(bytes).await.map_err(closed)?;
            tls.flush().await.map_err(closed)?;
            tls.shutdown().await.map_err(closed)
        }
    }
}

pub async fn attempt(doc: &StreamDoc, target: &SyslogTarget, out: &[Out]) -> Result<(), Failure> {
    let bytes = payload(doc, target, out);
    tokio::time::timeout(TIMEOUT, send(target, &bytes))
        .await
        .map_err(|_| {
            Failure::retryable(
                "Syslog.ConnectionTimeout",
                "the syslog receiver did not take the batch in time",
            )
        })?
}
