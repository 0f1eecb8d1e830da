//! rocketmq-exporter's per-broker, per-topic, per-group and consumer-client families.

use super::*;

/// `rocketmq_broker_tps`.
pub const BROKER_TPS: Def = Def {
    name: "rocketmq_broker_tps",
    help: "Messages put per second on the broker (BROKER_PUT_NUMS, statsMinute tps).",
    kind: Kind::Gauge,
    labels: BROKER_LABELS,
};
/// `rocketmq_broker_qps`.
pub const BROKER_QPS: Def = Def {
    name: "rocketmq_broker_qps",
    help: "Messages got per second from the broker (BROKER_GET_NUMS, statsMinute tps).",
    kind: Kind::Gauge,
    labels: BROKER_LABELS,
};
/// `rocketmq_broker_commitlog_diff`.
pub const BROKER_COMMITLOG_DIFF: Def = Def {
    name: "rocketmq_broker_commitlog_diff",
    help: "Commit-log bytes a slave is behind its master (brokerIP is the slave).",
    kind: Kind::Gauge,
    labels: BROKER_LABELS,
};
/// `rocketmq_producer_tps`.
pub const PRODUCER_TPS: Def = Def {
    name: "rocketmq_producer_tps",
    help: "Messages put per second to the topic (TOPIC_PUT_NUMS, statsMinute tps).",
    kind: Kind::Gauge,
    labels: TOPIC_LABELS,
};
/// `rocketmq_producer_message_size`.
pub const PRODUCER_MESSAGE_SIZE: Def = Def {
    name: "rocketmq_producer_message_size",
    help: "Bytes put per second to the topic (TOPIC_PUT_SIZE, statsMinute tps).",
    kind: Kind::Gauge,
    labels: TOPIC_LABELS,
};
/// `rocketmq_producer_offset`.
pub const PRODUCER_OFFSET: Def = Def {
    name: "rocketmq_producer_offset",
    help: "Sum of the max offsets of the topic's queues on the broker.",
    kind: Kind::Gauge,
    labels: TOPIC_LABELS,
};
/// `rocketmq_topic_retry_offset`.
pub const TOPIC_RETRY_OFFSET: Def = Def {
    name: "rocketmq_topic_retry_offset",
    help: "Sum of the max offsets of a %RETRY% topic's queues on the broker.",
    kind: Kind::Gauge,
    labels: TOPIC_LABELS,
};
/// `rocketmq_topic_dlq_offset`.
pub const TOPIC_DLQ_OFFSET: Def = Def {
    name: "rocketmq_topic_dlq_offset",
    help:
        "Sum of the max offsets of a group's %DLQ% topic on the broker (group without the prefix).",
    kind: Kind::Gauge,
    labels: &["cluster", "broker", "group"],
};
/// `rocketmq_consumer_tps`.
pub const CONSUMER_TPS: Def = Def {
    name: "rocketmq_consumer_tps",
    help: "Messages the group got per second from the topic (GROUP_GET_NUMS, statsMinute tps).",
    kind: Kind::Gauge,
    labels: GROUP_LABELS,
};
/// `rocketmq_consumer_message_size`.
pub const CONSUMER_MESSAGE_SIZE: Def = Def {
    name: "rocketmq_consumer_message_size",
    help: "Bytes the group got per second from the topic (GROUP_GET_SIZE, statsMinute tps).",
    kind: Kind::Gauge,
    labels: GROUP_LABELS,
};
/// `rocketmq_consumer_offset`.
pub const CONSUMER_OFFSET: Def = Def {
    name: "rocketmq_consumer_offset",
    help: "Sum of the group's committed offsets of the topic's queues on the broker.",
    kind: Kind::Gauge,
    labels: GROUP_LABELS,
};
/// `rocketmq_group_get_latency_by_storetime`.
pub const GROUP_GET_LATENCY_BY_STORETIME: Def = Def {
    name: "rocketmq_group_get_latency_by_storetime",
    help: "Milliseconds since the store time of the oldest message the group has not consumed (0 when caught up).",
    kind: Kind::Gauge,
    labels: GROUP_LABELS,
};
/// `rocketmq_send_back_nums`.
pub const SEND_BACK_NUMS: Def = Def {
    name: "rocketmq_send_back_nums",
    help: "Messages the group sent back for retry in the last minute (SNDBCK_PUT_NUMS, statsMinute sum).",
    kind: Kind::Gauge,
    labels: GROUP_LABELS,
};
/// `rocketmq_group_diff`.
pub const GROUP_DIFF: Def = Def {
    name: "rocketmq_group_diff",
    help: "Messages of the topic the clustering group has not consumed (broker offset minus consumer offset, all queues).",
    kind: Kind::Gauge,
    labels: DIFF_LABELS,
};
/// `rocketmq_group_retrydiff`.
pub const GROUP_RETRYDIFF: Def = Def {
    name: "rocketmq_group_retrydiff",
    help: "Like rocketmq_group_diff, for the group's %RETRY% topic.",
    kind: Kind::Gauge,
    labels: DIFF_LABELS,
};
/// `rocketmq_group_dlqdiff`.
pub const GROUP_DLQDIFF: Def = Def {
    name: "rocketmq_group_dlqdiff",
    help: "Like rocketmq_group_diff, for a %DLQ% topic.",
    kind: Kind::Gauge,
    labels: DIFF_LABELS,
};
/// `rocketmq_group_count`.
pub const GROUP_COUNT: Def = Def {
    name: "rocketmq_group_count",
    help: "Online consumers of the group (caddr: their addresses, localaddr: their client ids, comma-separated).",
    kind: Kind::Gauge,
    labels: &["caddr", "localaddr", "group"],
};
/// `rocketmq_producer_count`.
pub const PRODUCER_COUNT: Def = Def {
    name: "rocketmq_producer_count",
    help: "Producers of the group connected to the broker.",
    kind: Kind::Gauge,
    labels: &["cluster", "broker", "group"],
};
/// `rocketmq_client_consume_fail_msg_count`.
pub const CLIENT_CONSUME_FAIL_MSG_COUNT: Def = Def {
    name: "rocketmq_client_consume_fail_msg_count",
    help: "Messages a consumer failed to consume in the last hour (its running info, consumeFailedMsgs).",
    kind: Kind::Gauge,
    labels: &["clientAddr", "clientId", "group", "topic"],
};
/// `rocketmq_client_consume_fail_msg_tps`.
pub const CLIENT_CONSUME_FAIL_MSG_TPS: Def = Def {
    name: "rocketmq_client_consume_fail_msg_tps",
    help: "Failed consumptions per second of a consumer (its running info, consumeFailedTPS).",
    kind: Kind::Gauge,
    labels: &["clientAddr", "clientId", "group", "topic"],
};
/// `rocketmq_client_consume_ok_msg_tps`.
pub const CLIENT_CONSUME_OK_MSG_TPS: Def = Def {
    name: "rocketmq_client_consume_ok_msg_tps",
    help: "Successful consumptions per second of a consumer (its running info, consumeOKTPS).",
    kind: Kind::Gauge,
    labels: &["clientAddr", "clientId", "group", "topic"],
};
/// `rocketmq_client_consume_rt`.
pub const CLIENT_CONSUME_RT: Def = Def {
    name: "rocketmq_client_consume_rt",
    help: "Average consume time of a consumer in ms (its running info, consumeRT).",
    kind: Kind::Gauge,
    labels: &["clientAddr", "clientId", "group", "topic"],
};
/// `rocketmq_client_consumer_pull_rt`.
pub const CLIENT_CONSUMER_PULL_RT: Def = Def {
    name: "rocketmq_client_consumer_pull_rt",
    help: "Average pull time of a consumer in ms (its running info, pullRT).",
    kind: Kind::Gauge,
    labels: &["clientAddr", "clientId", "group", "topic"],
};
/// `rocketmq_client_consumer_pull_tps`.
pub const CLIENT_CONSUMER_PULL_TPS: Def = Def {
    name: "rocketmq_client_consumer_pull_tps",
    help: "Messages pulled per second by a consumer (its running info, pullTPS).",
    kind: Kind::Gauge,
    labels: &["clientAddr", "clientId", "group", "topic"],
};
