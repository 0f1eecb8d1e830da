//! Issue 11, "Several hosts", with replication: a name server, two SYNC_MASTERs of one cluster
//! and a SLAVE of each, a producer and two clustering push consumers (Rust client), each on a
//! host of its own. One master is killed with SIGKILL mid-stream: the producer keeps getting
//! SEND_OK from the other master, the consumers keep consuming, the killed master's messages
//! are consumed from its slave while it is down (every one it acknowledged: the slave had it
//! first), and after its restart nothing is lost or duplicated, each at the queue offset its
//! SEND_OK named.

use super::{numbered_stream, Host, Job, Net, BROKER_PORT, HA_PORT, NAMESRV_PORT};
use crate::util::{wait_until, BROKER_BIN};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CLUSTER: &str = "NetnsHaCluster";
const TOPIC: &str = "NetnsHaStream";
const GROUP: &str = "CG_netns_ha_stream";

/// Where a message sits: broker name, queue id, queue offset.
type Pos = (String, i32, i64);

/// (message number, position, unix ms) of "OK i broker queue offset ms" or
/// "GOT i broker queue offset reconsume ms" lines.
fn parse(lines: &[String], tag: &str) -> Vec<(u64, Pos, u128)> {
    lines
        .iter()
        .filter_map(|l| {
            let f: Vec<&str> = l.strip_prefix(tag)?.split_whitespace().collect();
            let at = if tag == "GOT " { f.get(5)? } else { f.get(4)? };
            Some((
                f.first()?.parse().ok()?,
                (f.get(1)?.to_string(), f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?),
                at.parse().ok()?,
            ))
        })
        .collect()
}

fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis()
}

fn consumer(host: &Host, ns: &str) -> Job {
    let args = ["consume", "--namesrv", ns, "--topic", TOPIC, "--group", GROUP];
    host.spawn(numbered_stream(), &args)
}

#[test]
fn netns_two_sync_masters_with_slaves_one_master_killed_every_send_ok_consumed() {
    let started = Instant::now();
    let stream = numbered_stream();
    let mut net = Net::new("ha-kill");
    let ns_host = net.host("namesrv");
    let (host_a, host_a1) = (net.host("broker-a"), net.host("broker-a-s"));
    let (host_b, host_b1) = (net.host("broker-b"), net.host("broker-b-s"));
    let producer_host = net.host("producer");
    let (host_c1, host_c2) = (net.host("consumer-1"), net.host("consumer-2"));
    let _namesrv = ns_host.namesrv(&[]);
    let ns = ns_host.endpoint(NAMESRV_PORT);
    let master = ["--brokerRole=SYNC_MASTER", "--brokerId=0", "--slaveSyncInterval=300"];
    let a_args = host_a.broker_args(&ns, "broker-a", CLUSTER, &master);
    let mut a = host_a.start(BROKER_BIN, &a_args);
    let _b = host_b.broker(&ns, "broker-b", CLUSTER, &master);
    let slave_of = |m: &Host| {
        [
            "--brokerRole=SLAVE".to_string(),
            "--brokerId=1".to_string(),
            "--slaveSyncInterval=300".to_string(),
            format!("--haMasterAddress={}", m.endpoint(HA_PORT)),
        ]
    };
    let (sa, sb) = (slave_of(&host_a), slave_of(&host_b));
    let _a1 = host_a1.broker(
        &ns,
        "broker-a",
        CLUSTER,
        &sa.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
    );
    let _b1 = host_b1.broker(
        &ns,
        "broker-b",
        CLUSTER,
        &sb.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
    );
    let admin = |args: &[&str]| producer_host.admin(&ns, args);
    let registered = |o: &str, name: &str, h: &Host| {
        o.lines().any(|l| l.contains(name) && l.contains(&h.endpoint(BROKER_PORT)))
    };
    assert!(
        wait_until(Duration::from_secs(20), || admin(&["clusterList"]).is_ok_and(|o| {
            registered(&o, "broker-a", &host_a)
                && registered(&o, "broker-b", &host_b)
                && registered(&o, "broker-a", &host_a1)
                && registered(&o, "broker-b", &host_b1)
        })),
        "masters and slaves register with their host address: {:?}",
        admin(&["clusterList"])
    );
    admin(&["updateTopic", "-c", CLUSTER, "-t", TOPIC, "-r", "4", "-w", "4"]).unwrap();
    assert!(
        wait_until(Duration::from_secs(20), || {
            admin(&["topicRoute", "-t", TOPIC, "--json"]).is_ok_and(|o| {
                let v: serde_json::Value = serde_json::from_str(&o).unwrap_or_default();
                let queues = v["queues"].as_array().cloned().unwrap_or_default();
                ["broker-a", "broker-b"].iter().all(|b| {
                    queues.iter().any(|q| q["brokerName"] == *b && q["writeQueueNums"] == 4)
                })
            })
        }),
        "the topic is routed to both masters"
    );

    let (mut c1, mut c2) = (consumer(&host_c1, &ns), consumer(&host_c2, &ns));
    for c in [&c1, &c2] {
        assert!(wait_until(Duration::from_secs(30), || c
            .with_lines(|l| l.iter().any(|l| l.starts_with("READY")))));
    }
    let mut producer = producer_host.spawn(
        stream,
        &[
            "produce",
            "--namesrv",
            &ns,
            "--topic",
            TOPIC,
            "--interval-ms",
            "2",
            "--avoid-faulty",
            "true",
        ],
    );
    let acks = |p: &Job| p.with_lines(|l| parse(l, "OK "));
    let got = |c: &Job| c.with_lines(|l| parse(l, "GOT "));
    let count = |p: &Job, broker: &str| acks(p).iter().filter(|e| e.1 .0 == broker).count();
    assert!(
        wait_until(Duration::from_secs(30), || count(&producer, "broker-a") >= 200
            && count(&producer, "broker-b") >= 200
            && !got(&c1).is_empty()
            && !got(&c2).is_empty()),
        "the stream must reach both masters and both consumers: a={} b={}, producer's last \
         lines {:?}",
        count(&producer, "broker-a"),
        count(&producer, "broker-b"),
        producer.with_lines(|l| l.iter().rev().take(5).cloned().collect::<Vec<_>>())
    );
    a.kill9();
    let kill_ms = now_ms();
    let a_acked = count(&producer, "broker-a");

    // broker-b keeps acknowledging, and its messages since the kill are consumed.
    let b_after = |p: &Job| -> BTreeMap<Pos, u64> {
        acks(p)
            .into_iter()
            .filter(|e| e.1 .0 == "broker-b" && e.2 > kill_ms + 500)
            .map(|e| (e.1, e.0))
            .collect()
    };
    let consumed_of = |want: &BTreeMap<Pos, u64>| {
        let seen: BTreeSet<Pos> = got(&c1).into_iter().chain(got(&c2)).map(|e| e.1).collect();
        want.keys().filter(|p| seen.contains(*p)).count()
    };
    assert!(
        wait_until(Duration::from_secs(20), || {
            let b = b_after(&producer);
            b.len() >= 200 && consumed_of(&b) >= 200
        }),
        "after the kill the producer gets SEND_OK from broker-b and its messages are consumed \
         (acks since: {})",
        b_after(&producer).len()
    );
    producer.close_stdin();
    assert_eq!(producer.finish(Duration::from_secs(30)), 0, "the producer ends cleanly");
    let (all_acks, attempted) = producer.with_lines(|l| {
        let attempted: BTreeSet<u64> = l
            .iter()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                matches!(f.next(), Some("OK" | "FAIL" | "STORED"))
                    .then(|| f.next()?.parse().ok())?
            })
            .collect();
        (parse(l, "OK "), attempted)
    });
    let late_a: Vec<u64> = all_acks
        .iter()
        .filter(|e| e.1 .0 == "broker-a" && e.2 > kill_ms + 1000)
        .map(|e| e.0)
        .collect();
    assert!(late_a.is_empty(), "SEND_OK from the killed broker-a: {late_a:?}");
    let acked: BTreeMap<Pos, u64> = all_acks.iter().map(|e| (e.1.clone(), e.0)).collect();
    assert_eq!(acked.len(), all_acks.len(), "two SEND_OKs named one queue offset");

    // Every SEND_OK is consumed at its queue offset, broker-a's from its slave (broker-a is down).
    let delivered = |c1: &Job, c2: &Job| -> BTreeMap<Pos, BTreeSet<u64>> {
        let mut m: BTreeMap<Pos, BTreeSet<u64>> = BTreeMap::new();
        for e in got(c1).into_iter().chain(got(c2)) {
            m.entry(e.1).or_default().insert(e.0);
        }
        m
    };
    let missing = |c1: &Job, c2: &Job| -> Vec<(Pos, u64)> {
        let d = delivered(c1, c2);
        acked
            .iter()
            .filter(|(p, i)| !d.get(*p).is_some_and(|s| s.contains(i)))
            .map(|(p, i)| (p.clone(), *i))
            .collect()
    };
    // With broker-a down, its slave serves what it copied, and under SYNC_MASTER that is every
    // message broker-a acknowledged: all of them are consumed.
    assert!(
        wait_until(Duration::from_secs(20), || missing(&c1, &c2).is_empty()),
        "acknowledged but never consumed with broker-a down: {:?}",
        missing(&c1, &c2).iter().take(20).collect::<Vec<_>>()
    );
    let missing_while_down = missing(&c1, &c2).len();
    // broker-a comes back on its store: whatever its slave had not copied is consumed too.
    a = host_a.start(BROKER_BIN, &a_args);
    assert!(
        wait_until(Duration::from_secs(30), || missing(&c1, &c2).is_empty()),
        "acknowledged but never consumed after broker-a's restart: {:?}",
        missing(&c1, &c2).iter().take(20).collect::<Vec<_>>()
    );
    drop(a);
    for c in [&mut c1, &mut c2] {
        c.close_stdin();
        assert_eq!(c.finish(Duration::from_secs(30)), 0, "a consumer ends cleanly");
        c.with_lines(|l| {
            assert!(l.iter().all(|l| !l.starts_with("BAD ")), "a body the producer never sent");
        });
    }
    let d = delivered(&c1, &c2);
    for (pos, idx) in &d {
        assert_eq!(idx.len(), 1, "{pos:?} delivered different messages: {idx:?}");
        let i = idx.first().unwrap();
        assert!(attempted.contains(i), "{pos:?} delivered message {i}, which was never sent");
        if let Some(want) = acked.get(pos) {
            assert_eq!(want, i, "{pos:?}: SEND_OK named message {want}, the consumer got {i}");
        }
    }
    let per_broker = |b: &str| acked.keys().filter(|p| p.0 == b).count();
    eprintln!(
        "netns ha {}: SYNC_MASTER broker-a killed after {a_acked} SEND_OK; SEND_OK total a={} \
         b={}, {missing_while_down} not consumed while it was down, all consumed after its restart (c1={} c2={} deliveries); total {:.1}s",
        net.subnet(),
        per_broker("broker-a"),
        per_broker("broker-b"),
        got(&c1).len(),
        got(&c2).len(),
        started.elapsed().as_secs_f64()
    );
}
