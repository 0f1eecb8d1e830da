//! rmq's own families: requests, pools, connections, store, name server.

use super::*;

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
    help: "Open connections by kind (consumer, producer, other: admin tools, brokers, idle).",
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
    help: "Commit-log bytes a slave has not acknowledged (served by a master, per slave).",
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
