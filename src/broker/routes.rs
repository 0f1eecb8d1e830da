//! The broker's route table: the only list of the request codes it serves, each with its
//! processor, pool, and whether the reader may run it inline (issue 12 point 1). Built once;
//! the main port and the fast port share it and its pools. A code missing here is answered
//! REQUEST_CODE_NOT_SUPPORTED by the dispatcher.

use super::core::Core;
use super::processor::admin::AdminProcessor;
use super::processor::client::ClientProcessor;
use super::processor::locks::LockProcessor;
use super::processor::offsets::OffsetProcessor;
use super::processor::pull::PullProcessor;
use super::processor::query::QueryProcessor;
use super::processor::send::SendProcessor;
use super::processor::stats::StatsProcessor;
use super::processor::txn::EndTransactionProcessor;
use crate::acl::resources as res;
use crate::protocol::codes::request as rq;
use crate::remoting::{Handler, RequestHook, Routes};
use std::sync::Arc;

/// The pull processor, shared by the table and the hold service that re-runs parked pulls.
pub(crate) fn pull_processor(core: &Arc<Core>) -> Arc<PullProcessor> {
    Arc::new(PullProcessor { c: core.clone() })
}

/// Build the table over `core`, with `hooks` around every request (ACL, metrics).
pub(crate) fn build(
    core: &Arc<Core>,
    pull: Arc<PullProcessor>,
    hooks: Vec<Arc<dyn RequestHook>>,
) -> Routes {
    let cfg = core.cfg();
    let mut r = Routes::new();
    let send =
        r.pool("send", cfg.send_message_thread_pool_nums, cfg.send_thread_pool_queue_capacity);
    let pull_pool =
        r.pool("pull", cfg.pull_message_thread_pool_nums, cfg.pull_thread_pool_queue_capacity);
    let client = r.pool("client", 2, 50_000);
    let admin = r.pool("admin", cfg.admin_broker_thread_pool_nums, 10_000);
    let query =
        r.pool("query", cfg.query_message_thread_pool_nums, cfg.query_thread_pool_queue_capacity);
    let c = || core.clone();
    let sender: Arc<dyn Handler> = Arc::new(SendProcessor { c: c() });
    // A send never waits for the disk on its thread (SYNC_FLUSH sends are answered from the
    // group commit), so the reader runs it itself while the send pool is idle (BENCHMARKS.md,
    // rmq-bench producer).
    // `.resources` names what ACL checks for each code (acl::resources has the table);
    // `.admin()` marks the codes only an admin account may call.
    r.route(&[rq::SEND_MESSAGE], send, sender.clone()).inline().shared_body().resources(res::send);
    r.route(&[rq::SEND_MESSAGE_V2, rq::SEND_BATCH_MESSAGE], send, sender.clone())
        .inline()
        .shared_body()
        .resources(res::send_v2);
    r.route(&[rq::CONSUMER_SEND_MSG_BACK], send, sender).resources(res::send_back);
    r.route(&[rq::END_TRANSACTION], send, Arc::new(EndTransactionProcessor { c: c() }))
        .resources(res::end_transaction);
    // Apache serves no pulls on the fast port.
    r.route(&[rq::PULL_MESSAGE], pull_pool, pull).main_port_only().resources(res::pull);
    let clients: Arc<dyn Handler> = Arc::new(ClientProcessor { c: c() });
    r.route(&[rq::HEART_BEAT], client, clients.clone()).resources(res::heart_beat);
    r.route(&[rq::UNREGISTER_CLIENT], client, clients.clone()).resources(res::unregister_client);
    r.route(&[rq::GET_CONSUMER_LIST_BY_GROUP], client, clients.clone())
        .resources(res::consumer_list);
    r.route(&[rq::CHECK_CLIENT_CONFIG], client, clients);
    let offsets: Arc<dyn Handler> = Arc::new(OffsetProcessor { c: c() });
    r.route(&[rq::UPDATE_CONSUMER_OFFSET], client, offsets.clone()).resources(res::update_offset);
    r.route(
        &[
            rq::QUERY_CONSUMER_OFFSET,
            rq::GET_MAX_OFFSET,
            rq::GET_MIN_OFFSET,
            rq::SEARCH_OFFSET_BY_TIMESTAMP,
            rq::GET_EARLIEST_MSG_STORETIME,
        ],
        client,
        offsets,
    );
    r.route(&[rq::LOCK_BATCH_MQ, rq::UNLOCK_BATCH_MQ], client, Arc::new(LockProcessor { c: c() }));
    let admins: Arc<dyn Handler> = Arc::new(AdminProcessor { c: c() });
    r.route(&res::ADMIN_CODES, admin, admins.clone()).admin();
    r.route(
        &[
            rq::GET_ALL_TOPIC_CONFIG,
            rq::GET_ALL_CONSUMER_OFFSET,
            rq::GET_ALL_SUBSCRIPTIONGROUP_CONFIG,
            rq::GET_ALL_DELAY_OFFSET,
            rq::GET_BROKER_CONFIG,
            rq::INVOKE_BROKER_TO_RESET_OFFSET,
        ],
        admin,
        admins,
    );
    r.route(
        &[
            rq::GET_CONSUME_STATS,
            rq::GET_TOPIC_STATS_INFO,
            rq::GET_BROKER_RUNTIME_INFO,
            rq::VIEW_BROKER_STATS_DATA,
            rq::GET_ALL_PRODUCER_INFO,
            rq::GET_BROKER_CONSUME_STATS,
            rq::CLEAN_EXPIRED_CONSUMEQUEUE,
            rq::QUERY_TOPIC_CONSUME_BY_WHO,
            rq::GET_CONSUMER_CONNECTION_LIST,
            rq::GET_PRODUCER_CONNECTION_LIST,
            rq::GET_CONSUMER_RUNNING_INFO,
        ],
        admin,
        Arc::new(StatsProcessor { c: c() }),
    );
    let query_h: Arc<dyn Handler> = Arc::new(QueryProcessor { c: c() });
    r.route(&[rq::QUERY_MESSAGE], query, query_h.clone()).resources(res::query_message);
    r.route(&[rq::VIEW_MESSAGE_BY_ID], query, query_h);
    for h in hooks {
        r.hook(h);
    }
    let closed = core.clone();
    r.on_close(Arc::new(move |conn| closed.connection_closed(conn.id())));
    r
}
