//! Resource ARNs the gateway authorizes against, built the way AWS spells them.

use std::fmt::Write;

/// `arn:aws:iot:REGION:ACCOUNT:topic/TOPIC`: Publish, Receive and RetainPublish resources.
pub fn topic_arn(region: &str, account_id: &str, topic: &str) -> String {
    arn(region, account_id, "topic", topic)
}

/// `arn:aws:iot:REGION:ACCOUNT:topicfilter/FILTER`: the Subscribe resource.
pub fn topicfilter_arn(region: &str, account_id: &str, filter: &str) -> String {
    arn(region, account_id, "topicfilter", filter)
}

/// `arn:aws:iot:REGION:ACCOUNT:client/CLIENT_ID`: the Connect resource.
pub fn client_arn(region: &str, account_id: &str, client_id: &str) -> String {
    arn(region, account_id, "client", client_id)
}

/// Writes `arn:aws:iot:REGION:ACCOUNT:KIND/NAME` into `out` (cleared first), so a hot loop can
/// reuse one buffer instead of allocating per message.
pub fn write_arn(out: &mut String, region: &str, account_id: &str, kind: &str, name: &str) {
    out.clear();
    // Writing into a String cannot fail.
    let _ = write!(out, "arn:aws:iot:{region}:{account_id}:{kind}/{name}");
}

fn arn(region: &str, account_id: &str, kind: &str, name: &str) -> String {
    let mut out =
        String::with_capacity(24 + region.len() + account_id.len() + kind.len() + name.len());
    write_arn(&mut out, region, account_id, kind, name);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spells_arns() {
        assert_eq!(
            topic_arn("us-east-1", "123456789012", "a/b"),
            "arn:aws:iot:us-east-1:123456789012:topic/a/b"
        );
        assert_eq!(
            topicfilter_arn("us-east-1", "123456789012", "a/+/#"),
            "arn:aws:iot:us-east-1:123456789012:topicfilter/a/+/#"
        );
        assert_eq!(
            client_arn("eu-west-1", "000000000000", "c1"),
            "arn:aws:iot:eu-west-1:000000000000:client/c1"
        );
        let mut buf = String::from("old");
        write_arn(&mut buf, "r", "a", "topic", "$aws/things/t/shadow");
        assert_eq!(buf, "arn:aws:iot:r:a:topic/$aws/things/t/shadow");
    }
}
