//! Several brokers (issue 4): two brokers of one cluster and a broker of a second cluster, all
//! registered to two name servers; a topic on both brokers of the first cluster; a producer and a
//! consumer (protocol level, routing from the name servers as clients do, with fault avoidance)
//! keep going when one broker is killed with SIGKILL, and everything SEND_OK'd to the survivor
//! is consumed.

use crate::proto;
use crate::util::{wait_until, Proc, TestDir, BROKER_BIN, NAMESRV_BIN};
use rmq::protocol::admin_body::ConsumerConnection;
use rmq::protocol::body::TopicRouteData;
use rmq::protocol::codes::{request as rq, response as rs};
use rmq::protocol::command::RemotingCommand;
use rmq::remoting::RemotingClient;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOPIC: &str = "MultiTopic";

fn namesrv(dir: &Path, name: &str) -> Proc {
    Proc::start(
        NAMESRV_BIN,
        &[
            "--listenPort=0".to_string(),
            "--bindAddress=127.0.0.1".to_string(),
            format!("--kvConfigPath={}", dir.join(format!("{name}-kv.json")).display()),
        ],
        dir.join(format!("{name}.log")),
        1,
    )
}

fn broker(dir: &Path, name: &str, cluster: &str, ns: &str) -> Proc {
    broker_log(dir, name, cluster, ns, "")
}

/// The same broker (same store) started again, logging to a second file.
fn broker_again(dir: &Path, name: &str, cluster: &str, ns: &str) -> Proc {
    broker_log(dir, name, cluster, ns, "-again")
}

fn broker_log(dir: &Path, name: &str, cluster: &str, ns: &str, suffix: &str) -> Proc {
    Proc::start(
        BROKER_BIN,
        &[
            "-n".to_string(),
            ns.to_string(),
            "--listenPort=0".to_string(),
            "--bindAddress=127.0.0.1".to_string(),
            "--brokerIP1=127.0.0.1".to_string(),
            format!("--storePathRootDir={}", dir.join(format!("store-{name}")).display()),
            format!("--brokerName={name}"),
            format!("--brokerClusterName={cluster}"),
        ]
        .into_iter()
        .chain(crate::util::small_store_args())
        .collect::<Vec<_>>(),
        dir.join(format!("broker-{name}{suffix}.log")),
        1,
    )
}

/// Writable (broker name, master address, queue id) of a route, in a stable order.
fn queues(r: &TopicRouteData) -> Vec<(String, String, i32)> {
    let mut out = Vec::new();
    for q in &r.queue_datas {
        let Some(b) = r.broker_datas.iter().find(|b| b.broker_name == q.broker_name) else {
            continue;
        };
        let Some(addr) = b.broker_addrs.get(&0) else { continue };
        for id in 0..q.write_queue_nums {
            out.push((q.broker_name.clone(), addr.clone(), id));
        }
    }
    out.sort();
    out
}

type Msgs = Arc<Mutex<BTreeMap<(String, i32, i64), String>>>;

#[test]
fn two_brokers_two_name_servers_survive_a_kill9_and_two_clusters_show() {
    let dir = TestDir::new("multi");
    let (ns1, ns2) = (namesrv(&dir.path, "ns1"), namesrv(&dir.path, "ns2"));
    let nss = [ns1.addr("listen"), ns2.addr("listen")];
    let ns_list = nss.join(";");
    let mut a = broker(&dir.path, "a", "C1", &ns_list);
    let b = broker(&dir.path, "b", "C1", &ns_list);
    let _c = broker(&dir.path, "c", "C2", &ns_list);
    let admin = RemotingClient::new();
    proto::create_topic(&admin, &a.addr("listen"), TOPIC, 4);
    proto::create_topic(&admin, &b.addr("listen"), TOPIC, 4);

    // Both name servers know both clusters and route the topic to both brokers.
    for ns in &nss {
        let info = proto::cluster_info(&admin, ns);
        let c1: Vec<_> = info.cluster_addr_table["C1"].iter().cloned().collect();
        let c2: Vec<_> = info.cluster_addr_table["C2"].iter().cloned().collect();
        assert_eq!((c1, c2), (vec!["a".to_string(), "b".to_string()], vec!["c".to_string()]));
        assert!(wait_until(Duration::from_secs(20), || {
            proto::route(&admin, ns, TOPIC).is_some_and(|r| queues(&r).len() == 8)
        }));
    }

    let stop_producer = Arc::new(AtomicBool::new(false));
    let stop_consumer = Arc::new(AtomicBool::new(false));
    let acked: Msgs = Arc::default();
    let consumed: Msgs = Arc::default();

    // Producer: route from the name servers (refreshed every 500 ms, alternating), round robin
    // over the writable queues, a failed broker avoided for 2 s and the send retried elsewhere.
    let producer = {
        let (stop, acked, nss) = (stop_producer.clone(), acked.clone(), nss.clone());
        std::thread::spawn(move || {
            let c = RemotingClient::new();
            let mut avoid: HashMap<String, Instant> = HashMap::new();
            let mut route = Vec::new();
            let mut refreshed = Instant::now() - Duration::from_secs(1);
            let (mut seq, mut n_ns, mut failures) = (0u64, 0usize, 0u64);
            while !stop.load(Ordering::Relaxed) {
                if refreshed.elapsed() > Duration::from_millis(500) || route.is_empty() {
                    n_ns += 1;
                    if let Some(r) = proto::route(&c, &nss[n_ns % 2], TOPIC) {
                        route = queues(&r);
                    }
                    refreshed = Instant::now();
                }
                let body = format!("m-{seq}");
                seq += 1;
                for attempt in 0..3u64 {
                    let now = Instant::now();
                    let live: Vec<_> = route
                        .iter()
                        .filter(|(name, _, _)| avoid.get(name).is_none_or(|until| *until < now))
                        .collect();
                    let Some((name, addr, q)) =
                        live.get(((seq + attempt) as usize) % live.len().max(1))
                    else {
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    };
                    match proto::send_raw(&c, addr, TOPIC, *q, &body, Duration::from_secs(3)) {
                        Ok(r) if r.code == rs::SUCCESS => {
                            let off = r.i64_field("queueOffset").unwrap();
                            let qid = r.i32_field("queueId").unwrap();
                            acked.lock().unwrap().insert((name.clone(), qid, off), body.clone());
                            break;
                        }
                        _ => {
                            failures += 1;
                            avoid.insert(name.clone(), now + Duration::from_secs(2));
                        }
                    }
                }
            }
            failures
        })
    };

    // Consumer: pulls every queue of the route it last saw, from where it left off.
    let consumer = {
        let (stop, consumed, ns) = (stop_consumer.clone(), consumed.clone(), nss[1].clone());
        std::thread::spawn(move || {
            let c = RemotingClient::new();
            let mut next: HashMap<(String, i32), i64> = HashMap::new();
            let mut route = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if let Some(r) = proto::route(&c, &ns, TOPIC) {
                    route = queues(&r);
                }
                let mut got = 0;
                for (name, addr, q) in &route {
                    let off = next.get(&(name.clone(), *q)).copied().unwrap_or(0);
                    if let Ok(Some((msgs, n))) =
                        proto::pull(&c, addr, "CG_multi", TOPIC, *q, off, 32)
                    {
                        got += msgs.len();
                        let mut m = consumed.lock().unwrap();
                        for (o, body) in msgs {
                            m.insert((name.clone(), *q, o), body);
                        }
                        next.insert((name.clone(), *q), n);
                    }
                }
                if got == 0 {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        })
    };

    let count = |m: &Msgs, name: &str| m.lock().unwrap().keys().filter(|k| k.0 == name).count();
    assert!(
        wait_until(Duration::from_secs(30), || count(&acked, "a") >= 300
            && count(&acked, "b") >= 300),
        "the producer must use both brokers"
    );
    a.kill9();
    let b_at_kill = count(&acked, "b");
    // The name servers drop the dead broker's routes (its connections closed).
    for ns in &nss {
        assert!(wait_until(Duration::from_secs(30), || {
            proto::route(&admin, ns, TOPIC).is_some_and(|r| queues(&r).iter().all(|q| q.0 == "b"))
        }));
        let info = proto::cluster_info(&admin, ns);
        assert_eq!(info.cluster_addr_table["C1"], BTreeSet::from(["b".to_string()]));
    }
    assert!(
        wait_until(Duration::from_secs(30), || count(&acked, "b") >= b_at_kill + 500),
        "the producer keeps sending to the survivor without a restart"
    );
    stop_producer.store(true, Ordering::Relaxed);
    let failures = producer.join().unwrap();
    let acked_b: BTreeMap<_, _> = acked
        .lock()
        .unwrap()
        .iter()
        .filter(|(k, _)| k.0 == "b")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert!(
        wait_until(Duration::from_secs(30), || {
            let c = consumed.lock().unwrap();
            acked_b.iter().all(|(k, v)| c.get(k) == Some(v))
        }),
        "everything SEND_OK'd to the survivor is consumed"
    );
    stop_consumer.store(true, Ordering::Relaxed);
    consumer.join().unwrap();
    eprintln!(
        "acked a={} b={} (b at kill {b_at_kill}), send failures={failures}, consumed={}",
        count(&acked, "a"),
        acked_b.len(),
        consumed.lock().unwrap().len()
    );
    drop(b);
}

/// A python driver process (tests/python/multi_broker.py) whose stdout lines are collected.
pub struct Driver {
    child: std::process::Child,
    pub lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Driver {
    pub fn start(args: &[String], home: &Path) -> Driver {
        use std::io::BufRead;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/multi_broker.py");
        let mut child = std::process::Command::new(crate::interop::python())
            .arg(script)
            .args(args)
            .env("HOME", home)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::from(
                std::fs::File::create(home.join(format!("{}.stderr", args[0]))).unwrap(),
            ))
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let l2 = lines.clone();
        let reader = std::thread::spawn(move || {
            for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                l2.lock().unwrap().push(l);
            }
        });
        Driver { child, lines, reader: Some(reader) }
    }

    /// Wait for exit; returns (exit code, last JSON line).
    pub fn finish(&mut self, timeout: Duration) -> (i32, serde_json::Value) {
        let end = Instant::now() + timeout;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < end, "multi_broker.py did not finish in {timeout:?}");
            std::thread::sleep(Duration::from_millis(50));
        };
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        let lines = self.lines.lock().unwrap();
        let last = lines.iter().rev().find(|l| l.starts_with('{')).cloned().unwrap_or_default();
        (
            status.code().unwrap_or(-1),
            serde_json::from_str(&last).unwrap_or(serde_json::Value::Null),
        )
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn cpp_client_keeps_producing_and_consuming_when_one_of_two_brokers_is_killed() {
    let dir = TestDir::new("multi-cpp");
    let (ns1, ns2) = (namesrv(&dir.path, "ns1"), namesrv(&dir.path, "ns2"));
    let nss = [ns1.addr("listen"), ns2.addr("listen")];
    let ns_list = nss.join(";");
    let mut a = broker(&dir.path, "a", "C1", &ns_list);
    let b = broker(&dir.path, "b", "C1", &ns_list);
    let (a_addr, b_addr) = (a.addr("listen"), b.addr("listen"));
    let admin = RemotingClient::new();
    proto::create_topic(&admin, &a_addr, TOPIC, 4);
    proto::create_topic(&admin, &b_addr, TOPIC, 4);
    for ns in &nss {
        assert!(wait_until(Duration::from_secs(20), || {
            proto::route(&admin, ns, TOPIC).is_some_and(|r| queues(&r).len() == 8)
        }));
    }
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let expect_file = dir.path.join("expected.txt");
    let mut consumer = Driver::start(
        &s(&[
            "consume",
            "--namesrv",
            &ns_list,
            "--topic",
            TOPIC,
            "--group",
            "CG_multi_cpp",
            "--expect-file",
            expect_file.to_str().unwrap(),
            "--timeout",
            "150",
        ]),
        &dir.path,
    );
    let mut producer = Driver::start(
        &s(&[
            "produce",
            "--namesrv",
            &ns_list,
            "--topic",
            TOPIC,
            "--group",
            "PG_multi_cpp",
            "--count",
            "1500",
            "--interval-ms",
            "4",
        ]),
        &dir.path,
    );
    // Indices of every SEND_OK so far. (The C++ SendResult's msg_id is the client's unique key,
    // not the offset id, so the broker of each message is read from the stores below.)
    let oks = |d: &Driver| -> BTreeSet<u64> {
        d.lines
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| l.strip_prefix("OK ")?.split_whitespace().next()?.parse().ok())
            .collect()
    };
    assert!(
        wait_until(Duration::from_secs(60), || oks(&producer).len() >= 300),
        "the C++ producer must get going"
    );
    a.kill9();
    let at_kill = oks(&producer);
    let (code, summary) = producer.finish(Duration::from_secs(150));
    assert_eq!(code, 0, "producer: {summary}");
    let all = oks(&producer);
    let after_kill: BTreeSet<u64> = all.difference(&at_kill).copied().collect();
    eprintln!(
        "C++ producer: ok={} (at kill {}), failed={}",
        all.len(),
        at_kill.len(),
        summary["failed"]
    );
    assert!(
        after_kill.len() >= 500,
        "the producer recovered without a restart: {} after the kill",
        after_kill.len()
    );

    // The C++ consumer as operators see it: its connection (language CPP), and its running info
    // fetched through the broker (GET_CONSUMER_RUNNING_INFO is forwarded to the client).
    let req = RemotingCommand::request(rq::GET_CONSUMER_CONNECTION_LIST)
        .with("consumerGroup", "CG_multi_cpp");
    let r = admin.invoke(&b_addr, req, proto::T).unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let cc: ConsumerConnection = rmq::protocol::json::from_fastjson(&r.body).unwrap();
    assert_eq!(cc.connection_set.len(), 1);
    assert_eq!(cc.connection_set[0].language, "CPP");
    assert!(cc.subscription_table.contains_key(TOPIC));
    let req = RemotingCommand::request(rq::GET_CONSUMER_RUNNING_INFO)
        .with("consumerGroup", "CG_multi_cpp")
        .with("clientId", &cc.connection_set[0].client_id)
        .with("jstackEnable", false);
    let r = admin.invoke(&b_addr, req, Duration::from_secs(15)).unwrap();
    assert_eq!(r.code, rs::SUCCESS, "{:?}", r.remark);
    let info: serde_json::Value = rmq::protocol::json::from_fastjson(&r.body).unwrap();
    assert!(info["properties"].is_object(), "the C++ client's ConsumerRunningInfo: {info}");

    // Where each message is: b's store now, a's store after a restart (kill -9 keeps the page
    // cache). Every SEND_OK is in one of them, and all those sent after the kill are on b.
    let stored = |addr: &str| -> BTreeMap<u64, i32> {
        let mut m = BTreeMap::new();
        for q in 0..4 {
            for (_, body) in proto::read_queue(&admin, addr, TOPIC, q) {
                let i: u64 = body.strip_prefix("multi-").unwrap().parse().unwrap();
                *m.entry(i).or_insert(0) += 1;
            }
        }
        m
    };
    let on_b = stored(&b_addr);
    assert!(after_kill.iter().all(|i| on_b.contains_key(i)), "after the kill everything went to b");
    let to_b: Vec<u64> = all.iter().copied().filter(|i| on_b.contains_key(i)).collect();
    std::fs::write(&expect_file, to_b.iter().map(|i| format!("{i}\n")).collect::<String>())
        .unwrap();
    let (code, summary) = consumer.finish(Duration::from_secs(180));
    assert_eq!(code, 0, "everything SEND_OK'd to the survivor is consumed: {summary}");
    assert_eq!(summary["missing"], 0);
    assert_eq!(summary["expected"].as_u64(), Some(to_b.len() as u64));

    let a2 = broker_again(&dir.path, "a", "C1", &ns_list);
    let on_a = stored(&a2.addr("listen"));
    let lost: Vec<_> =
        all.iter().filter(|i| !on_a.contains_key(i) && !on_b.contains_key(i)).collect();
    assert!(lost.is_empty(), "SEND_OK'd but in neither store: {lost:?}");
    drop(b);
}
