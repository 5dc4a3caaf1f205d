//! Opaque `NextToken`s: base64 of a small JSON document the hub alone reads back.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{HubError, HubResult};

pub fn encode<T: Serialize>(token: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(token).unwrap_or_default())
}

pub fn decode<T: DeserializeOwned>(token: &str) -> HubResult<T> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| HubError::InvalidInput("The NextToken is not valid.".into()))
}

/// Pages a list already in its final order by position: `(page, next token)`.
pub fn page_by_offset<T: Clone>(
    items: &[T],
    next_token: Option<&str>,
    max: usize,
) -> HubResult<(Vec<T>, Option<String>)> {
    let start: usize = match next_token {
        Some(t) => decode(t)?,
        None => 0,
    };
    let end = (start + max).min(items.len());
    let page = items.get(start..end).map(<[T]>::to_vec).unwrap_or_default();
    let next = (end < items.len()).then(|| encode(&end));
    Ok((page, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_paging_walks_the_list() {
        let items: Vec<u32> = (0..5).collect();
        let (first, token) = page_by_offset(&items, None, 2).unwrap();
        assert_eq!(first, vec![0, 1]);
        let (second, token) = page_by_offset(&items, token.as_deref(), 2).unwrap();
        assert_eq!(second, vec![2, 3]);
        let (third, token) = page_by_offset(&items, token.as_deref(), 2).unwrap();
        assert_eq!(third, vec![4]);
        assert!(token.is_none());
    }

    #[test]
    fn garbage_tokens_are_invalid_input() {
        assert!(decode::<usize>("!!!").is_err());
    }
}
