//! Report keys: every field has a long and a short name (spec §3.2), and a reader for
//! objects that accepts either.
//!
//! AWS's agents pick one style for a whole report, but nothing in the spec forbids mixing,
//! so each field is looked up by either name (UNCONFIRMED that AWS accepts mixed reports).
//! Giving the same field twice, under one name or both, is rejected: which one wins would
//! otherwise be a guess.

use std::collections::HashSet;

use crate::error::ReportError;
use crate::tree::Node;

/// A field's two spellings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    pub long: &'static str,
    pub short: &'static str,
}

const fn key(long: &'static str, short: &'static str) -> Key {
    Key { long, short }
}

pub(crate) const HEADER: Key = key("header", "hed");
pub(crate) const METRICS: Key = key("metrics", "met");
pub(crate) const CUSTOM_METRICS: Key = key("custom_metrics", "cmet");
pub(crate) const REPORT_ID: Key = key("report_id", "rid");
pub(crate) const VERSION: Key = key("version", "v");
pub(crate) const TCP_CONNECTIONS: Key = key("tcp_connections", "tc");
pub(crate) const ESTABLISHED_CONNECTIONS: Key = key("established_connections", "ec");
pub(crate) const CONNECTIONS: Key = key("connections", "cs");
pub(crate) const REMOTE_ADDR: Key = key("remote_addr", "rad");
pub(crate) const LOCAL_PORT: Key = key("local_port", "lp");
pub(crate) const LOCAL_INTERFACE: Key = key("local_interface", "li");
pub(crate) const TOTAL: Key = key("total", "t");
pub(crate) const LISTENING_TCP_PORTS: Key = key("listening_tcp_ports", "tp");
pub(crate) const LISTENING_UDP_PORTS: Key = key("listening_udp_ports", "up");
pub(crate) const PORTS: Key = key("ports", "pts");
pub(crate) const PORT: Key = key("port", "pt");
pub(crate) const INTERFACE: Key = key("interface", "if");
pub(crate) const NETWORK_STATS: Key = key("network_stats", "ns");
pub(crate) const BYTES_IN: Key = key("bytes_in", "bi");
pub(crate) const BYTES_OUT: Key = key("bytes_out", "bo");
pub(crate) const PACKETS_IN: Key = key("packets_in", "pi");
pub(crate) const PACKETS_OUT: Key = key("packets_out", "po");

/// An object member list, checked for duplicate keys, addressed by [`Key`].
pub(crate) struct Obj<'a> {
    members: &'a [(String, Node)],
    path: String,
}

impl<'a> Obj<'a> {
    /// Requires `node` to be an object with no key repeated and no field given by both of
    /// its names. `path` names the object in error messages ("" for the root).
    pub(crate) fn new(node: &'a Node, path: &str, fields: &[Key]) -> Result<Self, ReportError> {
        let Node::Object(members) = node else {
            return Err(ReportError::malformed(format!(
                "{} must be an object, got {}",
                display_path(path),
                node.kind()
            )));
        };
        check_unique(members, path)?;
        let obj = Obj {
            members,
            path: path.to_owned(),
        };
        for field in fields {
            if obj.raw(field.long).is_some() && obj.raw(field.short).is_some() {
                return Err(ReportError::malformed(format!(
                    "{} is given twice, as {:?} and {:?}",
                    obj.child(field),
                    field.long,
                    field.short
                )));
            }
        }
        Ok(obj)
    }

    /// The member for `key` under either name.
    pub(crate) fn get(&self, key: Key) -> Option<&'a Node> {
        self.raw(key.long).or_else(|| self.raw(key.short))
    }

    /// The member for `key`, which must be present.
    pub(crate) fn require(&self, key: Key) -> Result<&'a Node, ReportError> {
        self.get(key).ok_or_else(|| {
            ReportError::malformed(format!(
                "{} ({:?} or {:?}) is required",
                self.child(&key),
                key.long,
                key.short
            ))
        })
    }

    /// The error-message path of a child field, always spelled with long names.
    pub(crate) fn child(&self, key: &Key) -> String {
        join(&self.path, key.long)
    }

    fn raw(&self, name: &str) -> Option<&'a Node> {
        self.members.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// Rejects an object that repeats a key (JSON allows it, CBOR maps may carry it).
pub(crate) fn check_unique(members: &[(String, Node)], path: &str) -> Result<(), ReportError> {
    let mut seen = HashSet::with_capacity(members.len());
    for (k, _) in members {
        if !seen.insert(k.as_str()) {
            return Err(ReportError::malformed(format!(
                "key {k:?} appears twice in {}",
                display_path(path)
            )));
        }
    }
    Ok(())
}

/// `parent.child`, or just `child` at the root.
pub(crate) fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "the report" } else { path }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(members: &[(&str, Node)]) -> Node {
        Node::Object(
            members
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn either_name_is_found() {
        let long = obj(&[("report_id", Node::Int(1))]);
        let short = obj(&[("rid", Node::Int(2))]);
        let o = Obj::new(&long, "header", &[REPORT_ID]).unwrap();
        assert_eq!(o.get(REPORT_ID), Some(&Node::Int(1)));
        let o = Obj::new(&short, "header", &[REPORT_ID]).unwrap();
        assert_eq!(o.get(REPORT_ID), Some(&Node::Int(2)));
        assert_eq!(o.child(&REPORT_ID), "header.report_id");
    }

    #[test]
    fn both_names_at_once_is_rejected() {
        let both = obj(&[("report_id", Node::Int(1)), ("rid", Node::Int(2))]);
        let e = Obj::new(&both, "header", &[REPORT_ID]).err().unwrap();
        assert!(
            e.message.contains("header.report_id is given twice"),
            "{}",
            e.message
        );
    }

    #[test]
    fn repeated_key_is_rejected() {
        let dup = obj(&[("x", Node::Int(1)), ("x", Node::Int(2))]);
        let e = Obj::new(&dup, "", &[]).err().unwrap();
        assert!(
            e.message.contains("appears twice in the report"),
            "{}",
            e.message
        );
    }

    #[test]
    fn missing_required_field_names_both_spellings() {
        let empty = obj(&[]);
        let o = Obj::new(&empty, "header", &[VERSION]).unwrap();
        let e = o.require(VERSION).err().unwrap();
        assert!(
            e.message
                .contains(r#"header.version ("version" or "v") is required"#)
        );
    }

    #[test]
    fn non_object_is_rejected() {
        let e = Obj::new(&Node::Array(vec![]), "metrics", &[])
            .err()
            .unwrap();
        assert!(e.message.contains("metrics must be an object, got array"));
    }
}
