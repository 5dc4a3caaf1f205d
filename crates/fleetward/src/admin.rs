//! `fleetward admin`: accounts and access keys, straight in the database (the running
//! service sees a revoked key within its key-cache lifetime, two seconds).

use fleetward_model::{Clock, SystemClock, is_valid_account_id};
use fleetward_store::AccountRow;

use crate::cli::{AdminArgs, AdminCommand};
use crate::credentials::{generate_key, render_profile};

pub async fn run(args: AdminArgs) -> Result<(), String> {
    let store = fleetward_store::open(&args.data.database_url())
        .await
        .map_err(|e| format!("cannot open the database: {e}"))?;
    let now = SystemClock.now_ms();
    match args.command {
        AdminCommand::CreateAccount { account_id, name } => {
            if !is_valid_account_id(&account_id) {
                return Err(format!("account id '{account_id}' must be twelve digits"));
            }
            let row = AccountRow {
                account_id: account_id.clone(),
                name,
                created_ms: now,
            };
            let created = store
                .create_account(&row)
                .await
                .map_err(|e| e.to_string())?;
            if !created {
                return Err(format!("account {account_id} already exists"));
            }
            println!("Created account {account_id}.");
        }
        AdminCommand::ListAccounts => {
            for account in store.list_accounts().await.map_err(|e| e.to_string())? {
                println!("{}\t{}", account.account_id, account.name);
            }
        }
        AdminCommand::CreateAccessKey {
            account_id,
            profile,
        } => {
            if store
                .get_account(&account_id)
                .await
                .map_err(|e| e.to_string())?
                .is_none()
            {
                return Err(format!("account {account_id} does not exist"));
            }
            let key = generate_key(&account_id, now);
            store
                .put_access_key(&key)
                .await
                .map_err(|e| e.to_string())?;
            print!("{}", render_profile(&profile, &key));
        }
        AdminCommand::ListAccessKeys { account_id } => {
            let keys = store
                .list_access_keys(account_id.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            for key in keys {
                println!(
                    "{}\t{}\t{}\t{}",
                    key.access_key_id,
                    key.account_id,
                    key.status,
                    fleetward_model::timestamp::format_ms(key.created_ms)
                );
            }
        }
        AdminCommand::Audit { command } => {
            crate::admin_audit::run(store.as_ref(), command).await?;
        }
        AdminCommand::RevokeAccessKey { access_key_id } => {
            let found = store
                .set_access_key_status(&access_key_id, "Inactive")
                .await
                .map_err(|e| e.to_string())?;
            if !found {
                return Err(format!("no access key {access_key_id}"));
            }
            println!("Revoked {access_key_id}.");
        }
    }
    Ok(())
}
