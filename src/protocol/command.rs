//! `RemotingCommand`: one request or response, with typed access to its ext fields.

use super::codes::{flag, response, RMQ_VERSION};
use super::ext_fields::ExtFields;
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// Memory owned elsewhere whose bytes a frame may carry without a copy (a mapped commit-log
/// segment). `bytes` must never shrink and the bytes a [`BodyRef`] covers must never change.
pub trait SharedBytes: Send + Sync {
    /// The bytes available now.
    fn bytes(&self) -> &[u8];
}

/// A range of a [`SharedBytes`] owner, kept alive by this handle: the part of a body that the
/// writer sends straight from where it lies (a pull's messages, from the mapped commit log).
#[derive(Clone)]
pub struct BodyRef {
    owner: Arc<dyn SharedBytes>,
    start: usize,
    len: usize,
}

impl BodyRef {
    /// `len` bytes of `owner` from `start`, if they are there.
    pub fn new(owner: Arc<dyn SharedBytes>, start: usize, len: usize) -> Option<BodyRef> {
        owner.bytes().get(start..start.checked_add(len)?)?;
        Some(BodyRef { owner, start, len })
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.owner.bytes().get(self.start..self.start + self.len).unwrap_or_default()
    }

    /// Their length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl AsRef<[u8]> for BodyRef {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl fmt::Debug for BodyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BodyRef({} bytes)", self.len)
    }
}

impl PartialEq for BodyRef {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

/// A message body: owned, or a range of a buffer it shares without a copy (a request's body
/// left where the connection read it, see [`RemotingCommand::take_body`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// Bytes of its own.
    Owned(Vec<u8>),
    /// Bytes of another buffer, kept alive by the handle.
    Shared(BodyRef),
}

impl Payload {
    /// The bytes as a vector of their own (a copy only if they are shared).
    pub fn into_vec(self) -> Vec<u8> {
        match self {
            Payload::Owned(v) => v,
            Payload::Shared(r) => r.as_slice().to_vec(),
        }
    }
}

impl Default for Payload {
    fn default() -> Self {
        Payload::Owned(Vec::new())
    }
}

impl From<Vec<u8>> for Payload {
    fn from(v: Vec<u8>) -> Self {
        Payload::Owned(v)
    }
}

impl std::ops::Deref for Payload {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Payload::Owned(v) => v,
            Payload::Shared(r) => r.as_slice(),
        }
    }
}

/// Header serialization of a frame (§1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerializeType {
    /// UTF-8 JSON header (type byte 0).
    Json,
    /// Compact binary header (type byte 1).
    RocketMq,
}

/// One remoting frame, decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct RemotingCommand {
    /// Request code, or result code of a response.
    pub code: i32,
    /// Sender language name (`"JAVA"`, `"CPP"`, ...).
    pub language: Cow<'static, str>,
    /// Sender version ordinal.
    pub version: i32,
    /// Request id, echoed in the response.
    pub opaque: i32,
    /// Flag bits (§1.5).
    pub flag: i32,
    /// Optional remark (error text of a response).
    pub remark: Option<String>,
    /// The custom header; every value is kept as text.
    pub ext_fields: ExtFields,
    /// Opaque body bytes.
    pub body: Vec<u8>,
    /// More body bytes after `body`, kept where they lie (see [`BodyRef`]); the frame's body is
    /// `body` followed by these. Responses a server sends carry a pull's messages so, straight
    /// from the commit log; a request the server read may carry its body so, still in the
    /// connection's read buffer, for handlers routed to take it ([`RemotingCommand::take_body`]),
    /// and the dispatcher flattens it for every other handler.
    pub tail: Vec<BodyRef>,
    /// Header form this frame arrived in, or is to be sent in.
    pub serialize_type: SerializeType,
}

impl RemotingCommand {
    /// A new request with `code` and no fields.
    pub fn request(code: i32) -> Self {
        RemotingCommand {
            code,
            language: Cow::Borrowed("JAVA"),
            version: RMQ_VERSION,
            opaque: 0,
            flag: 0,
            remark: None,
            ext_fields: ExtFields::new(),
            body: Vec::new(),
            tail: Vec::new(),
            serialize_type: SerializeType::Json,
        }
    }

    /// A response with `code` and an optional remark (opaque and form are set when it is sent).
    pub fn response(code: i32, remark: impl Into<Option<String>>) -> Self {
        let mut c = Self::request(code);
        c.flag = flag::RESPONSE;
        c.remark = remark.into();
        c
    }

    /// Length of the whole body: `body` and `tail`.
    pub fn body_len(&self) -> usize {
        self.body.len() + self.tail.iter().map(BodyRef::len).sum::<usize>()
    }

    /// Take the whole body: the shared bytes themselves when it is exactly one [`BodyRef`] (a
    /// request body left in the read buffer), else `body` with the tail appended.
    pub fn take_body(&mut self) -> Payload {
        if self.body.is_empty() && self.tail.len() == 1 {
            if let Some(r) = self.tail.pop() {
                return Payload::Shared(r);
            }
        }
        self.flatten_tail();
        Payload::Owned(std::mem::take(&mut self.body))
    }

    /// Move the `tail` into `body` (one copy), for code that needs the body in one piece.
    pub fn flatten_tail(&mut self) {
        if self.tail.is_empty() {
            return;
        }
        self.body.reserve(self.body_len() - self.body.len());
        for t in std::mem::take(&mut self.tail) {
            self.body.extend_from_slice(t.as_slice());
        }
    }

    /// A SUCCESS response.
    pub fn success() -> Self {
        Self::response(response::SUCCESS, None)
    }

    /// An error response with a remark.
    pub fn error(code: i32, remark: impl Into<String>) -> Self {
        Self::response(code, Some(remark.into()))
    }

    /// True when bit 0 of the flag is set.
    pub fn is_response(&self) -> bool {
        self.flag & flag::RESPONSE != 0
    }

    /// True when the request expects no response.
    pub fn is_oneway(&self) -> bool {
        self.flag & flag::ONEWAY != 0
    }

    /// Mark this request one-way.
    pub fn set_oneway(&mut self) {
        self.flag |= flag::ONEWAY;
    }

    /// Builder: set an ext field.
    pub fn with(mut self, key: &str, value: impl fmt::Display) -> Self {
        self.ext_fields.insert_display(key, value);
        self
    }

    /// Builder: set the body.
    pub fn with_body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    /// Set an ext field.
    pub fn put(&mut self, key: &str, value: impl fmt::Display) {
        self.ext_fields.insert_display(key, value);
    }

    /// Raw ext field text.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.ext_fields.get(key)
    }

    /// A required string field.
    pub fn str_field(&self, key: &'static str) -> Result<&str, FieldError> {
        self.str_at(key, key)
    }

    /// A required i32 field.
    pub fn i32_field(&self, key: &'static str) -> Result<i32, FieldError> {
        self.i32_at(key, key)
    }

    /// A required i64 field.
    pub fn i64_field(&self, key: &'static str) -> Result<i64, FieldError> {
        self.i64_at(key, key)
    }

    /// An optional i32 field (absent or empty gives `None`; garbage is an error).
    pub fn opt_i32(&self, key: &'static str) -> Result<Option<i32>, FieldError> {
        self.opt_i32_at(key, key)
    }

    /// An optional i64 field.
    pub fn opt_i64(&self, key: &'static str) -> Result<Option<i64>, FieldError> {
        match self.field(key) {
            None | Some("") => Ok(None),
            Some(_) => self.i64_field(key).map(Some),
        }
    }

    /// A required string field stored under `wire` (a V2 short name), reported as `name`.
    pub fn str_at(&self, wire: &str, name: &'static str) -> Result<&str, FieldError> {
        self.field(wire).ok_or(FieldError::missing(name))
    }

    /// A required i32 field stored under `wire`, reported as `name`.
    pub fn i32_at(&self, wire: &str, name: &'static str) -> Result<i32, FieldError> {
        let s = self.str_at(wire, name)?;
        parse_int(s).and_then(|v| i32::try_from(v).ok()).ok_or(FieldError::invalid(name, s))
    }

    /// A required i64 field stored under `wire`, reported as `name`.
    pub fn i64_at(&self, wire: &str, name: &'static str) -> Result<i64, FieldError> {
        let s = self.str_at(wire, name)?;
        parse_int(s).ok_or(FieldError::invalid(name, s))
    }

    /// An optional i32 field stored under `wire`, reported as `name`.
    pub fn opt_i32_at(&self, wire: &str, name: &'static str) -> Result<Option<i32>, FieldError> {
        match self.field(wire) {
            None | Some("") => Ok(None),
            Some(_) => self.i32_at(wire, name).map(Some),
        }
    }

    /// An optional boolean: `true`/`false` in any case and `1`/`0` (the C++ client's form, §1.9).
    pub fn bool_field(&self, key: &str) -> bool {
        matches!(self.field(key).map(|s| s.trim()), Some(s) if s.eq_ignore_ascii_case("true") || s == "1")
    }
}

/// Integers may arrive as `"12"`, `"12.0"` (a JSON float turned to text) or with spaces.
fn parse_int(s: &str) -> Option<i64> {
    let t = s.trim();
    t.parse::<i64>().ok().or_else(|| {
        let f = t.parse::<f64>().ok()?;
        (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
    })
}

/// A missing or malformed ext field of a request.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    field: &'static str,
    value: Option<String>,
}

impl FieldError {
    fn missing(field: &'static str) -> Self {
        FieldError { field, value: None }
    }
    fn invalid(field: &'static str, v: &str) -> Self {
        FieldError { field, value: Some(v.chars().take(64).collect()) }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            None => write!(f, "the request header field '{}' is missing", self.field),
            Some(v) => {
                write!(f, "the request header field '{}' has an invalid value '{}'", self.field, v)
            }
        }
    }
}

impl std::error::Error for FieldError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_fields() {
        let c = RemotingCommand::request(10)
            .with("a", "12")
            .with("b", "-3.0")
            .with("c", "1")
            .with("d", "TRUE")
            .with("e", "x");
        assert_eq!(c.i32_field("a").unwrap(), 12);
        assert_eq!(c.i64_field("b").unwrap(), -3);
        assert!(
            c.bool_field("c") && c.bool_field("d") && !c.bool_field("e") && !c.bool_field("zz")
        );
        assert!(c.i32_field("e").unwrap_err().to_string().contains("'e'"));
        assert!(c.i32_field("zz").unwrap_err().to_string().contains("missing"));
        assert_eq!(c.opt_i32("zz").unwrap(), None);
    }
}
