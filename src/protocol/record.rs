//! Message record layout (§3.1-3.9): the bytes stored in the commit log and served verbatim in
//! pull bodies, the properties string, tag hashes, offset message ids and client batch bodies.
//! Pure: no I/O.
//!
//! Record (big-endian; IPv4 hosts; each V6 host adds 12 bytes after its field):
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | TOTALSIZE (whole record) |
//! | 4 | 4 | MAGICCODE `0xDAA320A7` (`0xCBD43194` = end-of-segment BLANK, 8 bytes only) |
//! | 8 | 4 | BODYCRC = CRC-32(body) & 0x7FFFFFFF |
//! | 12 | 4 | QUEUEID |
//! | 16 | 4 | FLAG |
//! | 20 | 8 | QUEUEOFFSET |
//! | 28 | 8 | PHYSICALOFFSET |
//! | 36 | 4 | SYSFLAG |
//! | 40 | 8 | BORNTIMESTAMP |
//! | 48 | 8/20 | BORNHOST (address bytes + i32 port) |
//! | 56 | 8 | STORETIMESTAMP |
//! | 64 | 8/20 | STOREHOST |
//! | 72 | 4 | RECONSUMETIMES |
//! | 76 | 8 | PREPARED TRANSACTION OFFSET |
//! | 84 | 4 | BODYLEN |
//! | 88 | B | BODY |
//! | 88+B | 1 | TOPICLEN (i8) |
//! | 89+B | T | TOPIC |
//! | 89+B+T | 2 | PROPLEN (i16) |
//! | 91+B+T | P | PROPERTIES |
//!
//! Client batch bodies (§3.6) live in [`super::batch`] and are re-exported here.
#![deny(clippy::indexing_slicing, clippy::unwrap_used)]

use crate::common::crc::masked_crc32;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

pub use super::batch::{
    check_batch_body_size, decode_batch_body, decode_batch_body_capped, encode_batch_body,
    message_illegal_remark, BatchItem, BATCH_ITEM_OVERHEAD,
};

/// Magic code of a message record.
pub const MESSAGE_MAGIC: i32 = 0xDAA320A7u32 as i32;
/// Magic code of the end-of-segment filler.
pub const BLANK_MAGIC: i32 = 0xCBD43194u32 as i32;
/// Size of the BLANK filler actually written (TOTALSIZE + MAGICCODE).
pub const BLANK_LEN: usize = 8;
/// Record size with empty body, topic and properties and IPv4 hosts.
pub const MIN_RECORD_LEN: usize = 91;
/// Largest topic length in bytes (TOPICLEN is a signed byte).
pub const MAX_TOPIC_LEN: usize = 127;
/// Largest properties length in bytes (PROPLEN is an i16).
pub const MAX_PROPERTIES_LEN: usize = i16::MAX as usize;

/// Byte offset of TOTALSIZE.
pub const POS_TOTAL_SIZE: usize = 0;
/// Byte offset of MAGICCODE.
pub const POS_MAGIC: usize = POS_TOTAL_SIZE + 4;
/// Byte offset of BODYCRC.
pub const POS_BODY_CRC: usize = POS_MAGIC + 4;
/// Byte offset of QUEUEID.
pub const POS_QUEUE_ID: usize = POS_BODY_CRC + 4;
/// Byte offset of FLAG.
pub const POS_FLAG: usize = POS_QUEUE_ID + 4;
/// Byte offset of QUEUEOFFSET.
pub const POS_QUEUE_OFFSET: usize = POS_FLAG + 4;
/// Byte offset of PHYSICALOFFSET.
pub const POS_PHYS_OFFSET: usize = POS_QUEUE_OFFSET + 8;
/// Byte offset of SYSFLAG.
pub const POS_SYS_FLAG: usize = POS_PHYS_OFFSET + 8;
/// Byte offset of BORNTIMESTAMP.
pub const POS_BORN_TIMESTAMP: usize = POS_SYS_FLAG + 4;
/// Byte offset of BORNHOST.
pub const POS_BORN_HOST: usize = POS_BORN_TIMESTAMP + 8;

const V4_HOST_LEN: usize = 8;
const V6_HOST_LEN: usize = 20;

/// SYSFLAG bits (§3.2).
pub mod sysflag {
    /// Body is compressed.
    pub const COMPRESSED: i32 = 0x1;
    /// Multi-tag filter type.
    pub const MULTI_TAGS: i32 = 0x2;
    /// Not a transactional message.
    pub const TRANSACTION_NOT: i32 = 0;
    /// Half (prepared) message.
    pub const TRANSACTION_PREPARED: i32 = 0x4;
    /// Commit record.
    pub const TRANSACTION_COMMIT: i32 = 0x8;
    /// Rollback record.
    pub const TRANSACTION_ROLLBACK: i32 = 0xC;
    /// Mask of the transaction type bits.
    pub const TRANSACTION_MASK: i32 = 0xC;
    /// Born host is IPv6 (20-byte field).
    pub const BORNHOST_V6: i32 = 0x10;
    /// Store host is IPv6 (20-byte field).
    pub const STOREHOST_V6: i32 = 0x20;

    /// Transaction type bits of `sys_flag`.
    pub fn transaction_type(sys_flag: i32) -> i32 {
        sys_flag & TRANSACTION_MASK
    }
}

/// A message as stored in the commit log and served in pull bodies (§3.1).
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRecord {
    /// Queue id.
    pub queue_id: i32,
    /// User flag.
    pub flag: i32,
    /// Consume-queue offset.
    pub queue_offset: i64,
    /// Commit-log offset of this record.
    pub physical_offset: i64,
    /// SYSFLAG bits (§3.2); the V6 bits are recomputed from the hosts when encoding.
    pub sys_flag: i32,
    /// Producer timestamp, ms.
    pub born_timestamp: i64,
    /// Producer address.
    pub born_host: SocketAddr,
    /// Store timestamp, ms.
    pub store_timestamp: i64,
    /// Broker address.
    pub store_host: SocketAddr,
    /// Redelivery count.
    pub reconsume_times: i32,
    /// Physical offset of the half message (commit records), else 0.
    pub prepared_transaction_offset: i64,
    /// Body bytes (possibly compressed).
    pub body: Vec<u8>,
    /// Topic.
    pub topic: String,
    /// Properties string (§3.4).
    pub properties: String,
    /// Masked CRC-32 of the body (ignored by `encode_record`, which computes it).
    pub body_crc: i32,
}

/// A decoded record borrowing its variable-length fields from the input buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordView<'a> {
    /// TOTALSIZE.
    pub total_size: usize,
    /// Stored BODYCRC.
    pub body_crc: i32,
    /// Queue id.
    pub queue_id: i32,
    /// User flag.
    pub flag: i32,
    /// Consume-queue offset.
    pub queue_offset: i64,
    /// Commit-log offset.
    pub physical_offset: i64,
    /// SYSFLAG.
    pub sys_flag: i32,
    /// Born timestamp.
    pub born_timestamp: i64,
    /// Born host.
    pub born_host: SocketAddr,
    /// Store timestamp.
    pub store_timestamp: i64,
    /// Store host.
    pub store_host: SocketAddr,
    /// Reconsume times.
    pub reconsume_times: i32,
    /// Prepared transaction offset.
    pub prepared_transaction_offset: i64,
    /// Body.
    pub body: &'a [u8],
    /// Topic.
    pub topic: &'a str,
    /// Properties string.
    pub properties: &'a str,
}

impl MessageRecord {
    /// A view of this record, with `body_crc` as its BODYCRC (and `total_size` 0: encoding
    /// computes it).
    pub fn view(&self, body_crc: i32) -> RecordView<'_> {
        RecordView {
            total_size: 0,
            body_crc,
            queue_id: self.queue_id,
            flag: self.flag,
            queue_offset: self.queue_offset,
            physical_offset: self.physical_offset,
            sys_flag: self.sys_flag,
            born_timestamp: self.born_timestamp,
            born_host: self.born_host,
            store_timestamp: self.store_timestamp,
            store_host: self.store_host,
            reconsume_times: self.reconsume_times,
            prepared_transaction_offset: self.prepared_transaction_offset,
            body: &self.body,
            topic: &self.topic,
            properties: &self.properties,
        }
    }
}

impl RecordView<'_> {
    /// An owned copy.
    pub fn to_record(&self) -> MessageRecord {
        MessageRecord {
            queue_id: self.queue_id,
            flag: self.flag,
            queue_offset: self.queue_offset,
            physical_offset: self.physical_offset,
            sys_flag: self.sys_flag,
            born_timestamp: self.born_timestamp,
            born_host: self.born_host,
            store_timestamp: self.store_timestamp,
            store_host: self.store_host,
            reconsume_times: self.reconsume_times,
            prepared_transaction_offset: self.prepared_transaction_offset,
            body: self.body.to_vec(),
            topic: self.topic.to_string(),
            properties: self.properties.to_string(),
            body_crc: self.body_crc,
        }
    }
}

/// Why a record (or batch body) could not be decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordError {
    what: &'static str,
    kind: RecordErrorKind,
}

#[derive(Debug, Clone, PartialEq)]
enum RecordErrorKind {
    /// The buffer ends before the field does.
    Truncated {
        need: usize,
        have: usize,
    },
    /// End-of-segment filler of `size` bytes.
    Blank {
        size: i32,
    },
    BadMagic(i32),
    BadLength(i64),
    Mismatch {
        declared: usize,
        actual: usize,
    },
    Crc {
        stored: i32,
        computed: i32,
    },
    Utf8,
    /// A length over a configured cap (maxMessageSize).
    TooLarge {
        len: usize,
        max: usize,
    },
}

impl RecordError {
    fn truncated(what: &'static str, need: usize, have: usize) -> Self {
        RecordError { what, kind: RecordErrorKind::Truncated { need, have } }
    }
    pub(super) fn bad_length(what: &'static str, len: i64) -> Self {
        RecordError { what, kind: RecordErrorKind::BadLength(len) }
    }
    pub(super) fn mismatch(what: &'static str, declared: usize, actual: usize) -> Self {
        RecordError { what, kind: RecordErrorKind::Mismatch { declared, actual } }
    }
    pub(super) fn too_large(what: &'static str, len: usize, max: usize) -> Self {
        RecordError { what, kind: RecordErrorKind::TooLarge { len, max } }
    }
    /// True when the bytes are an end-of-segment BLANK filler.
    pub fn is_blank(&self) -> bool {
        matches!(self.kind, RecordErrorKind::Blank { .. })
    }
    /// TOTALSIZE of the BLANK filler, if this is one.
    pub fn blank_size(&self) -> Option<i32> {
        match self.kind {
            RecordErrorKind::Blank { size } => Some(size),
            _ => None,
        }
    }
    /// True when the buffer ends before the record does (a torn tail or a short read).
    pub fn is_torn(&self) -> bool {
        matches!(self.kind, RecordErrorKind::Truncated { .. })
    }
    /// True when a length exceeded the cap it was checked against (a batch body over
    /// maxMessageSize, a stored TOTALSIZE over [`max_record_len`]).
    pub fn is_too_large(&self) -> bool {
        matches!(self.kind, RecordErrorKind::TooLarge { .. })
    }
    /// True when only the body CRC was wrong.
    pub fn is_crc_mismatch(&self) -> bool {
        matches!(self.kind, RecordErrorKind::Crc { .. })
    }
    /// The field that was being read.
    pub fn what(&self) -> &'static str {
        self.what
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.what;
        match &self.kind {
            RecordErrorKind::Truncated { need, have } => {
                write!(f, "record truncated while reading {w}: need {need} bytes, have {have}")
            }
            RecordErrorKind::Blank { size } => write!(f, "end-of-segment blank of {size} bytes"),
            RecordErrorKind::BadMagic(m) => write!(f, "bad {w} magic code {:#010x}", *m as u32),
            RecordErrorKind::BadLength(l) => write!(f, "invalid {w} {l}"),
            RecordErrorKind::Mismatch { declared, actual } => {
                write!(f, "{w}: declared total size {declared} but fields add up to {actual}")
            }
            RecordErrorKind::Crc { stored, computed } => {
                write!(f, "{w} CRC mismatch: stored {stored}, computed {computed}")
            }
            RecordErrorKind::Utf8 => write!(f, "{w} is not valid UTF-8"),
            RecordErrorKind::TooLarge { len, max } => {
                write!(f, "{w} of {len} bytes exceeds the limit of {max} bytes")
            }
        }
    }
}

impl std::error::Error for RecordError {}

/// Bounds-checked big-endian reader.
pub(super) struct Reader<'a> {
    buf: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    pub(super) fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], RecordError> {
        let end = self.pos.checked_add(n).ok_or_else(|| RecordError::bad_length(what, n as i64))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| RecordError::truncated(what, end, self.buf.len()))?;
        self.pos = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], RecordError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N, what)?);
        Ok(a)
    }
    fn i8(&mut self, what: &'static str) -> Result<i8, RecordError> {
        Ok(i8::from_be_bytes(self.array(what)?))
    }
    pub(super) fn i16(&mut self, what: &'static str) -> Result<i16, RecordError> {
        Ok(i16::from_be_bytes(self.array(what)?))
    }
    pub(super) fn i32(&mut self, what: &'static str) -> Result<i32, RecordError> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }
    fn i64(&mut self, what: &'static str) -> Result<i64, RecordError> {
        Ok(i64::from_be_bytes(self.array(what)?))
    }
    pub(super) fn len_i32(&mut self, what: &'static str) -> Result<usize, RecordError> {
        let v = self.i32(what)?;
        usize::try_from(v).map_err(|_| RecordError::bad_length(what, v as i64))
    }
    fn host(&mut self, v6: bool, what: &'static str) -> Result<SocketAddr, RecordError> {
        let ip = if v6 {
            IpAddr::V6(Ipv6Addr::from(self.array::<16>(what)?))
        } else {
            IpAddr::V4(Ipv4Addr::from(self.array::<4>(what)?))
        };
        let port = self.i32(what)?;
        let port = u16::try_from(port).map_err(|_| RecordError::bad_length(what, port.into()))?;
        Ok(SocketAddr::new(ip, port))
    }
}

/// A host as it is written: IPv4-mapped IPv6 addresses become IPv4.
fn normalize_host(a: SocketAddr) -> SocketAddr {
    match a {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::V4(SocketAddrV4::new(v4, v6.port())),
            None => a,
        },
        SocketAddr::V4(_) => a,
    }
}

fn host_len(v6: bool) -> usize {
    if v6 {
        V6_HOST_LEN
    } else {
        V4_HOST_LEN
    }
}

/// True when `a` must be stored in the 20-byte IPv6 form.
pub fn is_v6_host(a: SocketAddr) -> bool {
    normalize_host(a).is_ipv6()
}

/// Length of an encoded record.
pub fn encoded_len(
    body_len: usize,
    topic_len: usize,
    props_len: usize,
    born_v6: bool,
    store_v6: bool,
) -> usize {
    MIN_RECORD_LEN - 2 * V4_HOST_LEN
        + host_len(born_v6)
        + host_len(store_v6)
        + body_len
        + topic_len
        + props_len
}

fn put_host(out: &mut Vec<u8>, a: SocketAddr) {
    match normalize_host(a) {
        SocketAddr::V4(v4) => out.extend_from_slice(&v4.ip().octets()),
        SocketAddr::V6(v6) => out.extend_from_slice(&v6.ip().octets()),
    }
    out.extend_from_slice(&(a.port() as i32).to_be_bytes());
}

/// Writes big-endian fields one after the other into a slice the caller sized exactly.
struct Cursor<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl Cursor<'_> {
    fn put(&mut self, b: &[u8]) {
        let end = self.at + b.len();
        self.out
            .get_mut(self.at..end)
            .expect("invariant: the record's slice is record_len bytes")
            .copy_from_slice(b);
        self.at = end;
    }

    fn host(&mut self, a: SocketAddr) {
        match normalize_host(a) {
            SocketAddr::V4(v4) => self.put(&v4.ip().octets()),
            SocketAddr::V6(v6) => self.put(&v6.ip().octets()),
        }
        self.put(&(a.port() as i32).to_be_bytes());
    }
}

/// Appends the record; computes TOTALSIZE and BODYCRC (masked CRC-32 of body) itself; sets the V6
/// sysflag bits from the hosts (IPv4-mapped IPv6 addresses are written as IPv4).
///
/// Panics if the topic is longer than 127 bytes or the properties longer than 32767 bytes: callers
/// validate those limits first (the store answers MESSAGE_ILLEGAL / PROPERTIES_SIZE_EXCEEDED).
pub fn encode_record(r: &MessageRecord, out: &mut Vec<u8>) {
    encode_record_with_crc(r, masked_crc32(&r.body), out)
}

/// As [`encode_record`], with a body CRC the caller already computed.
pub fn encode_record_with_crc(r: &MessageRecord, body_crc: i32, out: &mut Vec<u8>) {
    let v = r.view(body_crc);
    let start = out.len();
    out.resize(start + view_len(&v), 0);
    let dst = out.get_mut(start..).expect("invariant: just resized");
    encode_view_into(&v, dst);
}

/// The encoded size (TOTALSIZE) of the record `v` describes (its own `total_size` is ignored).
pub fn view_len(v: &RecordView<'_>) -> usize {
    let (born_v6, store_v6) = (is_v6_host(v.born_host), is_v6_host(v.store_host));
    encoded_len(v.body.len(), v.topic.len(), v.properties.len(), born_v6, store_v6)
}

/// Encode the record `r` describes into `out`, which must be exactly [`view_len`] bytes, with
/// `r.body_crc` as BODYCRC and TOTALSIZE computed. The store writes records straight into the
/// mapped commit log with this, under its append lock, so a body is copied once from the
/// request into the file.
///
/// Panics if `out` has another length, the topic is longer than 127 bytes or the properties
/// longer than 32767 bytes (callers validate those limits first).
pub fn encode_view_into(r: &RecordView<'_>, out: &mut [u8]) {
    let body_crc = r.body_crc;
    assert!(r.topic.len() <= MAX_TOPIC_LEN, "invariant: topic length validated by caller");
    assert!(
        r.properties.len() <= MAX_PROPERTIES_LEN,
        "invariant: properties length validated by caller"
    );
    let total = view_len(r);
    assert_eq!(out.len(), total, "invariant: the caller sizes the record's slice");
    let mut sys_flag = r.sys_flag & !(sysflag::BORNHOST_V6 | sysflag::STOREHOST_V6);
    if is_v6_host(r.born_host) {
        sys_flag |= sysflag::BORNHOST_V6;
    }
    if is_v6_host(r.store_host) {
        sys_flag |= sysflag::STOREHOST_V6;
    }
    let mut c = Cursor { out, at: 0 };
    c.put(&(total as i32).to_be_bytes());
    c.put(&MESSAGE_MAGIC.to_be_bytes());
    c.put(&body_crc.to_be_bytes());
    c.put(&r.queue_id.to_be_bytes());
    c.put(&r.flag.to_be_bytes());
    c.put(&r.queue_offset.to_be_bytes());
    c.put(&r.physical_offset.to_be_bytes());
    c.put(&sys_flag.to_be_bytes());
    c.put(&r.born_timestamp.to_be_bytes());
    c.host(r.born_host);
    c.put(&r.store_timestamp.to_be_bytes());
    c.host(r.store_host);
    c.put(&r.reconsume_times.to_be_bytes());
    c.put(&r.prepared_transaction_offset.to_be_bytes());
    c.put(&(r.body.len() as i32).to_be_bytes());
    c.put(r.body);
    c.put(&[r.topic.len() as u8]);
    c.put(r.topic.as_bytes());
    c.put(&(r.properties.len() as i16).to_be_bytes());
    c.put(r.properties.as_bytes());
}

/// Byte offset of STORETIMESTAMP for a record with these SYSFLAG bits.
pub fn store_timestamp_pos(sys_flag: i32) -> usize {
    POS_BORN_HOST + host_len(sys_flag & sysflag::BORNHOST_V6 != 0)
}

/// Overwrite QUEUEOFFSET, PHYSICALOFFSET and STORETIMESTAMP of an encoded record in place (the
/// store encodes outside its append lock and stamps these under it). Returns false, changing
/// nothing, if `rec` is too short to be a record.
pub fn stamp_record(rec: &mut [u8], queue_offset: i64, phys_offset: i64, store_ts: i64) -> bool {
    if rec.len() < MIN_RECORD_LEN {
        return false;
    }
    let Some(sys_flag) = be_i32(rec, POS_SYS_FLAG) else { return false };
    let ts_pos = store_timestamp_pos(sys_flag);
    let fields =
        [(POS_QUEUE_OFFSET, queue_offset), (POS_PHYS_OFFSET, phys_offset), (ts_pos, store_ts)];
    if rec.get(ts_pos..ts_pos + 8).is_none() {
        return false;
    }
    for (pos, v) in fields {
        if let Some(dst) = rec.get_mut(pos..pos + 8) {
            dst.copy_from_slice(&v.to_be_bytes());
        }
    }
    true
}

fn be_i32(b: &[u8], pos: usize) -> Option<i32> {
    Some(i32::from_be_bytes(b.get(pos..pos.checked_add(4)?)?.try_into().ok()?))
}

/// What the first 8 bytes of a commit-log position hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordHeader {
    /// A message record of `total_size` bytes (not yet validated beyond the magic and the minimum size).
    Message {
        /// TOTALSIZE.
        total_size: usize,
    },
    /// End-of-segment filler claiming `size` bytes.
    Blank {
        /// TOTALSIZE of the filler (the bytes left in the segment).
        size: i32,
    },
    /// Anything else: end of valid data.
    Invalid,
}

/// Cheap peek at a record header for dispatch and recovery; `None` when fewer than 8 bytes.
pub fn peek_header(buf: &[u8]) -> Option<RecordHeader> {
    let size = be_i32(buf, POS_TOTAL_SIZE)?;
    let magic = be_i32(buf, POS_MAGIC)?;
    Some(match magic {
        MESSAGE_MAGIC if size >= MIN_RECORD_LEN as i32 => {
            RecordHeader::Message { total_size: size as usize }
        }
        BLANK_MAGIC if size >= BLANK_LEN as i32 => RecordHeader::Blank { size },
        _ => RecordHeader::Invalid,
    })
}

/// Largest record the store writes for bodies of at most `max_message_size` bytes: the fixed
/// fields with IPv6 hosts plus the longest topic and properties. A stored TOTALSIZE above it lies.
pub fn max_record_len(max_message_size: usize) -> usize {
    encoded_len(max_message_size, MAX_TOPIC_LEN, MAX_PROPERTIES_LEN, true, true)
}

/// The checked length of the message record at the start of `buf`: message magic, TOTALSIZE at
/// least [`MIN_RECORD_LEN`], at most `max_total` (see [`max_record_len`]) and within `buf` (the
/// file's published bytes). For reads that copy a record by its own size field
/// (VIEW_MESSAGE_BY_ID, issue 13), so a lying size costs neither a huge copy nor a read past the
/// file.
pub fn record_span(buf: &[u8], max_total: usize) -> Result<usize, RecordError> {
    let mut r = Reader::new(buf);
    let total = r.i32("TOTALSIZE")?;
    let magic = r.i32("MAGICCODE")?;
    if magic == BLANK_MAGIC {
        return Err(RecordError {
            what: "MAGICCODE",
            kind: RecordErrorKind::Blank { size: total },
        });
    }
    if magic != MESSAGE_MAGIC {
        return Err(RecordError { what: "MAGICCODE", kind: RecordErrorKind::BadMagic(magic) });
    }
    let len = usize::try_from(total)
        .ok()
        .filter(|&n| n >= MIN_RECORD_LEN)
        .ok_or_else(|| RecordError::bad_length("TOTALSIZE", total.into()))?;
    if len > max_total {
        return Err(RecordError::too_large("TOTALSIZE", len, max_total));
    }
    if len > buf.len() {
        return Err(RecordError::truncated("record", len, buf.len()));
    }
    Ok(len)
}

/// [`decode_view`] with TOTALSIZE also capped at `max_total` (see [`max_record_len`]).
pub fn decode_view_capped(
    buf: &[u8],
    check_crc: bool,
    max_total: usize,
) -> Result<(RecordView<'_>, usize), RecordError> {
    let len = record_span(buf, max_total)?;
    decode_view(buf.get(..len).unwrap_or(buf), check_crc)
}

/// Decode one record at the start of `buf` without copying its variable-length fields.
pub fn decode_view(buf: &[u8], check_crc: bool) -> Result<(RecordView<'_>, usize), RecordError> {
    let mut r = Reader::new(buf);
    let total = r.i32("TOTALSIZE")?;
    let magic = r.i32("MAGICCODE")?;
    if magic == BLANK_MAGIC {
        return Err(RecordError {
            what: "MAGICCODE",
            kind: RecordErrorKind::Blank { size: total },
        });
    }
    if magic != MESSAGE_MAGIC {
        return Err(RecordError { what: "MAGICCODE", kind: RecordErrorKind::BadMagic(magic) });
    }
    if total < MIN_RECORD_LEN as i32 {
        return Err(RecordError::bad_length("TOTALSIZE", total as i64));
    }
    let total = total as usize;
    let rec = buf.get(..total).ok_or_else(|| RecordError::truncated("record", total, buf.len()))?;
    let mut r = Reader::new(rec);
    r.pos = POS_BODY_CRC;
    let body_crc = r.i32("BODYCRC")?;
    let queue_id = r.i32("QUEUEID")?;
    let flag = r.i32("FLAG")?;
    let queue_offset = r.i64("QUEUEOFFSET")?;
    let physical_offset = r.i64("PHYSICALOFFSET")?;
    let sys_flag = r.i32("SYSFLAG")?;
    let born_timestamp = r.i64("BORNTIMESTAMP")?;
    let born_host = r.host(sys_flag & sysflag::BORNHOST_V6 != 0, "BORNHOST")?;
    let store_timestamp = r.i64("STORETIMESTAMP")?;
    let store_host = r.host(sys_flag & sysflag::STOREHOST_V6 != 0, "STOREHOST")?;
    let reconsume_times = r.i32("RECONSUMETIMES")?;
    let prepared_transaction_offset = r.i64("PREPAREDTRANSACTIONOFFSET")?;
    let body_len = r.len_i32("BODYLEN")?;
    let body = r.bytes(body_len, "BODY")?;
    let topic_len = r.i8("TOPICLEN")?;
    let topic_len = usize::try_from(topic_len)
        .map_err(|_| RecordError::bad_length("TOPICLEN", topic_len.into()))?;
    let topic = r.bytes(topic_len, "TOPIC")?;
    let prop_len = r.i16("PROPLEN")?;
    let prop_len = usize::try_from(prop_len)
        .map_err(|_| RecordError::bad_length("PROPLEN", prop_len.into()))?;
    let properties = r.bytes(prop_len, "PROPERTIES")?;
    if r.pos != total {
        return Err(RecordError {
            what: "record",
            kind: RecordErrorKind::Mismatch { declared: total, actual: r.pos },
        });
    }
    if check_crc {
        let computed = masked_crc32(body);
        if computed != body_crc {
            return Err(RecordError {
                what: "BODY",
                kind: RecordErrorKind::Crc { stored: body_crc, computed },
            });
        }
    }
    let topic = std::str::from_utf8(topic)
        .map_err(|_| RecordError { what: "TOPIC", kind: RecordErrorKind::Utf8 })?;
    let properties = std::str::from_utf8(properties)
        .map_err(|_| RecordError { what: "PROPERTIES", kind: RecordErrorKind::Utf8 })?;
    let view = RecordView {
        total_size: total,
        body_crc,
        queue_id,
        flag,
        queue_offset,
        physical_offset,
        sys_flag,
        born_timestamp,
        born_host,
        store_timestamp,
        store_host,
        reconsume_times,
        prepared_transaction_offset,
        body,
        topic,
        properties,
    };
    Ok((view, total))
}

/// Decodes one record at the start of `buf`; checks magic, TOTALSIZE bounds, that lengths add up,
/// and (if `check_crc`) the body CRC. Returns the record and its total size. Never panics.
pub fn decode_record(buf: &[u8], check_crc: bool) -> Result<(MessageRecord, usize), RecordError> {
    decode_view(buf, check_crc).map(|(v, n)| (v.to_record(), n))
}

/// Separator between a property name and its value.
pub const NAME_VALUE_SEPARATOR: char = '\u{1}';
/// Separator between properties.
pub const PROPERTY_SEPARATOR: char = '\u{2}';

fn property_pairs(s: &str) -> impl Iterator<Item = (&str, &str)> {
    s.split(PROPERTY_SEPARATOR).filter_map(|seg| {
        let (k, v) = seg.split_once(NAME_VALUE_SEPARATOR)?;
        if k.is_empty() || v.is_empty() {
            None
        } else {
            Some((k, v))
        }
    })
}

/// Properties string (§3.4): key \x01 value \x02 ...; accepts a trailing \x02 and skips pairs with
/// an empty key or value (as Java does).
pub fn parse_properties(s: &str) -> Vec<(String, String)> {
    property_pairs(s).map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// Value of `key` in a properties string (the last one wins, as in Java's HashMap).
pub fn get_property<'a>(props: &'a str, key: &str) -> Option<&'a str> {
    let [v] = get_properties(props, [key]);
    v
}

/// Values of several keys in one pass over a properties string (the last one of each wins).
pub fn get_properties<'a, const N: usize>(props: &'a str, keys: [&str; N]) -> [Option<&'a str>; N] {
    let mut found = [None; N];
    for (k, v) in property_pairs(props) {
        if let Some(i) = keys.iter().position(|key| *key == k) {
            if let Some(slot) = found.get_mut(i) {
                *slot = Some(v);
            }
        }
    }
    found
}

/// Rewrite a properties string in one pass, without decoding it into pairs: every pair whose
/// key is in `drop` goes (malformed pairs go too, as a decode-encode would drop them), then
/// `add` is appended. Equal to decoding, filtering, pushing and encoding.
pub fn edit_properties(props: &str, drop: &[&str], add: &[(&str, &str)]) -> String {
    let extra: usize = add.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut s = String::with_capacity(props.len() + extra);
    for (k, v) in
        property_pairs(props).filter(|(k, _)| !drop.contains(k)).chain(add.iter().copied())
    {
        if !s.is_empty() {
            s.push(PROPERTY_SEPARATOR);
        }
        s.push_str(k);
        s.push(NAME_VALUE_SEPARATOR);
        s.push_str(v);
    }
    s
}

/// Encode pairs as a properties string, without a trailing separator.
pub fn encode_properties<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut s = String::new();
    for (k, v) in pairs {
        if !s.is_empty() {
            s.push(PROPERTY_SEPARATOR);
        }
        s.push_str(k);
        s.push(NAME_VALUE_SEPARATOR);
        s.push_str(v);
    }
    s
}

/// Java `String.hashCode` over UTF-16 code units, sign-extended to i64 ("TagA" -> 2598919).
pub fn tag_hash(tag: &str) -> i64 {
    tag.encode_utf16().fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32)) as i64
}

/// Offset message id (§3.7): uppercase hex of store host IP bytes + port (i32 BE) + physical
/// offset (i64 BE).
pub fn offset_msg_id(store_host: SocketAddr, phys_offset: i64) -> String {
    let mut bytes = Vec::with_capacity(28);
    put_host(&mut bytes, store_host);
    bytes.extend_from_slice(&phys_offset.to_be_bytes());
    // Plain nibble arithmetic rather than `write!`: this runs once per stored message.
    fn nibble(n: u8) -> char {
        (if n < 10 { b'0' + n } else { b'A' + n - 10 }) as char
    }
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(nibble(b >> 4));
        s.push(nibble(b & 0xF));
    }
    s
}

/// Inverse of [`offset_msg_id`]: 32 hex chars (IPv4) or 56 (IPv6); `None` otherwise.
pub fn decode_offset_msg_id(id: &str) -> Option<(SocketAddr, i64)> {
    if id.len() != 32 && id.len() != 56 {
        return None;
    }
    let bytes = id
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).ok().and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect::<Option<Vec<u8>>>()?;
    let mut r = Reader::new(&bytes);
    let addr = r.host(bytes.len() == 28, "msgId").ok()?;
    let off = r.i64("msgId").ok()?;
    let addr = match addr {
        SocketAddr::V6(a) => SocketAddr::V6(SocketAddrV6::new(*a.ip(), a.port(), 0, 0)),
        a => a,
    };
    Some((addr, off))
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    #[test]
    fn edit_properties_equals_decode_filter_encode() {
        let cases = [
            "",
            "WAIT\u{1}true\u{2}TAGS\u{1}A",
            "CLUSTER\u{1}x\u{2}\u{2}K\u{1}\u{2}WAIT\u{1}false\u{2}",
        ];
        for p in cases {
            let mut pairs = parse_properties(p);
            pairs.retain(|(k, _)| k != "WAIT" && k != "CLUSTER");
            pairs.push(("CLUSTER".into(), "c1".into()));
            let want = encode_properties(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            assert_eq!(edit_properties(p, &["WAIT", "CLUSTER"], &[("CLUSTER", "c1")]), want);
        }
    }

    #[test]
    fn get_properties_equals_get_property_for_each_key() {
        let cases =
            ["", "WAIT\u{1}true\u{2}TAGS\u{1}A", "K\u{1}1\u{2}\u{2}W\u{1}\u{2}K\u{1}2\u{2}D\u{1}3"];
        for p in cases {
            let keys = ["K", "W", "D", "TAGS", "none"];
            // The last pair of each key, found the plain way.
            let want =
                keys.map(|k| property_pairs(p).filter(|(pk, _)| *pk == k).map(|(_, v)| v).last());
            assert_eq!(get_properties(p, keys), want, "{p:?}");
        }
    }

    use super::*;

    fn sample(born: &str, store: &str) -> MessageRecord {
        MessageRecord {
            queue_id: 3,
            flag: 7,
            queue_offset: 42,
            physical_offset: 123_456,
            sys_flag: sysflag::TRANSACTION_COMMIT,
            born_timestamp: 1_700_000_000_000,
            born_host: born.parse().unwrap(),
            store_timestamp: 1_700_000_000_123,
            store_host: store.parse().unwrap(),
            reconsume_times: 2,
            prepared_transaction_offset: 99,
            body: b"hello world".to_vec(),
            topic: "TopicTest".into(),
            properties: encode_properties([("TAGS", "TagA"), ("KEYS", "k1 k2")]),
            body_crc: 0,
        }
    }

    #[test]
    fn round_trip_v4_and_v6() {
        for (born, store) in [
            ("10.0.0.1:5555", "127.0.0.1:10911"),
            ("[::1]:5555", "127.0.0.1:10911"),
            ("10.0.0.1:5555", "[fe80::1]:10911"),
        ] {
            let r = sample(born, store);
            let mut out = Vec::new();
            encode_record(&r, &mut out);
            assert_eq!(
                out.len(),
                encoded_len(
                    11,
                    9,
                    r.properties.len(),
                    is_v6_host(r.born_host),
                    is_v6_host(r.store_host)
                )
            );
            let (d, n) = decode_record(&out, true).unwrap();
            assert_eq!(n, out.len());
            let mut want = r.clone();
            want.body_crc = masked_crc32(&r.body);
            want.sys_flag = d.sys_flag;
            assert_eq!(d, want);
            assert_eq!(d.sys_flag & !0x30, r.sys_flag);
        }
        // IPv4 layout positions
        let mut out = Vec::new();
        encode_record(&sample("10.0.0.1:5555", "127.0.0.1:10911"), &mut out);
        assert_eq!(out.len(), 91 + 11 + 9 + sample("1.1.1.1:1", "1.1.1.1:1").properties.len());
        assert_eq!(&out[56..64], &1_700_000_000_123i64.to_be_bytes());
    }

    #[test]
    fn mapped_v6_written_as_v4() {
        let r = sample("[::ffff:10.1.2.3]:5555", "[::ffff:127.0.0.1]:10911");
        let mut out = Vec::new();
        encode_record(&r, &mut out);
        let (d, _) = decode_record(&out, true).unwrap();
        assert_eq!(d.sys_flag & 0x30, 0);
        assert_eq!(d.born_host, "10.1.2.3:5555".parse().unwrap());
        assert_eq!(d.store_host, "127.0.0.1:10911".parse().unwrap());
    }

    #[test]
    fn prefixes_fail_cleanly_and_crc_detects_flip() {
        let mut out = Vec::new();
        encode_record(&sample("[::1]:1", "1.2.3.4:5"), &mut out);
        for i in 0..out.len() {
            let e = decode_record(&out[..i], true).unwrap_err();
            assert!(e.is_torn(), "prefix {i}: {e}");
        }
        let mut bad = out.clone();
        bad[90 + 12] ^= 0x40; // a body byte (born host is v6: +12)
        assert!(decode_record(&bad, true).unwrap_err().is_crc_mismatch());
        assert!(decode_record(&bad, false).is_ok());
        // mutate every byte: never panics
        for i in 0..out.len() {
            for x in [0x01u8, 0x80, 0xFF] {
                let mut m = out.clone();
                m[i] ^= x;
                let _ = decode_record(&m, true);
            }
        }
    }

    #[test]
    fn blank_and_peek() {
        let mut b = Vec::new();
        b.extend_from_slice(&100i32.to_be_bytes());
        b.extend_from_slice(&BLANK_MAGIC.to_be_bytes());
        let e = decode_record(&b, true).unwrap_err();
        assert!(e.is_blank());
        assert_eq!(e.blank_size(), Some(100));
        assert_eq!(peek_header(&b), Some(RecordHeader::Blank { size: 100 }));
        assert_eq!(peek_header(&[0u8; 8]), Some(RecordHeader::Invalid));
        assert_eq!(peek_header(&[0u8; 7]), None);
    }

    #[test]
    fn stamp_updates_fields() {
        for born in ["1.1.1.1:1", "[::2]:3"] {
            let mut out = Vec::new();
            encode_record(&sample(born, "1.2.3.4:5"), &mut out);
            assert!(stamp_record(&mut out, 5, 6, 7));
            let (d, _) = decode_record(&out, true).unwrap();
            assert_eq!((d.queue_offset, d.physical_offset, d.store_timestamp), (5, 6, 7));
        }
    }

    #[test]
    fn tag_hash_vectors() {
        assert_eq!(tag_hash("TagA"), 2598919);
        assert_eq!(tag_hash("*"), 42);
        assert_eq!(tag_hash(""), 0);
        // "hello world".hashCode() = 1794106052; a negative one:
        assert_eq!(tag_hash("hello world"), 1794106052);
        assert_eq!(tag_hash("polygenelubricants"), i32::MIN as i64);
        // non-BMP: surrogate pairs are hashed as two units
        assert_eq!(tag_hash("\u{1F600}"), (0xD83Di32 * 31 + 0xDE00) as i64);
    }

    #[test]
    fn msg_id_round_trip() {
        let a: SocketAddr = "192.168.0.1:10911".parse().unwrap();
        let id = offset_msg_id(a, 0x1234_5678_9ABC);
        assert_eq!(id, "C0A8000100002A9F0000123456789ABC");
        assert_eq!(decode_offset_msg_id(&id), Some((a, 0x1234_5678_9ABC)));
        let b: SocketAddr = "[2001:db8::1]:10911".parse().unwrap();
        let id6 = offset_msg_id(b, 7);
        assert_eq!(id6.len(), 56);
        assert_eq!(decode_offset_msg_id(&id6), Some((b, 7)));
        assert_eq!(decode_offset_msg_id("XYZ"), None);
        assert_eq!(decode_offset_msg_id(&"G".repeat(32)), None);
        assert_eq!(decode_offset_msg_id("é".repeat(16).as_str()), None);
    }

    #[test]
    fn properties() {
        let s = encode_properties([("TAGS", "A"), ("KEYS", "k")]);
        assert_eq!(s, "TAGS\u{1}A\u{2}KEYS\u{1}k");
        let want = vec![("TAGS".to_string(), "A".to_string()), ("KEYS".into(), "k".into())];
        assert_eq!(parse_properties(&s), want);
        assert_eq!(parse_properties(&format!("{s}\u{2}")), want);
        assert_eq!(
            parse_properties("a\u{1}\u{2}\u{1}b\u{2}x\u{1}y\u{2}\u{2}"),
            vec![("x".into(), "y".into())]
        );
        assert_eq!(get_property(&s, "KEYS"), Some("k"));
        assert_eq!(get_property(&format!("{s}\u{2}"), "TAGS"), Some("A"));
        assert_eq!(get_property(&s, "NOPE"), None);
        assert_eq!(get_property("", "TAGS"), None);
    }

    #[test]
    fn lying_size_field_is_bounded_by_cap_and_buffer() {
        let mut rec = Vec::new();
        encode_record(&sample("1.1.1.1:1", "1.2.3.4:5"), &mut rec);
        let n = rec.len();
        let cap = max_record_len(4 * 1024 * 1024);
        assert_eq!(cap, 4 * 1024 * 1024 + MIN_RECORD_LEN + 24 + MAX_TOPIC_LEN + MAX_PROPERTIES_LEN);
        let mut file = rec.clone();
        file.extend_from_slice(&[0u8; 64]);
        assert_eq!(record_span(&file, cap).unwrap(), n);
        assert_eq!(decode_view_capped(&file, true, cap).unwrap().1, n);
        for (size, torn, large) in [
            (i32::MAX, false, true),
            (n as i32 + 64 + 1, true, false),
            (cap as i32 + 1, false, true),
        ] {
            let mut f = file.clone();
            f[..4].copy_from_slice(&size.to_be_bytes());
            let e = record_span(&f, cap).unwrap_err();
            assert_eq!((e.is_torn(), e.is_too_large()), (torn, large), "size {size}: {e}");
            assert!(decode_view_capped(&f, false, cap).is_err());
        }
        for size in [-1i32, 0, MIN_RECORD_LEN as i32 - 1] {
            let mut f = file.clone();
            f[..4].copy_from_slice(&size.to_be_bytes());
            assert!(record_span(&f, cap).is_err(), "size {size}");
        }
        // A size within the buffer but not matching the fields: decode refuses it.
        let mut f = file.clone();
        f[..4].copy_from_slice(&(n as i32 + 8).to_be_bytes());
        assert_eq!(record_span(&f, cap).unwrap(), n + 8);
        assert!(decode_view_capped(&f, false, cap).is_err());
        // A port that does not fit in 16 bits is an error, not a truncation.
        let mut f = rec.clone();
        f[POS_BORN_HOST + 4..POS_BORN_HOST + 8].copy_from_slice(&70_000i32.to_be_bytes());
        assert!(decode_record(&f, false).is_err());
    }
}
