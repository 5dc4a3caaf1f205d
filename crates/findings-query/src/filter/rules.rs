//! Comparison operators and the rules on mixing them within one attribute (spec 4.2, 4.5).

use super::Match;

/// A `StringFilterComparison` / `MapFilterComparison` value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Comparison {
    Equals,
    Prefix,
    NotEquals,
    PrefixNotEquals,
    Contains,
    NotContains,
}

use Comparison::*;

impl Comparison {
    pub fn name(self) -> &'static str {
        match self {
            Equals => "EQUALS",
            Prefix => "PREFIX",
            NotEquals => "NOT_EQUALS",
            PrefixNotEquals => "PREFIX_NOT_EQUALS",
            Contains => "CONTAINS",
            NotContains => "NOT_CONTAINS",
        }
    }

    /// The positive comparison and whether this one negates it.
    pub fn split(self) -> (Match, bool) {
        match self {
            Equals => (Match::Equals, false),
            Prefix => (Match::Prefix, false),
            Contains => (Match::Contains, false),
            NotEquals => (Match::Equals, true),
            PrefixNotEquals => (Match::Prefix, true),
            NotContains => (Match::Contains, true),
        }
    }
}

const STRING_OPS: [Comparison; 6] = [
    Equals,
    Prefix,
    NotEquals,
    PrefixNotEquals,
    Contains,
    NotContains,
];
const MAP_OPS: [Comparison; 4] = [Equals, NotEquals, Contains, NotContains];

/// Parses a StringFilter comparison. `CONTAINS_WORD` exists in the model but only the V2
/// (OCSF) APIs accept it (spec 4.2).
pub(crate) fn string_comparison(s: &str) -> Result<Comparison, String> {
    if s == "CONTAINS_WORD" {
        return Err("Comparison CONTAINS_WORD is supported only by the V2 finding APIs".into());
    }
    lookup(s, &STRING_OPS)
}

/// Parses a MapFilter comparison.
pub(crate) fn map_comparison(s: &str) -> Result<Comparison, String> {
    lookup(s, &MAP_OPS)
}

fn lookup(s: &str, allowed: &[Comparison]) -> Result<Comparison, String> {
    allowed
        .iter()
        .copied()
        .find(|c| c.name() == s)
        .ok_or_else(|| {
            let names: Vec<_> = allowed.iter().map(|c| c.name()).collect();
            format!("Comparison '{s}' is not one of {}", names.join(", "))
        })
}

/// Checks the comparisons used together on one field (spec 4.2): `CONTAINS` with
/// `NOT_CONTAINS`; `EQUALS` with `NOT_EQUALS` or `PREFIX_NOT_EQUALS`; `CONTAINS` or
/// `NOT_CONTAINS` with any other comparison. `PREFIX` with the negative ops is allowed.
pub(crate) fn check_combination(used: &[Comparison]) -> Result<(), String> {
    let has = |c| used.contains(&c);
    let conflict = |a: Comparison, b: Comparison| {
        format!(
            "{} cannot be combined with {} on the same field",
            a.name(),
            b.name()
        )
    };
    if has(Contains) && has(NotContains) {
        return Err(conflict(Contains, NotContains));
    }
    for neg in [NotEquals, PrefixNotEquals] {
        if has(Equals) && has(neg) {
            return Err(conflict(Equals, neg));
        }
    }
    for lone in [Contains, NotContains] {
        if let Some(&other) = used.iter().find(|&&c| c != lone).filter(|_| has(lone)) {
            return Err(conflict(lone, other));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_comparisons() {
        assert_eq!(string_comparison("PREFIX_NOT_EQUALS"), Ok(PrefixNotEquals));
        assert!(
            string_comparison("CONTAINS_WORD")
                .unwrap_err()
                .contains("V2")
        );
        assert!(string_comparison("equals").is_err());
        assert!(
            map_comparison("PREFIX")
                .unwrap_err()
                .contains("EQUALS, NOT_EQUALS")
        );
        assert_eq!(map_comparison("NOT_CONTAINS"), Ok(NotContains));
    }

    #[test]
    fn combination_rules() {
        let ok = |v: &[Comparison]| check_combination(v).is_ok();
        assert!(ok(&[Prefix, Prefix, NotEquals, NotEquals]));
        assert!(ok(&[Prefix, PrefixNotEquals]));
        assert!(ok(&[Equals, Prefix]));
        assert!(ok(&[NotEquals, PrefixNotEquals]));
        assert!(ok(&[Contains, Contains]));
        assert!(ok(&[NotContains]));
        assert!(!ok(&[Contains, NotContains]));
        assert!(!ok(&[Equals, NotEquals]));
        assert!(!ok(&[PrefixNotEquals, Equals]));
        assert!(!ok(&[Contains, Equals]));
        assert!(!ok(&[Prefix, Contains]));
        assert!(!ok(&[NotContains, NotEquals]));
        assert!(!ok(&[Equals, NotContains]));
        let msg = check_combination(&[Equals, NotEquals]).unwrap_err();
        assert_eq!(
            msg,
            "EQUALS cannot be combined with NOT_EQUALS on the same field"
        );
    }
}
