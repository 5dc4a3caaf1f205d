//! Reading and writing a property block: a Variable Byte Integer length, then
//! identifier/value pairs (MQTT 5 §2.2.2).

use std::num::{NonZeroU16, NonZeroU32};

use bytes::BufMut;

use super::{Context, Properties, PropertyId};
use crate::error::{DecodeError, EncodeError};
use crate::topic::validate_topic_name;
use crate::types::{PayloadFormat, QoS};
use crate::wire::{MAX_VARINT, Reader, bin_len, put_prefixed, put_varint, str_len, varint_len};

use PropertyId as P;

/// Reads a property block, checking that each property is allowed in `context`, appears
/// no more often than allowed, and has a value the spec allows.
pub(crate) fn decode(r: &mut Reader<'_>, context: Context) -> Result<Properties, DecodeError> {
    let len = r.varint()?;
    let mut r = r.sub(len as usize)?;
    let mut props = Properties::default();
    let mut seen = 0u64;
    while !r.is_empty() {
        // Identifiers are Variable Byte Integers, all one byte long in MQTT 5 (§2.2.2.2).
        let raw = r.varint()?;
        let id = PropertyId::from_u32(raw).ok_or(DecodeError::UnknownProperty(raw))?;
        if !context.allows(id) {
            return Err(DecodeError::PropertyNotAllowed {
                property: id,
                context: context.name(),
            });
        }
        let bit = 1u64 << (id as u8);
        if seen & bit != 0 && !id.repeatable(context) {
            return Err(DecodeError::DuplicateProperty(id));
        }
        seen |= bit;
        read_value(&mut r, id, &mut props)?;
    }
    if props.authentication_data.is_some() && props.authentication_method.is_none() {
        return Err(DecodeError::ProtocolError(
            "Authentication Data without an Authentication Method",
        ));
    }
    Ok(props)
}

fn read_value(r: &mut Reader<'_>, id: PropertyId, p: &mut Properties) -> Result<(), DecodeError> {
    let invalid = DecodeError::InvalidPropertyValue(id);
    match id {
        P::PayloadFormatIndicator => {
            p.payload_format_indicator = Some(match r.u8()? {
                0 => PayloadFormat::Unspecified,
                1 => PayloadFormat::Utf8,
                _ => return Err(invalid),
            })
        }
        P::MessageExpiryInterval => p.message_expiry_interval = Some(r.u32()?),
        P::ContentType => p.content_type = Some(r.string()?),
        P::ResponseTopic => {
            let topic = r.str()?;
            validate_topic_name(topic).map_err(|_| invalid)?;
            p.response_topic = Some(topic.to_owned());
        }
        P::CorrelationData => p.correlation_data = Some(r.binary()?),
        P::SubscriptionIdentifier => {
            // 0 is a Protocol Error (§3.3.2.3.8).
            let value = NonZeroU32::new(r.varint()?).ok_or(invalid)?;
            p.subscription_identifiers.push(value);
        }
        P::SessionExpiryInterval => p.session_expiry_interval = Some(r.u32()?),
        P::AssignedClientIdentifier => p.assigned_client_identifier = Some(r.string()?),
        P::ServerKeepAlive => p.server_keep_alive = Some(r.u16()?),
        P::AuthenticationMethod => p.authentication_method = Some(r.string()?),
        P::AuthenticationData => p.authentication_data = Some(r.binary()?),
        P::RequestProblemInformation => p.request_problem_information = Some(read_bool(r, id)?),
        P::WillDelayInterval => p.will_delay_interval = Some(r.u32()?),
        P::RequestResponseInformation => p.request_response_information = Some(read_bool(r, id)?),
        P::ResponseInformation => p.response_information = Some(r.string()?),
        P::ServerReference => p.server_reference = Some(r.string()?),
        P::ReasonString => p.reason_string = Some(r.string()?),
        P::ReceiveMaximum => p.receive_maximum = Some(NonZeroU16::new(r.u16()?).ok_or(invalid)?),
        P::TopicAliasMaximum => p.topic_alias_maximum = Some(r.u16()?),
        P::TopicAlias => p.topic_alias = Some(NonZeroU16::new(r.u16()?).ok_or(invalid)?),
        P::MaximumQoS => {
            // Only 0 or 1: a server that supports QoS 2 leaves the property out (§3.2.2.3.4).
            p.maximum_qos = Some(match r.u8()? {
                0 => QoS::AtMostOnce,
                1 => QoS::AtLeastOnce,
                _ => return Err(invalid),
            })
        }
        P::RetainAvailable => p.retain_available = Some(read_bool(r, id)?),
        P::UserProperty => {
            let name = r.string()?;
            let value = r.string()?;
            p.user_properties.push((name, value));
        }
        P::MaximumPacketSize => {
            p.maximum_packet_size = Some(NonZeroU32::new(r.u32()?).ok_or(invalid)?)
        }
        P::WildcardSubscriptionAvailable => {
            p.wildcard_subscription_available = Some(read_bool(r, id)?)
        }
        P::SubscriptionIdentifierAvailable => {
            p.subscription_identifier_available = Some(read_bool(r, id)?)
        }
        P::SharedSubscriptionAvailable => p.shared_subscription_available = Some(read_bool(r, id)?),
    }
    Ok(())
}

/// The one-byte properties that are booleans: any value but 0 or 1 is a Protocol Error.
fn read_bool(r: &mut Reader<'_>, id: PropertyId) -> Result<bool, DecodeError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(DecodeError::InvalidPropertyValue(id)),
    }
}

/// A property value as it goes on the wire.
enum Value<'a> {
    Byte(u8),
    U16(u16),
    U32(u32),
    Varint(u32),
    Str(&'a str),
    Bin(&'a [u8]),
    Pair(&'a str, &'a str),
}

/// Calls `f` with every property that is set, in identifier order (user properties in
/// their own order).
fn for_each<E>(
    p: &Properties,
    mut f: impl FnMut(PropertyId, Value<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let byte = |b: bool| Value::Byte(u8::from(b));
    if let Some(v) = p.payload_format_indicator {
        f(P::PayloadFormatIndicator, Value::Byte(v as u8))?;
    }
    if let Some(v) = p.message_expiry_interval {
        f(P::MessageExpiryInterval, Value::U32(v))?;
    }
    if let Some(v) = &p.content_type {
        f(P::ContentType, Value::Str(v))?;
    }
    if let Some(v) = &p.response_topic {
        f(P::ResponseTopic, Value::Str(v))?;
    }
    if let Some(v) = &p.correlation_data {
        f(P::CorrelationData, Value::Bin(v))?;
    }
    for v in &p.subscription_identifiers {
        f(P::SubscriptionIdentifier, Value::Varint(v.get()))?;
    }
    if let Some(v) = p.session_expiry_interval {
        f(P::SessionExpiryInterval, Value::U32(v))?;
    }
    if let Some(v) = &p.assigned_client_identifier {
        f(P::AssignedClientIdentifier, Value::Str(v))?;
    }
    if let Some(v) = p.server_keep_alive {
        f(P::ServerKeepAlive, Value::U16(v))?;
    }
    if let Some(v) = &p.authentication_method {
        f(P::AuthenticationMethod, Value::Str(v))?;
    }
    if let Some(v) = &p.authentication_data {
        f(P::AuthenticationData, Value::Bin(v))?;
    }
    if let Some(v) = p.request_problem_information {
        f(P::RequestProblemInformation, byte(v))?;
    }
    if let Some(v) = p.will_delay_interval {
        f(P::WillDelayInterval, Value::U32(v))?;
    }
    if let Some(v) = p.request_response_information {
        f(P::RequestResponseInformation, byte(v))?;
    }
    if let Some(v) = &p.response_information {
        f(P::ResponseInformation, Value::Str(v))?;
    }
    if let Some(v) = &p.server_reference {
        f(P::ServerReference, Value::Str(v))?;
    }
    if let Some(v) = &p.reason_string {
        f(P::ReasonString, Value::Str(v))?;
    }
    if let Some(v) = p.receive_maximum {
        f(P::ReceiveMaximum, Value::U16(v.get()))?;
    }
    if let Some(v) = p.topic_alias_maximum {
        f(P::TopicAliasMaximum, Value::U16(v))?;
    }
    if let Some(v) = p.topic_alias {
        f(P::TopicAlias, Value::U16(v.get()))?;
    }
    if let Some(v) = p.maximum_qos {
        f(P::MaximumQoS, Value::Byte(v as u8))?;
    }
    if let Some(v) = p.retain_available {
        f(P::RetainAvailable, byte(v))?;
    }
    for (name, value) in &p.user_properties {
        f(P::UserProperty, Value::Pair(name, value))?;
    }
    if let Some(v) = p.maximum_packet_size {
        f(P::MaximumPacketSize, Value::U32(v.get()))?;
    }
    if let Some(v) = p.wildcard_subscription_available {
        f(P::WildcardSubscriptionAvailable, byte(v))?;
    }
    if let Some(v) = p.subscription_identifier_available {
        f(P::SubscriptionIdentifierAvailable, byte(v))?;
    }
    if let Some(v) = p.shared_subscription_available {
        f(P::SharedSubscriptionAvailable, byte(v))?;
    }
    Ok(())
}

/// Encoded length of a value, checking strings and binary fields.
fn value_len(value: &Value<'_>) -> Result<usize, EncodeError> {
    Ok(match *value {
        Value::Byte(_) => 1,
        Value::U16(_) => 2,
        Value::U32(_) => 4,
        Value::Varint(v) => varint_len(v as usize),
        Value::Str(s) => str_len(s)?,
        Value::Bin(b) => bin_len(b)?,
        Value::Pair(k, v) => str_len(k)? + str_len(v)?,
    })
}

/// Checks `p` for `context` with the rules [`decode`] applies, and returns the length of
/// the whole block, its length prefix included.
pub(crate) fn encoded_len(p: &Properties, context: Context) -> Result<usize, EncodeError> {
    let mut len = 0;
    let mut seen = 0u64;
    for_each(p, |id, value| {
        let invalid = EncodeError::InvalidPropertyValue(id);
        if !context.allows(id) {
            return Err(EncodeError::PropertyNotAllowed {
                property: id,
                context: context.name(),
            });
        }
        let bit = 1u64 << (id as u8);
        if seen & bit != 0 && !id.repeatable(context) {
            return Err(invalid);
        }
        seen |= bit;
        match (id, &value) {
            (P::SubscriptionIdentifier, Value::Varint(v)) if *v > MAX_VARINT => {
                return Err(invalid);
            }
            (P::MaximumQoS, Value::Byte(q)) if *q > 1 => return Err(invalid),
            (P::ResponseTopic, Value::Str(t)) if validate_topic_name(t).is_err() => {
                return Err(invalid);
            }
            _ => {}
        }
        len += 1 + value_len(&value)?;
        Ok(())
    })?;
    if p.authentication_data.is_some() && p.authentication_method.is_none() {
        return Err(EncodeError::InvalidPropertyValue(P::AuthenticationData));
    }
    Ok(varint_len(len) + len)
}

/// Writes the block that [`encoded_len`] accepted.
pub(crate) fn write(p: &Properties, out: &mut impl BufMut) {
    let mut len = 0;
    let _ = for_each(p, |_, value| {
        len += 1 + value_len(&value).unwrap_or(0);
        Ok::<(), ()>(())
    });
    put_varint(out, len);
    let _ = for_each(p, |id, value| {
        out.put_u8(id as u8);
        match value {
            Value::Byte(b) => out.put_u8(b),
            Value::U16(v) => out.put_u16(v),
            Value::U32(v) => out.put_u32(v),
            Value::Varint(v) => put_varint(out, v as usize),
            Value::Str(s) => put_prefixed(out, s.as_bytes()),
            Value::Bin(b) => put_prefixed(out, b),
            Value::Pair(k, v) => {
                put_prefixed(out, k.as_bytes());
                put_prefixed(out, v.as_bytes());
            }
        }
        Ok::<(), ()>(())
    });
}
