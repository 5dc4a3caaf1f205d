//! AWS IoT Core's protocol limits, which the gateway enforces as AWS does.

/// Client ids longer than this are refused (AWS IoT: 128 bytes).
pub const MAX_CLIENT_ID_BYTES: usize = 128;
/// Topic names and filters longer than this are refused (AWS IoT: 256 bytes).
pub const MAX_TOPIC_BYTES: usize = 256;
/// AWS IoT allows at most 7 forward slashes (8 levels) in a topic, not counting the first
/// three levels of reserved `$aws/...` topics.
pub const MAX_TOPIC_SLASHES: usize = 7;
/// Largest PUBLISH payload (AWS IoT: 128 KB).
pub const MAX_PAYLOAD_BYTES: usize = 128 * 1024;
/// Largest packet the gateway reads: a full payload plus a generous header.
pub const MAX_PACKET_BYTES: usize = MAX_PAYLOAD_BYTES + 4 * 1024;

/// Checks a topic name or filter against AWS's length and depth limits.
pub fn topic_within_limits(topic: &str) -> bool {
    if topic.is_empty() || topic.len() > MAX_TOPIC_BYTES {
        return false;
    }
    let slashes = topic.bytes().filter(|b| *b == b'/').count();
    let reserved = if topic.starts_with("$aws/") { 2 } else { 0 };
    slashes <= MAX_TOPIC_SLASHES + reserved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_limits_match_aws() {
        assert!(topic_within_limits("a/b/c/d/e/f/g/h"));
        assert!(!topic_within_limits("a/b/c/d/e/f/g/h/i"));
        assert!(topic_within_limits(
            "$aws/things/t1/defender/metrics/json/accepted"
        ));
        assert!(!topic_within_limits(&"x".repeat(257)));
        assert!(!topic_within_limits(""));
    }
}
