//! Create/Describe/Update/Delete/ListScheduledAudits (spec 1.6), and what makes one due.

use serde_json::{Value, json};

use crate::error::{AuditError, AuditResult};
use crate::input::{
    check_name_pattern, invalid, max_results, opt_str, req_str, target_check_names,
};
use crate::model::ScheduledAudit;
use crate::schedule::{Frequency, next_run, parse_day_of_month, parse_weekday};
use crate::tasks::require_enabled;
use crate::{Audit, Caller, persist};

/// At most 5 scheduled audits per account (spec 6).
const MAX_SCHEDULED: usize = 5;

/// A validated schedule: frequency and the day member it needs (the other is dropped).
struct Schedule {
    frequency: String,
    day_of_week: Option<String>,
    day_of_month: Option<String>,
}

fn schedule(
    frequency: &str,
    day_of_week: Option<&str>,
    day_of_month: Option<&str>,
) -> AuditResult<Schedule> {
    let parsed = Frequency::parse(frequency).ok_or_else(|| {
        invalid(format!(
            "frequency must be DAILY, WEEKLY, BIWEEKLY or MONTHLY, not {frequency}."
        ))
    })?;
    if let Some(d) = day_of_week
        && parse_weekday(d).is_none()
    {
        return Err(invalid(format!(
            "dayOfWeek must be SUN, MON, TUE, WED, THU, FRI or SAT, not {d}."
        )));
    }
    if let Some(d) = day_of_month
        && parse_day_of_month(d).is_none()
    {
        return Err(invalid(format!(
            "dayOfMonth must be 1 to 31 or LAST, not {d}."
        )));
    }
    let (day_of_week, day_of_month) = match parsed {
        Frequency::Daily => (None, None),
        Frequency::Weekly | Frequency::Biweekly => {
            let d = day_of_week
                .ok_or_else(|| invalid(format!("dayOfWeek is required for {frequency} audits.")))?;
            (Some(d.to_string()), None)
        }
        Frequency::Monthly => {
            let d = day_of_month
                .ok_or_else(|| invalid("dayOfMonth is required for MONTHLY audits."))?;
            (None, Some(d.to_string()))
        }
    };
    Ok(Schedule {
        frequency: frequency.to_string(),
        day_of_week,
        day_of_month,
    })
}

/// The next due time of `audit` strictly after `after_ms`.
pub fn due_after(audit: &ScheduledAudit, phase_ms: Option<i64>, after_ms: i64) -> i64 {
    next_run(
        Frequency::parse(&audit.frequency).unwrap_or(Frequency::Daily),
        audit.day_of_week.as_deref().and_then(parse_weekday),
        audit.day_of_month.as_deref().and_then(parse_day_of_month),
        phase_ms,
        after_ms,
    )
}

fn name(input: &Value) -> AuditResult<&str> {
    let name = req_str(input, "scheduledAuditName")?;
    check_name_pattern("scheduledAuditName", name, 128, false)?;
    Ok(name)
}

fn not_found(name: &str) -> AuditError {
    AuditError::not_found(format!("The scheduled audit {name} does not exist."))
}

/// `tags`: a list of `{Key, Value}`.
fn tags(input: &Value) -> AuditResult<Vec<Value>> {
    let Some(list) = input.get("tags").filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let items = list
        .as_array()
        .ok_or_else(|| invalid("tags must be a list."))?;
    if items.len() > 50 {
        return Err(invalid("At most 50 tags."));
    }
    for tag in items {
        let key = tag.get("Key").and_then(Value::as_str).unwrap_or_default();
        let value = tag.get("Value").map(|v| v.as_str().map(str::len));
        if key.is_empty()
            || key.len() > 128
            || matches!(value, Some(None))
            || matches!(value, Some(Some(l)) if l > 256)
        {
            return Err(invalid(
                "Each tag needs a Key of 1 to 128 characters and a Value of at most 256.",
            ));
        }
    }
    Ok(items.clone())
}

impl Audit {
    pub async fn handle_create_scheduled_audit(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let name = name(input)?;
        let frequency = req_str(input, "frequency")?;
        let sched = schedule(
            frequency,
            opt_str(input, "dayOfWeek")?,
            opt_str(input, "dayOfMonth")?,
        )?;
        let checks =
            target_check_names(input)?.ok_or_else(|| invalid("targetCheckNames is required."))?;
        let tags = tags(input)?;
        let account = &caller.account_id;
        let arn = self.arn(account, &format!("scheduledaudit/{name}"));
        let mut all = self.state.lock().await;
        let state = all.entry(account.clone()).or_default();
        if state.scheduled.contains_key(name) {
            return Err(AuditError::ResourceAlreadyExists {
                message: format!("The scheduled audit {name} already exists."),
                resource_id: name.to_string(),
                resource_arn: arn,
            });
        }
        require_enabled(state, &checks)?;
        if state.scheduled.len() >= MAX_SCHEDULED {
            return Err(AuditError::LimitExceeded(format!(
                "At most {MAX_SCHEDULED} scheduled audits per account."
            )));
        }
        let now = self.now();
        let mut audit = ScheduledAudit {
            name: name.to_string(),
            arn: arn.clone(),
            frequency: sched.frequency,
            day_of_week: sched.day_of_week,
            day_of_month: sched.day_of_month,
            target_check_names: checks,
            tags,
            created_ms: now,
            next_run_ms: 0,
            last_run_ms: None,
        };
        audit.next_run_ms = due_after(&audit, None, now);
        self.store
            .write_documents(&[persist::put(account, persist::SCHEDULED, name, &audit, now)])
            .await?;
        state.scheduled.insert(name.to_string(), audit);
        self.wake.notify_one();
        Ok(json!({"scheduledAuditArn": arn}))
    }

    pub async fn handle_describe_scheduled_audit(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let name = name(input)?;
        let all = self.state.lock().await;
        let audit = all
            .get(&caller.account_id)
            .and_then(|s| s.scheduled.get(name))
            .ok_or_else(|| not_found(name))?;
        let mut out = audit.metadata();
        out["targetCheckNames"] = json!(audit.target_check_names);
        Ok(out)
    }

    pub async fn handle_update_scheduled_audit(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let name = name(input)?;
        let checks = target_check_names(input)?;
        let account = &caller.account_id;
        let mut all = self.state.lock().await;
        let state = all.entry(account.clone()).or_default();
        let mut audit = state
            .scheduled
            .get(name)
            .cloned()
            .ok_or_else(|| not_found(name))?;
        let frequency = opt_str(input, "frequency")?
            .unwrap_or(&audit.frequency)
            .to_string();
        let day_of_week = opt_str(input, "dayOfWeek")?
            .or(audit.day_of_week.as_deref())
            .map(str::to_string);
        let day_of_month = opt_str(input, "dayOfMonth")?
            .or(audit.day_of_month.as_deref())
            .map(str::to_string);
        let sched = schedule(&frequency, day_of_week.as_deref(), day_of_month.as_deref())?;
        if let Some(checks) = &checks {
            require_enabled(state, checks)?;
        }
        let changed_schedule = sched.frequency != audit.frequency
            || sched.day_of_week != audit.day_of_week
            || sched.day_of_month != audit.day_of_month;
        audit.frequency = sched.frequency;
        audit.day_of_week = sched.day_of_week;
        audit.day_of_month = sched.day_of_month;
        if let Some(checks) = checks {
            audit.target_check_names = checks;
        }
        let now = self.now();
        if changed_schedule {
            audit.next_run_ms = due_after(&audit, None, now);
        }
        self.store
            .write_documents(&[persist::put(account, persist::SCHEDULED, name, &audit, now)])
            .await?;
        let arn = audit.arn.clone();
        state.scheduled.insert(name.to_string(), audit);
        self.wake.notify_one();
        Ok(json!({"scheduledAuditArn": arn}))
    }

    pub async fn handle_delete_scheduled_audit(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let name = name(input)?;
        let account = &caller.account_id;
        let mut all = self.state.lock().await;
        let state = all.entry(account.clone()).or_default();
        if !state.scheduled.contains_key(name) {
            return Err(not_found(name));
        }
        self.store
            .write_documents(&[persist::delete(account, persist::SCHEDULED, name)])
            .await?;
        state.scheduled.remove(name);
        Ok(json!({}))
    }

    pub async fn handle_list_scheduled_audits(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> AuditResult<Value> {
        let limit = max_results(input)?;
        let after = opt_str(input, "nextToken")?;
        let all = self.state.lock().await;
        let list: Vec<&ScheduledAudit> = all
            .get(&caller.account_id)
            .map(|s| {
                s.scheduled
                    .values()
                    .filter(|a| after.is_none_or(|t| a.name.as_str() > t))
                    .collect()
            })
            .unwrap_or_default();
        let page: Vec<Value> = list.iter().take(limit).map(|a| a.metadata()).collect();
        let mut out = json!({"scheduledAudits": page});
        if list.len() > limit
            && let Some(last) = list.get(limit - 1)
        {
            out["nextToken"] = json!(last.name);
        }
        Ok(out)
    }
}
