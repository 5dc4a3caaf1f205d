//! Parsing and validating a filters object into [`Filters`].
//!
//! Lenient where AWS's model is silent: a missing `Comparison` means `EQUALS`, a missing
//! `DateRange.Unit` means `DAYS`, unknown members inside a filter are ignored, and `null` or an
//! empty list for an attribute counts as not filtering it.

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::{Map, Value};

use super::rules::{self, Comparison};
use super::{
    Cond, DateCond, DateRange, Dialect, Filters, KeywordTest, MapOp, MapTest, NumRange, StrOp,
    StrTest, SymSet, Test,
};
use crate::catalog::{AttrKind, attribute_by_name, attribute_kind, is_automation_criterion};
use crate::timestamp::parse_timestamp_ms;

/// Spec 4 / 9: at most 10 attributes per filter object and 20 filters per attribute.
pub const MAX_ATTRIBUTES: usize = 10;
pub const MAX_VALUES: usize = 20;

pub(super) fn parse(v: &Value, dialect: Dialect) -> Result<Filters, String> {
    let obj = match v {
        Value::Null => return Ok(Filters::default()),
        Value::Object(o) => o,
        _ => return Err("Filters must be an object".into()),
    };
    let used = obj.values().filter(|l| !is_unset(l)).count();
    if used > MAX_ATTRIBUTES {
        return Err(format!(
            "Filters use {used} attributes; at most {MAX_ATTRIBUTES} are allowed"
        ));
    }
    let mut conds = Vec::with_capacity(used);
    for (name, list) in obj {
        let Some(attr) = attribute_by_name(name) else {
            return Err(match dialect {
                Dialect::GetFindings => format!("Unknown filter attribute '{name}'"),
                Dialect::AutomationRules => format!("Unknown automation rule criterion '{name}'"),
            });
        };
        if dialect == Dialect::AutomationRules && !is_automation_criterion(attr) {
            return Err(format!(
                "'{name}' is not supported in automation rule criteria"
            ));
        }
        if is_unset(list) {
            continue;
        }
        let kind = attribute_kind(attr);
        let Some(items) = list.as_array() else {
            return Err(format!(
                "Filter '{name}' must be a list of {}",
                shape_name(kind)
            ));
        };
        if items.len() > MAX_VALUES {
            return Err(format!(
                "Filter '{name}' has {} values; at most {MAX_VALUES} are allowed",
                items.len()
            ));
        }
        let objects = items
            .iter()
            .map(|i| i.as_object())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| format!("Filter '{name}' must be a list of {}", shape_name(kind)))?;
        let test = parse_test(kind, &objects)
            .map_err(|e| format!("Invalid {} for '{name}': {e}", shape_name(kind)))?;
        conds.push(Cond { attr, test });
    }
    conds.sort_by_key(|c| c.attr);
    Ok(Filters { conds })
}

fn is_unset(v: &Value) -> bool {
    v.is_null() || v.as_array().is_some_and(Vec::is_empty)
}

fn shape_name(kind: AttrKind) -> &'static str {
    match kind {
        AttrKind::String => "StringFilter",
        AttrKind::Number => "NumberFilter",
        AttrKind::Date => "DateFilter",
        AttrKind::Map => "MapFilter",
        AttrKind::Ip => "IpFilter",
        AttrKind::Keyword => "KeywordFilter",
        AttrKind::Boolean => "BooleanFilter",
    }
}

type Obj = Map<String, Value>;

fn parse_test(kind: AttrKind, items: &[&Obj]) -> Result<Test, String> {
    Ok(match kind {
        AttrKind::String => Test::Str(parse_strings(items)?),
        AttrKind::Map => Test::Map(parse_maps(items)?),
        AttrKind::Number => Test::Num(each(items, parse_number)?),
        AttrKind::Date => Test::Date(each(items, parse_date)?),
        AttrKind::Ip => Test::Ip(each(items, parse_ip)?),
        AttrKind::Boolean => Test::Bool(each(items, |o| {
            o.get("Value")
                .and_then(Value::as_bool)
                .ok_or_else(|| "Value must be a boolean".to_string())
        })?),
        AttrKind::Keyword => Test::Keyword(KeywordTest {
            words: each(items, |o| text(o, "Value").map(Box::from))?,
            syms: SymSet::Unresolved,
        }),
    })
}

fn each<T>(items: &[&Obj], f: impl Fn(&Obj) -> Result<T, String>) -> Result<Vec<T>, String> {
    items.iter().map(|o| f(o)).collect()
}

/// A required string member matching the model's `NonEmptyString` (`.*\S.*`).
fn text<'a>(o: &'a Obj, member: &str) -> Result<&'a str, String> {
    match o.get(member) {
        None | Some(Value::Null) => Err(format!("{member} is required")),
        Some(Value::String(s)) if s.trim().is_empty() => Err(format!("{member} must not be blank")),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(format!("{member} must be a string")),
    }
}

fn comparison(
    o: &Obj,
    parse: fn(&str) -> Result<Comparison, String>,
) -> Result<Comparison, String> {
    match o.get("Comparison") {
        None | Some(Value::Null) => Ok(Comparison::Equals),
        Some(Value::String(s)) => parse(s),
        Some(_) => Err("Comparison must be a string".into()),
    }
}

fn parse_strings(items: &[&Obj]) -> Result<StrTest, String> {
    let mut used = Vec::with_capacity(items.len());
    let mut split = StrTest::default();
    for o in items {
        let value = text(o, "Value")?;
        let cmp = comparison(o, rules::string_comparison)?;
        used.push(cmp);
        let (how, negated) = cmp.split();
        let op = StrOp {
            how,
            value: value.into(),
        };
        if negated {
            split.neg.push(op);
        } else {
            split.pos.push(op);
        }
    }
    rules::check_combination(&used)?;
    Ok(split)
}

fn parse_maps(items: &[&Obj]) -> Result<MapTest, String> {
    let mut used: Vec<(&str, Comparison)> = Vec::with_capacity(items.len());
    let mut split = MapTest::default();
    for o in items {
        let key = text(o, "Key")?;
        let value = text(o, "Value")?;
        let cmp = comparison(o, rules::map_comparison)?;
        used.push((key, cmp));
        let (how, negated) = cmp.split();
        let op = MapOp {
            key: key.into(),
            how,
            value: value.into(),
            key_sym: SymSet::Unresolved,
            value_syms: SymSet::Unresolved,
        };
        if negated {
            split.neg.push(op);
        } else {
            split.pos.push(op);
        }
    }
    // The "same field" of a map filter is one key: `Env EQUALS prod` with
    // `Owner NOT_EQUALS bob` is a sensible pair, `Env EQUALS a` with `Env NOT_EQUALS b` is not.
    for &(key, _) in &used {
        let on_key: Vec<_> = used.iter().filter(|u| u.0 == key).map(|u| u.1).collect();
        rules::check_combination(&on_key).map_err(|e| format!("key '{key}': {e}"))?;
    }
    Ok(split)
}

fn number(o: &Obj, member: &str) -> Result<Option<f64>, String> {
    match o.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| format!("{member} must be a number")),
    }
}

fn parse_number(o: &Obj) -> Result<NumRange, String> {
    let r = NumRange {
        gte: number(o, "Gte")?,
        lte: number(o, "Lte")?,
        eq: number(o, "Eq")?,
        gt: number(o, "Gt")?,
        lt: number(o, "Lt")?,
    };
    if [r.gte, r.lte, r.eq, r.gt, r.lt].iter().all(Option::is_none) {
        return Err("at least one of Gte, Lte, Eq, Gt, Lt is required".into());
    }
    Ok(r)
}

fn timestamp(o: &Obj, member: &str) -> Result<Option<i64>, String> {
    match o.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_timestamp_ms(s)
            .map(Some)
            .ok_or_else(|| format!("{member} '{s}' is not a valid timestamp")),
        Some(_) => Err(format!("{member} must be a timestamp string")),
    }
}

fn parse_date(o: &Obj) -> Result<DateCond, String> {
    let range = match o.get("DateRange") {
        None | Some(Value::Null) => None,
        Some(Value::Object(r)) => Some(parse_date_range(r)?),
        Some(_) => return Err("DateRange must be an object".into()),
    };
    let cond = DateCond {
        start: timestamp(o, "Start")?,
        end: timestamp(o, "End")?,
        range,
    };
    if cond.start.is_none() && cond.end.is_none() && cond.range.is_none() {
        return Err("one of Start, End or DateRange is required".into());
    }
    Ok(cond)
}

fn parse_date_range(r: &Obj) -> Result<DateRange, String> {
    let days = r
        .get("Value")
        .and_then(Value::as_i64)
        .ok_or("DateRange.Value must be an integer")?;
    if days < 0 {
        return Err("DateRange.Value must not be negative".into());
    }
    match r.get("Unit") {
        None | Some(Value::Null) => {}
        Some(Value::String(u)) if u == "DAYS" => {}
        Some(u) => return Err(format!("DateRange.Unit {u} is not DAYS")),
    }
    let older_than = match r.get("Comparison") {
        None | Some(Value::Null) => false,
        Some(Value::String(c)) if c == "WITHIN" => false,
        Some(Value::String(c)) if c == "OLDER_THAN" => true,
        Some(c) => {
            return Err(format!(
                "DateRange.Comparison {c} is not WITHIN or OLDER_THAN"
            ));
        }
    };
    Ok(DateRange { days, older_than })
}

fn parse_ip(o: &Obj) -> Result<IpNet, String> {
    let cidr = text(o, "Cidr")?.trim();
    // A bare address is its own /32 or /128.
    cidr.parse::<IpNet>()
        .or_else(|_| cidr.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("Cidr '{cidr}' is not a valid CIDR block or IP address"))
}
