//! Building a record from a finding: collect every catalogue path's leaves in one walk, convert the leaves to the
//! attribute's type and append them in the compact form described in `record`.

use std::net::IpAddr;

use serde_json::Value;

use super::{FindingRecord, tags};
use crate::catalog::{AttrKind, all_attributes, attribute_kind, attrs, is_vocabulary};
use crate::codec::{put_varint, zigzag};
use crate::interner::Interner;
use crate::plan::Leaves;
use crate::timestamp::parse_timestamp_ms;

/// Inline strings shorter than this are not worth a back-reference.
const MIN_DUP_LEN: usize = 4;
/// Shorter heads save too little to be worth a symbol.
const MIN_PREFIX_LEN: usize = 8;
/// Longest list of one attribute's strings checked for duplicates.
const MAX_DEDUP: usize = 64;
/// Integers up to 2^53 are exact in f64 and stored as varints.
const MAX_EXACT_INT: f64 = 9_007_199_254_740_992.0;

struct Encoder<'f> {
    /// The vocabulary entries whose values are all symbols or numbers: the record's shape.
    shape: Vec<u8>,
    /// Every other entry.
    own: Vec<u8>,
    /// Inline strings already in `own`, with the offset of their header there.
    inline: Vec<(&'f str, usize)>,
    /// Whether the payload being built holds anything but symbols, numbers and booleans.
    varied: bool,
    product_arn: Option<&'f str>,
    id: Option<&'f str>,
}

pub(super) fn encode(finding: &Value, interner: &mut Interner) -> FindingRecord {
    encode_leaves(finding, &Leaves::collect(finding), interner)
}

/// Builds the record from leaves already collected from `finding`.
pub(crate) fn encode_leaves<'f>(
    finding: &'f Value,
    all_leaves: &Leaves<'f>,
    interner: &mut Interner,
) -> FindingRecord {
    let mut enc = Encoder {
        shape: Vec::with_capacity(128),
        own: Vec::with_capacity(384),
        inline: Vec::new(),
        varied: false,
        product_arn: finding.get("ProductArn").and_then(Value::as_str),
        id: finding.get("Id").and_then(Value::as_str),
    };
    let mut payload = Vec::with_capacity(256);
    let mut pending = Vec::new();
    // Reused across attributes, to allocate once per finding.
    let mut seen: Vec<&str> = Vec::new();
    for attr in all_attributes() {
        let leaves = all_leaves.of(attr);
        if leaves.is_empty() {
            continue;
        }
        payload.clear();
        pending.clear();
        enc.varied = false;
        // Only finding ids are known never to repeat; everything else goes through admission.
        let intern = attr != attrs::ID;
        match attribute_kind(attr) {
            AttrKind::String => {
                seen.clear();
                for s in leaves.iter().filter_map(|v| v.as_str()) {
                    // Duplicates inside one attribute add nothing to any filter. The check is
                    // quadratic, so very long lists (never seen in ASFF) skip it.
                    if seen.len() >= MAX_DEDUP || !seen.contains(&s) {
                        seen.push(s);
                        enc.put_str(&mut payload, &mut pending, s, intern, false, interner);
                    }
                }
            }
            AttrKind::Map => {
                for map in leaves.iter().filter_map(|v| v.as_object()) {
                    for (k, v) in map {
                        if let Some(v) = v.as_str() {
                            enc.put_str(&mut payload, &mut pending, k, true, false, interner);
                            enc.put_str(&mut payload, &mut pending, v, true, true, interner);
                        }
                    }
                }
            }
            AttrKind::Number => {
                for n in leaves.iter().filter_map(|v| v.as_f64()) {
                    put_num(&mut payload, n);
                }
            }
            AttrKind::Date => {
                for ms in leaves
                    .iter()
                    .filter_map(|v| v.as_str())
                    .filter_map(parse_timestamp_ms)
                {
                    put_varint(&mut payload, zigzag(ms));
                }
            }
            AttrKind::Ip => {
                for ip in leaves
                    .iter()
                    .filter_map(|v| v.as_str())
                    .filter_map(|s| s.trim().parse::<IpAddr>().ok())
                {
                    put_ip(&mut payload, ip);
                }
            }
            AttrKind::Boolean => {
                for b in leaves.iter().filter_map(|v| v.as_bool()) {
                    payload.push(u8::from(b));
                }
            }
            AttrKind::Keyword => {}
        }
        if payload.is_empty() {
            continue;
        }
        let to_shape = is_vocabulary(attr) && !enc.varied;
        let section = if to_shape {
            &mut enc.shape
        } else {
            &mut enc.own
        };
        section.push(attr.0);
        put_varint(section, payload.len() as u64);
        let base = section.len();
        section.extend_from_slice(&payload);
        if !to_shape {
            enc.inline.extend(
                pending
                    .iter()
                    .map(|&(s, rel): &(&str, usize)| (s, base + rel)),
            );
        }
    }
    // A shape seen before is shared; a first sighting stays local (the next one is shared).
    let mut buf = Vec::with_capacity(enc.shape.len() + enc.own.len() + 6);
    match interner.intern_shape_if_repeated(&enc.shape) {
        Some(sym) => put_varint(&mut buf, u64::from(sym) + 1),
        None => {
            put_varint(&mut buf, 0);
            put_varint(&mut buf, enc.shape.len() as u64);
            buf.extend_from_slice(&enc.shape);
        }
    }
    buf.extend_from_slice(&enc.own);
    FindingRecord {
        buf: buf.into_boxed_slice(),
    }
}

impl<'f> Encoder<'f> {
    /// Appends one string value. Order of preference: derived (map values only), a
    /// back-reference to the same string earlier in this record, a symbol, inline bytes.
    fn put_str(
        &mut self,
        out: &mut Vec<u8>,
        pending: &mut Vec<(&'f str, usize)>,
        s: &'f str,
        intern: bool,
        derived_ok: bool,
        interner: &mut Interner,
    ) {
        if derived_ok && self.is_finding_id(s) {
            self.varied = true;
            let arg = (tags::DERIVED_FINDING_ID << 1) | tags::EXT_DERIVED;
            put_varint(out, (arg << 2) | tags::STR_EXT);
            return;
        }
        // A repeat inside one record is not evidence the value is shared across findings, so
        // it is answered before the admission filter sees it.
        if s.len() >= MIN_DUP_LEN
            && let Some(&(_, at)) = self.inline.iter().find(|(t, _)| *t == s)
        {
            self.varied = true;
            let arg = ((at as u64) << 1) | tags::EXT_DUP;
            put_varint(out, (arg << 2) | tags::STR_EXT);
            return;
        }
        if intern && let Some(sym) = interner.intern_if_repeated(s) {
            put_varint(out, (u64::from(sym) << 2) | tags::STR_SYM);
            return;
        }
        self.varied = true;
        if let Some((sym, tail)) = shared_prefix(s, interner) {
            put_varint(out, (u64::from(sym) << 2) | tags::STR_PREFIXED);
            put_varint(out, tail.len() as u64);
            out.extend_from_slice(tail.as_bytes());
            return;
        }
        if s.len() >= MIN_DUP_LEN {
            pending.push((s, out.len()));
        }
        put_varint(out, ((s.len() as u64) << 2) | tags::STR_INLINE);
        out.extend_from_slice(s.as_bytes());
    }

    /// Spec 1.8: Security Hub injects `aws/securityhub/FindingId` = `<ProductArn>/<Id>`.
    fn is_finding_id(&self, s: &str) -> bool {
        let (Some(arn), Some(id)) = (self.product_arn, self.id) else {
            return false;
        };
        s.len() == arn.len() + 1 + id.len()
            && s.starts_with(arn)
            && s.as_bytes().get(arn.len()) == Some(&b'/')
            && s.ends_with(id)
    }
}

/// Splits `s` after its last separator and interns the head if it has been seen before
/// (e.g. `arn:aws:iam::123456789012:user/` of many users). Falls back to the last `/` or `:`
/// when the head after the last separator of any kind is itself unique.
fn shared_prefix<'s>(s: &'s str, interner: &mut Interner) -> Option<(u32, &'s str)> {
    let (first, second) = prefix_cuts(s);
    [first, second].into_iter().flatten().find_map(|i| {
        let (head, tail) = s.split_at(i);
        interner.intern_if_repeated(head).map(|sym| (sym, tail))
    })
}

/// Where `shared_prefix` may split `s`: after its last separator of any kind, and after its
/// last `/` or `:` when that is elsewhere.
fn prefix_cuts(s: &str) -> (Option<usize>, Option<usize>) {
    // The separators are ASCII, so a byte search finds the same positions as a char search.
    let cut = |is_sep: fn(&u8) -> bool| {
        s.bytes()
            .rposition(|b| is_sep(&b))
            .map(|i| i + 1)
            .filter(|&i| i >= MIN_PREFIX_LEN && i < s.len())
    };
    let first = cut(|b| b"/:-_.|#=@ ".contains(b));
    let second = cut(|b| matches!(b, b'/' | b':')).filter(|&i| Some(i) != first);
    (first, second)
}

fn put_num(out: &mut Vec<u8>, n: f64) {
    if n.fract() == 0.0 && n.abs() <= MAX_EXACT_INT {
        put_varint(out, zigzag(n as i64) << 1);
    } else {
        put_varint(out, 1);
        out.extend_from_slice(&n.to_le_bytes());
    }
}

fn put_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            out.push(4);
            out.extend_from_slice(&v4.octets());
        }
        IpAddr::V6(v6) => {
            out.push(6);
            out.extend_from_slice(&v6.octets());
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{MIN_PREFIX_LEN, prefix_cuts};

    /// The char-pattern search `prefix_cuts` replaced.
    fn char_cuts(s: &str) -> (Option<usize>, Option<usize>) {
        let cut = |seps: &[char]| {
            s.rfind(seps)
                .map(|i| i + 1)
                .filter(|&i| i >= MIN_PREFIX_LEN && i < s.len())
        };
        let first = cut(&['/', ':', '-', '_', '.', '|', '#', '=', '@', ' ']);
        let second = cut(&['/', ':']).filter(|&i| Some(i) != first);
        (first, second)
    }

    #[test]
    fn cuts_fixed_strings() {
        for s in [
            "arn:aws:iam::123456789012:user/alice",
            "arn:aws:s3:::bucket-name",
            "ünïcødé/ärn:wïth-séps_ä",
            "short/x",
            "no separators at all",
            "",
        ] {
            assert_eq!(prefix_cuts(s), char_cuts(s), "{s}");
        }
    }

    proptest! {
        #[test]
        fn cuts_match_the_char_search(s in "[a-zé€/:._ |#=@-]{0,40}", t in any::<String>()) {
            prop_assert_eq!(prefix_cuts(&s), char_cuts(&s));
            prop_assert_eq!(prefix_cuts(&t), char_cuts(&t));
        }
    }
}
