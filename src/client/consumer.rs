//! Types shared by the consumers: models, start positions, listener statuses and allocation.

use super::config::ClientConfig;
use crate::protocol::body::MessageQueue;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How a group shares messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageModel {
    /// Each message goes to one consumer of the group; offsets live on the broker.
    Clustering,
    /// Each consumer gets every message; offsets live in a local file.
    Broadcasting,
}

impl MessageModel {
    /// The Java enum name used in heartbeats.
    pub fn java_name(self) -> &'static str {
        match self {
            MessageModel::Clustering => "CLUSTERING",
            MessageModel::Broadcasting => "BROADCASTING",
        }
    }
}

/// Where a group without a committed offset starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumeFrom {
    /// At the end of each queue (only new messages).
    LastOffset,
    /// At the start of each queue.
    FirstOffset,
    /// At the first message stored at or after this time (ms since the epoch).
    Timestamp(i64),
}

impl ConsumeFrom {
    /// The Java enum name used in heartbeats.
    pub fn java_name(self) -> &'static str {
        match self {
            ConsumeFrom::LastOffset => "CONSUME_FROM_LAST_OFFSET",
            ConsumeFrom::FirstOffset => "CONSUME_FROM_FIRST_OFFSET",
            ConsumeFrom::Timestamp(_) => "CONSUME_FROM_TIMESTAMP",
        }
    }
}

/// What a concurrent listener returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumeStatus {
    /// Consumed; the offset may move past these messages.
    Success,
    /// Failed; deliver these messages again later (sent back to the broker's retry topic).
    ReconsumeLater,
}

/// What an orderly listener returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderlyStatus {
    /// Consumed.
    Success,
    /// Failed; retry the same messages on this queue after a short pause.
    SuspendCurrentQueueAMoment,
}

/// Chooses the queues a consumer of a group takes (AllocateMessageQueueStrategy.java).
pub trait AllocateStrategy: Send + Sync {
    /// Strategy name.
    fn name(&self) -> &str;
    /// The queues of `mqs` that `current_cid` takes, given every consumer id `cids` of `group`.
    /// Both lists arrive sorted.
    fn allocate(
        &self,
        group: &str,
        current_cid: &str,
        mqs: &[MessageQueue],
        cids: &[String],
    ) -> Vec<MessageQueue>;
}

/// Consecutive blocks of queues, the first `mqs % cids` consumers taking one more
/// (AllocateMessageQueueAveragely.java). The default.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllocateAveragely;

impl AllocateStrategy for AllocateAveragely {
    fn name(&self) -> &str {
        "AVG"
    }

    fn allocate(
        &self,
        _group: &str,
        current_cid: &str,
        mqs: &[MessageQueue],
        cids: &[String],
    ) -> Vec<MessageQueue> {
        let Some(index) = cids.iter().position(|c| c == current_cid) else {
            return Vec::new();
        };
        let (n, m) = (mqs.len(), cids.len());
        if n == 0 {
            return Vec::new();
        }
        let rem = n % m;
        let size = if n <= m {
            1
        } else if rem > 0 && index < rem {
            n / m + 1
        } else {
            n / m
        };
        let start = if rem > 0 && index < rem { index * size } else { index * size + rem };
        let range = size.min(n.saturating_sub(start));
        (0..range).filter_map(|i| mqs.get((start + i) % n).cloned()).collect()
    }
}

/// Settings of a push consumer.
#[derive(Clone)]
pub struct PushConsumerOptions {
    /// Consumer group.
    pub group: String,
    /// Client settings.
    pub config: ClientConfig,
    /// Clustering (default) or broadcasting.
    pub model: MessageModel,
    /// Start position for a group without committed offsets (default: last offset).
    pub consume_from: ConsumeFrom,
    /// Threads running the listener (default 4).
    pub thread_count: usize,
    /// Most messages handed to one listener call (default 1).
    pub max_batch_size: usize,
    /// Most messages asked for per pull (default 32).
    pub pull_batch_size: u32,
    /// Pause pulling a queue while it holds this many unconsumed messages (default 1000).
    pub pull_threshold_per_queue: usize,
    /// Pause pulling a queue while its unconsumed bodies exceed this many MiB (default 100).
    pub pull_threshold_size_mib_per_queue: usize,
    /// Redeliveries before a message goes to the dead-letter queue (-1 = 16).
    pub max_reconsume_times: i32,
    /// Queue allocation (default: [`AllocateAveragely`]).
    pub allocate: Arc<dyn AllocateStrategy>,
    /// How often queues are re-allocated (default 20 s; also on broker notification).
    pub rebalance_interval: Duration,
    /// How often an orderly consumer renews its queue locks (default 20 s).
    pub lock_interval: Duration,
    /// How long the broker may hold a pull that finds nothing (default 15 s).
    pub suspend_timeout: Duration,
    /// Directory of broadcasting offset files (default `~/.rocketmq_offsets`).
    pub offset_store_dir: Option<PathBuf>,
}

impl PushConsumerOptions {
    /// Defaults for `group` with the given name servers.
    pub fn new(group: &str, namesrv_addr: &str) -> Self {
        PushConsumerOptions {
            group: group.to_string(),
            config: ClientConfig::new(namesrv_addr),
            model: MessageModel::Clustering,
            consume_from: ConsumeFrom::LastOffset,
            thread_count: 4,
            max_batch_size: 1,
            pull_batch_size: 32,
            pull_threshold_per_queue: 1000,
            pull_threshold_size_mib_per_queue: 100,
            max_reconsume_times: -1,
            allocate: Arc::new(AllocateAveragely),
            rebalance_interval: Duration::from_secs(20),
            lock_interval: Duration::from_secs(20),
            suspend_timeout: Duration::from_secs(15),
            offset_store_dir: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mqs(n: i32) -> Vec<MessageQueue> {
        (0..n)
            .map(|q| MessageQueue { topic: "T".into(), broker_name: "b".into(), queue_id: q })
            .collect()
    }

    #[test]
    fn averagely_matches_apache() {
        let cids: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let q = mqs(8);
        let ids = |c: &str| -> Vec<i32> {
            AllocateAveragely.allocate("g", c, &q, &cids).iter().map(|m| m.queue_id).collect()
        };
        assert_eq!(ids("a"), vec![0, 1, 2]);
        assert_eq!(ids("b"), vec![3, 4, 5]);
        assert_eq!(ids("c"), vec![6, 7]);
        assert!(ids("zz").is_empty());
        let q2 = mqs(2);
        assert_eq!(AllocateAveragely.allocate("g", "c", &q2, &cids).len(), 0);
        assert_eq!(AllocateAveragely.allocate("g", "b", &q2, &cids)[0].queue_id, 1);
    }
}
