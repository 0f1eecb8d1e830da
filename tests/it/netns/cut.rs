//! Issue 11, "Several hosts", before replication: a name server, two ASYNC_MASTERs of one
//! cluster, a producer and two clustering push consumers, each on a host of its own. One master's
//! cable is pulled mid-stream: the producer keeps getting SEND_OK from the other master and the
//! consumers keep consuming from it; once the cable is back, every message that got SEND_OK is
//! consumed, at the queue offset its SEND_OK named, and nothing the producer never sent appears.

use super::{numbered_stream, Host, Job, Net, BROKER_PORT, NAMESRV_PORT};
use crate::util::wait_until;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const CLUSTER: &str = "NetnsCluster";
const TOPIC: &str = "NetnsStream";
const GROUP: &str = "CG_netns_stream";

/// Where a message sits: broker name, queue id, queue offset.
type Pos = (String, i32, i64);

/// One "OK i broker queue offset ms" or "GOT i broker queue offset reconsume ms" line.
struct Event {
    i: u64,
    pos: Pos,
    at_ms: u128,
}

fn parse(lines: &[String], tag: &str) -> Vec<Event> {
    lines
        .iter()
        .filter_map(|l| {
            let f: Vec<&str> = l.strip_prefix(tag)?.split_whitespace().collect();
            let at = if tag == "GOT " { f.get(5)? } else { f.get(4)? };
            Some(Event {
                i: f.first()?.parse().ok()?,
                pos: (f.get(1)?.to_string(), f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?),
                at_ms: at.parse().ok()?,
            })
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
fn two_masters_on_their_own_hosts_one_cut_off_mid_stream_loses_no_acknowledged_message() {
    let started = Instant::now();
    let stream = numbered_stream();
    let mut net = Net::new("cut");
    let ns_host = net.host("namesrv");
    let (host_a, host_b) = (net.host("broker-a"), net.host("broker-b"));
    let producer_host = net.host("producer");
    let (host_c1, host_c2) = (net.host("consumer-1"), net.host("consumer-2"));
    let _namesrv = ns_host.namesrv(&[]);
    let ns = ns_host.endpoint(NAMESRV_PORT);
    let role = ["--brokerRole=ASYNC_MASTER", "--brokerId=0"];
    let _a = host_a.broker(&ns, "broker-a", CLUSTER, &role);
    let _b = host_b.broker(&ns, "broker-b", CLUSTER, &role);
    let admin = |args: &[&str]| producer_host.admin(&ns, args);
    let registered = |o: &str, name: &str, h: &Host| {
        o.lines().any(|l| l.contains(name) && l.contains(&h.endpoint(BROKER_PORT)))
    };
    assert!(
        wait_until(Duration::from_secs(20), || admin(&["clusterList"]).is_ok_and(|o| {
            registered(&o, "broker-a", &host_a) && registered(&o, "broker-b", &host_b)
        })),
        "both masters register with their host address"
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
            "4",
            "--avoid-faulty",
            "true",
        ],
    );
    let acks = |p: &Job| p.with_lines(|l| parse(l, "OK "));
    let got = |c: &Job| c.with_lines(|l| parse(l, "GOT "));
    let count = |p: &Job, broker: &str, after_ms: u128| {
        acks(p).iter().filter(|e| e.pos.0 == broker && e.at_ms > after_ms).count()
    };

    // Both masters take SEND_OKs and both consumers consume before the cut.
    assert!(
        wait_until(Duration::from_secs(30), || count(&producer, "broker-a", 0) >= 100
            && count(&producer, "broker-b", 0) >= 100
            && !got(&c1).is_empty()
            && !got(&c2).is_empty()),
        "the stream must reach both masters and both consumers"
    );
    // Two machines, as the brokers see them: each consumer from its own host address.
    let conns = admin(&["consumerConnection", "-g", GROUP]).unwrap();
    for h in [&host_c1, &host_c2] {
        assert!(conns.contains(&format!("{}:", h.addr())), "{} not connected: {conns}", h.name());
    }
    let cut_ms = now_ms();
    host_a.cut();
    let cut_done_ms = now_ms();
    let a_before = count(&producer, "broker-a", 0);
    let b_before = count(&producer, "broker-b", 0);
    let cut_at = started.elapsed();

    // With broker-a's host cut off, SEND_OKs keep coming from broker-b and the consumers keep
    // consuming what broker-b acknowledged after the cut.
    let b_after_cut = |p: &Job| -> BTreeMap<Pos, u64> {
        acks(p)
            .into_iter()
            .filter(|e| e.pos.0 == "broker-b" && e.at_ms > cut_done_ms)
            .map(|e| (e.pos, e.i))
            .collect()
    };
    let consumed_of = |want: &BTreeMap<Pos, u64>| {
        let seen: BTreeSet<Pos> = got(&c1).into_iter().chain(got(&c2)).map(|e| e.pos).collect();
        want.keys().filter(|p| seen.contains(*p)).count()
    };
    assert!(
        wait_until(Duration::from_secs(30), || {
            let b = b_after_cut(&producer);
            b.len() >= 200 && consumed_of(&b) >= 200
        }),
        "during the cut the producer gets SEND_OK from broker-b and its messages are consumed \
         (acks since the cut: {})",
        b_after_cut(&producer).len()
    );
    let restore_ms = now_ms();
    // Nothing from broker-a can be acknowledged through a pulled cable (1 s of slack covers an
    // acknowledgement that arrived just before the cut and was printed after it).
    let a_during: Vec<u64> = acks(&producer)
        .iter()
        .filter(|e| e.pos.0 == "broker-a" && e.at_ms > cut_done_ms + 1000 && e.at_ms < restore_ms)
        .map(|e| e.i)
        .collect();
    assert!(a_during.is_empty(), "SEND_OK from broker-a while its cable was out: {a_during:?}");
    let b_during = b_after_cut(&producer).len();
    let consumed_during = consumed_of(&b_after_cut(&producer));
    host_a.restore();

    // The stream goes on after the cable is back; then the producer stops.
    let total_at_restore = acks(&producer).len();
    assert!(wait_until(Duration::from_secs(30), || acks(&producer).len() >= total_at_restore + 100));
    producer.close_stdin();
    assert_eq!(producer.finish(Duration::from_secs(30)), 0, "the producer ends cleanly");
    let (all_acks, attempted, failed) = producer.with_lines(|l| {
        let attempted: BTreeSet<u64> = l
            .iter()
            .filter_map(|l| {
                let mut f = l.split_whitespace();
                matches!(f.next(), Some("OK" | "FAIL" | "STORED"))
                    .then(|| f.next()?.parse().ok())?
            })
            .collect();
        let failed = l.iter().filter(|l| l.starts_with("FAIL ") || l.starts_with("STORED "));
        (parse(l, "OK "), attempted, failed.count())
    });
    let acked: BTreeMap<Pos, u64> = all_acks.iter().map(|e| (e.pos.clone(), e.i)).collect();
    assert_eq!(acked.len(), all_acks.len(), "two SEND_OKs named one queue offset");

    // Every SEND_OK is consumed at its queue offset, the cut master's included.
    let delivered = |c1: &Job, c2: &Job| -> BTreeMap<Pos, BTreeSet<u64>> {
        let mut m: BTreeMap<Pos, BTreeSet<u64>> = BTreeMap::new();
        for e in got(c1).into_iter().chain(got(c2)) {
            m.entry(e.pos).or_default().insert(e.i);
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
    assert!(
        wait_until(Duration::from_secs(60), || missing(&c1, &c2).is_empty()),
        "acknowledged but never consumed: {:?}",
        missing(&c1, &c2).iter().take(20).collect::<Vec<_>>()
    );
    for c in [&mut c1, &mut c2] {
        c.close_stdin();
        assert_eq!(c.finish(Duration::from_secs(30)), 0, "a consumer ends cleanly");
        c.with_lines(|l| {
            assert!(l.iter().all(|l| !l.starts_with("BAD ")), "a body the producer never sent");
            assert!(l.last().is_some_and(|l| l.starts_with("consumed ")), "{:?}", l.last());
        });
    }

    // No garbage: every delivery is a message the producer sent, and a queue offset always
    // delivers the same message. Deliveries at offsets without a SEND_OK are sends whose answer
    // was lost (stored, then retried or failed).
    let d = delivered(&c1, &c2);
    for (pos, idx) in &d {
        assert_eq!(idx.len(), 1, "{pos:?} delivered different messages: {idx:?}");
        let i = idx.first().unwrap();
        assert!(attempted.contains(i), "{pos:?} delivered message {i}, which was never sent");
        if let Some(want) = acked.get(pos) {
            assert_eq!(want, i, "{pos:?}: SEND_OK named message {want}, the consumer got {i}");
        }
    }
    let unacked: Vec<_> = d.iter().filter(|(p, _)| !acked.contains_key(*p)).collect();
    let (n1, n2) = (got(&c1).len(), got(&c2).len());
    assert!(n1 > 0 && n2 > 0, "both consumers share the queues: {n1} and {n2}");
    let per_broker = |b: &str| acked.keys().filter(|p| p.0 == b).count();
    let a_after_restore = got(&c1)
        .into_iter()
        .chain(got(&c2))
        .filter(|e| e.pos.0 == "broker-a" && e.at_ms >= restore_ms)
        .count();
    let split = |c: &Job| {
        let g = got(c);
        let n = |b: &str| g.iter().filter(|e| e.pos.0 == b).count();
        format!("{} (a={} b={})", g.len(), n("broker-a"), n("broker-b"))
    };
    eprintln!(
        "netns {}: hosts namesrv={} broker-a={} broker-b={} producer={} consumers={},{}\n\
         cut broker-a at {:.1}s (SEND_OK so far a={a_before} b={b_before}) for {} ms: \
         {b_during} SEND_OK from broker-b, {consumed_during} of them consumed during the cut\n\
         SEND_OK total a={} b={}, sends without SEND_OK={failed}; deliveries c1={} c2={} \
         (redelivered {}), from broker-a after the restore {a_after_restore}, at offsets without \
         SEND_OK {unacked:?}; total {:.1}s",
        net.subnet(),
        ns_host.addr(),
        host_a.addr(),
        host_b.addr(),
        producer_host.addr(),
        host_c1.addr(),
        host_c2.addr(),
        cut_at.as_secs_f64(),
        restore_ms - cut_ms,
        per_broker("broker-a"),
        per_broker("broker-b"),
        split(&c1),
        split(&c2),
        n1 + n2 - d.len(),
        started.elapsed().as_secs_f64()
    );
}
