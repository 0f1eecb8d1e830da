//! JSON bodies (§4): route data, broker registration, topic configs, heartbeats and friends.
//! Readers are tolerant (fastjson and C++ quirks); writers emit what Java emits.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// An i64 given as a number or a numeric string (C++ `subVersion`, Go `codeSet`).
pub fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(value_i64(&Value::deserialize(d)?).unwrap_or(0))
}

/// An i32 given as a number or a numeric string; a number out of i32 range is an error, not a
/// truncation (a writeQueueNums of 2^32 + 1 is not 1).
pub fn lenient_i32<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    let v = value_i64(&Value::deserialize(d)?).unwrap_or(0);
    i32::try_from(v).map_err(|_| serde::de::Error::custom(format!("{v} is out of the i32 range")))
}

/// A bool given as true/false, "true"/"false", 1/0.
pub fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => b,
        Value::Number(n) => n.as_i64() == Some(1),
        Value::String(s) => s.eq_ignore_ascii_case("true") || s == "1",
        _ => false,
    })
}

fn value_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An enum given by Java name or by ordinal, kept as the Java name.
fn enum_name<'de, D: Deserializer<'de>>(d: D, names: &[&str]) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Number(n) => {
            names.get(n.as_u64().unwrap_or(u64::MAX) as usize).unwrap_or(&"").to_string()
        }
        _ => String::new(),
    })
}

/// Java `ConsumeType` names by ordinal.
pub const CONSUME_TYPES: [&str; 2] = ["CONSUME_ACTIVELY", "CONSUME_PASSIVELY"];
/// Java `MessageModel` names by ordinal.
pub const MESSAGE_MODELS: [&str; 2] = ["BROADCASTING", "CLUSTERING"];
/// Java `ConsumeFromWhere` names by ordinal.
pub const CONSUME_FROM_WHERE: [&str; 6] = [
    "CONSUME_FROM_LAST_OFFSET",
    "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST",
    "CONSUME_FROM_MIN_OFFSET",
    "CONSUME_FROM_MAX_OFFSET",
    "CONSUME_FROM_FIRST_OFFSET",
    "CONSUME_FROM_TIMESTAMP",
];

fn de_consume_type<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    enum_name(d, &CONSUME_TYPES)
}
fn de_message_model<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    enum_name(d, &MESSAGE_MODELS).map(|s| s.to_ascii_uppercase())
}
fn de_consume_from<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    enum_name(d, &CONSUME_FROM_WHERE)
}

/// `{timestamp, counter}`: a topic table version; equal means unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataVersion {
    /// Counter, bumped on every change.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub counter: i64,
    /// Time of the last change (ms).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub timestamp: i64,
}

/// Permission bits of a topic or queue.
pub mod perm {
    /// Readable.
    pub const READ: i32 = 4;
    /// Writable.
    pub const WRITE: i32 = 2;
    /// Topic may be inherited by auto-created topics.
    pub const INHERIT: i32 = 1;
}

/// A topic's configuration (TopicConfig.java).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicConfig {
    /// Whether the topic is ordered.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub order: bool,
    /// Permission bits.
    #[serde(default = "default_perm", deserialize_with = "lenient_i32")]
    pub perm: i32,
    /// Read queue count.
    #[serde(default = "default_queues", deserialize_with = "lenient_i32")]
    pub read_queue_nums: i32,
    /// `SINGLE_TAG` or `MULTI_TAG`.
    #[serde(default = "default_filter_type")]
    pub topic_filter_type: String,
    /// Topic name.
    pub topic_name: String,
    /// Unit flags.
    #[serde(default, deserialize_with = "lenient_i32")]
    pub topic_sys_flag: i32,
    /// Write queue count.
    #[serde(default = "default_queues", deserialize_with = "lenient_i32")]
    pub write_queue_nums: i32,
}

fn default_perm() -> i32 {
    6
}
fn default_queues() -> i32 {
    16
}
fn default_filter_type() -> String {
    "SINGLE_TAG".into()
}

impl TopicConfig {
    /// A topic with `queues` read and write queues and permission `perm`.
    pub fn new(name: &str, queues: i32, perm: i32) -> Self {
        TopicConfig {
            order: false,
            perm,
            read_queue_nums: queues,
            topic_filter_type: default_filter_type(),
            topic_name: name.to_string(),
            topic_sys_flag: 0,
            write_queue_nums: queues,
        }
    }
}

/// `{dataVersion, topicConfigTable}` (topics.json, GET_ALL_TOPIC_CONFIG, registration).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicConfigSerializeWrapper {
    /// Version of the table.
    #[serde(default)]
    pub data_version: DataVersion,
    /// Topics by name.
    #[serde(default)]
    pub topic_config_table: BTreeMap<String, TopicConfig>,
}

/// REGISTER_BROKER body (uncompressed form).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterBrokerBody {
    /// Filter server addresses (obsolete, usually empty).
    #[serde(default)]
    pub filter_server_list: Vec<String>,
    /// The broker's topics.
    #[serde(default)]
    pub topic_config_serialize_wrapper: TopicConfigSerializeWrapper,
}

/// One broker name's queues of a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueData {
    /// Broker name.
    pub broker_name: String,
    /// Permission bits.
    #[serde(default, deserialize_with = "lenient_i32")]
    pub perm: i32,
    /// Read queue count.
    #[serde(default, deserialize_with = "lenient_i32")]
    pub read_queue_nums: i32,
    /// Unit flags (`topicSynFlag` before 4.9.0).
    #[serde(default, alias = "topicSynFlag", deserialize_with = "lenient_i32")]
    pub topic_sys_flag: i32,
    /// Write queue count.
    #[serde(default, deserialize_with = "lenient_i32")]
    pub write_queue_nums: i32,
}

/// A broker name's addresses by broker id (0 = master).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerData {
    /// Addresses by broker id.
    #[serde(default, deserialize_with = "de_id_map")]
    pub broker_addrs: BTreeMap<i64, String>,
    /// Broker name.
    pub broker_name: String,
    /// Cluster name.
    #[serde(default)]
    pub cluster: String,
}

fn de_id_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<i64, String>, D::Error> {
    let m: BTreeMap<String, String> = BTreeMap::deserialize(d)?;
    Ok(m.into_iter().filter_map(|(k, v)| k.trim().parse().ok().map(|k| (k, v))).collect())
}

/// GET_ROUTEINFO_BY_TOPIC body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicRouteData {
    /// `"brokerA:4;brokerB:4"` for ordered topics.
    #[serde(default)]
    pub order_topic_conf: Option<String>,
    /// Queues per broker name.
    #[serde(default)]
    pub queue_datas: Vec<QueueData>,
    /// Brokers.
    #[serde(default)]
    pub broker_datas: Vec<BrokerData>,
}

fn write_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()));
}

fn write_broker_addrs(out: &mut String, addrs: &BTreeMap<i64, String>, quoted: bool) {
    out.push('{');
    for (i, (id, addr)) in addrs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if quoted {
            out.push('"');
        }
        out.push_str(&id.to_string());
        if quoted {
            out.push('"');
        }
        out.push(':');
        write_str(out, addr);
    }
    out.push('}');
}

fn write_broker_data(out: &mut String, b: &BrokerData, quoted: bool) {
    out.push_str("{\"brokerAddrs\":");
    write_broker_addrs(out, &b.broker_addrs, quoted);
    out.push_str(",\"brokerName\":");
    write_str(out, &b.broker_name);
    out.push_str(",\"cluster\":");
    write_str(out, &b.cluster);
    out.push('}');
}

impl TopicRouteData {
    /// Encode as Java's name server does: compact, members sorted, broker ids as bare numeric keys
    /// unless `strict` (request version ≥ 401 or `acceptStandardJsonOnly`), §4.3.
    pub fn encode(&self, strict: bool) -> Vec<u8> {
        let mut out = String::with_capacity(256);
        out.push_str("{\"brokerDatas\":[");
        for (i, b) in self.broker_datas.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_broker_data(&mut out, b, strict);
        }
        out.push_str("],\"filterServerTable\":{}");
        if let Some(conf) = &self.order_topic_conf {
            out.push_str(",\"orderTopicConf\":");
            write_str(&mut out, conf);
        }
        out.push_str(",\"queueDatas\":");
        out.push_str(&serde_json::to_string(&self.queue_datas).unwrap_or_else(|_| "[]".into()));
        out.push('}');
        out.into_bytes()
    }

    /// Decode either key style.
    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        super::json::from_fastjson(bytes)
    }
}

/// GET_BROKER_CLUSTER_INFO body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterInfo {
    /// Brokers by name.
    #[serde(default)]
    pub broker_addr_table: BTreeMap<String, BrokerData>,
    /// Broker names by cluster.
    #[serde(default)]
    pub cluster_addr_table: BTreeMap<String, BTreeSet<String>>,
}

impl ClusterInfo {
    /// Encode as Java does (bare numeric broker-id keys, always).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = String::from("{\"brokerAddrTable\":{");
        for (i, (name, b)) in self.broker_addr_table.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(&mut out, name);
            out.push(':');
            write_broker_data(&mut out, b, false);
        }
        out.push_str("},\"clusterAddrTable\":");
        out.push_str(
            &serde_json::to_string(&self.cluster_addr_table).unwrap_or_else(|_| "{}".into()),
        );
        out.push('}');
        out.into_bytes()
    }

    /// Decode either key style.
    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        super::json::from_fastjson(bytes)
    }
}

/// `{"topicList":[...]}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicList {
    /// Topic names.
    #[serde(default)]
    pub topic_list: BTreeSet<String>,
}

/// `{"table":{...}}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KvTable {
    /// Key/value pairs.
    #[serde(default)]
    pub table: BTreeMap<String, String>,
}

/// `{"consumerIdList":[...]}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerList {
    /// Client ids.
    #[serde(default)]
    pub consumer_id_list: Vec<String>,
}

/// A consumer subscription in a heartbeat (SubscriptionData.java).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionData {
    /// Obsolete.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub class_filter_mode: bool,
    /// Tag hashes (ignored on input: the broker recomputes from `tagsSet`, §3.9).
    #[serde(default, skip_deserializing)]
    pub code_set: BTreeSet<i64>,
    /// `TAG` or `SQL92`.
    #[serde(default = "default_expr_type")]
    pub expression_type: String,
    /// Expression text.
    #[serde(default)]
    pub sub_string: String,
    /// Version (ms timestamp).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub sub_version: i64,
    /// Tags.
    #[serde(default)]
    pub tags_set: BTreeSet<String>,
    /// Topic.
    pub topic: String,
}

fn default_expr_type() -> String {
    "TAG".into()
}

/// A consumer group entry of a heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsumerData {
    /// Group.
    pub group_name: String,
    /// `CONSUME_ACTIVELY` / `CONSUME_PASSIVELY`.
    #[serde(default, deserialize_with = "de_consume_type")]
    pub consume_type: String,
    /// `BROADCASTING` / `CLUSTERING`.
    #[serde(default, deserialize_with = "de_message_model")]
    pub message_model: String,
    /// Where to start without a stored offset.
    #[serde(default, deserialize_with = "de_consume_from")]
    pub consume_from_where: String,
    /// Subscriptions.
    #[serde(default)]
    pub subscription_data_set: Vec<SubscriptionData>,
    /// Unit mode.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub unit_mode: bool,
}

/// A producer group entry of a heartbeat.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProducerData {
    /// Group.
    pub group_name: String,
}

/// HEART_BEAT body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HeartbeatData {
    /// Client id.
    #[serde(rename = "clientID", default)]
    pub client_id: String,
    /// Producer groups.
    #[serde(rename = "producerDataSet", default)]
    pub producer_data_set: Vec<ProducerData>,
    /// Consumer groups.
    #[serde(rename = "consumerDataSet", default)]
    pub consumer_data_set: Vec<ConsumerData>,
}

impl HeartbeatData {
    /// Decode any client's heartbeat (§4.2).
    pub fn decode(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        super::json::from_fastjson(bytes)
    }
}

/// A message queue `{topic, brokerName, queueId}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageQueue {
    /// Broker name.
    pub broker_name: String,
    /// Queue id.
    #[serde(deserialize_with = "lenient_i32")]
    pub queue_id: i32,
    /// Topic.
    pub topic: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_both_styles() {
        let r = TopicRouteData {
            order_topic_conf: None,
            queue_datas: vec![QueueData {
                broker_name: "b".into(),
                perm: 6,
                read_queue_nums: 4,
                topic_sys_flag: 0,
                write_queue_nums: 4,
            }],
            broker_datas: vec![BrokerData {
                broker_addrs: [(0, "127.0.0.1:10911".to_string()), (1, "x:1".to_string())].into(),
                broker_name: "b".into(),
                cluster: "C".into(),
            }],
        };
        let bare = String::from_utf8(r.encode(false)).unwrap();
        assert_eq!(
            bare,
            r#"{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911",1:"x:1"},"brokerName":"b","cluster":"C"}],"filterServerTable":{},"queueDatas":[{"brokerName":"b","perm":6,"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}"#
        );
        assert_eq!(TopicRouteData::decode(bare.as_bytes()).unwrap(), r);
        assert_eq!(TopicRouteData::decode(&r.encode(true)).unwrap(), r);
    }

    #[test]
    fn out_of_range_i32_is_refused_not_truncated() {
        let t = |n: &str| {
            let j = format!(r#"{{"topicName":"T","writeQueueNums":{n}}}"#);
            super::super::json::from_fastjson::<TopicConfig>(j.as_bytes())
        };
        assert_eq!(t("8").unwrap().write_queue_nums, 8);
        assert_eq!(t("\"-3\"").unwrap().write_queue_nums, -3);
        for bad in ["4294967297", "-2147483649", "1e300"] {
            assert!(t(bad).unwrap_err().to_string().contains("out of the i32 range"), "{bad}");
        }
    }

    #[test]
    fn cpp_heartbeat() {
        let hb = br#"{"clientID":"127.0.0.1@123#0","consumerDataSet":[{"consumeFromWhere":4,"consumeType":1,"groupName":"G","messageModel":1,"subscriptionDataSet":[{"codeSet":[0],"subString":"TagA || TagB","subVersion":"1700000000000","tagsSet":["TagA","TagB"],"topic":"T"}]}]}
"#;
        let h = HeartbeatData::decode(hb).unwrap();
        let c = &h.consumer_data_set[0];
        assert_eq!(c.message_model, "CLUSTERING");
        assert_eq!(c.consume_type, "CONSUME_PASSIVELY");
        assert_eq!(c.consume_from_where, "CONSUME_FROM_FIRST_OFFSET");
        assert_eq!(c.subscription_data_set[0].sub_version, 1_700_000_000_000);
        assert!(h.producer_data_set.is_empty());
    }
}
