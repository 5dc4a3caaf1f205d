//! The topic-rule operations of the `iot` API (CreateTopicRule, GetTopicRule, ListTopicRules,
//! ReplaceTopicRule, DeleteTopicRule): their botocore routes and query members, and the
//! dispatch to the export service, which owns the rules and their `firehose` actions.

use fleetward_export::{Caller, Export};
use serde_json::Value;

use crate::error::ApiError;
use crate::route::{self, Resolved, Route, route};
use crate::wire::{QueryKind::*, q};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    CreateTopicRule,
    GetTopicRule,
    ListTopicRules,
    ReplaceTopicRule,
    DeleteTopicRule,
}

use Operation::*;

const ROUTES: &[Route<Operation>] = &[
    route!(
        ListTopicRules,
        "GET",
        "/rules",
        &[
            q("topic", "topic", String),
            q("maxResults", "maxResults", Integer),
            q("nextToken", "nextToken", String),
            q("ruleDisabled", "ruleDisabled", Boolean)
        ]
    ),
    route!(
        CreateTopicRule,
        "POST",
        "/rules/{ruleName}",
        &[q("x-amz-tagging", "tags", Header)]
    ),
    route!(GetTopicRule, "GET", "/rules/{ruleName}"),
    route!(ReplaceTopicRule, "PATCH", "/rules/{ruleName}"),
    route!(DeleteTopicRule, "DELETE", "/rules/{ruleName}"),
];

/// The topic-rule operation a request addresses, if any.
pub fn resolve(method: &str, raw_path: &str) -> Option<Resolved<Operation>> {
    route::resolve(ROUTES, method, raw_path)
}

impl Operation {
    pub fn name(self) -> &'static str {
        route::name(ROUTES, self)
    }
}

/// Calls the export service's handler for `operation`.
pub async fn dispatch(
    export: &Export,
    caller: &Caller,
    operation: Operation,
    input: Value,
) -> Result<Value, ApiError> {
    let input = &input;
    let output = match operation {
        CreateTopicRule => export.handle_create_topic_rule(caller, input).await,
        GetTopicRule => export.handle_get_topic_rule(caller, input).await,
        ListTopicRules => export.handle_list_topic_rules(caller, input).await,
        ReplaceTopicRule => export.handle_replace_topic_rule(caller, input).await,
        DeleteTopicRule => export.handle_delete_topic_rule(caller, input).await,
    };
    output.map_err(ApiError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_resolve() {
        assert_eq!(resolve("GET", "/rules").unwrap().0, ListTopicRules);
        assert_eq!(resolve("POST", "/rules/r1").unwrap().0, CreateTopicRule);
        assert_eq!(resolve("GET", "/rules/r1").unwrap().0, GetTopicRule);
        assert_eq!(resolve("PATCH", "/rules/r1").unwrap().0, ReplaceTopicRule);
        assert_eq!(resolve("DELETE", "/rules/r1").unwrap().0, DeleteTopicRule);
        assert!(resolve("PUT", "/rules/r1").is_none());
        assert!(resolve("GET", "/rules/r1/x").is_none());
        assert_eq!(CreateTopicRule.name(), "CreateTopicRule");
    }
}
