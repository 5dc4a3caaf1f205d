//! Policy strings compiled to segments (literal text, `${variable}`, `*`, `?`) and matched
//! against request strings without allocating: variables are looked up in the context while
//! the match walks the input.

use crate::context::AuthContext;
use crate::keys::Key;
use crate::value::Text;

/// Receives the names of variables and keys that had no value in the request, for
/// TestAuthorization's `missingContextValues`. `()` ignores them on the fast path.
pub(crate) trait Missing {
    fn note(&mut self, name: &str);
}

impl Missing for () {
    #[inline]
    fn note(&mut self, _: &str) {}
}

impl Missing for Vec<String> {
    fn note(&mut self, name: &str) {
        if !self.iter().any(|n| n == name) {
            self.push(name.to_owned());
        }
    }
}

/// What a policy string may contain besides literal text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Syntax {
    /// `*` and `?` are wildcards (Resource, `StringLike`, `ArnLike`) rather than literals.
    pub(crate) wildcards: bool,
    /// `${...}` is a policy variable (policy language version 2012-10-17).
    pub(crate) variables: bool,
}

/// A `${name}` or `${name, 'default'}` policy variable.
#[derive(Clone, Debug)]
pub(crate) struct Var {
    pub(crate) key: Key,
    /// The name as written, reported when the variable cannot be resolved.
    pub(crate) name: Box<str>,
    default: Option<Box<str>>,
}

impl Var {
    fn parse(inner: &str) -> Var {
        let (name, default) = match inner.split_once(',') {
            Some((name, rest)) => match unquote(rest.trim()) {
                Some(d) => (name.trim(), Some(d.into_boxed_str())),
                None => (inner.trim(), None),
            },
            None => (inner.trim(), None),
        };
        Var {
            key: Key::parse(name),
            name: name.into(),
            default,
        }
    }

    /// The replacement text, or `None` when the request has no value and there is no default.
    pub(crate) fn text<'s>(&'s self, ctx: &AuthContext<'s>) -> Option<Text<'s>> {
        self.key
            .substitute(ctx)
            .or_else(|| self.default.as_deref().map(Text::Borrowed))
    }
}

/// `'it''s'` -> `it's`.
fn unquote(s: &str) -> Option<String> {
    let inner = s.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // Inside the quotes a quote must be doubled.
            if chars.next() != Some('\'') {
                return None;
            }
        }
        out.push(c);
    }
    Some(out)
}

#[derive(Clone, Debug)]
enum Seg {
    Lit(Box<str>),
    Var(Var),
    Star,
    One,
}

/// Shortcuts for the shapes that dominate real policies.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// `*`
    Any,
    /// Literal text only (possibly empty).
    Exact,
    /// Literal text then `*`.
    Prefix,
    General,
}

/// A compiled policy string.
#[derive(Clone, Debug)]
pub(crate) struct Pattern {
    segs: Box<[Seg]>,
    shape: Shape,
}

impl Pattern {
    pub(crate) fn parse(source: &str, syntax: Syntax) -> Pattern {
        let mut segs = Vec::new();
        let mut lit = String::new();
        let mut rest = source;
        while let Some(c) = rest.chars().next() {
            if syntax.variables
                && let Some(after) = rest.strip_prefix("${")
                && let Some((inner, tail)) = split_variable(after)
            {
                match inner.trim() {
                    escaped @ ("*" | "?" | "$") => lit.push_str(escaped),
                    _ => {
                        flush(&mut lit, &mut segs);
                        segs.push(Seg::Var(Var::parse(inner)));
                    }
                }
                rest = tail;
                continue;
            }
            match c {
                '*' if syntax.wildcards => {
                    flush(&mut lit, &mut segs);
                    // `**` means the same as `*` and would only slow matching down.
                    if !matches!(segs.last(), Some(Seg::Star)) {
                        segs.push(Seg::Star);
                    }
                }
                '?' if syntax.wildcards => {
                    flush(&mut lit, &mut segs);
                    segs.push(Seg::One);
                }
                _ => lit.push(c),
            }
            rest = &rest[c.len_utf8()..];
        }
        flush(&mut lit, &mut segs);
        let shape = match segs.as_slice() {
            [Seg::Star] => Shape::Any,
            [] | [Seg::Lit(_)] => Shape::Exact,
            [Seg::Lit(_), Seg::Star] => Shape::Prefix,
            _ => Shape::General,
        };
        Pattern {
            segs: segs.into_boxed_slice(),
            shape,
        }
    }

    /// The whole pattern when it is exactly one variable (`"${iot:ClientId}"`): how typed
    /// operators (numeric, date, IP, bool) take their value from the request.
    pub(crate) fn single_var(&self) -> Option<&Var> {
        match &*self.segs {
            [Seg::Var(v)] => Some(v),
            _ => None,
        }
    }

    /// The text when the pattern holds no variable and no wildcard.
    pub(crate) fn literal(&self) -> Option<&str> {
        match &*self.segs {
            [] => Some(""),
            [Seg::Lit(l)] => Some(l),
            _ => None,
        }
    }

    /// Matches the whole of `input`. `fold_case` compares letters case-insensitively.
    /// A variable without a value makes the pattern match nothing (and is reported).
    pub(crate) fn matches<M: Missing>(
        &self,
        input: &str,
        ctx: &AuthContext<'_>,
        fold_case: bool,
        missing: &mut M,
    ) -> bool {
        match (self.shape, &*self.segs) {
            (Shape::Any, _) => true,
            (Shape::Exact, []) => input.is_empty(),
            (Shape::Exact, [Seg::Lit(l)]) => strip_chunk(input, l, fold_case) == Some(""),
            (Shape::Prefix, [Seg::Lit(l), Seg::Star]) => strip_chunk(input, l, fold_case).is_some(),
            _ => {
                let mut resolved = true;
                for seg in &*self.segs {
                    if let Seg::Var(v) = seg
                        && v.text(ctx).is_none()
                    {
                        missing.note(&v.name);
                        resolved = false;
                    }
                }
                resolved && self.match_general(input, ctx, fold_case)
            }
        }
    }

    /// Greedy matching that backtracks only to the most recent `*`, which is complete for
    /// patterns whose only wildcards are `*` and `?`.
    fn match_general(&self, input: &str, ctx: &AuthContext<'_>, fold_case: bool) -> bool {
        let segs = &*self.segs;
        let mut si = 0;
        let mut rest = input;
        let mut star: Option<(usize, &str)> = None;
        loop {
            if let Some(seg) = segs.get(si) {
                let advanced = match seg {
                    Seg::Star => {
                        if si + 1 == segs.len() {
                            return true;
                        }
                        star = Some((si + 1, rest));
                        Some(rest)
                    }
                    Seg::One => {
                        let mut chars = rest.chars();
                        chars.next().map(|_| chars.as_str())
                    }
                    Seg::Lit(l) => strip_chunk(rest, l, fold_case),
                    Seg::Var(v) => match v.text(ctx) {
                        Some(t) => strip_chunk(rest, t.as_str(), fold_case),
                        None => return false,
                    },
                };
                if let Some(r) = advanced {
                    rest = r;
                    si += 1;
                    continue;
                }
            } else if rest.is_empty() {
                return true;
            }
            // Mismatch: let the last `*` swallow one more character and retry after it.
            let Some((after_star, from)) = star else {
                return false;
            };
            let mut chars = from.chars();
            if chars.next().is_none() {
                return false;
            }
            rest = chars.as_str();
            star = Some((after_star, rest));
            si = after_star;
        }
    }
}

/// Takes `${` ... `}` apart: the inner text and what follows. Quotes protect a `}` inside a
/// default value. `None` when the variable is not terminated (then `${` is literal text).
fn split_variable(after_open: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, c) in after_open.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '}' if !quoted => return Some((&after_open[..i], &after_open[i + 1..])),
            _ => {}
        }
    }
    None
}

fn flush(lit: &mut String, segs: &mut Vec<Seg>) {
    if !lit.is_empty() {
        segs.push(Seg::Lit(std::mem::take(lit).into_boxed_str()));
    }
}

/// `input` without the leading `chunk`, or `None` when it does not start with it.
fn strip_chunk<'i>(input: &'i str, chunk: &str, fold_case: bool) -> Option<&'i str> {
    if !fold_case {
        return input.strip_prefix(chunk);
    }
    if chunk.is_ascii() {
        let head = input.get(..chunk.len())?;
        return head
            .eq_ignore_ascii_case(chunk)
            .then(|| &input[chunk.len()..]);
    }
    // Per-character lowercase comparison: enough for the case-insensitive string operators.
    let mut rest = input.chars();
    for c in chunk.chars() {
        let d = rest.next()?;
        if !c.to_lowercase().eq(d.to_lowercase()) {
            return None;
        }
    }
    Some(rest.as_str())
}

/// Wildcard match of plain strings (no variables), used when compiling actions.
pub(crate) fn simple_wildcard_match(pattern: &str, text: &str) -> bool {
    let p = Pattern::parse(
        pattern,
        Syntax {
            wildcards: true,
            variables: false,
        },
    );
    p.match_general(text, &AuthContext::new("", "", 0), false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ThingContext;

    const WILD: Syntax = Syntax {
        wildcards: true,
        variables: true,
    };
    const PLAIN: Syntax = Syntax {
        wildcards: false,
        variables: true,
    };

    fn ctx() -> AuthContext<'static> {
        AuthContext {
            client_id: Some("c-1"),
            thing: Some(ThingContext {
                name: "t1",
                type_name: None,
                attributes: &[],
                is_attached: true,
            }),
            ..AuthContext::new("us-east-1", "123456789012", 0)
        }
    }

    fn m(pattern: &str, input: &str) -> bool {
        Pattern::parse(pattern, WILD).matches(input, &ctx(), false, &mut ())
    }

    #[test]
    fn wildcards() {
        assert!(m("*", ""));
        assert!(m("*", "anything/at:all"));
        assert!(m("a*", "a"));
        assert!(m("a*", "abc/def"));
        assert!(!m("a*", "ba"));
        assert!(m("*c", "abc"));
        assert!(m("a*c*e", "abcde"));
        assert!(m("a*b*b", "abbb"));
        assert!(!m("a*b*b", "ab"));
        assert!(m("a?c", "abc"));
        assert!(m("a?c", "aéc"));
        assert!(!m("a?c", "ac"));
        assert!(m("??", "ab"));
        assert!(!m("??", "abc"));
        assert!(m("*?", "x"));
        assert!(!m("*?", ""));
        assert!(m("", ""));
        assert!(!m("", "a"));
    }

    #[test]
    fn mqtt_wildcards_are_literal() {
        assert!(m("topic/a/+/c", "topic/a/+/c"));
        assert!(!m("topic/a/+/c", "topic/a/b/c"));
        assert!(m("topic/a/#", "topic/a/#"));
        assert!(!m("topic/a/#", "topic/a/b"));
    }

    #[test]
    fn variables_and_escapes() {
        assert!(m("client/${iot:ClientId}", "client/c-1"));
        assert!(!m("client/${iot:ClientId}", "client/c-2"));
        assert!(m("t/${iot:Connection.Thing.ThingName}/*", "t/t1/x/y"));
        assert!(!m("t/${iot:Connection.Thing.ThingName}/*", "t/t2/x"));
        assert!(m("a${*}b", "a*b"));
        assert!(!m("a${*}b", "axb"));
        assert!(m("a${?}${$}", "a?$"));
        // A value that looks like a wildcard is still literal.
        let star = AuthContext {
            client_id: Some("*"),
            ..ctx()
        };
        let p = Pattern::parse("client/${iot:ClientId}", WILD);
        assert!(p.matches("client/*", &star, false, &mut ()));
        assert!(!p.matches("client/x", &star, false, &mut ()));
    }

    #[test]
    fn unresolved_variables_match_nothing_and_are_reported() {
        let p = Pattern::parse("t/${iot:Connection.Thing.ThingTypeName}/*", WILD);
        let mut missing = Vec::new();
        assert!(!p.matches("t//x", &ctx(), false, &mut missing));
        assert!(!p.matches(
            "t/${iot:Connection.Thing.ThingTypeName}/x",
            &ctx(),
            false,
            &mut missing
        ));
        assert_eq!(missing, ["iot:Connection.Thing.ThingTypeName"]);
    }

    #[test]
    fn defaults_and_odd_syntax() {
        assert!(m(
            "t/${iot:Connection.Thing.ThingTypeName, 'none'}",
            "t/none"
        ));
        assert!(m("t/${iot:ClientId, 'none'}", "t/c-1"));
        assert!(m("${aws:username, 'it''s'}", "it's"));
        assert!(m("${aws:username, '}'}", "}"));
        // Unterminated or empty variables stay literal text / never resolve.
        assert!(m("a${iot:ClientId", "a${iot:ClientId"));
        assert!(!m("a${}", "a"));
        // Without the variables syntax `${...}` is literal.
        let p = Pattern::parse(
            "c/${iot:ClientId}",
            Syntax {
                wildcards: true,
                variables: false,
            },
        );
        assert!(p.matches("c/${iot:ClientId}", &ctx(), false, &mut ()));
    }

    #[test]
    fn literal_syntax_and_case_folding() {
        let p = Pattern::parse("a*b?", PLAIN);
        assert_eq!(p.literal(), Some("a*b?"));
        assert!(p.matches("a*b?", &ctx(), false, &mut ()));
        assert!(!p.matches("aXbY", &ctx(), false, &mut ()));
        let p = Pattern::parse("Dev-${iot:ClientId}", PLAIN);
        assert!(p.matches("DEV-C-1", &ctx(), true, &mut ()));
        assert!(!p.matches("DEV-C-1", &ctx(), false, &mut ()));
        let p = Pattern::parse("ÉTÉ*", WILD);
        assert!(p.matches("été!", &ctx(), true, &mut ()));
    }

    #[test]
    fn single_variable_detection() {
        assert!(
            Pattern::parse("${iot:ClientId}", PLAIN)
                .single_var()
                .is_some()
        );
        assert!(
            Pattern::parse("x${iot:ClientId}", PLAIN)
                .single_var()
                .is_none()
        );
    }

    #[test]
    fn simple_match_for_actions() {
        assert!(simple_wildcard_match("iot:*publish", "iot:retainpublish"));
        assert!(!simple_wildcard_match("iot:pub*", "iot:retainpublish"));
    }
}
