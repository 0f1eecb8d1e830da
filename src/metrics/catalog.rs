//! Every metric family rmq serves, in one place: the names, help, types and label sets the
//! broker and the name server register, and docs/METRICS.md lists. A test checks that the
//! document names each of them.
//!
//! [`EXPORTER`] and [`BROKER_RUNTIME`] are Apache rocketmq-exporter's families with its exact
//! names and label sets (RMQMetricsCollector.java; values as MetricsCollectTask.java computes
//! them), so its Grafana dashboards (10477) and alert rules work unchanged. All are gauges, as
//! there. [`RMQ`] are rmq's own; [`super::process`] adds the standard `process_*` families.
//! Label order is the exporter's; Prometheus does not care about it, dashboards neither.

use super::registry::Def;
use super::snapshot::Kind;

/// Labels of every `rocketmq_brokeruntime_*` family: cluster, broker address, broker host (empty,
/// as the exporter sends), `brokerVersionDesc`, `bootTimestamp`, `brokerVersion`.
pub const RUNTIME_LABELS: &[&str] =
    &["cluster", "brokerIP", "brokerHost", "des", "boottime", "broker_version"];
/// Labels of the per-broker families.
pub const BROKER_LABELS: &[&str] = &["cluster", "brokerIP", "broker"];
/// Labels of the per-topic families.
pub const TOPIC_LABELS: &[&str] = &["cluster", "broker", "topic"];
/// Labels of the per-group families.
pub const GROUP_LABELS: &[&str] = &["cluster", "broker", "topic", "group"];
/// Labels of the group diff families.
pub const DIFF_LABELS: &[&str] = &["group", "topic", "countOfOnlineConsumers", "msgModel"];

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
/// `rocketmq_brokeruntime_msg_put_total_today_now`.
pub const RT_MSG_PUT_TOTAL_TODAY_NOW: Def = Def {
    name: "rocketmq_brokeruntime_msg_put_total_today_now",
    help: "GET_BROKER_RUNTIME_INFO msgPutTotalTodayNow.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_msg_gettotal_today_now`.
pub const RT_MSG_GETTOTAL_TODAY_NOW: Def = Def {
    name: "rocketmq_brokeruntime_msg_gettotal_today_now",
    help: "GET_BROKER_RUNTIME_INFO msgGetTotalTodayNow.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_msg_puttotal_todaymorning`.
pub const RT_MSG_PUTTOTAL_TODAYMORNING: Def = Def {
    name: "rocketmq_brokeruntime_msg_puttotal_todaymorning",
    help: "GET_BROKER_RUNTIME_INFO msgPutTotalTodayMorning.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_msg_gettotal_todaymorning`.
pub const RT_MSG_GETTOTAL_TODAYMORNING: Def = Def {
    name: "rocketmq_brokeruntime_msg_gettotal_todaymorning",
    help: "GET_BROKER_RUNTIME_INFO msgGetTotalTodayMorning.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_msg_puttotal_yesterdaymorning`.
pub const RT_MSG_PUTTOTAL_YESTERDAYMORNING: Def = Def {
    name: "rocketmq_brokeruntime_msg_puttotal_yesterdaymorning",
    help: "GET_BROKER_RUNTIME_INFO msgPutTotalYesterdayMorning.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_msg_gettotal_yesterdaymorning`.
pub const RT_MSG_GETTOTAL_YESTERDAYMORNING: Def = Def {
    name: "rocketmq_brokeruntime_msg_gettotal_yesterdaymorning",
    help: "GET_BROKER_RUNTIME_INFO msgGetTotalYesterdayMorning.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_dispatch_behind_bytes`.
pub const RT_DISPATCH_BEHIND_BYTES: Def = Def {
    name: "rocketmq_brokeruntime_dispatch_behind_bytes",
    help: "GET_BROKER_RUNTIME_INFO dispatchBehindBytes.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_put_message_size_total`.
pub const RT_PUT_MESSAGE_SIZE_TOTAL: Def = Def {
    name: "rocketmq_brokeruntime_put_message_size_total",
    help: "GET_BROKER_RUNTIME_INFO putMessageSizeTotal.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_put_message_average_size`.
pub const RT_PUT_MESSAGE_AVERAGE_SIZE: Def = Def {
    name: "rocketmq_brokeruntime_put_message_average_size",
    help: "GET_BROKER_RUNTIME_INFO putMessageAverageSize.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_putmessage_times_total`.
pub const RT_PUTMESSAGE_TIMES_TOTAL: Def = Def {
    name: "rocketmq_brokeruntime_putmessage_times_total",
    help: "GET_BROKER_RUNTIME_INFO putMessageTimesTotal.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_putmessage_entire_time_max`.
pub const RT_PUTMESSAGE_ENTIRE_TIME_MAX: Def = Def {
    name: "rocketmq_brokeruntime_putmessage_entire_time_max",
    help: "GET_BROKER_RUNTIME_INFO putMessageEntireTimeMax.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_getmessage_entire_time_max`.
pub const RT_GETMESSAGE_ENTIRE_TIME_MAX: Def = Def {
    name: "rocketmq_brokeruntime_getmessage_entire_time_max",
    help: "GET_BROKER_RUNTIME_INFO getMessageEntireTimeMax.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_remain_transientstore_buffer_numbs`.
pub const RT_REMAIN_TRANSIENTSTORE_BUFFER_NUMBS: Def = Def {
    name: "rocketmq_brokeruntime_remain_transientstore_buffer_numbs",
    help: "GET_BROKER_RUNTIME_INFO remainTransientStoreBufferNumbs.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_earliest_message_timestamp`.
pub const RT_EARLIEST_MESSAGE_TIMESTAMP: Def = Def {
    name: "rocketmq_brokeruntime_earliest_message_timestamp",
    help: "GET_BROKER_RUNTIME_INFO earliestMessageTimeStamp.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_start_accept_sendrequest_time`.
pub const RT_START_ACCEPT_SENDREQUEST_TIME: Def = Def {
    name: "rocketmq_brokeruntime_start_accept_sendrequest_time",
    help: "GET_BROKER_RUNTIME_INFO startAcceptSendRequestTimeStamp.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_pagecache_lock_time_mills`.
pub const RT_PAGECACHE_LOCK_TIME_MILLS: Def = Def {
    name: "rocketmq_brokeruntime_pagecache_lock_time_mills",
    help: "GET_BROKER_RUNTIME_INFO pageCacheLockTimeMills.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_commitlog_disk_ratio`.
pub const RT_COMMITLOG_DISK_RATIO: Def = Def {
    name: "rocketmq_brokeruntime_commitlog_disk_ratio",
    help: "GET_BROKER_RUNTIME_INFO commitLogDiskRatio.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_consumequeue_disk_ratio`.
pub const RT_CONSUMEQUEUE_DISK_RATIO: Def = Def {
    name: "rocketmq_brokeruntime_consumequeue_disk_ratio",
    help: "GET_BROKER_RUNTIME_INFO consumeQueueDiskRatio.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_commitlogdir_capacity_free`.
pub const RT_COMMITLOGDIR_CAPACITY_FREE: Def = Def {
    name: "rocketmq_brokeruntime_commitlogdir_capacity_free",
    help: "GET_BROKER_RUNTIME_INFO commitLogDirCapacity (Free, bytes).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_commitlogdir_capacity_total`.
pub const RT_COMMITLOGDIR_CAPACITY_TOTAL: Def = Def {
    name: "rocketmq_brokeruntime_commitlogdir_capacity_total",
    help: "GET_BROKER_RUNTIME_INFO commitLogDirCapacity (Total, bytes).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_commitlog_maxoffset`.
pub const RT_COMMITLOG_MAXOFFSET: Def = Def {
    name: "rocketmq_brokeruntime_commitlog_maxoffset",
    help: "GET_BROKER_RUNTIME_INFO commitLogMaxOffset.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_commitlog_minoffset`.
pub const RT_COMMITLOG_MINOFFSET: Def = Def {
    name: "rocketmq_brokeruntime_commitlog_minoffset",
    help: "GET_BROKER_RUNTIME_INFO commitLogMinOffset.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_remain_howmanydata_toflush`.
pub const RT_REMAIN_HOWMANYDATA_TOFLUSH: Def = Def {
    name: "rocketmq_brokeruntime_remain_howmanydata_toflush",
    help: "GET_BROKER_RUNTIME_INFO remainHowManyDataToFlush (bytes).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_dispatch_maxbuffer`.
pub const RT_DISPATCH_MAXBUFFER: Def = Def {
    name: "rocketmq_brokeruntime_dispatch_maxbuffer",
    help: "GET_BROKER_RUNTIME_INFO dispatchMaxBuffer.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_put_latency_99`.
pub const RT_PUT_LATENCY_99: Def = Def {
    name: "rocketmq_brokeruntime_put_latency_99",
    help: "GET_BROKER_RUNTIME_INFO putLatency99.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_put_latency_999`.
pub const RT_PUT_LATENCY_999: Def = Def {
    name: "rocketmq_brokeruntime_put_latency_999",
    help: "GET_BROKER_RUNTIME_INFO putLatency999.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_send_threadpool_queue_size`.
pub const RT_SEND_THREADPOOL_QUEUE_SIZE: Def = Def {
    name: "rocketmq_brokeruntime_send_threadpool_queue_size",
    help: "GET_BROKER_RUNTIME_INFO sendThreadPoolQueueSize.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_send_threadpoolqueue_capacity`.
pub const RT_SEND_THREADPOOLQUEUE_CAPACITY: Def = Def {
    name: "rocketmq_brokeruntime_send_threadpoolqueue_capacity",
    help: "GET_BROKER_RUNTIME_INFO sendThreadPoolQueueCapacity.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_send_threadpoolqueue_headwait_timemills`.
pub const RT_SEND_THREADPOOLQUEUE_HEADWAIT_TIMEMILLS: Def = Def {
    name: "rocketmq_brokeruntime_send_threadpoolqueue_headwait_timemills",
    help: "GET_BROKER_RUNTIME_INFO sendThreadPoolQueueHeadWaitTimeMills.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_pull_threadpoolqueue_size`.
pub const RT_PULL_THREADPOOLQUEUE_SIZE: Def = Def {
    name: "rocketmq_brokeruntime_pull_threadpoolqueue_size",
    help: "GET_BROKER_RUNTIME_INFO pullThreadPoolQueueSize.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_pull_threadpoolqueue_capacity`.
pub const RT_PULL_THREADPOOLQUEUE_CAPACITY: Def = Def {
    name: "rocketmq_brokeruntime_pull_threadpoolqueue_capacity",
    help: "GET_BROKER_RUNTIME_INFO pullThreadPoolQueueCapacity.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_pull_threadpoolqueue_headwait_timemills`.
pub const RT_PULL_THREADPOOLQUEUE_HEADWAIT_TIMEMILLS: Def = Def {
    name: "rocketmq_brokeruntime_pull_threadpoolqueue_headwait_timemills",
    help: "GET_BROKER_RUNTIME_INFO pullThreadPoolQueueHeadWaitTimeMills.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_query_threadpoolqueue_size`.
pub const RT_QUERY_THREADPOOLQUEUE_SIZE: Def = Def {
    name: "rocketmq_brokeruntime_query_threadpoolqueue_size",
    help: "GET_BROKER_RUNTIME_INFO queryThreadPoolQueueSize.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_query_threadpool_queue_capacity`.
pub const RT_QUERY_THREADPOOL_QUEUE_CAPACITY: Def = Def {
    name: "rocketmq_brokeruntime_query_threadpool_queue_capacity",
    help: "GET_BROKER_RUNTIME_INFO queryThreadPoolQueueCapacity.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_query_threadpoolqueue_headwait_timemills`.
pub const RT_QUERY_THREADPOOLQUEUE_HEADWAIT_TIMEMILLS: Def = Def {
    name: "rocketmq_brokeruntime_query_threadpoolqueue_headwait_timemills",
    help: "GET_BROKER_RUNTIME_INFO queryThreadPoolQueueHeadWaitTimeMills.",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_put_tps10`.
pub const RT_PUT_TPS10: Def = Def {
    name: "rocketmq_brokeruntime_put_tps10",
    help: "GET_BROKER_RUNTIME_INFO putTps (first of the three windows).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_getfound_tps10`.
pub const RT_GETFOUND_TPS10: Def = Def {
    name: "rocketmq_brokeruntime_getfound_tps10",
    help: "GET_BROKER_RUNTIME_INFO getFoundTps (first of the three windows).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_getmiss_tps10`.
pub const RT_GETMISS_TPS10: Def = Def {
    name: "rocketmq_brokeruntime_getmiss_tps10",
    help: "GET_BROKER_RUNTIME_INFO getMissTps (first of the three windows).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_gettotal_tps10`.
pub const RT_GETTOTAL_TPS10: Def = Def {
    name: "rocketmq_brokeruntime_gettotal_tps10",
    help: "GET_BROKER_RUNTIME_INFO getTotalTps (first of the three windows).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_gettransfered_tps10`.
pub const RT_GETTRANSFERED_TPS10: Def = Def {
    name: "rocketmq_brokeruntime_gettransfered_tps10",
    help: "GET_BROKER_RUNTIME_INFO getTransferedTps (first of the three windows).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_put_tps60`.
pub const RT_PUT_TPS60: Def = Def {
    name: "rocketmq_brokeruntime_put_tps60",
    help: "GET_BROKER_RUNTIME_INFO putTps (second of the three windows).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_getfound_tps60`.
pub const RT_GETFOUND_TPS60: Def = Def {
    name: "rocketmq_brokeruntime_getfound_tps60",
    help: "GET_BROKER_RUNTIME_INFO getFoundTps (second of the three windows).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_getmiss_tps60`.
pub const RT_GETMISS_TPS60: Def = Def {
    name: "rocketmq_brokeruntime_getmiss_tps60",
    help: "GET_BROKER_RUNTIME_INFO getMissTps (second of the three windows).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_gettotal_tps60`.
pub const RT_GETTOTAL_TPS60: Def = Def {
    name: "rocketmq_brokeruntime_gettotal_tps60",
    help: "GET_BROKER_RUNTIME_INFO getTotalTps (second of the three windows).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_gettransfered_tps60`.
pub const RT_GETTRANSFERED_TPS60: Def = Def {
    name: "rocketmq_brokeruntime_gettransfered_tps60",
    help: "GET_BROKER_RUNTIME_INFO getTransferedTps (second of the three windows).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_put_tps600`.
pub const RT_PUT_TPS600: Def = Def {
    name: "rocketmq_brokeruntime_put_tps600",
    help: "GET_BROKER_RUNTIME_INFO putTps (third of the three windows).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_getfound_tps600`.
pub const RT_GETFOUND_TPS600: Def = Def {
    name: "rocketmq_brokeruntime_getfound_tps600",
    help: "GET_BROKER_RUNTIME_INFO getFoundTps (third of the three windows).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_getmiss_tps600`.
pub const RT_GETMISS_TPS600: Def = Def {
    name: "rocketmq_brokeruntime_getmiss_tps600",
    help: "GET_BROKER_RUNTIME_INFO getMissTps (third of the three windows).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_gettotal_tps600`.
pub const RT_GETTOTAL_TPS600: Def = Def {
    name: "rocketmq_brokeruntime_gettotal_tps600",
    help: "GET_BROKER_RUNTIME_INFO getTotalTps (third of the three windows).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_gettransfered_tps600`.
pub const RT_GETTRANSFERED_TPS600: Def = Def {
    name: "rocketmq_brokeruntime_gettransfered_tps600",
    help: "GET_BROKER_RUNTIME_INFO getTransferedTps (third of the three windows).",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_pmdt_0ms`.
pub const RT_PMDT_0MS: Def = Def {
    name: "rocketmq_brokeruntime_pmdt_0ms",
    help: "GET_BROKER_RUNTIME_INFO putMessageDistributeTime [<=0ms].",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_pmdt_0to10ms`.
pub const RT_PMDT_0TO10MS: Def = Def {
    name: "rocketmq_brokeruntime_pmdt_0to10ms",
    help: "GET_BROKER_RUNTIME_INFO putMessageDistributeTime [0~10ms].",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_pmdt_10to50ms`.
pub const RT_PMDT_10TO50MS: Def = Def {
    name: "rocketmq_brokeruntime_pmdt_10to50ms",
    help: "GET_BROKER_RUNTIME_INFO putMessageDistributeTime [10~50ms].",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_pmdt_50to100ms`.
pub const RT_PMDT_50TO100MS: Def = Def {
    name: "rocketmq_brokeruntime_pmdt_50to100ms",
    help: "GET_BROKER_RUNTIME_INFO putMessageDistributeTime [50~100ms].",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_pmdt_100to200ms`.
pub const RT_PMDT_100TO200MS: Def = Def {
    name: "rocketmq_brokeruntime_pmdt_100to200ms",
    help: "GET_BROKER_RUNTIME_INFO putMessageDistributeTime [100~200ms].",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_pmdt_200to500ms`.
pub const RT_PMDT_200TO500MS: Def = Def {
    name: "rocketmq_brokeruntime_pmdt_200to500ms",
    help: "GET_BROKER_RUNTIME_INFO putMessageDistributeTime [200~500ms].",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_pmdt_500to1s`.
pub const RT_PMDT_500TO1S: Def = Def {
    name: "rocketmq_brokeruntime_pmdt_500to1s",
    help: "GET_BROKER_RUNTIME_INFO putMessageDistributeTime [500ms~1s].",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_pmdt_1to2s`.
pub const RT_PMDT_1TO2S: Def = Def {
    name: "rocketmq_brokeruntime_pmdt_1to2s",
    help: "GET_BROKER_RUNTIME_INFO putMessageDistributeTime [1~2s].",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_pmdt_2to3s`.
pub const RT_PMDT_2TO3S: Def = Def {
    name: "rocketmq_brokeruntime_pmdt_2to3s",
    help: "GET_BROKER_RUNTIME_INFO putMessageDistributeTime [2~3s].",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_pmdt_3to4s`.
pub const RT_PMDT_3TO4S: Def = Def {
    name: "rocketmq_brokeruntime_pmdt_3to4s",
    help: "GET_BROKER_RUNTIME_INFO putMessageDistributeTime [3~4s].",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_pmdt_4to5s`.
pub const RT_PMDT_4TO5S: Def = Def {
    name: "rocketmq_brokeruntime_pmdt_4to5s",
    help: "GET_BROKER_RUNTIME_INFO putMessageDistributeTime [4~5s].",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_pmdt_5to10s`.
pub const RT_PMDT_5TO10S: Def = Def {
    name: "rocketmq_brokeruntime_pmdt_5to10s",
    help: "GET_BROKER_RUNTIME_INFO putMessageDistributeTime [5~10s].",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rocketmq_brokeruntime_pmdt_10stomore`.
pub const RT_PMDT_10STOMORE: Def = Def {
    name: "rocketmq_brokeruntime_pmdt_10stomore",
    help: "GET_BROKER_RUNTIME_INFO putMessageDistributeTime [10s~].",
    kind: Kind::Gauge,
    labels: RUNTIME_LABELS,
};
/// `rmq_requests_total`.
pub const REQUESTS: Def = Def {
    name: "rmq_requests_total",
    help: "Requests handled, by server (broker, namesrv) and request code.",
    kind: Kind::Counter,
    labels: &["server", "code"],
};
/// `rmq_request_errors_total`.
pub const REQUEST_ERRORS: Def = Def {
    name: "rmq_request_errors_total",
    help: "Requests answered with a code other than SUCCESS (0), by request and response code.",
    kind: Kind::Counter,
    labels: &["server", "code", "response_code"],
};
/// `rmq_request_duration_seconds`.
pub const REQUEST_DURATION: Def = Def {
    name: "rmq_request_duration_seconds",
    help: "Time from a request's arrival to its answer, by request code.",
    kind: Kind::Histogram,
    labels: &["server", "code"],
};
/// `rmq_requests_rejected_total`.
pub const REQUESTS_REJECTED: Def = Def {
    name: "rmq_requests_rejected_total",
    help: "Requests refused with SYSTEM_BUSY (2) because their pool's queue was full.",
    kind: Kind::Counter,
    labels: &["server", "pool"],
};
/// `rmq_pool_queue_depth`.
pub const POOL_QUEUE_DEPTH: Def = Def {
    name: "rmq_pool_queue_depth",
    help: "Requests waiting in a pool's queue.",
    kind: Kind::Gauge,
    labels: &["server", "pool"],
};
/// `rmq_pool_queue_capacity`.
pub const POOL_QUEUE_CAPACITY: Def = Def {
    name: "rmq_pool_queue_capacity",
    help: "Capacity of a pool's queue.",
    kind: Kind::Gauge,
    labels: &["server", "pool"],
};
/// `rmq_connections`.
pub const CONNECTIONS: Def = Def {
    name: "rmq_connections",
    help: "Open client connections by kind (producer, consumer, broker, other).",
    kind: Kind::Gauge,
    labels: &["server", "kind"],
};
/// `rmq_store_append_duration_seconds`.
pub const STORE_APPEND_DURATION: Def = Def {
    name: "rmq_store_append_duration_seconds",
    help: "Time to append one message or batch to the commit log (lock to written).",
    kind: Kind::Histogram,
    labels: &[],
};
/// `rmq_store_flush_duration_seconds`.
pub const STORE_FLUSH_DURATION: Def = Def {
    name: "rmq_store_flush_duration_seconds",
    help: "Time of one commit-log flush (msync/fsync).",
    kind: Kind::Histogram,
    labels: &[],
};
/// `rmq_store_group_commit_batch_messages`.
pub const STORE_GROUP_COMMIT_BATCH: Def = Def {
    name: "rmq_store_group_commit_batch_messages",
    help: "Sends answered by one SYNC_FLUSH group commit.",
    kind: Kind::Histogram,
    labels: &[],
};
/// `rmq_store_put_messages_total`.
pub const STORE_PUT_MESSAGES: Def = Def {
    name: "rmq_store_put_messages_total",
    help: "Messages appended to the commit log.",
    kind: Kind::Counter,
    labels: &[],
};
/// `rmq_store_put_bytes_total`.
pub const STORE_PUT_BYTES: Def = Def {
    name: "rmq_store_put_bytes_total",
    help: "Bytes appended to the commit log.",
    kind: Kind::Counter,
    labels: &[],
};
/// `rmq_store_bytes`.
pub const STORE_BYTES: Def = Def {
    name: "rmq_store_bytes",
    help: "Bytes on disk by kind (commitlog, consumequeue, index).",
    kind: Kind::Gauge,
    labels: &["kind"],
};
/// `rmq_store_files`.
pub const STORE_FILES: Def = Def {
    name: "rmq_store_files",
    help: "Files on disk by kind (commitlog, consumequeue, index).",
    kind: Kind::Gauge,
    labels: &["kind"],
};
/// `rmq_store_dispatch_lag_bytes`.
pub const STORE_DISPATCH_LAG: Def = Def {
    name: "rmq_store_dispatch_lag_bytes",
    help: "Commit-log bytes written but not yet dispatched to consume queues and index.",
    kind: Kind::Gauge,
    labels: &[],
};
/// `rmq_pulls_parked`.
pub const PULLS_PARKED: Def = Def {
    name: "rmq_pulls_parked",
    help: "Long-polling pulls waiting for messages.",
    kind: Kind::Gauge,
    labels: &[],
};
/// `rmq_ha_replication_lag_bytes`.
pub const HA_REPLICATION_LAG: Def = Def {
    name: "rmq_ha_replication_lag_bytes",
    help: "Commit-log bytes a slave has not acknowledged (after HA lands).",
    kind: Kind::Gauge,
    labels: &["slave"],
};
/// `rmq_namesrv_brokers_alive`.
pub const NAMESRV_BROKERS_ALIVE: Def = Def {
    name: "rmq_namesrv_brokers_alive",
    help: "Broker addresses registered and not expired, by cluster.",
    kind: Kind::Gauge,
    labels: &["cluster"],
};
/// `rmq_namesrv_topics`.
pub const NAMESRV_TOPICS: Def = Def {
    name: "rmq_namesrv_topics",
    help: "Topics with at least one route.",
    kind: Kind::Gauge,
    labels: &[],
};
/// `rmq_namesrv_routes_served_total`.
pub const NAMESRV_ROUTES_SERVED: Def = Def {
    name: "rmq_namesrv_routes_served_total",
    help: "GET_ROUTEINFO_BY_TOPIC requests answered, by result (found, not_found).",
    kind: Kind::Counter,
    labels: &["result"],
};
/// rocketmq-exporter's per-broker, per-topic and per-group families.
pub const EXPORTER: &[Def] = &[
    BROKER_TPS,
    BROKER_QPS,
    BROKER_COMMITLOG_DIFF,
    PRODUCER_TPS,
    PRODUCER_MESSAGE_SIZE,
    PRODUCER_OFFSET,
    TOPIC_RETRY_OFFSET,
    TOPIC_DLQ_OFFSET,
    CONSUMER_TPS,
    CONSUMER_MESSAGE_SIZE,
    CONSUMER_OFFSET,
    GROUP_GET_LATENCY_BY_STORETIME,
    SEND_BACK_NUMS,
    GROUP_DIFF,
    GROUP_RETRYDIFF,
    GROUP_DLQDIFF,
    GROUP_COUNT,
    PRODUCER_COUNT,
];
/// rocketmq-exporter's `rocketmq_brokeruntime_*` families, from GET_BROKER_RUNTIME_INFO.
pub const BROKER_RUNTIME: &[Def] = &[
    RT_MSG_PUT_TOTAL_TODAY_NOW,
    RT_MSG_GETTOTAL_TODAY_NOW,
    RT_MSG_PUTTOTAL_TODAYMORNING,
    RT_MSG_GETTOTAL_TODAYMORNING,
    RT_MSG_PUTTOTAL_YESTERDAYMORNING,
    RT_MSG_GETTOTAL_YESTERDAYMORNING,
    RT_DISPATCH_BEHIND_BYTES,
    RT_PUT_MESSAGE_SIZE_TOTAL,
    RT_PUT_MESSAGE_AVERAGE_SIZE,
    RT_PUTMESSAGE_TIMES_TOTAL,
    RT_PUTMESSAGE_ENTIRE_TIME_MAX,
    RT_GETMESSAGE_ENTIRE_TIME_MAX,
    RT_REMAIN_TRANSIENTSTORE_BUFFER_NUMBS,
    RT_EARLIEST_MESSAGE_TIMESTAMP,
    RT_START_ACCEPT_SENDREQUEST_TIME,
    RT_PAGECACHE_LOCK_TIME_MILLS,
    RT_COMMITLOG_DISK_RATIO,
    RT_CONSUMEQUEUE_DISK_RATIO,
    RT_COMMITLOGDIR_CAPACITY_FREE,
    RT_COMMITLOGDIR_CAPACITY_TOTAL,
    RT_COMMITLOG_MAXOFFSET,
    RT_COMMITLOG_MINOFFSET,
    RT_REMAIN_HOWMANYDATA_TOFLUSH,
    RT_DISPATCH_MAXBUFFER,
    RT_PUT_LATENCY_99,
    RT_PUT_LATENCY_999,
    RT_SEND_THREADPOOL_QUEUE_SIZE,
    RT_SEND_THREADPOOLQUEUE_CAPACITY,
    RT_SEND_THREADPOOLQUEUE_HEADWAIT_TIMEMILLS,
    RT_PULL_THREADPOOLQUEUE_SIZE,
    RT_PULL_THREADPOOLQUEUE_CAPACITY,
    RT_PULL_THREADPOOLQUEUE_HEADWAIT_TIMEMILLS,
    RT_QUERY_THREADPOOLQUEUE_SIZE,
    RT_QUERY_THREADPOOL_QUEUE_CAPACITY,
    RT_QUERY_THREADPOOLQUEUE_HEADWAIT_TIMEMILLS,
    RT_PUT_TPS10,
    RT_GETFOUND_TPS10,
    RT_GETMISS_TPS10,
    RT_GETTOTAL_TPS10,
    RT_GETTRANSFERED_TPS10,
    RT_PUT_TPS60,
    RT_GETFOUND_TPS60,
    RT_GETMISS_TPS60,
    RT_GETTOTAL_TPS60,
    RT_GETTRANSFERED_TPS60,
    RT_PUT_TPS600,
    RT_GETFOUND_TPS600,
    RT_GETMISS_TPS600,
    RT_GETTOTAL_TPS600,
    RT_GETTRANSFERED_TPS600,
    RT_PMDT_0MS,
    RT_PMDT_0TO10MS,
    RT_PMDT_10TO50MS,
    RT_PMDT_50TO100MS,
    RT_PMDT_100TO200MS,
    RT_PMDT_200TO500MS,
    RT_PMDT_500TO1S,
    RT_PMDT_1TO2S,
    RT_PMDT_2TO3S,
    RT_PMDT_3TO4S,
    RT_PMDT_4TO5S,
    RT_PMDT_5TO10S,
    RT_PMDT_10STOMORE,
];
/// rocketmq-exporter's consumer-client families: it asks every online consumer for its running info
/// (GET_CONSUMER_RUNNING_INFO through the broker), which a scrape-time collector must not do.
pub const CLIENT_RUNTIME: &[Def] = &[
    CLIENT_CONSUME_FAIL_MSG_COUNT,
    CLIENT_CONSUME_FAIL_MSG_TPS,
    CLIENT_CONSUME_OK_MSG_TPS,
    CLIENT_CONSUME_RT,
    CLIENT_CONSUMER_PULL_RT,
    CLIENT_CONSUMER_PULL_TPS,
];
/// rmq's own families (broker, store, name server).
pub const RMQ: &[Def] = &[
    REQUESTS,
    REQUEST_ERRORS,
    REQUEST_DURATION,
    REQUESTS_REJECTED,
    POOL_QUEUE_DEPTH,
    POOL_QUEUE_CAPACITY,
    CONNECTIONS,
    STORE_APPEND_DURATION,
    STORE_FLUSH_DURATION,
    STORE_GROUP_COMMIT_BATCH,
    STORE_PUT_MESSAGES,
    STORE_PUT_BYTES,
    STORE_BYTES,
    STORE_FILES,
    STORE_DISPATCH_LAG,
    PULLS_PARKED,
    HA_REPLICATION_LAG,
    NAMESRV_BROKERS_ALIVE,
    NAMESRV_TOPICS,
    NAMESRV_ROUTES_SERVED,
];

#[cfg(test)]
mod tests {
    use super::super::registry::Registry;
    use super::*;

    #[test]
    fn every_family_registers_and_names_are_unique() {
        let r = Registry::new();
        let mut seen = std::collections::BTreeSet::new();
        for d in EXPORTER.iter().chain(BROKER_RUNTIME).chain(CLIENT_RUNTIME).chain(RMQ) {
            assert!(seen.insert(d.name), "{} twice", d.name);
            let ok = match d.kind {
                Kind::Counter => r.counter_vec(d).is_ok(),
                Kind::Gauge => r.gauge_vec(d).is_ok(),
                Kind::Histogram => r.histogram_vec(d, &[1.0]).is_ok(),
            };
            assert!(ok, "{}", d.name);
        }
        for d in RMQ {
            assert_eq!(d.kind == Kind::Counter, d.name.ends_with("_total"), "{}", d.name);
        }
        assert_eq!(BROKER_RUNTIME.len(), 63);
    }

    #[test]
    fn docs_list_every_family() {
        let doc = include_str!("../../docs/METRICS.md");
        for d in EXPORTER.iter().chain(BROKER_RUNTIME).chain(CLIENT_RUNTIME).chain(RMQ) {
            assert!(doc.contains(&format!("`{}`", d.name)), "docs/METRICS.md lacks {}", d.name);
        }
    }
}
