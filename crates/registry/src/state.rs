//! One account's registry in memory, with the reverse indexes the API and the gateway need.
//! The records are the truth (and what is persisted); the indexes are rebuilt from them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use fleetward_policy::Policy;
use fleetward_store::Store;

use crate::error::{RegistryError, RegistryResult};
use crate::persist::{self, decode, load_kind};
use crate::records::*;

/// A policy with each version compiled once.
#[derive(Clone)]
pub struct PolicyEntry {
    pub stored: StoredPolicy,
    pub compiled: BTreeMap<u32, Arc<Policy>>,
}

impl PolicyEntry {
    pub fn new(stored: StoredPolicy) -> RegistryResult<Self> {
        let mut compiled = BTreeMap::new();
        for (id, version) in &stored.versions {
            let policy = Policy::parse(&version.document).map_err(|e| {
                RegistryError::Internal(format!(
                    "stored policy {} version {id} does not parse: {}",
                    stored.name,
                    e.message()
                ))
            })?;
            compiled.insert(*id, Arc::new(policy));
        }
        Ok(Self { stored, compiled })
    }

    pub fn default_policy(&self) -> Option<&Arc<Policy>> {
        self.compiled.get(&self.stored.default_version)
    }
}

#[derive(Default)]
pub struct AccountState {
    pub things: BTreeMap<String, Thing>,
    pub thing_types: BTreeMap<String, ThingType>,
    pub groups: BTreeMap<String, ThingGroup>,
    pub group_children: HashMap<String, BTreeSet<String>>,
    pub group_things: HashMap<String, BTreeSet<String>>,
    pub certificates: HashMap<CertId, Certificate>,
    pub certificates_by_created: BTreeSet<(i64, CertId)>,
    pub certificates_by_ca: HashMap<CertId, BTreeSet<(i64, CertId)>>,
    pub ca_certificates: HashMap<CertId, CaCertificate>,
    pub ca_by_created: BTreeSet<(i64, CertId)>,
    pub policies: BTreeMap<String, PolicyEntry>,
    pub policies_by_created: BTreeSet<(i64, String)>,
    /// Policy name -> target ARNs, and the reverse.
    pub policy_targets: HashMap<String, BTreeSet<String>>,
    pub target_policies: HashMap<String, BTreeSet<String>>,
    /// Principal (certificate ARN) -> thing names.
    pub principal_things: HashMap<String, BTreeSet<String>>,
    pub role_aliases: BTreeMap<String, RoleAlias>,
    pub logging_v1: Option<LoggingV1>,
    pub logging_v2: Option<LoggingV2>,
    /// (target type, target name) -> log level.
    pub log_levels: BTreeMap<(String, String), String>,
    pub registration_code: Option<String>,
    /// Resource ARN -> tags.
    pub tags: HashMap<String, BTreeMap<String, String>>,
}

impl AccountState {
    // ---- things ----

    pub fn insert_thing(&mut self, thing: Thing) {
        if let Some(old) = self.things.remove(&thing.name) {
            self.unindex_thing(&old);
        }
        for group in &thing.groups {
            self.group_things
                .entry(group.clone())
                .or_default()
                .insert(thing.name.clone());
        }
        for principal in thing.principals.keys() {
            self.principal_things
                .entry(principal.clone())
                .or_default()
                .insert(thing.name.clone());
        }
        self.things.insert(thing.name.clone(), thing);
    }

    pub fn remove_thing(&mut self, name: &str) -> Option<Thing> {
        let thing = self.things.remove(name)?;
        self.unindex_thing(&thing);
        Some(thing)
    }

    fn unindex_thing(&mut self, thing: &Thing) {
        for group in &thing.groups {
            remove_from(&mut self.group_things, group, &thing.name);
        }
        for principal in thing.principals.keys() {
            remove_from(&mut self.principal_things, principal, &thing.name);
        }
    }

    // ---- thing groups ----

    pub fn insert_group(&mut self, group: ThingGroup) {
        if let Some(parent) = &group.parent {
            self.group_children
                .entry(parent.clone())
                .or_default()
                .insert(group.name.clone());
        }
        self.groups.insert(group.name.clone(), group);
    }

    pub fn remove_group(&mut self, name: &str) -> Option<ThingGroup> {
        let group = self.groups.remove(name)?;
        if let Some(parent) = &group.parent {
            remove_from(&mut self.group_children, parent, name);
        }
        Some(group)
    }

    /// The group's ancestors, nearest first.
    pub fn ancestors(&self, name: &str) -> Vec<&ThingGroup> {
        let mut chain = Vec::new();
        let mut current = self.groups.get(name).and_then(|g| g.parent.as_deref());
        while let Some(parent) = current.and_then(|p| self.groups.get(p)) {
            if chain.len() > 16 {
                break; // a cycle cannot be created, but never loop on bad data
            }
            chain.push(parent);
            current = parent.parent.as_deref();
        }
        chain
    }

    /// The group and all groups below it.
    pub fn subtree(&self, name: &str) -> Vec<String> {
        let mut out = vec![name.to_string()];
        let mut i = 0;
        while i < out.len() {
            if let Some(children) = self.group_children.get(&out[i]) {
                out.extend(children.iter().cloned());
            }
            i += 1;
        }
        out
    }

    // ---- certificates ----

    pub fn insert_certificate(&mut self, cert: Certificate) {
        self.remove_certificate(&cert.id);
        self.certificates_by_created
            .insert((cert.created_ms, cert.id));
        if let Some(ca) = cert.ca_id {
            self.certificates_by_ca
                .entry(ca)
                .or_default()
                .insert((cert.created_ms, cert.id));
        }
        self.certificates.insert(cert.id, cert);
    }

    pub fn remove_certificate(&mut self, id: &CertId) -> Option<Certificate> {
        let cert = self.certificates.remove(id)?;
        self.certificates_by_created
            .remove(&(cert.created_ms, cert.id));
        if let Some(ca) = cert.ca_id
            && let Some(set) = self.certificates_by_ca.get_mut(&ca)
        {
            set.remove(&(cert.created_ms, cert.id));
            if set.is_empty() {
                self.certificates_by_ca.remove(&ca);
            }
        }
        Some(cert)
    }

    pub fn insert_ca(&mut self, ca: CaCertificate) {
        self.remove_ca(&ca.id);
        self.ca_by_created.insert((ca.created_ms, ca.id));
        self.ca_certificates.insert(ca.id, ca);
    }

    pub fn remove_ca(&mut self, id: &CertId) -> Option<CaCertificate> {
        let ca = self.ca_certificates.remove(id)?;
        self.ca_by_created.remove(&(ca.created_ms, ca.id));
        Some(ca)
    }

    // ---- policies ----

    pub fn insert_policy(&mut self, entry: PolicyEntry) {
        if let Some(old) = self.policies.remove(&entry.stored.name) {
            self.policies_by_created
                .remove(&(old.stored.created_ms, old.stored.name.clone()));
        }
        self.policies_by_created
            .insert((entry.stored.created_ms, entry.stored.name.clone()));
        self.policies.insert(entry.stored.name.clone(), entry);
    }

    pub fn remove_policy(&mut self, name: &str) -> Option<PolicyEntry> {
        let entry = self.policies.remove(name)?;
        self.policies_by_created
            .remove(&(entry.stored.created_ms, name.to_string()));
        Some(entry)
    }

    pub fn attach(&mut self, policy: &str, target: &str) {
        self.policy_targets
            .entry(policy.to_string())
            .or_default()
            .insert(target.to_string());
        self.target_policies
            .entry(target.to_string())
            .or_default()
            .insert(policy.to_string());
    }

    pub fn detach(&mut self, policy: &str, target: &str) {
        remove_from(&mut self.policy_targets, policy, target);
        remove_from(&mut self.target_policies, target, policy);
    }

    pub fn policies_of(&self, target: &str) -> impl Iterator<Item = &String> {
        self.target_policies.get(target).into_iter().flatten()
    }

    // ---- role aliases ----

    pub fn insert_role_alias(&mut self, alias: RoleAlias) {
        self.role_aliases.insert(alias.name.clone(), alias);
    }

    pub fn remove_role_alias(&mut self, name: &str) -> Option<RoleAlias> {
        self.role_aliases.remove(name)
    }

    /// Loads one account's registry from the store.
    pub async fn load(store: &dyn Store, account_id: &str) -> RegistryResult<Self> {
        let mut state = Self::default();
        for doc in load_kind(store, account_id, persist::THING_TYPE).await? {
            let t: ThingType = decode(&doc)?;
            state.thing_types.insert(t.name.clone(), t);
        }
        for doc in load_kind(store, account_id, persist::THING_GROUP).await? {
            state.insert_group(decode(&doc)?);
        }
        for doc in load_kind(store, account_id, persist::THING).await? {
            state.insert_thing(decode(&doc)?);
        }
        for doc in load_kind(store, account_id, persist::CA_CERT).await? {
            state.insert_ca(decode(&doc)?);
        }
        for doc in load_kind(store, account_id, persist::CERT).await? {
            state.insert_certificate(decode(&doc)?);
        }
        for doc in load_kind(store, account_id, persist::POLICY).await? {
            state.insert_policy(PolicyEntry::new(decode(&doc)?)?);
        }
        for doc in load_kind(store, account_id, persist::POLICY_TARGET).await? {
            if let Some((policy, target)) = doc.key.split_once('|') {
                state.attach(policy, target);
            }
        }
        for doc in load_kind(store, account_id, persist::ROLE_ALIAS).await? {
            state.insert_role_alias(decode(&doc)?);
        }
        for doc in load_kind(store, account_id, persist::LOGGING).await? {
            match doc.key.as_str() {
                "v1" => state.logging_v1 = Some(decode(&doc)?),
                "v2" => state.logging_v2 = Some(decode(&doc)?),
                _ => {}
            }
        }
        for doc in load_kind(store, account_id, persist::LOG_LEVEL).await? {
            if let Some((kind, name)) = doc.key.split_once('|') {
                let level: String = decode(&doc)?;
                state
                    .log_levels
                    .insert((kind.to_string(), name.to_string()), level);
            }
        }
        for doc in load_kind(store, account_id, persist::REGISTRATION_CODE).await? {
            state.registration_code = Some(decode(&doc)?);
        }
        for doc in load_kind(store, account_id, persist::TAGS).await? {
            state.tags.insert(doc.key.clone(), decode(&doc)?);
        }
        Ok(state)
    }
}

fn remove_from(map: &mut HashMap<String, BTreeSet<String>>, key: &str, value: &str) {
    if let Some(set) = map.get_mut(key) {
        set.remove(value);
        if set.is_empty() {
            map.remove(key);
        }
    }
}
