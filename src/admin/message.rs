//! Messages: queryMsgById, queryMsgByKey, queryMsgByUniqueKey, queryMsgByOffset, printMsg,
//! printMsgByQueue, sendMessage, consumeMessage (Apache's tools/command/message/).
//!
//! Reading by queue goes through a pull consumer of group `TOOLS_CONSUMER` (MixAll's
//! TOOLS_CONSUMER_GROUP, as mqadmin), which never commits offsets; sending through a producer
//! with a one-off group.

use super::{check_name, Admin, Error, Result};
use crate::client::rpc::decode_records;
use crate::client::{
    Message, MessageExt, MessageQueue, Producer, ProducerOptions, PullConsumer,
    PullConsumerOptions, PullStatus, SendStatus,
};
use crate::common::time::now_millis;
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::RemotingCommand;
use crate::protocol::record::decode_offset_msg_id;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// The group mqadmin reads with (MixAll.TOOLS_CONSUMER_GROUP).
pub const TOOLS_CONSUMER_GROUP: &str = "TOOLS_CONSUMER";
/// Messages per pull while printing.
const PULL_BATCH: u32 = 32;

/// A message as the query commands show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    /// Topic.
    pub topic: String,
    /// Unique id (UNIQ_KEY), else the offset id.
    pub msg_id: String,
    /// Offset message id (store host and commit-log offset).
    pub offset_msg_id: String,
    /// Broker the message was read from (empty when read by id).
    pub broker_name: String,
    /// TAGS.
    pub tags: Option<String>,
    /// KEYS.
    pub keys: Option<String>,
    /// Queue id.
    pub queue_id: i32,
    /// Queue offset.
    pub queue_offset: i64,
    /// Commit-log offset.
    pub commit_log_offset: i64,
    /// Reconsume times.
    pub reconsume_times: i32,
    /// Born timestamp (ms).
    pub born_timestamp: i64,
    /// Store timestamp (ms).
    pub store_timestamp: i64,
    /// Born host.
    pub born_host: String,
    /// Store host.
    pub store_host: String,
    /// System flag.
    pub sys_flag: i32,
    /// User and system properties.
    pub properties: BTreeMap<String, String>,
    /// Body as UTF-8 (lossy).
    pub body: String,
    /// Body length in bytes.
    pub body_size: usize,
}

impl From<&MessageExt> for MessageView {
    fn from(m: &MessageExt) -> MessageView {
        MessageView {
            topic: m.topic().to_string(),
            msg_id: m.msg_id.clone(),
            offset_msg_id: m.offset_msg_id.clone(),
            broker_name: m.broker_name.clone(),
            tags: m.tags().map(str::to_string),
            keys: m.keys().map(str::to_string),
            queue_id: m.queue_id,
            queue_offset: m.queue_offset,
            commit_log_offset: m.commit_log_offset,
            reconsume_times: m.reconsume_times,
            born_timestamp: m.born_timestamp,
            store_timestamp: m.store_timestamp,
            born_host: m.born_host.clone(),
            store_host: m.store_host.clone(),
            sys_flag: m.sys_flag,
            properties: m.properties().clone(),
            body: String::from_utf8_lossy(m.body()).into_owned(),
            body_size: m.body().len(),
        }
    }
}

/// The messages read from one queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueDump {
    /// Broker name.
    pub broker_name: String,
    /// Queue id.
    pub queue_id: i32,
    /// First offset read.
    pub min_offset: i64,
    /// Offset reading stopped before.
    pub max_offset: i64,
    /// Messages, in offset order.
    pub messages: Vec<MessageView>,
}

/// What printMsg / printMsgByQueue / consumeMessage read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageDump {
    /// Per queue.
    pub queues: Vec<QueueDump>,
    /// `(tag, count)`, most frequent first (printMsgByQueue `-f true`).
    pub tag_counts: Vec<(String, u64)>,
}

/// printMsg / printMsgByQueue settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrintOptions {
    /// Topic.
    pub topic: String,
    /// One queue `(broker name, queue id)`; every readable queue when None.
    pub queue: Option<(String, i32)>,
    /// Tag expression (`*`).
    pub sub_expression: Option<String>,
    /// Start at the first message stored at or after this time (ms).
    pub begin: Option<i64>,
    /// Stop before the first message stored at or after this time (ms).
    pub end: Option<i64>,
    /// Stop after this many messages in all.
    pub limit: Option<u64>,
}

/// consumeMessage settings (ConsumeMessageCommand).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumeOptions {
    /// Topic.
    pub topic: String,
    /// One queue `(broker name, queue id)`, else all.
    pub queue: Option<(String, i32)>,
    /// Start offset in that queue.
    pub offset: Option<i64>,
    /// Consumer group (TOOLS_CONSUMER).
    pub group: Option<String>,
    /// Begin time (ms).
    pub begin: Option<i64>,
    /// End time (ms).
    pub end: Option<i64>,
    /// Messages to read (128).
    pub count: u64,
}

impl Default for ConsumeOptions {
    fn default() -> Self {
        ConsumeOptions {
            topic: String::new(),
            queue: None,
            offset: None,
            group: None,
            begin: None,
            end: None,
            count: 128,
        }
    }
}

/// sendMessage settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SendOptions {
    /// Topic.
    pub topic: String,
    /// Body (UTF-8).
    pub body: String,
    /// KEYS.
    pub keys: Option<String>,
    /// TAGS.
    pub tags: Option<String>,
    /// Send to this queue `(broker name, queue id)`.
    pub queue: Option<(String, i32)>,
}

/// What sendMessage got back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendOutcome {
    /// Broker name.
    pub broker_name: String,
    /// Queue id.
    pub queue_id: i32,
    /// SEND_OK, FLUSH_DISK_TIMEOUT, ...
    pub send_status: String,
    /// Unique message id.
    pub msg_id: String,
    /// Offset message id.
    pub offset_msg_id: String,
    /// Queue offset.
    pub queue_offset: i64,
}

fn status_name(s: SendStatus) -> &'static str {
    match s {
        SendStatus::Ok => "SEND_OK",
        SendStatus::FlushDiskTimeout => "FLUSH_DISK_TIMEOUT",
        SendStatus::FlushSlaveTimeout => "FLUSH_SLAVE_TIMEOUT",
        SendStatus::SlaveNotAvailable => "SLAVE_NOT_AVAILABLE",
    }
}

fn queue_of(topic: &str, q: &(String, i32)) -> MessageQueue {
    MessageQueue { topic: topic.to_string(), broker_name: q.0.clone(), queue_id: q.1 }
}

impl Admin {
    fn tool_consumer(&self, group: Option<&str>) -> Result<PullConsumer> {
        let mut o =
            PullConsumerOptions::new(group.unwrap_or(TOOLS_CONSUMER_GROUP), self.namesrv_addr());
        o.config.instance_name = format!("rmq-admin-{}-{}", std::process::id(), now_millis());
        o.config.request_timeout = self.timeout();
        o.config.credentials = self.credentials();
        let c = PullConsumer::new(o)?;
        c.start()?;
        Ok(c)
    }

    /// VIEW_MESSAGE_BY_ID for an offset message id (32 or 56 hex digits).
    pub fn query_msg_by_id(&self, id: &str) -> Result<MessageView> {
        let Some((host, offset)) = decode_offset_msg_id(id) else {
            return Err(Error::invalid(format!(
                "'{id}' is not an offset message id (32 or 56 hex digits)"
            )));
        };
        let addr = host.to_string();
        let req = RemotingCommand::request(rq::VIEW_MESSAGE_BY_ID).with("offset", offset);
        let r = self.call(&addr, req)?;
        decode_records(&r.body, "")
            .first()
            .map(MessageView::from)
            .ok_or_else(|| Error::not_found(format!("no message at offset {offset} on {addr}")))
    }

    fn query(&self, topic: &str, key: &str, unique: bool, max: i32) -> Result<Vec<MessageExt>> {
        check_name("topic", topic)?;
        check_name("key", key)?;
        let route = self.route(topic)?;
        let mut out = Vec::new();
        for b in &route.broker_datas {
            let Some(addr) = b.broker_addrs.get(&0).or_else(|| b.broker_addrs.values().next())
            else {
                continue;
            };
            let mut req = RemotingCommand::request(rq::QUERY_MESSAGE)
                .with("topic", topic)
                .with("key", key)
                .with("maxNum", max)
                .with("beginTimestamp", 0)
                .with("endTimestamp", i64::MAX);
            if unique {
                req.put("_UNIQUE_KEY_QUERY", "true");
            }
            let r = self.invoke(addr, req)?;
            match r.code {
                rs::SUCCESS => out.extend(decode_records(&r.body, &b.broker_name)),
                rs::QUERY_NOT_FOUND => {}
                c => {
                    return Err(Error::from(crate::client::Error::broker(
                        c,
                        r.remark.as_deref(),
                        format!("query of {topic} on {addr} failed"),
                    )))
                }
            }
        }
        // The index matches hashes; check the key itself (MQAdminImpl.queryMessage).
        out.retain(|m| {
            m.topic() == topic
                && if unique {
                    m.msg_id == key
                } else {
                    m.keys().is_some_and(|k| k.split(' ').any(|k| k == key))
                }
        });
        Ok(out)
    }

    /// QUERY_MESSAGE by key on every broker of the topic (at most 64 per broker).
    pub fn query_msg_by_key(&self, topic: &str, key: &str) -> Result<Vec<MessageView>> {
        let msgs = self.query(topic, key, false, 64)?;
        Ok(msgs.iter().map(MessageView::from).collect())
    }

    /// QUERY_MESSAGE by unique key: the message with that UNIQ_KEY, oldest first (all copies
    /// with `all`, e.g. re-sends); NotFound when none.
    pub fn query_msg_by_unique_key(
        &self,
        topic: &str,
        id: &str,
        all: bool,
    ) -> Result<Vec<MessageView>> {
        let mut msgs = self.query(topic, id, true, 32)?;
        if msgs.is_empty() {
            return Err(Error::not_found(format!("no message {id} in topic {topic}")));
        }
        msgs.sort_by_key(|m| m.store_timestamp);
        if !all {
            msgs.truncate(1);
        }
        Ok(msgs.iter().map(MessageView::from).collect())
    }

    /// The message at `offset` of one queue; NotFound when there is none.
    pub fn query_msg_by_offset(
        &self,
        topic: &str,
        broker: &str,
        queue_id: i32,
        offset: i64,
    ) -> Result<MessageView> {
        check_name("topic", topic)?;
        check_name("broker", broker)?;
        self.route(topic)?;
        let c = self.tool_consumer(None)?;
        let mq = queue_of(topic, &(broker.to_string(), queue_id));
        let r = c.pull(&mq, "*", offset, 1, self.timeout());
        c.shutdown();
        let r = r?;
        match (r.status, r.messages.first()) {
            (PullStatus::Found, Some(m)) => Ok(MessageView::from(m)),
            _ => Err(Error::not_found(format!(
                "no message at offset {offset} of {topic} {broker}:{queue_id} (queue holds {}..{})",
                r.min_offset, r.max_offset
            ))),
        }
    }

    fn read_queue(
        &self,
        c: &PullConsumer,
        mq: &MessageQueue,
        expr: &str,
        (from, to): (i64, i64),
        left: &mut u64,
    ) -> Result<QueueDump> {
        let mut dump = QueueDump {
            broker_name: mq.broker_name.clone(),
            queue_id: mq.queue_id,
            min_offset: from,
            max_offset: to,
            messages: Vec::new(),
        };
        let mut offset = from;
        while offset < to && *left > 0 {
            let want = (to - offset).min(PULL_BATCH as i64).min(*left as i64) as u32;
            let r = c.pull(mq, expr, offset, want, self.timeout())?;
            match r.status {
                PullStatus::Found => {
                    for m in r.messages.iter().filter(|m| m.queue_offset < to) {
                        if *left == 0 {
                            break;
                        }
                        dump.messages.push(MessageView::from(m));
                        *left -= 1;
                    }
                }
                PullStatus::NoMatchedMsg => {}
                PullStatus::NoNewMsg | PullStatus::OffsetIllegal => break,
            }
            if r.next_begin_offset <= offset {
                break;
            }
            offset = r.next_begin_offset;
        }
        Ok(dump)
    }

    fn range(&self, c: &PullConsumer, mq: &MessageQueue, o: &PrintOptions) -> Result<(i64, i64)> {
        let min = match o.begin {
            Some(t) => c.search_offset(mq, t)?,
            None => c.min_offset(mq)?,
        };
        let max = match o.end {
            Some(t) => c.search_offset(mq, t)?,
            None => c.max_offset(mq)?,
        };
        Ok((min, max))
    }

    /// printMsg (every readable queue) or printMsgByQueue (`o.queue`): the messages between the
    /// begin and end times, or the whole queues.
    pub fn print_msg(&self, o: &PrintOptions) -> Result<MessageDump> {
        check_name("topic", &o.topic)?;
        self.route(&o.topic)?;
        let c = self.tool_consumer(None)?;
        let res = (|| -> Result<Vec<QueueDump>> {
            let queues = match &o.queue {
                Some(q) => vec![queue_of(&o.topic, q)],
                None => c.fetch_queues(&o.topic)?,
            };
            let expr = o.sub_expression.as_deref().unwrap_or("*");
            let mut left = o.limit.unwrap_or(u64::MAX);
            let mut dumps = Vec::new();
            for mq in &queues {
                let range = self.range(&c, mq, o)?;
                dumps.push(self.read_queue(&c, mq, expr, range, &mut left)?);
            }
            Ok(dumps)
        })();
        c.shutdown();
        let queues: Vec<QueueDump> = res?;
        let mut tags: BTreeMap<String, u64> = BTreeMap::new();
        for m in queues.iter().flat_map(|q| q.messages.iter()) {
            if let Some(t) = m.tags.as_deref().filter(|t| !t.trim().is_empty()) {
                *tags.entry(t.to_string()).or_default() += 1;
            }
        }
        let mut tag_counts: Vec<(String, u64)> = tags.into_iter().collect();
        tag_counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(MessageDump { queues, tag_counts })
    }

    /// consumeMessage: read `count` messages (oldest first) from the topic, one queue, or one
    /// queue from an offset, without committing anything.
    pub fn consume_message(&self, o: &ConsumeOptions) -> Result<MessageDump> {
        check_name("topic", &o.topic)?;
        if o.count == 0 {
            return Err(Error::invalid("the message count must be positive"));
        }
        if o.offset.is_some() && o.queue.is_none() {
            return Err(Error::invalid("an offset needs a queue (broker name and queue id)"));
        }
        let now = now_millis();
        if o.begin.is_some_and(|b| b > now) || o.end.is_some_and(|e| e > now) {
            return Err(Error::invalid("the begin and end times must not be in the future"));
        }
        if let (Some(b), Some(e)) = (o.begin, o.end) {
            if b > e {
                return Err(Error::invalid("the begin time is after the end time"));
            }
        }
        self.route(&o.topic)?;
        let c = self.tool_consumer(o.group.as_deref())?;
        let p = PrintOptions {
            topic: o.topic.clone(),
            begin: o.begin,
            end: o.end,
            ..PrintOptions::default()
        };
        let res = (|| -> Result<Vec<QueueDump>> {
            let queues = match &o.queue {
                Some(q) => vec![queue_of(&o.topic, q)],
                None => c.fetch_queues(&o.topic)?,
            };
            let mut left = o.count;
            let mut dumps = Vec::new();
            for mq in &queues {
                if left == 0 {
                    break;
                }
                let (mut min, max) = self.range(&c, mq, &p)?;
                if let Some(off) = o.offset {
                    min = min.max(off);
                }
                dumps.push(self.read_queue(&c, mq, "*", (min, max), &mut left)?);
            }
            Ok(dumps)
        })();
        c.shutdown();
        Ok(MessageDump { queues: res?, tag_counts: Vec::new() })
    }

    /// sendMessage: one message, to a chosen queue or as the producer picks.
    pub fn send_message(&self, o: &SendOptions) -> Result<SendOutcome> {
        check_name("topic", &o.topic)?;
        self.namesrv_list()?;
        let group = format!("rmq_admin_{}_{}", std::process::id(), now_millis());
        let mut po = ProducerOptions::new(&group, self.namesrv_addr());
        po.config.instance_name = group.clone();
        po.config.credentials = self.credentials();
        po.send_timeout = self.timeout().max(Duration::from_secs(3));
        let producer = Producer::new(po)?;
        producer.start()?;
        let mut msg = Message::new(&o.topic, o.body.as_bytes().to_vec());
        if let Some(t) = &o.tags {
            msg.set_tags(t);
        }
        if let Some(k) = &o.keys {
            msg.set_keys(k);
        }
        let r = match &o.queue {
            Some(q) => {
                let mq = queue_of(&o.topic, q);
                // Loads the route, as Apache's send(msg, mq) does, and checks the queue is in it.
                match producer.fetch_publish_queues(&o.topic) {
                    Ok(qs) if qs.contains(&mq) => producer.send_to_queue(&msg, &mq),
                    Ok(_) => {
                        producer.shutdown();
                        return Err(Error::not_found(format!(
                            "topic {} has no writable queue {} on broker {}",
                            o.topic, q.1, q.0
                        )));
                    }
                    Err(e) => Err(e),
                }
            }
            None => producer.send(&msg),
        };
        producer.shutdown();
        let r = r?;
        Ok(SendOutcome {
            broker_name: r.queue.broker_name,
            queue_id: r.queue.queue_id,
            send_status: status_name(r.status).to_string(),
            msg_id: r.msg_id,
            offset_msg_id: r.offset_msg_id,
            queue_offset: r.queue_offset,
        })
    }
}
