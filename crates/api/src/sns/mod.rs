//! The `sns` (2010-03-31) surface in the AWS query protocol: form-encoded `Action=...`
//! requests, XML answers and `ErrorResponse` errors. Besides SigV4-signed calls it serves
//! what SNS serves without a signature: the SubscribeURL and UnsubscribeURL of messages (GET
//! `/?Action=ConfirmSubscription|Unsubscribe...&Token=...`) and the signing certificate.

mod form;
mod xml;

use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode};
use fleetward_events::{Events, PublishInput, SnsError, SubscriptionSummary};
use fleetward_model::Caller;
use fleetward_sigv4::{RequestParts, SigV4Error};

use crate::auth::authenticate;
use crate::error::ApiError;
use crate::pipeline::AppState;
use form::Params;
use xml::Body as Xml;

/// The operations Fleetward serves, by their AWS names.
const ACTIONS: &[&str] = &[
    "CreateTopic",
    "DeleteTopic",
    "ListTopics",
    "GetTopicAttributes",
    "SetTopicAttributes",
    "Subscribe",
    "ConfirmSubscription",
    "Unsubscribe",
    "ListSubscriptions",
    "ListSubscriptionsByTopic",
    "GetSubscriptionAttributes",
    "SetSubscriptionAttributes",
    "Publish",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

/// Answers the request if it is for SNS; `None` lets the pipeline handle it.
pub async fn try_serve(state: &AppState, request: &RequestParts<'_>) -> Option<Response<Body>> {
    let started = Instant::now();
    if request.method == "GET"
        && let Some(name) = request.raw_path.strip_prefix('/')
        && name.starts_with("SimpleNotificationService-")
    {
        return Some(certificate(&state.events, name));
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    let (action, result) = match fleetward_sigv4::parse(request) {
        Ok(auth) if auth.service == "sns" => match authenticate(state, request).await {
            Ok(who) => {
                let params = Params::parse(request.raw_query, request.body);
                let action = params.get("Action").and_then(known);
                let result = match action {
                    Some(action) => run(&state.events, &who.caller, action, &params).await,
                    None => Err(unknown_action(&params)),
                };
                (action.unwrap_or("unknown"), result.map_err(Failure::Sns))
            }
            Err(e) => ("unauthenticated", Err(Failure::Auth(e))),
        },
        Err(SigV4Error::MissingAuthenticationToken) if request.raw_path == "/" => {
            let params = Params::parse(request.raw_query, request.body);
            let action = public_action(&params)?;
            (
                action,
                run_public(&state.events, action, &params)
                    .await
                    .map_err(Failure::Sns),
            )
        }
        _ => return None,
    };
    let (status, body) = match result {
        Ok(result) => (200, xml::response(action, result.as_deref(), &request_id)),
        Err(Failure::Sns(e)) => xml::sns_error(&e, &request_id),
        Err(Failure::Auth(e)) => auth_error(&e, &request_id),
    };
    metrics::counter!(
        "fleetward_api_requests_total",
        "service" => "sns",
        "operation" => action,
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!("fleetward_api_request_seconds", "service" => "sns", "operation" => action)
        .record(started.elapsed().as_secs_f64());
    Some(xml_response(status, body, &request_id))
}

enum Failure {
    Sns(SnsError),
    Auth(ApiError),
}

fn known(action: &str) -> Option<&'static str> {
    ACTIONS.iter().copied().find(|a| *a == action)
}

fn unknown_action(params: &Params) -> SnsError {
    SnsError::InvalidParameter(match params.get("Action") {
        Some(action) => format!("Could not find operation {action} for version 2010-03-31"),
        None => "Invalid parameter: Action".to_string(),
    })
}

/// The unsigned requests SNS accepts: the SubscribeURL and the UnsubscribeURL (ours carries
/// a token, so a subscription ARN alone cannot remove a subscription).
fn public_action(params: &Params) -> Option<&'static str> {
    match params.get("Action")? {
        "ConfirmSubscription" => Some("ConfirmSubscription"),
        "Unsubscribe" if params.get("Token").is_some() => Some("Unsubscribe"),
        _ => None,
    }
}

async fn run_public(events: &Events, action: &str, p: &Params) -> Result<Option<String>, SnsError> {
    let mut out = Xml::default();
    if action == "ConfirmSubscription" {
        let arn = events
            .confirm_subscription(None, p.required("TopicArn")?, p.required("Token")?, None)
            .await?;
        out.element("SubscriptionArn", &arn);
        Ok(Some(out.into_string()))
    } else {
        events
            .unsubscribe_with_token(p.required("SubscriptionArn")?, p.required("Token")?)
            .await?;
        Ok(None)
    }
}

/// Runs one signed operation; returns the content of its Result element, if it has one.
async fn run(
    events: &Events,
    caller: &Caller,
    action: &str,
    p: &Params,
) -> Result<Option<String>, SnsError> {
    let mut out = Xml::default();
    match action {
        "CreateTopic" => {
            if p.get("DataProtectionPolicy").is_some() {
                return Err(SnsError::invalid_because(
                    "DataProtectionPolicy",
                    "Fleetward does not support message data protection",
                ));
            }
            let arn = events
                .create_topic(
                    caller,
                    p.required("Name")?,
                    &p.map("Attributes")?,
                    &p.tags("Tags")?,
                )
                .await?;
            out.element("TopicArn", &arn);
        }
        "DeleteTopic" => {
            events.delete_topic(caller, p.required("TopicArn")?).await?;
            return Ok(None);
        }
        "ListTopics" => {
            let (arns, next) = events.list_topics(caller, p.get("NextToken"))?;
            out.open("Topics");
            for arn in &arns {
                out.open("member").element("TopicArn", arn).close("member");
            }
            out.close("Topics");
            if let Some(next) = next {
                out.element("NextToken", &next);
            }
        }
        "GetTopicAttributes" => {
            let attributes = events.get_topic_attributes(caller, p.required("TopicArn")?)?;
            out.map("Attributes", &attributes);
        }
        "SetTopicAttributes" => {
            events
                .set_topic_attributes(
                    caller,
                    p.required("TopicArn")?,
                    p.required("AttributeName")?,
                    p.get("AttributeValue"),
                )
                .await?;
            return Ok(None);
        }
        "Subscribe" => {
            let arn = events
                .subscribe(
                    caller,
                    p.required("TopicArn")?,
                    p.required("Protocol")?,
                    p.get("Endpoint"),
                    &p.map("Attributes")?,
                    p.boolean("ReturnSubscriptionArn")?.unwrap_or(false),
                )
                .await?;
            out.element("SubscriptionArn", &arn);
        }
        "ConfirmSubscription" => {
            let arn = events
                .confirm_subscription(
                    Some(caller),
                    p.required("TopicArn")?,
                    p.required("Token")?,
                    p.get("AuthenticateOnUnsubscribe"),
                )
                .await?;
            out.element("SubscriptionArn", &arn);
        }
        "Unsubscribe" => {
            events
                .unsubscribe(caller, p.required("SubscriptionArn")?)
                .await?;
            return Ok(None);
        }
        "ListSubscriptions" => {
            let (rows, next) = events.list_subscriptions(caller, p.get("NextToken"))?;
            subscriptions(&mut out, &rows, next);
        }
        "ListSubscriptionsByTopic" => {
            let (rows, next) = events.list_subscriptions_by_topic(
                caller,
                p.required("TopicArn")?,
                p.get("NextToken"),
            )?;
            subscriptions(&mut out, &rows, next);
        }
        "GetSubscriptionAttributes" => {
            let attributes =
                events.get_subscription_attributes(caller, p.required("SubscriptionArn")?)?;
            out.map("Attributes", &attributes);
        }
        "SetSubscriptionAttributes" => {
            events
                .set_subscription_attributes(
                    caller,
                    p.required("SubscriptionArn")?,
                    p.required("AttributeName")?,
                    p.get("AttributeValue"),
                )
                .await?;
            return Ok(None);
        }
        "Publish" => {
            let input = PublishInput {
                topic_arn: p.get("TopicArn").map(str::to_string),
                target_arn: p.get("TargetArn").map(str::to_string),
                phone_number: p.get("PhoneNumber").map(str::to_string),
                message: Some(p.required("Message")?.to_string()),
                subject: p.get("Subject").map(str::to_string),
                message_structure: p.get("MessageStructure").map(str::to_string),
                attributes: p.message_attributes()?,
                message_group_id: p.get("MessageGroupId").map(str::to_string),
                message_deduplication_id: p.get("MessageDeduplicationId").map(str::to_string),
            };
            let id = events.publish(caller, input).await?;
            out.element("MessageId", &id);
        }
        "TagResource" => {
            events
                .tag_resource(caller, p.required("ResourceArn")?, &p.tags("Tags")?)
                .await?;
        }
        "UntagResource" => {
            events
                .untag_resource(caller, p.required("ResourceArn")?, &p.strings("TagKeys")?)
                .await?;
        }
        "ListTagsForResource" => {
            let tags = events.list_tags_for_resource(caller, p.required("ResourceArn")?)?;
            out.open("Tags");
            for (k, v) in &tags {
                out.open("member")
                    .element("Key", k)
                    .element("Value", v)
                    .close("member");
            }
            out.close("Tags");
        }
        other => {
            return Err(SnsError::InvalidParameter(format!(
                "Could not find operation {other} for version 2010-03-31"
            )));
        }
    }
    Ok(Some(out.into_string()))
}

fn subscriptions(out: &mut Xml, rows: &[SubscriptionSummary], next: Option<String>) {
    out.open("Subscriptions");
    for s in rows {
        out.open("member")
            .element("TopicArn", &s.topic_arn)
            .element("Protocol", &s.protocol)
            .element("SubscriptionArn", &s.subscription_arn)
            .element("Owner", &s.owner)
            .element("Endpoint", &s.endpoint)
            .close("member");
    }
    out.close("Subscriptions");
    if let Some(next) = next {
        out.element("NextToken", &next);
    }
}

/// SigV4 failures under the query protocol's codes.
fn auth_error(e: &ApiError, request_id: &str) -> (u16, String) {
    let code = match e.code {
        "MissingAuthenticationTokenException" => "MissingAuthenticationToken",
        "IncompleteSignatureException" => "IncompleteSignature",
        "UnrecognizedClientException" => "InvalidClientTokenId",
        "InvalidSignatureException" => "SignatureDoesNotMatch",
        "InternalException" => "InternalError",
        other => other,
    };
    let fault = if e.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    (e.status, xml::error(fault, code, &e.message, request_id))
}

fn certificate(events: &Events, name: &str) -> Response<Body> {
    let mut response = match events.signing_certificate(name) {
        Some(pem) => Response::new(Body::from(pem.to_string())),
        None => {
            let mut r = Response::new(Body::from("Not Found"));
            *r.status_mut() = StatusCode::NOT_FOUND;
            return r;
        }
    };
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/x-x509-ca-cert"),
    );
    response
}

fn xml_response(status: u16, body: String, request_id: &str) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("text/xml"));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", value);
    }
    response
}
