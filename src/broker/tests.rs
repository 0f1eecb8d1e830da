//! Handler tests without sockets (STYLE.md): build a command, call the handler the route table
//! gives for its code on a broker opened without ports or services, check the `Reply`; what a
//! handler answers later (after `Park`) lands in the request's detached connection.

use super::*;
use crate::protocol::codes::{pull_flag, request as rq, response as rs};
use crate::protocol::command::RemotingCommand;
use crate::protocol::record::decode_record;
use crate::remoting::{Reply, ReqCtx, Routes};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A broker over a fresh store in a temp dir, removed on drop.
struct TestBroker {
    broker: Arc<Core>,
    routes: Routes,
    dir: PathBuf,
}

impl TestBroker {
    fn open(flush: &str) -> TestBroker {
        Self::open_with(flush, |_| {})
    }

    fn open_with(flush: &str, tweak: impl FnOnce(&mut BrokerConfig)) -> TestBroker {
        let flush = flush.parse().unwrap();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("rmq-broker-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cfg = BrokerConfig {
            store_path_root_dir: dir.clone(),
            mapped_file_size_commit_log: 1 << 20,
            flush_disk_type: flush,
            broker_ip1: "127.0.0.1".parse().unwrap(),
            ..BrokerConfig::default()
        };
        let mut cfg = cfg;
        tweak(&mut cfg);
        let broker = core::open(&cfg, "127.0.0.1:10911".parse().unwrap()).unwrap();
        let routes = routes::build(&broker, routes::pull_processor(&broker), Vec::new());
        TestBroker { broker, routes, dir }
    }

    fn handle(&self, ctx: &ReqCtx, req: RemotingCommand) -> Reply {
        let h = self.routes.handler(req.code).expect("a routed code");
        h.handle(ctx, req)
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        self.broker.store.shutdown();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn peer() -> std::net::SocketAddr {
    "127.0.0.1:40000".parse().unwrap()
}

fn send_req(topic: &str, queue: i32, body: &[u8]) -> RemotingCommand {
    RemotingCommand::request(rq::SEND_MESSAGE_V2)
        .with("a", "PG_handler")
        .with("b", topic)
        .with("c", "TBW102")
        .with("d", 4)
        .with("e", queue)
        .with("f", 0)
        .with("g", 0)
        .with("h", 0)
        .with("i", "WAIT\u{1}true\u{2}TAGS\u{1}TagA\u{2}")
        .with_body(body.to_vec())
}

fn pull_req(topic: &str, queue: i32, offset: i64, sys_flag: i32) -> RemotingCommand {
    RemotingCommand::request(rq::PULL_MESSAGE)
        .with("consumerGroup", "CG_handler")
        .with("topic", topic)
        .with("queueId", queue)
        .with("queueOffset", offset)
        .with("maxMsgNums", 32)
        .with("sysFlag", sys_flag)
        .with("commitOffset", 0)
        .with("suspendTimeoutMillis", 30_000)
        .with("subscription", "*")
        .with("subVersion", 0)
}

fn respond(r: Reply) -> RemotingCommand {
    match r {
        // A pull's messages are a tail of mapped ranges; the tests read the body in one piece.
        Reply::Respond(mut c) => {
            c.flatten_tail();
            c
        }
        Reply::Park => panic!("parked, expected a response"),
        Reply::Nothing => panic!("no reply, expected a response"),
    }
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting: {what}");
        std::thread::yield_now();
    }
}

#[test]
fn a_sent_message_is_pulled_back_whole() {
    let t = TestBroker::open("ASYNC_FLUSH");
    let ctx = ReqCtx::detached(peer());
    let r = respond(t.handle(&ctx, send_req("HT", 2, b"hello handler")));
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    assert_eq!((r.i32_field("queueId").unwrap(), r.i64_field("queueOffset").unwrap()), (2, 0));
    assert!(!r.field("msgId").unwrap_or("").is_empty());
    wait_until("dispatch", || t.broker.store.max_offset_in_queue("HT", 2) == 1);

    let r = respond(t.handle(&ctx, pull_req("HT", 2, 0, pull_flag::SUBSCRIPTION)));
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    assert_eq!(r.i64_field("nextBeginOffset").unwrap(), 1);
    let (rec, used) = decode_record(&r.body, true).unwrap();
    assert_eq!(used, r.body.len(), "exactly one record");
    assert_eq!((rec.topic.as_str(), rec.queue_id, rec.queue_offset), ("HT", 2, 0));
    assert_eq!(rec.body, b"hello handler");
    assert_eq!(rec.born_host, peer());
    assert!(ctx.conn.take_sent().is_empty(), "answered through the Reply, not the connection");
}

#[test]
fn a_sync_flush_send_is_answered_from_the_flush() {
    let t = TestBroker::open("SYNC_FLUSH");
    let ctx = ReqCtx::detached(peer());
    assert!(matches!(t.handle(&ctx, send_req("HS", 0, b"durable")), Reply::Park));
    let mut sent = Vec::new();
    wait_until("the response", || {
        sent.extend(ctx.conn.take_sent());
        !sent.is_empty()
    });
    let r = &sent[0];
    assert!(r.is_response() && r.opaque == ctx.opaque);
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    assert_eq!(r.i64_field("queueOffset").unwrap(), 0);
    // Answered only once the record is on disk.
    let stored = t.broker.store.commit_log_max_offset();
    assert!(stored > 0 && t.broker.store.commit_log_flushed_offset() >= stored);

    // A producer that does not wait (WAIT=false) is answered at once.
    let req = send_req("HS", 0, b"no wait").with("i", "WAIT\u{1}false\u{2}");
    assert_eq!(respond(t.handle(&ctx, req)).code, rs::SUCCESS);
}

#[test]
fn a_sync_flush_slower_than_the_timeout_answers_flush_disk_timeout() {
    let t = TestBroker::open_with("SYNC_FLUSH", |c| c.sync_flush_timeout = 50);
    t.broker.store.set_flush_delay(1000);
    let ctx = ReqCtx::detached(peer());
    assert!(matches!(t.handle(&ctx, send_req("HT", 1, b"slow disk")), Reply::Park));
    let mut sent = Vec::new();
    wait_until("the response", || {
        sent.extend(ctx.conn.take_sent());
        !sent.is_empty()
    });
    // Stored, but not known to be durable: FLUSH_DISK_TIMEOUT with the stored position, as
    // Apache answers (the producer decides whether to resend).
    let r = &sent[0];
    assert_eq!(r.code, rs::FLUSH_DISK_TIMEOUT, "{:?}", r.remark);
    assert_eq!((r.i32_field("queueId").unwrap(), r.i64_field("queueOffset").unwrap()), (1, 0));
    assert!(t.broker.store.commit_log_flushed_offset() < t.broker.store.commit_log_max_offset());
    t.broker.store.set_flush_delay(0);
}

#[test]
fn sends_are_refused_with_a_reason() {
    let t = TestBroker::open("ASYNC_FLUSH");
    let ctx = ReqCtx::detached(peer());
    let cases = [
        (send_req("HR", 9, b"x"), rs::SYSTEM_ERROR, "queueId[9] is illegal"),
        (send_req("bad topic!", 0, b"x"), rs::SYSTEM_ERROR, ""),
        (send_req("SCHEDULE_TOPIC_XXXX", 0, b"x"), rs::NO_PERMISSION, "forbidden"),
        (
            RemotingCommand::request(rq::SEND_MESSAGE_V2).with("b", "HR"),
            rs::SYSTEM_ERROR,
            "'defaultTopicQueueNums' is missing",
        ),
        (
            send_req("HR", 0, b"x").with("e", "one"),
            rs::SYSTEM_ERROR,
            "'queueId' has an invalid value",
        ),
    ];
    for (i, (req, code, remark)) in cases.into_iter().enumerate() {
        let r = respond(t.handle(&ctx, req));
        assert_eq!(r.code, code, "case {i}: {:?}", r.remark);
        let why = r.remark.unwrap_or_default();
        assert!(!why.is_empty() && why.contains(remark), "{why}");
    }
    assert_eq!(t.broker.store.commit_log_max_offset(), 0, "nothing refused was stored");
}

#[test]
fn a_long_poll_on_an_empty_queue_parks() {
    let t = TestBroker::open("ASYNC_FLUSH");
    let ctx = ReqCtx::detached(peer());
    respond(t.handle(&ctx, send_req("HP", 0, b"one")));
    wait_until("dispatch", || t.broker.store.max_offset_in_queue("HP", 0) == 1);
    let flags = pull_flag::SUBSCRIPTION | pull_flag::SUSPEND;
    // Past the end: held for new messages (the hold thread answers it; none runs here).
    assert!(matches!(t.handle(&ctx, pull_req("HP", 0, 1, flags)), Reply::Park));
    assert!(t.broker.hold.any_waiting());
    // Without SUSPEND the same pull is answered at once: nothing new.
    let r = respond(t.handle(&ctx, pull_req("HP", 0, 1, pull_flag::SUBSCRIPTION)));
    assert_eq!(r.code, rs::PULL_NOT_FOUND, "{:?}", r.remark);
    assert_eq!(r.i64_field("nextBeginOffset").unwrap(), 1);
}

fn update_config(t: &TestBroker, text: &str) -> RemotingCommand {
    let req = RemotingCommand::request(rq::UPDATE_BROKER_CONFIG).with_body(text.as_bytes().into());
    respond(t.handle(&ReqCtx::detached(peer()), req))
}

fn send_back_req(offset: i64) -> RemotingCommand {
    RemotingCommand::request(rq::CONSUMER_SEND_MSG_BACK)
        .with("offset", offset)
        .with("group", "CG_handler")
        .with("delayLevel", 0)
}

#[test]
fn a_config_update_takes_effect_on_sends_pulls_and_send_backs_at_once() {
    let t = TestBroker::open("ASYNC_FLUSH");
    let ctx = ReqCtx::detached(peer());
    assert_eq!(respond(t.handle(&ctx, send_req("HL", 0, b"m"))).code, rs::SUCCESS);
    wait_until("dispatch", || t.broker.store.max_offset_in_queue("HL", 0) == 1);
    let pull = || respond(t.handle(&ctx, pull_req("HL", 0, 0, pull_flag::SUBSCRIPTION)));
    let pulled = pull();
    assert_eq!(pulled.code, rs::SUCCESS);
    let (rec, _) = decode_record(&pulled.body, false).unwrap();
    let send_back = || respond(t.handle(&ctx, send_back_req(rec.physical_offset)));

    // Read-only: sends and send-backs are refused at once, pulls go on.
    assert_eq!(update_config(&t, "brokerPermission=4").code, rs::SUCCESS);
    let r = respond(t.handle(&ctx, send_req("HL", 0, b"m")));
    assert_eq!(r.code, rs::SERVICE_NOT_AVAILABLE, "{:?}", r.remark);
    assert_eq!(send_back().code, rs::NO_PERMISSION);
    assert_eq!(pull().code, rs::SUCCESS);

    // Write-only: pulls are refused, sends and send-backs go on.
    assert_eq!(update_config(&t, "brokerPermission=2").code, rs::SUCCESS);
    let r = pull();
    assert_eq!(r.code, rs::NO_PERMISSION, "{:?}", r.remark);
    assert_eq!(respond(t.handle(&ctx, send_req("HL", 0, b"m"))).code, rs::SUCCESS);
    assert_eq!(send_back().code, rs::SUCCESS);

    // Another live key: long polling off means a parked pull waits shortPollingTimeMills.
    assert_eq!(update_config(&t, "brokerPermission=6\nlongPollingEnable=false").code, 0);
    assert!(!t.broker.cfg().long_polling_enable);
    // A key read only at start is stored, and said so.
    let r = update_config(&t, "listenPort=1");
    assert_eq!(r.remark.as_deref(), Some("effective after restart: listenPort"));
}

/// A name server that only records the topic permissions each REGISTER_BROKER carries.
struct FakeNamesrv {
    server: crate::remoting::Server,
    seen: Arc<parking_lot::Mutex<Vec<i32>>>,
}

impl FakeNamesrv {
    fn start() -> FakeNamesrv {
        use crate::protocol::body::RegisterBrokerBody;
        let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let mut routes = Routes::new();
        let pool = routes.pool("ns", 1, 100);
        let s2 = seen.clone();
        routes.register(
            rq::REGISTER_BROKER,
            pool,
            Arc::new(move |_: &ReqCtx, req: RemotingCommand| {
                let body: RegisterBrokerBody =
                    crate::protocol::json::from_fastjson(&req.body).unwrap();
                let tc = &body.topic_config_serialize_wrapper.topic_config_table["HReg"];
                s2.lock().push(tc.perm);
                Reply::Respond(RemotingCommand::success())
            }),
        );
        let cfg = crate::remoting::ServerConfig::new("fake-ns", "127.0.0.1:0".parse().unwrap());
        FakeNamesrv { server: crate::remoting::Server::start(cfg, routes).unwrap(), seen }
    }

    fn addr(&self) -> String {
        self.server.local_addr().to_string()
    }

    fn perms(&self) -> Vec<i32> {
        self.seen.lock().clone()
    }
}

#[test]
fn a_config_update_takes_effect_on_registration_at_once() {
    let (ns1, ns2) = (FakeNamesrv::start(), FakeNamesrv::start());
    let t = TestBroker::open_with("ASYNC_FLUSH", |c| c.namesrv_addr = ns1.addr());
    let ctx = ReqCtx::detached(peer());
    assert_eq!(respond(t.handle(&ctx, send_req("HReg", 0, b"m"))).code, rs::SUCCESS);
    assert_eq!(services::register::register_all(&t.broker), 1);
    assert_eq!((ns1.perms(), ns2.perms()), (vec![6], vec![]));
    // The permission and the name server list both apply to the next registration.
    let text = format!("brokerPermission=4\nnamesrvAddr={};{}", ns1.addr(), ns2.addr());
    assert_eq!(update_config(&t, &text).code, rs::SUCCESS);
    assert_eq!(services::register::register_all(&t.broker), 2);
    assert_eq!((ns1.perms(), ns2.perms()), (vec![6, 4], vec![4]));
    t.broker.remote.shutdown();
}

/// The route table carries ACL's resource function for exactly the codes `acl::resources`
/// covers, and the admin flag for exactly Apache's admin codes.
#[test]
fn route_acl_meta_matches_the_acl_tables() {
    use crate::acl::resources::{for_code, is_admin_code, ADMIN_CODES};
    let t = TestBroker::open("ASYNC_FLUSH");
    let codes = t.routes.codes();
    for &c in &ADMIN_CODES {
        assert!(codes.contains(&c), "admin code {c} is routed");
    }
    for c in codes {
        let (_, _, _, meta) = t.routes.describe(c).unwrap();
        assert_eq!(meta.resources.is_some(), for_code(c).is_some(), "resources of code {c}");
        assert_eq!(meta.admin, is_admin_code(c), "admin flag of code {c}");
        if let (Some(f), Some(g)) = (meta.resources, for_code(c)) {
            let cmd = RemotingCommand::request(c)
                .with("topic", "T")
                .with("b", "T")
                .with("group", "G")
                .with("consumerGroup", "G");
            assert_eq!(f(&cmd), g(&cmd), "resources of code {c}");
        }
    }
}
