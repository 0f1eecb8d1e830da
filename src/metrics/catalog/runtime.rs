//! rocketmq-exporter's `rocketmq_brokeruntime_*` families, one per GET_BROKER_RUNTIME_INFO key.

use super::*;

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
