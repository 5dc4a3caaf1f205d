//! Wiring of the notification service (`fleetward-events`): the device gateway as the sink
//! of `mqtt` subscriptions, and the URL subscribers reach the API at.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use fleetward_ca::CertificateAuthority;
use fleetward_events::{Events, EventsConfig, MqttSink};
use fleetward_gateway::Gateway;
use fleetward_model::Clock;
use fleetward_store::Store;

/// `mqtt` subscriptions publish through the gateway, as QoS 1 messages of Fleetward's own.
struct GatewaySink(Arc<Gateway>);

#[async_trait::async_trait]
impl MqttSink for GatewaySink {
    async fn publish(&self, account: &str, topic: &str, payload: Vec<u8>) -> Result<(), String> {
        self.0.publish(account, topic, payload).await
    }
}

/// Audit reports (task finished) go to the account's notification topic through the
/// internal publish path: committed to the outbox before the audit counts them as sent.
struct EventsNotifier(Arc<Events>);

#[async_trait::async_trait]
impl fleetward_audit::AuditNotifier for EventsNotifier {
    async fn publish(
        &self,
        account_id: &str,
        topic_arn: &str,
        subject: &str,
        message_json: &str,
    ) -> Result<(), String> {
        self.0
            .publish_internal(account_id, topic_arn, Some(subject), message_json)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

pub fn audit_notifier(events: Arc<Events>) -> Arc<dyn fleetward_audit::AuditNotifier> {
    Arc::new(EventsNotifier(events))
}

/// Opens the notification service: restores topics and subscriptions, resumes pending
/// deliveries.
pub async fn start(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ca: &CertificateAuthority,
    gateway: Arc<Gateway>,
    region: &str,
    data_dir: &Path,
    public_url: &str,
) -> Result<Arc<Events>, String> {
    let config = EventsConfig::new(region, data_dir.to_path_buf(), public_url);
    let sink: Arc<dyn MqttSink> = Arc::new(GatewaySink(gateway));
    Events::open(store, clock, ca, Some(sink), config)
        .await
        .map_err(|e| format!("cannot open the notification topics: {e}"))
}

/// The API's URL as subscribers dial it (SubscribeURL, UnsubscribeURL, SigningCertURL): a
/// wildcard address is replaced by the first server name, else loopback.
pub fn public_url(api_addr: SocketAddr, server_names: &[String]) -> String {
    let ip = api_addr.ip();
    let host = if ip.is_unspecified() {
        server_names
            .first()
            .cloned()
            .unwrap_or_else(|| "127.0.0.1".to_string())
    } else if ip.is_ipv6() {
        format!("[{ip}]")
    } else {
        ip.to_string()
    };
    format!("http://{host}:{}", api_addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_name_a_reachable_host() {
        let url = |a: &str, names: &[&str]| {
            let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            public_url(a.parse().unwrap(), &names)
        };
        assert_eq!(url("127.0.0.1:7440", &[]), "http://127.0.0.1:7440");
        assert_eq!(
            url("0.0.0.0:7440", &["fw.example"]),
            "http://fw.example:7440"
        );
        assert_eq!(url("0.0.0.0:7440", &[]), "http://127.0.0.1:7440");
        assert_eq!(url("[::1]:80", &[]), "http://[::1]:80");
    }
}
