//! `rmq-broker --standalone`: one process, embedded name server, usable by the C++ client.

use crate::interop::{consume, produce};
use crate::util::{Proc, TestDir, BROKER_BIN};

#[test]
fn standalone_broker_serves_the_cpp_client() {
    let dir = TestDir::new("standalone");
    let mut p = Proc::start(
        BROKER_BIN,
        &[
            "--standalone".into(),
            "--namesrvListenPort=0".into(),
            "--listenPort=0".into(),
            "--bindAddress=127.0.0.1".into(),
            format!("--storePathRootDir={}", dir.path.join("store").display()),
        ],
        dir.path.join("standalone.log"),
        2,
    );
    assert!(p.ready.starts_with("READY role=broker"), "{}", p.ready);
    // The namesrv READY line came first; find its address in the log of READY lines.
    let ns = standalone_namesrv(&dir.path.join("standalone.log"), &p);
    produce(&ns, "StandaloneTopic", 0, 300, &dir.path);
    let (code, v) = consume("push", &ns, "StandaloneTopic", "CG_standalone", 0, 300, &dir.path);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["distinct"], 300);
    p.stop();
}

/// The embedded name server's address, from the broker's log line "server started name=namesrv".
fn standalone_namesrv(log: &std::path::Path, _p: &Proc) -> String {
    let text = std::fs::read_to_string(log).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("server started name=namesrv"))
        .expect("namesrv start line");
    let addr = line.rsplit("listen=").next().unwrap().trim();
    addr.replace("0.0.0.0", "127.0.0.1")
}
