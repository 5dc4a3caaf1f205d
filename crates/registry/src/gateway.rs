//! What the device gateway asks the registry: who a client certificate belongs to, whether it
//! may still be used, and which policies (and which thing) apply to its connection.
//!
//! Everything here answers from memory under a read lock. The gateway caches a connection's
//! [`PolicySet`] and compares its `generation` with [`Registry::generation`] before each
//! action, so a changed policy, default version, attachment or thing applies from the
//! connection's next action; it also watches [`Registry::watch_generation`] to re-check live
//! connections' certificates after every change and close those no longer allowed in.

use std::sync::Arc;

use fleetward_policy::Policy;

use crate::Registry;
use crate::authorization::connection_thing;
use crate::records::{CertId, CertStatus};

/// The registered owner of a client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceIdentity {
    pub account_id: String,
    pub cert_id: CertId,
    /// The certificate's ARN: the principal policies are attached to.
    pub cert_arn: String,
}

/// Why a certificate may not connect (the gateway logs it and counts an authorization failure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No account has registered it.
    Unknown,
    /// Registered in several accounts (SNI_ONLY): Fleetward cannot tell which one is meant.
    Ambiguous,
    NotActive(CertStatus),
    OutsideValidity,
    CaNotActive,
}

/// The thing a connection acts as (`iot:Connection.Thing.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThingSnapshot {
    pub name: String,
    pub type_name: Option<String>,
    pub attributes: Vec<(String, String)>,
}

/// The policies that apply to one connection, as of a registry generation.
#[derive(Debug, Clone)]
pub struct PolicySet {
    pub policies: Vec<Arc<Policy>>,
    pub thing: Option<ThingSnapshot>,
    pub generation: u64,
}

impl Registry {
    /// Increases with every committed change.
    pub fn generation(&self) -> u64 {
        // An atomic copy: the gateway asks on every publish, and the watch channel's value
        // sits behind a lock.
        self.generation_now
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Changes when the registry does; see the module comment.
    pub fn watch_generation(&self) -> tokio::sync::watch::Receiver<u64> {
        self.generation.subscribe()
    }

    pub(crate) fn bump_generation(&self) {
        self.generation.send_modify(|g| {
            *g += 1;
            self.generation_now
                .store(*g, std::sync::atomic::Ordering::Release);
        });
    }

    /// The account that owns this certificate, if it may connect now.
    pub fn identify(&self, cert_id: &CertId, now_ms: i64) -> Result<DeviceIdentity, Refusal> {
        let accounts = self
            .accounts
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut owners = accounts
            .iter()
            .filter(|(_, state)| state.certificates.contains_key(cert_id));
        let (account_id, state) = owners.next().ok_or(Refusal::Unknown)?;
        if owners.next().is_some() {
            return Err(Refusal::Ambiguous);
        }
        let cert = &state.certificates[cert_id];
        if cert.status != CertStatus::Active {
            return Err(Refusal::NotActive(cert.status));
        }
        if now_ms < cert.not_before_ms || now_ms > cert.not_after_ms {
            return Err(Refusal::OutsideValidity);
        }
        if let Some(ca) = cert.ca_id
            && state
                .ca_certificates
                .get(&ca)
                .is_none_or(|c| c.status != "ACTIVE")
        {
            return Err(Refusal::CaNotActive);
        }
        Ok(DeviceIdentity {
            account_id: account_id.clone(),
            cert_id: *cert_id,
            cert_arn: self.cert_arn(account_id, cert_id),
        })
    }

    /// The policies of a connection: those attached to its certificate and, when the
    /// connection acts as a thing, to that thing's groups and their ancestors.
    pub fn policy_set(&self, identity: &DeviceIdentity, client_id: &str) -> PolicySet {
        let generation = self.generation();
        self.read(&identity.account_id, |state| {
            let thing = connection_thing(state, &identity.cert_arn, Some(client_id));
            let policies = self
                .applicable_policies(&identity.account_id, state, Some(&identity.cert_arn), thing)
                .into_iter()
                .map(|a| a.policy)
                .collect();
            PolicySet {
                policies,
                thing: thing.map(|t| ThingSnapshot {
                    name: t.name.clone(),
                    type_name: t.type_name.clone(),
                    attributes: t.attributes.as_pairs().to_vec(),
                }),
                generation,
            }
        })
    }
}

/// AWS IoT log levels, least verbose first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

impl LogLevel {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "ERROR" => Some(Self::Error),
            "WARN" => Some(Self::Warn),
            "INFO" => Some(Self::Info),
            "DEBUG" => Some(Self::Debug),
            _ => None, // DISABLED
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "ERROR",
            Self::Warn => "WARN",
            Self::Info => "INFO",
            Self::Debug => "DEBUG",
        }
    }
}

/// Who an event is about, for choosing its log level.
pub struct LogSubject<'a> {
    pub client_id: &'a str,
    pub source_ip: &'a str,
    /// The certificate id.
    pub principal_id: &'a str,
    pub thing_name: Option<&'a str>,
}

impl Registry {
    /// The most verbose level events about `subject` are logged at, as the account's logging
    /// options say (SetV2LoggingOptions / SetV2LoggingLevel, else SetLoggingOptions); `None`
    /// when logging is off. A level set for the client id, source IP or principal wins over
    /// one set for a thing group (the nearest group of the thing first), which wins over the
    /// default.
    pub fn log_level(&self, account_id: &str, subject: &LogSubject<'_>) -> Option<LogLevel> {
        self.read(account_id, |state| {
            let Some(v2) = &state.logging_v2 else {
                return state
                    .logging_v1
                    .as_ref()
                    .and_then(|v1| LogLevel::parse(&v1.log_level));
            };
            if v2.disable_all_logs {
                return None;
            }
            let level_of = |kind: &str, name: &str| {
                state.log_levels.get(&(kind.to_string(), name.to_string()))
            };
            for (kind, name) in [
                ("CLIENT_ID", subject.client_id),
                ("SOURCE_IP", subject.source_ip),
                ("PRINCIPAL_ID", subject.principal_id),
            ] {
                if let Some(level) = level_of(kind, name) {
                    return LogLevel::parse(level);
                }
            }
            if let Some(thing) = subject.thing_name.and_then(|t| state.things.get(t)) {
                for group in &thing.groups {
                    let chain = std::iter::once(group.as_str())
                        .chain(state.ancestors(group).into_iter().map(|g| g.name.as_str()));
                    for name in chain {
                        if let Some(level) = level_of("THING_GROUP", name) {
                            return LogLevel::parse(level);
                        }
                    }
                }
            }
            if let Some(level) = level_of("DEFAULT", "") {
                return LogLevel::parse(level);
            }
            LogLevel::parse(&v2.default_log_level)
        })
    }
}
