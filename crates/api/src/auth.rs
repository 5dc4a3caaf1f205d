//! Authentication: every API request is SigV4-signed by a known, active access key.

use fleetward_hub::Caller;
use fleetward_sigv4::{RequestParts, SigV4Error};

use crate::error::ApiError;
use crate::pipeline::AppState;

/// Who is calling, and which service the signature was scoped to.
pub struct Authenticated {
    pub caller: Caller,
    pub service: String,
}

pub async fn authenticate(
    state: &AppState,
    request: &RequestParts<'_>,
) -> Result<Authenticated, ApiError> {
    let auth = fleetward_sigv4::parse(request)?;
    let key = state
        .keys
        .resolve(&auth.access_key_id)
        .await
        .map_err(|detail| {
            tracing::error!(%detail, "Access key lookup failed.");
            ApiError::internal()
        })?
        .ok_or(SigV4Error::UnrecognizedClient)?;
    fleetward_sigv4::verify(request, &auth, &key.secret_access_key, state.clock.now_ms())?;
    if auth.region != state.region {
        return Err(SigV4Error::WrongRegion.into());
    }
    Ok(Authenticated {
        caller: Caller {
            account_id: key.account_id.clone(),
            identity: format!(
                "arn:aws:iam::{}:user/{}",
                key.account_id, auth.access_key_id
            ),
        },
        service: auth.service,
    })
}
