//! ASFF validation of incoming findings (spec §1.1–§1.12) and of update bodies (§3).
//!
//! Messages follow the JSON-Schema (ajv) wording AWS uses, with `data` as the finding's root:
//! `Finding does not adhere to Amazon Finding Format. data.Resources[0].Type should NOT be
//! shorter than 1 characters.` The first error found is reported. Lengths count characters
//! (Unicode scalar values), as ajv does; the size limit counts serialized bytes.

use serde_json::{Map, Value};

use crate::product_arn::parse_product_arn;
use crate::schema::{Extra, FINDING, Kind, MapRule, Struct};
use crate::size::{FINDING_SIZE_EXCEEDED, MAX_FINDING_BYTES, fits};
use crate::timestamp::parse_timestamp;

/// The prefix AWS puts before every schema violation message.
pub const FORMAT_ERROR_PREFIX: &str = "Finding does not adhere to Amazon Finding Format. ";

/// AWS's message when neither the top level nor `FindingProviderFields` carries Severity and
/// Types (spec §1.1, observed verbatim).
const ANY_OF_MESSAGE: &str = "data should have required property 'FindingProviderFields', data should match some schema in anyOf.";

/// Full validation of one finding as received in `BatchImportFindings`. `Err` is the message for
/// `FailedFindings` (`ErrorCode: "InvalidInput"`).
pub fn validate_finding(finding: &Value) -> Result<(), String> {
    if !fits(finding, MAX_FINDING_BYTES) {
        return Err(FINDING_SIZE_EXCEEDED.to_string());
    }
    let root = Path::Root("data");
    check(finding, &Kind::Obj(&FINDING), &root)
        .and_then(|()| check_severity_and_types(finding))
        .map_err(|msg| format!("{FORMAT_ERROR_PREFIX}{msg}"))
}

/// Checks `value` against `st` with the root path rendered as `root` (empty for request bodies,
/// so paths read `Note.Text`).
pub(crate) fn check_struct(
    value: &Value,
    st: &'static Struct,
    root: &'static str,
) -> Result<(), String> {
    check(value, &Kind::Obj(st), &Path::Root(root))
}

/// Spec §1.1/§1.4: Severity (with Label or Normalized) and Types must be present, either at the
/// top level or in `FindingProviderFields` (decided per attribute, so a finding may carry one at
/// the top level and the other in FPF).
fn check_severity_and_types(finding: &Value) -> Result<(), String> {
    let fpf = finding.get("FindingProviderFields");
    let fpf_severity = fpf.and_then(|f| f.get("Severity"));
    let top_severity = finding.get("Severity");
    let top_has_level =
        top_severity.is_some_and(|s| s.get("Label").is_some() || s.get("Normalized").is_some());
    let severity_ok = fpf_severity.is_some_and(|s| s.get("Label").is_some()) || top_has_level;
    let types_ok = finding.get("Types").is_some() || fpf.and_then(|f| f.get("Types")).is_some();
    if !severity_ok {
        if fpf_severity.is_some() {
            return Err(
                "data.FindingProviderFields.Severity should have required property 'Label'.".into(),
            );
        }
        if top_severity.is_some() {
            return Err("data.Severity should have required property 'Label'.".into());
        }
        return Err(ANY_OF_MESSAGE.into());
    }
    if !types_ok {
        return Err(ANY_OF_MESSAGE.into());
    }
    Ok(())
}

/// Where a value sits, rendered only when an error is reported.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root(&'static str),
    Member(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
    MapEntry(&'a Path<'a>, &'a str),
}

impl Path<'_> {
    fn render(&self) -> String {
        let mut out = String::new();
        self.render_into(&mut out);
        if out.is_empty() {
            out.push_str("input");
        }
        out
    }

    fn render_into(&self, out: &mut String) {
        match *self {
            Path::Root(name) => out.push_str(name),
            Path::Member(parent, name) => {
                parent.render_into(out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Path::Index(parent, i) => {
                parent.render_into(out);
                out.push_str(&format!("[{i}]"));
            }
            Path::MapEntry(parent, key) => {
                parent.render_into(out);
                out.push_str("['");
                out.push_str(&shorten(key));
                out.push_str("']");
            }
        }
    }
}

/// Keys are echoed in messages; a hostile key must not make the message huge.
fn shorten(s: &str) -> String {
    const MAX: usize = 100;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &s[..cut]),
        None => s.to_string(),
    }
}

fn fail(path: &Path, what: &str) -> String {
    format!("{} {what}.", path.render())
}

fn check(v: &Value, kind: &Kind, path: &Path) -> Result<(), String> {
    match *kind {
        Kind::Str { min, max } => check_str(v, min, max, path),
        Kind::Const(expected) => match v.as_str() {
            Some(s) if s == expected => Ok(()),
            Some(_) => Err(fail(
                path,
                &format!("should be equal to one of the allowed values: {expected}"),
            )),
            None => Err(fail(path, "should be string")),
        },
        Kind::AccountId => {
            let s = as_str(v, path)?;
            if fleetward_model::is_valid_account_id(s) {
                Ok(())
            } else {
                Err(fail(path, "should match pattern \"^\\d{12}$\""))
            }
        }
        Kind::ProductArn => {
            check_str(v, 12, 2048, path)?;
            match v.as_str().and_then(parse_product_arn) {
                Some(_) => Ok(()),
                None => Err(fail(
                    path,
                    "should match format \"arn:<partition>:securityhub:<region>:[<account-id>]:product/<company-id>/<product-id>\"",
                )),
            }
        }
        Kind::Enum(allowed) => {
            let s = as_str(v, path)?;
            if allowed.contains(&s) {
                Ok(())
            } else {
                Err(fail(
                    path,
                    &format!(
                        "should be equal to one of the allowed values: {}",
                        allowed.join(", ")
                    ),
                ))
            }
        }
        Kind::Int { min, max } => match integer(v) {
            Some(n) if n < min => Err(fail(path, &format!("should be >= {min}"))),
            Some(n) if n > max => Err(fail(path, &format!("should be <= {max}"))),
            Some(_) => Ok(()),
            None => Err(fail(path, "should be integer")),
        },
        Kind::Num => match v {
            Value::Number(_) => Ok(()),
            _ => Err(fail(path, "should be number")),
        },
        Kind::Bool => match v {
            Value::Bool(_) => Ok(()),
            _ => Err(fail(path, "should be boolean")),
        },
        Kind::Timestamp => {
            let s = as_str(v, path)?;
            match parse_timestamp(s) {
                Some(_) => Ok(()),
                None => Err(fail(path, "should match format \"date-time\"")),
            }
        }
        Kind::FindingType => {
            let s = as_str(v, path)?;
            if !is_finding_type(s) {
                // The exact pattern AWS reports, also for "" (prowler issue #2519).
                return Err(fail(
                    path,
                    "should match pattern \"^([^/]+)(/[^/]+){0,2}$\"",
                ));
            }
            check_nonblank(s, path)
        }
        Kind::Map(rule) => check_map(v, rule, path),
        Kind::List { item, min, max } => {
            let items = match v {
                Value::Array(items) => items,
                _ => return Err(fail(path, "should be array")),
            };
            if items.len() < min {
                return Err(fail(
                    path,
                    &format!("should NOT have fewer than {min} items"),
                ));
            }
            if items.len() > max {
                return Err(fail(
                    path,
                    &format!("should NOT have more than {max} items"),
                ));
            }
            for (i, item_value) in items.iter().enumerate() {
                check(item_value, item, &Path::Index(path, i))?;
            }
            Ok(())
        }
        Kind::Obj(st) => check_object(v, st, path),
        Kind::AnyObj => match v {
            Value::Object(_) => Ok(()),
            _ => Err(fail(path, "should be object")),
        },
        Kind::ServiceSet => Ok(()),
    }
}

fn check_object(v: &Value, st: &Struct, path: &Path) -> Result<(), String> {
    let map = match v {
        Value::Object(map) => map,
        _ => return Err(fail(path, "should be object")),
    };
    // One pass records which members are present (no hashing) and the first member error;
    // a missing required property is reported before it, as JSON Schema validators do.
    let mut seen: u64 = 0;
    let mut first_error = None;
    for (key, value) in map {
        let member = Path::Member(path, key);
        let result = match st.index(key) {
            Some(i) => {
                seen |= bit(i);
                if first_error.is_some() {
                    continue;
                }
                check(value, &st.fields[i].kind, &member)
            }
            None if first_error.is_some() => continue,
            None => match st.extra {
                Extra::Keep => Ok(()),
                Extra::KeepObjects if value.is_object() => Ok(()),
                Extra::KeepObjects => Err(fail(&member, "should be object")),
                Extra::Reject => Err(fail(
                    path,
                    &format!("should NOT have additional properties ('{}')", shorten(key)),
                )),
            },
        };
        if let Err(e) = result {
            first_error = Some(e);
        }
    }
    let missing = st.fields.iter().enumerate().find(|(i, f)| {
        f.required
            && match bit(*i) {
                0 => !map.contains_key(f.name),
                b => seen & b == 0,
            }
    });
    if let Some((_, f)) = missing {
        return Err(fail(
            path,
            &format!("should have required property '{}'", f.name),
        ));
    }
    first_error.map_or(Ok(()), Err)
}

/// The presence bit of field `i` (0 beyond the 64th field, which then falls back to a lookup).
fn bit(i: usize) -> u64 {
    u32::try_from(i)
        .ok()
        .and_then(|i| 1_u64.checked_shl(i))
        .unwrap_or(0)
}

fn check_map(v: &Value, rule: &MapRule, path: &Path) -> Result<(), String> {
    let map: &Map<String, Value> = match v {
        Value::Object(map) => map,
        _ => return Err(fail(path, "should be object")),
    };
    if map.len() > rule.max_pairs {
        return Err(fail(
            path,
            &format!("should NOT have more than {} properties", rule.max_pairs),
        ));
    }
    for (key, value) in map {
        if char_len_exceeds(key, rule.key_max) {
            return Err(format!(
                "{} property name '{}' should NOT be longer than {} characters.",
                path.render(),
                shorten(key),
                rule.key_max
            ));
        }
        if !has_non_whitespace(key) {
            return Err(format!(
                "{} property name '{key}' should match pattern \".*\\S.*\".",
                path.render()
            ));
        }
        let entry = Path::MapEntry(path, key);
        if rule.empty_values {
            let s = as_str(value, &entry)?;
            if char_len_exceeds(s, rule.value_max) {
                return Err(fail(
                    &entry,
                    &format!("should NOT be longer than {} characters", rule.value_max),
                ));
            }
        } else {
            check_str(value, 1, rule.value_max, &entry)?;
        }
    }
    Ok(())
}

fn as_str<'v>(v: &'v Value, path: &Path) -> Result<&'v str, String> {
    v.as_str().ok_or_else(|| fail(path, "should be string"))
}

fn check_str(v: &Value, min: usize, max: usize, path: &Path) -> Result<(), String> {
    let s = as_str(v, path)?;
    if s.chars().take(min).count() < min {
        return Err(fail(
            path,
            &format!("should NOT be shorter than {min} characters"),
        ));
    }
    if char_len_exceeds(s, max) {
        return Err(fail(
            path,
            &format!("should NOT be longer than {max} characters"),
        ));
    }
    check_nonblank(s, path)
}

fn check_nonblank(s: &str, path: &Path) -> Result<(), String> {
    if has_non_whitespace(s) {
        Ok(())
    } else {
        Err(fail(path, "should match pattern \".*\\S.*\""))
    }
}

/// The `NonEmptyString` pattern `.*\S.*`.
pub(crate) fn has_non_whitespace(s: &str) -> bool {
    s.chars().any(|c| !c.is_whitespace())
}

/// Whether `s` has more than `max` characters, without counting when the byte length decides.
fn char_len_exceeds(s: &str, max: usize) -> bool {
    s.len() > max && s.chars().count() > max
}

/// AWS's pattern `^([^/]+)(/[^/]+){0,2}$`: one to three non-empty `/`-separated segments. The
/// namespace is not checked against the five documented ones: AWS does not enforce them (the
/// pattern above is all it reports), and real providers send others (Device Defender's
/// `Software and Configuration Check/Vulnerabilities`, prowler compliance ids).
pub(crate) fn is_finding_type(s: &str) -> bool {
    let mut segments = 0;
    for segment in s.split('/') {
        segments += 1;
        if segment.is_empty() || segments > 3 {
            return false;
        }
    }
    true
}

/// An integral JSON number (`5` or `5.0`) as i64.
pub(crate) fn integer(v: &Value) -> Option<i64> {
    let n = match v {
        Value::Number(n) => n,
        _ => return None,
    };
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    if n.is_u64() {
        return Some(i64::MAX);
    }
    let f = n.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 9.0e15).then_some(f as i64)
}

#[cfg(test)]
mod member_tests;
#[cfg(test)]
mod tests;
