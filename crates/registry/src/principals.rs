//! Principals (certificates) attached to things.

use serde_json::{Value, json};

use crate::error::{RegistryError, RegistryResult};
use crate::input::Input;
use crate::paging;
use crate::persist;
use crate::records::CertId;
use crate::state::AccountState;
use crate::things::thing_not_found;
use crate::{Caller, Registry};

impl Registry {
    /// Checks that `principal` is the ARN of a certificate of this account.
    fn check_principal(
        &self,
        account: &str,
        state: &AccountState,
        principal: &str,
    ) -> RegistryResult<()> {
        let id = principal
            .strip_prefix(&self.arn(account, "cert/"))
            .ok_or_else(|| {
                RegistryError::invalid(format!(
                    "{principal} is not a certificate ARN of this account."
                ))
            })?;
        let known = id
            .parse::<CertId>()
            .ok()
            .is_some_and(|id| state.certificates.contains_key(&id));
        if known {
            Ok(())
        } else {
            Err(RegistryError::not_found(format!(
                "The certificate {id} does not exist."
            )))
        }
    }

    pub async fn handle_attach_thing_principal(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let thing_name = input.thing_name("thingName")?;
        let principal = input.req_str("principal")?;
        let kind = input
            .opt_str("thingPrincipalType")?
            .unwrap_or("NON_EXCLUSIVE_THING");
        if !matches!(kind, "EXCLUSIVE_THING" | "NON_EXCLUSIVE_THING") {
            return Err(RegistryError::invalid(format!(
                "{kind} is not a thing principal type."
            )));
        }
        let account = &caller.account_id;
        self.mutate(account, |state, changes| {
            let thing = state.things.get(thing_name).ok_or_else(|| thing_not_found(thing_name))?;
            self.check_principal(account, state, principal)?;
            let others: Vec<&String> = state
                .principal_things
                .get(principal)
                .into_iter()
                .flatten()
                .filter(|t| t.as_str() != thing_name)
                .collect();
            // An exclusive principal belongs to one thing only, either way round.
            let exclusive_elsewhere = others.iter().any(|t| {
                state.things.get(*t).and_then(|t| t.principals.get(principal)).map(String::as_str)
                    == Some("EXCLUSIVE_THING")
            });
            if exclusive_elsewhere || (kind == "EXCLUSIVE_THING" && !others.is_empty()) {
                return Err(RegistryError::invalid(format!(
                    "The principal is exclusively attached to another thing, or attached to others: {principal}"
                )));
            }
            if thing.principals.get(principal).map(String::as_str) == Some(kind) {
                return Ok(json!({}));
            }
            let mut thing = thing.clone();
            thing.principals.insert(principal.to_string(), kind.to_string());
            changes.put(persist::THING, thing_name, &thing);
            state.insert_thing(thing);
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_detach_thing_principal(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let thing_name = input.thing_name("thingName")?;
        let principal = input.req_str("principal")?;
        self.mutate(&caller.account_id, |state, changes| {
            let thing = state
                .things
                .get(thing_name)
                .ok_or_else(|| thing_not_found(thing_name))?;
            if !thing.principals.contains_key(principal) {
                return Ok(json!({}));
            }
            let mut thing = thing.clone();
            thing.principals.remove(principal);
            changes.put(persist::THING, thing_name, &thing);
            state.insert_thing(thing);
            Ok(json!({}))
        })
        .await
    }

    pub async fn handle_list_thing_principals(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let thing_name = input.thing_name("thingName")?;
        let limit = paging::page_size(&input, "maxResults")?;
        let after = paging::decode(&input, "nextToken")?;
        self.read(&caller.account_id, |state| {
            let thing = state
                .things
                .get(thing_name)
                .ok_or_else(|| thing_not_found(thing_name))?;
            let (page, more) = paging::page_after(thing.principals.keys(), after.as_deref(), limit);
            let mut out = json!({"principals": page});
            if more && let Some(last) = page.last() {
                out["nextToken"] = json!(paging::encode(last));
            }
            Ok(out)
        })
    }

    pub async fn handle_list_principal_things(
        &self,
        caller: &Caller,
        input: &Value,
    ) -> RegistryResult<Value> {
        let input = Input(input);
        let principal = input.req_str("principal")?;
        let limit = paging::page_size(&input, "maxResults")?;
        let after = paging::decode(&input, "nextToken")?;
        let account = &caller.account_id;
        self.read(account, |state| {
            self.check_principal(account, state, principal)?;
            let (page, more) = paging::page_after(
                state.principal_things.get(principal).into_iter().flatten(),
                after.as_deref(),
                limit,
            );
            let mut out = json!({"things": page});
            if more && let Some(last) = page.last() {
                out["nextToken"] = json!(paging::encode(last));
            }
            Ok(out)
        })
    }
}
