//! The client instance (Apache's MQClientInstance): one per process, client id and name-server
//! list, shared by the producers and consumers that use them. It keeps the route table fresh,
//! fails over between name servers, heartbeats every broker of its topics, answers the requests
//! brokers send to clients, and runs each member's periodic work on one timer thread.

use super::config::ClientConfig;
use super::error::{Error, ErrorKind, Result};
use super::route::MASTER_ID;
use crate::common::service::{Service, Waker};
use crate::protocol::body::{
    ConsumerData, HeartbeatData, MessageQueue, ProducerData, TopicRouteData,
};
use crate::protocol::codes::{request as rq, response as rs};
use crate::protocol::command::RemotingCommand;
use crate::remoting::{Connection, RemotingClient};
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// How often the timer thread looks at its members' deadlines.
const TICK: Duration = Duration::from_millis(100);

/// A producer or consumer registered with an instance.
pub(crate) trait Member: Send + Sync {
    /// Producer or consumer group.
    fn group(&self) -> &str;
    /// True for consumers (a group name is unique per kind).
    fn is_consumer(&self) -> bool;
    /// Topics whose routes the instance keeps fresh for this member.
    fn topics(&self) -> Vec<String>;
    /// The heartbeat entry of a consumer.
    fn consumer_data(&self) -> Option<ConsumerData> {
        None
    }
    /// Periodic work (rebalance, offset commits, locks), called on the timer thread every tick;
    /// `rebalance_now` is set after a broker said the group changed.
    fn tick(&self, _inst: &Arc<Instance>, _rebalance_now: bool) {}
    /// CHECK_TRANSACTION_STATE for this producer group: queue the check and return true, or
    /// false when this member does not check transactions.
    fn check_transaction(&self, _req: super::transaction::CheckRequest) -> bool {
        false
    }
    /// GET_CONSUMER_RUNNING_INFO body.
    fn running_info(&self) -> Option<serde_json::Value> {
        None
    }
}

/// Instances by `client id + name servers`. Weak, so an instance nobody uses goes away.
static REGISTRY: Mutex<Vec<(String, Weak<Instance>)>> = Mutex::new(Vec::new());

/// The shared client instance.
pub(crate) struct Instance {
    pub cfg: ClientConfig,
    pub client_id: String,
    pub remoting: RemotingClient,
    routes: RwLock<HashMap<String, TopicRouteData>>,
    brokers: RwLock<HashMap<String, BTreeMap<i64, String>>>,
    /// Broker id each queue is pulled from next: the last pull's suggestWhichBrokerId (Apache's
    /// PullAPIWrapper.pullFromWhichNodeTable); absent means the master.
    pull_from: RwLock<HashMap<MessageQueue, i64>>,
    ns_index: AtomicUsize,
    route_gen: AtomicU64,
    members: Mutex<Vec<Arc<dyn Member>>>,
    timer: Mutex<Option<Service>>,
    waker: Mutex<Option<Waker>>,
    rebalance_now: AtomicBool,
    /// Heartbeat on the next tick: a member joined, or a broker we did not know appeared in a
    /// route (Apache's producer start heartbeats every broker at once; otherwise a transaction
    /// producer's group stays unknown to the broker that must check it for a whole interval).
    heartbeat_now: AtomicBool,
}

impl Instance {
    /// The instance for `cfg`, created on first use.
    pub fn acquire(cfg: &ClientConfig) -> Result<Arc<Instance>> {
        if cfg.namesrv_list().is_empty() {
            return Err(Error::invalid(
                "no name server address: set namesrv_addr (\"host:9876;host2:9876\") or NAMESRV_ADDR",
            ));
        }
        let client_id = cfg.client_id();
        // Clients with other credentials get an instance of their own (its requests are signed
        // with them).
        // (never logged: it holds the secret key).
        let creds = cfg.credentials.as_ref().map_or(String::new(), |c| {
            format!("{}|{}|{:?}|{:?}", c.access_key, c.secret_key, c.security_token, c.channel)
        });
        let key = format!("{}|{}|{}", client_id, cfg.namesrv_list().join(";"), creds);
        let mut reg = REGISTRY.lock();
        reg.retain(|(_, w)| w.strong_count() > 0);
        if let Some(i) = reg.iter().find(|(k, _)| *k == key).and_then(|(_, w)| w.upgrade()) {
            return Ok(i);
        }
        let inst = Arc::new(Instance {
            cfg: cfg.clone(),
            client_id,
            remoting: RemotingClient::new(),
            routes: RwLock::new(HashMap::new()),
            brokers: RwLock::new(HashMap::new()),
            pull_from: RwLock::new(HashMap::new()),
            ns_index: AtomicUsize::new(0),
            route_gen: AtomicU64::new(1),
            members: Mutex::new(Vec::new()),
            timer: Mutex::new(None),
            waker: Mutex::new(None),
            rebalance_now: AtomicBool::new(false),
            heartbeat_now: AtomicBool::new(false),
        });
        cfg.install_signer(&inst.remoting);
        let weak = Arc::downgrade(&inst);
        inst.remoting.set_request_handler(Arc::new(move |conn, req| {
            weak.upgrade().and_then(|i| i.handle_server_request(conn, req))
        }));
        reg.push((key, Arc::downgrade(&inst)));
        Ok(inst)
    }

    /// Add a member; starts the timer with the first one. A second member of the same kind and
    /// group is refused, as in Apache.
    pub fn register(self: &Arc<Self>, m: Arc<dyn Member>) -> Result<()> {
        let mut members = self.members.lock();
        if members.iter().any(|x| x.is_consumer() == m.is_consumer() && x.group() == m.group()) {
            return Err(Error::state(format!(
                "the {} group '{}' is already registered by client {}; use one {} per group \
                 per process or set a different instance_name",
                if m.is_consumer() { "consumer" } else { "producer" },
                m.group(),
                self.client_id,
                if m.is_consumer() { "consumer" } else { "producer" },
            )));
        }
        members.push(m);
        drop(members);
        self.heartbeat_now.store(true, Ordering::Release);
        let mut timer = self.timer.lock();
        if timer.is_none() {
            let weak = Arc::downgrade(self);
            let svc = Service::spawn("rmq-client-timer", move |ctx| timer_loop(weak, ctx))
                .map_err(|e| Error::new(ErrorKind::Io, format!("cannot start a thread: {e}")))?;
            *self.waker.lock() = Some(svc.waker());
            *timer = Some(svc);
            log::info!("client instance started client={}", self.client_id);
        }
        Ok(())
    }

    /// Remove a member and tell every broker; the last one out stops the instance.
    pub fn unregister(&self, group: &str, consumer: bool) {
        let mut members = self.members.lock();
        members.retain(|x| !(x.is_consumer() == consumer && x.group() == group));
        let empty = members.is_empty();
        drop(members);
        let addrs: Vec<String> = self.all_broker_addrs(true);
        for addr in addrs {
            let req = RemotingCommand::request(rq::UNREGISTER_CLIENT)
                .with("clientID", &self.client_id)
                .with(if consumer { "consumerGroup" } else { "producerGroup" }, group);
            if let Err(e) = self.remoting.invoke(&addr, req, self.cfg.request_timeout) {
                log::debug!("unregister failed broker={} group={} err={}", addr, group, e);
            }
        }
        if empty {
            let svc = self.timer.lock().take();
            drop(svc); // stops and joins the timer
            *self.waker.lock() = None;
            self.remoting.shutdown();
            log::info!("client instance stopped client={}", self.client_id);
        }
    }

    /// Ask for a rebalance of every consumer on the next tick.
    pub fn wake_rebalance(&self) {
        self.rebalance_now.store(true, Ordering::Release);
        if let Some(w) = self.waker.lock().as_ref() {
            w.wake();
        }
    }

    /// The cached route of `topic`.
    pub fn route(&self, topic: &str) -> Option<TopicRouteData> {
        self.routes.read().get(topic).cloned()
    }

    /// The cached route, fetched from the name servers when missing.
    pub fn route_or_fetch(&self, topic: &str) -> Result<TopicRouteData> {
        if let Some(r) = self.route(topic) {
            return Ok(r);
        }
        self.update_route(topic)?;
        self.route(topic).ok_or_else(|| Error::new(ErrorKind::NoRoute, "route vanished"))
    }

    /// Fetch the route of `topic` from the name servers; true when it changed.
    pub fn update_route(&self, topic: &str) -> Result<bool> {
        let req = RemotingCommand::request(rq::GET_ROUTEINFO_BY_TOPIC).with("topic", topic);
        let resp = self.invoke_namesrv(req)?;
        if resp.code != rs::SUCCESS {
            let kind = if resp.code == rs::TOPIC_NOT_EXIST { "has no route" } else { "failed" };
            return Err(Error::broker(
                resp.code,
                resp.remark.as_deref(),
                format!("route lookup of topic '{topic}' {kind}"),
            ));
        }
        let route = TopicRouteData::decode(&resp.body).map_err(|e| {
            Error::new(ErrorKind::Network, format!("bad route body for topic '{topic}': {e}"))
        })?;
        self.learn_brokers(&route);
        let mut routes = self.routes.write();
        let changed = routes.get(topic) != Some(&route);
        if changed {
            log::info!("route changed topic={} client={}", topic, self.client_id);
            routes.insert(topic.to_string(), route);
            self.route_gen.fetch_add(1, Ordering::AcqRel);
        }
        Ok(changed)
    }

    /// Store a route built by the client (a new topic's route derived from TBW102's).
    pub fn put_route(&self, topic: &str, route: TopicRouteData) {
        self.learn_brokers(&route);
        self.routes.write().insert(topic.to_string(), route);
        self.route_gen.fetch_add(1, Ordering::AcqRel);
    }

    /// Bumped on every route change; caches derived from routes compare it.
    pub fn route_generation(&self) -> u64 {
        self.route_gen.load(Ordering::Acquire)
    }

    /// Send a request to a name server, trying each in turn from the last one that answered.
    pub fn invoke_namesrv(&self, req: RemotingCommand) -> Result<RemotingCommand> {
        let list = self.cfg.namesrv_list();
        let start = self.ns_index.load(Ordering::Relaxed);
        let mut last = None;
        for i in 0..list.len() {
            let idx = (start + i) % list.len();
            let Some(addr) = list.get(idx) else { continue };
            match self.remoting.invoke(addr, req.clone(), self.cfg.request_timeout) {
                Ok(r) => {
                    if idx != start {
                        log::info!("name server switched to {} client={}", addr, self.client_id);
                        self.ns_index.store(idx, Ordering::Relaxed);
                    }
                    return Ok(r);
                }
                Err(e) => {
                    log::debug!("name server failed namesrv={} err={}", addr, e);
                    self.remoting.close_addr(addr);
                    last = Some(e);
                }
            }
        }
        Err(match last {
            Some(e) => Error::new(
                ErrorKind::NoRoute,
                format!("no name server answered ({}); last error: {e}", list.join(";")),
            ),
            None => Error::invalid("no name server address configured"),
        })
    }

    /// Address of the master of `broker`.
    pub fn master_addr(&self, broker: &str) -> Option<String> {
        self.brokers.read().get(broker).and_then(|a| a.get(&MASTER_ID)).cloned()
    }

    /// Address to read from: the master, else any slave.
    pub fn read_addr(&self, broker: &str) -> Option<String> {
        let b = self.brokers.read();
        let a = b.get(broker)?;
        a.get(&MASTER_ID).or_else(|| a.values().next()).cloned()
    }

    /// Address to pull `mq` from (PullAPIWrapper.recalculatePullFromWhichNode and
    /// findBrokerAddressInSubscribe): the broker id its last pull's suggestWhichBrokerId named
    /// (the master by default); when the route lacks that id, the master, else any slave (a
    /// master gone from the route leaves its slave serving).
    pub fn pull_addr(&self, mq: &MessageQueue) -> Option<String> {
        let id = self.pull_from.read().get(mq).copied().unwrap_or(MASTER_ID);
        let b = self.brokers.read();
        let a = b.get(&mq.broker_name)?;
        a.get(&id).or_else(|| a.get(&MASTER_ID)).or_else(|| a.values().next()).cloned()
    }

    /// Record a pull answer's suggestWhichBrokerId for `mq` (updatePullFromWhichNode).
    pub fn set_pull_from(&self, mq: &MessageQueue, id: i64) {
        if self.pull_from.read().get(mq).copied().unwrap_or(MASTER_ID) == id {
            return;
        }
        let mut t = self.pull_from.write();
        if id == MASTER_ID {
            t.remove(mq);
        } else {
            t.insert(mq.clone(), id);
        }
    }

    /// A broker (master preferred) serving `topic`, from the cached route.
    pub fn any_addr_of_topic(&self, topic: &str) -> Option<String> {
        let route = self.route(topic)?;
        let names: Vec<String> = route.broker_datas.iter().map(|b| b.broker_name.clone()).collect();
        names.iter().find_map(|n| self.read_addr(n))
    }

    fn all_broker_addrs(&self, include_slaves: bool) -> Vec<String> {
        let set: BTreeSet<String> = self
            .brokers
            .read()
            .values()
            .flat_map(|m| {
                m.iter()
                    .filter(|(id, _)| include_slaves || **id == MASTER_ID)
                    .map(|(_, a)| a.clone())
            })
            .collect();
        set.into_iter().collect()
    }

    /// Invoke a broker and turn transport failures into client errors naming `what`.
    pub fn invoke_broker(
        &self,
        addr: &str,
        req: RemotingCommand,
        timeout: Duration,
        what: &str,
    ) -> Result<RemotingCommand> {
        self.remoting.invoke(addr, req, timeout).map_err(|e| Error::remoting(&e, what))
    }

    /// Refresh the routes of every member's topics.
    fn refresh_routes(&self) {
        let topics: BTreeSet<String> =
            self.members.lock().iter().flat_map(|m| m.topics()).collect();
        for t in topics {
            if let Err(e) = self.update_route(&t) {
                log::debug!("route refresh failed topic={} err={}", t, e);
            }
        }
    }

    /// Remember the broker addresses of `route`; a new one gets a heartbeat on the next tick.
    fn learn_brokers(&self, route: &TopicRouteData) {
        let mut b = self.brokers.write();
        for bd in &route.broker_datas {
            if b.get(&bd.broker_name) != Some(&bd.broker_addrs) {
                b.insert(bd.broker_name.clone(), bd.broker_addrs.clone());
                self.heartbeat_now.store(true, Ordering::Release);
            }
        }
    }

    /// Heartbeat every broker we know (slaves only when there are consumers).
    pub fn send_heartbeat(&self) {
        let members: Vec<Arc<dyn Member>> = self.members.lock().clone();
        let mut hb = HeartbeatData { client_id: self.client_id.clone(), ..Default::default() };
        for m in &members {
            if m.is_consumer() {
                if let Some(c) = m.consumer_data() {
                    hb.consumer_data_set.push(c);
                }
            } else {
                hb.producer_data_set.push(ProducerData { group_name: m.group().to_string() });
            }
        }
        if hb.consumer_data_set.is_empty() && hb.producer_data_set.is_empty() {
            return;
        }
        let body = match serde_json::to_vec(&hb) {
            Ok(b) => b,
            Err(e) => {
                log::error!("cannot encode heartbeat err={e}");
                return;
            }
        };
        for addr in self.all_broker_addrs(!hb.consumer_data_set.is_empty()) {
            let req = RemotingCommand::request(rq::HEART_BEAT).with_body(body.clone());
            match self.remoting.invoke(&addr, req, self.cfg.request_timeout) {
                Ok(r) if r.code == rs::SUCCESS => {}
                Ok(r) => log::warn!(
                    "heartbeat refused broker={} code={} remark={:?}",
                    addr,
                    r.code,
                    r.remark
                ),
                Err(e) => log::debug!("heartbeat failed broker={} err={}", addr, e),
            }
        }
    }

    fn member_of(&self, group: &str) -> Option<Arc<dyn Member>> {
        self.members.lock().iter().find(|m| m.is_consumer() && m.group() == group).cloned()
    }

    /// Requests brokers send to clients (ClientRemotingProcessor). Runs on a connection reader.
    fn handle_server_request(
        &self,
        conn: &Arc<Connection>,
        req: RemotingCommand,
    ) -> Option<RemotingCommand> {
        match req.code {
            rq::NOTIFY_CONSUMER_IDS_CHANGED => {
                log::info!(
                    "consumer ids changed group={} broker={}",
                    req.field("consumerGroup").unwrap_or(""),
                    conn.peer()
                );
                self.wake_rebalance();
                None
            }
            rq::GET_CONSUMER_RUNNING_INFO => {
                let group = req.field("consumerGroup").unwrap_or("");
                match self.member_of(group).and_then(|m| m.running_info()) {
                    Some(v) => Some(
                        RemotingCommand::success()
                            .with_body(serde_json::to_vec(&v).unwrap_or_default()),
                    ),
                    None => Some(RemotingCommand::error(
                        rs::SYSTEM_ERROR,
                        format!("The Consumer Group <{group}> not exist in this consumer"),
                    )),
                }
            }
            // One-way (ClientRemotingProcessor.checkTransactionState): never answered here.
            rq::CHECK_TRANSACTION_STATE => {
                self.check_transaction(conn, &req);
                None
            }
            other => Some(RemotingCommand::error(
                rs::REQUEST_CODE_NOT_SUPPORTED,
                format!("request code {other} is not supported by the rmq client"),
            )),
        }
    }
}

impl Instance {
    /// Hand a CHECK_TRANSACTION_STATE to the transaction producer of the message's group.
    fn check_transaction(&self, conn: &Arc<Connection>, req: &RemotingCommand) {
        let Some(msg) = super::message::decode_messages(&req.body, "").into_iter().next() else {
            log::warn!("transaction check without a decodable message broker={}", conn.peer());
            return;
        };
        let Some(group) = msg.property(super::transaction::PGROUP).map(str::to_string) else {
            log::warn!("transaction check without PGROUP broker={}", conn.peer());
            return;
        };
        let member =
            self.members.lock().iter().find(|m| !m.is_consumer() && m.group() == group).cloned();
        let num = |k: &str| req.field(k).and_then(|v| v.trim().parse::<i64>().ok()).unwrap_or(-1);
        let check = super::transaction::CheckRequest {
            broker_addr: conn.peer().to_string(),
            tran_state_table_offset: num("tranStateTableOffset"),
            commit_log_offset: num("commitLogOffset"),
            transaction_id: req
                .field("transactionId")
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| msg.msg_id.clone()),
            msg,
        };
        if !member.is_some_and(|m| m.check_transaction(check)) {
            log::warn!("transaction check for group {} that has no transaction producer", group);
        }
    }
}

fn timer_loop(weak: Weak<Instance>, ctx: crate::common::service::ServiceCtx) {
    let mut next_route = Instant::now();
    let mut next_heartbeat = Instant::now();
    loop {
        {
            let Some(inst) = weak.upgrade() else { return };
            let now = Instant::now();
            if now >= next_route {
                inst.refresh_routes();
                next_route = now + inst.cfg.poll_namesrv_interval;
            }
            if now >= next_heartbeat || inst.heartbeat_now.swap(false, Ordering::AcqRel) {
                inst.send_heartbeat();
                next_heartbeat = now + inst.cfg.heartbeat_interval;
            }
            let rebalance = inst.rebalance_now.swap(false, Ordering::AcqRel);
            let members: Vec<Arc<dyn Member>> = inst.members.lock().clone();
            for m in members {
                if ctx.is_stopped() {
                    return;
                }
                m.tick(&inst, rebalance);
            }
        }
        if !ctx.wait(TICK) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::frame;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    struct FakeConsumer;

    impl Member for FakeConsumer {
        fn group(&self) -> &str {
            "G_info"
        }
        fn is_consumer(&self) -> bool {
            true
        }
        fn topics(&self) -> Vec<String> {
            Vec::new()
        }
        fn running_info(&self) -> Option<serde_json::Value> {
            Some(serde_json::json!({"properties": {"PROP_CONSUME_TYPE": "CONSUME_PASSIVELY"}}))
        }
    }

    fn ask(sock: &mut std::net::TcpStream, req: RemotingCommand) -> RemotingCommand {
        sock.write_all(&frame::encode_to_vec(&req)).unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some((cmd, _)) = frame::decode(&buf, 1 << 20).unwrap() {
                return cmd;
            }
            let n = sock.read(&mut chunk).unwrap();
            assert!(n > 0, "connection closed");
            buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// A broker-initiated GET_CONSUMER_RUNNING_INFO on the client's own connection is answered
    /// with the consumer's running info; unknown groups and codes get errors.
    #[test]
    fn answers_broker_requests() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let mut cfg = ClientConfig::new(&addr);
        cfg.instance_name = "instance-unit-test".into();
        let inst = Instance::acquire(&cfg).unwrap();
        inst.register(Arc::new(FakeConsumer)).unwrap();
        inst.remoting.connection(&addr).unwrap();
        let (mut sock, _) = listener.accept().unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut req = RemotingCommand::request(rq::GET_CONSUMER_RUNNING_INFO)
            .with("consumerGroup", "G_info")
            .with("clientId", &inst.client_id);
        req.opaque = 7;
        let r = ask(&mut sock, req);
        assert_eq!((r.code, r.opaque), (rs::SUCCESS, 7));
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["properties"]["PROP_CONSUME_TYPE"], "CONSUME_PASSIVELY");
        let r = ask(
            &mut sock,
            RemotingCommand::request(rq::GET_CONSUMER_RUNNING_INFO).with("consumerGroup", "nope"),
        );
        assert_eq!(r.code, rs::SYSTEM_ERROR);
        let r = ask(&mut sock, RemotingCommand::request(9999));
        assert_eq!(r.code, rs::REQUEST_CODE_NOT_SUPPORTED);
        inst.unregister("G_info", true);
    }
}
