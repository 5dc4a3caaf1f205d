//! How SQLite stores a finding's body: lz4-compressed JSON.
//!
//! A finding body holds little repetition of its own: most of what lz4 could share is the
//! ASFF member names and common values, present once each. So the compressor starts from a
//! dictionary of those (`body_dictionary_v1.txt`: names in the order findings carry them,
//! AWS product ARNs, type taxonomy prefixes, the Device Defender check names). The bench's
//! ~2.75 KB findings take ~1.05 KB (1.6 KB without the dictionary), so an 8 KiB page holds six
//! findings instead of two, and every import writes about a third of the bytes (WAL, then
//! the file at checkpoint): that was most of the single writer's time per finding.
//! Compressing takes ~5 us per body, decompressing ~1 us.
//!
//! Layout: one format byte, [`LZ4_DICTIONARY_V1`], the JSON length as a little-endian u32,
//! then the lz4 block. Bodies stored before compression are plain JSON objects, so they
//! start with `{`, never with a format byte.
//!
//! Stored bodies need the dictionary forever: it must never change. A better dictionary
//! gets a file and a format byte of its own, and `decode` keeps reading both.

/// Format byte: lz4 block against [`DICTIONARY_V1`], its length in front.
const LZ4_DICTIONARY_V1: u8 = 1;
const DICTIONARY_V1: &[u8] = include_bytes!("body_dictionary_v1.txt");
const HEADER: usize = 5;
/// No finding body is near this (240 KB by the ASFF rules): a larger length is corruption.
const MAX_BODY: usize = 64 << 20;

/// A stored body as a statement argument, borrowed when it was encoded ahead.
pub(crate) struct BodyArgument<'a>(pub std::borrow::Cow<'a, [u8]>);

impl sqlx::Type<sqlx::Sqlite> for BodyArgument<'_> {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <&[u8] as sqlx::Type<sqlx::Sqlite>>::type_info()
    }
}

impl<'q> sqlx::Encode<'q, sqlx::Sqlite> for BodyArgument<'q> {
    fn encode(
        self,
        args: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        args.push(sqlx::sqlite::SqliteArgumentValue::Blob(self.0));
        Ok(sqlx::encode::IsNull::No)
    }

    fn encode_by_ref(
        &self,
        args: &mut Vec<sqlx::sqlite::SqliteArgumentValue<'q>>,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        args.push(sqlx::sqlite::SqliteArgumentValue::Blob(self.0.clone()));
        Ok(sqlx::encode::IsNull::No)
    }
}

/// The stored form of `body`.
pub(crate) fn encode(body: &str) -> Vec<u8> {
    let input = body.as_bytes();
    let length = u32::try_from(input.len()).expect("finding bodies are far below 4 GB");
    let mut out = vec![0; HEADER + lz4_flex::block::get_maximum_output_size(input.len())];
    out[0] = LZ4_DICTIONARY_V1;
    out[1..HEADER].copy_from_slice(&length.to_le_bytes());
    let written =
        lz4_flex::block::compress_into_with_dict(input, &mut out[HEADER..], DICTIONARY_V1)
            .expect("the output has the maximum compressed size");
    out.truncate(HEADER + written);
    out
}

/// The JSON text of a stored body.
pub(crate) fn decode(stored: &[u8]) -> Result<String, String> {
    let bytes = match stored.split_first() {
        Some((&LZ4_DICTIONARY_V1, rest)) => {
            let (length, block) = rest
                .split_first_chunk::<4>()
                .ok_or("compressed body without its length")?;
            let length = u32::from_le_bytes(*length) as usize;
            if length > MAX_BODY {
                return Err(format!("compressed body claims {length} bytes"));
            }
            let mut json = vec![0; length];
            let written =
                lz4_flex::block::decompress_into_with_dict(block, &mut json, DICTIONARY_V1)
                    .map_err(|e| format!("compressed body: {e}"))?;
            if written != length {
                return Err("compressed body shorter than its length".into());
            }
            json
        }
        _ => stored.to_vec(),
    };
    String::from_utf8(bytes).map_err(|_| "body is not UTF-8".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DICTIONARY_HASH: u64 = 10_978_931_768_888_027_260;

    #[test]
    fn bodies_round_trip_and_shrink() {
        let body = format!(
            r#"{{"Id":"ü-1","Title":"{}","Resources":[]}}"#,
            "a fleet check ".repeat(100)
        );
        let stored = encode(&body);
        assert!(stored.len() < body.len() / 4, "{} bytes", stored.len());
        assert_eq!(decode(&stored).unwrap(), body);
        assert_eq!(decode(&encode("")).unwrap(), "");
    }

    #[test]
    fn plain_json_from_before_compression_reads_as_is() {
        assert_eq!(decode(br#"{"Id":"a"}"#).unwrap(), r#"{"Id":"a"}"#);
    }

    #[test]
    fn corrupt_bodies_are_errors_not_panics() {
        let mut stored = encode(&"x".repeat(1000));
        assert!(decode(&stored[..3]).is_err());
        stored[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&stored).is_err());
        let mut truncated = encode(&"xyz".repeat(1000));
        truncated.truncate(truncated.len() - 2);
        assert!(decode(&truncated).is_err());
        assert!(decode(&[LZ4_DICTIONARY_V1, 3, 0, 0, 0, 0xff, 0xff]).is_err());
    }

    #[test]
    fn the_dictionary_never_changes() {
        // Stored bodies were compressed against these exact bytes (FNV-1a of the file).
        let hash = DICTIONARY_V1
            .iter()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
        assert_eq!((DICTIONARY_V1.len(), hash), (4129, DICTIONARY_HASH));
    }
}
