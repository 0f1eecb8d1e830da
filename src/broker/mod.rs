//! Broker: topics, sends, pulls with long polling, consumer offsets, client tables, subscription
//! groups, retries and dead letters, delayed delivery and name server registration over the
//! store. `start(cfg) -> BrokerHandle`; `rmq-broker` is a thin
//! wrapper.

mod admin;
pub mod brokercfg;
pub mod clients;
pub mod config;
mod conns;
mod consumer;
pub mod groups;
pub mod offsets;
mod pull;
mod query;
mod reset;
pub mod schedule;
mod send;
mod stats;
pub mod topics;
mod tps;
pub mod transaction;

pub use config::BrokerConfig;

use crate::common::service::{spawn_thread, Service, Waker};
use crate::protocol::body::{perm, RegisterBrokerBody};
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::RemotingCommand;
use crate::remoting::{
    Dispatcher, Handler, RemotingClient, Reply, ReqCtx, Routes, Server, ServerConfig,
};
use crate::store::{FlushDiskType, MessageStore, StoreConfig};
use parking_lot::Mutex;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Shared broker state; handlers are methods on it.
pub struct Broker {
    cfg: BrokerConfig,
    store: Arc<MessageStore>,
    topics: topics::TopicManager,
    offsets: offsets::OffsetManager,
    groups: groups::GroupManager,
    delay_offsets: schedule::DelayOffsets,
    clients: clients::ClientManager,
    locks: consumer::LockManager,
    hold: Arc<pull::PullHold>,
    store_host: SocketAddr,
    remote: RemotingClient,
    register_waker: Mutex<Option<Waker>>,
    live: brokercfg::LiveConfig,
    boot_timestamp: i64,
    tps: tps::StoreStats,
    group_gets: tps::GroupGets,
}

impl Broker {
    /// `ip:port` this broker advertises.
    pub fn addr(&self) -> String {
        self.store_host.to_string()
    }

    fn wake_registration(&self) {
        if let Some(w) = self.register_waker.lock().as_ref() {
            w.wake();
        }
    }

    fn register_all_now(&self) {
        self.wake_registration();
    }

    /// Register with every name server (REGISTER_BROKER). Returns how many accepted.
    pub fn register_all(&self) -> usize {
        let mut snapshot = self.topics.snapshot();
        // Apache registerBrokerAll: a broker that is not both readable and writable registers
        // every topic with the broker's permission, so clients route around it.
        let bperm = self.live.broker_permission();
        if bperm & perm::READ == 0 || bperm & perm::WRITE == 0 {
            for tc in snapshot.topic_config_table.values_mut() {
                tc.perm = bperm;
            }
        }
        let body = RegisterBrokerBody {
            filter_server_list: Vec::new(),
            topic_config_serialize_wrapper: snapshot,
        };
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let crc = crate::common::crc::masked_crc32(&body);
        let ha_ip = self.cfg.broker_ip2.unwrap_or(self.cfg.broker_ip1);
        let mut ok = 0;
        for ns in self.cfg.namesrv_list() {
            let req = RemotingCommand::request(rq::REGISTER_BROKER)
                .with("brokerAddr", self.addr())
                .with("brokerId", self.cfg.broker_id)
                .with("brokerName", &self.cfg.broker_name)
                .with("clusterName", &self.cfg.broker_cluster_name)
                .with(
                    "haServerAddr",
                    SocketAddr::new(ha_ip, self.store_host.port().wrapping_add(1)),
                )
                .with("compressed", false)
                .with("bodyCrc32", crc)
                .with_body(body.clone());
            match self.remote.invoke(&ns, req, Duration::from_secs(6)) {
                Ok(r) if r.code == rs::SUCCESS => ok += 1,
                Ok(r) => log::warn!(
                    "register to name server failed namesrv={} code={} remark={:?}",
                    ns,
                    r.code,
                    r.remark
                ),
                Err(e) => log::warn!("register to name server failed namesrv={} err={}", ns, e),
            }
        }
        ok
    }

    fn unregister_all(&self) {
        for ns in self.cfg.namesrv_list() {
            let req = RemotingCommand::request(rq::UNREGISTER_BROKER)
                .with("brokerAddr", self.addr())
                .with("brokerId", self.cfg.broker_id)
                .with("brokerName", &self.cfg.broker_name)
                .with("clusterName", &self.cfg.broker_cluster_name);
            match self.remote.invoke(&ns, req, Duration::from_secs(3)) {
                Ok(r) if r.code == rs::SUCCESS => {
                    log::info!("unregistered from name server namesrv={ns}")
                }
                Ok(r) => log::warn!(
                    "unregister from name server failed namesrv={} code={} remark={:?}",
                    ns,
                    r.code,
                    r.remark
                ),
                Err(e) => log::warn!("unregister from name server failed namesrv={} err={}", ns, e),
            }
        }
    }

    fn connection_closed(&self, conn_id: u64) {
        for g in self.clients.remove_channels(Some(conn_id), None) {
            self.clients.notify_ids_changed(&g);
        }
    }
}

/// Dispatch by request family.
struct Family {
    broker: Arc<Broker>,
    kind: u8,
}

const SEND: u8 = 0;
const PULL: u8 = 1;
const CONSUMER: u8 = 2;
const ADMIN: u8 = 3;
const QUERY: u8 = 4;
const OPS: u8 = 5;
const GROUPS: u8 = 6;
const TXN: u8 = 7;

impl Handler for Family {
    fn handle(&self, ctx: &ReqCtx, req: RemotingCommand) -> Reply {
        log::debug!("request code={} peer={} opaque={}", req.code, ctx.peer(), req.opaque);
        let b = &self.broker;
        let r = match (self.kind, req.code) {
            (PULL, _) => return b.handle_pull(ctx, req),
            (TXN, _) => return b.handle_end_transaction(ctx, req),
            (SEND, rq::CONSUMER_SEND_MSG_BACK) => b.handle_send_back(ctx, req),
            (SEND, _) => return b.handle_send(ctx, req),
            (CONSUMER, _) => b.handle_consumer(ctx, req),
            (QUERY, _) => b.handle_query(ctx, req),
            (OPS, _) => b.handle_ops(ctx, req),
            (GROUPS, _) => b.handle_groups(req),
            _ => b.handle_admin(ctx, req),
        };
        Reply::Respond(
            r.unwrap_or_else(|e| RemotingCommand::error(rs::SYSTEM_ERROR, e.to_string())),
        )
    }
}

fn build_routes(broker: &Arc<Broker>) -> Routes {
    let c = &broker.cfg;
    let mut r = Routes::new();
    let send = r.pool("send", c.send_message_thread_pool_nums, c.send_thread_pool_queue_capacity);
    let pull = r.pool("pull", c.pull_message_thread_pool_nums, c.pull_thread_pool_queue_capacity);
    let consumer = r.pool("client", 2, 50_000);
    let admin = r.pool("admin", c.admin_broker_thread_pool_nums, 10_000);
    let h = |kind| Arc::new(Family { broker: broker.clone(), kind }) as Arc<dyn Handler>;
    // A send never waits for the disk on its thread (SYNC_FLUSH sends are answered from the
    // group commit), so the reader runs it itself while the send pool is idle (BENCHMARKS.md,
    // rmq-bench producer).
    r.route(&[rq::SEND_MESSAGE, rq::SEND_MESSAGE_V2, rq::SEND_BATCH_MESSAGE], send, h(SEND))
        .inline();
    r.register(rq::END_TRANSACTION, send, h(TXN));
    r.register(rq::CONSUMER_SEND_MSG_BACK, send, h(SEND));
    r.route(&[rq::PULL_MESSAGE], pull, h(PULL)).main_port_only();
    for code in [
        rq::HEART_BEAT,
        rq::UNREGISTER_CLIENT,
        rq::GET_CONSUMER_LIST_BY_GROUP,
        rq::QUERY_CONSUMER_OFFSET,
        rq::UPDATE_CONSUMER_OFFSET,
        rq::GET_MAX_OFFSET,
        rq::GET_MIN_OFFSET,
        rq::SEARCH_OFFSET_BY_TIMESTAMP,
        rq::GET_EARLIEST_MSG_STORETIME,
        rq::LOCK_BATCH_MQ,
        rq::UNLOCK_BATCH_MQ,
    ] {
        r.register(code, consumer, h(CONSUMER));
    }
    for code in [
        rq::UPDATE_AND_CREATE_TOPIC,
        rq::DELETE_TOPIC_IN_BROKER,
        rq::GET_ALL_TOPIC_CONFIG,
        rq::GET_ALL_CONSUMER_OFFSET,
        rq::VIEW_MESSAGE_BY_ID,
        rq::CHECK_CLIENT_CONFIG,
    ] {
        r.register(code, admin, h(ADMIN));
    }
    r.register(rq::QUERY_MESSAGE, admin, h(QUERY));
    for code in stats::OPS_CODES {
        r.register(code, admin, h(OPS));
    }
    for code in [
        rq::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
        rq::GET_ALL_SUBSCRIPTIONGROUP_CONFIG,
        rq::DELETE_SUBSCRIPTIONGROUP,
        rq::GET_ALL_DELAY_OFFSET,
    ] {
        r.register(code, admin, h(GROUPS));
    }
    let b = broker.clone();
    r.on_close(Arc::new(move |conn| b.connection_closed(conn.id())));
    r
}

/// A running broker.
pub struct BrokerHandle {
    broker: Arc<Broker>,
    main: Server,
    fast: Server,
    dispatcher: Arc<Dispatcher>,
    services: Vec<Service>,
    hold_stop: Option<crossbeam_channel::Sender<()>>,
    hold_thread: Option<JoinHandle<()>>,
    stopped: bool,
}

impl BrokerHandle {
    /// Main listen address.
    pub fn local_addr(&self) -> SocketAddr {
        self.main.local_addr()
    }

    /// Fast (VIP) port address.
    pub fn fast_addr(&self) -> SocketAddr {
        self.fast.local_addr()
    }

    /// The shared broker.
    pub fn broker(&self) -> &Arc<Broker> {
        &self.broker
    }

    /// Graceful stop (issue 4): stop accepting and refuse new requests, answer every request
    /// already queued and every parked pull, close the connections, stop the services,
    /// unregister from every name server, persist offsets, flush and close the store (which
    /// removes the abort file).
    pub fn shutdown(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        log::info!("broker stopping addr={}", self.broker.addr());
        self.main.drain();
        self.fast.drain();
        self.dispatcher.drain();
        // After the pools drained nothing can park any more; answer what is parked: pulls, and
        // SYNC_FLUSH sends waiting for their group commit.
        self.hold_stop.take();
        if let Some(h) = self.hold_thread.take() {
            let _ = h.join();
        }
        self.broker.store.flush_waiters();
        self.main.shutdown();
        self.fast.shutdown();
        self.dispatcher.stop();
        for s in &mut self.services {
            s.stop();
        }
        self.broker.unregister_all();
        self.broker.remote.shutdown();
        self.broker.offsets.persist(true);
        self.broker.store.shutdown();
        log::info!("broker stopped addr={}", self.broker.addr());
    }
}

impl Drop for BrokerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn store_config(c: &BrokerConfig) -> StoreConfig {
    StoreConfig {
        root_dir: c.store_path_root_dir.clone(),
        commit_log_dir: c.store_path_commit_log.clone(),
        commit_log_file_size: c.mapped_file_size_commit_log,
        cq_file_entries: (c.mapped_file_size_consume_queue / 20).max(1),
        flush_disk_type: if c.flush_disk_type == "SYNC_FLUSH" {
            FlushDiskType::Sync
        } else {
            FlushDiskType::Async
        },
        flush_interval_ms: c.flush_interval_commit_log,
        flush_least_pages: c.flush_commit_log_least_pages,
        flush_thorough_interval_ms: c.flush_commit_log_thorough_interval,
        flush_cq_interval_ms: c.flush_interval_consume_queue,
        sync_flush_timeout_ms: c.sync_flush_timeout,
        max_message_size: c.max_message_size,
        check_crc_on_recover: c.check_crc_on_recover,
        max_hash_slot_num: c.max_hash_slot_num,
        max_index_num: c.max_index_num,
        file_reserved_time_ms: c
            .file_reserved_time_millis
            .unwrap_or(c.file_reserved_time.saturating_mul(3_600_000)),
        delete_when: c.delete_when.clone(),
        disk_max_used_space_ratio: c.disk_max_used_space_ratio,
        disk_space_clean_forcibly_ratio: c.disk_space_clean_forcibly_ratio,
        disk_space_warning_level_ratio: c.disk_space_warning_level_ratio,
        clean_file_forcibly_enable: c.clean_file_forcibly_enable,
        clean_resource_interval_ms: c.clean_resource_interval,
    }
}

/// Open (and recover) the store and the broker's persisted state, without ports or services:
/// what [`start`] serves, and what handler tests drive directly. `store_host` is the address
/// stored in every message (brokerIP1 and the main port).
fn open(cfg: &BrokerConfig, store_host: SocketAddr) -> io::Result<Arc<Broker>> {
    let store =
        MessageStore::open(store_config(cfg)).map_err(|e| io::Error::other(e.to_string()))?;
    let config_dir = cfg.store_path_root_dir.join("config");
    let topics = topics::TopicManager::open(config_dir.clone(), cfg)?;
    let offsets = offsets::OffsetManager::open(config_dir.clone())?;
    let groups =
        groups::GroupManager::open(config_dir.clone(), cfg.auto_create_subscription_group)?;
    let delay_offsets = schedule::DelayOffsets::open(config_dir)?;
    Ok(Arc::new(Broker {
        store_host,
        cfg: cfg.clone(),
        store,
        topics,
        offsets,
        groups,
        delay_offsets,
        clients: clients::ClientManager::default(),
        locks: consumer::LockManager::default(),
        hold: Arc::new(pull::PullHold::default()),
        remote: RemotingClient::new(),
        register_waker: Mutex::new(None),
        live: brokercfg::LiveConfig::new(cfg.clone()),
        boot_timestamp: crate::common::time::now_millis(),
        tps: tps::StoreStats::default(),
        group_gets: tps::GroupGets::default(),
    }))
}

/// Start a broker: open (and recover) the store, bind the main and fast ports, register with
/// the name servers, start the background services.
pub fn start(cfg: BrokerConfig) -> io::Result<BrokerHandle> {
    let main_listener = TcpListener::bind(SocketAddr::new(cfg.bind_address, cfg.listen_port))?;
    let main_port = main_listener.local_addr()?.port();
    let fast_port = if cfg.listen_port == 0 { 0 } else { cfg.listen_port.saturating_sub(2) };
    let fast_listener = TcpListener::bind(SocketAddr::new(cfg.bind_address, fast_port))?;
    let broker = open(&cfg, SocketAddr::new(cfg.broker_ip1, main_port))?;
    let (store, hold) = (broker.store.clone(), broker.hold.clone());
    let mut services = Vec::new();
    let b = broker.clone();
    let schedule = Service::spawn("broker-schedule", move |ctx| b.schedule_loop(ctx))?;
    let schedule_waker = schedule.waker();
    services.push(schedule);
    // Long polling: the dispatch thread reports arrivals; the hold thread wakes parked pulls.
    // In short-polling mode (longPollingEnable=false) arrivals wake nobody: a parked pull is
    // answered after shortPollingTimeMills, as Apache's PullRequestHoldService does.
    let (arr_tx, arr_rx) = crossbeam_channel::unbounded();
    let waiting = hold.clone();
    let long_polling = cfg.long_polling_enable;
    store.set_arrival_listener(Arc::new(move |topic: &str, queue: i32, max: i64, code: i64| {
        if topic == topics::SCHEDULE_TOPIC {
            schedule_waker.wake();
        }
        if long_polling && waiting.any_waiting() {
            let _ = arr_tx.send((topic.to_string(), queue, max, code));
        }
    }));
    let (stop_tx, stop_rx) = crossbeam_channel::bounded::<()>(1);
    let b = broker.clone();
    let hold_thread =
        spawn_thread("broker-pull-hold".into(), move || pull::hold_loop(b, arr_rx, stop_rx))?;
    let mut main_cfg = ServerConfig::new("broker", main_listener.local_addr()?);
    main_cfg.max_frame = cfg.max_frame_size;
    let mut fast_cfg = ServerConfig::new("broker-fast", fast_listener.local_addr()?);
    fast_cfg.max_frame = cfg.max_frame_size;
    fast_cfg.port = crate::remoting::Port::Fast;
    let dispatcher = Dispatcher::start("broker", build_routes(&broker), Default::default())?;
    let main = Server::serve(main_cfg, main_listener, dispatcher.clone())?;
    let fast = Server::serve(fast_cfg, fast_listener, dispatcher.clone())?;
    let b = broker.clone();
    let reg = Service::spawn("broker-register", move |ctx| {
        while ctx.wait(Duration::from_millis(b.live.register_name_server_period())) {
            b.register_all();
        }
    })?;
    *broker.register_waker.lock() = Some(reg.waker());
    services.push(reg);
    let b = broker.clone();
    // StoreStatsService's sampling: once a second, for the TPS figures of the runtime info.
    services.push(Service::spawn("broker-tps", move |ctx| {
        while ctx.wait(Duration::from_secs(1)) {
            let puts: i64 =
                b.store.queues().iter().map(|(t, q)| b.store.max_offset_in_queue(t, *q)).sum();
            let now = crate::common::time::now_millis();
            b.tps.sample(now, puts.max(0) as u64);
            b.group_gets.sample(now);
        }
    })?);
    let b = broker.clone();
    services.push(Service::spawn("broker-offsets", move |ctx| {
        while ctx.wait(Duration::from_millis(b.live.flush_consumer_offset_interval().max(100))) {
            b.offsets.persist(false);
        }
    })?);
    let b = broker.clone();
    // ClientHousekeepingService: every clientHousekeepingInterval (10 s), drop the clients silent
    // for channelExpiredTimeout (120 s) and tell the rest of each group to rebalance.
    services.push(Service::spawn("broker-client-scan", move |ctx| {
        while ctx.wait(Duration::from_millis(b.live.client_housekeeping_interval())) {
            let expire = Duration::from_millis(b.live.channel_expired_timeout());
            for g in b.clients.remove_channels(None, Some(expire)) {
                log::info!("consumer group lost silent members group={g}");
                b.clients.notify_ids_changed(&g);
            }
        }
    })?);
    if cfg.broker_role != "SLAVE" {
        services.push(transaction::spawn_checker(&broker)?);
    }
    let registered = broker.register_all();
    log::info!(
        "broker started name={} cluster={} addr={} namesrv={} registered={}",
        cfg.broker_name,
        cfg.broker_cluster_name,
        broker.addr(),
        cfg.namesrv_addr,
        registered
    );
    Ok(BrokerHandle {
        broker,
        main,
        fast,
        dispatcher,
        services,
        hold_stop: Some(stop_tx),
        hold_thread: Some(hold_thread),
        stopped: false,
    })
}

#[cfg(test)]
mod tests;
