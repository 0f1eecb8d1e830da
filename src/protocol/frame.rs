//! Frame codec (§1.1-1.4): `length: i32 | headerWord: i32 | header | body`, both header forms.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 4 | length of everything after this word (`4 + headerLength + bodyLength`) |
//! | 4 | 4 | header word: top byte = serialize type (0 JSON, 1 ROCKETMQ), low 24 bits = header length |
//! | 8 | headerLength | header |
//! | 8 + headerLength | rest | body |
//!
//! Decoding is incremental and total: a strict prefix gives `Ok(None)`, every declared length is
//! checked against its cap before anything is allocated, and no input panics.
#![deny(clippy::indexing_slicing, clippy::unwrap_used)]

use super::codes::{language_name, language_ordinal};
use super::command::{RemotingCommand, SerializeType};
use super::ext_fields::Builder;
use std::fmt;
use std::ops::Range;

/// Default cap on a whole frame, length word included (NettyDecoder's 16 MiB).
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;
/// Cap on the number of ext fields in one header.
pub const MAX_EXT_FIELDS: usize = 4096;
/// Fixed part of a ROCKETMQ binary header.
const BINARY_FIXED_LEN: usize = 2 + 1 + 2 + 4 + 4 + 4 + 4;

/// Why a frame could not be decoded. The connection that sent it should be closed.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    what: &'static str,
    kind: DecodeErrorKind,
}

#[derive(Debug, Clone, PartialEq)]
enum DecodeErrorKind {
    TooLarge { len: u64, max: usize },
    BadLength { len: i64 },
    Invalid(String),
}

impl DecodeError {
    fn too_large(what: &'static str, len: u64, max: usize) -> Self {
        DecodeError { what, kind: DecodeErrorKind::TooLarge { len, max } }
    }
    fn bad_length(what: &'static str, len: i64) -> Self {
        DecodeError { what, kind: DecodeErrorKind::BadLength { len } }
    }
    fn invalid(what: &'static str, why: impl Into<String>) -> Self {
        DecodeError { what, kind: DecodeErrorKind::Invalid(why.into()) }
    }
    /// True when a declared length exceeded a cap (an oversized frame).
    pub fn is_too_large(&self) -> bool {
        matches!(self.kind, DecodeErrorKind::TooLarge { .. })
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DecodeErrorKind::TooLarge { len, max } => {
                write!(f, "{} of {} bytes exceeds the limit of {} bytes", self.what, len, max)
            }
            DecodeErrorKind::BadLength { len } => {
                write!(f, "{} has an impossible value {}", self.what, len)
            }
            DecodeErrorKind::Invalid(why) => write!(f, "{} is malformed: {}", self.what, why),
        }
    }
}

impl std::error::Error for DecodeError {}

/// The first four bytes of `b` as a big-endian u32.
fn be4(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

/// Decode one frame from the start of `buf`. `Ok(None)` means more bytes are needed; on success the
/// number of bytes consumed is returned with the command.
pub fn decode(
    buf: &[u8],
    max_frame: usize,
) -> Result<Option<(RemotingCommand, usize)>, DecodeError> {
    let Some((mut cmd, body, used)) = decode_head(buf, max_frame)? else { return Ok(None) };
    cmd.body = buf.get(body).unwrap_or_default().to_vec();
    Ok(Some((cmd, used)))
}

/// As [`decode`], leaving the body where it is: the command comes with an empty body, the
/// range of `buf` that holds its body, and the number of bytes consumed.
pub fn decode_head(
    buf: &[u8],
    max_frame: usize,
) -> Result<Option<(RemotingCommand, Range<usize>, usize)>, DecodeError> {
    let Some(length) = be4(buf) else { return Ok(None) };
    let length = length as i32;
    if length < 4 {
        return Err(DecodeError::bad_length("frame length", length as i64));
    }
    let total = length as usize + 4;
    if total > max_frame {
        return Err(DecodeError::too_large("frame", total as u64, max_frame));
    }
    let Some(frame) = buf.get(4..total) else { return Ok(None) };
    let word =
        be4(frame).ok_or_else(|| DecodeError::bad_length("header word", frame.len() as i64))?;
    let rest = frame.get(4..).unwrap_or_default();
    let header_len = (word & 0x00FF_FFFF) as usize;
    if header_len > rest.len() {
        return Err(DecodeError::bad_length("header length", header_len as i64));
    }
    let header = rest.get(..header_len).unwrap_or_default();
    let cmd = match word >> 24 {
        0 => decode_json_header(header)?,
        1 => decode_binary_header(header)?,
        t => {
            return Err(DecodeError::invalid("header serialize type", format!("unknown type {t}")))
        }
    };
    Ok(Some((cmd, 8 + header_len..total, total)))
}

fn decode_json_header(header: &[u8]) -> Result<RemotingCommand, DecodeError> {
    super::json_header::decode(header, MAX_EXT_FIELDS)
        .map_err(|e| DecodeError::invalid("JSON header", e.0))
}

/// Reads big-endian values from a header, naming what it reads on failure.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError::bad_length(what, n as i64));
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?.first().copied().unwrap_or(0))
    }
    fn i16(&mut self, what: &'static str) -> Result<i16, DecodeError> {
        let b = self.take(2, what)?;
        Ok(i16::from_be_bytes(b.try_into().map_err(|_| DecodeError::bad_length(what, 2))?))
    }
    fn i32(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        let b = self.take(4, what)?;
        Ok(i32::from_be_bytes(b.try_into().map_err(|_| DecodeError::bad_length(what, 4))?))
    }
    fn string(&mut self, len: i64, what: &'static str) -> Result<Option<String>, DecodeError> {
        if len < 0 || len as usize > self.buf.len() {
            return Err(DecodeError::bad_length(what, len));
        }
        if len == 0 {
            return Ok(None);
        }
        let b = self.take(len as usize, what)?;
        String::from_utf8(b.to_vec()).map(Some).map_err(|_| DecodeError::invalid(what, "not UTF-8"))
    }
}

fn decode_binary_header(header: &[u8]) -> Result<RemotingCommand, DecodeError> {
    if header.len() < BINARY_FIXED_LEN {
        return Err(DecodeError::bad_length("binary header length", header.len() as i64));
    }
    let mut r = Reader { buf: header };
    let code = r.i16("header code")?;
    let lang = r.u8("header language")?;
    let version = r.i16("header version")?;
    let mut cmd = RemotingCommand::request(code as i32);
    cmd.serialize_type = SerializeType::RocketMq;
    cmd.language = language_name(lang).into();
    cmd.version = version as i32;
    cmd.opaque = r.i32("header opaque")?;
    cmd.flag = r.i32("header flag")?;
    let remark_len = r.i32("remark length")?;
    cmd.remark = r.string(remark_len as i64, "remark")?;
    let ext_len = r.i32("ext fields length")?;
    if ext_len < 0 || ext_len as usize > r.buf.len() {
        return Err(DecodeError::bad_length("ext fields length", ext_len as i64));
    }
    let mut ext = Reader { buf: r.take(ext_len as usize, "ext fields")? };
    let mut fields = Builder::with_capacity(ext_len as usize);
    while !ext.buf.is_empty() {
        if fields.len() >= MAX_EXT_FIELDS {
            return Err(DecodeError::too_large(
                "ext field count",
                MAX_EXT_FIELDS as u64 + 1,
                MAX_EXT_FIELDS,
            ));
        }
        let klen = ext.i16("ext key length")?;
        let key = ext.string(klen as i64, "ext key")?;
        let vlen = ext.i32("ext value length")?;
        let val = ext.string(vlen as i64, "ext value")?;
        // Java decodes a zero-length string as null; such entries vanish.
        if let (Some(k), Some(v)) = (key, val) {
            fields.push_str(&k, &v);
        }
    }
    cmd.ext_fields = fields.finish();
    Ok(cmd)
}

/// Append the encoding of `cmd` (in `cmd.serialize_type`) to `out`, its tail included.
pub fn encode(cmd: &RemotingCommand, out: &mut Vec<u8>) {
    encode_head(cmd, out);
    for t in &cmd.tail {
        out.extend_from_slice(t.as_slice());
    }
}

/// Append the encoding of `cmd` without its tail (whose length the frame's length counts): the
/// writer sends the tail's bytes from where they lie, right after these.
pub fn encode_head(cmd: &RemotingCommand, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0u8; 8]);
    match cmd.serialize_type {
        SerializeType::Json => encode_json_header(cmd, out),
        SerializeType::RocketMq => encode_binary_header(cmd, out),
    }
    let header_len = out.len() - start - 8;
    out.extend_from_slice(&cmd.body);
    let tail: usize = cmd.tail.iter().map(|t| t.len()).sum();
    let length = (out.len() - start - 4 + tail) as u32;
    let type_byte: u32 = match cmd.serialize_type {
        SerializeType::Json => 0,
        SerializeType::RocketMq => 1,
    };
    let word = (type_byte << 24) | (header_len as u32 & 0x00FF_FFFF);
    if let Some(prefix) = out.get_mut(start..start + 4) {
        prefix.copy_from_slice(&length.to_be_bytes());
    }
    if let Some(prefix) = out.get_mut(start + 4..start + 8) {
        prefix.copy_from_slice(&word.to_be_bytes());
    }
}

/// Encode into a fresh buffer (the tail copied in).
pub fn encode_to_vec(cmd: &RemotingCommand) -> Vec<u8> {
    let mut v = Vec::with_capacity(128 + cmd.body_len());
    encode(cmd, &mut v);
    v
}

fn push_int(out: &mut Vec<u8>, n: i32) {
    use std::io::Write;
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{n}");
}

fn push_json_str(out: &mut Vec<u8>, s: &str) {
    // serde_json's string escaping; writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// JSON header as Java writes it: compact, members sorted, ext values always strings (§1.9).
fn encode_json_header(cmd: &RemotingCommand, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"code\":");
    push_int(out, cmd.code);
    if !cmd.ext_fields.is_empty() {
        out.extend_from_slice(b",\"extFields\":{");
        for (i, (k, v)) in cmd.ext_fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_json_str(out, k);
            out.push(b':');
            push_json_str(out, v);
        }
        out.push(b'}');
    }
    out.extend_from_slice(b",\"flag\":");
    push_int(out, cmd.flag);
    out.extend_from_slice(b",\"language\":");
    push_json_str(out, &cmd.language);
    out.extend_from_slice(b",\"opaque\":");
    push_int(out, cmd.opaque);
    if let Some(r) = &cmd.remark {
        out.extend_from_slice(b",\"remark\":");
        push_json_str(out, r);
    }
    out.extend_from_slice(b",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":");
    push_int(out, cmd.version);
    out.push(b'}');
}

fn encode_binary_header(cmd: &RemotingCommand, out: &mut Vec<u8>) {
    out.extend_from_slice(&(cmd.code as i16).to_be_bytes());
    out.push(language_ordinal(&cmd.language));
    out.extend_from_slice(&(cmd.version as i16).to_be_bytes());
    out.extend_from_slice(&cmd.opaque.to_be_bytes());
    out.extend_from_slice(&cmd.flag.to_be_bytes());
    let remark = cmd.remark.as_deref().unwrap_or("");
    out.extend_from_slice(&(remark.len() as i32).to_be_bytes());
    out.extend_from_slice(remark.as_bytes());
    let len_pos = out.len();
    out.extend_from_slice(&[0u8; 4]);
    for (k, v) in cmd.ext_fields.iter() {
        // Java skips null keys/values; empty strings would decode as null, so skip them too.
        if k.is_empty() || v.is_empty() {
            continue;
        }
        out.extend_from_slice(&(k.len() as i16).to_be_bytes());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&(v.len() as i32).to_be_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    let ext_len = (out.len() - len_pos - 4) as i32;
    if let Some(slot) = out.get_mut(len_pos..len_pos + 4) {
        slot.copy_from_slice(&ext_len.to_be_bytes());
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn sample(st: SerializeType) -> RemotingCommand {
        let mut c = RemotingCommand::request(310)
            .with("a", "PG")
            .with("b", "Topic\"Ä")
            .with("e", 3)
            .with_body(b"hello\x00world".to_vec());
        c.opaque = -7;
        c.remark = Some("r\nx".into());
        c.language = "CPP".into();
        c.serialize_type = st;
        c
    }

    #[test]
    fn round_trip_both_forms() {
        for st in [SerializeType::Json, SerializeType::RocketMq] {
            let c = sample(st);
            let bytes = encode_to_vec(&c);
            let (d, n) = decode(&bytes, DEFAULT_MAX_FRAME).unwrap().unwrap();
            assert_eq!(n, bytes.len());
            assert_eq!(d, c);
            for cut in 0..bytes.len() {
                assert_eq!(decode(&bytes[..cut], DEFAULT_MAX_FRAME).unwrap(), None, "prefix {cut}");
            }
        }
    }

    #[test]
    fn appendix_a_binary_example() {
        let hex = "00000026 01000022 0069 00 0199 00000001 00000000 00000000 0000000d 0005 746f706963 00000002 5431"
            .replace(' ', "");
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let (c, n) = decode(&bytes, DEFAULT_MAX_FRAME).unwrap().unwrap();
        assert_eq!(n, bytes.len());
        assert_eq!((c.code, c.version, c.opaque, c.flag), (105, 409, 1, 0));
        assert_eq!(c.field("topic"), Some("T1"));
        assert_eq!(c.language, "JAVA");
    }

    #[test]
    fn cpp_style_json_values() {
        let h = br#"{"code":10,"extFields":{"queueId":3,"batch":"1","x":null,"f":1.0,"b":false},"flag":0,"language":"CPP","opaque":5,"remark":"","version":63}
"#;
        let mut f = Vec::new();
        f.extend_from_slice(&((4 + h.len()) as u32).to_be_bytes());
        f.extend_from_slice(&(h.len() as u32).to_be_bytes());
        f.extend_from_slice(h);
        let (c, _) = decode(&f, DEFAULT_MAX_FRAME).unwrap().unwrap();
        assert_eq!(c.i32_field("queueId").unwrap(), 3);
        assert!(c.bool_field("batch"));
        assert_eq!(c.field("x"), None);
        assert_eq!(c.i32_field("f").unwrap(), 1);
        assert_eq!(c.field("b"), Some("false"));
    }

    #[test]
    fn caps_and_garbage() {
        let mut big = vec![0x01, 0x00, 0x00, 0x01];
        big.extend_from_slice(&[0; 16]);
        assert!(decode(&big, DEFAULT_MAX_FRAME).unwrap_err().is_too_large());
        assert!(decode(&[0xff, 0xff, 0xff, 0xff], DEFAULT_MAX_FRAME).is_err());
        assert!(decode(&[0, 0, 0, 6, 0, 0, 0, 9, 1, 2], DEFAULT_MAX_FRAME).is_err());
        assert!(decode(&[0, 0, 0, 6, 0, 0, 0, 2, b'{', b'x'], DEFAULT_MAX_FRAME).is_err());
        assert!(decode(&[0, 0, 0, 6, 7, 0, 0, 2, b'{', b'}'], DEFAULT_MAX_FRAME).is_err());
        // seeded xorshift mutation: never panics
        let base = encode_to_vec(&sample(SerializeType::RocketMq));
        let base_json = encode_to_vec(&sample(SerializeType::Json));
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut b = if seed & 1 == 0 { base.clone() } else { base_json.clone() };
            let i = (seed >> 8) as usize % b.len();
            b[i] ^= (seed >> 32) as u8 | 1;
            let _ = decode(&b, 1 << 20);
        }
    }
}
