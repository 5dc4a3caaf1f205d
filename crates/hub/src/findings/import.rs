//! BatchImportFindings (spec 2): validate each finding, create or merge it under the provider
//! rules, run the automation rules, and write the batch in one transaction.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use fleetward_asff::{CustomerFields, ImportContext, ImportOutcome};
use serde_json::{Value, json};

use super::{SOURCE_IMPORT, Touched};
use crate::error::{HubError, HubResult};
use crate::index::key_hash;
use crate::products::ProductNames;
use crate::settings::AccountSettings;
use crate::{Caller, Hub};

/// Findings per request (spec 9).
const MAX_FINDINGS: usize = 100;

struct Accepted {
    finding: Value,
    product_arn: String,
    id: String,
    names: ProductNames,
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
                    finding,
                    product_arn,
                    id,
                    names,
                }),
                Err(message) => failed.push(failure(&id, "InvalidAccess", &message)),
            }
        }
        let success = accepted.len();
        if !accepted.is_empty() {
            self.import_accepted(caller, &settings, accepted).await?;
        }
        metrics::counter!("fleetward_hub_findings_imported_total").increment(success as u64);
        Ok(json!({
            "FailedCount": failed.len(),
            "SuccessCount": success,
            "FailedFindings": failed,
        }))
    }

    async fn import_accepted(
        &self,
        caller: &Caller,
        settings: &AccountSettings,
        accepted: Vec<Accepted>,
    ) -> HubResult<()> {
        let account_id = caller.account_id.as_str();
        let _guard = self.write_lock.lock().await;
        let now = self.clock.now_ms();

        let candidates: Vec<i64> = {
            let index = self.read_index();
            accepted
                .iter()
                .flat_map(|a| index.candidates(account_id, key_hash(&a.product_arn, &a.id)))
                .collect()
        };
        let mut existing: HashMap<(String, String), Touched> = HashMap::new();
        if !candidates.is_empty() {
            for stored in self.store.get_findings_by_seq(&candidates).await? {
                let body = serde_json::from_str(&stored.body).map_err(|e| {
                    HubError::Internal(format!("stored finding {}: {e}", stored.seq))
                })?;
                existing.insert(
                    (stored.product_arn.clone(), stored.id.clone()),
                    Touched {
                        seq: stored.seq,
                        product_arn: stored.product_arn,
                        id: stored.id,
                        body,
                        customer_fields: stored.customer_fields,
                    },
                );
            }
        }

        let mut touched: Vec<(String, String)> = Vec::new();
        let mut history = Vec::new();
        for item in accepted {
            let ctx = ImportContext {
                region: &self.region,
                now_ms: now,
                company_name: &item.names.company_name,
                product_name: &item.names.product_name,
                custom_product: item.names.custom,
                account_name: None,
            };
            let key = (item.product_arn.clone(), item.id.clone());
            let mut working = match existing.remove(&key) {
                None => {
                    let seq = self.next_seq.fetch_add(1, Ordering::SeqCst);
                    let body = fleetward_asff::prepare_new(item.finding, &ctx);
                    let created = Touched {
                        seq,
                        product_arn: item.product_arn,
                        id: item.id,
                        body,
                        customer_fields: 0,
                    };
                    history.push(created.history(
                        account_id,
                        now,
                        true,
                        SOURCE_IMPORT,
                        &caller.identity,
                        &[],
                    ));
                    created
                }
                Some(mut current) => {
                    let customer = CustomerFields(current.customer_fields);
                    match fleetward_asff::merge_import(&current.body, customer, item.finding, &ctx)
                    {
                        ImportOutcome::Stale => {
                            existing.insert(key, current);
                            continue;
                        }
                        ImportOutcome::Updated { finding, changes } => {
                            current.body = finding;
                            history.push(current.history(
                                account_id,
                                now,
                                false,
                                SOURCE_IMPORT,
                                &caller.identity,
                                &changes,
                            ));
                            current
                        }
                    }
                }
            };
            if !settings.rules.is_empty() {
                let mut index = self.write_index();
                for (rule_arn, changes) in crate::automation::apply_rules(
                    &settings.rules,
                    &mut working,
                    now,
                    &mut index.interner,
                ) {
                    history.push(working.history(
                        account_id,
                        now,
                        false,
                        super::SOURCE_UPDATE,
                        &rule_arn,
                        &changes,
                    ));
                }
            }
            if !touched.contains(&key) {
                touched.push(key.clone());
            }
            existing.insert(key, working);
        }

        let written: Vec<&Touched> = touched.iter().filter_map(|k| existing.get(k)).collect();
        let rows: Vec<_> = written.iter().map(|t| t.row(account_id)).collect();
        self.store.write_findings(&rows, &history).await?;
        let mut index = self.write_index();
        for t in written {
            index.upsert(account_id, t.meta(), &t.body);
        }
        Ok(())
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
