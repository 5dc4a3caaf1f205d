//! The `Condition` element: operators, their compiled values, and evaluation against the
//! request context following IAM's rules (see the crate documentation).

use std::cmp::Ordering;
use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::Value as Json;

use crate::context::AuthContext;
use crate::dates::parse_date_ms;
use crate::error::{PolicyError, malformed};
use crate::keys::Key;
use crate::pattern::{Missing, Pattern, Syntax, Var};
use crate::value::{Value, parse_bool};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds(self, ord: Option<Ordering>) -> bool {
        matches!(
            (self, ord),
            (Cmp::Eq | Cmp::Le | Cmp::Ge, Some(Ordering::Equal))
                | (Cmp::Lt | Cmp::Le, Some(Ordering::Less))
                | (Cmp::Gt | Cmp::Ge, Some(Ordering::Greater))
        )
    }
}

/// The operator family, with `Not...` forms folded into [`Operator::negated`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Base {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    IpAddress,
    /// `ArnEquals` and `ArnLike` both take wildcards in IAM.
    ArnLike,
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SetQualifier {
    None,
    ForAnyValue,
    ForAllValues,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Operator {
    base: Base,
    negated: bool,
    if_exists: bool,
    set: SetQualifier,
}

const OPERATORS: &[(&str, Base, bool)] = &[
    ("StringEquals", Base::StringEquals, false),
    ("StringNotEquals", Base::StringEquals, true),
    (
        "StringEqualsIgnoreCase",
        Base::StringEqualsIgnoreCase,
        false,
    ),
    (
        "StringNotEqualsIgnoreCase",
        Base::StringEqualsIgnoreCase,
        true,
    ),
    ("StringLike", Base::StringLike, false),
    ("StringNotLike", Base::StringLike, true),
    ("NumericEquals", Base::Numeric(Cmp::Eq), false),
    ("NumericNotEquals", Base::Numeric(Cmp::Eq), true),
    ("NumericLessThan", Base::Numeric(Cmp::Lt), false),
    ("NumericLessThanEquals", Base::Numeric(Cmp::Le), false),
    ("NumericGreaterThan", Base::Numeric(Cmp::Gt), false),
    ("NumericGreaterThanEquals", Base::Numeric(Cmp::Ge), false),
    ("DateEquals", Base::Date(Cmp::Eq), false),
    ("DateNotEquals", Base::Date(Cmp::Eq), true),
    ("DateLessThan", Base::Date(Cmp::Lt), false),
    ("DateLessThanEquals", Base::Date(Cmp::Le), false),
    ("DateGreaterThan", Base::Date(Cmp::Gt), false),
    ("DateGreaterThanEquals", Base::Date(Cmp::Ge), false),
    ("Bool", Base::Bool, false),
    ("IpAddress", Base::IpAddress, false),
    ("NotIpAddress", Base::IpAddress, true),
    ("ArnEquals", Base::ArnLike, false),
    ("ArnLike", Base::ArnLike, false),
    ("ArnNotEquals", Base::ArnLike, true),
    ("ArnNotLike", Base::ArnLike, true),
    ("Null", Base::Null, false),
];

impl Operator {
    /// Operator names are matched case-insensitively, qualifiers included.
    fn parse(name: &str) -> Result<Operator, PolicyError> {
        let (set, rest) = if let Some(r) = strip_prefix_ci(name, "ForAnyValue:") {
            (SetQualifier::ForAnyValue, r)
        } else if let Some(r) = strip_prefix_ci(name, "ForAllValues:") {
            (SetQualifier::ForAllValues, r)
        } else {
            (SetQualifier::None, name)
        };
        let (if_exists, base_name) = match strip_suffix_ci(rest, "IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let Some(&(_, base, negated)) = OPERATORS
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(base_name))
        else {
            return malformed(format!("Unsupported condition operator '{name}'"));
        };
        if base == Base::Null && (if_exists || set != SetQualifier::None) {
            return malformed(format!("Invalid condition operator '{name}'"));
        }
        Ok(Operator {
            base,
            negated,
            if_exists,
            set,
        })
    }
}

fn strip_prefix_ci<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn strip_suffix_ci<'s>(s: &'s str, suffix: &str) -> Option<&'s str> {
    let cut = s.len().checked_sub(suffix.len())?;
    let tail = s.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &s[..cut])
}

/// A typed policy value: a literal parsed once, or a variable parsed when deciding.
#[derive(Clone, Debug)]
enum Typed<T> {
    Lit(T),
    Var(Var),
}

impl<T: Copy> Typed<T> {
    fn get<M: Missing>(
        &self,
        ctx: &AuthContext<'_>,
        parse: impl Fn(&str) -> Option<T>,
        missing: &mut M,
    ) -> Option<T> {
        match self {
            Typed::Lit(v) => Some(*v),
            Typed::Var(var) => match var.text(ctx) {
                Some(t) => parse(t.as_str()),
                None => {
                    missing.note(&var.name);
                    None
                }
            },
        }
    }
}

#[derive(Clone, Debug)]
enum Values {
    Text(Box<[Pattern]>),
    Numeric(Box<[Typed<f64>]>),
    Date(Box<[Typed<i64>]>),
    Bool(Box<[Typed<bool>]>),
    Ip(Box<[Typed<IpNet>]>),
    Null(Box<[bool]>),
}

/// One key of one operator, e.g. `"StringEquals": {"iot:ClientId": ["a", "b"]}`.
#[derive(Clone, Debug)]
pub(crate) struct Condition {
    op: Operator,
    key: Key,
    key_name: Box<str>,
    values: Values,
}

/// Compiles a statement's `Condition` object. `variables` is false for policy language
/// version 2008-10-17, where `${...}` is literal text.
pub(crate) fn parse_conditions(
    block: &Json,
    variables: bool,
) -> Result<Vec<Condition>, PolicyError> {
    let Json::Object(ops) = block else {
        return malformed("Condition must be an object of operators");
    };
    let mut out = Vec::new();
    for (op_name, keys) in ops {
        let op = Operator::parse(op_name)?;
        let Json::Object(keys) = keys else {
            return malformed(format!(
                "Condition operator '{op_name}' must map condition keys to values"
            ));
        };
        for (key_name, raw) in keys {
            if key_name.is_empty() {
                return malformed(format!("Empty condition key under '{op_name}'"));
            }
            let texts = condition_strings(raw, key_name)?;
            out.push(Condition {
                op,
                key: Key::parse(key_name),
                key_name: key_name.as_str().into(),
                values: compile_values(op, op_name, &texts, variables)?,
            });
        }
    }
    Ok(out)
}

/// Condition values may be a scalar or an array of scalars; numbers and booleans count as
/// their JSON text, as IAM accepts `"Bool": {"k": true}`.
fn condition_strings(raw: &Json, key: &str) -> Result<Vec<String>, PolicyError> {
    let scalar = |v: &Json| match v {
        Json::String(s) => Ok(s.clone()),
        Json::Number(n) => Ok(n.to_string()),
        Json::Bool(b) => Ok(b.to_string()),
        _ => malformed(format!(
            "Condition values for '{key}' must be strings, numbers or booleans"
        )),
    };
    match raw {
        Json::Array(items) => items.iter().map(scalar).collect(),
        other => Ok(vec![scalar(other)?]),
    }
}

fn compile_values(
    op: Operator,
    op_name: &str,
    texts: &[String],
    variables: bool,
) -> Result<Values, PolicyError> {
    let syntax = |wildcards| Syntax {
        wildcards,
        variables,
    };
    let typed = |parse: &dyn Fn(&str) -> bool| -> Result<Vec<Pattern>, PolicyError> {
        texts
            .iter()
            .map(|t| {
                let p = Pattern::parse(t, syntax(false));
                let ok = p.single_var().is_some() || p.literal().is_some_and(parse);
                if ok {
                    Ok(p)
                } else {
                    malformed(format!(
                        "Invalid value '{t}' for condition operator '{op_name}'"
                    ))
                }
            })
            .collect()
    };
    Ok(match op.base {
        Base::StringEquals | Base::StringEqualsIgnoreCase => Values::Text(
            texts
                .iter()
                .map(|t| Pattern::parse(t, syntax(false)))
                .collect(),
        ),
        Base::StringLike | Base::ArnLike => Values::Text(
            texts
                .iter()
                .map(|t| Pattern::parse(t, syntax(true)))
                .collect(),
        ),
        Base::Numeric(_) => {
            Values::Numeric(to_typed(typed(&|s| parse_f64(s).is_some())?, parse_f64))
        }
        Base::Date(_) => Values::Date(to_typed(
            typed(&|s| parse_date_ms(s).is_some())?,
            parse_date_ms,
        )),
        Base::Bool => Values::Bool(to_typed(typed(&|s| parse_bool(s).is_some())?, parse_bool)),
        Base::IpAddress => Values::Ip(to_typed(typed(&|s| parse_net(s).is_some())?, parse_net)),
        Base::Null => Values::Null(
            texts
                .iter()
                .map(|t| {
                    parse_bool(t).map_or_else(
                        || {
                            malformed(format!(
                                "Null condition values must be true or false, not '{t}'"
                            ))
                        },
                        Ok,
                    )
                })
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn to_typed<T>(patterns: Vec<Pattern>, parse: fn(&str) -> Option<T>) -> Box<[Typed<T>]> {
    patterns
        .into_iter()
        .filter_map(|p| match p.single_var() {
            Some(v) => Some(Typed::Var(v.clone())),
            None => p.literal().and_then(parse).map(Typed::Lit),
        })
        .collect()
}

fn parse_f64(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|f| f.is_finite())
}

/// A CIDR block, or a single address as its host network.
fn parse_net(s: &str) -> Option<IpNet> {
    let s = s.trim();
    s.parse::<IpNet>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(IpNet::from))
}

/// Dual-stack listeners report IPv4 clients as `::ffff:a.b.c.d`; compare those as IPv4.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

impl Condition {
    /// Evaluates the condition (see the crate docs for the rules on absent keys and sets).
    pub(crate) fn eval<M: Missing>(&self, ctx: &AuthContext<'_>, missing: &mut M) -> bool {
        let value = self.key.resolve(ctx);
        if let Values::Null(wanted) = &self.values {
            let absent = value.is_none();
            return wanted.contains(&absent);
        }
        let neg = self.op.negated;
        let Some(value) = value else {
            if self.op.if_exists {
                return true;
            }
            return match self.op.set {
                // IAM: ForAllValues over no values is vacuously true.
                SetQualifier::ForAllValues => true,
                SetQualifier::ForAnyValue => {
                    missing.note(&self.key_name);
                    false
                }
                // IAM: an absent key fails a positive operator and satisfies a negated one.
                SetQualifier::None => {
                    missing.note(&self.key_name);
                    neg
                }
            };
        };
        match (self.op.set, value) {
            (SetQualifier::None, Value::Multi(mut values)) => {
                values.any(|s| self.matches_any(&Value::Str(s), ctx, missing)) != neg
            }
            (SetQualifier::ForAnyValue, Value::Multi(mut values)) => {
                values.any(|s| self.matches_any(&Value::Str(s), ctx, missing) != neg)
            }
            (SetQualifier::ForAllValues, Value::Multi(mut values)) => {
                values.all(|s| self.matches_any(&Value::Str(s), ctx, missing) != neg)
            }
            (_, single) => self.matches_any(&single, ctx, missing) != neg,
        }
    }

    /// Whether `v` satisfies the positive operator against at least one policy value.
    fn matches_any<M: Missing>(
        &self,
        v: &Value<'_>,
        ctx: &AuthContext<'_>,
        missing: &mut M,
    ) -> bool {
        match &self.values {
            Values::Text(patterns) => {
                let Some(text) = v.text() else {
                    return false;
                };
                let fold = self.op.base == Base::StringEqualsIgnoreCase;
                patterns
                    .iter()
                    .any(|p| p.matches(text.as_str(), ctx, fold, missing))
            }
            Values::Numeric(values) => {
                let (Some(x), Base::Numeric(cmp)) = (v.as_f64(), self.op.base) else {
                    return false;
                };
                values.iter().any(|t| {
                    t.get(ctx, parse_f64, missing)
                        .is_some_and(|y| cmp.holds(x.partial_cmp(&y)))
                })
            }
            Values::Date(values) => {
                let (Some(x), Base::Date(cmp)) = (v.as_epoch_ms(), self.op.base) else {
                    return false;
                };
                values.iter().any(|t| {
                    t.get(ctx, parse_date_ms, missing)
                        .is_some_and(|y| cmp.holds(Some(x.cmp(&y))))
                })
            }
            Values::Bool(values) => {
                let Some(x) = v.as_bool() else {
                    return false;
                };
                values
                    .iter()
                    .any(|t| t.get(ctx, parse_bool, missing) == Some(x))
            }
            Values::Ip(nets) => {
                let Some(ip) = v.as_ip().map(canonical_ip) else {
                    return false;
                };
                nets.iter().any(|t| {
                    t.get(ctx, parse_net, missing)
                        .is_some_and(|n| n.contains(&ip))
                })
            }
            Values::Null(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ConnectContext;
    use serde_json::json;

    fn conds(block: Json) -> Vec<Condition> {
        parse_conditions(&block, true).unwrap()
    }

    fn holds(block: Json, ctx: &AuthContext<'_>) -> bool {
        conds(block).iter().all(|c| c.eval(ctx, &mut ()))
    }

    fn ctx() -> AuthContext<'static> {
        AuthContext {
            client_id: Some("dev-1"),
            source_ip: "203.0.113.7".parse().ok(),
            ..AuthContext::new("us-east-1", "123456789012", 1_719_835_200_000)
        }
    }

    #[test]
    fn operator_names() {
        let op = Operator::parse("ForAllValues:stringnotequalsIFEXISTS").unwrap();
        assert_eq!(op.base, Base::StringEquals);
        assert!(op.negated && op.if_exists);
        assert_eq!(op.set, SetQualifier::ForAllValues);
        for bad in [
            "StringSortOf",
            "NullIfExists",
            "ForAnyValue:Null",
            "BinaryEquals",
            "IfExists",
        ] {
            assert!(Operator::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn string_operators() {
        let c = ctx();
        assert!(holds(
            json!({"StringEquals": {"iot:ClientId": ["x", "dev-1"]}}),
            &c
        ));
        assert!(!holds(
            json!({"StringEquals": {"iot:ClientId": "DEV-1"}}),
            &c
        ));
        assert!(holds(
            json!({"StringEqualsIgnoreCase": {"iot:ClientId": "DEV-1"}}),
            &c
        ));
        assert!(holds(
            json!({"StringNotEquals": {"iot:ClientId": ["a", "b"]}}),
            &c
        ));
        assert!(!holds(
            json!({"StringNotEquals": {"iot:ClientId": ["a", "dev-1"]}}),
            &c
        ));
        assert!(holds(json!({"StringLike": {"iot:ClientId": "dev-*"}}), &c));
        assert!(holds(
            json!({"StringNotLike": {"iot:ClientId": "prod-*"}}),
            &c
        ));
        // `*` is literal for StringEquals.
        assert!(!holds(
            json!({"StringEquals": {"iot:ClientId": "dev-*"}}),
            &c
        ));
    }

    #[test]
    fn absent_keys_follow_operator_polarity() {
        let c = ctx();
        assert!(!holds(json!({"StringEquals": {"iot:Domain": "d"}}), &c));
        assert!(holds(json!({"StringNotEquals": {"iot:Domain": "d"}}), &c));
        assert!(holds(
            json!({"StringEqualsIfExists": {"iot:Domain": "d"}}),
            &c
        ));
        assert!(holds(json!({"Null": {"iot:Domain": "true"}}), &c));
        assert!(!holds(json!({"Null": {"iot:ClientId": "true"}}), &c));
        assert!(holds(json!({"Null": {"iot:ClientId": false}}), &c));
        let mut missing = Vec::new();
        conds(json!({"StringEquals": {"iot:Domain": "d"}}))[0].eval(&c, &mut missing);
        assert_eq!(missing, ["iot:Domain"]);
    }

    #[test]
    fn numeric_date_bool_ip() {
        let connect = ConnectContext {
            keep_alive_secs: 60,
            clean_session: true,
            ..ConnectContext::default()
        };
        let c = AuthContext {
            connect: Some(connect),
            ..ctx()
        };
        assert!(holds(
            json!({"NumericLessThanEquals": {"iot:KeepAlive": 60}}),
            &c
        ));
        assert!(!holds(
            json!({"NumericLessThan": {"iot:KeepAlive": "60"}}),
            &c
        ));
        assert!(holds(
            json!({"NumericNotEquals": {"iot:KeepAlive": [30, 90]}}),
            &c
        ));
        assert!(holds(
            json!({"DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"}}),
            &c
        ));
        assert!(holds(
            json!({"DateLessThan": {"aws:EpochTime": "2025-01-01"}}),
            &c
        ));
        assert!(holds(
            json!({"DateEquals": {"aws:EpochTime": "1719835200"}}),
            &c
        ));
        assert!(holds(json!({"Bool": {"iot:CleanSession": "true"}}), &c));
        assert!(holds(
            json!({"IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "203.0.113.0/24"]}}),
            &c
        ));
        assert!(holds(
            json!({"NotIpAddress": {"aws:SourceIp": "203.0.113.8"}}),
            &c
        ));
        let mapped = AuthContext {
            source_ip: "::ffff:203.0.113.7".parse().ok(),
            ..ctx()
        };
        assert!(holds(
            json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}),
            &mapped
        ));
    }

    #[test]
    fn typed_values_are_validated() {
        for bad in [
            json!({"NumericEquals": {"k": "ten"}}),
            json!({"DateEquals": {"k": "yesterday"}}),
            json!({"Bool": {"k": "yes"}}),
            json!({"IpAddress": {"k": "10.0.0.0/33"}}),
            json!({"Null": {"k": "maybe"}}),
            json!({"NumericEquals": {"k": "1${iot:KeepAlive}"}}),
            json!({"StringEquals": {"k": {"nested": 1}}}),
            json!({"StringEquals": ["k"]}),
            json!(["StringEquals"]),
        ] {
            assert!(parse_conditions(&bad, true).is_err(), "{bad}");
        }
        assert!(
            parse_conditions(&json!({"NumericEquals": {"k": "${iot:KeepAlive}"}}), true).is_ok()
        );
    }

    #[test]
    fn sets() {
        let both = ConnectContext {
            persistent_session: true,
            last_will: true,
            ..ConnectContext::default()
        };
        let none = ConnectContext::default();
        let on = |cc| AuthContext {
            connect: Some(cc),
            ..ctx()
        };
        let all_pc =
            json!({"ForAllValues:StringEquals": {"iot:ConnectAttributes": ["PersistentConnect"]}});
        assert!(!holds(all_pc.clone(), &on(both)));
        assert!(holds(all_pc, &on(none)));
        let any_pc =
            json!({"ForAnyValue:StringEquals": {"iot:ConnectAttributes": ["PersistentConnect"]}});
        assert!(holds(any_pc.clone(), &on(both)));
        assert!(!holds(any_pc, &on(none)));
        let empty = json!({"ForAllValues:StringEquals": {"iot:ConnectAttributes": []}});
        assert!(holds(empty.clone(), &on(none)));
        assert!(!holds(empty, &on(both)));
        let not_pc =
            json!({"ForAllValues:StringNotEquals": {"iot:ConnectAttributes": "PersistentConnect"}});
        assert!(!holds(not_pc.clone(), &on(both)));
        assert!(holds(not_pc, &on(none)));
        // Without a qualifier a multi-valued key matches when any value does.
        assert!(holds(
            json!({"StringEquals": {"iot:ConnectAttributes": "LastWill"}}),
            &on(both)
        ));
        assert!(!holds(
            json!({"StringNotEquals": {"iot:ConnectAttributes": "LastWill"}}),
            &on(both)
        ));
        // Keys absent for non-CONNECT actions.
        assert!(holds(
            json!({"ForAllValues:StringEquals": {"iot:ConnectAttributes": "x"}}),
            &ctx()
        ));
        assert!(!holds(
            json!({"ForAnyValue:StringEquals": {"iot:ConnectAttributes": "x"}}),
            &ctx()
        ));
    }

    #[test]
    fn variables_in_values() {
        let c = ctx();
        assert!(holds(
            json!({"StringEquals": {"iot:ClientId": "${iot:ClientId}"}}),
            &c
        ));
        // An unresolved variable equals nothing, so only negated operators hold.
        assert!(!holds(
            json!({"StringEquals": {"iot:ClientId": "${iot:Domain}"}}),
            &c
        ));
        assert!(holds(
            json!({"StringNotEquals": {"iot:ClientId": "${iot:Domain}"}}),
            &c
        ));
        // Version 2008-10-17: `${...}` is literal.
        let lit = parse_conditions(
            &json!({"StringEquals": {"iot:ClientId": "${iot:ClientId}"}}),
            false,
        )
        .unwrap();
        assert!(!lit[0].eval(&c, &mut ()));
    }
}
