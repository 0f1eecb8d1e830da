//! Issue 3: QUERY_MESSAGE by key and by unique key across index file boundaries (tiny index files),
//! before and after a kill -9; VIEW_MESSAGE_BY_ID by the offset message id.

use crate::util::{Cluster, TestDir};
use rmq::protocol::codes::{request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::protocol::record::{decode_record, get_property};
use rmq::remoting::RemotingClient;
use std::time::Duration;

const T: Duration = Duration::from_secs(5);
const TOPIC: &str = "QueryTopic";

/// Send with KEYS and UNIQ_KEY; returns the offset message id.
pub fn send_keyed(
    c: &RemotingClient,
    addr: &str,
    topic: &str,
    body: &str,
    keys: &str,
    uniq: &str,
) -> String {
    let props = format!("KEYS\u{1}{keys}\u{2}UNIQ_KEY\u{1}{uniq}\u{2}WAIT\u{1}true\u{2}");
    let req = RemotingCommand::request(rq::SEND_MESSAGE_V2)
        .with("a", "PG_query")
        .with("b", topic)
        .with("c", "TBW102")
        .with("d", 4)
        .with("e", 0)
        .with("f", 0)
        .with("g", 0)
        .with("h", 0)
        .with("i", props)
        .with_body(body.as_bytes().to_vec());
    let r = c.invoke(addr, req, T).unwrap();
    assert_eq!(r.code, rs::SUCCESS, "send failed: {:?}", r.remark);
    r.field("msgId").unwrap().to_string()
}

/// QUERY_MESSAGE; returns (code, bodies sorted, indexLastUpdatePhyoffset).
pub fn query(
    c: &RemotingClient,
    addr: &str,
    topic: &str,
    key: &str,
    max: i32,
    uniq: bool,
) -> (i32, Vec<String>, i64) {
    let mut req = RemotingCommand::request(rq::QUERY_MESSAGE)
        .with("topic", topic)
        .with("key", key)
        .with("maxNum", max)
        .with("beginTimestamp", 0)
        .with("endTimestamp", i64::MAX);
    if uniq {
        req = req.with("_UNIQUE_KEY_QUERY", "true");
    }
    let r = c.invoke(addr, req, T).unwrap();
    let mut bodies = Vec::new();
    let mut b = &r.body[..];
    while !b.is_empty() {
        let (rec, n) = decode_record(b, true).expect("a damaged record in a query response");
        assert_eq!(rec.topic, topic);
        let keys = get_property(&rec.properties, "KEYS").unwrap_or("");
        let uniq_key = get_property(&rec.properties, "UNIQ_KEY").unwrap_or("");
        assert!(
            uniq_key == key || keys.split(' ').any(|k| k == key),
            "{key} not in {keys}/{uniq_key}"
        );
        bodies.push(String::from_utf8(rec.body).unwrap());
        b = &b[n..];
    }
    bodies.sort();
    (r.code, bodies, r.i64_field("indexLastUpdatePhyoffset").unwrap())
}

#[test]
fn query_by_key_and_unique_key_across_index_files() {
    let dir = TestDir::new("query");
    // 49 entries per index file; 60 messages × 3 keys need four files.
    let mut cluster = Cluster::start(&dir.path, &["--maxHashSlotNum=16", "--maxIndexNum=50"]);
    let c = RemotingClient::new();
    let addr = cluster.broker_addr();
    let mut ids = Vec::new();
    for i in 0..60 {
        let id = send_keyed(
            &c,
            &addr,
            TOPIC,
            &format!("body-{i}"),
            &format!("group-{} item-{i}", i % 3),
            &format!("UNIQ{i:04}"),
        );
        ids.push(id);
    }
    let expect = |g: usize| -> Vec<String> {
        let mut v: Vec<String> =
            (0..60).filter(|i| i % 3 == g).map(|i| format!("body-{i}")).collect();
        v.sort();
        v
    };
    let check = |addr: &str| {
        for g in 0..3 {
            let (code, bodies, _) = query(&c, addr, TOPIC, &format!("group-{g}"), 64, false);
            assert_eq!(code, rs::SUCCESS);
            assert_eq!(bodies, expect(g), "group-{g}");
        }
        let (_, limited, _) = query(&c, addr, TOPIC, "group-1", 5, false);
        assert_eq!(limited.len(), 5);
        let (code, one, _) = query(&c, addr, TOPIC, "item-37", 64, false);
        assert_eq!((code, one), (rs::SUCCESS, vec!["body-37".to_string()]));
        for i in [0, 23, 59] {
            let (code, one, _) = query(&c, addr, TOPIC, &format!("UNIQ{i:04}"), 1, true);
            assert_eq!((code, one), (rs::SUCCESS, vec![format!("body-{i}")]));
        }
        let (code, none, _) = query(&c, addr, TOPIC, "no-such-key", 64, false);
        assert_eq!((code, none.len()), (rs::QUERY_NOT_FOUND, 0));
        let (code, _, _) = query(&c, addr, "OtherTopic", "group-1", 64, false);
        assert_eq!(code, rs::QUERY_NOT_FOUND);
    };
    assert!(crate::util::wait_until(T, || query(&c, &addr, TOPIC, "UNIQ0059", 1, true).0
        == rs::SUCCESS));
    check(&addr);
    let index_files = std::fs::read_dir(dir.path.join("store/index")).unwrap().count();
    assert!(index_files >= 4, "only {index_files} index files");
    // VIEW_MESSAGE_BY_ID: the offset message id ends with the commit-log offset (16 hex digits).
    let off = i64::from_str_radix(&ids[42][ids[42].len() - 16..], 16).unwrap();
    let r = c
        .invoke(&addr, RemotingCommand::request(rq::VIEW_MESSAGE_BY_ID).with("offset", off), T)
        .unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    assert_eq!(decode_record(&r.body, true).unwrap().0.body, b"body-42");

    // After a crash the index is recovered and keeps growing.
    cluster.broker.kill9();
    cluster.restart_broker();
    let addr = cluster.broker_addr();
    check(&addr);
    send_keyed(&c, &addr, TOPIC, "body-after", "group-0", "UNIQ-after");
    assert!(crate::util::wait_until(T, || query(&c, &addr, TOPIC, "UNIQ-after", 1, true).0
        == rs::SUCCESS));
    let (_, g0, _) = query(&c, &addr, TOPIC, "group-0", 64, false);
    assert_eq!(g0.len(), 21);
}
