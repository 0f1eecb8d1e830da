//! Operator side of issue 4: rmq-admin against a live broker, consumer lag from
//! GET_CONSUME_STATS, connection lists, broker config get/update with -c persistence,
//! GET_CONSUMER_RUNNING_INFO passthrough, and expiry of silent clients.

use crate::proto::{self, T};
use crate::util::{wait_until, Cluster, TestDir};
use rmq::protocol::admin_body::{ConsumeStats, ConsumerConnection, TopicStatsTable};
use rmq::protocol::codes::{request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::remoting::RemotingClient;
use std::collections::HashMap;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const ADMIN_BIN: &str = env!("CARGO_BIN_EXE_rmq-admin");

/// Run rmq-admin; returns (exit code, stdout, stderr).
fn admin(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(ADMIN_BIN).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn admin_ok(args: &[&str]) -> String {
    let (code, out, err) = admin(args);
    assert_eq!(code, 0, "rmq-admin {args:?} failed: {err}\n{out}");
    out
}

#[test]
fn admin_cli_lag_connections_and_config_against_a_live_broker() {
    let dir = TestDir::new("admin-cli");
    let conf = dir.path.join("broker.conf");
    std::fs::write(&conf, "brokerClusterName=AdminCluster\n# operator comment\n").unwrap();
    let mut cluster = Cluster::start(&dir.path, &["-c", conf.to_str().unwrap()]);
    let ns = cluster.namesrv_addr();
    let addr = cluster.broker_addr();
    let c = RemotingClient::new();
    let topic = "AdminTopic";

    // Usage errors exit 2, unreachable servers exit 1.
    assert_eq!(admin(&[]).0, 2);
    assert_eq!(admin(&["noSuchCommand", "-n", &ns]).0, 2);
    assert_eq!(admin(&["topicRoute", "-n", &ns]).0, 2, "missing -t is a usage error");
    assert_eq!(admin(&["topicList", "-n", "127.0.0.1:1"]).0, 1);
    assert!(admin_ok(&["--help"]).contains("consumerProgress"));

    let out = admin_ok(&[
        "updateTopic",
        "-n",
        &ns,
        "-c",
        "AdminCluster",
        "-t",
        topic,
        "-r",
        "4",
        "-w",
        "4",
    ]);
    assert!(out.contains("success") && out.contains(&addr), "{out}");
    assert!(
        wait_until(Duration::from_secs(20), || admin(&["topicList", "-n", &ns])
            .1
            .lines()
            .any(|l| l == topic)),
        "the new topic must reach the name server"
    );
    let route = admin_ok(&["topicRoute", "-n", &ns, "-t", topic]);
    assert!(
        route.lines().any(|l| l.starts_with("broker-a") && l.contains(&addr))
            && route
                .lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["broker-a", "4", "4", "6"]),
        "{route}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&admin_ok(&["topicRoute", "-n", &ns, "-t", topic, "--json"])).unwrap();
    assert_eq!(json["queues"][0]["readQueueNums"], 4, "{json}");
    assert_eq!(json["brokers"][0]["addr"], addr.as_str(), "{json}");
    let clusters = admin_ok(&["clusterList", "-n", &ns]);
    assert!(
        clusters
            .lines()
            .any(|l| l.starts_with("AdminCluster") && l.contains("broker-a") && l.contains(&addr)),
        "{clusters}"
    );
    assert!(admin_ok(&["brokerStatus", "-b", &addr]).contains("brokerVersionDesc"));

    // Produce 25 messages to each of the 4 queues.
    let mut first_id = String::new();
    for i in 0..100 {
        let (_, _, id) = proto::send_ok(&c, &addr, topic, i % 4, &format!("admin-{i}"));
        if i == 0 {
            first_id = id;
        }
    }
    let topic_stats = || {
        let req = RemotingCommand::request(rq::GET_TOPIC_STATS_INFO).with("topic", topic);
        TopicStatsTable::decode(&c.invoke(&addr, req, T).unwrap().body).unwrap()
    };
    // The consume queues are built by the dispatch thread, shortly after SEND_OK.
    assert!(wait_until(Duration::from_secs(10), || topic_stats()
        .offset_table
        .values()
        .all(|o| o.max_offset == 25)));
    let stats = topic_stats();
    assert_eq!(stats.offset_table.len(), 4);
    assert!(stats
        .offset_table
        .values()
        .all(|o| o.max_offset == 25 && o.min_offset == 0 && o.last_update_timestamp > 0));
    let status = admin_ok(&["topicStatus", "-n", &ns, "-t", topic]);
    assert_eq!(
        status.lines().filter(|l| l.starts_with("broker-a") && l.contains(" 25 ")).count(),
        4,
        "{status}"
    );

    // Consume: queue q gets 5*q messages pulled and committed (0, 5, 10, 15 = 30 of 100).
    let group = "CG_lag";
    for q in 0..4 {
        let want = 5 * q as i64;
        let mut offset = 0;
        while offset < want {
            let (msgs, _) = proto::pull(&c, &addr, group, topic, q, offset, (want - offset) as i32)
                .unwrap()
                .unwrap();
            offset += msgs.len() as i64;
        }
        proto::commit_offset(&c, &addr, group, topic, q, offset);
    }
    let req = RemotingCommand::request(rq::GET_CONSUME_STATS)
        .with("consumerGroup", group)
        .with("topic", topic);
    let r = c.invoke(&addr, req, T).unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    assert!(
        r.body.starts_with(b"{\"consumeTps\":"),
        "fastjson shape: {}",
        String::from_utf8_lossy(&r.body)
    );
    let cs = ConsumeStats::decode(&r.body).unwrap();
    assert_eq!(cs.offset_table.len(), 4);
    for (mq, o) in &cs.offset_table {
        assert_eq!((mq.topic.as_str(), mq.broker_name.as_str()), (topic, "broker-a"));
        assert_eq!(o.broker_offset, 25);
        assert_eq!(o.consumer_offset, 5 * mq.queue_id as i64);
        assert_eq!(o.lag(), 25 - 5 * mq.queue_id as i64, "lag = produced - consumed on {mq:?}");
        assert_eq!(o.last_timestamp > 0, mq.queue_id > 0);
    }
    assert_eq!(cs.total_lag(), 70);
    // Without a topic: every topic the group has offsets for (here just the one).
    let stats = || {
        let req = RemotingCommand::request(rq::GET_CONSUME_STATS).with("consumerGroup", group);
        ConsumeStats::decode(&c.invoke(&addr, req, T).unwrap().body).unwrap()
    };
    assert_eq!(stats().offset_table, cs.offset_table);
    // consumeTps: the 30 messages pulled, over the time since (sampled once a second).
    assert!(
        wait_until(Duration::from_secs(5), || stats().consume_tps > 0.0),
        "consumeTps stays 0 after pulls"
    );
    assert!(stats().consume_tps <= 30.0 * 1000.0, "{}", stats().consume_tps);
    let progress = admin_ok(&["consumerProgress", "-n", &ns, "-g", group]);
    assert!(progress.contains("Diff Total: 70"), "{progress}");
    assert!(
        progress.lines().any(|l| l.starts_with(topic) && l.contains(" 25 ") && l.contains(" 15 ")),
        "{progress}"
    );

    // Reset by time: to the beginning (only backwards), then forced to now (nothing left).
    let out = admin_ok(&["resetOffsetByTime", "-n", &ns, "-g", group, "-t", topic, "-s", "0"]);
    assert_eq!(out.lines().filter(|l| l.starts_with("broker-a")).count(), 4, "{out}");
    let lag = || {
        let req = RemotingCommand::request(rq::GET_CONSUME_STATS)
            .with("consumerGroup", group)
            .with("topic", topic);
        ConsumeStats::decode(&c.invoke(&addr, req, T).unwrap().body).unwrap().total_lag()
    };
    assert_eq!(lag(), 100);
    admin_ok(&["resetOffsetByTime", "-n", &ns, "-g", group, "-t", topic, "-s", "now"]);
    assert_eq!(lag(), 100, "not forced: offsets only move backwards");
    admin_ok(&[
        "resetOffsetByTime",
        "-n",
        &ns,
        "-g",
        group,
        "-t",
        topic,
        "-s",
        "now",
        "-f",
        "true",
    ]);
    assert_eq!(lag(), 0);
    assert_eq!(
        admin(&["resetOffsetByTime", "-n", &ns, "-g", group, "-t", topic, "-s", "soon"]).0,
        2
    );

    // Connections: one consumer and producer heartbeat.
    proto::heartbeat(&c, &addr, "127.0.0.1@admin-test", group, topic, Some("PG_admin"));
    let r = c
        .invoke(
            &addr,
            RemotingCommand::request(rq::GET_CONSUMER_CONNECTION_LIST).with("consumerGroup", group),
            T,
        )
        .unwrap();
    let cc: ConsumerConnection = rmq::protocol::json::from_fastjson(&r.body).unwrap();
    assert_eq!(cc.connection_set.len(), 1);
    assert_eq!(cc.connection_set[0].client_id, "127.0.0.1@admin-test");
    assert_eq!(
        (cc.message_model.as_str(), cc.consume_type.as_str()),
        ("CLUSTERING", "CONSUME_PASSIVELY")
    );
    assert!(cc.subscription_table.contains_key(topic));
    let out = admin_ok(&["consumerConnection", "-n", &ns, "-g", group]);
    assert!(
        out.contains("127.0.0.1@admin-test")
            && out.contains("MessageModel: CLUSTERING")
            && out.contains(topic),
        "{out}"
    );
    let out = admin_ok(&["producerConnection", "-n", &ns, "-g", "PG_admin"]);
    assert!(out.contains("127.0.0.1@admin-test"), "{out}");
    let (code, _, err) = admin(&["consumerConnection", "-n", &ns, "-g", "CG_nobody"]);
    assert_eq!(code, 1, "an offline group is a failure: {err}");
    assert!(err.contains("not online"), "{err}");

    // Message by id.
    let out = admin_ok(&["queryMsgById", "-n", &ns, "-i", &first_id]);
    assert!(
        out.contains("Topic:")
            && out.contains(topic)
            && out.contains("admin-0")
            && out.contains("[tagA]"),
        "{out}"
    );

    // Broker config: get, update a live key, persisted to the -c file; black-listed key refused.
    let cfg = admin_ok(&["getBrokerConfig", "-b", &addr]);
    assert!(
        cfg.lines().any(|l| l.starts_with("brokerClusterName") && l.ends_with("AdminCluster")),
        "{cfg}"
    );
    let r = c.invoke(&addr, RemotingCommand::request(rq::GET_BROKER_CONFIG), T).unwrap();
    assert!(r.field("version").unwrap().contains("counter"));
    let out = admin_ok(&[
        "updateBrokerConfig",
        "-c",
        "AdminCluster",
        "-n",
        &ns,
        "-k",
        "channelExpiredTimeout",
        "-v",
        "60000",
    ]);
    assert!(out.contains("success"), "{out}");
    assert!(admin_ok(&["getBrokerConfig", "-b", &addr])
        .lines()
        .any(|l| l.starts_with("channelExpiredTimeout") && l.ends_with("60000")));
    let file = std::fs::read_to_string(&conf).unwrap();
    assert!(
        file.contains("channelExpiredTimeout=60000\n")
            && file.contains("brokerClusterName=AdminCluster\n"),
        "{file}"
    );
    let (code, _, err) =
        admin(&["updateBrokerConfig", "-b", &addr, "-k", "brokerConfigPath", "-v", "/tmp/x"]);
    assert_eq!(code, 1);
    assert!(err.contains("black list"), "{err}");
    let (code, _, err) =
        admin(&["updateBrokerConfig", "-b", &addr, "-k", "brokerPermission", "-v", "many"]);
    assert_eq!(code, 1, "a bad value is refused: {err}");

    // Read-only broker: the name server's route shows the reduced permission at once.
    admin_ok(&["updateBrokerConfig", "-b", &addr, "-k", "brokerPermission", "-v", "4"]);
    assert!(wait_until(Duration::from_secs(20), || {
        proto::route(&c, &ns, topic).is_some_and(|r| r.queue_datas.iter().all(|q| q.perm == 4))
    }));
    let r = proto::send_raw(&c, &addr, topic, 0, "refused", T).unwrap();
    assert_ne!(r.code, rs::SUCCESS, "a read-only broker refuses sends: {:?}", r.remark);
    admin_ok(&["updateBrokerConfig", "-b", &addr, "-k", "brokerPermission", "-v", "6"]);

    // Delete: gone from the broker and the name server.
    let out = admin_ok(&["deleteTopic", "-n", &ns, "-c", "AdminCluster", "-t", topic]);
    assert!(out.contains("from broker") && out.contains("from name server"), "{out}");
    assert!(!admin_ok(&["topicList", "-n", &ns]).lines().any(|l| l == topic));
    let r = c
        .invoke(&addr, RemotingCommand::request(rq::GET_TOPIC_STATS_INFO).with("topic", topic), T)
        .unwrap();
    assert_eq!(r.code, rs::TOPIC_NOT_EXIST);

    // The rewritten -c file starts the broker again, with the updated value.
    cluster.broker.stop();
    cluster.restart_broker();
    let cfg = admin_ok(&["getBrokerConfig", "-b", &cluster.broker_addr()]);
    assert!(
        cfg.lines().any(|l| l.starts_with("channelExpiredTimeout") && l.ends_with("60000")),
        "{cfg}"
    );
}

/// A client that answers broker requests: NOTIFY_CONSUMER_IDS_CHANGED is counted,
/// GET_CONSUMER_RUNNING_INFO gets a fixed body naming the client.
fn answering_client(name: &'static str, notified: Arc<AtomicUsize>) -> RemotingClient {
    let c = RemotingClient::new();
    c.set_request_handler(Arc::new(move |_conn, cmd: RemotingCommand| match cmd.code {
        rq::NOTIFY_CONSUMER_IDS_CHANGED => {
            notified.fetch_add(1, Ordering::SeqCst);
            None
        }
        rq::GET_CONSUMER_RUNNING_INFO => Some(
            RemotingCommand::success().with_body(
                format!(
                    "{{\"properties\":{{\"client\":\"{name}\",\"jstack\":\"{}\"}}}}",
                    cmd.field("jstackEnable").unwrap_or("")
                )
                .into_bytes(),
            ),
        ),
        _ => None,
    }));
    c
}

#[test]
fn silent_clients_expire_the_group_is_notified_and_running_info_is_forwarded() {
    let dir = TestDir::new("admin-expire");
    let cluster = Cluster::start(
        &dir.path,
        &["--channelExpiredTimeout=3000", "--clientHousekeepingInterval=200"],
    );
    let addr = cluster.broker_addr();
    let group = "CG_expire";
    let (na, nb) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let a = Arc::new(answering_client("A", na.clone()));
    let b = answering_client("B", nb.clone());
    proto::heartbeat(&a, &addr, "client-A", group, "ExpireTopic", None);
    proto::heartbeat(&b, &addr, "client-B", group, "ExpireTopic", None);
    let ids = |c: &RemotingClient| {
        let r = c
            .invoke(
                &addr,
                RemotingCommand::request(rq::GET_CONSUMER_LIST_BY_GROUP)
                    .with("consumerGroup", group),
                T,
            )
            .unwrap();
        String::from_utf8_lossy(&r.body).into_owned()
    };
    assert!(ids(&a).contains("client-A") && ids(&a).contains("client-B"));
    // B joining told A to rebalance.
    assert!(wait_until(Duration::from_secs(5), || na.load(Ordering::SeqCst) >= 1));

    // Running info is forwarded to the named client and its answer comes back unchanged.
    let req = RemotingCommand::request(rq::GET_CONSUMER_RUNNING_INFO)
        .with("consumerGroup", group)
        .with("clientId", "client-B")
        .with("jstackEnable", true);
    let r = a.invoke(&addr, req, Duration::from_secs(15)).unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    assert_eq!(
        String::from_utf8_lossy(&r.body),
        r#"{"properties":{"client":"B","jstack":"true"}}"#
    );
    let req = RemotingCommand::request(rq::GET_CONSUMER_RUNNING_INFO)
        .with("consumerGroup", group)
        .with("clientId", "client-Z");
    let r = a.invoke(&addr, req, T).unwrap();
    assert_eq!(r.code, rs::SYSTEM_ERROR);
    assert!(r.remark.unwrap().contains("not online"));

    let b_conn = b.connection(&addr).unwrap();
    // A keeps heart-beating; B falls silent (its connection stays open) and is dropped.
    let before = na.load(Ordering::SeqCst);
    let stop = Arc::new(AtomicBool::new(false));
    let (a2, s2, addr2) = (a.clone(), stop.clone(), addr.clone());
    let beat = std::thread::spawn(move || {
        while !s2.load(Ordering::SeqCst) {
            proto::heartbeat(&a2, &addr2, "client-A", group, "ExpireTopic", None);
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    assert!(
        wait_until(Duration::from_secs(20), || !ids(&a).contains("client-B")),
        "the silent client must be dropped"
    );
    assert!(ids(&a).contains("client-A"), "the live client stays");
    assert!(
        wait_until(Duration::from_secs(5), || na.load(Ordering::SeqCst) > before),
        "the remaining member is told to rebalance"
    );
    assert!(
        wait_until(Duration::from_secs(5), || b_conn.is_closed()),
        "the broker closes the expired client's connection"
    );
    stop.store(true, Ordering::SeqCst);
    beat.join().unwrap();
}

#[test]
fn cpp_consumer_lag_is_produced_minus_consumed() {
    let dir = TestDir::new("admin-lag-cpp");
    let cluster = Cluster::start(&dir.path, &[]);
    let (ns, addr) = (cluster.namesrv_addr(), cluster.broker_addr());
    let c = RemotingClient::new();
    let (topic, group) = ("LagTopic", "CG_lag_cpp");
    proto::create_topic(&c, &addr, topic, 4);
    // Apache's C++ client: produce 400, consume them all with a push consumer (shut down once
    // its periodic commit reached the broker), then produce 150 more that nobody consumes.
    crate::interop::produce(&ns, topic, 0, 400, &dir.path);
    let (code, v) =
        crate::interop::push_until_committed(&ns, &addr, topic, 4, group, 0, 400, &dir.path);
    assert_eq!(code, 0, "push consume failed: {v}");
    crate::interop::produce(&ns, topic, 400, 150, &dir.path);
    let stats = || {
        let req = RemotingCommand::request(rq::GET_CONSUME_STATS)
            .with("consumerGroup", group)
            .with("topic", topic);
        ConsumeStats::decode(&c.invoke(&addr, req, T).unwrap().body).unwrap()
    };
    assert!(
        wait_until(Duration::from_secs(10), || stats()
            .offset_table
            .values()
            .map(|o| o.broker_offset)
            .sum::<i64>()
            == 550),
        "every produced message is counted"
    );
    let s = stats();
    assert_eq!(s.offset_table.values().map(|o| o.consumer_offset).sum::<i64>(), 400);
    assert_eq!(s.total_lag(), 150, "lag = produced - consumed: {s:?}");
    let progress = admin_ok(&["consumerProgress", "-n", &ns, "-g", group, "-t", topic]);
    assert!(progress.contains("Diff Total: 150"), "{progress}");
}

#[test]
fn reset_offset_is_pushed_to_running_consumers_in_their_own_body_form() {
    let dir = TestDir::new("admin-reset");
    let cluster = Cluster::start(&dir.path, &[]);
    let (ns, addr) = (cluster.namesrv_addr(), cluster.broker_addr());
    let (topic, group) = ("ResetTopic", "CG_reset");
    let c = RemotingClient::new();
    proto::create_topic(&c, &addr, topic, 2);
    for i in 0..10 {
        proto::send_ok(&c, &addr, topic, i % 2, &format!("r{i}"));
    }
    proto::commit_offset(&c, &addr, group, topic, 0, 5);
    proto::commit_offset(&c, &addr, group, topic, 1, 3);
    // Two running consumers: one says it is C++, the other is not.
    let got: Arc<std::sync::Mutex<Vec<(String, String, String)>>> = Arc::default();
    let consumer = |name: &'static str| {
        let cl = RemotingClient::new();
        let got = got.clone();
        cl.set_request_handler(Arc::new(move |_conn, cmd: RemotingCommand| {
            if cmd.code == rq::RESET_CONSUMER_CLIENT_OFFSET {
                let body = String::from_utf8_lossy(&cmd.body).into_owned();
                let ts = cmd.field("timestamp").unwrap_or("").to_string();
                got.lock().unwrap().push((name.to_string(), ts, body));
            }
            None
        }));
        cl
    };
    let (cpp, other) = (consumer("cpp"), consumer("other"));
    proto::heartbeat_as(&cpp, &addr, "client-cpp", group, topic, None, Some("CPP"));
    proto::heartbeat_as(&other, &addr, "client-java", group, topic, None, Some("JAVA"));

    let out = admin_ok(&["resetOffsetByTime", "-n", &ns, "-g", group, "-t", topic, "-s", "0"]);
    assert!(out.contains("pushed to the running consumers"), "{out}");
    assert!(wait_until(Duration::from_secs(5), || got.lock().unwrap().len() == 2));
    let mut got = got.lock().unwrap().clone();
    got.sort();
    assert_eq!(got[0].0, "cpp");
    assert_eq!(got[0].1, "0");
    let c_form: serde_json::Value = serde_json::from_str(&got[0].2).unwrap();
    let list = c_form["offsetTable"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(list
        .iter()
        .all(|e| e["offset"] == 0 && e["topic"] == topic && e["brokerName"] == "broker-a"));
    assert_eq!(got[1].0, "other");
    let java_form =
        rmq::protocol::admin_body::ResetOffsetBody::decode(got[1].2.as_bytes()).unwrap();
    assert_eq!(java_form.offset_table.values().copied().collect::<Vec<_>>(), vec![0, 0]);
    assert!(got[1].2.starts_with("{\"offsetTable\":{{"), "object-key form: {}", got[1].2);

    // Not forced and later than the committed offsets: nothing moves forward.
    let req = RemotingCommand::request(rq::INVOKE_BROKER_TO_RESET_OFFSET)
        .with("topic", topic)
        .with("group", group)
        .with("timestamp", -1)
        .with("isForce", false);
    let r = c.invoke(&addr, req, T).unwrap();
    assert_eq!(r.code, rs::SUCCESS);
    let body = rmq::protocol::admin_body::ResetOffsetBody::decode(&r.body).unwrap();
    assert_eq!(body.offset_table.values().copied().collect::<Vec<_>>(), vec![5, 3]);
    // An unknown group has no offsets: SYSTEM_ERROR, as Apache.
    let req = RemotingCommand::request(rq::INVOKE_BROKER_TO_RESET_OFFSET)
        .with("topic", topic)
        .with("group", "CG_none")
        .with("timestamp", 0)
        .with("isForce", true);
    assert_eq!(c.invoke(&addr, req, T).unwrap().code, rs::SYSTEM_ERROR);
}

#[test]
fn cpp_consumer_rewinds_when_its_offsets_are_reset_while_running() {
    use crate::multi::Driver;
    let dir = TestDir::new("admin-reset-cpp");
    let cluster = Cluster::start(&dir.path, &[]);
    let (ns, addr) = (cluster.namesrv_addr(), cluster.broker_addr());
    let (topic, group) = ("ResetCppTopic", "CG_reset_cpp");
    let c = RemotingClient::new();
    proto::create_topic(&c, &addr, topic, 4);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let mut producer = Driver::start(
        &s(&[
            "produce",
            "--namesrv",
            &ns,
            "--topic",
            topic,
            "--group",
            "PG_reset_cpp",
            "--count",
            "200",
        ]),
        &dir.path,
    );
    let (code, v) = producer.finish(Duration::from_secs(120));
    assert_eq!((code, v["ok"].as_u64()), (0, Some(200)), "{v}");
    let stop = dir.path.join("stop");
    let mut consumer = Driver::start(
        &s(&[
            "consume",
            "--namesrv",
            &ns,
            "--topic",
            topic,
            "--group",
            group,
            "--stop-file",
            stop.to_str().unwrap(),
            "--timeout",
            "120",
        ]),
        &dir.path,
    );
    let deliveries = |d: &Driver| {
        let mut m: HashMap<u64, usize> = HashMap::new();
        for l in d.lines.lock().unwrap().iter() {
            if let Some(i) = l.strip_prefix("GOT ").and_then(|x| x.parse().ok()) {
                *m.entry(i).or_default() += 1;
            }
        }
        m
    };
    let committed = || {
        let req = RemotingCommand::request(rq::GET_CONSUME_STATS)
            .with("consumerGroup", group)
            .with("topic", topic);
        let s = ConsumeStats::decode(&c.invoke(&addr, req, T).unwrap().body).unwrap();
        s.offset_table.values().map(|o| o.consumer_offset).sum::<i64>()
    };
    assert!(
        wait_until(Duration::from_secs(60), || deliveries(&consumer).len() == 200),
        "first pass"
    );
    // The C++ client commits its offsets every 5 s; the reset only moves backwards.
    assert!(wait_until(Duration::from_secs(30), || committed() == 200), "offsets committed");
    let out = admin_ok(&["resetOffsetByTime", "-n", &ns, "-g", group, "-t", topic, "-s", "0"]);
    assert!(out.contains("pushed to the running consumers"), "{out}");
    assert!(
        wait_until(Duration::from_secs(60), || {
            let d = deliveries(&consumer);
            d.len() == 200 && d.values().all(|n| *n >= 2)
        }),
        "after the reset the running C++ consumer gets every message again: {} of 200 twice",
        deliveries(&consumer).values().filter(|n| **n >= 2).count()
    );
    std::fs::write(&stop, b"").unwrap();
    let (code, v) = consumer.finish(Duration::from_secs(60));
    assert_eq!(code, 0, "{v}");
}
