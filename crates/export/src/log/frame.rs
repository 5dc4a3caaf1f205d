//! One record on disk: `len u32 | crc32c u32 | arrival_ms i64 | data`, little-endian; the
//! checksum covers the arrival time and the data, so a torn tail is recognised on recovery.

use std::io::Read;

pub const HEADER: usize = 16;
/// Slice-by-16 tables (16 KiB): the checksum is computed on every append and every read back,
/// and byte-at-a-time was a third of the ingest path's CPU. Same CRC-32C values.
const CRC: crc::Crc<u32, crc::Table<16>> = crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISCSI);

/// A record read back from the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// Position in the stream, from 0; the record id is derived from it.
    pub seq: u64,
    pub arrival_ms: i64,
    pub data: Vec<u8>,
}

impl LogRecord {
    /// Bytes the record takes on disk (counted against the buffer's limit).
    pub fn frame_len(&self) -> u64 {
        (HEADER + self.data.len()) as u64
    }
}

pub fn frame_len(data_len: usize) -> u64 {
    (HEADER + data_len) as u64
}

fn checksum(arrival_ms: i64, data: &[u8]) -> u32 {
    let mut digest = CRC.digest();
    digest.update(&arrival_ms.to_le_bytes());
    digest.update(data);
    digest.finalize()
}

pub fn encode(out: &mut Vec<u8>, arrival_ms: i64, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(arrival_ms, data).to_le_bytes());
    out.extend_from_slice(&arrival_ms.to_le_bytes());
    out.extend_from_slice(data);
}

/// What reading the next frame found.
pub enum Next {
    Record {
        arrival_ms: i64,
        data: Vec<u8>,
    },
    /// Clean end of file.
    End,
    /// A short or corrupt frame: a write the crash cut off.
    Torn,
}

/// Largest record a frame may hold (Firehose's limit is 1,000 KiB; transforms cannot grow
/// records in the buffer, so anything bigger is corruption).
const MAX_DATA: usize = 1024 * 1024;

pub fn read_next(input: &mut impl Read) -> std::io::Result<Next> {
    let mut header = [0u8; HEADER];
    let mut filled = 0;
    while filled < HEADER {
        let n = input.read(&mut header[filled..])?;
        if n == 0 {
            return Ok(if filled == 0 { Next::End } else { Next::Torn });
        }
        filled += n;
    }
    let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let mut arrival = [0u8; 8];
    arrival.copy_from_slice(&header[8..16]);
    let arrival_ms = i64::from_le_bytes(arrival);
    if len > MAX_DATA {
        return Ok(Next::Torn);
    }
    let mut data = vec![0u8; len];
    if let Err(e) = input.read_exact(&mut data) {
        return if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Ok(Next::Torn)
        } else {
            Err(e)
        };
    }
    if checksum(arrival_ms, &data) != crc {
        return Ok(Next::Torn);
    }
    Ok(Next::Record { arrival_ms, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_torn_tails() {
        let mut buf = Vec::new();
        encode(&mut buf, 42, b"hello");
        encode(&mut buf, 43, b"");
        let mut cursor = std::io::Cursor::new(buf.clone());
        assert!(
            matches!(read_next(&mut cursor).unwrap(), Next::Record { arrival_ms: 42, ref data } if data == b"hello")
        );
        assert!(
            matches!(read_next(&mut cursor).unwrap(), Next::Record { arrival_ms: 43, ref data } if data.is_empty())
        );
        assert!(matches!(read_next(&mut cursor).unwrap(), Next::End));
        for cut in 1..buf.len() - HEADER {
            let mut c = std::io::Cursor::new(&buf[..cut]);
            let first = read_next(&mut c).unwrap();
            if cut < HEADER + 5 {
                assert!(matches!(first, Next::Torn), "cut {cut}");
            }
        }
        let mut flipped = buf.clone();
        flipped[HEADER] ^= 1;
        assert!(matches!(
            read_next(&mut std::io::Cursor::new(flipped)).unwrap(),
            Next::Torn
        ));
    }

    #[test]
    fn the_checksum_is_crc32c_as_before() {
        // The CRC-32C check value, and byte-at-a-time agreement: buffers written before the
        // switch to slice-by-16 still read back.
        assert_eq!(CRC.checksum(b"123456789"), 0xE306_9283);
        let bytewise = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);
        let data: Vec<u8> = (0..5000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for len in [0, 1, 15, 16, 17, 1000, 5000] {
            assert_eq!(CRC.checksum(&data[..len]), bytewise.checksum(&data[..len]));
        }
    }
}
