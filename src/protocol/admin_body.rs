//! Operator bodies (common/protocol/body in Apache 4.x): ConsumeStats (GET_CONSUME_STATS),
//! TopicStatsTable (GET_TOPIC_STATS_INFO), ConsumerConnection and ProducerConnection
//! (GET_CONSUMER_CONNECTION_LIST, GET_PRODUCER_CONNECTION_LIST).
//!
//! Apache's tables are `Map<MessageQueue, V>`, which fastjson writes with the queue object itself
//! as the key: `{"offsetTable":{{"brokerName":"a","queueId":0,"topic":"T"}:{...}}}`. The writers
//! here emit exactly that (what mqadmin parses); the readers accept it and strict JSON alike.
#![deny(clippy::indexing_slicing, clippy::unwrap_used)]

use super::body::{lenient_i32, lenient_i64, MessageQueue, SubscriptionData};
use super::json::from_fastjson;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One queue's consumption progress (OffsetWrapper.java).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OffsetWrapper {
    /// The queue's max offset (next offset to be written).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub broker_offset: i64,
    /// The group's committed offset.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub consumer_offset: i64,
    /// Store time of the last consumed message (ms), 0 if none.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub last_timestamp: i64,
}

impl OffsetWrapper {
    /// Messages not yet consumed: broker offset minus consumer offset, never negative.
    pub fn lag(&self) -> i64 {
        (self.broker_offset - self.consumer_offset).max(0)
    }
}

/// One queue's offsets (TopicOffset.java).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicOffset {
    /// Store time of the newest message (ms), 0 if the queue is empty.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub last_update_timestamp: i64,
    /// Next offset to be written.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub max_offset: i64,
    /// First offset still stored.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub min_offset: i64,
}

/// GET_CONSUME_STATS body (ConsumeStats.java).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsumeStats {
    /// Progress per queue.
    pub offset_table: BTreeMap<MessageQueue, OffsetWrapper>,
    /// Messages consumed per second (rmq keeps no per-group rate yet: 0).
    pub consume_tps: f64,
}

/// GET_TOPIC_STATS_INFO body (TopicStatsTable.java).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopicStatsTable {
    /// Offsets per queue.
    pub offset_table: BTreeMap<MessageQueue, TopicOffset>,
}

/// Write `{<mq json>:<value json>,...}` the way fastjson writes a map keyed by objects.
fn write_mq_map<V: Serialize>(out: &mut String, map: &BTreeMap<MessageQueue, V>) {
    out.push('{');
    for (i, (mq, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(mq).unwrap_or_else(|_| "{}".into()));
        out.push(':');
        out.push_str(&serde_json::to_string(v).unwrap_or_else(|_| "{}".into()));
    }
    out.push('}');
}

/// Read a map whose keys are queue objects (as text after normalising) back into queues.
fn read_mq_map<V>(
    raw: BTreeMap<String, V>,
) -> Result<BTreeMap<MessageQueue, V>, serde_json::Error> {
    raw.into_iter().map(|(k, v)| Ok((serde_json::from_str::<MessageQueue>(&k)?, v))).collect()
}

impl ConsumeStats {
    /// Sum of the per-queue lag.
    pub fn total_lag(&self) -> i64 {
        self.offset_table.values().map(OffsetWrapper::lag).sum()
    }

    /// fastjson text: `{"consumeTps":0.0,"offsetTable":{{mq}:{...}}}`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::from("{\"consumeTps\":");
        let tps = if self.consume_tps.is_finite() { self.consume_tps } else { 0.0 };
        out.push_str(&serde_json::to_string(&tps).unwrap_or_else(|_| "0.0".into()));
        out.push_str(",\"offsetTable\":");
        write_mq_map(&mut out, &self.offset_table);
        out.push('}');
        out.into_bytes()
    }

    /// Decode fastjson or strict JSON.
    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            #[serde(default)]
            consume_tps: f64,
            #[serde(default)]
            offset_table: BTreeMap<String, OffsetWrapper>,
        }
        let r: Raw = from_fastjson(bytes)?;
        Ok(ConsumeStats { offset_table: read_mq_map(r.offset_table)?, consume_tps: r.consume_tps })
    }
}

impl TopicStatsTable {
    /// fastjson text: `{"offsetTable":{{mq}:{...}}}`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::from("{\"offsetTable\":");
        write_mq_map(&mut out, &self.offset_table);
        out.push('}');
        out.into_bytes()
    }

    /// Decode fastjson or strict JSON.
    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            #[serde(default)]
            offset_table: BTreeMap<String, TopicOffset>,
        }
        let r: Raw = from_fastjson(bytes)?;
        Ok(TopicStatsTable { offset_table: read_mq_map(r.offset_table)? })
    }
}

/// RESET_CONSUMER_CLIENT_OFFSET / INVOKE_BROKER_TO_RESET_OFFSET body: the new offset per queue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResetOffsetBody {
    /// Offset per queue.
    pub offset_table: BTreeMap<MessageQueue, i64>,
}

impl ResetOffsetBody {
    /// Java's form (ResetOffsetBody): `{"offsetTable":{{mq}:42,...}}`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::from("{\"offsetTable\":");
        write_mq_map(&mut out, &self.offset_table);
        out.push('}');
        out.into_bytes()
    }

    /// The only form the C++ client parses (ResetOffsetBodyForC):
    /// `{"offsetTable":[{"brokerName":..,"offset":42,"queueId":0,"topic":..},...]}`.
    pub fn encode_for_c(&self) -> Vec<u8> {
        let list: Vec<serde_json::Value> = self
            .offset_table
            .iter()
            .map(|(mq, off)| {
                serde_json::json!({
                    "brokerName": mq.broker_name,
                    "offset": off,
                    "queueId": mq.queue_id,
                    "topic": mq.topic,
                })
            })
            .collect();
        serde_json::to_vec(&serde_json::json!({ "offsetTable": list })).unwrap_or_default()
    }

    /// Decode Java's form.
    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            #[serde(default)]
            offset_table: BTreeMap<String, i64>,
        }
        let r: Raw = from_fastjson(bytes)?;
        Ok(ResetOffsetBody { offset_table: read_mq_map(r.offset_table)? })
    }
}

/// One client connection (Connection.java).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientConnection {
    /// The client's `ip:port` as the broker sees it.
    #[serde(default)]
    pub client_addr: String,
    /// Client id (`ip@instance`).
    #[serde(default)]
    pub client_id: String,
    /// `LanguageCode` name (JAVA, CPP, ...).
    #[serde(default)]
    pub language: String,
    /// `MQVersion` ordinal the client sent.
    #[serde(default, deserialize_with = "lenient_i32")]
    pub version: i32,
}

/// GET_CONSUMER_CONNECTION_LIST body (ConsumerConnection.java).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerConnection {
    /// The group's live connections.
    #[serde(default)]
    pub connection_set: Vec<ClientConnection>,
    /// `ConsumeFromWhere` name.
    #[serde(default)]
    pub consume_from_where: String,
    /// `CONSUME_ACTIVELY` / `CONSUME_PASSIVELY`.
    #[serde(default)]
    pub consume_type: String,
    /// `CLUSTERING` / `BROADCASTING`.
    #[serde(default)]
    pub message_model: String,
    /// Subscriptions by topic.
    #[serde(default)]
    pub subscription_table: BTreeMap<String, SubscriptionData>,
}

/// GET_PRODUCER_CONNECTION_LIST body (ProducerConnection.java).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProducerConnection {
    /// The group's live connections.
    #[serde(default)]
    pub connection_set: Vec<ClientConnection>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn mq(q: i32) -> MessageQueue {
        MessageQueue { broker_name: "a".into(), queue_id: q, topic: "T".into() }
    }

    #[test]
    fn consume_stats_fastjson_round_trip() {
        let mut s = ConsumeStats::default();
        s.offset_table.insert(
            mq(0),
            OffsetWrapper { broker_offset: 10, consumer_offset: 4, last_timestamp: 7 },
        );
        s.offset_table.insert(mq(1), OffsetWrapper { broker_offset: 3, ..Default::default() });
        let text = String::from_utf8(s.encode()).unwrap();
        assert_eq!(
            text,
            r#"{"consumeTps":0.0,"offsetTable":{{"brokerName":"a","queueId":0,"topic":"T"}:{"brokerOffset":10,"consumerOffset":4,"lastTimestamp":7},{"brokerName":"a","queueId":1,"topic":"T"}:{"brokerOffset":3,"consumerOffset":0,"lastTimestamp":0}}}"#
        );
        let back = ConsumeStats::decode(text.as_bytes()).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.total_lag(), 9);
    }

    #[test]
    fn topic_stats_round_trip() {
        let mut t = TopicStatsTable::default();
        t.offset_table
            .insert(mq(2), TopicOffset { last_update_timestamp: 5, max_offset: 9, min_offset: 1 });
        let text = String::from_utf8(t.encode()).unwrap();
        assert!(text.starts_with(r#"{"offsetTable":{{"brokerName":"a","queueId":2"#), "{text}");
        assert_eq!(TopicStatsTable::decode(text.as_bytes()).unwrap(), t);
    }
}
