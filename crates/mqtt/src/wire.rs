//! The data representations of MQTT 5 §1.5 (MQTT 3.1.1 §1.5): integers, Variable Byte
//! Integers, UTF-8 strings and binary data, read from and written to packet bodies.

use bytes::{BufMut, Bytes};

use crate::error::{DecodeError, EncodeError};

/// The largest value a Variable Byte Integer can hold (four bytes).
pub(crate) const MAX_VARINT: u32 = 268_435_455;

/// Longest string or binary field: a two-byte length prefix.
pub(crate) const MAX_FIELD_LEN: usize = u16::MAX as usize;

const ENDS_EARLY: DecodeError = DecodeError::Malformed("packet ends in the middle of a field");

/// Reads a Variable Byte Integer from the front of `buf`. `Ok(None)` means `buf` ends before
/// the last byte. Over-long encodings (0x80 0x00 for 0) are accepted: MQTT-1.5.5-1 binds the
/// sender, and refusing them would gain nothing.
pub(crate) fn read_varint(buf: &[u8]) -> Result<Option<(u32, usize)>, DecodeError> {
    let mut value = 0u32;
    for i in 0..4 {
        let Some(&byte) = buf.get(i) else {
            return Ok(None);
        };
        value |= u32::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Some((value, i + 1)));
        }
    }
    Err(DecodeError::Malformed(
        "Variable Byte Integer longer than four bytes",
    ))
}

/// Bytes needed to encode `value` as a Variable Byte Integer.
pub(crate) fn varint_len(value: usize) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

pub(crate) fn put_varint(out: &mut impl BufMut, value: usize) {
    debug_assert!(value <= MAX_VARINT as usize);
    let mut value = value;
    loop {
        let byte = (value & 0x7F) as u8;
        value >>= 7;
        if value == 0 {
            out.put_u8(byte);
            return;
        }
        out.put_u8(byte | 0x80);
    }
}

/// Checks a string for encoding and returns its encoded length (prefix included).
pub(crate) fn str_len(s: &str) -> Result<usize, EncodeError> {
    if s.len() > MAX_FIELD_LEN {
        return Err(EncodeError::FieldTooLong);
    }
    if s.as_bytes().contains(&0) {
        return Err(EncodeError::InvalidString);
    }
    Ok(2 + s.len())
}

/// Checks a binary field for encoding and returns its encoded length (prefix included).
pub(crate) fn bin_len(b: &[u8]) -> Result<usize, EncodeError> {
    if b.len() > MAX_FIELD_LEN {
        return Err(EncodeError::FieldTooLong);
    }
    Ok(2 + b.len())
}

/// Writes a length-prefixed string or binary field; the length was checked by
/// [`str_len`] or [`bin_len`].
pub(crate) fn put_prefixed(out: &mut impl BufMut, b: &[u8]) {
    out.put_u16(b.len() as u16);
    out.put_slice(b);
}

/// Checks MQTT's rules for UTF-8 Encoded Strings (§1.5.4): well-formed UTF-8, which in
/// Rust already excludes surrogates (U+D800..U+DFFF) and over-long forms, and no U+0000.
/// The control and non-character code points are only "SHOULD NOT" and are let through.
pub(crate) fn check_utf8(raw: &[u8]) -> Result<&str, DecodeError> {
    let s = std::str::from_utf8(raw).map_err(|_| DecodeError::InvalidUtf8)?;
    if raw.contains(&0) {
        return Err(DecodeError::InvalidUtf8);
    }
    Ok(s)
}

/// A cursor over one packet body (or a part of it, such as a property block).
///
/// When the body came from a [`Bytes`] (`frame`), binary fields and payloads are slices of
/// it; otherwise they are copied.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
    frame: Option<&'a Bytes>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            end: buf.len(),
            frame: None,
        }
    }

    pub(crate) fn from_bytes(frame: &'a Bytes) -> Reader<'a> {
        Reader {
            frame: Some(frame),
            ..Reader::new(frame)
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.end - self.pos
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos == self.end
    }

    /// Fails if bytes are left: every packet's fields account for its Remaining Length.
    pub(crate) fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Malformed(what))
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.remaining() {
            return Err(ENDS_EARLY);
        }
        let start = self.pos;
        self.pos += n;
        Ok(&self.buf[start..self.pos])
    }

    /// The next `n` bytes as a reader of their own; this reader moves past them.
    pub(crate) fn sub(&mut self, n: usize) -> Result<Reader<'a>, DecodeError> {
        if n > self.remaining() {
            return Err(DecodeError::Malformed(
                "a length runs past the end of the packet",
            ));
        }
        let sub = Reader {
            end: self.pos + n,
            ..*self
        };
        self.pos += n;
        Ok(sub)
    }

    fn bytes(&mut self, n: usize) -> Result<Bytes, DecodeError> {
        let start = self.pos;
        let raw = self.take(n)?;
        Ok(match self.frame {
            Some(frame) => frame.slice(start..start + n),
            None => Bytes::copy_from_slice(raw),
        })
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn varint(&mut self) -> Result<u32, DecodeError> {
        let (value, used) = read_varint(&self.buf[self.pos..self.end])?.ok_or(ENDS_EARLY)?;
        self.pos += used;
        Ok(value)
    }

    /// A length-prefixed field, raw.
    pub(crate) fn prefixed(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.u16()?;
        self.take(usize::from(len))
    }

    /// A UTF-8 Encoded String (§1.5.4).
    pub(crate) fn str(&mut self) -> Result<&'a str, DecodeError> {
        check_utf8(self.prefixed()?)
    }

    pub(crate) fn string(&mut self) -> Result<String, DecodeError> {
        self.str().map(str::to_owned)
    }

    /// Binary Data (§1.5.6).
    pub(crate) fn binary(&mut self) -> Result<Bytes, DecodeError> {
        let len = self.u16()?;
        self.bytes(usize::from(len))
    }

    /// Everything left, as a payload.
    pub(crate) fn rest(&mut self) -> Bytes {
        // Cannot fail: it takes exactly what remains.
        self.bytes(self.remaining()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_boundaries_round_trip() {
        // §1.5.5 table: the first and last value of each length.
        let cases: [(u32, &[u8]); 8] = [
            (0, &[0x00]),
            (127, &[0x7F]),
            (128, &[0x80, 0x01]),
            (16_383, &[0xFF, 0x7F]),
            (16_384, &[0x80, 0x80, 0x01]),
            (2_097_151, &[0xFF, 0xFF, 0x7F]),
            (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
            (268_435_455, &[0xFF, 0xFF, 0xFF, 0x7F]),
        ];
        for (value, bytes) in cases {
            assert_eq!(read_varint(bytes).unwrap(), Some((value, bytes.len())));
            let mut out = Vec::new();
            put_varint(&mut out, value as usize);
            assert_eq!(out, bytes);
            assert_eq!(varint_len(value as usize), bytes.len());
        }
    }

    #[test]
    fn fifth_continuation_byte_is_malformed() {
        assert!(matches!(
            read_varint(&[0xFF, 0xFF, 0xFF, 0xFF, 0x7F]),
            Err(DecodeError::Malformed(_))
        ));
        // Also when the fifth byte has not arrived yet: the fourth already says "more".
        assert!(read_varint(&[0x80, 0x80, 0x80, 0x80]).is_err());
    }

    #[test]
    fn incomplete_varint_needs_more() {
        assert_eq!(read_varint(&[]).unwrap(), None);
        assert_eq!(read_varint(&[0x80]).unwrap(), None);
        assert_eq!(read_varint(&[0xFF, 0xFF, 0xFF]).unwrap(), None);
    }

    #[test]
    fn overlong_varint_is_accepted() {
        assert_eq!(read_varint(&[0x80, 0x00]).unwrap(), Some((0, 2)));
    }

    #[test]
    fn strings_follow_mqtt_utf8_rules() {
        assert_eq!(check_utf8("a/ü/😀".as_bytes()).unwrap(), "a/ü/😀");
        assert_eq!(check_utf8(b"a\0b"), Err(DecodeError::InvalidUtf8));
        // U+D800 encoded as if it were a scalar value (CESU-style): not UTF-8.
        assert_eq!(
            check_utf8(&[0xED, 0xA0, 0x80]),
            Err(DecodeError::InvalidUtf8)
        );
        // Over-long encoding of '/'.
        assert_eq!(check_utf8(&[0xC0, 0xAF]), Err(DecodeError::InvalidUtf8));
        assert_eq!(check_utf8(&[0xE2, 0x82]), Err(DecodeError::InvalidUtf8));
    }

    #[test]
    fn reader_reads_fields_and_refuses_to_overrun() {
        let body = [0x00, 0x03, b'a', b'b', b'c', 0x00, 0x02, 0x01];
        let mut r = Reader::new(&body);
        assert_eq!(r.str().unwrap(), "abc");
        assert!(r.binary().is_err());
        let frame = Bytes::copy_from_slice(&body);
        let mut r = Reader::from_bytes(&frame);
        r.str().unwrap();
        let mut sub = r.sub(2).unwrap();
        assert_eq!(sub.u16().unwrap(), 2);
        assert!(sub.is_empty());
        assert_eq!(r.rest(), Bytes::from_static(&[0x01]));
        assert!(r.sub(1).is_err());
    }

    #[test]
    fn encode_checks_field_lengths_and_nul() {
        assert_eq!(str_len("abc"), Ok(5));
        assert_eq!(str_len("a\0"), Err(EncodeError::InvalidString));
        assert_eq!(str_len(&"x".repeat(65_536)), Err(EncodeError::FieldTooLong));
        assert_eq!(bin_len(&[0; 65_535]), Ok(65_537));
        assert_eq!(bin_len(&[0; 65_536]), Err(EncodeError::FieldTooLong));
    }
}
