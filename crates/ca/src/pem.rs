//! Reading exactly one PEM block, and writing PEM the one way we always write it.

use crate::error::CaError;

/// Decodes `input` as exactly one PEM block whose label is one of `labels`.
///
/// Whitespace around the block is allowed; text around it, a second block, a wrong label or
/// headers (`Proc-Type: ...`) are not, so what we store is exactly what was meant.
/// `what` names the object in client messages ("certificate"); `invalid` is the message for
/// anything that is not a clean PEM block.
pub(crate) fn decode_one(
    input: &str,
    labels: &[&str],
    what: &str,
    invalid: &str,
) -> Result<Vec<u8>, CaError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(CaError::invalid(format!("The {what} is empty")));
    }
    let not_pem = || CaError::invalid(invalid);
    if trimmed.matches("-----BEGIN ").count() > 1 {
        return Err(CaError::invalid(format!(
            "Exactly one {what} is expected, but the input holds several PEM blocks"
        )));
    }
    if !trimmed.starts_with("-----BEGIN ") || !trimmed.ends_with("-----") {
        return Err(not_pem());
    }
    let block = ::pem::parse(trimmed).map_err(|e| not_pem().with_detail(e))?;
    if !labels.contains(&block.tag()) || block.headers().iter().next().is_some() {
        return Err(not_pem().with_detail(format!("label {:?}", block.tag())));
    }
    if block.contents().is_empty() {
        return Err(not_pem());
    }
    Ok(block.into_contents())
}

/// The DER of every `label` block in `input`, in order (for our own chain files).
pub(crate) fn decode_all(input: &str, label: &str) -> Result<Vec<Vec<u8>>, CaError> {
    let blocks = ::pem::parse_many(input)
        .map_err(|e| CaError::invalid("The PEM input is malformed").with_detail(e))?;
    Ok(blocks
        .into_iter()
        .filter(|b| b.tag() == label)
        .map(::pem::Pem::into_contents)
        .collect())
}

/// Encodes DER as PEM with LF line endings and 64-column lines, as OpenSSL writes it.
pub(crate) fn encode(label: &str, der: &[u8]) -> String {
    let config = ::pem::EncodeConfig::new().set_line_ending(::pem::LineEnding::LF);
    ::pem::encode_config(&::pem::Pem::new(label, der), config)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABELS: &[&str] = &["CERTIFICATE"];

    #[test]
    fn round_trips_with_surrounding_whitespace_and_crlf() {
        let pem = encode("CERTIFICATE", b"hello der");
        let messy = format!("\r\n  {}\r\n\n", pem.replace('\n', "\r\n"));
        assert_eq!(
            decode_one(&messy, LABELS, "certificate", "bad").unwrap(),
            b"hello der"
        );
    }

    #[test]
    fn rejects_empty_garbage_wrong_label_and_two_blocks() {
        let one = encode("CERTIFICATE", b"x");
        let cases = [
            String::new(),
            "   \n".to_string(),
            "not a pem".to_string(),
            format!("garbage {one}"),
            format!("{one} trailing"),
            encode("PRIVATE KEY", b"x"),
            format!("{one}{one}"),
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----".to_string(),
        ];
        for case in cases {
            let err = decode_one(&case, LABELS, "certificate", "bad").unwrap_err();
            assert_eq!(err.kind(), crate::CaErrorKind::Invalid, "{case:?}");
        }
    }
}
