//! Wiring of Device Defender mitigation (`fleetward-mitigate`): audit as the source of
//! findings, detect as the source of violations, the events service as the SNS topics
//! PUBLISH_FINDING_TO_SNS publishes to, and the resumption of tasks that were in progress.

use std::path::Path;
use std::sync::Arc;

use fleetward_detect::{Detect, ViolationQuery, ViolationRecord};
use fleetward_events::Events;
use fleetward_mitigate::{
    AuditFindings, Mitigate, MitigateOptions, PublishError, TopicPublisher, Violation,
    ViolationSource,
};
use fleetward_model::Clock;
use fleetward_registry::Registry;
use fleetward_store::Store;

/// Findings go to the topic through the internal publish path: committed to the outbox
/// before the execution counts as done. No subject, as in the workshop's payload.
struct EventsPublisher(Arc<Events>);

#[async_trait::async_trait]
impl TopicPublisher for EventsPublisher {
    async fn publish(
        &self,
        account: &str,
        topic_arn: &str,
        message: &str,
    ) -> Result<(), PublishError> {
        self.0
            .publish_internal(account, topic_arn, None, message)
            .await
            .map(|_| ())
            .map_err(|e| PublishError {
                code: e.code().to_string(),
                message: e.to_string(),
            })
    }
}

/// Detect's violations (active ones and those with stored events) for detect mitigation
/// tasks; suppression and activity are filtered by mitigation itself.
struct DetectViolations(Arc<Detect>);

fn violation(r: ViolationRecord) -> Violation {
    Violation {
        violation_id: r.violation_id,
        thing_name: r.thing_name,
        security_profile_name: r.security_profile_name,
        behavior_name: r.behavior.name,
        start_ms: r.violation_start_ms,
        end_ms: (!r.active).then_some(r.last_event_ms),
        suppressed: r.suppressed,
    }
}

#[async_trait::async_trait]
impl ViolationSource for DetectViolations {
    async fn violations_by_id(
        &self,
        account: &str,
        ids: &[String],
    ) -> Result<Vec<Violation>, String> {
        let query = ViolationQuery {
            violation_ids: Some(ids.to_vec()),
            include_suppressed: true,
            ..ViolationQuery::default()
        };
        let found = self.0.find_violations(account, &query).await;
        Ok(found
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(violation)
            .collect())
    }

    async fn violations_in_range(
        &self,
        account: &str,
        security_profile_name: &str,
        behavior_name: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Violation>, String> {
        let query = ViolationQuery {
            behavior_names: behavior_name.map(|b| vec![b.to_string()]),
            window_ms: Some((from_ms, to_ms)),
            include_suppressed: true,
            ..ViolationQuery::default()
        };
        let found = self.0.find_violations(account, &query).await;
        Ok(found
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|r| r.security_profile_name == security_profile_name)
            .map(violation)
            .collect())
    }
}

/// Opens the mitigation service and resumes its tasks.
#[allow(clippy::too_many_arguments)]
pub async fn start(
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    test_clock_file: Option<&Path>,
    region: &str,
    registry: Arc<Registry>,
    audit: Arc<fleetward_audit::Audit>,
    detect: Arc<Detect>,
    events: Arc<Events>,
) -> Result<Arc<Mitigate>, String> {
    // Task times follow audit's clock, which tests may move.
    let clock: Arc<dyn Clock> = match test_clock_file {
        Some(path) => Arc::new(crate::test_clock::FileOffsetClock::start(
            path.to_path_buf(),
        )),
        None => clock,
    };
    let findings = Arc::new(AuditFindings {
        audit,
        clock: clock.clone(),
    });
    let mitigate = Mitigate::open(
        store,
        clock,
        region,
        registry,
        findings,
        Some(Arc::new(EventsPublisher(events))),
        MitigateOptions::default(),
    )
    .await
    .map_err(|e| format!("cannot open Device Defender mitigation: {e}"))?;
    mitigate.set_violation_source(Arc::new(DetectViolations(detect)));
    mitigate.start().await;
    Ok(mitigate)
}
