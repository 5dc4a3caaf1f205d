//! Static thing groups: nesting, membership and the recursive listings.

use std::collections::BTreeSet;
use std::ops::Bound::{Excluded, Unbounded};

use serde_json::{Map, Value, json};

use crate::error::{RegistryError, RegistryResult};
use crate::input::Input;
use crate::names;
use crate::paging;
use crate::persist;
use crate::records::{Thing, ThingGroup};
use crate::state::AccountState;
use crate::things::{apply_attributes, attribute_payload, thing_not_found};
use crate::{Caller, Registry, epoch_seconds, new_id};

/// AWS quotas: a thing is in at most 10 groups; a hierarchy is at most 7 levels deep.
const MAX_GROUPS_PER_THING: usize = 10;
const MAX_DEPTH: usize = 7;

fn group_not_found(name: &str) -> RegistryError {
    RegistryError::not_found(format!("ThingGroup {name} does not exist"))
}

/// The group name given by name or by ARN (`...:thinggroup/NAME`).
fn group_name_of<'a>(input: &Input<'a>) -> RegistryResult<Option<&'a str>> {
    if let Some(name) = input.opt_str("thingGroupName")? {
        return Ok(Some(name));
    }
    Ok(input.opt_str("thingGroupArn")?.map(|arn| {
        arn.rsplit_once("thinggroup/")
            .map(|(_, n)| n)
            .unwrap_or(arn)
    }))
}

fn thing_name_of<'a>(input: &Input<'a>) -> RegistryResult<Option<&'a str>> {
    if let Some(name) = input.opt_str("thingName")? {
        return Ok(Some(name));
    }
    Ok(input
        .opt_str("thingArn")?
        .map(|arn| arn.rsplit_once("thing/").map(|(_, n)| n).unwrap_or(arn)))
}

/// Root group of a group's hierarchy.
fn root_of(state: &AccountState, name: &str) -> String {
    state
        .ancestors(name)
        .last()
        .map(|g| g.name.clone())
        .unwrap_or_else(|| name.to_string())
}

/// Adds a thing to a group in memory and records the write; checks the AWS rules first.
fn add_to_group(
    state: &mut AccountState,
    changes: &mut persist::Changes,
    thing_name: &str,
    group: &str,
) -> RegistryResult<()> {
    if !state.groups.contains_key(group) {
        return Err(group_not_found(group));
    }
    let thing = state
        .things
        .get(thing_name)
        .ok_or_else(|| thing_not_found(thing_name))?;
    if thing.groups.contains(group) {
        return Ok(());
    }
    if thing.groups.len() >= MAX_GROUPS_PER_THING {
        return Err(RegistryError::invalid(format!(
            "Thing {thing_name} is already in {MAX_GROUPS_PER_THING} thing groups, the maximum."
        )));
    }
    // A thing can belong to only one group of a hierarchy (AWS docs).
    let root = root_of(state, group);
    if let Some(other) = thing.groups.iter().find(|g| root_of(state, g) == root) {
        return Err(RegistryError::invalid(format!(
            "Thing {thing_name} is already in thing group {other} of the same hierarchy."
        )));
    }
    let mut thing: Thing = thing.clone();
    thing.groups.insert(group.to_string());
    changes.put(persist::THING, thing_name, &thing);
    state.insert_thing(thing);
    Ok(())
}

fn remove_from_group(
    state: &mut AccountState,
    changes: &mut persist::Changes,
    thing_name: &str,
    group: &str,
) -> RegistryResult<()> {
    if !state.groups.contains_key(group) {
        return Err(group_not_found(group));
    }
    let thing = state
        .things
        .get(thing_name)
        .ok_or_else(|| thing_not_found(thing_name))?;
    if !thing.groups.contains(group) {
        return Ok(());
    }
    let mut thing = thing.clone();
    thing.groups.remove(group);
    changes.put(persist::THING, thing_name, &thing);
    state.insert_thing(thing);
    Ok(())
}

impl Registry {
    pub(crate) fn group_arn(&self, account: &str, name: &str) -> String {
        self.arn(account, &format!("thinggroup/{name}"))
    }

    pub async fn handle_create_thing_group(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.thing_name("thingGroupName")?;
        let parent = input.opt_str("parentGroupName")?;
        let (description, attributes) = match input.opt_object("thingGroupProperties")? {
            Some(props) => {
                let description = props.opt_str("thingGroupDescription")?;
                if let Some(d) = description {
                    names::description("thingGroupDescription", d)?;
                }
                let attributes = attribute_payload(&props)?
                    .map(|(a, _)| a)
                    .unwrap_or_default();
                (description.map(str::to_string), attributes)
            }
            None => (None, Default::default()),
        };
        let tags = crate::misc::tags_member(&input, "tags")?;
        let account = &caller.account_id;
        let arn = self.group_arn(account, name);
        self.mutate(account, |state, changes| {
            if let Some(existing) = state.groups.get(name) {
                // Same parent and properties: idempotent, as CreateThing.
                if existing.parent.as_deref() == parent
                    && existing.description == description
                    && existing.attributes == attributes
                {
                    return Ok(json!({"thingGroupName": name, "thingGroupArn": arn, "thingGroupId": existing.id}));
                }
                return Err(RegistryError::already_exists(
                    format!("Thing Group {name} already exists with different properties"),
                    &existing.id,
                    &arn,
                ));
            }
            if let Some(p) = parent {
                if !state.groups.contains_key(p) {
                    return Err(group_not_found(p));
                }
                if state.ancestors(p).len() + 2 > MAX_DEPTH {
                    return Err(RegistryError::invalid(format!(
                        "A thing group hierarchy can be at most {MAX_DEPTH} levels deep."
                    )));
                }
            }
            let group = ThingGroup {
                name: name.to_string(),
                id: new_id(),
                parent: parent.map(str::to_string),
                description,
                attributes: attributes.into_iter().filter(|(_, v)| !v.is_empty()).collect(),
                version: 1,
                created_ms: changes.now_ms(),
            };
            changes.put(persist::THING_GROUP, name, &group);
            crate::misc::set_tags(state, changes, &arn, tags);
            let out = json!({"thingGroupName": name, "thingGroupArn": arn, "thingGroupId": group.id});
            state.insert_group(group);
            Ok(out)
        })
        .await
    }

    pub async fn handle_describe_thing_group(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let name = Input(input).thing_name("thingGroupName")?;
        let account = &caller.account_id;
        self.read(account, |state| {
            let group = state.groups.get(name).ok_or_else(|| group_not_found(name))?;
            let mut properties = Map::new();
            if let Some(d) = &group.description {
                properties.insert("thingGroupDescription".into(), json!(d));
            }
            properties.insert(
                "attributePayload".into(),
                json!({"attributes": group.attributes}),
            );
            let mut metadata = json!({"creationDate": epoch_seconds(group.created_ms)});
            if let Some(p) = &group.parent {
                metadata["parentGroupName"] = json!(p);
                // Root first, as AWS lists them.
                let chain: Vec<Value> = state
                    .ancestors(name)
                    .iter()
                    .rev()
                    .map(|g| json!({"groupName": g.name, "groupArn": self.group_arn(account, &g.name)}))
                    .collect();
                metadata["rootToParentThingGroups"] = json!(chain);
            }
            Ok(json!({
                "thingGroupName": group.name,
                "thingGroupId": group.id,
                "thingGroupArn": self.group_arn(account, name),
                "version": group.version,
                "thingGroupProperties": properties,
                "thingGroupMetadata": metadata,
                "status": "ACTIVE",
            }))
        })
    }

    pub async fn handle_update_thing_group(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.thing_name("thingGroupName")?;
        let props = input
            .opt_object("thingGroupProperties")?
            .ok_or_else(|| crate::input::missing("thingGroupProperties"))?;
        let description = props.opt_str("thingGroupDescription")?;
        if let Some(d) = description {
            names::description("thingGroupDescription", d)?;
        }
        let payload = attribute_payload(&props)?;
        let expected = input.opt_i64("expectedVersion")?;
        self.mutate(&caller.account_id, |state, changes| {
            let current = state.groups.get(name).ok_or_else(|| group_not_found(name))?;
            if let Some(expected) = expected
                && expected != current.version
            {
                return Err(RegistryError::VersionConflict(format!(
                    "The version for thing group {name} does not match the expected version: expected {expected}, current {}.",
                    current.version
                )));
            }
            let mut group = current.clone();
            if let Some(d) = description {
                group.description = Some(d.to_string());
            }
            if let Some((attributes, merge)) = payload {
                group.attributes = apply_attributes(group.attributes.clone(), attributes, merge);
            }
            group.version += 1;
            changes.put(persist::THING_GROUP, name, &group);
            let version = group.version;
            state.insert_group(group);
            Ok(json!({"version": version}))
        })
        .await
    }

    pub async fn handle_delete_thing_group(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.thing_name("thingGroupName")?;
        let expected = input.opt_i64("expectedVersion")?;
        let account = &caller.account_id;
        self.mutate(account, |state, changes| {
            // Deleting a group that does not exist succeeds, as DeleteThing.
            let Some(group) = state.groups.get(name) else {
                return Ok(json!({}));
            };
            if let Some(expected) = expected
                && expected != group.version
            {
                return Err(RegistryError::VersionConflict(format!(
                    "The version for thing group {name} does not match the expected version."
                )));
            }
            if state
                .group_children
                .get(name)
                .is_some_and(|c| !c.is_empty())
            {
                return Err(RegistryError::invalid(format!(
                    "Cannot delete thing group : {name} when there are still child groups"
                )));
            }
            let members: Vec<String> = state
                .group_things
                .get(name)
                .map(|m| m.iter().cloned().collect())
                .unwrap_or_default();
            for thing_name in members {
                remove_from_group(state, changes, &thing_name, name)?;
            }
            let arn = self.group_arn(account, name);
            // Policies attached to the group go with it.
            let attached: Vec<String> = state.policies_of(&arn).cloned().collect();
            for policy in attached {
                changes.delete(persist::POLICY_TARGET, &format!("{policy}|{arn}"));
                state.detach(&policy, &arn);
            }
            if state.tags.remove(&arn).is_some() {
                changes.delete(persist::TAGS, &arn);
            }
            changes.delete(persist::THING_GROUP, name);
            state.remove_group(name);
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_list_thing_groups(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let limit = paging::page_size(&input, "maxResults")?;
        let after = paging::decode(&input, "nextToken")?;
        let parent = input.opt_str("parentGroup")?;
        let prefix = input.opt_str("namePrefixFilter")?;
        let recursive = input.bool_or("recursive", true)?;
        let account = &caller.account_id;
        self.read(account, |state| {
            let candidates: BTreeSet<String> = match parent {
                Some(p) => {
                    if !state.groups.contains_key(p) {
                        return Err(group_not_found(p));
                    }
                    if recursive {
                        state.subtree(p).into_iter().filter(|g| g != p).collect()
                    } else {
                        state.group_children.get(p).cloned().unwrap_or_default()
                    }
                }
                None if recursive => state.groups.keys().cloned().collect(),
                // Not recursive and no parent: the root groups.
                None => state
                    .groups
                    .values()
                    .filter(|g| g.parent.is_none())
                    .map(|g| g.name.clone())
                    .collect(),
            };
            Ok(self.group_page(
                account,
                candidates,
                after.as_deref(),
                prefix,
                limit,
                "thingGroups",
            ))
        })
    }

    fn group_page(
        &self,
        account: &str,
        names: BTreeSet<String>,
        after: Option<&str>,
        prefix: Option<&str>,
        limit: usize,
        member: &str,
    ) -> Value {
        let matching = names
            .iter()
            .filter(|n| prefix.is_none_or(|p| n.starts_with(p)));
        let (page, more) = paging::page_after(matching, after, limit);
        let items: Vec<Value> = page
            .iter()
            .map(|n| json!({"groupName": n, "groupArn": self.group_arn(account, n)}))
            .collect();
        let mut out = json!({ member: items });
        if more && let Some(last) = page.last() {
            out["nextToken"] = json!(paging::encode(last));
        }
        out
    }

    pub async fn handle_add_thing_to_thing_group(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let group =
            group_name_of(&input)?.ok_or_else(|| crate::input::missing("thingGroupName"))?;
        let thing = thing_name_of(&input)?.ok_or_else(|| crate::input::missing("thingName"))?;
        self.mutate(&caller.account_id, |state, changes| {
            add_to_group(state, changes, thing, group)?;
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_remove_thing_from_thing_group(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let group =
            group_name_of(&input)?.ok_or_else(|| crate::input::missing("thingGroupName"))?;
        let thing = thing_name_of(&input)?.ok_or_else(|| crate::input::missing("thingName"))?;
        self.mutate(&caller.account_id, |state, changes| {
            remove_from_group(state, changes, thing, group)?;
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_update_thing_groups_for_thing(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let thing = input.thing_name("thingName")?;
        let add = input.opt_str_list("thingGroupsToAdd")?.unwrap_or_default();
        let remove = input
            .opt_str_list("thingGroupsToRemove")?
            .unwrap_or_default();
        self.mutate(&caller.account_id, |state, changes| {
            // Check everything on a copy of the thing's groups first: never half-applied.
            let current = state.things.get(thing).ok_or_else(|| thing_not_found(thing))?;
            for g in add.iter().chain(remove.iter()) {
                if !state.groups.contains_key(*g) {
                    return Err(group_not_found(g));
                }
            }
            let mut groups = current.groups.clone();
            for g in &remove {
                groups.remove(g);
            }
            for g in &add {
                if groups.contains(g) {
                    continue;
                }
                let root = root_of(state, g);
                if let Some(other) = groups.iter().find(|o| root_of(state, o) == root) {
                    return Err(RegistryError::invalid(format!(
                        "Thing {thing} cannot be in {g} and {other}: they are in the same hierarchy."
                    )));
                }
                groups.insert(g.to_string());
            }
            if groups.len() > MAX_GROUPS_PER_THING {
                return Err(RegistryError::invalid(format!(
                    "A thing can be in at most {MAX_GROUPS_PER_THING} thing groups."
                )));
            }
            let mut updated = current.clone();
            updated.groups = groups;
            changes.put(persist::THING, thing, &updated);
            state.insert_thing(updated);
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_list_things_in_thing_group(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.thing_name("thingGroupName")?;
        let recursive = input.bool_or("recursive", false)?;
        let limit = paging::page_size(&input, "maxResults")?;
        let after = paging::decode(&input, "nextToken")?;
        self.read(&caller.account_id, |state| {
            if !state.groups.contains_key(name) {
                return Err(group_not_found(name));
            }
            let groups = if recursive {
                state.subtree(name)
            } else {
                vec![name.to_string()]
            };
            // Each group contributes at most a page after the token: the cost of a page does
            // not grow with the size of the groups.
            let mut members: BTreeSet<&String> = BTreeSet::new();
            for g in &groups {
                if let Some(things) = state.group_things.get(g) {
                    let tail = match after.as_ref() {
                        Some(a) => things.range::<String, _>((Excluded(a), Unbounded)),
                        None => things.range::<String, _>(..),
                    };
                    members.extend(tail.take(limit + 1));
                }
            }
            let (page, more) = paging::page_after(members.into_iter(), None, limit);
            let mut out = json!({"things": page});
            if more && let Some(last) = page.last() {
                out["nextToken"] = json!(paging::encode(last));
            }
            Ok(out)
        })
    }

    pub async fn handle_list_thing_groups_for_thing(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.thing_name("thingName")?;
        let limit = paging::page_size(&input, "maxResults")?;
        let after = paging::decode(&input, "nextToken")?;
        let account = &caller.account_id;
        self.read(account, |state| {
            let thing = state
                .things
                .get(name)
                .ok_or_else(|| thing_not_found(name))?;
            Ok(self.group_page(
                account,
                thing.groups.iter().cloned().collect(),
                after.as_deref(),
                None,
                limit,
                "thingGroups",
            ))
        })
    }
}
