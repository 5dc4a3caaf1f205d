//! Compiled policies and the two ways of asking them: [`decide`] for the gateway's hot path
//! (no allocation) and [`explain`] for TestAuthorization.

use crate::action::{Action, ActionSet};
use crate::context::AuthContext;
use crate::document::{PolicyVersion, Statement, StatementEffect, parse_document};
use crate::error::PolicyError;
use crate::pattern::Missing;

/// A parsed, validated and compiled policy document (one policy version).
/// `Send + Sync`; share it with `Arc`.
#[derive(Clone, Debug)]
pub struct Policy {
    document: Box<str>,
    version: PolicyVersion,
    allow: Box<[Statement]>,
    deny: Box<[Statement]>,
    /// Unions of the statements' actions, to skip a policy without looking at its statements.
    allow_actions: ActionSet,
    deny_actions: ActionSet,
}

impl Policy {
    /// Parses and validates an IoT policy document. The error's message is meant for
    /// AWS's `MalformedPolicyException`.
    pub fn parse(document: &str) -> Result<Policy, PolicyError> {
        let parsed = parse_document(document)?;
        let (mut allow, mut deny) = (Vec::new(), Vec::new());
        for st in parsed.statements {
            // A statement that covers none of the MQTT actions can never take part in a decision.
            if st.actions.is_empty() {
                continue;
            }
            match st.effect {
                StatementEffect::Allow => allow.push(st),
                StatementEffect::Deny => deny.push(st),
            }
        }
        let union = |sts: &[Statement]| {
            sts.iter()
                .fold(ActionSet::default(), |acc, s| acc.union(s.actions))
        };
        Ok(Policy {
            document: document.into(),
            version: parsed.version,
            allow_actions: union(&allow),
            deny_actions: union(&deny),
            allow: allow.into_boxed_slice(),
            deny: deny.into_boxed_slice(),
        })
    }

    /// The original document text.
    pub fn document(&self) -> &str {
        &self.document
    }

    /// The policy language version the document declared (2008-10-17 when it declared none).
    pub fn version(&self) -> PolicyVersion {
        self.version
    }

    /// Whether some statement of `statements` applies. `exhaustive` evaluates them all so that
    /// every missing context value is reported.
    fn applies<M: Missing>(
        statements: &[Statement],
        action: Action,
        resource: &str,
        ctx: &AuthContext<'_>,
        missing: &mut M,
        exhaustive: bool,
    ) -> bool {
        let mut hit = false;
        for st in statements {
            if st.actions.contains(action) && st.applies(resource, ctx, missing) {
                hit = true;
                if !exhaustive {
                    break;
                }
            }
        }
        hit
    }
}

/// The outcome of an authorization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    Allowed,
    ExplicitDeny,
    ImplicitDeny,
}

impl Effect {
    pub fn is_allowed(self) -> bool {
        self == Effect::Allowed
    }

    /// TestAuthorization's `authDecision`.
    pub fn auth_decision(self) -> &'static str {
        match self {
            Effect::Allowed => "ALLOWED",
            Effect::ExplicitDeny => "EXPLICIT_DENY",
            Effect::ImplicitDeny => "IMPLICIT_DENY",
        }
    }
}

/// Decides one request against the policies of the principal: an explicit Deny in any
/// policy wins, otherwise any Allow allows, otherwise the request is implicitly denied.
/// Does not allocate.
pub fn decide<'p>(
    policies: impl IntoIterator<Item = &'p Policy>,
    action: Action,
    resource: &str,
    ctx: &AuthContext<'_>,
) -> Effect {
    let mut allowed = false;
    for p in policies {
        if p.deny_actions.contains(action)
            && Policy::applies(&p.deny, action, resource, ctx, &mut (), false)
        {
            return Effect::ExplicitDeny;
        }
        if !allowed && p.allow_actions.contains(action) {
            allowed = Policy::applies(&p.allow, action, resource, ctx, &mut (), false);
        }
    }
    if allowed {
        Effect::Allowed
    } else {
        Effect::ImplicitDeny
    }
}

/// The detailed answer TestAuthorization reports. Indexes refer to the `policies` slice
/// given to [`explain`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    pub effect: Effect,
    /// Policies with an Allow statement that applies.
    pub allowed_by: Vec<usize>,
    /// Policies with a Deny statement that applies.
    pub explicit_denied_by: Vec<usize>,
    /// Policies with no applicable statement (AWS's `implicitDeny.policies`).
    pub implicit_denied_by: Vec<usize>,
    /// Policy variables and condition keys that had no value in the request, as written in
    /// the policies, first occurrence first.
    pub missing_context_values: Vec<String>,
}

/// Like [`decide`], but says which policies allowed or denied and what context was missing.
pub fn explain(
    policies: &[&Policy],
    action: Action,
    resource: &str,
    ctx: &AuthContext<'_>,
) -> Explanation {
    let mut ex = Explanation {
        effect: Effect::ImplicitDeny,
        allowed_by: Vec::new(),
        explicit_denied_by: Vec::new(),
        implicit_denied_by: Vec::new(),
        missing_context_values: Vec::new(),
    };
    for (i, p) in policies.iter().enumerate() {
        let missing = &mut ex.missing_context_values;
        let denied = Policy::applies(&p.deny, action, resource, ctx, missing, true);
        let allowed = Policy::applies(&p.allow, action, resource, ctx, missing, true);
        if denied {
            ex.explicit_denied_by.push(i);
        }
        if allowed {
            ex.allowed_by.push(i);
        }
        if !denied && !allowed {
            ex.implicit_denied_by.push(i);
        }
    }
    ex.effect = if !ex.explicit_denied_by.is_empty() {
        Effect::ExplicitDeny
    } else if !ex.allowed_by.is_empty() {
        Effect::Allowed
    } else {
        Effect::ImplicitDeny
    };
    ex
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:iot:us-east-1:123456789012";

    fn policy(statements: &str) -> Policy {
        Policy::parse(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#
        ))
        .unwrap()
    }

    #[test]
    fn deny_beats_allow_across_policies() {
        let allow = policy(r#"{"Effect":"Allow","Action":"iot:*","Resource":"*"}"#);
        let deny = policy(&format!(
            r#"{{"Effect":"Deny","Action":"iot:Publish","Resource":"{ARN}:topic/secret"}}"#
        ));
        let ctx = AuthContext::new("us-east-1", "123456789012", 0);
        let secret = format!("{ARN}:topic/secret");
        let open = format!("{ARN}:topic/open");
        assert_eq!(
            decide([&allow, &deny], Action::Publish, &secret, &ctx),
            Effect::ExplicitDeny
        );
        assert_eq!(
            decide([&deny, &allow], Action::Publish, &secret, &ctx),
            Effect::ExplicitDeny
        );
        assert_eq!(
            decide([&allow, &deny], Action::Publish, &open, &ctx),
            Effect::Allowed
        );
        assert_eq!(
            decide([&deny], Action::Publish, &open, &ctx),
            Effect::ImplicitDeny
        );
        assert_eq!(
            decide([], Action::Publish, &open, &ctx),
            Effect::ImplicitDeny
        );

        let ex = explain(&[&allow, &deny], Action::Publish, &secret, &ctx);
        assert_eq!(ex.effect, Effect::ExplicitDeny);
        assert_eq!(ex.allowed_by, [0]);
        assert_eq!(ex.explicit_denied_by, [1]);
        assert!(ex.implicit_denied_by.is_empty());
        let ex = explain(&[&allow, &deny], Action::Publish, &open, &ctx);
        assert_eq!(
            (ex.effect, ex.implicit_denied_by),
            (Effect::Allowed, vec![1])
        );
    }

    #[test]
    fn explain_reports_missing_context_values() {
        let p = policy(&format!(
            r#"{{"Effect":"Allow","Action":"iot:Connect","Resource":"{ARN}:client/${{iot:Connection.Thing.ThingName}}"}},
               {{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{{"StringEquals":{{"iot:Certificate.Subject.CommonName":"x"}}}}}}"#
        ));
        let ctx = AuthContext::new("us-east-1", "123456789012", 0);
        let ex = explain(&[&p], Action::Connect, &format!("{ARN}:client/c"), &ctx);
        assert_eq!(ex.effect, Effect::ImplicitDeny);
        assert_eq!(ex.implicit_denied_by, [0]);
        assert_eq!(
            ex.missing_context_values,
            [
                "iot:Connection.Thing.ThingName",
                "iot:Certificate.Subject.CommonName"
            ]
        );
    }

    #[test]
    fn statements_without_mqtt_actions_are_dropped() {
        let p = policy(
            r#"{"Effect":"Deny","Action":"iot:GetThingShadow","Resource":"*"},{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}"#,
        );
        assert!(p.deny.is_empty());
        assert_eq!(p.allow.len(), 1);
        assert!(p.document().contains("GetThingShadow"));
    }

    #[test]
    fn effect_names() {
        assert_eq!(Effect::ExplicitDeny.auth_decision(), "EXPLICIT_DENY");
        assert!(Effect::Allowed.is_allowed());
    }

    #[test]
    fn policy_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Policy>();
    }
}
