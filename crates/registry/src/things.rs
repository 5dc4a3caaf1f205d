//! Things and thing types.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::error::{RegistryError, RegistryResult};
use crate::input::Input;
use crate::names;
use crate::paging;
use crate::persist;
use crate::records::{Thing, ThingType};
use crate::small::SmallMap;
use crate::{Caller, Registry, epoch_seconds, new_id};

/// Most things one filtered ListThings page examines (see handle_list_things).
const MAX_SCAN_PER_PAGE: usize = 50_000;
/// AWS deletes a thing type only five minutes after its deprecation.
const THING_TYPE_DELETE_DELAY_MS: i64 = 5 * 60 * 1000;
/// At most 50 attributes per thing (AWS IoT quota, with a thing type); and three without.
const MAX_ATTRIBUTES_WITH_TYPE: usize = 50;
const MAX_ATTRIBUTES_WITHOUT_TYPE: usize = 3;

/// `attributePayload` of CreateThing / UpdateThing / thing groups: checked attributes and
/// the `merge` flag.
pub(crate) fn attribute_payload(
    input: &Input,
) -> RegistryResult<Option<(BTreeMap<String, String>, bool)>> {
    let Some(payload) = input.opt_object("attributePayload")? else {
        return Ok(None);
    };
    let attributes = payload.opt_string_map("attributes")?.unwrap_or_default();
    for (name, value) in &attributes {
        names::attribute_name(name)?;
        names::attribute_value(value)?;
    }
    Ok(Some((attributes, payload.bool_or("merge", false)?)))
}

/// Applies an attribute payload: merge keeps other attributes and an empty value removes
/// one; otherwise the payload replaces them all.
pub(crate) fn apply_attributes(
    current: BTreeMap<String, String>,
    payload: BTreeMap<String, String>,
    merge: bool,
) -> BTreeMap<String, String> {
    if !merge {
        return payload.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    }
    let mut merged = current;
    for (name, value) in payload {
        if value.is_empty() {
            merged.remove(&name);
        } else {
            merged.insert(name, value);
        }
    }
    merged
}

fn check_attribute_count(attributes: &SmallMap, typed: bool) -> RegistryResult<()> {
    let max = if typed {
        MAX_ATTRIBUTES_WITH_TYPE
    } else {
        MAX_ATTRIBUTES_WITHOUT_TYPE
    };
    if attributes.len() > max {
        return Err(RegistryError::invalid(format!(
            "A thing {} a thing type can have at most {max} attributes.",
            if typed { "with" } else { "without" }
        )));
    }
    Ok(())
}

impl Registry {
    pub(crate) fn thing_arn(&self, account: &str, name: &str) -> String {
        self.arn(account, &format!("thing/{name}"))
    }

    fn thing_type_arn(&self, account: &str, name: &str) -> String {
        self.arn(account, &format!("thingtype/{name}"))
    }

    pub async fn handle_create_thing(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.thing_name("thingName")?;
        let type_name = input.opt_str("thingTypeName")?;
        if let Some(t) = type_name {
            names::thing_like_name("thingTypeName", t)?;
        }
        let attributes: SmallMap = attribute_payload(&input)?
            .map(|(a, _)| {
                a.into_iter()
                    .filter(|(_, v)| !v.is_empty())
                    .collect::<BTreeMap<_, _>>()
                    .into()
            })
            .unwrap_or_default();
        check_attribute_count(&attributes, type_name.is_some())?;
        if input.opt_str("billingGroupName")?.is_some() {
            return Err(RegistryError::invalid(
                "Billing groups are not supported by Fleetward.",
            ));
        }
        let account = &caller.account_id;
        let arn = self.thing_arn(account, name);
        self.mutate(account, |state, changes| {
            if let Some(existing) = state.things.get(name) {
                // CreateThing is idempotent for the same configuration (AWS docs).
                if existing.type_name.as_deref() == type_name && existing.attributes == attributes {
                    return Ok(json!({"thingName": name, "thingArn": arn, "thingId": existing.id}));
                }
                return Err(RegistryError::already_exists(
                    format!("Thing {name} already exists in account with different attributes"),
                    &existing.id.to_string(),
                    &arn,
                ));
            }
            if let Some(t) = type_name {
                match state.thing_types.get(t) {
                    None => {
                        return Err(RegistryError::not_found(format!(
                            "Thing Type {t} does not exist"
                        )));
                    }
                    Some(thing_type) if thing_type.deprecated => {
                        return Err(RegistryError::invalid(format!(
                            "Can not create new thing with deprecated thing type:{t}"
                        )));
                    }
                    Some(_) => {}
                }
            }
            let thing = Thing {
                name: name.to_string(),
                id: uuid::Uuid::new_v4(),
                type_name: type_name.map(str::to_string),
                attributes,
                version: 1,
                groups: Default::default(),
                principals: Default::default(),
                created_ms: changes.now_ms(),
            };
            changes.put(persist::THING, name, &thing);
            let output = json!({"thingName": name, "thingArn": arn, "thingId": thing.id});
            state.insert_thing(thing);
            Ok(output)
        })
        .await
    }

    pub async fn handle_describe_thing(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let name = Input(input).thing_name("thingName")?;
        let account = &caller.account_id;
        self.read(account, |state| {
            let thing = state
                .things
                .get(name)
                .ok_or_else(|| thing_not_found(name))?;
            let mut out = json!({
                "defaultClientId": thing.name,
                "thingName": thing.name,
                "thingId": thing.id,
                "thingArn": self.thing_arn(account, &thing.name),
                "attributes": thing.attributes,
                "version": thing.version,
            });
            if let Some(t) = &thing.type_name {
                out["thingTypeName"] = json!(t);
            }
            Ok(out)
        })
    }

    pub async fn handle_update_thing(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.thing_name("thingName")?;
        let new_type = input.opt_str("thingTypeName")?;
        let remove_type = input.bool_or("removeThingType", false)?;
        if new_type.is_some() && remove_type {
            return Err(RegistryError::invalid(
                "Cannot set thingTypeName and removeThingType together.",
            ));
        }
        let expected = input.opt_i64("expectedVersion")?;
        let payload = attribute_payload(&input)?;
        self.mutate(&caller.account_id, |state, changes| {
            let current = state
                .things
                .get(name)
                .ok_or_else(|| thing_not_found(name))?;
            if let Some(expected) = expected
                && expected != current.version
            {
                return Err(version_conflict(name, current.version, expected));
            }
            let mut thing = current.clone();
            if let Some(t) = new_type {
                match state.thing_types.get(t) {
                    None => {
                        return Err(RegistryError::not_found(format!(
                            "Thing Type {t} does not exist"
                        )));
                    }
                    Some(tt) if tt.deprecated && thing.type_name.as_deref() != Some(t) => {
                        return Err(RegistryError::invalid(format!(
                            "Can not associate a thing with deprecated thing type:{t}"
                        )));
                    }
                    Some(_) => thing.type_name = Some(t.to_string()),
                }
            }
            if remove_type {
                thing.type_name = None;
            }
            if let Some((attributes, merge)) = payload {
                let current = thing
                    .attributes
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                thing.attributes = apply_attributes(current, attributes, merge).into();
            }
            check_attribute_count(&thing.attributes, thing.type_name.is_some())?;
            thing.version += 1;
            changes.put(persist::THING, name, &thing);
            state.insert_thing(thing);
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_delete_thing(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.thing_name("thingName")?;
        let expected = input.opt_i64("expectedVersion")?;
        self.mutate(&caller.account_id, |state, changes| {
            // Deleting a thing that does not exist succeeds (AWS docs).
            let Some(thing) = state.things.get(name) else {
                return Ok(json!({}));
            };
            if let Some(expected) = expected
                && expected != thing.version
            {
                return Err(version_conflict(name, thing.version, expected));
            }
            // Fleetward refuses to orphan certificates: detach principals first.
            if !thing.principals.is_empty() {
                return Err(RegistryError::invalid(format!(
                    "Cannot delete thing {name}: principals are still attached to it; detach them first."
                )));
            }
            changes.delete(persist::THING, name);
            let arn = self.thing_arn(&caller.account_id, name);
            if state.tags.remove(&arn).is_some() {
                changes.delete(persist::TAGS, &arn);
            }
            state.remove_thing(name);
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_list_things(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let limit = paging::page_size(&input, "maxResults")?;
        let after = paging::decode(&input, "nextToken")?;
        let attribute_name = input.opt_str("attributeName")?;
        let attribute_value = input.opt_str("attributeValue")?;
        let prefix = input.bool_or("usePrefixAttributeValue", false)?;
        let type_filter = input.opt_str("thingTypeName")?;
        if attribute_value.is_some() && attribute_name.is_none() {
            return Err(RegistryError::invalid(
                "attributeValue needs attributeName.",
            ));
        }
        let account = &caller.account_id;
        Ok(self.read(account, |state| {
            use std::ops::Bound::{Excluded, Unbounded};
            let range = match &after {
                Some(a) => state.things.range::<String, _>((Excluded(a), Unbounded)),
                None => state.things.range::<String, _>(..),
            };
            let matches = |thing: &&Thing| {
                if let Some(t) = type_filter
                    && thing.type_name.as_deref() != Some(t)
                {
                    return false;
                }
                match (attribute_name, attribute_value) {
                    (Some(n), Some(v)) => thing.attributes.get(n).is_some_and(|have| {
                        if prefix {
                            have.starts_with(v)
                        } else {
                            have == v
                        }
                    }),
                    (Some(n), None) => thing.attributes.contains_key(n),
                    _ => true,
                }
            };
            // A filtered page looks at no more than MAX_SCAN_PER_PAGE things, so a filter that
            // matches few of a million things still answers quickly: it may return a short
            // (even empty) page with a nextToken, which paginators follow as usual.
            let mut page: Vec<&Thing> = Vec::new();
            let mut resume: Option<&str> = None;
            let mut more = false;
            for (scanned, (name, thing)) in range.enumerate() {
                if page.len() == limit || scanned == MAX_SCAN_PER_PAGE {
                    more = true;
                    break;
                }
                resume = Some(name);
                if matches(&thing) {
                    page.push(thing);
                }
            }
            let things: Vec<Value> = page
                .iter()
                .map(|thing| {
                    let mut item = json!({
                        "thingName": thing.name,
                        "thingArn": self.thing_arn(account, &thing.name),
                        "attributes": thing.attributes,
                        "version": thing.version,
                    });
                    if let Some(t) = &thing.type_name {
                        item["thingTypeName"] = json!(t);
                    }
                    item
                })
                .collect();
            let mut out = json!({"things": things});
            if more && let Some(last) = resume {
                out["nextToken"] = json!(paging::encode(last));
            }
            out
        }))
    }

    // ---- thing types ----

    pub async fn handle_create_thing_type(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.thing_name("thingTypeName")?;
        let (description, searchable) = match input.opt_object("thingTypeProperties")? {
            Some(props) => {
                let description = props.opt_str("thingTypeDescription")?;
                if let Some(d) = description {
                    names::description("thingTypeDescription", d)?;
                }
                let searchable = props
                    .opt_str_list("searchableAttributes")?
                    .unwrap_or_default();
                for a in &searchable {
                    names::attribute_name(a)?;
                }
                if searchable.len() > 3 {
                    return Err(RegistryError::invalid(
                        "A thing type can have at most 3 searchable attributes.",
                    ));
                }
                (
                    description.map(str::to_string),
                    searchable.iter().map(|s| s.to_string()).collect(),
                )
            }
            None => (None, Vec::new()),
        };
        let tags = crate::misc::tags_member(&input, "tags")?;
        let account = &caller.account_id;
        let arn = self.thing_type_arn(account, name);
        self.mutate(account, |state, changes| {
            if let Some(existing) = state.thing_types.get(name) {
                return Err(RegistryError::already_exists(
                    format!("Thing type {name} already exists"),
                    &existing.id,
                    &arn,
                ));
            }
            let thing_type = ThingType {
                name: name.to_string(),
                id: new_id(),
                description,
                searchable_attributes: searchable,
                deprecated: false,
                deprecation_ms: None,
                created_ms: changes.now_ms(),
            };
            changes.put(persist::THING_TYPE, name, &thing_type);
            crate::misc::set_tags(state, changes, &arn, tags);
            let out =
                json!({"thingTypeName": name, "thingTypeArn": arn, "thingTypeId": thing_type.id});
            state.thing_types.insert(name.to_string(), thing_type);
            Ok(out)
        })
        .await
    }

    fn thing_type_json(&self, account: &str, t: &ThingType, with_id: bool) -> Value {
        let mut properties = Map::new();
        if let Some(d) = &t.description {
            properties.insert("thingTypeDescription".into(), json!(d));
        }
        properties.insert(
            "searchableAttributes".into(),
            json!(t.searchable_attributes),
        );
        let mut metadata =
            json!({"deprecated": t.deprecated, "creationDate": epoch_seconds(t.created_ms)});
        if let Some(ms) = t.deprecation_ms {
            metadata["deprecationDate"] = epoch_seconds(ms);
        }
        let mut out = json!({
            "thingTypeName": t.name,
            "thingTypeArn": self.thing_type_arn(account, &t.name),
            "thingTypeProperties": properties,
            "thingTypeMetadata": metadata,
        });
        if with_id {
            out["thingTypeId"] = json!(t.id);
        }
        out
    }

    pub async fn handle_describe_thing_type(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let name = Input(input).thing_name("thingTypeName")?;
        let account = &caller.account_id;
        self.read(account, |state| {
            let t = state.thing_types.get(name).ok_or_else(|| {
                RegistryError::not_found(format!("Thing Type {name} does not exist"))
            })?;
            Ok(self.thing_type_json(account, t, true))
        })
    }

    pub async fn handle_list_thing_types(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let limit = paging::page_size(&input, "maxResults")?;
        let after = paging::decode(&input, "nextToken")?;
        let only = input.opt_str("thingTypeName")?;
        let account = &caller.account_id;
        Ok(self.read(account, |state| {
            let mut page: Vec<&ThingType> = state
                .thing_types
                .values()
                .filter(|t| after.as_deref().is_none_or(|a| t.name.as_str() > a))
                .filter(|t| only.is_none_or(|o| o == t.name))
                .take(limit + 1)
                .collect();
            let more = page.len() > limit;
            page.truncate(limit);
            let mut out = json!({
                "thingTypes": page.iter().map(|t| self.thing_type_json(account, t, false)).collect::<Vec<_>>()
            });
            if more && let Some(last) = page.last() {
                out["nextToken"] = json!(paging::encode(&last.name));
            }
            out
        }))
    }

    pub async fn handle_deprecate_thing_type(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let name = input.thing_name("thingTypeName")?;
        let undo = input.bool_or("undoDeprecate", false)?;
        self.mutate(&caller.account_id, |state, changes| {
            let current = state.thing_types.get(name).ok_or_else(|| {
                RegistryError::not_found(format!("Thing Type {name} does not exist"))
            })?;
            let mut t = current.clone();
            t.deprecated = !undo;
            t.deprecation_ms = (!undo).then_some(changes.now_ms());
            changes.put(persist::THING_TYPE, name, &t);
            state.thing_types.insert(name.to_string(), t);
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_delete_thing_type(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let name = Input(input).thing_name("thingTypeName")?;
        let account = &caller.account_id;
        self.mutate(account, |state, changes| {
            let t = state
                .thing_types
                .get(name)
                .ok_or_else(|| RegistryError::not_found(format!("Thing Type {name} does not exist")))?;
            let deprecated_for = t.deprecation_ms.map(|ms| changes.now_ms() - ms);
            if !t.deprecated || deprecated_for.is_none_or(|d| d < THING_TYPE_DELETE_DELAY_MS) {
                return Err(RegistryError::invalid(format!(
                    "Thing type {name} must be deprecated for at least 5 minutes before it can be deleted."
                )));
            }
            if state.things.values().any(|thing| thing.type_name.as_deref() == Some(name)) {
                return Err(RegistryError::invalid(format!(
                    "Can not delete thing type {name}: things are still associated with it."
                )));
            }
            changes.delete(persist::THING_TYPE, name);
            let arn = self.thing_type_arn(account, name);
            if state.tags.remove(&arn).is_some() {
                changes.delete(persist::TAGS, &arn);
            }
            state.thing_types.remove(name);
            Ok(json!({}))
        })
        .await
    }
}

pub(crate) fn thing_not_found(name: &str) -> RegistryError {
    RegistryError::not_found(format!("Thing {name} cannot be found."))
}

fn version_conflict(name: &str, actual: i64, expected: i64) -> RegistryError {
    RegistryError::VersionConflict(format!(
        "The version for thing {name} does not match the expected version: expected {expected}, current {actual}."
    ))
}
