//! Start-up configuration: Apache key names from a file, bad values are a clear error (exit 2),
//! unknown keys a warning.

use crate::util::{Proc, TestDir, BROKER_BIN, NAMESRV_BIN};
use std::process::Command;

#[test]
fn bad_value_is_a_clear_startup_error() {
    let dir = TestDir::new("cli-bad");
    let conf = dir.path.join("broker.conf");
    std::fs::write(&conf, "brokerName=b1\nflushDiskType=SOMETIMES\n").unwrap();
    let out = Command::new(BROKER_BIN)
        .arg("-n")
        .arg("127.0.0.1:1")
        .arg("-c")
        .arg(&conf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("flushDiskType") && err.contains("SOMETIMES"), "{err}");
    let out = Command::new(NAMESRV_BIN).arg("--listenPort=notaport").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("listenPort"));
    let out = Command::new(BROKER_BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--standalone"));
}

#[test]
fn config_file_with_apache_keys_and_unknown_key_warning() {
    let dir = TestDir::new("cli-conf");
    let ns = Proc::start(
        NAMESRV_BIN,
        &["--listenPort=0".into(), "--bindAddress=127.0.0.1".into()],
        dir.path.join("ns.log"),
        1,
    );
    let conf = dir.path.join("broker.conf");
    std::fs::write(
        &conf,
        format!(
            "# Apache-style broker.conf\nbrokerClusterName = ClusterZ\nbrokerName=broker-z\nbrokerId=0\nnamesrvAddr={}\nlistenPort=0\nbindAddress=127.0.0.1\nbrokerIP1=127.0.0.1\nstorePathRootDir={}\nflushDiskType=SYNC_FLUSH\nautoCreateTopicEnable=true\nsomeFutureKey=1\n",
            ns.addr("listen"),
            dir.path.join("store").display()
        ),
    )
    .unwrap();
    let mut b = Proc::start(
        BROKER_BIN,
        &["-c".into(), conf.display().to_string()],
        dir.path.join("b.log"),
        1,
    );
    let c = rmq::remoting::RemotingClient::new();
    let r = c
        .invoke(
            &ns.addr("listen"),
            rmq::protocol::command::RemotingCommand::request(
                rmq::protocol::codes::request::GET_BROKER_CLUSTER_INFO,
            ),
            std::time::Duration::from_secs(5),
        )
        .unwrap();
    let info = rmq::protocol::body::ClusterInfo::decode(&r.body).unwrap();
    assert!(info.cluster_addr_table["ClusterZ"].contains("broker-z"));
    b.stop();
    let log = std::fs::read_to_string(dir.path.join("b.log")).unwrap();
    assert!(log.contains("someFutureKey"), "unknown keys are warned about: {log}");
}
