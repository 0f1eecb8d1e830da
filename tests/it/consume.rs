//! Consumption semantics of issue 4 against real processes on loopback: subscription groups,
//! send-back through delay levels to the retry topic and the DLQ (protocol level), and with
//! Apache's C++ client (PyPI `rocketmq`): tags, orderly with a consumer leaving, broadcasting,
//! retry to DLQ, delayed messages across a restart, and the long-polling latency figure.

use crate::interop::{interop, produce};
use crate::util::{wait_until, Cluster, TestDir};
use rmq::protocol::codes::{pull_flag, request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::protocol::record::{decode_record, get_property, offset_msg_id, MessageRecord};
use rmq::remoting::RemotingClient;
use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(5);

fn call(c: &RemotingClient, addr: &str, req: RemotingCommand) -> RemotingCommand {
    c.invoke(addr, req, T).unwrap()
}

fn update_group(c: &RemotingClient, addr: &str, body: Value) {
    let r = call(
        c,
        addr,
        RemotingCommand::request(rq::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP)
            .with_body(body.to_string().into_bytes()),
    );
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
}

fn all_groups(c: &RemotingClient, addr: &str) -> Value {
    let r = call(c, addr, RemotingCommand::request(rq::GET_ALL_SUBSCRIPTIONGROUP_CONFIG));
    assert_eq!(r.code, rs::SUCCESS);
    serde_json::from_slice(&r.body).unwrap()
}

fn max_offset(c: &RemotingClient, addr: &str, topic: &str, queue: i32) -> i64 {
    let r = call(
        c,
        addr,
        RemotingCommand::request(rq::GET_MAX_OFFSET).with("topic", topic).with("queueId", queue),
    );
    r.i64_field("offset").unwrap()
}

fn send(c: &RemotingClient, addr: &str, topic: &str, props: &str, body: &str) {
    let req = RemotingCommand::request(rq::SEND_MESSAGE)
        .with("producerGroup", "PG_consume")
        .with("topic", topic)
        .with("defaultTopic", "TBW102")
        .with("defaultTopicQueueNums", 1)
        .with("queueId", 0)
        .with("sysFlag", 0)
        .with("bornTimestamp", 0)
        .with("flag", 0)
        .with("properties", props)
        .with_body(body.as_bytes().to_vec());
    let r = call(c, addr, req);
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
}

/// One pull with its own subscription "*": (code, remark, records).
fn pull(
    c: &RemotingClient,
    addr: &str,
    group: &str,
    topic: &str,
    queue: i32,
) -> (i32, String, Vec<MessageRecord>) {
    let req = RemotingCommand::request(rq::PULL_MESSAGE)
        .with("consumerGroup", group)
        .with("topic", topic)
        .with("queueId", queue)
        .with("queueOffset", 0)
        .with("maxMsgNums", 32)
        .with("sysFlag", pull_flag::SUBSCRIPTION)
        .with("commitOffset", 0)
        .with("suspendTimeoutMillis", 0)
        .with("subscription", "*")
        .with("subVersion", 0);
    let r = call(c, addr, req);
    let mut out = Vec::new();
    let mut body = &r.body[..];
    while !body.is_empty() {
        let (rec, n) = decode_record(body, true).unwrap();
        out.push(rec);
        body = &body[n..];
    }
    (r.code, r.remark.unwrap_or_default(), out)
}

/// Pull until at least `n` records are there (dispatch to the consume queue is asynchronous).
fn pull_n(
    c: &RemotingClient,
    addr: &str,
    group: &str,
    topic: &str,
    n: usize,
) -> (i32, String, Vec<MessageRecord>) {
    let mut last = (0, String::new(), Vec::new());
    wait_until(Duration::from_secs(10), || {
        last = pull(c, addr, group, topic, 0);
        last.2.len() >= n
    });
    last
}

fn set_topic_perm(c: &RemotingClient, addr: &str, topic: &str, perm: i32) {
    let r = call(
        c,
        addr,
        RemotingCommand::request(rq::UPDATE_AND_CREATE_TOPIC)
            .with("topic", topic)
            .with("readQueueNums", 1)
            .with("writeQueueNums", 1)
            .with("perm", perm),
    );
    assert_eq!(r.code, rs::SUCCESS);
}

fn topic_perm(c: &RemotingClient, addr: &str, topic: &str) -> i64 {
    let r = call(c, addr, RemotingCommand::request(rq::GET_ALL_TOPIC_CONFIG));
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    v["topicConfigTable"][topic]["perm"].as_i64().unwrap_or(-1)
}

#[test]
fn subscription_groups_admin_codes_consume_enable_and_persistence() {
    let dir = TestDir::new("groups");
    let mut cluster = Cluster::start(&dir.path, &[]);
    let c = RemotingClient::new();
    let addr = cluster.broker_addr();
    send(&c, &addr, "GroupTopic", "TAGS\u{1}A", "x");

    // Apache's system groups exist from the start; a pull auto-creates its group.
    let all = all_groups(&c, &addr);
    assert_eq!(all["subscriptionGroupTable"]["TOOLS_CONSUMER"]["retryMaxTimes"], 16);
    assert!(all["dataVersion"]["counter"].as_i64().unwrap() >= 1);
    let (code, _, recs) = pull_n(&c, &addr, "CG_auto", "GroupTopic", 1);
    assert_eq!((code, recs.len()), (rs::SUCCESS, 1));
    let g = &all_groups(&c, &addr)["subscriptionGroupTable"]["CG_auto"];
    assert_eq!(g["groupName"], "CG_auto");
    assert_eq!(g["consumeEnable"], true);
    assert_eq!(g["retryQueueNums"], 1);
    assert_eq!(g["whichBrokerWhenConsumeSlowly"], 1);

    // consumeEnable=false: pulls fail as Apache's do.
    update_group(
        &c,
        &addr,
        serde_json::json!({"groupName": "CG_off", "consumeEnable": false, "retryMaxTimes": 3}),
    );
    let (code, remark, _) = pull(&c, &addr, "CG_off", "GroupTopic", 0);
    assert_eq!(code, rs::NO_PERMISSION);
    assert_eq!(remark, "subscription group no permission, CG_off");
    let g = &all_groups(&c, &addr)["subscriptionGroupTable"]["CG_off"];
    assert_eq!(
        (g["retryMaxTimes"].as_i64(), g["consumeBroadcastEnable"].as_bool()),
        (Some(3), Some(true))
    );

    // Delete, and the table survives a restart.
    let r = call(
        &c,
        &addr,
        RemotingCommand::request(rq::DELETE_SUBSCRIPTIONGROUP).with("groupName", "CG_auto"),
    );
    assert_eq!(r.code, rs::SUCCESS);
    assert!(all_groups(&c, &addr)["subscriptionGroupTable"].get("CG_auto").is_none());
    cluster.broker.stop();
    cluster.restart_broker();
    let addr = cluster.broker_addr();
    let all = all_groups(&c, &addr);
    assert!(all["subscriptionGroupTable"].get("CG_auto").is_none());
    assert_eq!(all["subscriptionGroupTable"]["CG_off"]["consumeEnable"], false);
    let text =
        std::fs::read_to_string(dir.path.join("store/config/subscriptionGroup.json")).unwrap();
    assert!(text.contains("\"subscriptionGroupTable\""), "{text}");
}

#[test]
fn send_back_goes_through_delay_levels_to_retry_then_to_a_write_only_dlq() {
    let dir = TestDir::new("sendback");
    let cluster = Cluster::start(&dir.path, &["--messageDelayLevel=1s 1s 1s"]);
    let c = RemotingClient::new();
    let addr = cluster.broker_addr();
    update_group(&c, &addr, serde_json::json!({"groupName": "CG_back", "retryMaxTimes": 1}));
    send(&c, &addr, "BackTopic", "TAGS\u{1}A\u{2}KEYS\u{1}k1", "payload");
    let (_, _, recs) = pull_n(&c, &addr, "CG_back", "BackTopic", 1);
    let orig = &recs[0];
    let orig_id = offset_msg_id(orig.store_host, orig.physical_offset);

    // First failure: delay level 3 + 0 (clamped to the 3 configured levels) = queue 2 of the
    // schedule topic, then %RETRY%CG_back once due.
    let back = |offset: i64| {
        call(
            &c,
            &addr,
            RemotingCommand::request(rq::CONSUMER_SEND_MSG_BACK)
                .with("group", "CG_back")
                .with("offset", offset)
                .with("delayLevel", 0)
                .with("originMsgId", "ignored-by-the-broker")
                .with("originTopic", "BackTopic"),
        )
    };
    assert_eq!(back(orig.physical_offset).code, rs::SUCCESS);
    assert!(wait_until(T, || max_offset(&c, &addr, "SCHEDULE_TOPIC_XXXX", 2) == 1));
    assert!(wait_until(Duration::from_secs(20), || {
        max_offset(&c, &addr, "%RETRY%CG_back", 0) == 1
    }));
    let (code, _, recs) = pull_n(&c, &addr, "CG_back", "%RETRY%CG_back", 1);
    assert_eq!((code, recs.len()), (rs::SUCCESS, 1));
    let retry = &recs[0];
    assert_eq!(retry.body, b"payload");
    assert_eq!(retry.reconsume_times, 1);
    assert_eq!(get_property(&retry.properties, "RETRY_TOPIC"), Some("BackTopic"));
    assert_eq!(get_property(&retry.properties, "ORIGIN_MESSAGE_ID"), Some(orig_id.as_str()));
    assert_eq!(get_property(&retry.properties, "REAL_TOPIC"), Some("%RETRY%CG_back"));
    // As Apache's delivered copy: DELAY stays in the stored properties.
    assert_eq!(get_property(&retry.properties, "DELAY"), Some("3"));
    assert_eq!(get_property(&retry.properties, "KEYS"), Some("k1"));
    assert!(retry.store_timestamp >= orig.store_timestamp + 1000, "not before its delay");

    // Second failure: reconsumed once = retryMaxTimes, so straight to the DLQ, which is
    // write-only (consumers cannot pull it) until an operator changes its permission.
    assert_eq!(back(retry.physical_offset).code, rs::SUCCESS);
    assert!(wait_until(T, || max_offset(&c, &addr, "%DLQ%CG_back", 0) == 1));
    assert_eq!(topic_perm(&c, &addr, "%DLQ%CG_back"), 2);
    let (code, remark, _) = pull(&c, &addr, "CG_back", "%DLQ%CG_back", 0);
    assert_eq!(code, rs::NO_PERMISSION);
    assert_eq!(remark, "the topic[%DLQ%CG_back] pulling message is forbidden");
    set_topic_perm(&c, &addr, "%DLQ%CG_back", 6);
    let (code, _, recs) = pull_n(&c, &addr, "CG_back", "%DLQ%CG_back", 1);
    assert_eq!((code, recs.len()), (rs::SUCCESS, 1));
    assert_eq!(recs[0].body, b"payload");
    assert_eq!(recs[0].reconsume_times, 2);
    assert_eq!(get_property(&recs[0].properties, "RETRY_TOPIC"), Some("BackTopic"));
    assert_eq!(get_property(&recs[0].properties, "ORIGIN_MESSAGE_ID"), Some(orig_id.as_str()));

    // A send-back for an unknown group with auto-creation off is refused as Apache does.
    drop(cluster);
    let dir2 = TestDir::new("sendback-noauto");
    let cluster = Cluster::start(&dir2.path, &["--autoCreateSubscriptionGroup=false"]);
    let addr = cluster.broker_addr();
    send(&c, &addr, "BackTopic", "TAGS\u{1}A", "p");
    let (code, remark, _) = pull(&c, &addr, "CG_none", "BackTopic", 0);
    assert_eq!(code, rs::SUBSCRIPTION_GROUP_NOT_EXIST);
    assert!(remark.starts_with("subscription group [CG_none] does not exist"), "{remark}");
}

// ------------------------------------------------------------------ C++ client

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn push(
    ns: &str,
    topic: &str,
    group: &str,
    start: u64,
    count: u64,
    extra: &[&str],
    home: &Path,
) -> Value {
    let mut a = args(&["push", "--namesrv", ns, "--topic", topic, "--group", group]);
    a.extend(args(&["--expect-start", &start.to_string(), "--expect-count", &count.to_string()]));
    a.extend(args(&["--timeout", "150"]));
    a.extend(args(extra));
    let (code, v) = interop(&a, Duration::from_secs(240), home);
    assert_eq!(code, 0, "push {extra:?} failed: {v}");
    v
}

fn produce_with(ns: &str, topic: &str, start: u64, count: u64, extra: &[&str], home: &Path) {
    let mut a = args(&["produce", "--namesrv", ns, "--topic", topic, "--group", "PG_consume"]);
    a.extend(args(&["--count", &count.to_string(), "--start", &start.to_string()]));
    a.extend(args(extra));
    let (code, v) = interop(&a, Duration::from_secs(240), home);
    assert_eq!(code, 0, "produce failed: {v}");
    assert_eq!(v["ok"], count, "{v}");
}

fn idx_set(v: &Value) -> BTreeSet<u64> {
    v["seen_idx"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap()).collect()
}

fn queue_set(v: &Value) -> HashSet<String> {
    v["queues"].as_object().unwrap().keys().cloned().collect()
}

#[test]
fn cpp_tags_a_or_b_gets_exactly_a_and_b() {
    let dir = TestDir::new("tags");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    produce(&ns, "TagTopic", 0, 60, &dir.path);
    let v = push(&ns, "TagTopic", "CG_tags", 0, 60, &["--expression", "TagA || TagB"], &dir.path);
    // Tags cycle A, B, C: 40 of the 60 match, and no C message reaches the callback.
    assert_eq!(v["distinct"], 40, "{v}");
    assert_eq!(v["missing"], 0, "{v}");
    assert_eq!(v["unwanted"], 0, "{v}");
    assert_eq!(v["bad_count"], 0, "{v}");
    assert!(idx_set(&v).iter().all(|i| i % 3 != 2));
}

#[test]
fn cpp_orderly_keeps_per_key_order_while_a_consumer_leaves() {
    let dir = TestDir::new("orderly");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    let n = 400u64;
    produce_with(&ns, "OrderTopic", 0, n, &["--order-keys", "8"], &dir.path);
    let common = ["--orderly", "--order-keys", "8"];
    let (ns_a, home_a) = (ns.clone(), dir.path.join("a"));
    std::fs::create_dir_all(&home_a).unwrap();
    // A consumes slowly and leaves after 100 messages; B stays until the last message of
    // every key has been consumed, taking over A's queues. This takes about a minute: the C++
    // client's Rebalance::unlockAll (1.2.x) leaves the first queue of each broker out of its
    // UNLOCK_BATCH_MQ at shutdown, so B gets that queue only when A's lock expires after 60 s,
    // exactly as with Apache's broker (RebalanceLockManager).
    let leaver = std::thread::spawn(move || {
        let mut extra = common.to_vec();
        extra.extend(["--stop-after", "100", "--slow-ms", "20"]);
        push(&ns_a, "OrderTopic", "CG_order", 0, n, &extra, &home_a)
    });
    let home_b = dir.path.join("b");
    std::fs::create_dir_all(&home_b).unwrap();
    let mut extra = common.to_vec();
    extra.extend(["--until-tail", "8", "--slow-ms", "2", "--idle", "1"]);
    let b = push(&ns, "OrderTopic", "CG_order", 0, n, &extra, &home_b);
    let a = leaver.join().unwrap();
    for v in [&a, &b] {
        assert_eq!(v["order_violations"].as_array().unwrap().len(), 0, "per-key order broken: {v}");
        assert_eq!(v["bad_count"], 0, "{v}");
    }
    let union: BTreeSet<u64> = idx_set(&a).union(&idx_set(&b)).copied().collect();
    assert_eq!(union, (0..n).collect::<BTreeSet<u64>>(), "A: {a}\nB: {b}");
    assert!(a["received"].as_u64().unwrap() >= 100 && (idx_set(&a).len() as u64) < n, "{a}");
    assert!(
        queue_set(&a).intersection(&queue_set(&b)).count() > 0,
        "B must take over at least one of A's queues: A {a} B {b}"
    );
}

#[test]
fn cpp_broadcasting_gives_every_consumer_every_message() {
    let dir = TestDir::new("broadcast");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    // Create the topic (4 queues) before the consumers look up its route.
    produce(&ns, "CastTopic", 1_000_000, 4, &dir.path);
    let mut handles = Vec::new();
    let mut ready = Vec::new();
    for name in ["a", "b"] {
        let home = dir.path.join(name);
        std::fs::create_dir_all(&home).unwrap();
        let ready_file = home.join("ready");
        ready.push(ready_file.clone());
        let ns = ns.clone();
        handles.push(std::thread::spawn(move || {
            let rf = ready_file.display().to_string();
            let extra = ["--broadcast", "--ready-file", rf.as_str(), "--ready-queues", "4"];
            push(&ns, "CastTopic", "CG_cast", 0, 100, &extra, &home)
        }));
    }
    // A broadcasting consumer starts at the queue's end, so warm up until both consumers have
    // seen warm-up messages from all four queues.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut w = 1_000_100;
    while !ready.iter().all(|f| f.exists()) {
        assert!(Instant::now() < deadline, "broadcast consumers never became ready");
        produce(&ns, "CastTopic", w, 8, &dir.path);
        w += 8;
        wait_until(Duration::from_secs(2), || ready.iter().all(|f| f.exists()));
    }
    produce(&ns, "CastTopic", 0, 100, &dir.path);
    for h in handles {
        let v = h.join().unwrap();
        assert_eq!(v["distinct"], 100, "{v}");
        assert_eq!(v["missing"], 0, "{v}");
        assert_eq!(v["bad_count"], 0, "{v}");
    }
}

#[test]
fn cpp_retry_grows_reconsume_times_then_dlq_and_stops() {
    let dir = TestDir::new("retry");
    let cluster = Cluster::start(&dir.path, &["--messageDelayLevel=1s 1s 1s 1s 1s 1s"]);
    let ns = cluster.namesrv_addr();
    let c = RemotingClient::new();
    let addr = cluster.broker_addr();
    update_group(&c, &addr, serde_json::json!({"groupName": "CG_retry", "retryMaxTimes": 2}));
    produce(&ns, "RetryTopic", 0, 5, &dir.path);
    // The callback always asks for a later retry. The C API skips the rest of a pulled batch
    // once one message fails (the whole batch is sent back), so a message may miss a round in
    // the callback; what it sees must still grow 0, 1, 2 and never go past retryMaxTimes.
    let v = push(
        &ns,
        "RetryTopic",
        "CG_retry",
        0,
        5,
        &["--reconsume-later", "2", "--idle", "3"],
        &dir.path,
    );
    assert_eq!(v["bad_count"], 0, "{v}");
    let mut full = 0;
    for i in 0..5 {
        let seen: Vec<i64> = v["reconsume_by_idx"][i.to_string()]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|x| x.as_i64().unwrap())
            .collect();
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "message {i}: {seen:?} {v}");
        assert!(seen.iter().all(|r| (0..=2).contains(r)), "message {i}: {seen:?} {v}");
        full += usize::from(seen == [0, 1, 2]);
    }
    assert!(full > 0, "some message must be seen with reconsume times 0, 1, 2: {v}");
    assert!(
        wait_until(Duration::from_secs(30), || max_offset(&c, &addr, "%DLQ%CG_retry", 0) == 5),
        "every message ends in the DLQ: {v}"
    );
    // And is no longer delivered: the group, started again, gets nothing.
    let again = push(&ns, "RetryTopic", "CG_retry", 0, 0, &["--idle", "5"], &dir.path);
    assert_eq!(again["received"], 0, "{again}");
    let (code, _, _) = pull(&c, &addr, "CG_dlq_reader", "%DLQ%CG_retry", 0);
    assert_eq!(code, rs::NO_PERMISSION, "the DLQ is write-only");
    set_topic_perm(&c, &addr, "%DLQ%CG_retry", 6);
    let (code, _, recs) = pull_n(&c, &addr, "CG_dlq_reader", "%DLQ%CG_retry", 5);
    assert_eq!(code, rs::SUCCESS);
    let idx: BTreeSet<String> =
        recs.iter()
            .map(|r| {
                assert_eq!(r.reconsume_times, 3);
                assert_eq!(get_property(&r.properties, "RETRY_TOPIC"), Some("RetryTopic"));
                assert!(
                    get_property(&r.properties, "ORIGIN_MESSAGE_ID").is_some_and(|s| s.len() == 32)
                );
                assert!(String::from_utf8_lossy(&r.body).starts_with("body-"));
                get_property(&r.properties, "idx").unwrap().to_string()
            })
            .collect();
    assert_eq!(idx, (0..5).map(|i| i.to_string()).collect::<BTreeSet<_>>());
}

fn topic_total(c: &RemotingClient, addr: &str, topic: &str) -> i64 {
    (0..4).map(|q| max_offset(c, addr, topic, q)).sum()
}

#[test]
fn cpp_delayed_messages_wait_their_level_and_survive_a_restart() {
    let dir = TestDir::new("delay");
    let mut cluster = Cluster::start(&dir.path, &["--messageDelayLevel=1s 3s 10s"]);
    let ns = cluster.namesrv_addr();
    let c = RemotingClient::new();
    produce_with(&ns, "DelayTopic", 0, 10, &["--delay-level", "2"], &dir.path);
    let v = push(&ns, "DelayTopic", "CG_delay", 0, 10, &["--idle", "1"], &dir.path);
    assert_eq!((v["distinct"].as_u64(), v["duplicates"].as_u64()), (Some(10), Some(0)), "{v}");
    assert!(v["min_delay_ms"].as_i64().unwrap() >= 3000, "delivered before its 3 s delay: {v}");

    // Level 3 (10 s): the broker restarts while they wait; they arrive once, after the delay.
    produce_with(&ns, "DelayTopic", 10, 10, &["--delay-level", "3"], &dir.path);
    assert_eq!(topic_total(&c, &cluster.broker_addr(), "DelayTopic"), 10, "level 3 not yet due");
    cluster.broker.stop();
    cluster.restart_broker();
    let v = push(&ns, "DelayTopic", "CG_delay", 10, 10, &["--idle", "2"], &dir.path);
    assert_eq!(v["distinct"], 10, "{v}");
    assert_eq!((v["duplicates"].as_u64(), v["outside"].as_u64()), (Some(0), Some(0)), "{v}");
    assert!(v["min_delay_ms"].as_i64().unwrap() >= 10_000, "delivered before its delay: {v}");
    assert_eq!(topic_total(&c, &cluster.broker_addr(), "DelayTopic"), 20, "nothing re-delivered");
    let text = std::fs::read_to_string(dir.path.join("store/config/delayOffset.json")).unwrap();
    assert_eq!(text, r#"{"offsetTable":{2:10,3:10}}"#);
    let r = call(&c, &cluster.broker_addr(), RemotingCommand::request(rq::GET_ALL_DELAY_OFFSET));
    assert_eq!(r.body, text.as_bytes());
}

/// Benchmark, not a timed assertion: produce-to-callback latency of a push consumer waiting on
/// an empty queue, with long polling and in short-polling mode (BENCHMARKS.md).
#[test]
fn cpp_long_polling_latency_benchmark() {
    for (name, extra, count) in [
        ("long polling", vec![], 50u64),
        (
            "short polling 500 ms",
            vec!["--longPollingEnable=false", "--shortPollingTimeMills=500"],
            20,
        ),
    ] {
        let dir = TestDir::new("latency");
        let cluster = Cluster::start(&dir.path, &extra);
        let ns = cluster.namesrv_addr();
        let a =
            args(&["latency", "--namesrv", &ns, "--topic", "LatencyTopic", "--group", "CG_lat"]);
        let mut a = a;
        a.extend(args(&["--count", &count.to_string(), "--timeout", "120"]));
        let (code, v) = interop(&a, Duration::from_secs(200), &dir.path);
        assert_eq!(code, 0, "{v}");
        assert_eq!(v["received"], count, "every message reaches the waiting consumer: {v}");
        eprintln!(
            "BENCH produce-to-callback ({name}, {count} msgs): p50 {} ms, p90 {} ms, p99 {} ms, max {} ms, mean {} ms",
            v["p50_ms"], v["p90_ms"], v["p99_ms"], v["max_ms"], v["mean_ms"]
        );
    }
}

fn heartbeat(c: &RemotingClient, addr: &str, group: &str, model: &str, sub: &str, tags: &[&str]) {
    let body = serde_json::json!({
        "clientID": format!("client-{group}"),
        "producerDataSet": [],
        "consumerDataSet": [{
            "groupName": group,
            "consumeType": "CONSUME_PASSIVELY",
            "messageModel": model,
            "consumeFromWhere": "CONSUME_FROM_LAST_OFFSET",
            "unitMode": false,
            "subscriptionDataSet": [{
                "classFilterMode": false,
                "topic": "FilterTopic",
                "subString": sub,
                "tagsSet": tags,
                "codeSet": [],
                "subVersion": 5,
                "expressionType": "TAG"
            }]
        }]
    });
    let r = call(
        c,
        addr,
        RemotingCommand::request(rq::HEART_BEAT).with_body(body.to_string().into_bytes()),
    );
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
}

/// A pull without the SUBSCRIPTION flag: the filter comes from the group's heartbeat.
fn pull_by_heartbeat(
    c: &RemotingClient,
    addr: &str,
    group: &str,
    sub_version: i64,
) -> (i32, String, Vec<MessageRecord>) {
    let req = RemotingCommand::request(rq::PULL_MESSAGE)
        .with("consumerGroup", group)
        .with("topic", "FilterTopic")
        .with("queueId", 0)
        .with("queueOffset", 0)
        .with("maxMsgNums", 32)
        .with("sysFlag", 0)
        .with("commitOffset", 0)
        .with("suspendTimeoutMillis", 0)
        .with("subVersion", sub_version);
    let r = call(c, addr, req);
    let mut out = Vec::new();
    let mut body = &r.body[..];
    while !body.is_empty() {
        let (rec, n) = decode_record(body, true).unwrap();
        out.push(rec);
        body = &body[n..];
    }
    (r.code, r.remark.unwrap_or_default(), out)
}

#[test]
fn pull_filters_by_tag_hash_from_heartbeat_or_request_with_apache_refusals() {
    let dir = TestDir::new("filter");
    let cluster = Cluster::start(&dir.path, &[]);
    let c = RemotingClient::new();
    let addr = cluster.broker_addr();
    for (i, tag) in ["TagA", "TagB", "TagC", "TagA", "TagC", "TagB"].iter().enumerate() {
        send(&c, &addr, "FilterTopic", &format!("TAGS\u{1}{tag}"), &format!("m{i}"));
    }
    assert_eq!(pull_n(&c, &addr, "CG_all", "FilterTopic", 6).2.len(), 6);
    let tags = |recs: &[MessageRecord]| -> Vec<String> {
        recs.iter().map(|r| get_property(&r.properties, "TAGS").unwrap().to_string()).collect()
    };

    // No heartbeat yet: Apache's "group info not exist".
    let (code, remark, _) = pull_by_heartbeat(&c, &addr, "CG_hb", 0);
    assert_eq!(code, rs::SUBSCRIPTION_NOT_EXIST);
    assert!(remark.starts_with("the consumer's group info not exist"), "{remark}");

    // The heartbeat's "TagA || TagB" filters by the consume queue's tag hash.
    heartbeat(&c, &addr, "CG_hb", "CLUSTERING", "TagA || TagB", &["TagA", "TagB"]);
    let (code, _, recs) = pull_by_heartbeat(&c, &addr, "CG_hb", 5);
    assert_eq!(code, rs::SUCCESS);
    assert_eq!(tags(&recs), ["TagA", "TagB", "TagA", "TagB"]);
    // A client with a newer subscription than the broker knows is told so.
    let (code, remark, _) = pull_by_heartbeat(&c, &addr, "CG_hb", 6);
    assert_eq!(
        (code, remark.as_str()),
        (rs::SUBSCRIPTION_NOT_LATEST, "the consumer's subscription not latest")
    );

    // The request's own subscription wins when the SUBSCRIPTION flag is set.
    let req = |expr: &str, expr_type: &str| {
        RemotingCommand::request(rq::PULL_MESSAGE)
            .with("consumerGroup", "CG_hb")
            .with("topic", "FilterTopic")
            .with("queueId", 0)
            .with("queueOffset", 0)
            .with("maxMsgNums", 32)
            .with("sysFlag", pull_flag::SUBSCRIPTION)
            .with("commitOffset", 0)
            .with("suspendTimeoutMillis", 0)
            .with("subscription", expr)
            .with("expressionType", expr_type)
            .with("subVersion", 0)
    };
    let r = call(&c, &addr, req("TagC", "TAG"));
    let (rec1, n) = decode_record(&r.body, true).unwrap();
    let (rec2, _) = decode_record(&r.body[n..], true).unwrap();
    assert_eq!((rec1.body, rec2.body), (b"m2".to_vec(), b"m4".to_vec()));
    let r = call(&c, &addr, req("a > 1", "SQL92"));
    assert_eq!(r.code, rs::SYSTEM_ERROR);
    assert_eq!(
        r.remark.as_deref(),
        Some("The broker does not support consumer to filter message by SQL92")
    );

    // consumeBroadcastEnable=false refuses broadcasting consumers (heartbeat-based pulls).
    update_group(
        &c,
        &addr,
        serde_json::json!({"groupName": "CG_cast_off", "consumeBroadcastEnable": false}),
    );
    heartbeat(&c, &addr, "CG_cast_off", "BROADCASTING", "*", &[]);
    let (code, remark, _) = pull_by_heartbeat(&c, &addr, "CG_cast_off", 0);
    assert_eq!(code, rs::NO_PERMISSION);
    assert_eq!(remark, "the consumer group[CG_cast_off] can not consume by broadcast way");
}
