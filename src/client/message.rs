//! Messages as the user builds them and as consumers receive them.

use crate::protocol::record::{self, sysflag, MessageRecord};
use std::collections::BTreeMap;
use std::io::Read;

/// System property names (MessageConst.java).
pub mod keys {
    #![allow(missing_docs)]
    pub const TAGS: &str = "TAGS";
    pub const KEYS: &str = "KEYS";
    pub const DELAY: &str = "DELAY";
    pub const WAIT: &str = "WAIT";
    pub const UNIQ_KEY: &str = "UNIQ_KEY";
    pub const RETRY_TOPIC: &str = "RETRY_TOPIC";
    pub const REAL_TOPIC: &str = "REAL_TOPIC";
    pub const REAL_QID: &str = "REAL_QID";
    pub const MIN_OFFSET: &str = "MIN_OFFSET";
    pub const MAX_OFFSET: &str = "MAX_OFFSET";
    pub const ORIGIN_MESSAGE_ID: &str = "ORIGIN_MESSAGE_ID";
    pub const RECONSUME_TIME: &str = "RECONSUME_TIME";
    pub const MAX_RECONSUME_TIMES: &str = "MAX_RECONSUME_TIMES";
    pub const CONSUME_START_TIME: &str = "CONSUME_START_TIME";
    pub const TRAN_MSG: &str = "TRAN_MSG";
}

/// A message to send: topic, body, user flag and properties (tags and keys are properties too,
/// as in Apache's client).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    topic: String,
    body: Vec<u8>,
    flag: i32,
    properties: BTreeMap<String, String>,
}

impl Message {
    /// A message for `topic` with `body`.
    pub fn new(topic: &str, body: impl Into<Vec<u8>>) -> Message {
        Message { topic: topic.to_string(), body: body.into(), ..Message::default() }
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Set the topic.
    pub fn set_topic(&mut self, t: &str) {
        self.topic = t.to_string();
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Set the body.
    pub fn set_body(&mut self, b: impl Into<Vec<u8>>) {
        self.body = b.into();
    }

    /// The tag, if any.
    pub fn tags(&self) -> Option<&str> {
        self.property(keys::TAGS)
    }

    /// Set the tag.
    pub fn set_tags(&mut self, t: &str) {
        self.put_property(keys::TAGS, t);
    }

    /// The keys, space-separated, if any.
    pub fn keys(&self) -> Option<&str> {
        self.property(keys::KEYS)
    }

    /// Set the keys (space-separated, as Apache).
    pub fn set_keys(&mut self, k: &str) {
        self.put_property(keys::KEYS, k);
    }

    /// The delay level (0 = none).
    pub fn delay_level(&self) -> i32 {
        self.property(keys::DELAY).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
    }

    /// Set the delay level (needs broker support for scheduled messages).
    pub fn set_delay_level(&mut self, l: i32) {
        self.put_property(keys::DELAY, &l.to_string());
    }

    /// A property.
    pub fn property(&self, k: &str) -> Option<&str> {
        self.properties.get(k).map(String::as_str)
    }

    /// Set a property. Names and values must not contain the separators \x01 and \x02.
    pub fn put_property(&mut self, k: &str, v: &str) {
        self.properties.insert(k.to_string(), v.to_string());
    }

    /// Remove a property.
    pub fn remove_property(&mut self, k: &str) -> Option<String> {
        self.properties.remove(k)
    }

    /// Every property, system ones (TAGS, KEYS, UNIQ_KEY, ...) included.
    pub fn properties(&self) -> &BTreeMap<String, String> {
        &self.properties
    }

    /// The user flag.
    pub fn flag(&self) -> i32 {
        self.flag
    }

    /// Set the user flag.
    pub fn set_flag(&mut self, f: i32) {
        self.flag = f;
    }
}

/// A received message with its store metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageExt {
    /// Topic, body, flag and properties (the body decompressed).
    pub message: Message,
    /// The producer's unique id (UNIQ_KEY) or, when absent, the offset message id.
    pub msg_id: String,
    /// The store's id: store host and commit-log offset.
    pub offset_msg_id: String,
    /// Queue id.
    pub queue_id: i32,
    /// Offset in the consume queue.
    pub queue_offset: i64,
    /// Commit-log offset.
    pub commit_log_offset: i64,
    /// How often this message was redelivered.
    pub reconsume_times: i32,
    /// Producer timestamp (ms).
    pub born_timestamp: i64,
    /// Store timestamp (ms).
    pub store_timestamp: i64,
    /// Producer address.
    pub born_host: String,
    /// Broker address.
    pub store_host: String,
    /// SYSFLAG bits as stored (the body is already decompressed).
    pub sys_flag: i32,
    /// Record size in the store.
    pub store_size: i32,
    /// Broker name the message was pulled from.
    pub broker_name: String,
    /// Commit-log offset of the half message a transaction commit record ends, else 0.
    pub prepared_transaction_offset: i64,
}

impl std::ops::Deref for MessageExt {
    type Target = Message;
    fn deref(&self) -> &Message {
        &self.message
    }
}

/// Inflate a zlib body, refusing output past `limit` bytes.
pub(crate) fn inflate(body: &[u8], limit: usize) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).min(limit));
    flate2::read::ZlibDecoder::new(body).take(limit as u64 + 1).read_to_end(&mut out)?;
    if out.len() > limit {
        return Err(std::io::Error::other("inflated body exceeds the limit"));
    }
    Ok(out)
}

/// Deflate with zlib at `level`.
pub(crate) fn deflate(body: &[u8], level: u32) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut e = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(body.len() / 2),
        flate2::Compression::new(level.min(9)),
    );
    e.write_all(body)?;
    e.finish()
}

/// Largest body a compressed message may inflate to.
const MAX_INFLATED: usize = 64 * 1024 * 1024;

/// Decode every record of a pull response body. A record that does not decode ends the list
/// (the rest of the body cannot be framed); a body that does not inflate is kept as stored.
pub(crate) fn decode_messages(body: &[u8], broker_name: &str) -> Vec<MessageExt> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let Some(rest) = body.get(pos..) else { break };
        match record::decode_record(rest, false) {
            Ok((rec, used)) => {
                pos += used;
                out.push(from_record(rec, used, broker_name));
            }
            Err(e) => {
                log::warn!("undecodable record in pull body broker={broker_name} err={e}");
                break;
            }
        }
    }
    out
}

fn from_record(rec: MessageRecord, size: usize, broker_name: &str) -> MessageExt {
    let mut body = rec.body;
    if rec.sys_flag & sysflag::COMPRESSED != 0 {
        match inflate(&body, MAX_INFLATED) {
            Ok(b) => body = b,
            Err(e) => log::warn!(
                "compressed body does not inflate topic={} offset={} err={}",
                rec.topic,
                rec.queue_offset,
                e
            ),
        }
    }
    let properties: BTreeMap<String, String> =
        record::parse_properties(&rec.properties).into_iter().collect();
    let offset_msg_id = record::offset_msg_id(rec.store_host, rec.physical_offset);
    let msg_id = properties.get(keys::UNIQ_KEY).cloned().unwrap_or_else(|| offset_msg_id.clone());
    MessageExt {
        message: Message { topic: rec.topic, body, flag: rec.flag, properties },
        msg_id,
        offset_msg_id,
        queue_id: rec.queue_id,
        queue_offset: rec.queue_offset,
        commit_log_offset: rec.physical_offset,
        reconsume_times: rec.reconsume_times,
        born_timestamp: rec.born_timestamp,
        store_timestamp: rec.store_timestamp,
        born_host: rec.born_host.to_string(),
        store_host: rec.store_host.to_string(),
        sys_flag: rec.sys_flag,
        store_size: size as i32,
        broker_name: broker_name.to_string(),
        prepared_transaction_offset: rec.prepared_transaction_offset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compress_round_trip_and_limit() {
        let body = vec![b'x'; 10_000];
        let z = deflate(&body, 5).unwrap();
        assert!(z.len() < 200);
        assert_eq!(inflate(&z, 10_000).unwrap(), body);
        assert!(inflate(&z, 9_999).is_err());
        assert!(inflate(b"garbage", 100).is_err());
    }

    #[test]
    fn message_properties() {
        let mut m = Message::new("T", "b");
        m.set_tags("A");
        m.set_keys("k1 k2");
        m.put_property("u", "v");
        m.set_delay_level(3);
        assert_eq!(m.tags(), Some("A"));
        assert_eq!(m.keys(), Some("k1 k2"));
        assert_eq!(m.delay_level(), 3);
        assert_eq!(m.property("u"), Some("v"));
        let p =
            record::encode_properties(m.properties().iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert_eq!(record::get_property(&p, "TAGS"), Some("A"));
    }
}
