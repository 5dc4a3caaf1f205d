//! Topic validation and matching on arbitrary strings: no panics, and the rules agree with
//! each other.

#![no_main]

use fleetward_mqtt::topic::{matches, parse_shared, validate_topic_filter, validate_topic_name};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let (filter, topic) = s.split_once('\u{1}').unwrap_or((s, s));
    if validate_topic_name(topic).is_ok() {
        // A valid topic name without a leading `$` matches `#` and itself.
        assert!(matches(topic, topic));
        if !topic.starts_with('$') {
            assert!(matches("#", topic));
        }
    }
    if validate_topic_filter(filter).is_ok() {
        if let Ok(Some(shared)) = parse_shared(filter) {
            assert!(!shared.share_name.is_empty() && !shared.filter.is_empty());
            assert!(!shared.share_name.contains(['/', '+', '#']));
        }
        let _ = matches(filter, topic);
    }
});
