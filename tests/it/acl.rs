//! ACL (issue 13) end to end: a broker with `aclEnable=true` and a plain_acl.yml, as real
//! processes on loopback, against our Rust client, rmq-admin, Apache's C++ client (PyPI
//! `rocketmq` 0.4.4) and librocketmq.so (compat).

use crate::util::{wait_until, Cluster, TestDir};
use rmq::client::*;
use rmq::protocol::codes::request as rq;
use rmq::protocol::command::RemotingCommand;
use rmq::remoting::RemotingClient;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const AK: &str = "rmq-acl-ak";
pub const SK: &str = "rmq-acl-secret-1";
pub const ADMIN_AK: &str = "rmq-acl-admin";
pub const ADMIN_SK: &str = "rmq-acl-admin-secret";
/// An account whose `whiteRemoteAddress` is loopback: its requests need no signature.
const WHITE_AK: &str = "rmq-acl-white";
/// SUB only on [`TOPIC`].
const SUB_AK: &str = "rmq-acl-sub";
const SUB_SK: &str = "rmq-acl-sub-secret";
/// PUB|SUB for [`AK`].
pub const TOPIC: &str = "TopicAcl";
/// DENY for [`AK`].
pub const DENIED: &str = "TopicAclDeny";

/// The accounts every test here starts with; `global_white` is the `globalWhiteRemoteAddresses`
/// entry (a non-loopback network unless a test wants loopback admitted).
pub fn acl_yaml(global_white: &str) -> String {
    format!(
        "globalWhiteRemoteAddresses:\n\
         \x20 - {global_white}\n\
         accounts:\n\
         \x20 - accessKey: {AK}\n\
         \x20   secretKey: {SK}\n\
         \x20   whiteRemoteAddress:\n\
         \x20   admin: false\n\
         \x20   defaultTopicPerm: DENY\n\
         \x20   defaultGroupPerm: SUB\n\
         \x20   topicPerms:\n\
         \x20     - {TOPIC}=PUB|SUB\n\
         \x20     - {DENIED}=DENY\n\
         \x20   groupPerms:\n\
         \x20     - GID_acl_denied=DENY\n\
         \x20 - accessKey: {ADMIN_AK}\n\
         \x20   secretKey: {ADMIN_SK}\n\
         \x20   admin: true\n\
         \x20 - accessKey: {SUB_AK}\n\
         \x20   secretKey: {SUB_SK}\n\
         \x20   defaultTopicPerm: DENY\n\
         \x20   topicPerms: [{TOPIC}=SUB]\n\
         \x20 - accessKey: {WHITE_AK}\n\
         \x20   secretKey: rmq-acl-white-secret\n\
         \x20   whiteRemoteAddress: 127.0.0.1\n\
         \x20   admin: false\n"
    )
}

/// A cluster whose broker enforces ACL with `yaml` in `dir/plain_acl.yml`, with
/// [`TOPIC`] and [`DENIED`] created (4 queues each) and routed.
pub fn acl_cluster(dir: &Path, yaml: &str) -> Cluster {
    let file = dir.join("plain_acl.yml");
    std::fs::write(&file, yaml).unwrap();
    let cluster =
        Cluster::start(dir, &["--aclEnable=true", &format!("--plainAclFile={}", file.display())]);
    let admin = signed(ADMIN_AK, ADMIN_SK);
    for topic in [TOPIC, DENIED] {
        let req = RemotingCommand::request(rq::UPDATE_AND_CREATE_TOPIC)
            .with("topic", topic)
            .with("readQueueNums", 4)
            .with("writeQueueNums", 4)
            .with("perm", 6);
        let r = admin.invoke(&cluster.broker_addr(), req, Duration::from_secs(5)).unwrap();
        assert_eq!(r.code, 0, "create {topic}: {:?}", r.remark);
    }
    let ns = cluster.namesrv_addr();
    assert!(wait_until(Duration::from_secs(20), || {
        [TOPIC, DENIED].iter().all(|t| {
            let req = RemotingCommand::request(rq::GET_ROUTEINFO_BY_TOPIC).with("topic", *t);
            admin.invoke(&ns, req, Duration::from_secs(5)).map(|r| r.code == 0).unwrap_or(false)
        })
    }));
    cluster
}

/// A remoting client that signs every request as `ak` / `sk`.
fn signed(ak: &str, sk: &str) -> RemotingClient {
    let c = RemotingClient::new();
    Credentials::new(ak, sk).install(&c);
    c
}

/// (code, remark) of `req` sent to `addr` by `c`.
fn call(c: &RemotingClient, addr: &str, req: RemotingCommand) -> (i32, String) {
    let r = c.invoke(addr, req, Duration::from_secs(5)).unwrap();
    (r.code, r.remark.unwrap_or_default())
}

/// (code, remark) of `req` sent to `addr` over a fresh connection from source address `src`.
fn call_from(src: [u8; 4], addr: &str, req: &RemotingCommand) -> (i32, String) {
    use std::io::{Read, Write};
    use std::os::fd::FromRawFd;
    let dst: std::net::SocketAddrV4 = addr.parse().unwrap();
    let sin = |ip: [u8; 4], port: u16| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(ip) },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: plain socket calls on a descriptor this function owns; the addresses outlive them.
    let mut stream = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let stream = std::net::TcpStream::from_raw_fd(fd);
        let local = sin(src, 0);
        let rc = libc::bind(fd, (&local as *const libc::sockaddr_in).cast(), len);
        assert_eq!(rc, 0, "bind {src:?}: {}", std::io::Error::last_os_error());
        let remote = sin(dst.ip().octets(), dst.port());
        let rc = libc::connect(fd, (&remote as *const libc::sockaddr_in).cast(), len);
        assert_eq!(rc, 0, "connect {addr}: {}", std::io::Error::last_os_error());
        stream
    };
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(&rmq::protocol::frame::encode_to_vec(req)).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some((resp, _)) = rmq::protocol::frame::decode(&buf, 1 << 24).unwrap() {
            return (resp.code, resp.remark.unwrap_or_default());
        }
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "the broker closed the connection without an answer");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn fast(cfg: &mut ClientConfig, name: &str) {
    cfg.instance_name = name.to_string();
    cfg.client_ip = "127.0.0.1".into();
    cfg.poll_namesrv_interval = Duration::from_millis(500);
    cfg.heartbeat_interval = Duration::from_millis(500);
    cfg.persist_offset_interval = Duration::from_millis(300);
}

fn producer(ns: &str, group: &str, creds: Option<(&str, &str)>) -> Producer {
    let mut o = ProducerOptions::new(group, ns);
    fast(&mut o.config, group);
    if let Some((ak, sk)) = creds {
        o.config.set_credentials(ak, sk);
    }
    o.retry_times = 0;
    let p = Producer::new(o).unwrap();
    p.start().unwrap();
    p
}

/// The error of a refused send, as text (code and remark included).
fn refused(p: &Producer, topic: &str) -> String {
    match p.send(&Message::new(topic, "x")) {
        Ok(r) => panic!("a send to {topic} must be refused, got {r:?}"),
        Err(e) => {
            assert_eq!(e.code(), Some(1), "refusals are SYSTEM_ERROR as Apache 4.x: {e}");
            e.to_string()
        }
    }
}

const ACL_EXC: &str = "org.apache.rocketmq.acl.common.AclException: ";

#[test]
fn acl_rust_client_admin_whitelists_and_reload() {
    let dir = TestDir::new("acl-rust");
    let cluster = acl_cluster(&dir.path, &acl_yaml("10.99.99.*"));
    let ns = cluster.namesrv_addr();
    let broker = cluster.broker_addr();

    // The right account produces...
    let good = producer(&ns, "PG_acl_good", Some((AK, SK)));
    for i in 0..10 {
        let r = good.send(&Message::new(TOPIC, format!("acl-{i}"))).unwrap();
        assert_eq!(r.status, SendStatus::Ok);
    }
    // ...and consumes, with a push consumer (heartbeat, pulls, offsets all signed).
    let mut o = PushConsumerOptions::new("GID_acl_ok", &ns);
    fast(&mut o.config, "c-acl-ok");
    o.config.set_credentials(AK, SK);
    o.consume_from = ConsumeFrom::FirstOffset;
    o.rebalance_interval = Duration::from_millis(500);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let c = PushConsumer::new(o).unwrap();
    c.subscribe(TOPIC, "*").unwrap();
    let s = seen.clone();
    c.register_concurrent(Arc::new(move |msgs: &[MessageExt]| {
        s.lock()
            .unwrap()
            .extend(msgs.iter().map(|m| String::from_utf8_lossy(m.body()).to_string()));
        ConsumeStatus::Success
    }))
    .unwrap();
    c.start().unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || seen.lock().unwrap().len() >= 10),
        "the signed consumer got {:?}",
        seen.lock().unwrap()
    );
    c.shutdown();

    // A DENY topic, a wrong secret, an unknown account and no credentials are refused.
    let e = refused(&good, DENIED);
    assert!(e.contains(&format!("{ACL_EXC}No default permission for topic:{DENIED}")), "{e}");
    let wrong = producer(&ns, "PG_acl_wrong", Some((AK, "rmq-acl-secret-2")));
    let e = refused(&wrong, TOPIC);
    assert!(e.contains(&format!("{ACL_EXC}Check signature failed for accessKey={AK}")), "{e}");
    let unknown = producer(&ns, "PG_acl_unknown", Some(("nobody-here", SK)));
    let e = refused(&unknown, TOPIC);
    assert!(e.contains("No acl config for nobody-here"), "{e}");
    let anon = producer(&ns, "PG_acl_anon", None);
    let e = refused(&anon, TOPIC);
    assert!(e.contains("No accessKey is configured"), "{e}");

    // A group the account may not consume as: its pull is refused (`%RETRY%` group perm).
    let user = signed(AK, SK);
    let pull = RemotingCommand::request(rq::PULL_MESSAGE)
        .with("consumerGroup", "GID_acl_denied")
        .with("topic", TOPIC)
        .with("queueId", 0)
        .with("queueOffset", 0)
        .with("maxMsgNums", 1)
        .with("sysFlag", 0)
        .with("commitOffset", 0)
        .with("suspendTimeoutMillis", 0)
        .with("subVersion", 0);
    let (code, remark) = call(&user, &broker, pull);
    assert_eq!((code, remark.as_str()), (1, "org.apache.rocketmq.acl.common.AclException: No default permission for group:GID_acl_denied"));
    // A code with no resources still needs a valid signature (as Apache).
    let offset =
        RemotingCommand::request(rq::GET_MAX_OFFSET).with("topic", TOPIC).with("queueId", 0);
    assert_eq!(call(&user, &broker, offset.clone()).0, 0);
    assert_eq!(call(&signed(AK, "bad-secret"), &broker, offset.clone()).0, 1);

    // Admin codes need an admin account: rmq-admin with the user's keys is refused, with the
    // admin's it creates the topic.
    let admin_bin = env!("CARGO_BIN_EXE_rmq-admin");
    let update = |ak: &str, sk: &str| {
        Command::new(admin_bin)
            .args(["updateTopic", "-n", &ns, "-b", &broker, "-t", "TopicAclNew"])
            .args(["--accessKey", ak])
            .args(["--secretKey", sk])
            .env_remove("NAMESRV_ADDR")
            .output()
            .unwrap()
    };
    let out = update(AK, SK);
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a non-admin updateTopic must fail: {text}");
    assert!(
        text.contains(&format!(
            "Need admin permission for request code=17, but accessKey={AK} is not"
        )),
        "{text}"
    );
    let out = update(ADMIN_AK, ADMIN_SK);
    assert!(out.status.success(), "admin updateTopic: {}", String::from_utf8_lossy(&out.stderr));
    let topics = RemotingCommand::request(rq::GET_ALL_TOPIC_CONFIG);
    let r = signed(ADMIN_AK, ADMIN_SK).invoke(&broker, topics, Duration::from_secs(5)).unwrap();
    assert!(String::from_utf8_lossy(&r.body).contains("TopicAclNew"));

    // An account whose whiteRemoteAddress matches needs no valid signature, even on a topic
    // its (empty) perms would deny.
    let (code, remark) = call(&signed(WHITE_AK, "not-its-secret"), &broker, offset.clone());
    assert_eq!(code, 0, "{remark}");
    // From 127.0.0.2, outside that whitelist, the same request must verify and does not.
    let mut unsigned = offset.clone();
    Credentials::new(WHITE_AK, "not-its-secret").sign(&mut unsigned);
    let (code, remark) = call_from([127, 0, 0, 2], &broker, &unsigned);
    assert_eq!(
        (code, remark.as_str()),
        (1, "org.apache.rocketmq.acl.common.AclException: Check signature failed for accessKey=rmq-acl-white")
    );
    let mut right = offset.clone();
    Credentials::new(WHITE_AK, "rmq-acl-white-secret").sign(&mut right);
    assert_eq!(call_from([127, 0, 0, 2], &broker, &right).0, 0, "signed, it passes from anywhere");

    // Hot reload: loopback in globalWhiteRemoteAddresses admits the anonymous producer; the
    // file back without it refuses it again.
    let file = dir.path.join("plain_acl.yml");
    std::fs::write(&file, acl_yaml("127.0.0.*")).unwrap();
    assert!(
        wait_until(Duration::from_secs(6), || anon.send(&Message::new(TOPIC, "anon")).is_ok()),
        "a reloaded global whitelist admits unsigned requests within 5 s"
    );
    // A broken file keeps the last good ACL.
    std::fs::write(&file, "accounts: [ {accessKey: x\n").unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    assert!(anon.send(&Message::new(TOPIC, "still")).is_ok(), "a broken file keeps the last ACL");
    std::fs::write(&file, acl_yaml("10.99.99.*")).unwrap();
    assert!(
        wait_until(Duration::from_secs(6), || anon.send(&Message::new(TOPIC, "no")).is_err()),
        "the file without the whitelist refuses again"
    );
    for p in [good, wrong, unknown, anon] {
        p.shutdown();
    }
}

#[test]
fn acl_off_serves_signed_requests() {
    let dir = TestDir::new("acl-off");
    let cluster = Cluster::start(&dir.path, &[]);
    let ns = cluster.namesrv_addr();
    // Wrong credentials on a broker without ACL: served normally (Apache's C++ client always
    // signs).
    let p = producer(&ns, "PG_acl_off", Some((AK, "whatever-secret")));
    assert!(wait_until(Duration::from_secs(10), || p
        .send(&Message::new("TopicAclOff", "x"))
        .is_ok()));
    p.shutdown();
}

#[test]
fn acl_enabled_without_a_file_refuses_to_start() {
    let dir = TestDir::new("acl-nofile");
    let out = Command::new(crate::util::BROKER_BIN)
        .args(["-n", "127.0.0.1:1", "--aclEnable=true", "--listenPort=0"])
        .arg("--bindAddress=127.0.0.1")
        .arg(format!("--plainAclFile={}", dir.path.join("missing.yml").display()))
        .arg(format!("--storePathRootDir={}", dir.path.join("store").display()))
        .env_remove("ROCKETMQ_HOME")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing.yml"), "{err}");
}

/// Run tests/python/acl_cpp.py (Apache's C++ client) with `args`; its last-line JSON.
fn cpp(args: &[&str], home: &Path) -> serde_json::Value {
    cpp_with(args, home, None)
}

/// [`cpp`], with `pythonpath` (the binding on rmq's librocketmq.so) when given.
fn cpp_with(args: &[&str], home: &Path, pythonpath: Option<&Path>) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/acl_cpp.py");
    let mut cmd = Command::new(crate::interop::python());
    if let Some(p) = pythonpath {
        cmd.env("PYTHONPATH", p);
    }
    let child = cmd
        .arg(script)
        .args(args)
        .env("HOME", home)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let (code, v) = crate::interop::finish(child, &args, Duration::from_secs(120));
    assert_eq!(code, 0, "acl_cpp.py {args:?}: {v}");
    v
}

#[test]
fn acl_apache_cpp_client_signs_and_is_refused_as_apache() {
    let dir = TestDir::new("acl-cpp");
    let cluster = acl_cluster(&dir.path, &acl_yaml("10.99.99.*"));
    let ns = cluster.namesrv_addr();
    let home = dir.path.as_path();
    let produce = |topic: &str, group: &str, creds: &[&str]| {
        let mut a = vec!["produce", "--namesrv", &ns, "--topic", topic, "--group", group];
        a.extend(["--count", "5"]);
        a.extend(creds);
        cpp(&a, home)
    };
    let good = ["--ak", AK, "--sk", SK];
    // The right account produces and consumes.
    let v = produce(TOPIC, "PG_acl_cpp", &good);
    assert_eq!((v["ok"].as_u64(), v["failed"].as_u64()), (Some(5), Some(0)), "{v}");
    let mut a = vec!["push", "--namesrv", &ns, "--topic", TOPIC, "--group", "GID_acl_cpp"];
    a.extend(["--count", "5"]);
    a.extend(good);
    let v = cpp(&a, home);
    assert_eq!(v["received"].as_u64(), Some(5), "{v}");
    // A wrong secret, no credentials and a DENY topic are refused.
    for (topic, creds, why) in [
        (
            TOPIC,
            &["--ak", AK, "--sk", "rmq-acl-secret-2"][..],
            "Check signature failed for accessKey=rmq-acl-ak",
        ),
        (TOPIC, &["--ak", "nobody-here", "--sk", SK][..], "No acl config for nobody-here"),
        // Without credentials the C++ client still sends an empty AccessKey (and signs), which
        // Apache answers so too.
        (TOPIC, &[][..], "No acl config for "),
        (DENIED, &good[..], "No default permission for topic:TopicAclDeny"),
    ] {
        let v = produce(topic, "PG_acl_cpp_bad", creds);
        assert_eq!((v["ok"].as_u64(), v["failed"].as_u64()), (Some(0), Some(5)), "{why}: {v}");
        // The C++ client's exception text says only "No route info"; its log has the remark.
        let logs = cpp_logs(&dir.path.join("logs/rocketmq-cpp"));
        assert!(logs.contains(&format!("remark:{ACL_EXC}{why}, error code:1")), "{why}: {v}");
    }
}

/// Every C++ client log under `dir`, concatenated.
fn cpp_logs(dir: &Path) -> String {
    let mut out = String::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        out.push_str(&String::from_utf8_lossy(&std::fs::read(e.path()).unwrap_or_default()));
    }
    out
}

/// librocketmq.so (compat) under Apache's own PyPI binding: SetProducerSessionCredentials and
/// SetPushConsumerSessionCredentials sign, so the right account produces and consumes, and a
/// wrong secret is refused.
#[test]
fn acl_compat_library_signs_with_session_credentials() {
    let dir = TestDir::new("acl-compat");
    let cluster = acl_cluster(&dir.path, &acl_yaml("10.99.99.*"));
    let ns = cluster.namesrv_addr();
    let path = crate::compat::python::v1_pythonpath();
    let home = dir.path.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let run = |args: &[&str]| cpp_with(args, &home, Some(&path));
    let base = ["--namesrv", ns.as_str(), "--topic", TOPIC, "--count", "5"];
    let mut a = vec!["produce", "--group", "PG_acl_compat", "--ak", AK, "--sk", SK];
    a.extend(base);
    let v = run(&a);
    assert_eq!((v["ok"].as_u64(), v["failed"].as_u64()), (Some(5), Some(0)), "{v}");
    let mut a = vec!["push", "--group", "GID_acl_compat", "--ak", AK, "--sk", SK];
    a.extend(base);
    let v = run(&a);
    assert_eq!(v["received"].as_u64(), Some(5), "{v}");
    let mut a = vec!["produce", "--group", "PG_acl_compat_bad", "--ak", AK, "--sk", "wrong-secret"];
    a.extend(base);
    let v = run(&a);
    assert_eq!((v["ok"].as_u64(), v["failed"].as_u64()), (Some(0), Some(5)), "{v}");
    assert!(v["errors"].to_string().contains("Check signature failed"), "{v}");
}

/// Our Python binding on librmq: rmq_*_set_session_credentials sign the producer's, push
/// consumer's and pull consumer's requests; a wrong secret is refused with Apache's remark.
#[test]
fn acl_python_binding_on_librmq_signs() {
    let dir = TestDir::new("acl-py");
    let cluster = acl_cluster(&dir.path, &acl_yaml("10.99.99.*"));
    let ns = cluster.namesrv_addr();
    let out = crate::ffi::run_ok(
        crate::ffi::python::py_cmd("tests/python/acl_rmq.py")
            .args(["--namesrv", &ns, "--topic", TOPIC, "--ak", AK, "--sk", SK])
            .args(["--bad-sk", "rmq-acl-wrong", "--count", "5"]),
        Duration::from_secs(120),
    );
    let v = crate::ffi::python::last_json(&out);
    assert_eq!(
        (v["sent"].as_u64(), v["pushed"].as_u64(), v["pulled"].as_u64()),
        (Some(5), Some(5), Some(5)),
        "{v}"
    );
    let bad = v["bad_error"].as_str().unwrap_or_default();
    assert!(bad.contains(&format!("Check signature failed for accessKey={AK}")), "{v}");
}

/// END_TRANSACTION from a 4.x client names no topic (Apache checks only its signature): rmq
/// checks PUB on the half message's real topic, so an account that may only subscribe cannot
/// commit someone's half message; the producer's own account can.
#[test]
fn acl_end_transaction_needs_pub_on_the_real_topic() {
    let dir = TestDir::new("acl-txn");
    let cluster = acl_cluster(&dir.path, &acl_yaml("10.99.99.*"));
    let broker = cluster.broker_addr();
    let half = RemotingCommand::request(rq::SEND_MESSAGE_V2)
        .with("a", "PG_acl_txn")
        .with("b", TOPIC)
        .with("c", "TBW102")
        .with("d", 4)
        .with("e", 0)
        .with("f", 4) // TRANSACTION_PREPARED
        .with("g", 0)
        .with("h", 0)
        .with("i", "TRAN_MSG\u{1}true\u{2}PGROUP\u{1}PG_acl_txn\u{2}")
        .with_body(b"half".to_vec());
    let producer = signed(AK, SK);
    let r = producer.invoke(&broker, half, Duration::from_secs(5)).unwrap();
    assert_eq!(r.code, 0, "{:?}", r.remark);
    let msg_id = r.field("msgId").unwrap().to_string();
    let commit_offset = i64::from_str_radix(&msg_id[16..32], 16).unwrap();
    let end = RemotingCommand::request(rq::END_TRANSACTION)
        .with("producerGroup", "PG_acl_txn")
        .with("tranStateTableOffset", r.field("queueOffset").unwrap())
        .with("commitLogOffset", commit_offset)
        .with("commitOrRollback", 8) // TRANSACTION_COMMIT
        .with("fromTransactionCheck", false)
        .with("msgId", &msg_id);
    let (code, remark) = call(&signed(SUB_AK, SUB_SK), &broker, end.clone());
    assert_eq!(
        (code, remark.as_str()),
        (
            1,
            "org.apache.rocketmq.acl.common.AclException: No default permission for topic:TopicAcl"
        )
    );
    let (code, remark) = call(&signed(AK, "wrong-secret"), &broker, end.clone());
    assert_eq!((code, remark.as_str()), (1, "org.apache.rocketmq.acl.common.AclException: Check signature failed for accessKey=rmq-acl-ak"));
    assert_eq!(call(&producer, &broker, end), (0, String::new()));

    // The Rust transaction producer signs its half sends and its one-way END_TRANSACTION: the
    // committed copy reaches the topic's queues.
    struct Commit;
    impl TransactionListener for Commit {
        fn execute_local(&self, _: &Message) -> LocalTxState {
            LocalTxState::Commit
        }
        fn check_local(&self, _: &MessageExt) -> LocalTxState {
            LocalTxState::Commit
        }
    }
    let stored = || {
        (0..4)
            .map(|q| {
                let req = RemotingCommand::request(rq::GET_MAX_OFFSET)
                    .with("topic", TOPIC)
                    .with("queueId", q);
                producer
                    .invoke(&broker, req, Duration::from_secs(5))
                    .unwrap()
                    .field("offset")
                    .unwrap()
                    .parse::<i64>()
                    .unwrap()
            })
            .sum::<i64>()
    };
    // The copy committed above, once dispatched.
    assert!(wait_until(Duration::from_secs(10), || stored() == 1), "the raw commit's copy");
    let before = stored();
    let mut o = ProducerOptions::new("PG_acl_txn_rust", &cluster.namesrv_addr());
    fast(&mut o.config, "PG_acl_txn_rust");
    o.config.set_credentials(AK, SK);
    let tx = TransactionProducer::new(o, Arc::new(Commit)).unwrap();
    tx.start().unwrap();
    tx.send_in_transaction(&Message::new(TOPIC, "committed")).unwrap();
    assert!(
        wait_until(Duration::from_secs(10), || stored() == before + 1),
        "committed copy stored"
    );
    tx.shutdown();
}

/// The C++ wrapper (rmq.hpp) on librmq: set_session_credentials on a producer and a pull
/// consumer; a wrong secret is refused with Apache's remark.
#[test]
fn acl_cpp_wrapper_on_librmq_signs() {
    let dir = TestDir::new("acl-hpp");
    let cluster = acl_cluster(&dir.path, &acl_yaml("10.99.99.*"));
    let bin = crate::ffi::compile(&["tests/c/acl.cpp"], &dir.path, "acl", "c++17", &[]);
    let ns = cluster.namesrv_addr();
    let out = crate::ffi::run_ok(
        Command::new(bin).args([&ns, TOPIC, AK, SK, "rmq-acl-wrong", "5"]),
        Duration::from_secs(60),
    );
    assert!(out.contains("sent 5\n"), "{out}");
    assert!(
        out.contains("refused: ")
            && out.contains("Check signature failed for accessKey=rmq-acl-ak"),
        "{out}"
    );
    assert!(out.contains("pulled 5\n"), "{out}");
}

/// A slave syncs topics, offsets and groups from its master over remoting: an `aclEnable`
/// master refuses an unsigned slave, and serves one with `innerClientAccessKey/SecretKey`.
#[test]
fn acl_slave_syncs_from_an_acl_master_with_inner_client_credentials() {
    let dir = TestDir::new("acl-slave");
    let cluster = acl_cluster(&dir.path, &acl_yaml("10.99.99.*"));
    let ns = cluster.namesrv_addr();
    let slave = |id: &str, extra: &[&str]| {
        let mut a: Vec<String> = vec![
            "-n".into(),
            ns.clone(),
            "--listenPort=0".into(),
            "--bindAddress=127.0.0.1".into(),
            "--brokerIP1=127.0.0.1".into(),
            format!("--storePathRootDir={}", dir.path.join(format!("slave-{id}")).display()),
            "--brokerName=broker-a".into(),
            "--brokerRole=SLAVE".into(),
            format!("--brokerId={id}"),
            "--slaveSyncInterval=300".into(),
        ];
        a.extend(crate::util::small_store_args());
        a.extend(extra.iter().map(|s| s.to_string()));
        crate::util::Proc::start(
            crate::util::BROKER_BIN,
            &a,
            dir.path.join(format!("slave-{id}.log")),
            1,
        )
    };
    let topics = |addr: &str| {
        let r = RemotingClient::new()
            .invoke(
                addr,
                RemotingCommand::request(rq::GET_ALL_TOPIC_CONFIG),
                Duration::from_secs(5),
            )
            .unwrap();
        String::from_utf8_lossy(&r.body).to_string()
    };
    let log = |id: &str| std::fs::read_to_string(dir.path.join(format!("slave-{id}.log"))).unwrap();
    let mut unsigned = slave("1", &[]);
    assert!(
        wait_until(Duration::from_secs(10), || log("1").contains("No accessKey is configured")),
        "the unsigned slave's sync is refused: {}",
        log("1")
    );
    assert!(!topics(&unsigned.addr("listen")).contains(TOPIC));
    unsigned.stop();
    let signed_slave = slave(
        "2",
        &[
            &format!("--innerClientAccessKey={ADMIN_AK}"),
            &format!("--innerClientSecretKey={ADMIN_SK}"),
        ],
    );
    let sa = signed_slave.addr("listen");
    assert!(
        wait_until(Duration::from_secs(10), || topics(&sa).contains(TOPIC)),
        "the signed slave has the master's topics: {}",
        log("2")
    );
    // The secret is not listed by GET_BROKER_CONFIG.
    let r = RemotingClient::new()
        .invoke(&sa, RemotingCommand::request(rq::GET_BROKER_CONFIG), Duration::from_secs(5))
        .unwrap();
    assert!(!String::from_utf8_lossy(&r.body).contains(ADMIN_SK));
}
