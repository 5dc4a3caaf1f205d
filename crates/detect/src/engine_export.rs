//! Metrics export (spec 2.10): the datapoints and dimensioned counts a profile exports,
//! queued in the batch's output for the writer to publish.

use std::sync::Arc;

use super::{AccountEngine, Exported, Output};
use crate::sets::Observed;

impl AccountEngine {
    pub(super) fn export(
        &self,
        account: &Arc<str>,
        thing: &str,
        metric: &str,
        value: &Observed,
        now_ms: i64,
        out: &mut Output,
    ) {
        let Some(device) = self.devices.get(thing) else {
            return;
        };
        for profile in &self.profiles {
            let Some(topic) = &profile.export_topic else {
                continue;
            };
            if !device.slots.iter().any(|s| s.b.profile == profile.name) {
                continue;
            }
            for e in profile
                .exports
                .iter()
                .filter(|e| e.metric == metric && e.dimension.is_none())
            {
                out.exports.push(Exported {
                    account: account.clone(),
                    topic: topic.clone(),
                    metric: e.metric.clone(),
                    thing: thing.to_string(),
                    value: value.clone(),
                    integral: crate::catalog::builtin(metric)
                        .is_some_and(|d| d.kind == crate::catalog::Kind::Count),
                    time_ms: now_ms,
                    dimension: None,
                });
            }
        }
    }

    /// Exports a dimensioned count of `profile`'s behavior on `metric`, once per export
    /// entry of the same metric and dimension, with the dimension (spec 2.10).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn export_dimensioned(
        &self,
        account: &Arc<str>,
        thing: &str,
        (profile, metric): (&str, &str),
        (dimension, not_in): (&str, bool),
        count: f64,
        now_ms: i64,
        out: &mut Output,
    ) {
        let Some(p) = self.profiles.iter().find(|p| &*p.name == profile) else {
            return;
        };
        let Some(topic) = &p.export_topic else {
            return;
        };
        let exported = p.exports.iter().any(|e| {
            e.metric == metric && e.dimension.as_ref().is_some_and(|d| d.name == dimension)
        });
        let already = out.exports.iter().any(|x| {
            x.thing == thing
                && x.metric == metric
                && x.topic == *topic
                && x.time_ms == now_ms
                && x.dimension.as_ref().is_some_and(|(d, _)| d == dimension)
        });
        if exported && !already {
            out.exports.push(Exported {
                account: account.clone(),
                topic: topic.clone(),
                metric: metric.to_string(),
                thing: thing.to_string(),
                value: Observed::Number(count),
                integral: true,
                time_ms: now_ms,
                dimension: Some((dimension.to_string(), not_in)),
            });
        }
    }
}
