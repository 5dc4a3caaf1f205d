//! ListAuditFindings, DescribeAuditFinding, ListRelatedResourcesForAuditFinding (spec 1.7).
//! Findings are read from the store: a task's findings are one key range, a check's a
//! narrower one.

use serde_json::{Value, json};

use crate::error::{AuditError, AuditResult};
use crate::input::{
    check_name_pattern, invalid, max_results, opt_bool, opt_str, opt_timestamp, req_str,
    resource_identifier,
};
use crate::model::{Finding, Resource, TASK_ID_LEN, check_prefix, task_of_finding};
use crate::persist::{self, RELATED_CHUNK};
use crate::{Audit, Caller};

/// Documents read per store page while filtering.
const SCAN_PAGE: usize = 500;

impl Audit {
    pub async fn handle_list_audit_findings(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let task_id = opt_str(input, "taskId")?;
        if let Some(id) = task_id {
            check_name_pattern("taskId", id, 40, true)?;
        }
        let start = opt_timestamp(input, "startTime")?;
        let end = opt_timestamp(input, "endTime")?;
        let range = match (task_id, start, end) {
            (Some(_), None, None) => None,
            (None, Some(s), Some(e)) if s <= e => Some((s, e)),
            (None, Some(_), Some(_)) => {
                return Err(invalid("endTime must not be before startTime."));
            }
            _ => {
                return Err(invalid(
                    "Specify either taskId or both startTime and endTime, not both.",
                ));
            }
        };
        let check = opt_str(input, "checkName")?
            .map(|n| crate::input::known_check(n).map(|i| (i, n.to_string())))
            .transpose()?;
        let resource = resource_identifier(input, "resourceIdentifier")?.map(|r| r.key());
        let suppressed = opt_bool(input, "listSuppressedFindings")?;
        let limit = max_results(input)?;
        let token = opt_str(input, "nextToken")?;
        if let Some(t) = token
            && (t.len() <= TASK_ID_LEN || !t.chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(invalid("The nextToken is not valid."));
        }

        // The tasks to read, in order.
        let tasks: Vec<String> = match (task_id, range) {
            (Some(id), _) => vec![id.to_string()],
            (None, Some((s, e))) => {
                let all = self.state.lock().await;
                let mut list: Vec<(i64, String)> = all
                    .get(&caller.account_id)
                    .map(|st| {
                        st.tasks
                            .values()
                            .filter(|t| t.start_ms <= e && t.end_ms.unwrap_or(i64::MAX) >= s)
                            .map(|t| (t.start_ms, t.task_id.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                list.sort();
                list.into_iter().map(|(_, id)| id).collect()
            }
            _ => Vec::new(),
        };
        let resume_task = token.and_then(task_of_finding);
        let skip = match resume_task {
            Some(t) => match tasks.iter().position(|x| x == t) {
                Some(i) => i,
                None => return Err(invalid("The nextToken is not valid.")),
            },
            None => 0,
        };
        let matches = |f: &Finding| {
            check.as_ref().is_none_or(|(_, n)| &f.check_name == n)
                && resource
                    .as_ref()
                    .is_none_or(|k| &f.non_compliant_resource.resource_identifier.key() == k)
                && suppressed.is_none_or(|s| f.is_suppressed == s)
                && range.is_none_or(|(s, e)| f.finding_ms >= s && f.finding_ms <= e)
        };
        let mut out: Vec<Finding> = Vec::new();
        let mut more = false;
        'tasks: for (i, task) in tasks.iter().enumerate().skip(skip) {
            let prefix = match &check {
                Some((index, _)) => check_prefix(task, *index),
                None => task.clone(),
            };
            let mut after: Option<String> = if i == skip {
                token.map(str::to_string)
            } else {
                None
            };
            loop {
                let page = persist::prefix_page(
                    self.store.as_ref(),
                    &caller.account_id,
                    persist::FINDING,
                    &prefix,
                    after.as_deref(),
                    SCAN_PAGE,
                )
                .await?;
                let done = page.len() < SCAN_PAGE;
                for doc in &page {
                    let finding: Finding = persist::decode(doc)?;
                    if matches(&finding) {
                        if out.len() == limit {
                            more = true;
                            break 'tasks;
                        }
                        out.push(finding);
                    }
                }
                match page.last() {
                    Some(last) if !done => after = Some(last.key.clone()),
                    _ => break,
                }
            }
        }
        let mut result = json!({"findings": out.iter().map(Finding::to_wire).collect::<Vec<_>>()});
        if more && let Some(last) = out.last() {
            result["nextToken"] = json!(last.finding_id);
        }
        Ok(result)
    }

    async fn finding(&self, caller: &Caller, finding_id: &str) -> AuditResult<Finding> {
        check_name_pattern("findingId", finding_id, 128, false)?;
        let doc = self
            .store
            .get_document(&caller.account_id, persist::FINDING, finding_id)
            .await?
            .ok_or_else(|| {
                AuditError::not_found(format!("The audit finding {finding_id} does not exist."))
            })?;
        persist::decode(&doc)
    }

    pub async fn handle_describe_audit_finding(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let finding = self.finding(caller, req_str(input, "findingId")?).await?;
        Ok(json!({"finding": finding.to_wire()}))
    }

    pub async fn handle_list_related_resources_for_audit_finding(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let finding = self.finding(caller, req_str(input, "findingId")?).await?;
        let limit = max_results(input)?;
        let offset: usize = match opt_str(input, "nextToken")? {
            Some(t) => t
                .parse()
                .map_err(|_| invalid("The nextToken is not valid."))?,
            None => 0,
        };
        let total = finding.related_total.max(finding.related_resources.len());
        let mut page: Vec<Resource> = Vec::new();
        if total <= finding.related_resources.len() {
            page.extend(
                finding
                    .related_resources
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .cloned(),
            );
        } else {
            let mut chunk = offset / RELATED_CHUNK;
            let mut skip = offset % RELATED_CHUNK;
            while page.len() < limit {
                let key = format!("{}-{chunk:06}", finding.finding_id);
                let Some(doc) = self
                    .store
                    .get_document(&caller.account_id, persist::RELATED, &key)
                    .await?
                else {
                    break;
                };
                let items: Vec<Resource> = persist::decode(&doc)?;
                page.extend(items.into_iter().skip(skip).take(limit - page.len()));
                skip = 0;
                chunk += 1;
            }
        }
        let next = offset + page.len();
        let mut out = json!({"relatedResources": page});
        if next < total && !page.is_empty() {
            out["nextToken"] = json!(next.to_string());
        }
        Ok(out)
    }
}
