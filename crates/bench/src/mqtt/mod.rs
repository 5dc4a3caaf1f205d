//! MQTT gateway load: device set-up through the `iot` API, then mutual-TLS MQTT 3.1.1
//! clients built on Fleetward's own codec, usable against any broker (the README compares
//! Fleetward with mosquitto on the same generator).
//!
//! Every connection makes a full TLS handshake (session resumption is off), as a fleet of
//! distinct devices would.

pub mod connections;
pub mod fanin;
pub mod setup;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use fleetward_mqtt::{
    ConnAck, Connect, Disconnect, Packet, ProtocolVersion, ReasonCode, decode_buf, encode,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// Every client here speaks MQTT 3.1.1, which both brokers and all device SDKs support.
pub const VERSION: ProtocolVersion = ProtocolVersion::V311;

/// The largest packet the generator accepts from a broker.
const MAX_PACKET: usize = 1024 * 1024;

/// Where the broker is and how to reach it.
#[derive(clap::Args, Clone)]
pub struct Broker {
    /// MQTT over TLS address of the broker.
    #[arg(long, default_value = "127.0.0.1:8883")]
    pub addr: SocketAddr,
    /// Directory written by `mqtt-setup` (cert-N.pem, key-N.pem, cert-sub.pem, key-sub.pem).
    #[arg(long, default_value = "./bench-devices")]
    pub certs: PathBuf,
    /// CA certificate(s) the broker's server certificate chains to.
    #[arg(long, default_value = "./bench-devices/root-ca.pem")]
    pub ca: PathBuf,
    /// Name checked against the server certificate.
    #[arg(long, default_value = "localhost")]
    pub server_name: String,
    /// Handshakes in progress at once while opening connections.
    #[arg(long, default_value_t = 32)]
    pub connect_concurrency: usize,
}

/// The client TLS configurations, one per device certificate, and the subscriber's.
pub struct Devices {
    pub publishers: Vec<Arc<rustls::ClientConfig>>,
    pub subscriber: Option<Arc<rustls::ClientConfig>>,
    pub server_name: ServerName<'static>,
    pub addr: SocketAddr,
}

impl Devices {
    /// Loads `cert-N.pem`/`key-N.pem` from 0 until the first missing one (at most `limit`).
    pub fn load(broker: &Broker, limit: usize) -> Result<Devices, String> {
        let mut roots = rustls::RootCertStore::empty();
        let ca = read(&broker.ca)?;
        for cert in CertificateDer::pem_slice_iter(&ca) {
            let cert = cert.map_err(|e| format!("{}: {e}", broker.ca.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("{}: {e}", broker.ca.display()))?;
        }
        let roots = Arc::new(roots);
        let config = |cert: &Path, key: &Path| -> Result<Arc<rustls::ClientConfig>, String> {
            let chain = CertificateDer::pem_slice_iter(&read(cert)?)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{}: {e}", cert.display()))?;
            let key = PrivateKeyDer::from_pem_slice(&read(key)?)
                .map_err(|e| format!("{}: {e}", key.display()))?;
            let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots.clone())
            .with_client_auth_cert(chain, key)
            .map_err(|e| format!("{}: {e}", cert.display()))?;
            config.resumption = rustls::client::Resumption::disabled();
            Ok(Arc::new(config))
        };
        let mut publishers = Vec::new();
        for n in 0..limit {
            let cert = broker.certs.join(format!("cert-{n}.pem"));
            if !cert.exists() {
                break;
            }
            publishers.push(config(&cert, &broker.certs.join(format!("key-{n}.pem")))?);
        }
        if publishers.is_empty() {
            return Err(format!(
                "no cert-0.pem in {} (run mqtt-setup first)",
                broker.certs.display()
            ));
        }
        let sub_cert = broker.certs.join("cert-sub.pem");
        let subscriber = if sub_cert.exists() {
            Some(config(&sub_cert, &broker.certs.join("key-sub.pem"))?)
        } else {
            None
        };
        let server_name = ServerName::try_from(broker.server_name.clone())
            .map_err(|e| format!("--server-name: {e}"))?;
        Ok(Devices {
            publishers,
            subscriber,
            server_name,
            addr: broker.addr,
        })
    }

    /// The configuration for connection number `n` (certificates are shared round-robin:
    /// AWS IoT, like mosquitto, lets one certificate hold many connections).
    pub fn publisher(&self, n: usize) -> Arc<rustls::ClientConfig> {
        self.publishers[n % self.publishers.len()].clone()
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// One MQTT 3.1.1 connection over mutual TLS.
pub struct Mqtt {
    pub stream: TlsStream<TcpStream>,
    pub buf: BytesMut,
}

impl Mqtt {
    /// TCP connect, TLS handshake with the client certificate, CONNECT, and a successful
    /// CONNACK.
    pub async fn connect(
        devices: &Devices,
        tls: Arc<rustls::ClientConfig>,
        client_id: &str,
        keep_alive: u16,
    ) -> Result<Mqtt, String> {
        let tcp = TcpStream::connect(devices.addr)
            .await
            .map_err(|e| format!("TCP connect: {e}"))?;
        let _ = tcp.set_nodelay(true);
        let stream = tokio_rustls::TlsConnector::from(tls)
            .connect(devices.server_name.clone(), tcp)
            .await
            .map_err(|e| format!("TLS handshake: {e}"))?;
        let mut mqtt = Mqtt {
            stream,
            buf: BytesMut::with_capacity(1024),
        };
        let mut connect = Connect::new(VERSION, client_id);
        connect.keep_alive = keep_alive;
        mqtt.send(&Packet::Connect(Box::new(connect))).await?;
        match mqtt.next().await? {
            Packet::ConnAck(ConnAck {
                reason_code: ReasonCode::Success,
                ..
            }) => Ok(mqtt),
            Packet::ConnAck(ack) => Err(format!("CONNACK refused: {:?}", ack.reason_code)),
            other => Err(format!("expected CONNACK, got {:?}", other.packet_type())),
        }
    }

    /// Encodes and writes one packet.
    pub async fn send(&mut self, packet: &Packet) -> Result<(), String> {
        let mut out = Vec::with_capacity(128);
        encode(packet, VERSION, &mut out).map_err(|e| e.to_string())?;
        self.write(&out).await
    }

    /// Writes bytes and flushes them onto the socket.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|e| format!("write: {e}"))?;
        self.stream.flush().await.map_err(|e| format!("write: {e}"))
    }

    /// A packet already in the buffer, if a whole one is there.
    pub fn buffered(&mut self) -> Result<Option<Packet>, String> {
        decode_buf(&mut self.buf, Some(VERSION), MAX_PACKET).map_err(|e| format!("decode: {e}"))
    }

    /// Reads more bytes into the buffer; an error at end of stream.
    pub async fn fill(&mut self) -> Result<(), String> {
        self.buf.reserve(16 * 1024);
        match self.stream.read_buf(&mut self.buf).await {
            Ok(0) => Err("connection closed by the broker".into()),
            Ok(_) => Ok(()),
            Err(e) => Err(format!("read: {e}")),
        }
    }

    /// The next packet from the broker.
    pub async fn next(&mut self) -> Result<Packet, String> {
        loop {
            if let Some(packet) = self.buffered()? {
                return Ok(packet);
            }
            self.fill().await?;
        }
    }

    /// DISCONNECT, then TLS close_notify and FIN.
    pub async fn close(mut self) {
        let _ = self.send(&Packet::Disconnect(Disconnect::default())).await;
        let _ = self.stream.shutdown().await;
    }
}

/// Opens `count` connections with ids `{prefix}{n}`, `concurrency` handshakes at a time.
/// Fails on the first connection that fails.
pub async fn open_many(
    devices: &Arc<Devices>,
    prefix: &str,
    count: usize,
    concurrency: usize,
    keep_alive: u16,
    progress_every: usize,
) -> Result<Vec<Mqtt>, String> {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency.clamp(1, count.max(1)) {
        let (devices, next, prefix) = (devices.clone(), next.clone(), prefix.to_string());
        workers.push(tokio::spawn(async move {
            let mut opened = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= count {
                    return Ok::<_, String>(opened);
                }
                let id = format!("{prefix}{n}");
                let connection = tokio::time::timeout(
                    Duration::from_secs(30),
                    Mqtt::connect(&devices, devices.publisher(n), &id, keep_alive),
                )
                .await
                .map_err(|_| format!("{id}: no CONNACK within 30 s"))?
                .map_err(|e| format!("{id}: {e}"))?;
                opened.push((n, connection));
                if progress_every > 0 && (n + 1).is_multiple_of(progress_every) {
                    eprintln!("  {} connections open", n + 1);
                }
            }
        }));
    }
    let mut all = Vec::with_capacity(count);
    for worker in workers {
        all.extend(worker.await.map_err(|e| e.to_string())??);
    }
    all.sort_by_key(|(n, _)| *n);
    Ok(all.into_iter().map(|(_, c)| c).collect())
}

/// The value at quantile `q` of sorted samples.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}
