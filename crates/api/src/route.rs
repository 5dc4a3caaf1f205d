//! Matching rest-json request paths against botocore `requestUri` templates.
//!
//! `{Name}` takes one path segment; `{Name+}` is greedy and takes the rest of the path,
//! slashes included (botocore leaves `/` unescaped in greedy labels and escapes it as `%2F`
//! elsewhere). Labels are percent-decoded after matching.

use std::collections::HashMap;

use percent_encoding::percent_decode_str;

use crate::wire::QueryMember;

/// One operation's botocore route: method, `requestUri` template and its query/header members.
pub struct Route<Op: 'static> {
    pub operation: Op,
    pub name: &'static str,
    pub method: &'static str,
    pub template: &'static str,
    pub query: &'static [QueryMember],
}

/// `route!(Operation, "METHOD", "/template" [, &[query members]])`: a [`Route`] named after
/// its operation.
macro_rules! route {
    ($op:ident, $method:literal, $template:literal) => {
        route!($op, $method, $template, &[])
    };
    ($op:ident, $method:literal, $template:literal, $query:expr) => {
        $crate::route::Route {
            operation: $op,
            name: stringify!($op),
            method: $method,
            template: $template,
            query: $query,
        }
    };
}
pub(crate) use route;

/// A request's operation, its decoded URI labels and its query/header members.
pub type Resolved<Op> = (Op, HashMap<&'static str, String>, &'static [QueryMember]);

/// The first route of `routes` whose method and template match the request.
pub fn resolve<Op: Copy>(
    routes: &'static [Route<Op>],
    method: &str,
    raw_path: &str,
) -> Option<Resolved<Op>> {
    routes
        .iter()
        .filter(|r| r.method == method)
        .find_map(|r| match_template(r.template, raw_path).map(|l| (r.operation, l, r.query)))
}

/// The AWS name of an operation of `routes`.
pub fn name<Op: PartialEq>(routes: &[Route<Op>], operation: Op) -> &'static str {
    routes
        .iter()
        .find(|r| r.operation == operation)
        .map(|r| r.name)
        .unwrap_or("Unknown")
}

/// Matches `raw_path` (still percent-encoded) against `template`; returns the decoded labels.
pub fn match_template(
    template: &'static str,
    raw_path: &str,
) -> Option<HashMap<&'static str, String>> {
    let mut labels = HashMap::new();
    let mut pattern = template.trim_start_matches('/').split('/').peekable();
    let mut rest = raw_path.trim_start_matches('/');
    while let Some(part) = pattern.next() {
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix("+}")) {
            if rest.is_empty() || pattern.peek().is_some() {
                return None;
            }
            labels.insert(name, decode(rest)?);
            return Some(labels);
        }
        let (segment, tail) = match rest.split_once('/') {
            Some((segment, tail)) => (segment, Some(tail)),
            None => (rest, None),
        };
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if segment.is_empty() {
                return None;
            }
            labels.insert(name, decode(segment)?);
        } else if part != segment {
            return None;
        }
        match tail {
            Some(tail) => rest = tail,
            None => {
                return if pattern.peek().is_none() {
                    Some(labels)
                } else {
                    None
                };
            }
        }
    }
    if rest.is_empty() { Some(labels) } else { None }
}

fn decode(raw: &str) -> Option<String> {
    percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// Query-string pairs, decoded (`+` is a space, as form encoding has it).
pub fn query_pairs(raw_query: &str) -> Vec<(String, String)> {
    raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_query(k), decode_query(v))
        })
        .collect()
}

fn decode_query(raw: &str) -> String {
    let spaced = raw.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_paths_match_exactly() {
        assert!(match_template("/findings", "/findings").is_some());
        assert!(match_template("/findings", "/findings/import").is_none());
        assert!(match_template("/findings/import", "/findings").is_none());
        assert!(match_template("/accounts", "/").is_none());
    }

    #[test]
    fn greedy_label_takes_the_rest_and_decodes() {
        let labels = match_template(
            "/insights/{InsightArn+}",
            "/insights/arn%3Aaws%3Asecurityhub%3Aus-east-1%3A000000000000%3Ainsight/000000000000/custom/abc",
        )
        .unwrap();
        assert_eq!(
            labels["InsightArn"],
            "arn:aws:securityhub:us-east-1:000000000000:insight/000000000000/custom/abc"
        );
        assert!(match_template("/insights/{InsightArn+}", "/insights/").is_none());
    }

    #[test]
    fn single_label_takes_one_segment() {
        let labels = match_template("/tags/{ResourceArn}", "/tags/arn%3Aaws%2Fx").unwrap();
        assert_eq!(labels["ResourceArn"], "arn:aws/x");
        assert!(match_template("/tags/{ResourceArn}", "/tags/a/b").is_none());
    }

    #[test]
    fn query_pairs_decode() {
        assert_eq!(
            query_pairs("tagKeys=a%20b&tagKeys=c&x"),
            vec![
                ("tagKeys".into(), "a b".into()),
                ("tagKeys".into(), "c".into()),
                ("x".into(), String::new())
            ]
        );
    }
}
