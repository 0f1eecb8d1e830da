//! Issue 13: deeply nested JSON from a peer. A HEART_BEAT body of a few hundred thousand `{`
//! used to overflow a broker worker's stack and abort the broker; the same body in
//! REGISTER_BROKER reached the name server. Both now refuse it and keep serving.

use crate::util::{Cluster, TestDir};
use rmq::protocol::codes::{request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::protocol::frame::{decode, encode_to_vec, DEFAULT_MAX_FRAME};
use rmq::remoting::RemotingClient;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const DEPTH: usize = 300_000;

/// Send one frame; the peer answers it or closes the connection (either is fine), within 10 s.
fn send_and_settle(addr: &str, frame: &[u8]) -> Option<RemotingCommand> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(frame);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if let Ok(Some((c, _))) = decode(&buf, DEFAULT_MAX_FRAME) {
                    return Some(c);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
            Err(e) => panic!("no answer and no close within 10 s: {e}"),
        }
    }
}

fn bodies() -> Vec<Vec<u8>> {
    vec![
        "{".repeat(DEPTH).into_bytes(),
        "[".repeat(DEPTH).into_bytes(),
        format!("{{\"clientID\":\"c\",\"consumerDataSet\":[{}", "{\"a\":".repeat(DEPTH))
            .into_bytes(),
        format!("{{0:{}", "{".repeat(DEPTH)).into_bytes(),
    ]
}

fn deep_header(code: i32) -> Vec<u8> {
    let header = format!("{{\"code\":{code},\"extFields\":{{\"a\":{}", "[".repeat(DEPTH));
    let mut f = Vec::new();
    f.extend_from_slice(&((4 + header.len()) as u32).to_be_bytes());
    f.extend_from_slice(&(header.len() as u32).to_be_bytes());
    f.extend_from_slice(header.as_bytes());
    f
}

#[test]
fn deep_json_bodies_and_headers_do_not_crash_broker_or_name_server() {
    let dir = TestDir::new("hostile-json");
    let cluster = Cluster::start(&dir.path, &[]);
    let (broker, namesrv) = (cluster.broker_addr(), cluster.namesrv_addr());
    for body in bodies() {
        let hb = RemotingCommand::request(rq::HEART_BEAT).with_body(body.clone());
        if let Some(r) = send_and_settle(&broker, &encode_to_vec(&hb)) {
            assert_ne!(r.code, rs::SUCCESS, "a nested heartbeat was accepted");
        }
        let reg = RemotingCommand::request(rq::REGISTER_BROKER)
            .with("brokerName", "evil")
            .with("brokerAddr", "127.0.0.1:1")
            .with("clusterName", "C")
            .with("haServerAddr", "127.0.0.1:2")
            .with("brokerId", 0)
            .with_body(body);
        if let Some(r) = send_and_settle(&namesrv, &encode_to_vec(&reg)) {
            assert_ne!(r.code, rs::SUCCESS, "a nested registration was accepted");
        }
    }
    assert!(send_and_settle(&broker, &deep_header(rq::HEART_BEAT)).is_none());
    assert!(send_and_settle(&namesrv, &deep_header(rq::GET_ROUTEINFO_BY_TOPIC)).is_none());
    // Both still serve.
    let c = RemotingClient::new();
    let t = Duration::from_secs(5);
    let r = c
        .invoke(
            &broker,
            RemotingCommand::request(rq::GET_MAX_OFFSET).with("topic", "TBW102").with("queueId", 0),
            t,
        )
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    let r = c
        .invoke(
            &namesrv,
            RemotingCommand::request(rq::GET_ROUTEINFO_BY_TOPIC).with("topic", "TBW102"),
            t,
        )
        .unwrap();
    assert!(r.code == rs::SUCCESS || r.code == rs::TOPIC_NOT_EXIST, "{r:?}");
    assert!(r.is_response());
}
