//! Step 1 of verification: reading the signing information of a request, before any
//! secret is known, from the `Authorization` header ([`header`]) or from a presigned URL's
//! query string ([`presigned`]).
//!
//! Which one AWS reads is decided by two things only: an `Authorization` header that is not
//! blank, and an `X-Amz-Algorithm` query parameter. Error messages follow the wording AWS
//! services return for the same mistakes.

mod header;
mod presigned;

pub(crate) use presigned::SIGNATURE_PARAM;

use crate::crypto::SCOPE_TERMINATOR;
use crate::{Authorization, RequestParts, SigV4Error};

/// Step 1 of verification: parses the signing information of a request.
///
/// Needs no secret, so the caller can then look up the secret by
/// [`Authorization::access_key_id`] and route by [`Authorization::service`].
/// A request with neither an `Authorization` header nor an `X-Amz-Algorithm` query
/// parameter is [`SigV4Error::MissingAuthenticationToken`]; one with both is
/// [`SigV4Error::HeaderAndQueryAuthentication`]; a malformed one is
/// [`SigV4Error::IncompleteSignature`].
pub fn parse(req: &RequestParts<'_>) -> Result<Authorization, SigV4Error> {
    let has_header = header::first_header(req).is_some();
    let has_query = presigned::is_presigned(req.raw_query);
    match (has_header, has_query) {
        (true, true) => Err(SigV4Error::HeaderAndQueryAuthentication),
        (true, false) => header::parse(req),
        (false, true) => presigned::parse(req.raw_query),
        (false, false) => Err(SigV4Error::MissingAuthenticationToken),
    }
}

fn incomplete(message: String) -> SigV4Error {
    SigV4Error::IncompleteSignature(message)
}

/// Without the host in the signature, it could be replayed to another host.
fn require_signed_host(signed_headers: &[String]) -> Result<(), SigV4Error> {
    if signed_headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case("host"))
    {
        Ok(())
    } else {
        Err(incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ))
    }
}

/// `AKID/YYYYMMDD/region/service/aws4_request`, the `Credential` of either form.
struct Scope<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
}

impl<'a> Scope<'a> {
    fn parse(credential: &'a str) -> Result<Self, SigV4Error> {
        let parts: Vec<&str> = credential.split('/').collect();
        let [access_key_id, date, region, service, terminator] = parts[..] else {
            return Err(bad_scope(credential));
        };
        if [access_key_id, date, region, service].contains(&"") {
            return Err(bad_scope(credential));
        }
        if terminator != SCOPE_TERMINATOR {
            return Err(incomplete(format!(
                "Credential should be scoped with a valid terminator: '{SCOPE_TERMINATOR}', \
                 not '{terminator}'."
            )));
        }
        Ok(Scope {
            access_key_id,
            date,
            region,
            service,
        })
    }
}

fn bad_scope(credential: &str) -> SigV4Error {
    incomplete(format!(
        "Credential must have exactly 5 slash-delimited elements, e.g. \
         keyid/date/region/service/term, got '{credential}'"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AK/20150830/r/s/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab";
    const QUERY: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20150830%2Fr%2Fs%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=cd";

    fn parse_with(headers: &[(&str, &str)], raw_query: &str) -> Result<Authorization, SigV4Error> {
        parse(&RequestParts {
            method: "GET",
            raw_path: "/",
            raw_query,
            headers,
            body: b"",
        })
    }

    #[test]
    fn the_form_is_chosen_by_header_and_algorithm_parameter() {
        let date = ("x-amz-date", "20150830T123600Z");
        let header = parse_with(&[("authorization", AUTH), date], "a=1").expect("header");
        assert_eq!(header.signature, "ab");
        let query = parse_with(&[date], QUERY).expect("query");
        assert_eq!(query.signature, "cd");
        // A blank Authorization header is no header, as for AWS.
        let blank = parse_with(&[("authorization", " ")], QUERY).expect("query");
        assert_eq!(blank.signature, "cd");

        assert_eq!(
            parse_with(&[("authorization", AUTH), date], QUERY),
            Err(SigV4Error::HeaderAndQueryAuthentication)
        );
        // Any X-Amz-Algorithm counts, even empty or malformed header.
        assert_eq!(
            parse_with(&[("authorization", "Bearer x")], "X-Amz-Algorithm"),
            Err(SigV4Error::HeaderAndQueryAuthentication)
        );
        // Without X-Amz-Algorithm other X-Amz-* parameters are not an attempt at signing.
        assert_eq!(
            parse_with(&[date], "X-Amz-Signature=cd&X-Amz-Credential=AK"),
            Err(SigV4Error::MissingAuthenticationToken)
        );
        assert_eq!(
            parse_with(&[], ""),
            Err(SigV4Error::MissingAuthenticationToken)
        );
    }
}
