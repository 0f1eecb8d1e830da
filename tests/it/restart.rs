//! A broker restart between producing and consuming loses nothing, whether it was stopped
//! cleanly or killed with SIGKILL.

use crate::interop::{consume, produce};
use crate::util::{Cluster, TestDir};

fn restart_case(name: &str, kill: bool) {
    let dir = TestDir::new(name);
    let mut cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    let topic = "RestartTopic";
    produce(&ns, topic, 0, 2_000, &dir.path);
    if kill {
        cluster.broker.kill9();
    } else {
        cluster.broker.stop();
    }
    cluster.restart_broker();
    let (code, v) = consume("push", &ns, topic, "CG_restart", 0, 2_000, &dir.path);
    assert_eq!(code, 0, "consume after restart failed: {v}");
    assert_eq!(v["distinct"], 2_000);
    assert_eq!(v["bad_count"], 0, "{v}");
    // And the broker still takes new messages after the restart.
    produce(&ns, topic, 2_000, 100, &dir.path);
    let (code, v) = consume("pull", &ns, topic, "CG_restart_pull", 0, 2_100, &dir.path);
    assert_eq!(code, 0, "pull after restart failed: {v}");
    assert_eq!(v["distinct"], 2_100);
}

#[test]
fn graceful_restart_loses_nothing() {
    restart_case("restart-clean", false);
}

#[test]
fn kill9_restart_loses_nothing() {
    restart_case("restart-kill9", true);
}
