//! The subset of the AWS IoT SQL that topic rules accept here: `SELECT * FROM 'topic/filter'`
//! and `SELECT *` alone (keywords in any case, any whitespace, an optional trailing `;`).
//! Without FROM a rule is reached only through Basic Ingest (`$aws/rules/<ruleName>`), as
//! seed 001's rule is. Anything else is refused up front with a SqlParseException rather
//! than half-supported.

use super::error::RuleError;

/// A parsed rule statement: the MQTT topic filter its FROM clause names, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub topic_filter: Option<String>,
}

fn refuse(message: impl Into<String>) -> RuleError {
    RuleError::SqlParse(message.into())
}

/// Splits off a case-insensitive keyword followed by whitespace (or the end for `*`).
fn keyword<'a>(text: &'a str, word: &str) -> Option<&'a str> {
    let head = text.get(..word.len())?;
    if !head.eq_ignore_ascii_case(word) {
        return None;
    }
    let rest = &text[word.len()..];
    if word != "*" && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    Some(rest.trim_start())
}

pub fn parse(sql: &str) -> Result<Statement, RuleError> {
    let text = sql.trim();
    let text = text.strip_suffix(';').unwrap_or(text).trim_end();
    let rest = keyword(text, "SELECT")
        .ok_or_else(|| refuse(format!("Expected SELECT at the start of '{sql}'.")))?;
    let rest = keyword(rest, "*").ok_or_else(|| {
        refuse(format!(
            "Fleetward supports only 'SELECT *' (no projections or functions) in '{sql}'."
        ))
    })?;
    if rest.is_empty() {
        return Ok(Statement { topic_filter: None });
    }
    let rest = keyword(rest, "FROM")
        .ok_or_else(|| refuse(format!("Expected FROM after 'SELECT *' in '{sql}'.")))?;
    let quoted = rest.strip_prefix('\'').ok_or_else(|| {
        refuse(format!(
            "The FROM clause must be a quoted topic filter, as in FROM 'a/b', in '{sql}'."
        ))
    })?;
    let end = quoted
        .find('\'')
        .ok_or_else(|| refuse(format!("Unterminated topic filter in '{sql}'.")))?;
    let filter = &quoted[..end];
    let trailing = quoted[end + 1..].trim();
    if !trailing.is_empty() {
        return Err(refuse(format!(
            "Fleetward supports only SELECT * FROM 'topic/filter'; cannot parse '{trailing}' in '{sql}'."
        )));
    }
    valid_filter(filter)
        .map_err(|why| refuse(format!("Invalid topic filter '{filter}': {why}")))?;
    Ok(Statement {
        topic_filter: Some(filter.to_string()),
    })
}

/// MQTT topic-filter rules: `+` and `#` fill whole levels, `#` only last.
fn valid_filter(filter: &str) -> Result<(), &'static str> {
    if filter.is_empty() {
        return Err("it is empty.");
    }
    if filter.len() > 256 {
        return Err("it is longer than 256 characters.");
    }
    let levels: Vec<&str> = filter.split('/').collect();
    for (i, level) in levels.iter().enumerate() {
        if level.contains(['+', '#']) && level.len() > 1 {
            return Err("a wildcard must fill a whole level.");
        }
        if *level == "#" && i + 1 != levels.len() {
            return Err("'#' must be the last level.");
        }
    }
    Ok(())
}

/// Whether `topic` matches `filter` (MQTT semantics; wildcards in the first level do not
/// match topics that begin with `$`, which must be named explicitly).
pub fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut topic_levels = topic.split('/');
    for level in filter.split('/') {
        match level {
            "#" => return true,
            "+" => {
                if topic_levels.next().is_none() {
                    return false;
                }
            }
            exact => {
                if topic_levels.next() != Some(exact) {
                    return false;
                }
            }
        }
    }
    topic_levels.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_supported_form() {
        let s = parse("SELECT * FROM 'metrics/export/#'").unwrap();
        assert_eq!(s.topic_filter.as_deref(), Some("metrics/export/#"));
        let s = parse("  select   *\n from\t'a/+/c' ; ").unwrap();
        assert_eq!(s.topic_filter.as_deref(), Some("a/+/c"));
        assert_eq!(parse("SELECT *").unwrap().topic_filter, None);
    }

    #[test]
    fn refuses_everything_else() {
        for sql in [
            "",
            "SELECT",
            "SELECT * WHERE a > 1",
            "SELECT * FROM",
            "SELECT a FROM 'x'",
            "SELECT *, topic() FROM 'x'",
            "SELECT * FROM x",
            "SELECT * FROM 'x",
            "SELECT * FROM 'x' WHERE a > 1",
            "SELECT * FROM 'a/b#'",
            "SELECT * FROM 'a/#/b'",
            "SELECT * FROM ''",
            "SELECTX * FROM 'x'",
            "INSERT * FROM 'x'",
        ] {
            assert!(
                matches!(parse(sql), Err(RuleError::SqlParse(_))),
                "accepted {sql:?}"
            );
        }
    }

    #[test]
    fn filters_match_as_mqtt() {
        assert!(matches("a/b", "a/b"));
        assert!(!matches("a/b", "a/b/c"));
        assert!(!matches("a/b/c", "a/b"));
        assert!(matches("a/+", "a/b"));
        assert!(!matches("a/+", "a/b/c"));
        assert!(matches("a/#", "a"));
        assert!(matches("a/#", "a/b/c"));
        assert!(matches("#", "x/y"));
        assert!(!matches("#", "$aws/things/t/defender"));
        assert!(matches("$aws/things/+/x", "$aws/things/t/x"));
        assert!(matches("a/+/c", "a//c"));
    }
}
