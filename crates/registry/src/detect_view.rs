//! What Device Defender detect asks the registry: whether a device is a registered thing,
//! the thing groups it is in with their ancestors (security profile targets), and whether
//! a thing group exists (AttachSecurityProfile).

use std::sync::PoisonError;

use crate::Registry;

impl Registry {
    /// `None` when `thing` is not a registered thing of the account; else its groups and
    /// every ancestor of them.
    pub fn detect_thing_groups(&self, account_id: &str, thing: &str) -> Option<Vec<String>> {
        let accounts = self.accounts.read().unwrap_or_else(PoisonError::into_inner);
        let state = accounts.get(account_id)?;
        let record = state.things.get(thing)?;
        let mut out: Vec<String> = Vec::new();
        for group in record.groups.iter() {
            if !out.contains(group) {
                out.push(group.clone());
            }
            for ancestor in state.ancestors(group) {
                if !out.contains(&ancestor.name) {
                    out.push(ancestor.name.clone());
                }
            }
        }
        Some(out)
    }

    pub fn thing_group_exists(&self, account_id: &str, group: &str) -> bool {
        self.read(account_id, |state| state.groups.contains_key(group))
    }
}

impl Registry {
    /// The ancestors of a thing group, nearest first (ListSecurityProfilesForTarget recursive).
    pub fn detect_group_ancestors(&self, account_id: &str, group: &str) -> Vec<String> {
        self.read(account_id, |state| {
            state
                .ancestors(group)
                .into_iter()
                .map(|g| g.name.clone())
                .collect()
        })
    }
}
