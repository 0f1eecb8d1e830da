//! Malformed, oversized and unknown requests: a clear answer or a closed connection, and the
//! broker keeps serving everyone else.

use crate::util::{Cluster, TestDir};
use rmq::protocol::codes::{request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::protocol::frame::{decode, encode_to_vec, DEFAULT_MAX_FRAME};
use rmq::remoting::RemotingClient;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Write `bytes` and read until EOF or a whole frame; returns (closed, frame bytes).
fn exchange(addr: &str, bytes: &[u8]) -> (bool, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = s.write_all(bytes);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return (true, buf),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if let Ok(Some(_)) = decode(&buf, DEFAULT_MAX_FRAME) {
                    return (false, buf);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (true, buf),
            Err(e) => panic!("no answer and no close from the broker: {e}"),
        }
    }
}

fn still_serving(addr: &str) {
    let c = RemotingClient::new();
    let r = c
        .invoke(
            addr,
            RemotingCommand::request(rq::GET_MAX_OFFSET).with("topic", "TBW102").with("queueId", 0),
            Duration::from_secs(5),
        )
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(r.field("offset"), Some("0"));
}

#[test]
fn malformed_oversized_unknown() {
    let dir = TestDir::new("bad-input");
    let cluster = Cluster::start(&dir.path, &[]);
    let addr = cluster.broker_addr();

    // Unknown request code: answered with 3, same opaque, JSON.
    let mut req = RemotingCommand::request(9999);
    req.opaque = 4242;
    let (closed, resp) = exchange(&addr, &encode_to_vec(&req));
    assert!(!closed);
    let (r, _) = decode(&resp, DEFAULT_MAX_FRAME).unwrap().unwrap();
    assert_eq!(r.code, rs::REQUEST_CODE_NOT_SUPPORTED);
    assert_eq!(r.opaque, 4242);
    assert!(r.is_response());
    assert!(r.remark.unwrap().contains("9999"));

    // Unknown code in the binary form: answered in the binary form.
    req.serialize_type = rmq::protocol::command::SerializeType::RocketMq;
    let (_, resp) = exchange(&addr, &encode_to_vec(&req));
    assert_eq!(resp[4], 1, "response must mirror the request's header form");

    // Malformed JSON header: connection closed.
    let mut bad = Vec::new();
    let header = b"{\"code\":10,,}";
    bad.extend_from_slice(&((4 + header.len()) as u32).to_be_bytes());
    bad.extend_from_slice(&(header.len() as u32).to_be_bytes());
    bad.extend_from_slice(header);
    assert!(exchange(&addr, &bad).0, "malformed header must close the connection");

    // Header length beyond the frame: closed.
    assert!(exchange(&addr, &[0, 0, 0, 8, 0, 0, 0, 200, 1, 2, 3, 4]).0);

    // Oversized frame (2 GiB declared): closed at once, nothing allocated.
    assert!(exchange(&addr, &[0x7f, 0xff, 0xff, 0xf0, 0, 0, 0, 2, b'{', b'}']).0);
    // Just over the 16 MiB default cap.
    let over = (DEFAULT_MAX_FRAME as u32 - 3).to_be_bytes();
    assert!(exchange(&addr, &[over[0], over[1], over[2], over[3], 0, 0, 0, 2]).0);

    // Unknown serialization type: closed.
    assert!(exchange(&addr, &[0, 0, 0, 6, 9, 0, 0, 2, b'{', b'}']).0);

    // Bad request fields: a clear error, not a crash.
    let c = RemotingClient::new();
    let r = c
        .invoke(
            &addr,
            RemotingCommand::request(rq::PULL_MESSAGE).with("topic", "TBW102"),
            Duration::from_secs(5),
        )
        .unwrap();
    assert_eq!(r.code, rs::SYSTEM_ERROR);
    assert!(r.remark.unwrap().contains("consumerGroup"));
    let r = c
        .invoke(
            &addr,
            RemotingCommand::request(rq::HEART_BEAT).with_body(b"{not json".to_vec()),
            Duration::from_secs(5),
        )
        .unwrap();
    assert_eq!(r.code, rs::SYSTEM_ERROR);

    still_serving(&addr);
    // The name server too.
    let ns = cluster.namesrv_addr();
    assert!(exchange(&ns, &[0x7f, 0xff, 0xff, 0xf0, 0, 0, 0, 2]).0);
    let r = c.invoke(&ns, RemotingCommand::request(12345), Duration::from_secs(5)).unwrap();
    assert_eq!(r.code, rs::REQUEST_CODE_NOT_SUPPORTED);
}
