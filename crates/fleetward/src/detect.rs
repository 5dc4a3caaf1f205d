//! Wiring of Device Defender detect: its clock (the test clock file when given), alerts
//! through the notification topics, metrics export and the live feed through the gateway.

use std::sync::Arc;

use fleetward_detect::{AlertNotifier, Detect, MetricsPublisher};
use fleetward_events::Events;
use fleetward_gateway::{DetectFeed, Gateway};
use fleetward_hub::Hub;
use fleetward_model::Clock;
use fleetward_registry::Registry;
use fleetward_store::{Datapoint, Store};

/// Alerts go to the profile's SNS topic through the durable internal publish path.
struct EventsAlerts(Arc<Events>);

#[async_trait::async_trait]
impl AlertNotifier for EventsAlerts {
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

/// Metrics export: an MQTT message of Fleetward's own on the profile's topic. Weak: the
/// gateway holds detect (its feed), and a cycle would keep the gateway (and its log thread)
/// alive at shutdown.
struct GatewayExport(std::sync::Weak<Gateway>);

#[async_trait::async_trait]
impl MetricsPublisher for GatewayExport {
    async fn publish(&self, account_id: &str, topic: &str, payload: Vec<u8>) -> Result<(), String> {
        match self.0.upgrade() {
            Some(gateway) => gateway.publish(account_id, topic, payload).await,
            None => Err("the gateway has stopped".to_string()),
        }
    }
}

/// The gateway's datapoints and messages, queued for evaluation. Weak for the same reason
/// as [`GatewayExport`]: detect reaches the gateway through the notification topics.
struct Feed(std::sync::Weak<Detect>, Arc<std::sync::atomic::AtomicBool>);

impl DetectFeed for Feed {
    fn datapoint(&self, point: &Datapoint) {
        if let Some(detect) = self.0.upgrade() {
            detect.feed_datapoint(
                &point.account_id,
                &point.thing_name,
                &point.metric,
                &point.value_json,
            );
        }
    }

    fn wants_messages(&self) -> bool {
        // One relaxed load per PUBLISH: the gateway asks on its hot path.
        self.1.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn message(
        &self,
        account: &str,
        device: &str,
        client_id: &str,
        topic: &str,
        bytes: usize,
        authorized: bool,
    ) {
        if let Some(detect) = self.0.upgrade() {
            detect.feed_message(account, device, client_id, topic, bytes, authorized);
        }
    }
}

/// Opens detect, connects it to the gateway and starts it.
#[allow(clippy::too_many_arguments)]
pub async fn start(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    test_clock_file: Option<&std::path::Path>,
    region: &str,
    registry: Arc<Registry>,
    hub: Arc<Hub>,
    events: Arc<Events>,
    gateway: Arc<Gateway>,
    console_base_url: &str,
) -> Result<Arc<Detect>, String> {
    let clock: Arc<dyn Clock> = match test_clock_file {
        Some(path) => {
            tracing::warn!(file = %path.display(), "TESTS ONLY: detect time is offset by the test clock file.");
            Arc::new(crate::test_clock::FileOffsetClock::start(
                path.to_path_buf(),
            ))
        }
        None => clock,
    };
    let alerts: Arc<dyn AlertNotifier> = Arc::new(EventsAlerts(events));
    let detect = Detect::open(
        store,
        clock,
        region,
        registry,
        hub,
        Some(alerts),
        console_base_url,
    )
    .await
    .map_err(|e| format!("cannot open Device Defender detect: {e}"))?;
    detect.set_exporter(Arc::new(GatewayExport(Arc::downgrade(&gateway))));
    let wants = detect.wants_messages_flag();
    gateway.set_detect_feed(Arc::new(Feed(Arc::downgrade(&detect), wants)));
    detect.start();
    Ok(detect)
}
