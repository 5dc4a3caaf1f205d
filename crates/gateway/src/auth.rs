//! One connection's authorizer: its identity, the values its policies can read, and the
//! policies that apply, refreshed whenever the registry changes so that a new policy version
//! or attachment applies from the connection's next action.

use std::net::IpAddr;
use std::sync::Arc;

use fleetward_policy::{Action, AuthContext, CertificateContext, ConnectContext, ThingContext};
use fleetward_registry::{DeviceIdentity, PolicySet, Registry};

pub struct ConnectionAuth {
    registry: Arc<Registry>,
    pub identity: DeviceIdentity,
    pub client_id: String,
    source_ip: Option<IpAddr>,
    certificate: CertificateContext,
    policies: PolicySet,
    /// Reused for every resource ARN this connection builds.
    arn: String,
}

impl ConnectionAuth {
    pub fn new(
        registry: Arc<Registry>,
        identity: DeviceIdentity,
        client_id: String,
        source_ip: Option<IpAddr>,
        certificate: CertificateContext,
    ) -> Self {
        let policies = registry.policy_set(&identity, &client_id);
        Self {
            registry,
            identity,
            client_id,
            source_ip,
            certificate,
            policies,
            arn: String::with_capacity(128),
        }
    }

    /// The thing this connection acts as, if any.
    pub fn thing_name(&self) -> Option<&str> {
        self.policies.thing.as_ref().map(|t| t.name.as_str())
    }

    fn refresh(&mut self) {
        if self.policies.generation != self.registry.generation() {
            self.policies = self.registry.policy_set(&self.identity, &self.client_id);
        }
    }

    /// Decides `action` on the resource `KIND/NAME` (`client`, `topic`, `topicfilter`).
    pub fn allows(
        &mut self,
        action: Action,
        kind: &str,
        name: &str,
        now_ms: i64,
        connect: Option<ConnectContext<'_>>,
    ) -> bool {
        self.refresh();
        let region = self.registry.region();
        fleetward_policy::write_arn(&mut self.arn, region, &self.identity.account_id, kind, name);
        let thing = self.policies.thing.as_ref().map(|t| ThingContext {
            name: &t.name,
            type_name: t.type_name.as_deref(),
            attributes: &t.attributes,
            is_attached: true,
        });
        let context = AuthContext {
            client_id: Some(&self.client_id),
            thing,
            certificate: Some(&self.certificate),
            source_ip: self.source_ip,
            connect,
            ..AuthContext::new(region, &self.identity.account_id, now_ms)
        };
        fleetward_policy::decide(
            self.policies.policies.iter().map(|p| p.as_ref()),
            action,
            &self.arn,
            &context,
        )
        .is_allowed()
    }
}
