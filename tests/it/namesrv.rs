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
