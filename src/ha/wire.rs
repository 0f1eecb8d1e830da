//! The classic HA wire format (Apache store/ha/HAService.java HAClient and HAConnection.java),
//! plain TCP, big-endian, no framing beyond this:
//!
//! Slave → master, after each append and every `haSendHeartbeatInterval`:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | the slave's max commit-log offset (i64) |
//!
//! The master takes the first report as the offset to transfer from and later ones as
//! acknowledgements; of bytes that arrive together only the last whole report counts (Apache's
//! ReadSocketService reads the 8 bytes ending at the last multiple of 8).
//!
//! Master → slave, one frame per transfer (never crossing a commit-log file) or heartbeat:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | commit-log offset of the body's first byte (i64) |
//! | 8 | 4 | body size (i32); 0 = heartbeat, the offset is then where the transfer stands |
//! | 12 | size | raw commit-log bytes |
#![deny(clippy::indexing_slicing, clippy::unwrap_used)]

use std::fmt;

/// Bytes of a slave's report.
pub const REPORT_LEN: usize = 8;
/// Bytes of a frame header.
pub const HEADER_LEN: usize = 12;
/// Largest frame body accepted: Apache's slave reads into a 4 MiB buffer (HAClient
/// READ_MAX_BUFFER_SIZE), so no master can send a larger frame to it.
pub const MAX_BODY: usize = 4 * 1024 * 1024 - HEADER_LEN;

/// Why peer bytes are not a valid HA message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    what: &'static str,
    kind: WireErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum WireErrorKind {
    Negative(i64),
    TooLarge(i64),
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            WireErrorKind::Negative(v) => write!(f, "HA {} is negative ({v})", self.what),
            WireErrorKind::TooLarge(v) => {
                write!(f, "HA {} is {v}, above the limit of {MAX_BODY} bytes", self.what)
            }
        }
    }
}

impl std::error::Error for WireError {}

/// A slave's report of its max offset.
pub fn encode_report(offset: u64) -> [u8; REPORT_LEN] {
    (offset.min(i64::MAX as u64) as i64).to_be_bytes()
}

/// Header of a frame of `size` bytes starting at commit-log offset `offset`.
pub fn encode_header(offset: u64, size: u32) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    let (o, s) = h.split_at_mut(8);
    o.copy_from_slice(&(offset.min(i64::MAX as u64) as i64).to_be_bytes());
    s.copy_from_slice(&(size.min(i32::MAX as u32) as i32).to_be_bytes());
    h
}

/// A decoded master frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Commit-log offset of the body's first byte (for a heartbeat: the transfer position).
    pub offset: u64,
    /// Raw commit-log bytes; empty for a heartbeat.
    pub body: &'a [u8],
}

fn be_i64(b: &[u8]) -> Option<i64> {
    Some(i64::from_be_bytes(b.get(..8)?.try_into().ok()?))
}

fn be_i32(b: &[u8]) -> Option<i32> {
    Some(i32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

/// Decode the frame at the start of `buf`: `Ok(None)` until it is complete, else the frame and
/// the bytes it took. A negative offset or size and a body above [`MAX_BODY`] are errors.
pub fn decode_frame(buf: &[u8]) -> Result<Option<(Frame<'_>, usize)>, WireError> {
    let (Some(offset), Some(size)) = (be_i64(buf), buf.get(8..).and_then(be_i32)) else {
        return Ok(None);
    };
    if offset < 0 {
        return Err(WireError { what: "frame offset", kind: WireErrorKind::Negative(offset) });
    }
    if size < 0 {
        return Err(WireError { what: "frame size", kind: WireErrorKind::Negative(size as i64) });
    }
    if size as usize > MAX_BODY {
        return Err(WireError { what: "frame size", kind: WireErrorKind::TooLarge(size as i64) });
    }
    let end = HEADER_LEN + size as usize;
    Ok(buf.get(HEADER_LEN..end).map(|body| (Frame { offset: offset as u64, body }, end)))
}

/// The last whole report in `buf` and the bytes taken (a multiple of 8; the rest waits for
/// more). A negative offset is an error.
pub fn decode_reports(buf: &[u8]) -> Result<(Option<u64>, usize), WireError> {
    let used = buf.len() / REPORT_LEN * REPORT_LEN;
    if used == 0 {
        return Ok((None, 0));
    }
    let last = buf.get(used - REPORT_LEN..used).and_then(be_i64).unwrap_or(0);
    if last < 0 {
        return Err(WireError { what: "slave offset", kind: WireErrorKind::Negative(last) });
    }
    Ok((Some(last as u64), used))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    /// xorshift64*, seeded; the seed is printed on failure.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
    }

    #[test]
    fn exact_bytes_as_apache() {
        // HAClient.reportSlaveMaxOffset: putLong; WriteSocketService: putLong + putInt.
        assert_eq!(encode_report(0x0102_0304_0506_0708), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(encode_header(4096, 32768), [0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x80, 0]);
        assert_eq!(encode_header(7, 0), [0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0]);
    }

    #[test]
    fn frames_round_trip_and_every_strict_prefix_waits() {
        let seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut rng = Rng(seed);
        for _ in 0..200 {
            let offset = rng.next() >> 1;
            let len = (rng.next() % 300) as usize;
            let body: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let mut buf = encode_header(offset, len as u32).to_vec();
            buf.extend_from_slice(&body);
            let trailing = (rng.next() % 20) as usize;
            let mut with_more = buf.clone();
            with_more.extend((0..trailing).map(|_| 0xAB));
            let (f, used) = decode_frame(&with_more).unwrap().unwrap();
            assert_eq!((f.offset, f.body, used), (offset, &body[..], buf.len()), "seed {seed:#x}");
            for cut in 0..buf.len() {
                assert_eq!(decode_frame(&buf[..cut]), Ok(None), "seed {seed:#x} prefix {cut}");
            }
        }
    }

    #[test]
    fn reports_take_the_last_whole_value() {
        let mut buf = encode_report(5).to_vec();
        buf.extend_from_slice(&encode_report(9));
        buf.extend_from_slice(&[0, 0, 1]);
        assert_eq!(decode_reports(&buf), Ok((Some(9), 16)));
        for cut in 0..8 {
            assert_eq!(decode_reports(&buf[..cut]), Ok((None, 0)));
        }
        assert!(decode_reports(&(-1i64).to_be_bytes()).is_err());
    }

    #[test]
    fn garbage_never_panics_nor_passes_the_caps() {
        let seed = 0x0DDB_1A5E_5BAD_5EEDu64;
        let mut rng = Rng(seed);
        for _ in 0..2000 {
            let len = (rng.next() % 40) as usize;
            let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            if rng.next().is_multiple_of(2) && b.len() >= 12 {
                b[8] = 0; // plausible sizes too
            }
            match decode_frame(&b) {
                Ok(Some((f, used))) => {
                    assert!(used <= b.len() && f.body.len() <= MAX_BODY, "seed {seed:#x}");
                    assert_eq!(used, HEADER_LEN + f.body.len());
                }
                Ok(None) => assert!(
                    b.len() < HEADER_LEN
                        || b.len() < HEADER_LEN + be_i32(&b[8..]).unwrap() as usize,
                    "seed {seed:#x}"
                ),
                Err(e) => assert!(!e.to_string().is_empty()),
            }
            let _ = decode_reports(&b);
        }
        let mut big = encode_header(0, 0).to_vec();
        big[8..12].copy_from_slice(&((MAX_BODY + 1) as i32).to_be_bytes());
        assert!(decode_frame(&big).unwrap_err().to_string().contains("limit"));
        big[8..12].copy_from_slice(&(-5i32).to_be_bytes());
        assert!(decode_frame(&big).is_err());
        assert!(decode_frame(&(-1i64).to_be_bytes().repeat(2)).is_err());
    }
}
