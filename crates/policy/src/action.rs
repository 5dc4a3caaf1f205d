//! MQTT data-plane actions and the per-statement action sets compiled from `Action` /
//! `NotAction` patterns, so evaluation tests a bit instead of matching strings.

use crate::error::{PolicyError, malformed};
use crate::pattern::simple_wildcard_match;

/// The MQTT actions the gateway authorizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Connect,
    Publish,
    Subscribe,
    Receive,
    /// A PUBLISH with the RETAIN flag: AWS checks `iot:RetainPublish` in addition to
    /// `iot:Publish` (the gateway asks about both).
    RetainPublish,
}

impl Action {
    /// Every action, in bit order.
    pub const ALL: [Action; 5] = [
        Action::Connect,
        Action::Publish,
        Action::Subscribe,
        Action::Receive,
        Action::RetainPublish,
    ];

    /// The IAM action name, e.g. `iot:Connect`.
    pub fn iam_name(self) -> &'static str {
        match self {
            Action::Connect => "iot:Connect",
            Action::Publish => "iot:Publish",
            Action::Subscribe => "iot:Subscribe",
            Action::Receive => "iot:Receive",
            Action::RetainPublish => "iot:RetainPublish",
        }
    }

    /// Maps TestAuthorization's `actionType` (`PUBLISH`, `SUBSCRIBE`, `RECEIVE`, `CONNECT`).
    /// The wire enum has no retained-publish value, so `RetainPublish` is never returned.
    pub fn from_action_type(s: &str) -> Option<Action> {
        match s {
            "CONNECT" => Some(Action::Connect),
            "PUBLISH" => Some(Action::Publish),
            "SUBSCRIBE" => Some(Action::Subscribe),
            "RECEIVE" => Some(Action::Receive),
            _ => None,
        }
    }

    /// TestAuthorization's `actionType` for this action (`RetainPublish` reports as `PUBLISH`).
    pub fn action_type(self) -> &'static str {
        match self {
            Action::Connect => "CONNECT",
            Action::Publish | Action::RetainPublish => "PUBLISH",
            Action::Subscribe => "SUBSCRIBE",
            Action::Receive => "RECEIVE",
        }
    }

    pub(crate) fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of [`Action`]s as a bitmask.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ActionSet(u8);

impl ActionSet {
    const FULL: u8 = (1 << Action::ALL.len()) - 1;

    pub(crate) fn contains(self, action: Action) -> bool {
        self.0 & action.bit() != 0
    }

    pub(crate) fn union(self, other: ActionSet) -> ActionSet {
        ActionSet(self.0 | other.0)
    }

    pub(crate) fn complement(self) -> ActionSet {
        ActionSet(!self.0 & Self::FULL)
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Compiles one `Action` entry. Any action of the `iot:` (or `greengrass:`, which AWS
    /// allows in IoT policies for Greengrass cores) namespace is accepted, including ones the
    /// gateway never asks about; other services are rejected as AWS's IoT policy validator does.
    pub(crate) fn from_pattern(pattern: &str) -> Result<ActionSet, PolicyError> {
        validate_action(pattern)?;
        let lowered = pattern.to_ascii_lowercase();
        let mut set = ActionSet::default();
        for action in Action::ALL {
            if simple_wildcard_match(&lowered, &action.iam_name().to_ascii_lowercase()) {
                set.0 |= action.bit();
            }
        }
        Ok(set)
    }
}

fn validate_action(pattern: &str) -> Result<(), PolicyError> {
    if pattern == "*" {
        return Ok(());
    }
    let Some((service, name)) = pattern.split_once(':') else {
        return malformed(format!(
            "Invalid action '{pattern}': an action must be '*' or of the form 'iot:ActionName'"
        ));
    };
    if !(service.eq_ignore_ascii_case("iot") || service.eq_ignore_ascii_case("greengrass")) {
        return malformed(format!(
            "Invalid action '{pattern}': IoT policy actions must start with 'iot:'"
        ));
    }
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?')
    {
        return malformed(format!("Invalid action '{pattern}'"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(p: &str) -> Vec<Action> {
        let s = ActionSet::from_pattern(p).unwrap();
        Action::ALL.into_iter().filter(|a| s.contains(*a)).collect()
    }

    #[test]
    fn exact_names_are_case_insensitive() {
        assert_eq!(set("iot:Connect"), vec![Action::Connect]);
        assert_eq!(set("IOT:connect"), vec![Action::Connect]);
        assert_eq!(set("iot:RetainPublish"), vec![Action::RetainPublish]);
    }

    #[test]
    fn wildcards_cover_several_actions() {
        assert_eq!(set("*"), Action::ALL.to_vec());
        assert_eq!(set("iot:*"), Action::ALL.to_vec());
        assert_eq!(set("iot:Pub*"), vec![Action::Publish]);
        assert_eq!(
            set("iot:*Publish"),
            vec![Action::Publish, Action::RetainPublish]
        );
        assert_eq!(set("iot:?eceive"), vec![Action::Receive]);
        assert!(set("iot:GetThingShadow").is_empty());
        assert!(set("greengrass:*").is_empty());
    }

    #[test]
    fn foreign_or_malformed_actions_are_rejected() {
        for bad in [
            "s3:GetObject",
            "Connect",
            "iot:",
            "iot:Con nect",
            "iot:Pub-lish",
            "",
        ] {
            assert!(ActionSet::from_pattern(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn complement_stays_within_known_actions() {
        let s = ActionSet::from_pattern("iot:Publish").unwrap().complement();
        assert!(!s.contains(Action::Publish));
        assert!(s.contains(Action::RetainPublish));
        assert_eq!(
            s.complement(),
            ActionSet::from_pattern("iot:Publish").unwrap()
        );
    }

    #[test]
    fn action_type_round_trip() {
        for a in [
            Action::Connect,
            Action::Publish,
            Action::Subscribe,
            Action::Receive,
        ] {
            assert_eq!(Action::from_action_type(a.action_type()), Some(a));
        }
        assert_eq!(Action::from_action_type("publish"), None);
    }
}
