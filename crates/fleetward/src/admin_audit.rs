//! `fleetward admin audit ...`: what Device Defender audit needs and cannot see itself, put
//! straight into the database (the running service reads it at each audit): CRLs, IAM roles
//! behind role aliases and Cognito identity pools, and the pools' roles.

use std::path::PathBuf;

use clap::Subcommand;
use fleetward_audit::{IamRoleDoc, IdentityPoolDoc};
use fleetward_store::Store;

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Upload a CRL (DER or PEM) for the revoked-certificate checks.
    PutCrl {
        #[arg(long, default_value = fleetward_model::DEFAULT_ACCOUNT_ID)]
        account_id: String,
        #[arg(long)]
        file: PathBuf,
    },
    /// Register an IAM role: its permission policies and the services it used in the last year.
    PutRole {
        #[arg(long, default_value = fleetward_model::DEFAULT_ACCOUNT_ID)]
        account_id: String,
        #[arg(long)]
        role_arn: String,
        /// A permission policy document (JSON file); repeat for several.
        #[arg(long = "policy-file", required = true)]
        policy_files: Vec<PathBuf>,
        /// Services the role used in the last year, comma-separated (e.g. `iot,s3`).
        #[arg(long, value_delimiter = ',')]
        used_services: Option<Vec<String>>,
    },
    /// Register a Cognito identity pool and its roles.
    PutIdentityPool {
        #[arg(long, default_value = fleetward_model::DEFAULT_ACCOUNT_ID)]
        account_id: String,
        #[arg(long)]
        pool_id: String,
        #[arg(long)]
        authenticated_role_arn: Option<String>,
        #[arg(long)]
        unauthenticated_role_arn: Option<String>,
    },
    /// List what is registered (kind and key).
    List {
        #[arg(long, default_value = fleetward_model::DEFAULT_ACCOUNT_ID)]
        account_id: String,
    },
    /// Remove a registered document (`--kind role|pool|crl`, `--key` as listed).
    Delete {
        #[arg(long, default_value = fleetward_model::DEFAULT_ACCOUNT_ID)]
        account_id: String,
        #[arg(long)]
        kind: String,
        #[arg(long)]
        key: String,
    },
}

pub async fn run(store: &dyn Store, command: AuditCommand) -> Result<(), String> {
    match command {
        AuditCommand::PutCrl { account_id, file } => {
            let bytes =
                std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let key = fleetward_audit::put_crl(store, &account_id, &bytes)
                .await
                .map_err(|e| e.to_string())?;
            println!("Stored CRL {key}.");
        }
        AuditCommand::PutRole {
            account_id,
            role_arn,
            policy_files,
            used_services,
        } => {
            let mut policies = Vec::new();
            for file in &policy_files {
                policies.push(
                    std::fs::read_to_string(file)
                        .map_err(|e| format!("cannot read {}: {e}", file.display()))?,
                );
            }
            let role = IamRoleDoc {
                role_arn: role_arn.clone(),
                policies,
                last_accessed_services: used_services,
            };
            fleetward_audit::put_iam_role(store, &account_id, &role)
                .await
                .map_err(|e| e.to_string())?;
            println!("Stored role {role_arn}.");
        }
        AuditCommand::PutIdentityPool {
            account_id,
            pool_id,
            authenticated_role_arn,
            unauthenticated_role_arn,
        } => {
            let pool = IdentityPoolDoc {
                pool_id: pool_id.clone(),
                authenticated_role_arn,
                unauthenticated_role_arn,
            };
            fleetward_audit::put_identity_pool(store, &account_id, &pool)
                .await
                .map_err(|e| e.to_string())?;
            println!("Stored identity pool {pool_id}.");
        }
        AuditCommand::List { account_id } => {
            for (kind, key) in fleetward_audit::list_admin_documents(store, &account_id)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("{kind}\t{key}");
            }
        }
        AuditCommand::Delete {
            account_id,
            kind,
            key,
        } => {
            let found = fleetward_audit::delete_admin_document(store, &account_id, &kind, &key)
                .await
                .map_err(|e| e.to_string())?;
            if !found {
                return Err(format!("no {kind} {key}"));
            }
            println!("Deleted {kind} {key}.");
        }
    }
    Ok(())
}
