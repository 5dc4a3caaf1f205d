//! Distinguished names: the fields AWS IoT policy variables use, and an RFC 4514 string.

use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// Attribute types we know: dotted OID, RFC 4514 / OpenSSL short name, and the AWS name of
/// the `iot:Certificate.Subject.<Name>` policy variable (`None`: AWS has no variable for it).
const ATTRIBUTES: &[(&str, &str, Option<&str>)] = &[
    ("2.5.4.3", "CN", Some("CommonName")),
    ("2.5.4.4", "SN", Some("Surname")),
    ("2.5.4.5", "serialNumber", Some("SerialNumber")),
    ("2.5.4.6", "C", Some("Country")),
    ("2.5.4.7", "L", Some("Locality")),
    ("2.5.4.8", "ST", Some("State")),
    ("2.5.4.9", "STREET", None),
    ("2.5.4.10", "O", Some("Organization")),
    ("2.5.4.11", "OU", Some("OrganizationalUnit")),
    ("2.5.4.12", "title", Some("Title")),
    ("2.5.4.42", "GN", Some("GivenName")),
    ("2.5.4.43", "initials", Some("Initials")),
    (
        "2.5.4.44",
        "generationQualifier",
        Some("GenerationQualifier"),
    ),
    (
        "2.5.4.46",
        "dnQualifier",
        Some("DistinguishedNameQualifier"),
    ),
    ("2.5.4.65", "pseudonym", Some("Pseudonym")),
    ("0.9.2342.19200300.100.1.1", "UID", None),
    ("0.9.2342.19200300.100.1.25", "DC", None),
    ("1.2.840.113549.1.9.1", "emailAddress", None),
];

fn lookup(oid: &str) -> Option<&'static (&'static str, &'static str, Option<&'static str>)> {
    ATTRIBUTES.iter().find(|(dotted, _, _)| *dotted == oid)
}

/// The dotted OID of the attribute AWS calls `aws_name` ("CommonName", "Organization", ...).
pub(crate) fn oid_of_aws_name(aws_name: &str) -> Option<&'static str> {
    ATTRIBUTES
        .iter()
        .find(|(_, _, aws)| *aws == Some(aws_name))
        .map(|(dotted, _, _)| *dotted)
}

/// The attributes AWS names, in certificate order; repeated attributes (two OUs) stay repeated.
pub(crate) fn aws_fields(name: &X509Name<'_>) -> Vec<(String, String)> {
    name.iter_attributes()
        .filter_map(|attr| {
            let (_, _, aws) = lookup(&attr.attr_type().to_id_string())?;
            Some(((*aws)?.to_string(), attribute_text(attr)?))
        })
        .collect()
}

/// The name as RFC 4514 writes it: last RDN first, `,` between RDNs, `+` inside one.
/// Unknown attribute types use their dotted OID; undecodable values are `#` and hex.
pub(crate) fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter()
        .map(|rdn| {
            rdn.iter()
                .map(|attr| {
                    let oid = attr.attr_type().to_id_string();
                    let key = lookup(&oid).map_or(oid.clone(), |(_, short, _)| short.to_string());
                    let value = match attribute_text(attr) {
                        Some(text) => escape(&text),
                        None => format!("#{}", hex::encode(attr.attr_value().data)),
                    };
                    format!("{key}={value}")
                })
                .collect::<Vec<_>>()
                .join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// The first CommonName, if any.
pub(crate) fn common_name(name: &X509Name<'_>) -> Option<String> {
    name.iter_common_name().next().and_then(attribute_text)
}

/// Decodes the string types certificates use; `None` for anything else.
fn attribute_text(attr: &AttributeTypeAndValue<'_>) -> Option<String> {
    if let Ok(text) = attr.as_str() {
        return Some(text.to_string());
    }
    let data = attr.attr_value().data;
    match attr.attr_value().tag() {
        Tag::BmpString => {
            let units: Vec<u16> = data
                .chunks_exact(2)
                .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
                .collect();
            (data.len() % 2 == 0)
                .then(|| String::from_utf16(&units).ok())
                .flatten()
        }
        Tag::UniversalString => {
            if data.len() % 4 != 0 {
                return None;
            }
            data.chunks_exact(4)
                .map(|quad| {
                    char::from_u32(u32::from_be_bytes([quad[0], quad[1], quad[2], quad[3]]))
                })
                .collect()
        }
        // T.61 in practice carries Latin-1; read it as such unless it is valid UTF-8.
        Tag::T61String => Some(match std::str::from_utf8(data) {
            Ok(text) => text.to_string(),
            Err(_) => data.iter().map(|&b| char::from(b)).collect(),
        }),
        _ => None,
    }
}

/// RFC 4514 section 2.4 escaping.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_rfc4514_specials() {
        assert_eq!(escape("a,b+c"), "a\\,b\\+c");
        assert_eq!(escape("#x"), "\\#x");
        assert_eq!(escape(" pad "), "\\ pad\\ ");
        assert_eq!(
            escape("Fleet \"Ward\" <x>;"),
            "Fleet \\\"Ward\\\" \\<x\\>\\;"
        );
    }
}
