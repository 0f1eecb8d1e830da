//! Broker statistics bodies (common/protocol/body in Apache 4.x): BrokerStatsData
//! (VIEW_BROKER_STATS_DATA, 315) and ConsumeStatsList (GET_BROKER_CONSUME_STATS, 317).
//!
//! ```text
//! BrokerStatsData   {"statsDay":{"avgpt":0.0,"sum":0,"tps":0.0},"statsHour":{..},"statsMinute":{..}}
//! ConsumeStatsList  {"brokerAddr":"ip:port","consumeStatsList":[{"<group>":[<ConsumeStats>,..]},..],
//!                    "totalDiff":N}
//! ```
//! A ConsumeStats inside keeps fastjson's object keys (`{{mq}:{...}}`), as in admin_body.
#![deny(clippy::indexing_slicing, clippy::unwrap_used)]

use super::admin_body::{ConsumeStats, OffsetWrapper};
use super::body::{lenient_i64, MessageQueue};
use super::json::from_fastjson;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One window of a stats item (BrokerStatsItem.java): the sum over the window, the rate per
/// second, and the mean value per call (`avgpt`, e.g. latency or size per message).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerStatsItem {
    /// Sum over the window.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub sum: i64,
    /// Per second.
    #[serde(default)]
    pub tps: f64,
    /// Mean per call.
    #[serde(default)]
    pub avgpt: f64,
}

/// VIEW_BROKER_STATS_DATA body (BrokerStatsData.java).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerStatsData {
    /// The last minute.
    #[serde(default)]
    pub stats_minute: BrokerStatsItem,
    /// The last hour.
    #[serde(default)]
    pub stats_hour: BrokerStatsItem,
    /// The last day.
    #[serde(default)]
    pub stats_day: BrokerStatsItem,
}

impl BrokerStatsData {
    /// JSON text.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Decode fastjson or strict JSON.
    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        from_fastjson(bytes)
    }
}

/// GET_BROKER_CONSUME_STATS body (ConsumeStatsList.java).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsumeStatsList {
    /// Per group, the stats of each of its topics.
    pub consume_stats_list: Vec<BTreeMap<String, Vec<ConsumeStats>>>,
    /// The broker's address.
    pub broker_addr: String,
    /// Sum of every diff.
    pub total_diff: i64,
}

impl ConsumeStatsList {
    /// fastjson text, each ConsumeStats in its object-keyed form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::from("{\"brokerAddr\":");
        out.push_str(&serde_json::to_string(&self.broker_addr).unwrap_or_else(|_| "\"\"".into()));
        out.push_str(",\"consumeStatsList\":[");
        for (i, map) in self.consume_stats_list.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            for (j, (group, list)) in map.iter().enumerate() {
                if j > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(group).unwrap_or_else(|_| "\"\"".into()));
                out.push_str(":[");
                for (k, s) in list.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    out.push_str(&String::from_utf8_lossy(&s.encode()));
                }
                out.push(']');
            }
            out.push('}');
        }
        out.push_str("],\"totalDiff\":");
        out.push_str(&self.total_diff.to_string());
        out.push('}');
        out.into_bytes()
    }

    /// Decode fastjson or strict JSON.
    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct RawStats {
            #[serde(default)]
            consume_tps: f64,
            #[serde(default)]
            offset_table: BTreeMap<String, OffsetWrapper>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            #[serde(default)]
            consume_stats_list: Vec<BTreeMap<String, Vec<RawStats>>>,
            #[serde(default)]
            broker_addr: String,
            #[serde(default, deserialize_with = "lenient_i64")]
            total_diff: i64,
        }
        let r: Raw = from_fastjson(bytes)?;
        let mut list = Vec::with_capacity(r.consume_stats_list.len());
        for map in r.consume_stats_list {
            let mut m = BTreeMap::new();
            for (group, stats) in map {
                let mut v = Vec::with_capacity(stats.len());
                for s in stats {
                    let mut table = BTreeMap::new();
                    for (k, o) in s.offset_table {
                        table.insert(serde_json::from_str::<MessageQueue>(&k)?, o);
                    }
                    v.push(ConsumeStats { offset_table: table, consume_tps: s.consume_tps });
                }
                m.insert(group, v);
            }
            list.push(m);
        }
        Ok(ConsumeStatsList {
            consume_stats_list: list,
            broker_addr: r.broker_addr,
            total_diff: r.total_diff,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn consume_stats_list_round_trips_in_fastjson_form() {
        let mq = MessageQueue { broker_name: "b".into(), queue_id: 1, topic: "T".into() };
        let mut s = ConsumeStats::default();
        s.offset_table.insert(
            mq,
            OffsetWrapper { broker_offset: 10, consumer_offset: 4, last_timestamp: 99 },
        );
        let mut m = BTreeMap::new();
        m.insert("G".to_string(), vec![s]);
        let l = ConsumeStatsList {
            consume_stats_list: vec![m],
            broker_addr: "a:1".into(),
            total_diff: 6,
        };
        let text = String::from_utf8(l.encode()).unwrap();
        assert!(text.contains("[{\"consumeTps\":0.0,\"offsetTable\":{{"), "{text}");
        assert_eq!(ConsumeStatsList::decode(text.as_bytes()).unwrap(), l);
    }

    #[test]
    fn broker_stats_data_decodes_java_output() {
        let java = br#"{"statsDay":{"avgpt":0.0,"sum":120,"tps":0.01},"statsHour":{"avgpt":1.5,"sum":60,"tps":0.02},"statsMinute":{"avgpt":2.0,"sum":6,"tps":0.1}}"#;
        let d = BrokerStatsData::decode(java).unwrap();
        assert_eq!(d.stats_day.sum, 120);
        assert_eq!(d.stats_minute.tps, 0.1);
        assert_eq!(BrokerStatsData::decode(&d.encode()).unwrap(), d);
    }
}
