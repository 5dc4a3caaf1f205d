//! The `firehose` (2015-08-04) API: JSON 1.1 protocol, the operation named by the
//! `X-Amz-Target: Firehose_20150804.<Operation>` header, every request a POST to `/`.

use fleetward_export::{Export, ExportError};
use fleetward_model::Caller;
use serde_json::Value;

use crate::error::ApiError;

const TARGET_PREFIX: &str = "Firehose_20150804.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    CreateDeliveryStream,
    DescribeDeliveryStream,
    ListDeliveryStreams,
    DeleteDeliveryStream,
    UpdateDestination,
    PutRecord,
    PutRecordBatch,
    TagDeliveryStream,
    UntagDeliveryStream,
    ListTagsForDeliveryStream,
}

use Operation::*;

const OPERATIONS: &[(Operation, &str)] = &[
    (CreateDeliveryStream, "CreateDeliveryStream"),
    (DescribeDeliveryStream, "DescribeDeliveryStream"),
    (ListDeliveryStreams, "ListDeliveryStreams"),
    (DeleteDeliveryStream, "DeleteDeliveryStream"),
    (UpdateDestination, "UpdateDestination"),
    (PutRecord, "PutRecord"),
    (PutRecordBatch, "PutRecordBatch"),
    (TagDeliveryStream, "TagDeliveryStream"),
    (UntagDeliveryStream, "UntagDeliveryStream"),
    (ListTagsForDeliveryStream, "ListTagsForDeliveryStream"),
];

impl Operation {
    pub fn name(self) -> &'static str {
        OPERATIONS
            .iter()
            .find(|(op, _)| *op == self)
            .map_or("unknown", |(_, n)| n)
    }
}

/// The operation of a request, from its `X-Amz-Target` header.
pub fn resolve(method: &str, headers: &[(&str, &str)]) -> Result<Operation, ApiError> {
    let target = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-amz-target"))
        .map(|(_, v)| *v)
        .unwrap_or("");
    let name = target.strip_prefix(TARGET_PREFIX).unwrap_or("");
    match OPERATIONS.iter().find(|(_, n)| *n == name) {
        Some((op, _)) if method == "POST" => Ok(*op),
        _ => Err(ApiError::new(
            400,
            "UnknownOperationException",
            format!("Fleetward's firehose API has no operation '{target}'."),
        )),
    }
}

impl From<ExportError> for ApiError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Internal(detail) => {
                tracing::error!(%detail, "Firehose operation failed.");
                Self::new(500, "InternalFailure", "Internal service failure.")
            }
            other => Self::new(other.status(), other.code(), other.to_string()),
        }
    }
}

/// Parses the JSON body and calls the export service's handler.
pub async fn dispatch(
    export: &Export,
    caller: &Caller,
    operation: Operation,
    body: &[u8],
) -> Result<Value, ApiError> {
    // The throughput path: an ordinary batch is read without building a JSON tree.
    if operation == PutRecordBatch
        && let Some(output) = export.try_put_record_batch_body(caller, body).await
    {
        return Ok(output?);
    }
    let input: Value = if body.is_empty() {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(body).map_err(|_| {
            ApiError::new(
                400,
                "SerializationException",
                "The request body is not valid JSON.",
            )
        })?
    };
    let input = &input;
    let output = match operation {
        CreateDeliveryStream => export.handle_create_delivery_stream(caller, input).await,
        DescribeDeliveryStream => export.handle_describe_delivery_stream(caller, input).await,
        ListDeliveryStreams => export.handle_list_delivery_streams(caller, input).await,
        DeleteDeliveryStream => export.handle_delete_delivery_stream(caller, input).await,
        UpdateDestination => export.handle_update_destination(caller, input).await,
        PutRecord => export.handle_put_record(caller, input).await,
        PutRecordBatch => export.handle_put_record_batch(caller, input).await,
        TagDeliveryStream => export.handle_tag_delivery_stream(caller, input).await,
        UntagDeliveryStream => export.handle_untag_delivery_stream(caller, input).await,
        ListTagsForDeliveryStream => {
            export
                .handle_list_tags_for_delivery_stream(caller, input)
                .await
        }
    };
    Ok(output?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_header_names_the_operation() {
        let headers = [("X-Amz-Target", "Firehose_20150804.PutRecordBatch")];
        assert_eq!(resolve("POST", &headers).unwrap(), PutRecordBatch);
        assert_eq!(PutRecordBatch.name(), "PutRecordBatch");
        assert!(resolve("POST", &[("x-amz-target", "Firehose_20150804.Nope")]).is_err());
        assert!(resolve("GET", &headers).is_err());
        assert!(resolve("POST", &[]).is_err());
    }

    #[test]
    fn buffer_full_maps_to_503() {
        let e: ApiError = ExportError::ServiceUnavailable("Slow down.".into()).into();
        assert_eq!((e.status, e.code), (503, "ServiceUnavailableException"));
    }
}
