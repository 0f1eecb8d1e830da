//! Issue 14: every rmq-admin command against a live cluster: its table and `--json` output,
//! its exit code, and the error cases (unknown topic, unreachable name server, bad arguments).
//! Commands that need the rebuilt broker (brokerConsumeStats, statsAll figures, cleanExpiredCQ)
//! are in admin_phase2.rs.

use crate::util::{wait_until, Cluster, TestDir};
use rmq::protocol::codes::request as rq;
use rmq::protocol::command::RemotingCommand;
use rmq::remoting::RemotingClient;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

const ADMIN_BIN: &str = env!("CARGO_BIN_EXE_rmq-admin");

/// Run rmq-admin without $NAMESRV_ADDR; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(ADMIN_BIN).args(args).env_remove("NAMESRV_ADDR").output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = run(args);
    assert_eq!(code, 0, "rmq-admin {args:?} failed: {err}\n{out}");
    out
}

fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let out = ok(&a);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
}

fn fails(args: &[&str], code: i32, needle: &str) {
    let (c, out, err) = run(args);
    assert_eq!(c, code, "rmq-admin {args:?}: want exit {code}, got {c}: {err}\n{out}");
    assert!(err.contains(needle), "rmq-admin {args:?}: stderr lacks '{needle}': {err}");
}

/// Every command the overview lists.
fn commands() -> Vec<String> {
    let help = ok(&["--help"]);
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn every_command_has_help_and_usage_errors_exit_2() {
    let cmds = commands();
    assert!(cmds.len() >= 34, "{cmds:?}");
    for c in &cmds {
        let h = ok(&[c, "--help"]);
        assert!(h.starts_with(&format!("usage: rmq-admin {c}")) && h.contains("--json"), "{h}");
    }
    fails(&[], 2, "no command");
    fails(&["noSuchCommand"], 2, "unknown command");
    fails(&["topicList", "-x", "1"], 2, "no option -x");
    fails(&["topicList"], 2, "needs -n");
    fails(&["topicRoute", "-n", "127.0.0.1:1"], 2, "needs -t");
    fails(&["updateTopic", "-n", "127.0.0.1:1", "-t", "T", "-c", "C", "-r", "many"], 2, "number");
    fails(&["updateTopic", "-n", "127.0.0.1:1", "-t", "T"], 2, "-b BROKER_ADDR or -c CLUSTER");
    fails(
        &["updateTopic", "-n", "127.0.0.1:1", "-t", "T", "-b", "x", "-o", "maybe"],
        2,
        "true or false",
    );
    fails(&["queryMsgById", "-i", "zz"], 2, "not an offset message id");
    fails(&["getBrokerConfig", "-c", "C"], 2, "no name server");
    fails(&["resetOffsetByTime", "-n", "x:1", "-g", "G", "-t", "T", "-s", "soon"], 2, "'soon'");
    fails(&["sendMessage", "-n", "x:1", "-t", "T", "-p", "b", "-i", "1"], 2, "broker name");
    fails(&["consumeMessage", "-n", "x:1", "-t", "T", "-o", "3"], 2, "queue id");
    fails(&["consumeMessage", "-n", "x:1", "-t", "T", "-c", "0"], 2, "positive");
    // A name server nobody listens on: the command fails (1), whatever it is.
    for c in
        [&["topicList"][..], &["clusterList"], &["getNamesrvConfig"], &["topicRoute", "-t", "T"]]
    {
        let mut a = c.to_vec();
        a.extend(["-n", "127.0.0.1:1"]);
        fails(&a, 1, "127.0.0.1:1");
    }
    assert!(ok(&["--version"]).starts_with("rmq-admin "));
}

#[test]
fn message_commands_tables_json_and_errors() {
    let dir = TestDir::new("admin-msg");
    let cluster = Cluster::start(&dir.path, &["--brokerClusterName=OpsCluster"]);
    let ns = cluster.namesrv_addr();
    let addr = cluster.broker_addr();
    let topic = "OpsTopic";
    let n = ns.as_str();

    let out = ok(&["updateTopic", "-n", n, "-c", "OpsCluster", "-t", topic, "-r", "2", "-w", "2"]);
    assert!(out.contains("success") && out.contains(&addr), "{out}");
    assert!(
        wait_until(Duration::from_secs(20), || run(&["topicRoute", "-n", n, "-t", topic]).0 == 0)
    );

    // sendMessage: three with keys and tags, one to queue 1 of broker-a.
    let mut sent = Vec::new();
    for i in 0..3 {
        let (body, key, tag) =
            (format!("hello-{i}"), format!("key-{i}"), if i == 1 { "TagB" } else { "TagA" });
        let table = ok(&["sendMessage", "-n", n, "-t", topic, "-p", &body, "-k", &key, "-c", tag]);
        let row = table.lines().nth(1).unwrap_or("");
        assert!(row.starts_with("broker-a") && row.contains("SEND_OK"), "{table}");
        let _ = &row;
        sent.push(body);
    }
    let j = json(&[
        "sendMessage",
        "-n",
        n,
        "-t",
        topic,
        "-p",
        "to-q1",
        "-k",
        "key-q1",
        "-b",
        "broker-a",
        "-i",
        "1",
    ]);
    assert_eq!(
        (j["brokerName"].as_str(), j["queueId"].as_i64()),
        (Some("broker-a"), Some(1)),
        "{j}"
    );
    assert_eq!(j["sendStatus"], "SEND_OK");
    let q1_offset = j["queueOffset"].as_i64().unwrap();
    let uniq = j["msgId"].as_str().unwrap().to_string();
    let offset_id = j["offsetMsgId"].as_str().unwrap().to_string();

    // Topic status: four messages over two queues (queues are built shortly after SEND_OK).
    let total = || -> i64 {
        let st = json(&["topicStatus", "-n", n, "-t", topic]);
        st.as_array().unwrap().iter().map(|q| q["maxOffset"].as_i64().unwrap()).sum()
    };
    assert!(wait_until(Duration::from_secs(20), || total() == 4), "{}", total());

    // queryMsgByKey: the index is built by the dispatch thread, shortly after SEND_OK.
    assert!(wait_until(Duration::from_secs(10), || {
        json(&["queryMsgByKey", "-n", n, "-t", topic, "-k", "key-1"])
            .as_array()
            .is_some_and(|a| a.len() == 1)
    }));
    let table = ok(&["queryMsgByKey", "-n", n, "-t", topic, "-k", "key-1"]);
    assert!(table.starts_with("#Message ID") && table.lines().count() == 2, "{table}");
    let j = json(&["queryMsgByKey", "-n", n, "-t", topic, "-k", "key-1"]);
    assert_eq!(j[0]["body"], "hello-1");
    assert_eq!(j[0]["tags"], "TagB");
    assert_eq!(
        json(&["queryMsgByKey", "-n", n, "-t", topic, "-k", "no-such-key"]),
        Value::Array(vec![])
    );

    // queryMsgByUniqueKey and queryMsgById find the message sent to queue 1.
    assert!(wait_until(Duration::from_secs(10), || {
        run(&["queryMsgByUniqueKey", "-n", n, "-t", topic, "-i", &uniq]).0 == 0
    }));
    let detail = ok(&["queryMsgByUniqueKey", "-n", n, "-t", topic, "-i", &uniq]);
    assert!(detail.contains("to-q1") && detail.contains("[key-q1]"), "{detail}");
    let j = json(&["queryMsgByUniqueKey", "-n", n, "-t", topic, "-i", &uniq, "-a"]);
    assert_eq!((j[0]["msgId"].as_str(), j[0]["queueId"].as_i64()), (Some(uniq.as_str()), Some(1)));
    fails(
        &["queryMsgByUniqueKey", "-n", n, "-t", topic, "-i", "00000000000000000000000000000000"],
        1,
        "no message",
    );
    let j = json(&["queryMsgById", "-n", n, "-i", &offset_id]);
    assert_eq!(j["body"], "to-q1");
    let by_id = ok(&["queryMsgById", "-i", &offset_id]);
    assert!(by_id.contains("to-q1") && by_id.contains(topic), "{by_id}");

    // queryMsgByOffset.
    let out = ok(&[
        "queryMsgByOffset",
        "-n",
        n,
        "-t",
        topic,
        "-b",
        "broker-a",
        "-i",
        "1",
        "-o",
        &q1_offset.to_string(),
    ]);
    assert!(out.contains("Message Body:") && out.contains("to-q1"), "{out}");
    fails(
        &["queryMsgByOffset", "-n", n, "-t", topic, "-b", "broker-a", "-i", "1", "-o", "999"],
        1,
        "no message at offset 999",
    );

    // printMsg: all four; with a tag expression only TagB.
    let j = json(&["printMsg", "-n", n, "-t", topic]);
    let bodies: Vec<String> = j["queues"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|q| {
            q["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["body"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(bodies.len(), 4, "{j}");
    for b in sent.iter().chain(std::iter::once(&"to-q1".to_string())) {
        assert!(bodies.contains(b), "{b} missing from {bodies:?}");
    }
    let text = ok(&["printMsg", "-n", n, "-t", topic, "-s", "TagB"]);
    assert_eq!(text.lines().filter(|l| l.starts_with("MSGID:")).count(), 1, "{text}");
    assert!(text.contains("BODY: hello-1"), "{text}");
    let text = ok(&["printMsg", "-n", n, "-t", topic, "-d", "false"]);
    assert_eq!(text.matches("NOT PRINT BODY").count(), 4, "{text}");

    // printMsgByQueue with tag counts.
    let text = ok(&[
        "printMsgByQueue",
        "-n",
        n,
        "-t",
        topic,
        "-a",
        "broker-a",
        "-i",
        "1",
        "-p",
        "true",
        "-d",
        "true",
        "-f",
        "true",
    ]);
    assert!(text.contains("BODY: to-q1"), "{text}");
    let j =
        json(&["printMsgByQueue", "-n", n, "-t", topic, "-a", "broker-a", "-i", "1", "-f", "true"]);
    let in_q1 = j["queues"][0]["messages"].as_array().unwrap().len() as i64;
    assert_eq!(in_q1, q1_offset + 1, "{j}");

    // consumeMessage: a count over the topic, and one queue from an offset.
    let text = ok(&["consumeMessage", "-n", n, "-t", topic, "-c", "2"]);
    assert!(text.ends_with("Total: 2\n"), "{text}");
    let j = json(&[
        "consumeMessage",
        "-n",
        n,
        "-t",
        topic,
        "-b",
        "broker-a",
        "-i",
        "1",
        "-o",
        &q1_offset.to_string(),
    ]);
    let msgs = j["queues"][0]["messages"].as_array().unwrap();
    assert_eq!((msgs.len(), msgs[0]["body"].as_str()), (1, Some("to-q1")), "{j}");

    // Unknown topic: every reading command fails with 1 and says so.
    for c in [
        &["topicRoute", "-t", "NoSuchTopic"][..],
        &["topicStatus", "-t", "NoSuchTopic"],
        &["queryMsgByKey", "-t", "NoSuchTopic", "-k", "k"],
        &["printMsg", "-t", "NoSuchTopic"],
        &["consumeMessage", "-t", "NoSuchTopic"],
    ] {
        let mut a = c.to_vec();
        a.extend(["-n", n]);
        fails(&a, 1, "NoSuchTopic");
    }
}

#[test]
fn group_namesrv_and_cluster_commands() {
    let dir = TestDir::new("admin-ops");
    let cluster = Cluster::start(&dir.path, &["--brokerClusterName=OpsCluster"]);
    let ns = cluster.namesrv_addr();
    let addr = cluster.broker_addr();
    let n = ns.as_str();
    let c = RemotingClient::new();
    let topic = "OpsPermTopic";
    ok(&["updateTopic", "-n", n, "-b", &addr, "-t", topic, "-r", "2", "-w", "2"]);
    let perms = || -> Vec<i64> {
        match run(&["topicRoute", "-n", n, "-t", topic, "--json"]) {
            (0, out, _) => serde_json::from_str::<Value>(&out).unwrap()["queues"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| q["perm"].as_i64().unwrap())
                .collect(),
            _ => Vec::new(),
        }
    };
    assert!(wait_until(Duration::from_secs(20), || perms() == [6]));

    // clusterList.
    let j = json(&["clusterList", "-n", n]);
    assert_eq!(
        (j[0]["cluster"].as_str(), j[0]["addr"].as_str()),
        (Some("OpsCluster"), Some(addr.as_str())),
        "{j}"
    );
    let t = ok(&["clusterList", "-n", n]);
    assert!(
        t.starts_with("#Cluster Name") && t.lines().nth(1).unwrap().starts_with("OpsCluster"),
        "{t}"
    );

    // Subscription groups: create, see it on the broker, delete it.
    let groups = || -> String {
        let r = c
            .invoke(
                &addr,
                RemotingCommand::request(rq::GET_ALL_SUBSCRIPTIONGROUP_CONFIG),
                crate::proto::T,
            )
            .unwrap();
        String::from_utf8_lossy(&r.body).into_owned()
    };
    let out = ok(&["updateSubGroup", "-n", n, "-c", "OpsCluster", "-g", "OpsGroup", "-r", "3"]);
    assert!(out.contains("success"), "{out}");
    assert!(groups().contains("\"OpsGroup\""));
    let j = json(&["deleteSubGroup", "-n", n, "-c", "OpsCluster", "-g", "OpsGroup", "-r", "true"]);
    assert_eq!(j["brokers"][0], addr.as_str(), "{j}");
    assert!(!groups().contains("\"OpsGroup\""), "{}", groups());
    fails(&["deleteSubGroup", "-n", n, "-c", "NoSuchCluster", "-g", "G"], 1, "NoSuchCluster");

    // Name server config: read, change a live key, refuse black-listed and unknown keys.
    let t = ok(&["getNamesrvConfig", "-n", n]);
    assert!(t.starts_with(&format!("============{n}============")), "{t}");
    assert!(t.lines().any(|l| l.starts_with("orderMessageEnable") && l.ends_with("false")), "{t}");
    let out = ok(&["updateNamesrvConfig", "-n", n, "-k", "orderMessageEnable", "-v", "true"]);
    assert!(out.contains("success"), "{out}");
    let j = json(&["getNamesrvConfig", "-n", n]);
    let entries = j[0]["entries"].as_array().unwrap();
    assert!(entries.iter().any(|e| e[0] == "orderMessageEnable" && e[1] == "true"), "{j}");
    fails(&["updateNamesrvConfig", "-n", n, "-k", "kvConfigPath", "-v", "/tmp/x"], 1, "black list");
    fails(&["updateNamesrvConfig", "-n", n, "-k", "noSuchKey", "-v", "1"], 1, "unknown key");
    fails(
        &["updateNamesrvConfig", "-n", n, "-k", "scanNotActiveBrokerInterval", "-v", "x"],
        1,
        "bad value",
    );

    // KV config.
    ok(&["updateKvConfig", "-n", n, "-s", "OPS_NS", "-k", "k1", "-v", "v1"]);
    ok(&["updateKvConfig", "-n", n, "-s", "OPS_NS", "-k", "k2", "-v", "v2"]);
    let t = ok(&["getKvConfig", "-n", n, "-s", "OPS_NS", "-k", "k1"]);
    assert_eq!(
        t.lines().nth(1).map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["OPS_NS", "k1", "v1"]),
        "{t}"
    );
    let j = json(&["getKvConfig", "-n", n, "-s", "OPS_NS"]);
    assert_eq!(j.as_array().unwrap().len(), 2, "{j}");
    assert!(ok(&["deleteKvConfig", "-n", n, "-s", "OPS_NS", "-k", "k1"]).contains("success"));
    fails(&["getKvConfig", "-n", n, "-s", "OPS_NS", "-k", "k1"], 1, "no KV config");
    fails(&["getKvConfig", "-n", n, "-s", "NO_NS"], 1, "no KV config");

    // Write permission: wiped on the name server (the broker keeps its own), then back.
    let t = ok(&["wipeWritePerm", "-n", n, "-b", "broker-a"]);
    let count: i64 = t.trim().rsplit(' ').next().unwrap().parse().unwrap();
    assert!(t.contains(&format!("in name server[{n}] OK")) && count >= 1, "{t}");
    assert_eq!(perms(), [4]);
    let j = json(&["addWritePerm", "-n", n, "-b", "broker-a"]);
    assert_eq!(j[0]["topics"].as_i64(), Some(count), "{j}");
    assert_eq!(perms(), [6]);
    assert!(ok(&["wipeWritePerm", "-n", n, "-b", "no-such-broker"]).contains("OK, 0"));

    // clusterRT: one round of sends to the broker-name topic.
    let j = json(&["clusterRT", "-n", n, "-a", "5", "-s", "16"]);
    assert_eq!(
        (j[0]["brokerName"].as_str(), j[0]["success"].as_i64(), j[0]["failed"].as_i64()),
        (Some("broker-a"), Some(5), Some(0)),
        "{j}"
    );
    let t = ok(&["clusterRT", "-n", n, "-a", "3", "-c", "OpsCluster"]);
    assert!(
        t.starts_with("#Cluster Name") && t.lines().nth(1).unwrap().starts_with("OpsCluster"),
        "{t}"
    );
    fails(&["clusterRT", "-n", n, "-c", "NoSuchCluster"], 1, "NoSuchCluster");

    // brokerStatus and getBrokerConfig in JSON.
    let j = json(&["brokerStatus", "-b", &addr]);
    assert!(j["brokerVersionDesc"].is_string(), "{j}");
    let j = json(&["getBrokerConfig", "-b", &addr]);
    assert!(
        j.as_array()
            .unwrap()
            .iter()
            .any(|e| e["key"] == "brokerClusterName" && e["value"] == "OpsCluster"),
        "{j}"
    );
    fails(&["brokerStatus", "-b", "127.0.0.1:1"], 1, "127.0.0.1:1");
}
