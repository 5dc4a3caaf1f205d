//! Gathers what a task's checks read, once per task and only what its checks need: the
//! registry snapshot, certificate facts (parsed once per certificate id and cached), CRLs
//! (cached in the store, refreshed from distribution points), the connection-history window
//! and the admin-registered IAM documents.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use base64::Engine;
use fleetward_registry::CertId;

use crate::admin_docs::{IamRoleDoc, IdentityPoolDoc};
use crate::catalog::{self, Needs};
use crate::checks::Inputs;
use crate::crl::{Crl, CrlSet, StoredCrl};
use crate::error::{AuditError, AuditResult};
use crate::facts::{self, CertFacts, Interner};
use crate::keys::Blocklist;
use crate::model::Task;
use crate::{Audit, persist};

/// Certificate PEMs read per store page when many facts are missing.
const PEM_PAGE: usize = 5_000;
/// Below this many missing facts, PEMs are read one by one instead of paging through all.
const FEW_MISSING: usize = 500;
const EVENTS_PAGE: usize = 20_000;
/// A CRL larger than this is not fetched.
const MAX_CRL_BYTES: usize = 32 * 1024 * 1024;

impl Audit {
    pub(crate) async fn build_inputs(
        &self,
        account: &str,
        task: &Task,
        checks: &[String],
    ) -> AuditResult<Inputs> {
        let needs: BTreeSet<u8> = checks
            .iter()
            .filter_map(|c| catalog::find(c))
            .map(|(_, d)| d.needs as u8)
            .collect();
        let need = |n: Needs| needs.contains(&(n as u8));
        let registry = self.registry.clone();
        let owned_account = account.to_string();
        let view = tokio::task::spawn_blocking(move || registry.audit_view(&owned_account))
            .await
            .map_err(|e| AuditError::Internal(format!("registry snapshot: {e}")))?;
        let mut inputs = Inputs {
            account_id: account.to_string(),
            now_ms: task.start_ms,
            window_from_ms: task.window_from_ms,
            window_to_ms: task.window_to_ms,
            configuration: task.configuration.clone(),
            ..Inputs::default()
        };
        let certs = need(Needs::CertificateFacts) || need(Needs::Crls);
        if certs {
            let ids: Vec<CertId> = view
                .certificates
                .iter()
                .filter(|c| crate::checks::in_use(c))
                .map(|c| c.id)
                .collect();
            inputs.cert_facts = self.certificate_facts(account, ids).await?;
            let mut interner = Interner::default();
            for ca in &view.ca_certificates {
                let parsed = facts::pem_to_der(&ca.pem)
                    .and_then(|der| facts::parse(&der, true, &mut interner));
                if let Some(f) = parsed {
                    inputs.ca_facts.insert(ca.id, f);
                }
            }
            inputs.blocklist = self.current_blocklist();
        }
        if need(Needs::Crls) {
            inputs.crls = self.crls(account, &inputs).await?;
        }
        if need(Needs::ConnectionHistory) {
            inputs.connections = self
                .connection_window(account, task.window_from_ms, task.window_to_ms)
                .await?;
        }
        if need(Needs::IamDocuments) {
            for (key, role) in
                persist::load_all::<IamRoleDoc>(self.store.as_ref(), account, persist::IAM_ROLE)
                    .await?
            {
                inputs.roles.insert(key, role);
            }
            inputs.pools = persist::load_all::<IdentityPoolDoc>(
                self.store.as_ref(),
                account,
                persist::IDENTITY_POOL,
            )
            .await?
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        }
        inputs.view = view;
        Ok(inputs)
    }

    fn current_blocklist(&self) -> Arc<Blocklist> {
        let Some(dir) = &self.options.blocklist_dir else {
            return Arc::new(Blocklist::default());
        };
        let mut current = self.blocklist.lock().unwrap_or_else(|p| p.into_inner());
        if current.is_stale(dir) {
            *current = Arc::new(Blocklist::load_dir(dir));
            tracing::info!(entries = current.len(), dir = %dir.display(), "Weak-key blocklist loaded.");
        }
        current.clone()
    }

    /// Facts of these device certificates, parsing (in parallel) those not cached yet.
    async fn certificate_facts(
        &self,
        account: &str,
        ids: Vec<CertId>,
    ) -> AuditResult<HashMap<CertId, Arc<CertFacts>>> {
        let missing: HashSet<CertId> = {
            let cache = self.cert_facts.lock().unwrap_or_else(|p| p.into_inner());
            ids.iter()
                .filter(|id| !cache.contains_key(id))
                .copied()
                .collect()
        };
        if missing.len() > FEW_MISSING {
            // Reading the next page overlaps with parsing the previous one.
            let mut after: Option<String> = None;
            let mut parsing: Option<tokio::task::JoinHandle<Parsed>> = None;
            loop {
                let page = self
                    .registry
                    .certificate_pem_page(account, after.as_deref(), PEM_PAGE)
                    .await
                    .map_err(|e| AuditError::Internal(e.to_string()))?;
                if let Some(previous) = parsing.take() {
                    self.cache_parsed(previous).await?;
                }
                let Some((last, _)) = page.last() else { break };
                after = Some(last.to_string());
                let done = page.len() < PEM_PAGE;
                let wanted: Vec<(CertId, String)> = page
                    .into_iter()
                    .filter(|(id, _)| missing.contains(id))
                    .collect();
                parsing = Some(tokio::task::spawn_blocking(move || parse_parallel(wanted)));
                if done {
                    break;
                }
            }
            if let Some(previous) = parsing.take() {
                self.cache_parsed(previous).await?;
            }
        } else if !missing.is_empty() {
            let mut wanted = Vec::new();
            for id in &missing {
                if let Some(pem) = self
                    .registry
                    .certificate_pem(account, id)
                    .await
                    .map_err(|e| AuditError::Internal(e.to_string()))?
                {
                    wanted.push((*id, pem));
                }
            }
            self.parse_into_cache(wanted).await?;
        }
        let mut cache = self.cert_facts.lock().unwrap_or_else(|p| p.into_inner());
        let out: HashMap<CertId, Arc<CertFacts>> = ids
            .iter()
            .filter_map(|id| cache.get(id).map(|f| (*id, f.clone())))
            .collect();
        // Certificates deleted since: drop their facts once the cache has grown well past use.
        if cache.len() > out.len() * 2 + 10_000 {
            cache.retain(|id, _| out.contains_key(id));
        }
        Ok(out)
    }

    async fn parse_into_cache(&self, pems: Vec<(CertId, String)>) -> AuditResult<()> {
        if pems.is_empty() {
            return Ok(());
        }
        self.cache_parsed(tokio::task::spawn_blocking(move || parse_parallel(pems)))
            .await
    }

    async fn cache_parsed(&self, parsing: tokio::task::JoinHandle<Parsed>) -> AuditResult<()> {
        let parsed = parsing
            .await
            .map_err(|e| AuditError::Internal(format!("certificate parsing: {e}")))?;
        let mut cache = self.cert_facts.lock().unwrap_or_else(|p| p.into_inner());
        cache.extend(parsed);
        Ok(())
    }

    async fn connection_window(
        &self,
        account: &str,
        from_ms: i64,
        to_ms: i64,
    ) -> AuditResult<Vec<fleetward_store::ConnectionEvent>> {
        let mut out = Vec::new();
        let mut cursor = 0;
        loop {
            let page = self
                .store
                .connection_events(account, from_ms, to_ms, cursor, EVENTS_PAGE)
                .await?;
            let done = page.len() < EVENTS_PAGE;
            if let Some((c, _)) = page.last() {
                cursor = *c;
            }
            out.extend(page.into_iter().map(|(_, e)| e));
            if done {
                break;
            }
        }
        // Appended in commit order; the checks want time order.
        out.sort_by_key(|e| e.time_ms);
        Ok(out)
    }

    /// Uploaded CRLs and those of the distribution points the certificates name (fetched
    /// when not cached or stale; a failed fetch falls back on the cached copy).
    async fn crls(&self, account: &str, inputs: &Inputs) -> AuditResult<CrlSet> {
        let stored =
            persist::load_all::<StoredCrl>(self.store.as_ref(), account, persist::CRL).await?;
        let mut by_key: HashMap<String, StoredCrl> = stored.into_iter().collect();
        let mut urls: BTreeSet<Arc<str>> = BTreeSet::new();
        for f in inputs.cert_facts.values() {
            urls.extend(f.crl_urls.iter().cloned());
        }
        for f in inputs.ca_facts.values() {
            urls.extend(f.crl_urls.iter().cloned());
        }
        let now = self.now();
        if self.options.fetch_crls {
            for url in urls {
                let key = format!("url:{url}");
                let fresh = by_key.get(&key).is_some_and(|c| {
                    now - c.fetched_ms < self.options.crl_refresh_ms
                        && c.next_update_ms.is_none_or(|n| n > now)
                });
                if fresh {
                    continue;
                }
                match self.fetch_crl(&url).await {
                    Ok(der) => {
                        let next = Crl::parse(&der, false).ok().and_then(|c| c.next_update_ms);
                        let doc = StoredCrl {
                            source: "url".into(),
                            url: Some(url.to_string()),
                            der: base64::engine::general_purpose::STANDARD.encode(&der),
                            fetched_ms: now,
                            next_update_ms: next,
                        };
                        self.store
                            .write_documents(&[persist::put(
                                account,
                                persist::CRL,
                                &key,
                                &doc,
                                now,
                            )])
                            .await?;
                        by_key.insert(key, doc);
                    }
                    Err(e) => {
                        tracing::warn!(%url, error = %e, "Cannot fetch a CRL; using the cached copy if any.")
                    }
                }
            }
        }
        let mut set = CrlSet::default();
        for (key, stored) in by_key {
            let Some(der) = stored.der_bytes() else {
                continue;
            };
            match Crl::parse(&der, stored.source == "upload") {
                Ok(crl) => set.add(crl),
                Err(e) => tracing::warn!(%key, error = %e, "A stored CRL does not parse."),
            }
        }
        Ok(set)
    }

    async fn fetch_crl(&self, url: &str) -> Result<Vec<u8>, String> {
        let response = self.http.get(url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        if response
            .content_length()
            .is_some_and(|l| l as usize > MAX_CRL_BYTES)
        {
            return Err("the CRL is too large".into());
        }
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        if bytes.len() > MAX_CRL_BYTES {
            return Err("the CRL is too large".into());
        }
        Crl::parse(&bytes, false)?;
        Ok(bytes.to_vec())
    }
}

type Parsed = Vec<(CertId, Arc<CertFacts>)>;

/// Parses PEM certificates on every core.
fn parse_parallel(pems: Vec<(CertId, String)>) -> Parsed {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .max(1);
    let chunk = pems.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = pems
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut interner = Interner::default();
                    part.iter()
                        .filter_map(|(id, pem)| {
                            let der = facts::pem_to_der(pem)?;
                            facts::parse(&der, false, &mut interner).map(|f| (*id, Arc::new(f)))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}
