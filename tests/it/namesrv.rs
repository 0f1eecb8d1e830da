//! Name server over real sockets: registration, both route key styles, unknown codes,
//! disconnect clean-up.

use crate::util::{wait_until, Proc, TestDir, NAMESRV_BIN};
use rmq::protocol::body::{RegisterBrokerBody, TopicConfig, TopicRouteData};
use rmq::protocol::codes::{request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::remoting::RemotingClient;
use std::time::Duration;

const T: Duration = Duration::from_secs(5);

fn register(client: &RemotingClient, ns: &str, addr: &str, topics: &[&str]) -> RemotingCommand {
    let mut body = RegisterBrokerBody::default();
    for t in topics {
        body.topic_config_serialize_wrapper
            .topic_config_table
            .insert(t.to_string(), TopicConfig::new(t, 4, 6));
    }
    body.topic_config_serialize_wrapper.data_version.counter = 1;
    let body = serde_json::to_vec(&body).unwrap();
    let req = RemotingCommand::request(rq::REGISTER_BROKER)
        .with("brokerAddr", addr)
        .with("brokerId", 0)
        .with("brokerName", "bx")
        .with("clusterName", "CX")
        .with("haServerAddr", "127.0.0.1:1")
        .with("bodyCrc32", rmq::common::crc::masked_crc32(&body))
        .with_body(body);
    client.invoke(ns, req, T).unwrap()
}

#[test]
fn register_route_unknown_code_and_disconnect() {
    let dir = TestDir::new("namesrv");
    let ns = Proc::start(
        NAMESRV_BIN,
        &[
            "--listenPort=0".into(),
            "--bindAddress=127.0.0.1".into(),
            format!("--kvConfigPath={}/kv.json", dir.path.display()),
        ],
        dir.path.join("ns.log"),
        1,
    );
    let addr = ns.addr("listen");
    let broker_side = RemotingClient::new();
    assert_eq!(register(&broker_side, &addr, "127.0.0.1:30911", &["TopicX"]).code, rs::SUCCESS);

    let client = RemotingClient::new();
    let mut old = RemotingCommand::request(rq::GET_ROUTEINFO_BY_TOPIC).with("topic", "TopicX");
    old.version = 63;
    let r = client.invoke(&addr, old, T).unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    let text = String::from_utf8(r.body.clone()).unwrap();
    assert!(text.contains(r#"{0:"127.0.0.1:30911"}"#), "old clients get bare numeric keys: {text}");
    let route = TopicRouteData::decode(&r.body).unwrap();
    assert_eq!(route.queue_datas[0].write_queue_nums, 4);
    let new = RemotingCommand::request(rq::GET_ROUTEINFO_BY_TOPIC).with("topic", "TopicX");
    let r = client.invoke(&addr, new, T).unwrap();
    assert!(String::from_utf8_lossy(&r.body).contains(r#"{"0":"127.0.0.1:30911"}"#));

    let r = client
        .invoke(
            &addr,
            RemotingCommand::request(rq::GET_ROUTEINFO_BY_TOPIC).with("topic", "Nope"),
            T,
        )
        .unwrap();
    assert_eq!(r.code, rs::TOPIC_NOT_EXIST);
    let r = client.invoke(&addr, RemotingCommand::request(7777), T).unwrap();
    assert_eq!(r.code, rs::REQUEST_CODE_NOT_SUPPORTED, "unknown codes must be answered");
    let r = client.invoke(&addr, RemotingCommand::request(rq::GET_BROKER_CLUSTER_INFO), T).unwrap();
    assert!(String::from_utf8_lossy(&r.body).contains("\"CX\":[\"bx\"]"));

    // A bad body CRC is refused.
    let bad = RemotingCommand::request(rq::REGISTER_BROKER)
        .with("brokerAddr", "127.0.0.1:1")
        .with("brokerId", 0)
        .with("brokerName", "by")
        .with("clusterName", "CX")
        .with("bodyCrc32", 12345)
        .with_body(b"{}".to_vec());
    assert_eq!(client.invoke(&addr, bad, T).unwrap().code, rs::SYSTEM_ERROR);

    // The broker's connection closes: its routes go at once.
    broker_side.shutdown();
    assert!(wait_until(Duration::from_secs(10), || {
        let r = client
            .invoke(
                &addr,
                RemotingCommand::request(rq::GET_ROUTEINFO_BY_TOPIC).with("topic", "TopicX"),
                T,
            )
            .unwrap();
        r.code == rs::TOPIC_NOT_EXIST
    }));
}

/// A raw remoting connection (a broker's registration connection): one request at a time.
struct RawConn {
    s: std::net::TcpStream,
    opaque: i32,
}

impl RawConn {
    fn open(addr: &str) -> RawConn {
        let s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(T)).unwrap();
        RawConn { s, opaque: 0 }
    }

    fn call(&mut self, mut req: RemotingCommand) -> RemotingCommand {
        use rmq::protocol::frame::{decode, encode_to_vec, DEFAULT_MAX_FRAME};
        use std::io::{Read, Write};
        self.opaque += 1;
        req.opaque = self.opaque;
        self.s.write_all(&encode_to_vec(&req)).unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            if let Some((resp, _)) = decode(&buf, DEFAULT_MAX_FRAME).unwrap() {
                assert_eq!(resp.opaque, self.opaque);
                return resp;
            }
            let n = self.s.read(&mut chunk).unwrap();
            assert!(n > 0, "name server closed the connection");
            buf.extend_from_slice(&chunk[..n]);
        }
    }
}

fn register_id(
    c: &mut RawConn,
    addr: &str,
    id: i64,
    ha: &str,
    topics: &[(&str, i32)],
) -> RemotingCommand {
    let mut body = RegisterBrokerBody::default();
    for (t, q) in topics {
        body.topic_config_serialize_wrapper
            .topic_config_table
            .insert(t.to_string(), TopicConfig::new(t, *q, 6));
    }
    let body = serde_json::to_vec(&body).unwrap();
    c.call(
        RemotingCommand::request(rq::REGISTER_BROKER)
            .with("brokerAddr", addr)
            .with("brokerId", id)
            .with("brokerName", "bha")
            .with("clusterName", "CHA")
            .with("haServerAddr", ha)
            .with("bodyCrc32", rmq::common::crc::masked_crc32(&body))
            .with_body(body),
    )
}

fn route_of(ns: &str, topic: &str) -> Option<TopicRouteData> {
    let mut c = RawConn::open(ns);
    let r = c.call(RemotingCommand::request(rq::GET_ROUTEINFO_BY_TOPIC).with("topic", topic));
    (r.code == rs::SUCCESS).then(|| TopicRouteData::decode(&r.body).unwrap())
}

/// Issue 11: a master and its slave register with two name servers. The slave's answer carries
/// its master's addresses; routes list both ids with the master's queue data; when the master's
/// connection closes its entry goes at once and the slave keeps serving the queues.
#[test]
fn master_and_slave_registrations_routes_and_disconnect() {
    let dir = TestDir::new("namesrv-ha");
    let start = |n: usize| {
        Proc::start(
            NAMESRV_BIN,
            &[
                "--listenPort=0".into(),
                "--bindAddress=127.0.0.1".into(),
                format!("--kvConfigPath={}/kv{n}.json", dir.path.display()),
            ],
            dir.path.join(format!("ns{n}.log")),
            1,
        )
    };
    let (ns1, ns2) = (start(1), start(2));
    let nss = [ns1.addr("listen"), ns2.addr("listen")];
    let (m, s) = ("127.0.0.1:31911", "127.0.0.1:31921");
    let mut masters: Vec<RawConn> = nss.iter().map(|a| RawConn::open(a)).collect();
    let mut slaves: Vec<RawConn> = nss.iter().map(|a| RawConn::open(a)).collect();
    for (mc, sc) in masters.iter_mut().zip(slaves.iter_mut()) {
        let r = register_id(mc, m, 0, "127.0.0.1:31912", &[("HaTopic", 4)]);
        assert_eq!(r.code, rs::SUCCESS);
        assert_eq!((r.field("masterAddr"), r.field("haServerAddr")), (None, None));
        let r = register_id(sc, s, 1, "127.0.0.1:31922", &[("HaTopic", 8), ("SlaveOnly", 2)]);
        assert_eq!(r.code, rs::SUCCESS);
        assert_eq!(r.field("masterAddr"), Some(m), "RegisterBrokerResponseHeader.masterAddr");
        assert_eq!(r.field("haServerAddr"), Some("127.0.0.1:31912"));
    }
    for ns in &nss {
        let route = route_of(ns, "HaTopic").unwrap();
        let addrs = &route.broker_datas[0].broker_addrs;
        assert_eq!(addrs.get(&0).map(String::as_str), Some(m));
        assert_eq!(addrs.get(&1).map(String::as_str), Some(s));
        assert_eq!(route.queue_datas.len(), 1);
        assert_eq!(route.queue_datas[0].write_queue_nums, 4, "queue data from the master only");
        assert!(route_of(ns, "SlaveOnly").is_none());
        let mut c = RawConn::open(ns);
        let r = c.call(RemotingCommand::request(rq::GET_BROKER_CLUSTER_INFO));
        let text = String::from_utf8_lossy(&r.body).to_string();
        assert!(text.contains(m) && text.contains(s), "cluster info lists both ids: {text}");
    }
    // The master's connections close (it died): its entry goes at once on both name servers.
    drop(masters);
    for ns in &nss {
        assert!(wait_until(Duration::from_secs(10), || {
            route_of(ns, "HaTopic")
                .is_some_and(|r| !r.broker_datas[0].broker_addrs.contains_key(&0))
        }));
        let route = route_of(ns, "HaTopic").unwrap();
        assert_eq!(route.broker_datas[0].broker_addrs.get(&1).map(String::as_str), Some(s));
        assert_eq!(route.queue_datas[0].write_queue_nums, 4, "consumers read from the slave");
    }
    let r = register_id(&mut slaves[0], s, 1, "127.0.0.1:31922", &[("HaTopic", 8)]);
    assert_eq!((r.field("masterAddr"), r.field("haServerAddr")), (None, None), "no master now");
    // The slave's connections close too: the broker name and its routes are gone.
    drop(slaves);
    for ns in &nss {
        assert!(wait_until(Duration::from_secs(10), || route_of(ns, "HaTopic").is_none()));
    }
}
