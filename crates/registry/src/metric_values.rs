//! ListMetricValues: the stored datapoints of one device and metric (Device Defender's
//! `GET /metric-values`). The gateway records them; detect will evaluate them.

use serde_json::{Value, json};

use crate::error::{RegistryError, RegistryResult};
use crate::input::Input;
use crate::paging;
use crate::{Caller, Registry, epoch_seconds};

/// A timestamp member: ISO-8601 (what botocore sends in a query string) or epoch seconds.
fn timestamp_ms(input: &Input, member: &str) -> RegistryResult<i64> {
    let bad = || RegistryError::invalid(format!("{member} is not a timestamp."));
    match input.get(member) {
        None => Err(crate::input::missing(member)),
        Some(Value::Number(n)) => n.as_f64().map(|s| (s * 1000.0) as i64).ok_or_else(bad),
        Some(Value::String(s)) => fleetward_model::timestamp::parse_rfc3339_ms(s)
            .or_else(|| s.parse::<f64>().ok().map(|secs| (secs * 1000.0) as i64))
            .ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

impl Registry {
    pub async fn handle_list_metric_values(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let thing = input.req_str("thingName")?;
        let metric = input.req_str("metricName")?;
        let dimension = input.opt_str("dimensionName")?.unwrap_or("");
        if let Some(op) = input.opt_str("dimensionValueOperator")?
            && !matches!(op, "IN" | "NOT_IN")
        {
            return Err(RegistryError::invalid(format!(
                "{op} is not a dimension value operator."
            )));
        }
        let start = timestamp_ms(&input, "startTime")?;
        let end = timestamp_ms(&input, "endTime")?;
        if end < start {
            return Err(RegistryError::invalid("endTime is before startTime."));
        }
        let limit = paging::page_size(&input, "maxResults")?;
        let after = match paging::decode(&input, "nextToken")? {
            Some(cursor) => cursor
                .parse::<i64>()
                .map_err(|_| RegistryError::invalid("The nextToken is not valid."))?,
            None => 0,
        };
        let mut rows = self
            .store
            .datapoints(
                &caller.account_id,
                thing,
                metric,
                dimension,
                start,
                end,
                after,
                limit + 1,
            )
            .await?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        let data: Vec<Value> = rows
            .iter()
            .map(|(_, p)| {
                let value: Value = serde_json::from_str(&p.value_json).unwrap_or(Value::Null);
                json!({"timestamp": epoch_seconds(p.time_ms), "value": value})
            })
            .collect();
        let mut out = json!({"metricDatumList": data});
        if more && let Some((cursor, _)) = rows.last() {
            out["nextToken"] = json!(paging::encode(&cursor.to_string()));
        }
        Ok(out)
    }
}
