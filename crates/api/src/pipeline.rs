//! The one request pipeline: health and metrics, then SigV4, then the service named in the
//! credential scope, then the operation, with every error mapped by [`ApiError`].

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderValue, Request, Response, StatusCode};
use fleetward_hub::Hub;
use fleetward_model::Clock;
use fleetward_registry::Registry;
use fleetward_sigv4::RequestParts;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::auth::authenticate;
use crate::error::ApiError;
use crate::iot;
use crate::keys::KeyCache;
use crate::securityhub;
use crate::wire::build_input;

/// Largest request body read at all; BatchImportFindings has its own 6 MB limit below it.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Security Hub's request size limit for BatchImportFindings (spec/security-hub.md 2.1).
const MAX_IMPORT_BYTES: usize = 6 * 1024 * 1024;
/// How long a client may take to send its request body.
const BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    pub registry: Arc<Registry>,
    /// Device Defender audit (the `iot` audit operations).
    pub audit: Arc<fleetward_audit::Audit>,
    /// Device Defender detect (the `iot` detect operations).
    pub detect: Arc<fleetward_detect::Detect>,
    /// Device Defender mitigation actions (the `iot` mitigation operations).
    pub mitigate: Arc<fleetward_mitigate::Mitigate>,
    /// Notification topics (the `sns` API).
    pub events: Arc<fleetward_events::Events>,
    /// Delivery streams (the `firehose` API).
    pub export: Arc<fleetward_export::Export>,
    pub keys: Arc<KeyCache>,
    pub clock: Arc<dyn Clock>,
    pub region: String,
    pub metrics: Option<PrometheusHandle>,
}

/// The API router: every path goes through [`handle`].
pub fn router(state: AppState) -> Router {
    Router::new().fallback(handle).with_state(state)
}

async fn handle(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request<Body>,
) -> Response<Body> {
    // The request runs to its end even if the client goes away meanwhile: a write stopped
    // half way (stored but not indexed, or an import group's writer dropped with the other
    // imports of its group) would leave the hub inconsistent. A panic becomes a 500.
    let mut response = match tokio::spawn(handle_request(state, request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(500, "InternalFailure", "The request processing has failed.")
            .into_response(),
    };
    // SDKs report this id (ResponseMetadata.RequestId); operators grep logs for it.
    let request_id = uuid::Uuid::new_v4().to_string();
    // SNS answers carry their request id in the XML body too, and set the header themselves.
    if !response.headers().contains_key("x-amzn-RequestId")
        && let Ok(value) = HeaderValue::from_str(&request_id)
    {
        response.headers_mut().insert("x-amzn-RequestId", value);
    }
    response
}

async fn handle_request(state: AppState, request: Request<Body>) -> Response<Body> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    if parts.method == "GET" && path == "/health" {
        return json_response(StatusCode::OK, r#"{"status":"ok"}"#.to_string());
    }
    if parts.method == "GET" && path == "/metrics" {
        let text = state
            .metrics
            .as_ref()
            .map(|h| h.render())
            .unwrap_or_default();
        let mut response = Response::new(Body::from(text));
        response.headers_mut().insert(
            "content-type",
            HeaderValue::from_static("text/plain; version=0.0.4"),
        );
        return response;
    }
    // A client that stops sending must not hold a connection (or shutdown) forever.
    let read = tokio::time::timeout(BODY_READ_TIMEOUT, to_bytes(body, MAX_BODY_BYTES)).await;
    let body = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            return ApiError::new(
                413,
                "RequestEntityTooLargeException",
                "Request body too large.",
            )
            .into_response();
        }
        Err(_) => {
            return ApiError::new(
                408,
                "RequestTimeoutException",
                "The request body was not received in time.",
            )
            .into_response();
        }
    };
    let mut headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(name, value)| value.to_str().ok().map(|v| (name.as_str(), v)))
        .collect();
    // HTTP/2 carries the host in the authority, not a header; clients sign it as `host`.
    let authority = parts.uri.authority().map(|a| a.as_str().to_string());
    if !parts.headers.contains_key("host")
        && let Some(authority) = authority.as_deref()
    {
        headers.push(("host", authority));
    }
    let request = RequestParts {
        method: parts.method.as_str(),
        raw_path: &path,
        raw_query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        body: &body,
    };
    // The query protocol (XML) and SNS's unsigned URLs are answered on their own path.
    if let Some(response) = crate::sns::try_serve(&state, &request).await {
        return response;
    }
    let (service, operation, result) = serve_signed(&state, &request).await;
    let status = match &result {
        Ok(_) => 200,
        Err(e) => e.status,
    };
    metrics::counter!(
        "fleetward_api_requests_total",
        "service" => service,
        "operation" => operation,
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!("fleetward_api_request_seconds", "service" => service, "operation" => operation)
        .record(started.elapsed().as_secs_f64());
    match result {
        Ok(output) => json_response(StatusCode::OK, output.to_string()),
        Err(e) => e.into_response(),
    }
}

/// Authenticates and runs one request; returns the service and operation names for metrics.
async fn serve_signed(
    state: &AppState,
    request: &RequestParts<'_>,
) -> (
    &'static str,
    &'static str,
    Result<serde_json::Value, ApiError>,
) {
    let authenticated = match authenticate(state, request).await {
        Ok(a) => a,
        Err(e) => return ("unauthenticated", "none", Err(e)),
    };
    match authenticated.service.as_str() {
        "securityhub" => {
            let Some((operation, labels, query)) =
                securityhub::resolve(request.method, request.raw_path)
            else {
                return (
                    "securityhub",
                    "unknown",
                    Err(ApiError::unknown_operation(format!(
                        "Fleetward's securityhub API has no operation {} {}.",
                        request.method, request.raw_path
                    ))),
                );
            };
            if operation == securityhub::Operation::BatchImportFindings
                && request.body.len() > MAX_IMPORT_BYTES
            {
                return (
                    "securityhub",
                    operation.name(),
                    Err(ApiError::invalid_input(
                        "The request exceeds the 6 MB limit of BatchImportFindings.",
                    )),
                );
            }
            let result = match build_input(
                request.body,
                labels,
                request.raw_query,
                request.headers,
                query,
            ) {
                Ok(input) => {
                    securityhub::dispatch(&state.hub, &authenticated.caller, operation, input).await
                }
                Err(e) => Err(e),
            };
            ("securityhub", operation.name(), result)
        }
        "firehose" => match crate::firehose::resolve(request.method, request.headers) {
            Ok(operation) => {
                let result = crate::firehose::dispatch(
                    &state.export,
                    &authenticated.caller,
                    operation,
                    request.body,
                )
                .await;
                ("firehose", operation.name(), result)
            }
            Err(e) => ("firehose", "unknown", Err(e)),
        },
        "iot" => {
            // The Device Defender and rules subsystems each route their own operations; an
            // operation none of them knows goes to the registry below.
            macro_rules! iot_subsystem {
                ($module:ident, $service:expr) => {
                    if let Some((operation, labels, members)) =
                        iot::$module::resolve(request.method, request.raw_path)
                    {
                        let result = match build_input(
                            request.body,
                            labels,
                            request.raw_query,
                            request.headers,
                            members,
                        ) {
                            Ok(input) => {
                                iot::$module::dispatch(
                                    $service,
                                    &authenticated.caller,
                                    operation,
                                    input,
                                )
                                .await
                            }
                            Err(e) => Err(e.in_iot_shape()),
                        };
                        return ("iot", operation.name(), result);
                    }
                };
            }
            iot_subsystem!(audit, &state.audit);
            iot_subsystem!(rules, &state.export);
            iot_subsystem!(mitigation, &state.mitigate);
            iot_subsystem!(detect, &state.detect);
            let Some((operation, labels, members)) = iot::resolve(request.method, request.raw_path)
            else {
                return (
                    "iot",
                    "unknown",
                    Err(ApiError::unknown_operation(format!(
                        "Fleetward's iot API has no operation {} {}.",
                        request.method, request.raw_path
                    ))),
                );
            };
            let result = match build_input(
                request.body,
                labels,
                request.raw_query,
                request.headers,
                members,
            ) {
                Ok(input) => {
                    iot::dispatch(&state.registry, &authenticated.caller, operation, input).await
                }
                Err(e) => Err(e.in_iot_shape()),
            };
            ("iot", operation.name(), result)
        }
        other => (
            "unknown",
            "none",
            Err(ApiError::new(
                400,
                "UnknownServiceException",
                format!("Fleetward does not serve the '{other}' service at this endpoint."),
            )),
        ),
    }
}

fn json_response(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
}
