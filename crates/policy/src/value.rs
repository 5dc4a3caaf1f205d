//! Resolved request values and their conversions to what each operator compares. Nothing here
//! allocates: text is borrowed from the context, or formatted into an inline buffer.

use std::fmt;
use std::net::IpAddr;

use crate::context::{AltNameKind, AlternativeNames, DistinguishedName, DnAttribute};
use crate::dates;

/// A value found in the request context for a key or variable.
#[derive(Clone, Debug)]
pub(crate) enum Value<'a> {
    Str(&'a str),
    Bool(bool),
    Int(i64),
    Ip(IpAddr),
    /// A point in time (ms since the epoch) whose text form is ISO 8601 (`aws:CurrentTime`).
    Time(i64),
    /// A point in time (ms since the epoch) whose text form is whole seconds (`aws:EpochTime`).
    Epoch(i64),
    /// A multi-valued key (`iot:ConnectAttributes`, `....List`): usable in conditions with or
    /// without `ForAnyValue:`/`ForAllValues:`, never as a policy variable.
    Multi(Multi<'a>),
}

impl<'a> Value<'a> {
    /// The text form used for substitution and string operators; `None` for multi-valued keys.
    pub(crate) fn text(&self) -> Option<Text<'a>> {
        let mut buf = InlineStr::default();
        let written = match *self {
            Value::Str(s) => return Some(Text::Borrowed(s)),
            Value::Bool(b) => return Some(Text::Borrowed(if b { "true" } else { "false" })),
            Value::Multi(_) => return None,
            Value::Int(n) => fmt::Write::write_fmt(&mut buf, format_args!("{n}")),
            Value::Ip(ip) => fmt::Write::write_fmt(&mut buf, format_args!("{ip}")),
            Value::Time(ms) => dates::write_iso(ms, &mut buf),
            Value::Epoch(ms) => {
                fmt::Write::write_fmt(&mut buf, format_args!("{}", ms.div_euclid(1000)))
            }
        };
        written.ok().map(|()| Text::Inline(buf))
    }

    pub(crate) fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Str(s) => s.trim().parse().ok(),
            #[allow(clippy::cast_precision_loss)] // counters and epoch seconds fit easily
            Value::Int(n) => Some(n as f64),
            #[allow(clippy::cast_precision_loss)]
            Value::Time(ms) | Value::Epoch(ms) => Some(ms.div_euclid(1000) as f64),
            Value::Bool(_) | Value::Ip(_) | Value::Multi(_) => None,
        }
    }

    pub(crate) fn as_epoch_ms(&self) -> Option<i64> {
        match *self {
            Value::Str(s) => dates::parse_date_ms(s),
            Value::Time(ms) | Value::Epoch(ms) => Some(ms),
            Value::Int(secs) => secs.checked_mul(1000),
            Value::Bool(_) | Value::Ip(_) | Value::Multi(_) => None,
        }
    }

    pub(crate) fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            Value::Str(s) => parse_bool(s),
            _ => None,
        }
    }

    pub(crate) fn as_ip(&self) -> Option<IpAddr> {
        match *self {
            Value::Ip(ip) => Some(ip),
            Value::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Borrowed or inline text of a value.
#[derive(Clone, Debug)]
pub(crate) enum Text<'a> {
    Borrowed(&'a str),
    Inline(InlineStr),
}

impl Text<'_> {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Text::Borrowed(s) => s,
            Text::Inline(b) => b.as_str(),
        }
    }
}

/// A small stack string: long enough for any IPv6 address, i64 or ISO 8601 date-time.
#[derive(Clone, Debug)]
pub(crate) struct InlineStr {
    buf: [u8; 47],
    len: u8,
}

impl Default for InlineStr {
    fn default() -> Self {
        InlineStr {
            buf: [0; 47],
            len: 0,
        }
    }
}

impl InlineStr {
    fn as_str(&self) -> &str {
        // Only whole `&str`s are ever appended, so the prefix is valid UTF-8.
        std::str::from_utf8(&self.buf[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl fmt::Write for InlineStr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let start = usize::from(self.len);
        let end = start + s.len();
        let dst = self.buf.get_mut(start..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = u8::try_from(end).map_err(|_| fmt::Error)?;
        Ok(())
    }
}

/// AWS exposes at most this many values of a multi-valued certificate attribute.
pub(crate) const CERT_ARRAY_LIMIT: usize = 5;

/// The values of a multi-valued key, iterated without allocating.
#[derive(Clone, Debug)]
pub(crate) enum Multi<'a> {
    /// The names in `names` whose bit is set in `mask`.
    Flags {
        names: &'static [&'static str],
        mask: u64,
        next: usize,
    },
    Dn {
        dn: &'a DistinguishedName,
        attribute: DnAttribute,
        next: usize,
        left: usize,
    },
    Alt {
        names: &'a AlternativeNames,
        kind: AltNameKind,
        next: usize,
        left: usize,
    },
}

impl<'a> Multi<'a> {
    pub(crate) fn dn(dn: &'a DistinguishedName, attribute: DnAttribute) -> Self {
        Multi::Dn {
            dn,
            attribute,
            next: 0,
            left: CERT_ARRAY_LIMIT,
        }
    }

    pub(crate) fn alt(names: &'a AlternativeNames, kind: AltNameKind) -> Self {
        Multi::Alt {
            names,
            kind,
            next: 0,
            left: CERT_ARRAY_LIMIT,
        }
    }
}

impl<'a> Iterator for Multi<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        match self {
            Multi::Flags { names, mask, next } => {
                while *next < names.len() {
                    let i = *next;
                    *next += 1;
                    if *mask & (1 << i) != 0 {
                        return Some(names[i]);
                    }
                }
                None
            }
            Multi::Dn {
                dn,
                attribute,
                next,
                left,
            } => {
                if *left == 0 {
                    return None;
                }
                let entries = &dn.attributes;
                while *next < entries.len() {
                    let (a, v) = &entries[*next];
                    *next += 1;
                    if a == attribute {
                        *left -= 1;
                        return Some(v.as_str());
                    }
                }
                None
            }
            Multi::Alt {
                names,
                kind,
                next,
                left,
            } => {
                if *left == 0 {
                    return None;
                }
                let entries = &names.entries;
                while *next < entries.len() {
                    let (k, v) = &entries[*next];
                    *next += 1;
                    if k == kind {
                        *left -= 1;
                        return Some(v.as_str());
                    }
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: Value<'_>) -> String {
        v.text().unwrap().as_str().to_owned()
    }

    #[test]
    fn text_forms() {
        assert_eq!(text(Value::Str("a")), "a");
        assert_eq!(text(Value::Bool(true)), "true");
        assert_eq!(text(Value::Int(-42)), "-42");
        assert_eq!(text(Value::Epoch(1_500_999)), "1500");
        assert_eq!(text(Value::Time(0)), "1970-01-01T00:00:00Z");
        let v6: IpAddr = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
            .parse()
            .unwrap();
        assert_eq!(text(Value::Ip(v6)), v6.to_string());
        let multi = Value::Multi(Multi::Flags {
            names: &["A"],
            mask: 1,
            next: 0,
        });
        assert!(multi.text().is_none());
    }

    #[test]
    fn conversions() {
        assert_eq!(Value::Str(" 2.5 ").as_f64(), Some(2.5));
        assert_eq!(Value::Epoch(10_500).as_f64(), Some(10.0));
        assert_eq!(Value::Str("TRUE").as_bool(), Some(true));
        assert_eq!(Value::Str("yes").as_bool(), None);
        assert_eq!(
            Value::Str("2024-01-01").as_epoch_ms(),
            Some(1_704_067_200_000)
        );
        assert_eq!(Value::Str("10.0.0.1").as_ip(), "10.0.0.1".parse().ok());
    }

    #[test]
    fn multi_values_are_capped_at_five() {
        let mut dn = DistinguishedName::default();
        for i in 0..7 {
            dn = dn.with(DnAttribute::Organization, format!("o{i}"));
        }
        dn = dn.with(DnAttribute::Country, "US");
        let got: Vec<_> = Multi::dn(&dn, DnAttribute::Organization).collect();
        assert_eq!(got, ["o0", "o1", "o2", "o3", "o4"]);
        let flags = Multi::Flags {
            names: &["A", "B", "C"],
            mask: 0b101,
            next: 0,
        };
        assert_eq!(flags.collect::<Vec<_>>(), ["A", "C"]);
    }
}
