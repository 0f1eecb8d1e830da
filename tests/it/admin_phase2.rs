//! Issue 14, phase 2: rmq-admin over what the rebuilt broker serves. NOT registered in main.rs
//! yet: add `mod admin_phase2;` there once the broker serves GET_BROKER_CONSUME_STATS (317) and
//! CLEAN_EXPIRED_CONSUMEQUEUE (306). VIEW_BROKER_STATS_DATA (315), GET_ALL_PRODUCER_INFO (328),
//! GET_BROKER_RUNTIME_INFO and the broker's `/metrics` are served and tested in
//! broker_stats.rs and broker_metrics.rs.

use crate::proto::{self, T};
use crate::util::{wait_until, Cluster, TestDir};
use rmq::protocol::codes::{request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::protocol::stats_body::BrokerStatsData;
use rmq::remoting::RemotingClient;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

const ADMIN_BIN: &str = env!("CARGO_BIN_EXE_rmq-admin");

fn admin(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(ADMIN_BIN).args(args).env_remove("NAMESRV_ADDR").output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = admin(args);
    assert_eq!(code, 0, "rmq-admin {args:?}: {err}\n{out}");
    out
}

fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    serde_json::from_str(&ok(&a)).unwrap()
}

/// Produce `n` to `topic` (4 queues), let `group` pull and commit all of it and send the first
/// message back once (a failed consumption). Returns the first message's id.
fn produce_and_consume(c: &RemotingClient, addr: &str, topic: &str, group: &str, n: i32) {
    proto::create_topic(c, addr, topic, 4);
    let mut first = String::new();
    for i in 0..n {
        let (_, _, id) = proto::send_ok(c, addr, topic, i % 4, &format!("p2-{i}"));
        if i == 0 {
            first = id;
        }
    }
    assert!(wait_until(Duration::from_secs(10), || (0..4)
        .map(|q| proto::read_queue(c, addr, topic, q).len() as i32)
        .sum::<i32>()
        == n));
    for q in 0..4 {
        let (mut offset, mut got) = (0, 0);
        while let Some((msgs, next)) = proto::pull(c, addr, group, topic, q, offset, 32).unwrap() {
            got += msgs.len() as i64;
            offset = next;
        }
        proto::commit_offset(c, addr, group, topic, q, got);
    }
    // An offset message id ends with the commit-log offset, 16 hex digits.
    let phys = i64::from_str_radix(&first[first.len() - 16..], 16).unwrap();
    let back = RemotingCommand::request(rq::CONSUMER_SEND_MSG_BACK)
        .with("group", group)
        .with("offset", phys)
        .with("delayLevel", 0)
        .with("originMsgId", &first)
        .with("originTopic", topic);
    assert_eq!(c.invoke(addr, back, T).unwrap().code, rs::SUCCESS);
}

#[test]
fn broker_consume_stats_stats_all_and_clean_expired_cq() {
    let dir = TestDir::new("admin-p2");
    let cluster = Cluster::start(&dir.path, &["--brokerClusterName=P2Cluster"]);
    let (ns, addr) = (cluster.namesrv_addr(), cluster.broker_addr());
    let c = RemotingClient::new();
    produce_and_consume(&c, &addr, "P2Topic", "P2Group", 40);
    proto::heartbeat(&c, &addr, "127.0.0.1@p2", "P2Group", "P2Topic", None);
    // Ten more, not consumed: a diff of 10.
    for i in 0..10 {
        proto::send_ok(&c, &addr, "P2Topic", i % 4, "late");
    }

    // brokerConsumeStats (317).
    let j = json(&["brokerConsumeStats", "-b", &addr]);
    let rows = j["rows"].as_array().unwrap();
    let ours: Vec<&Value> =
        rows.iter().filter(|r| r["group"] == "P2Group" && r["topic"] == "P2Topic").collect();
    assert_eq!(ours.len(), 4, "{j}");
    assert_eq!(ours.iter().map(|r| r["diff"].as_i64().unwrap()).sum::<i64>(), 10);
    assert!(j["totalDiff"].as_i64().unwrap() >= 10, "{j}");
    let t = ok(&["brokerConsumeStats", "-b", &addr, "-l", "3"]);
    assert!(t.starts_with("#Topic") && t.contains("Diff Total:"), "{t}");
    assert!(t.lines().skip(1).filter(|l| l.starts_with("P2Topic")).all(|l| {
        l.split_whitespace().nth(6).and_then(|d| d.parse::<i64>().ok()).is_some_and(|d| d >= 3)
    }));

    // VIEW_BROKER_STATS_DATA (315) for every stats name the exporter and statsAll ask for.
    for (name, key) in [
        ("BROKER_PUT_NUMS", "P2Cluster".to_string()),
        ("BROKER_GET_NUMS", "P2Cluster".to_string()),
        ("TOPIC_PUT_NUMS", "P2Topic".to_string()),
        ("TOPIC_PUT_SIZE", "P2Topic".to_string()),
        ("GROUP_GET_NUMS", "P2Topic@P2Group".to_string()),
        ("GROUP_GET_SIZE", "P2Topic@P2Group".to_string()),
        ("SNDBCK_PUT_NUMS", "P2Topic@P2Group".to_string()),
        ("GROUP_GET_LATENCY", "0@P2Topic@P2Group".to_string()),
    ] {
        let req = RemotingCommand::request(rq::VIEW_BROKER_STATS_DATA)
            .with("statsName", name)
            .with("statsKey", &key);
        let r = c.invoke(&addr, req, T).unwrap();
        assert_eq!(r.code, rs::SUCCESS, "{name} {key}: {:?}", r.remark);
        BrokerStatsData::decode(&r.body).unwrap();
    }
    let req = RemotingCommand::request(rq::VIEW_BROKER_STATS_DATA)
        .with("statsName", "TOPIC_PUT_NUMS")
        .with("statsKey", "NoSuchTopic");
    let r = c.invoke(&addr, req, T).unwrap();
    assert_eq!(r.code, rs::SYSTEM_ERROR);
    assert_eq!(r.remark.as_deref(), Some("The stats <TOPIC_PUT_NUMS> <NoSuchTopic> not exist"));
    let put = |topic: &str| {
        let req = RemotingCommand::request(rq::VIEW_BROKER_STATS_DATA)
            .with("statsName", "TOPIC_PUT_NUMS")
            .with("statsKey", topic);
        BrokerStatsData::decode(&c.invoke(&addr, req, T).unwrap().body).unwrap()
    };
    assert!(wait_until(Duration::from_secs(70), || put("P2Topic").stats_minute.sum == 50));

    // statsAll: the topic's row for the group.
    let j = json(&["statsAll", "-n", &ns, "-t", "P2Topic"]);
    let row = j.as_array().unwrap().iter().find(|r| r["group"] == "P2Group").unwrap().clone();
    assert_eq!(
        (row["accumulation"].as_i64(), row["inMsg24h"].as_i64()),
        (Some(10), Some(50)),
        "{j}"
    );
    assert_eq!(row["outMsg24h"].as_i64(), Some(40), "{j}");
    assert!(row["inTps"].as_f64().unwrap() > 0.0, "{j}");
    let t = ok(&["statsAll", "-n", &ns, "-a"]);
    assert!(t.starts_with("#Topic") && t.lines().any(|l| l.starts_with("P2Topic")), "{t}");

    // cleanExpiredCQ (306) on a broker, a cluster, and every broker.
    assert!(ok(&["cleanExpiredCQ", "-b", &addr]).contains("success"));
    assert!(ok(&["cleanExpiredCQ", "-n", &ns, "-c", "P2Cluster"]).contains(&addr));
    assert!(ok(&["cleanExpiredCQ", "-n", &ns]).contains(&addr));

    // GET_ALL_PRODUCER_INFO (328): the producer group of the heartbeat above.
    proto::heartbeat(&c, &addr, "127.0.0.1@p2p", "P2Group2", "P2Topic", Some("P2Producer"));
    let r = c.invoke(&addr, RemotingCommand::request(rq::GET_ALL_PRODUCER_INFO), T).unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    assert!(String::from_utf8_lossy(&r.body).contains("P2Producer"));
}
