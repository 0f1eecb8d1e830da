//! Issue 14 with issue 11: a master's `/metrics` serves `rocketmq_broker_commitlog_diff` (the
//! exporter's master/slave difference) and `rmq_ha_replication_lag_bytes`, one series per
//! connected slave, from the slave's acknowledged offset; rmq-admin's clusterList shows the
//! slave's lag and brokerStatus the HA state of both.

use crate::metrics::scrape;
use crate::proto;
use crate::util::{small_store_args, wait_until, Proc, TestDir, BROKER_BIN, NAMESRV_BIN};
use rmq::protocol::codes::response as rs;
use rmq::remoting::RemotingClient;
use std::path::Path;
use std::time::Duration;

fn broker(dir: &Path, ns: &str, store: &str, extra: &[&str], log: &str) -> Proc {
    let mut a = vec![
        "-n".to_string(),
        ns.to_string(),
        "--listenPort=0".to_string(),
        "--bindAddress=127.0.0.1".to_string(),
        "--brokerIP1=127.0.0.1".to_string(),
        format!("--storePathRootDir={}", dir.join(store).display()),
        "--brokerName=broker-a".to_string(),
        "--brokerClusterName=HaCluster".to_string(),
    ];
    a.extend(small_store_args());
    a.extend(extra.iter().map(|s| s.to_string()));
    Proc::start(BROKER_BIN, &a, dir.join(log), 1)
}

#[test]
fn ha_master_metrics_show_each_slaves_commitlog_diff() {
    let dir = TestDir::new("ha-metrics");
    let ns_args = vec![
        "--listenPort=0".to_string(),
        "--bindAddress=127.0.0.1".to_string(),
        format!("--kvConfigPath={}", dir.path.join("kv.json").display()),
    ];
    let ns_proc = Proc::start(NAMESRV_BIN, &ns_args, dir.path.join("namesrv.log"), 1);
    let ns = ns_proc.addr("listen");
    let master = broker(&dir.path, &ns, "m", &["--metricsPort=-1"], "master.log");
    let (addr, m) = (master.addr("listen"), master.addr("metrics"));
    let ha = master.addr("ha");
    let diff = |m: &str| {
        let e = scrape(m);
        e.families.get("rocketmq_broker_commitlog_diff").map(|f| f.samples.len()).unwrap_or(0)
    };
    assert_eq!(diff(&m), 0, "no slave, no series");

    let c = RemotingClient::new();
    proto::create_topic(&c, &addr, "HaMetrics", 2);
    for i in 0..500 {
        let r = proto::send_raw(
            &c,
            &addr,
            "HaMetrics",
            i % 2,
            &format!("m{i}"),
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(r.code, rs::SUCCESS);
    }
    let mut slave = broker(
        &dir.path,
        &ns,
        "s",
        &["--brokerId=1", "--brokerRole=SLAVE", &format!("--haMasterAddress={ha}")],
        "slave.log",
    );
    // The slave connects, catches up and acknowledges everything: one series at 0.
    assert!(
        wait_until(Duration::from_secs(20), || {
            let e = scrape(&m);
            let f = &e.families["rocketmq_broker_commitlog_diff"];
            f.samples.len() == 1
                && e.sum("rocketmq_broker_commitlog_diff", &[("cluster", "HaCluster")]) == 0.0
                && e.sum("rmq_ha_replication_lag_bytes", &[]) == 0.0
                && e.families["rmq_ha_replication_lag_bytes"].samples.len() == 1
        }),
        "the master never showed its caught-up slave"
    );
    let e = scrape(&m);
    let s = &e.families["rocketmq_broker_commitlog_diff"].samples[0];
    let ip = s.labels.iter().find(|(k, _)| *k == "brokerIP").map(|(_, v)| v.clone()).unwrap();
    assert!(ip.starts_with("127.0.0.1:") && ip != ha, "brokerIP is the slave's address: {ip}");

    // rmq-admin's library: clusterList shows the slave with its lag, brokerStatus the HA state.
    let admin = rmq::admin::Admin::new(&ns).unwrap();
    let slave_addr = slave.addr("listen");
    assert!(
        wait_until(Duration::from_secs(20), || {
            let rows = admin.cluster_list().unwrap();
            rows.iter().any(|r| r.broker_id == 0 && r.replication_lag.is_none())
                && rows.iter().any(|r| {
                    r.broker_id == 1 && r.addr == slave_addr && r.replication_lag == Some(0)
                })
        }),
        "clusterList never showed the caught-up slave: {:?}",
        admin.cluster_list()
    );
    let st = admin.broker_status(&addr).unwrap();
    assert_eq!(st.get("brokerRole").map(String::as_str), Some("ASYNC_MASTER"));
    assert_eq!(st.get("haSlaveCount").map(String::as_str), Some("1"));
    assert!(st["haSlaves"].ends_with(":0"), "{}", st["haSlaves"]);
    let st = admin.broker_status(&slave_addr).unwrap();
    assert_eq!(st.get("brokerRole").map(String::as_str), Some("SLAVE"));
    assert_eq!(st.get("haMasterAddress"), Some(&ha));
    assert_eq!(st.get("haSlaveStreaming").map(String::as_str), Some("true"));
    slave.stop();
    assert!(wait_until(Duration::from_secs(30), || diff(&m) == 0), "a gone slave's series stays");
}
