//! The AWS IoT Core policy language: parse, validate, compile and evaluate IoT policies.
//! Pure: no I/O, no clock (the caller passes the time in the [`AuthContext`]).
//!
//! ```
//! use fleetward_policy::{Action, AuthContext, Effect, Policy, ThingContext, decide, topic_arn};
//!
//! let policy = Policy::parse(r#"{
//!   "Version": "2012-10-17",
//!   "Statement": [{
//!     "Effect": "Allow",
//!     "Action": "iot:Publish",
//!     "Resource": "arn:aws:iot:us-east-1:123456789012:topic/things/${iot:Connection.Thing.ThingName}/*"
//!   }]
//! }"#).unwrap();
//! let ctx = AuthContext {
//!     thing: Some(ThingContext { name: "t1", type_name: None, attributes: &[], is_attached: true }),
//!     ..AuthContext::new("us-east-1", "123456789012", 0)
//! };
//! let arn = topic_arn("us-east-1", "123456789012", "things/t1/temp");
//! assert_eq!(decide([&policy], Action::Publish, &arn, &ctx), Effect::Allowed);
//! ```
//!
//! # Semantics
//!
//! **Documents.** A JSON object with `Statement` (one object or a non-empty array) and
//! optional `Version` and `Id`. Statements have `Effect` (`Allow` | `Deny`, exact case), one
//! of `Action` / `NotAction`, one of `Resource` / `NotResource`, optional `Condition` and `Sid`.
//! Unknown elements, `Principal`, and documents over AWS's 2048 characters (counted without
//! whitespace) are rejected with a [`PolicyError`] for `MalformedPolicyException`.
//!
//! **Actions** are IAM-style and case-insensitive with `*` and `?`. Each statement is compiled
//! to a bitmask over the five [`Action`]s; `iot:RetainPublish` is a separate action (`iot:*Publish`
//! covers both). Evaluation never compares action strings.
//!
//! **Resources** are case-sensitive patterns where `*` matches any run of characters
//! (including `/` and `:`) and `?` exactly one; MQTT's `+` and `#` are ordinary characters,
//! so `topicfilter/a/+` only matches the filter `a/+` itself, as in AWS.
//!
//! **Policy variables** (`${iot:ClientId}`, `${iot:Connection.Thing.*}`, `${iot:Certificate.*}`,
//! `${iot:DomainName}`, `${aws:SourceIp}`, `${aws:CurrentTime}`, `${aws:EpochTime}`) work in
//! Resource and Condition values; `${*}`, `${?}`, `${$}` are the literal characters. A variable
//! with no value makes the resource pattern (or condition value) match nothing, so an Allow
//! does not apply and a Deny does not apply either (AWS: "access denied" for unresolved thing
//! variables). Evaluation compiles each string once into segments and resolves variables while
//! matching, without allocating.
//!
//! **Conditions** follow IAM: all operators and all keys must hold; several values for one key
//! are ORed (negated operators: none may match). An absent key makes a positive operator false
//! and a negated one (`StringNotEquals`, `NotIpAddress`, `ArnNotLike`, ...) true; `...IfExists`
//! makes any operator true on an absent key; `Null` tests presence. `ForAnyValue:` needs one
//! request value to match (false when there are none); `ForAllValues:` needs every request value
//! to match (true when there are none). Supported: `String[Not]Equals[IgnoreCase]`,
//! `String[Not]Like`, `Numeric*`, `Date*`, `Bool`, `[Not]IpAddress`, `Arn[Not]Equals`,
//! `Arn[Not]Like`, `Null`; anything else is a parse error.
//!
//! # Choices where AWS is unclear or silent
//!
//! - A missing `Version` means 2008-10-17 (IAM's rule): `${...}` is then literal text.
//! - Actions must be `*` or `iot:...`; `greengrass:...` is also accepted because Greengrass
//!   core policies are IoT policies. Other services are rejected. Unknown `iot:` actions are
//!   accepted (they just never match an MQTT request). Resources must be `*` or start `arn:`.
//! - Typed operators (numeric, date, bool, IP, `Null`) reject unparseable literal values at
//!   parse time; a value may instead be exactly one variable, parsed when deciding. A request
//!   value that does not parse as the operator's type does not match.
//! - Substituted values are always literal: a client id of `*` matches only `*`. Certificate
//!   variables additionally stay unresolved when the value holds `* $ + ? #` or exceeds 1024
//!   characters, and at most 5 values of a multi-valued attribute are visible (AWS's limits).
//! - `iot:Certificate.Subject.Country` is the first value, `.1` the second (AWS's example uses
//!   zero-based indexes after the bare name), `.List` all of them (multi-valued: conditions
//!   only, never substituted).
//! - A single-valued operator without `ForAnyValue:`/`ForAllValues:` on a multi-valued key
//!   (`iot:ConnectAttributes`, `....List`) holds when any value matches (negated: when none does).
//! - `ArnEquals`/`ArnLike` match the whole ARN like `StringLike` (`*` may cross `:`), not
//!   component by component.
//! - `StringEqualsIgnoreCase` folds case character by character (Unicode lowercase).
//! - `iot:Connection.Thing.IsAttached` is `false` when the connection has no thing at all.
//! - `iot:Domain` is accepted as an alias of AWS's `iot:DomainName`.
//! - Fleetward extensions: `iot:CleanSession`, `iot:KeepAlive`, `iot:Certificate.Validity.NotBefore`
//!   / `.NotAfter` and the `Locality` DN attribute. `iot:LastWillTopic` is the will topic's ARN.
//! - IPv4-mapped IPv6 source addresses are compared as IPv4.
//! - `${name, 'default'}` (IAM default values) is supported.
//! - Statements whose actions cover none of the five MQTT actions are validated and kept in
//!   the document text but play no part in decisions.
//! - `missingContextValues` lists the names (as written) of variables and condition keys that
//!   had no value while evaluating statements whose action matched.

mod action;
pub mod analysis;
mod arn;
mod condition;
mod context;
mod dates;
mod document;
mod error;
mod eval;
mod keys;
mod pattern;
mod value;

pub use action::Action;
pub use arn::{client_arn, topic_arn, topicfilter_arn, write_arn};
pub use context::{
    AltNameKind, AlternativeNames, AuthContext, CertificateContext, ConnectContext,
    DistinguishedName, DnAttribute, ThingContext,
};
pub use document::{MAX_DOCUMENT_CHARS, PolicyVersion};
pub use error::PolicyError;
pub use eval::{Effect, Explanation, Policy, decide, explain};
