//! Topic names, topic filters and shared subscriptions (MQTT 5 §4.7, §4.8.2; MQTT 3.1.1
//! §4.7). The rules are the same in both versions.
//!
//! [`matches()`] compares one filter with one topic without allocating; indexing many
//! subscriptions is the broker's job.

/// Longest topic name or filter: it travels as a UTF-8 Encoded String (MQTT-4.7.3-3).
pub const MAX_TOPIC_LEN: usize = 65_535;

/// Why a topic name or filter is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    /// MQTT-4.7.3-1: at least one character.
    #[error("empty")]
    Empty,
    /// MQTT-4.7.3-3: at most 65,535 bytes.
    #[error("longer than 65,535 bytes")]
    TooLong,
    /// MQTT-4.7.3-2: no U+0000.
    #[error("contains U+0000")]
    ContainsNul,
    /// MQTT-3.3.2-2: a topic name has no wildcards.
    #[error("a topic name cannot contain '+' or '#'")]
    WildcardInName,
    /// MQTT-4.7.1-1, MQTT-4.7.1-2: a wildcard fills a whole level and `#` is the last one.
    #[error("'+' and '#' must fill a whole level, and '#' must be the last level")]
    MisplacedWildcard,
    /// MQTT-4.8.2-1, MQTT-4.8.2-2: `$share/{ShareName}/{filter}` with a non-empty ShareName
    /// free of `/`, `+` and `#`, and a filter after it.
    #[error("a shared subscription must be $share/{{ShareName}}/{{filter}}")]
    InvalidSharedSubscription,
}

const SHARE_PREFIX: &str = "$share/";

fn check_common(s: &str) -> Result<(), TopicError> {
    if s.is_empty() {
        return Err(TopicError::Empty);
    }
    if s.len() > MAX_TOPIC_LEN {
        return Err(TopicError::TooLong);
    }
    if s.as_bytes().contains(&0) {
        return Err(TopicError::ContainsNul);
    }
    Ok(())
}

/// Checks a topic name as used in PUBLISH and the will topic.
pub fn validate_topic_name(name: &str) -> Result<(), TopicError> {
    check_common(name)?;
    if name.bytes().any(|b| b == b'+' || b == b'#') {
        return Err(TopicError::WildcardInName);
    }
    Ok(())
}

/// Checks a topic filter as used in SUBSCRIBE and UNSUBSCRIBE, including the shared
/// subscription form `$share/{ShareName}/{filter}`.
///
/// AWS IoT Core accepts shared subscriptions from MQTT 3.1.1 clients too, so the `$share/`
/// rules apply in both versions.
pub fn validate_topic_filter(filter: &str) -> Result<(), TopicError> {
    check_common(filter)?;
    let plain = match parse_shared(filter)? {
        Some(shared) => shared.filter,
        None => filter,
    };
    check_plain_filter(plain)
}

/// Wildcard placement for a filter that is not a shared subscription.
fn check_plain_filter(filter: &str) -> Result<(), TopicError> {
    if filter.is_empty() {
        return Err(TopicError::Empty);
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let wild = level.bytes().any(|b| b == b'+' || b == b'#');
        let ok = match level {
            "+" => true,
            "#" => levels.peek().is_none(),
            _ => !wild,
        };
        if !ok {
            return Err(TopicError::MisplacedWildcard);
        }
    }
    Ok(())
}

/// A shared subscription's parts (MQTT 5 §4.8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedSubscription<'a> {
    pub share_name: &'a str,
    /// The filter messages are matched against.
    pub filter: &'a str,
}

/// Splits `$share/{ShareName}/{filter}`. `Ok(None)` if `filter` is not a shared
/// subscription (it does not start with `$share/`); an error if it starts so but the rest
/// is not a ShareName and a filter. The inner filter's wildcards are not checked here.
pub fn parse_shared(filter: &str) -> Result<Option<SharedSubscription<'_>>, TopicError> {
    let Some(rest) = filter.strip_prefix(SHARE_PREFIX) else {
        return Ok(None);
    };
    let Some((share_name, inner)) = rest.split_once('/') else {
        return Err(TopicError::InvalidSharedSubscription);
    };
    if share_name.is_empty() || share_name.contains(['+', '#']) || inner.is_empty() {
        return Err(TopicError::InvalidSharedSubscription);
    }
    Ok(Some(SharedSubscription {
        share_name,
        filter: inner,
    }))
}

/// Whether `topic` matches `filter` (MQTT-4.7).
///
/// `filter` is a plain filter: for a shared subscription pass [`SharedSubscription::filter`].
/// `#` also matches the parent level (`a/#` matches `a`), `+` matches one level, which may
/// be empty. A wildcard in the first level does not match a topic starting with `$`
/// (MQTT-4.7.2-1), so `#` does not see `$SYS/...` or `$aws/...`. Invalid inputs give an
/// answer, never a panic.
pub fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut filter_levels = filter.split('/');
    let mut topic_levels = topic.split('/');
    loop {
        match (filter_levels.next(), topic_levels.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(f), Some(t)) if f == t => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names() {
        for ok in [
            "a",
            "/",
            "a/b",
            "/a",
            "a/",
            "a//b",
            "$aws/things/t/shadow",
            " ",
            "ü",
        ] {
            assert_eq!(validate_topic_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(validate_topic_name(""), Err(TopicError::Empty));
        assert_eq!(validate_topic_name("a/+"), Err(TopicError::WildcardInName));
        assert_eq!(validate_topic_name("a#"), Err(TopicError::WildcardInName));
        assert_eq!(validate_topic_name("a\0"), Err(TopicError::ContainsNul));
        assert_eq!(validate_topic_name(&"a".repeat(65_535)), Ok(()));
        assert_eq!(
            validate_topic_name(&"a".repeat(65_536)),
            Err(TopicError::TooLong)
        );
    }

    #[test]
    fn topic_filters() {
        for ok in [
            "#",
            "+",
            "a/#",
            "a/+/b",
            "+/+",
            "/+",
            "+/",
            "a//#",
            "$SYS/#",
            "$share",
            "$sharex/a",
            "$share/g/#",
            "$share/g/a/+/b",
        ] {
            assert_eq!(validate_topic_filter(ok), Ok(()), "{ok}");
        }
        for (bad, err) in [
            ("", TopicError::Empty),
            ("a/#/b", TopicError::MisplacedWildcard),
            ("a#", TopicError::MisplacedWildcard),
            ("a/b#", TopicError::MisplacedWildcard),
            ("a+/b", TopicError::MisplacedWildcard),
            ("++", TopicError::MisplacedWildcard),
            ("##", TopicError::MisplacedWildcard),
            ("a\0", TopicError::ContainsNul),
            ("$share/", TopicError::InvalidSharedSubscription),
            ("$share/g", TopicError::InvalidSharedSubscription),
            ("$share/g/", TopicError::InvalidSharedSubscription),
            ("$share//a", TopicError::InvalidSharedSubscription),
            ("$share/+/a", TopicError::InvalidSharedSubscription),
            ("$share/g#/a", TopicError::InvalidSharedSubscription),
            ("$share/g/a/#/b", TopicError::MisplacedWildcard),
        ] {
            assert_eq!(validate_topic_filter(bad), Err(err), "{bad:?}");
        }
    }

    #[test]
    fn shared_subscriptions_split() {
        assert_eq!(
            parse_shared("$share/workers/jobs/+"),
            Ok(Some(SharedSubscription {
                share_name: "workers",
                filter: "jobs/+"
            }))
        );
        assert_eq!(
            parse_shared("$share/g//"),
            Ok(Some(SharedSubscription {
                share_name: "g",
                filter: "/"
            }))
        );
        assert_eq!(parse_shared("a/b"), Ok(None));
        assert_eq!(parse_shared("$share"), Ok(None));
    }

    #[test]
    fn matching_follows_section_4_7() {
        let yes = [
            ("sport/tennis/player1/#", "sport/tennis/player1"),
            ("sport/tennis/player1/#", "sport/tennis/player1/ranking"),
            (
                "sport/tennis/player1/#",
                "sport/tennis/player1/score/wimbledon",
            ),
            ("sport/#", "sport"),
            ("#", "a/b/c"),
            ("#", "/"),
            ("sport/tennis/+", "sport/tennis/player1"),
            ("sport/+", "sport/"),
            ("+/+", "/finance"),
            ("/+", "/finance"),
            ("+", "a"),
            ("a/b", "a/b"),
            ("$SYS/#", "$SYS/broker/load"),
            ("$SYS/+", "$SYS/x"),
            (
                "$aws/things/+/shadow/update",
                "$aws/things/t1/shadow/update",
            ),
            ("a//b", "a//b"),
            ("a/+/b", "a//b"),
        ];
        for (filter, topic) in yes {
            assert!(matches(filter, topic), "{filter} should match {topic}");
        }
        let no = [
            ("sport/tennis/+", "sport/tennis/player1/ranking"),
            ("sport/+", "sport"),
            ("+", "/finance"),
            ("a/b", "a/b/c"),
            ("a/b/c", "a/b"),
            ("a/b", "A/b"),
            ("#", "$SYS/broker"),
            ("+/monitor/Clients", "$SYS/monitor/Clients"),
            ("+", "$aws"),
            ("a/+", "a/b/c"),
            ("a/b/#", "a/c"),
        ];
        for (filter, topic) in no {
            assert!(!matches(filter, topic), "{filter} should not match {topic}");
        }
    }
}
