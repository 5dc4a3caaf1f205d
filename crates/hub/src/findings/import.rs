//! BatchImportFindings (spec 2): validate each finding, create or merge it under the provider
//! rules, run the automation rules, and write the batch in one transaction.
//!
//! Imports are serialised (the merge rules read the stored finding, and the store and the index
//! must change in the same order), so the serial part is kept short: a finding that does not
//! exist yet — the common case — is normalised, run through the automation rules, serialised and
//! given its index record *before* the write lock is taken. Under the lock only identities are
//! checked, existing findings merged, sequence numbers assigned and the batch written.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use fleetward_asff::{CustomerFields, FieldChange, ImportContext, ImportOutcome};
use fleetward_findings_query::FindingRecord;
use fleetward_store::HistoryRecord;
use serde_json::{Value, json};

use super::{SOURCE_IMPORT, SOURCE_UPDATE, Touched};
use crate::error::{HubError, HubResult};
use crate::index::key_hash;
use crate::products::ProductNames;
use crate::settings::AccountSettings;
use crate::{Caller, Hub};

/// Findings per request (spec 9).
const MAX_FINDINGS: usize = 100;

struct Accepted {
    product_arn: String,
    id: String,
    names: ProductNames,
    key_hash: u64,
    form: Form,
}

/// What the write path gets of an accepted finding.
enum Form {
    /// Not in the index when checked: already normalised, rules applied, stored form and
    /// record built.
    New {
        body: Value,
        customer_fields: i64,
        rule_changes: Vec<(String, Vec<FieldChange>)>,
        prebuilt: super::Prebuilt,
    },
    /// Possibly stored already: merged under the write lock.
    Incoming(Value),
}

impl Hub {
    pub async fn handle_batch_import_findings(
        &self,
        caller: &Caller,
        mut input: Value,
    ) -> HubResult<Value> {
        let settings = self.require_enabled(caller).await?;
        let findings = match input.get_mut("Findings").map(Value::take) {
            Some(Value::Array(findings)) => findings,
            Some(_) => return Err(HubError::InvalidInput("Findings must be a list.".into())),
            None => return Err(HubError::InvalidInput("Findings is required.".into())),
        };
        if findings.is_empty() || findings.len() > MAX_FINDINGS {
            return Err(HubError::InvalidInput(format!(
                "Findings must contain between 1 and {MAX_FINDINGS} findings."
            )));
        }
        refuse_foreign_accounts(caller, &findings)?;

        let now = self.clock.now_ms();
        let mut failed = Vec::new();
        let mut accepted = Vec::with_capacity(findings.len());
        for finding in findings {
            let text = |name: &str| {
                finding
                    .get(name)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let (id, product_arn) = (text("Id"), text("ProductArn"));
            if let Err(message) = fleetward_asff::validate_finding(&finding) {
                failed.push(failure(&id, "InvalidInput", &message));
                continue;
            }
            match self.accepted_product(&caller.account_id, &settings, &product_arn) {
                Ok(names) => accepted.push(Accepted {
                    key_hash: key_hash(&product_arn, &id),
                    product_arn,
                    id,
                    names,
                    form: Form::Incoming(finding),
                }),
                Err(message) => failed.push(failure(&id, "InvalidAccess", &message)),
            }
        }
        let success = accepted.len();
        if !accepted.is_empty() {
            self.prepare_new_findings(&caller.account_id, &settings, &mut accepted, now);
            self.write_accepted(caller, accepted, now).await?;
        }
        metrics::counter!("fleetward_hub_findings_imported_total").increment(success as u64);
        Ok(json!({
            "FailedCount": failed.len(),
            "SuccessCount": success,
            "FailedFindings": failed,
        }))
    }

    /// Does the CPU work of findings not in the index yet, outside the write lock.
    fn prepare_new_findings(
        &self,
        account_id: &str,
        settings: &AccountSettings,
        accepted: &mut [Accepted],
        now: i64,
    ) {
        let unknown: Vec<bool> = {
            let index = self.read_index();
            accepted
                .iter()
                .map(|a| index.candidates(account_id, a.key_hash).is_empty())
                .collect()
        };
        let mut bodies = Vec::new();
        for (item, is_new) in accepted.iter_mut().zip(unknown) {
            let Form::Incoming(incoming) = &mut item.form else {
                continue;
            };
            // The same finding twice in one batch: the second is an update of the first.
            if !is_new || bodies.iter().any(|(k, _)| *k == item.key_hash) {
                continue;
            }
            let ctx = import_context(&self.region, now, &item.names);
            let mut working = Touched {
                seq: 0,
                product_arn: String::new(),
                id: String::new(),
                body: fleetward_asff::prepare_new(incoming.take(), &ctx),
                customer_fields: 0,
                prebuilt: None,
            };
            let rule_changes = if settings.rules.is_empty() {
                Vec::new()
            } else {
                let mut index = self.write_index();
                crate::automation::apply_rules(
                    &settings.rules,
                    &mut working,
                    now,
                    &mut index.interner,
                )
            };
            // The store's own form (SQLite compresses) is made here too, off the write lock.
            let mut text = super::body_text(&working.body);
            let encoded = self.store.encode_body(&text);
            if encoded.is_some() {
                text = String::new();
            }
            bodies.push((item.key_hash, (working, rule_changes, text, encoded)));
        }
        if bodies.is_empty() {
            return;
        }
        // The interner needs the index's write lock: taken per finding, not per batch, so that
        // the batch being written (its index insert) and queries wait microseconds, not the
        // whole batch's encoding.
        let mut built: HashMap<u64, _> = bodies
            .into_iter()
            .map(|(hash, (working, rule_changes, text, encoded))| {
                let record =
                    FindingRecord::from_finding(&working.body, &mut self.write_index().interner);
                let prebuilt = super::Prebuilt {
                    text,
                    encoded,
                    record,
                };
                (hash, (working, rule_changes, prebuilt))
            })
            .collect();
        for item in accepted.iter_mut() {
            if matches!(&item.form, Form::Incoming(v) if v.is_null())
                && let Some((working, rule_changes, prebuilt)) = built.remove(&item.key_hash)
            {
                item.form = Form::New {
                    body: working.body,
                    customer_fields: working.customer_fields,
                    rule_changes,
                    prebuilt,
                };
            }
        }
    }

    async fn write_accepted(
        &self,
        caller: &Caller,
        accepted: Vec<Accepted>,
        now: i64,
    ) -> HubResult<()> {
        let account_id = caller.account_id.as_str();
        let guard = self.write_lock.lock().await;
        let settings = self.settings.get(account_id).await?;

        let candidates: Vec<i64> = {
            let index = self.read_index();
            accepted
                .iter()
                .flat_map(|a| index.candidates(account_id, a.key_hash))
                .collect()
        };
        let mut current: HashMap<(String, String), Touched> = HashMap::new();
        if !candidates.is_empty() {
            for stored in self.store.get_findings_by_seq(&candidates).await? {
                let finding = Touched::from_stored(stored)?;
                current.insert((finding.product_arn.clone(), finding.id.clone()), finding);
            }
        }

        let mut order: Vec<(String, String)> = Vec::new();
        let mut history: Vec<HistoryRecord> = Vec::new();
        for item in accepted {
            let key = (item.product_arn.clone(), item.id.clone());
            let ctx = import_context(&self.region, now, &item.names);
            let existing = current.remove(&key);
            let touched = match (existing, item.form) {
                (
                    None,
                    Form::New {
                        body,
                        customer_fields,
                        rule_changes,
                        prebuilt,
                    },
                ) => {
                    let created = Touched {
                        seq: self.next_seq.fetch_add(1, Ordering::SeqCst),
                        product_arn: item.product_arn,
                        id: item.id,
                        body,
                        customer_fields,
                        prebuilt: Some(prebuilt),
                    };
                    history.push(created.history(
                        account_id,
                        now,
                        true,
                        SOURCE_IMPORT,
                        &caller.identity,
                        &[],
                    ));
                    for (rule_arn, changes) in &rule_changes {
                        history.push(created.history(
                            account_id,
                            now,
                            false,
                            SOURCE_UPDATE,
                            rule_arn,
                            changes,
                        ));
                    }
                    created
                }
                (None, Form::Incoming(incoming)) => {
                    let mut created = Touched {
                        seq: self.next_seq.fetch_add(1, Ordering::SeqCst),
                        product_arn: item.product_arn,
                        id: item.id,
                        body: fleetward_asff::prepare_new(incoming, &ctx),
                        customer_fields: 0,
                        prebuilt: None,
                    };
                    history.push(created.history(
                        account_id,
                        now,
                        true,
                        SOURCE_IMPORT,
                        &caller.identity,
                        &[],
                    ));
                    self.apply_rules_in_place(
                        &settings,
                        &mut created,
                        now,
                        account_id,
                        &mut history,
                    );
                    created
                }
                (Some(mut stored), form) => {
                    // A normalised body stands in for the provider's when the finding appeared
                    // between the index check and the lock: it carries the same provider fields.
                    let incoming = match form {
                        Form::New { body, .. } => body,
                        Form::Incoming(incoming) => incoming,
                    };
                    let customer = CustomerFields(stored.customer_fields);
                    match fleetward_asff::merge_import(&stored.body, customer, incoming, &ctx) {
                        ImportOutcome::Stale => {
                            current.insert(key, stored);
                            continue;
                        }
                        ImportOutcome::Updated { finding, changes } => {
                            stored.body = finding;
                            stored.prebuilt = None;
                            history.push(stored.history(
                                account_id,
                                now,
                                false,
                                SOURCE_IMPORT,
                                &caller.identity,
                                &changes,
                            ));
                            self.apply_rules_in_place(
                                &settings,
                                &mut stored,
                                now,
                                account_id,
                                &mut history,
                            );
                            stored
                        }
                    }
                }
            };
            if !order.contains(&key) {
                order.push(key.clone());
            }
            current.insert(key, touched);
        }

        let mut written: Vec<Touched> = order.iter().filter_map(|k| current.remove(k)).collect();
        let rows = super::rows_of(&mut written, account_id);
        self.store.write_findings(&rows, &history).await?;
        let garbage = self.index_written(account_id, written);
        // Freeing the bodies takes a while: not under the lock.
        drop(guard);
        drop(garbage);
        Ok(())
    }

    fn apply_rules_in_place(
        &self,
        settings: &AccountSettings,
        finding: &mut Touched,
        now: i64,
        account_id: &str,
        history: &mut Vec<HistoryRecord>,
    ) {
        if settings.rules.is_empty() {
            return;
        }
        let applied = {
            let mut index = self.write_index();
            crate::automation::apply_rules(&settings.rules, finding, now, &mut index.interner)
        };
        for (rule_arn, changes) in applied {
            history.push(finding.history(
                account_id,
                now,
                false,
                SOURCE_UPDATE,
                &rule_arn,
                &changes,
            ));
        }
    }
}

fn import_context<'a>(region: &'a str, now: i64, names: &'a ProductNames) -> ImportContext<'a> {
    ImportContext {
        region,
        now_ms: now,
        company_name: &names.company_name,
        product_name: &names.product_name,
        custom_product: names.custom,
        account_name: None,
    }
}

/// A finding for another account is refused for the whole request, as AWS does for
/// non-partner products (spec 2.1).
fn refuse_foreign_accounts(caller: &Caller, findings: &[Value]) -> HubResult<()> {
    for finding in findings {
        let account = finding.get("AwsAccountId").and_then(Value::as_str);
        if account.is_some_and(|a| a != caller.account_id) {
            let product = finding
                .get("ProductArn")
                .and_then(Value::as_str)
                .unwrap_or("*");
            return Err(HubError::AccessDenied(format!(
                "User: {} is not authorized to perform: securityhub:BatchImportFindings on resource: {product}",
                caller.identity
            )));
        }
    }
    Ok(())
}

fn failure(id: &str, code: &str, message: &str) -> Value {
    json!({ "Id": if id.is_empty() { "unknown" } else { id }, "ErrorCode": code, "ErrorMessage": message })
}
