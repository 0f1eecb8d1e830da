//! The validator: Apache's check order, refusal texts and permission logic.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::protocol::codes::request as rq;
use std::time::Instant;

const FILE: &str = "
globalWhiteRemoteAddresses:
  - 10.10.103.*
accounts:
  - accessKey: producer1
    secretKey: producer-secret
    whiteRemoteAddress:
    admin: false
    defaultTopicPerm: DENY
    defaultGroupPerm: SUB
    topicPerms:
      - TopicA=PUB
      - TopicB=PUB|SUB
      - TopicD=DENY
    groupPerms:
      - GroupDenied=DENY
  - accessKey: admin-user
    secretKey: admin-secret
    whiteRemoteAddress: 192.168.1.*
    admin: true
  - accessKey: admin-scoped
    secretKey: admin-secret
    admin: true
    defaultTopicPerm: SUB
    topicPerms: [TopicA=DENY]
";

fn acl() -> Acl {
    Acl::parse(FILE).unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn signed(mut cmd: RemotingCommand, ak: &str, sk: &str) -> RemotingCommand {
    sign(&mut cmd, ak, sk, None);
    cmd
}

fn send(topic: &str) -> RemotingCommand {
    RemotingCommand::request(rq::SEND_MESSAGE_V2)
        .with("a", "PG")
        .with("b", topic)
        .with("e", 0)
        .with_body(b"hello".to_vec())
}

fn refusal(r: Result<(), AclError>) -> String {
    let e = r.unwrap_err();
    assert!(e.is_refusal() && e.code() == 1, "{e}");
    assert_eq!(e.remark(), format!("org.apache.rocketmq.acl.common.AclException: {e}"));
    e.to_string()
}

const LAN: &str = "172.16.0.9";

#[test]
fn order_whitelist_account_signature_resources() {
    let a = acl();
    // 1. A global whitelist match admits anything, even unsigned and to a DENY topic.
    assert!(a.check(ip("10.10.103.7"), &send("TopicD")).is_ok());
    assert!(a.check(ip("::ffff:10.10.103.7"), &send("TopicD")).is_ok());
    // 2. Otherwise an AccessKey must name an account.
    assert_eq!(refusal(a.check(ip(LAN), &send("TopicA"))), "No accessKey is configured");
    let unknown = signed(send("TopicA"), "nobody-here", "producer-secret");
    assert_eq!(refusal(a.check(ip(LAN), &unknown)), "No acl config for nobody-here");
    // The C++ client without credentials sends AccessKey "".
    let empty = send("TopicA").with(ACCESS_KEY, "").with(SIGNATURE, "x");
    assert_eq!(refusal(a.check(ip(LAN), &empty)), "No acl config for ");
    // 3. The account's whitelist admits without a signature.
    let unsigned_admin = send("TopicD").with(ACCESS_KEY, "admin-user");
    assert!(a.check(ip("192.168.1.50"), &unsigned_admin).is_ok());
    assert_eq!(
        refusal(a.check(ip("192.168.2.50"), &unsigned_admin)),
        "Check signature failed for accessKey=admin-user"
    );
    // 4. The signature, with the account's secret.
    let wrong = signed(send("TopicA"), "producer1", "not-the-secret");
    assert_eq!(refusal(a.check(ip(LAN), &wrong)), "Check signature failed for accessKey=producer1");
    let mut tampered = signed(send("TopicA"), "producer1", "producer-secret");
    tampered.put("b", "TopicB");
    assert!(refusal(a.check(ip(LAN), &tampered)).starts_with("Check signature failed"));
    // 5. Resources.
    assert!(a.check(ip(LAN), &signed(send("TopicA"), "producer1", "producer-secret")).is_ok());
    assert_eq!(
        refusal(a.check(ip(LAN), &signed(send("TopicD"), "producer1", "producer-secret"))),
        "No default permission for topic:TopicD"
    );
    assert_eq!(
        refusal(a.check(ip(LAN), &signed(send("Other"), "producer1", "producer-secret"))),
        "No default permission for topic:Other"
    );
}

#[test]
fn perms_groups_admin_and_batch() {
    let a = acl();
    let p = |cmd: RemotingCommand| a.check(ip(LAN), &signed(cmd, "producer1", "producer-secret"));
    let pull = |topic: &str, group: &str| {
        RemotingCommand::request(rq::PULL_MESSAGE)
            .with("topic", topic)
            .with("consumerGroup", group)
            .with("queueId", 0)
    };
    // TopicA is PUB only; TopicB PUB|SUB; groups default to SUB.
    assert_eq!(refusal(p(pull("TopicA", "G"))), "No default permission for topic:TopicA");
    assert!(p(pull("TopicB", "AnyGroup")).is_ok());
    assert_eq!(
        refusal(p(pull("TopicB", "GroupDenied"))),
        "No default permission for group:GroupDenied"
    );
    // A send back to a retry topic needs SUB on the group.
    assert!(p(send("%RETRY%AnyGroup")).is_ok());
    assert_eq!(
        refusal(p(send("%RETRY%GroupDenied"))),
        "No default permission for group:GroupDenied"
    );
    // Batch sends are checked (Apache lets them through).
    let batch = |t: &str| RemotingCommand::request(rq::SEND_BATCH_MESSAGE).with("b", t);
    assert!(p(batch("TopicA")).is_ok());
    assert_eq!(refusal(p(batch("TopicD"))), "No default permission for topic:TopicD");
    // Admin-only codes.
    let create = RemotingCommand::request(rq::UPDATE_AND_CREATE_TOPIC).with("topic", "New");
    assert_eq!(
        refusal(p(create.clone())),
        "Need admin permission for request code=17, but accessKey=producer1 is not"
    );
    let admin = signed(create.clone(), "admin-user", "admin-secret");
    assert!(a.check(ip(LAN), &admin).is_ok());
    // An admin without perms has every resource; one with perms is held to them.
    assert!(a.check(ip(LAN), &signed(send("TopicD"), "admin-user", "admin-secret")).is_ok());
    let scoped = |t: &str| a.check(ip(LAN), &signed(send(t), "admin-scoped", "admin-secret"));
    assert_eq!(refusal(scoped("TopicA")), "No default permission for topic:TopicA");
    assert_eq!(refusal(scoped("TopicC")), "No default permission for topic:TopicC");
    let query = RemotingCommand::request(rq::QUERY_MESSAGE).with("topic", "TopicC");
    assert!(a.check(ip(LAN), &signed(query, "admin-scoped", "admin-secret")).is_ok());
    // Its absent defaultGroupPerm is DENY, as in Apache.
    let pulled = a.check(ip(LAN), &signed(pull("TopicC", "G"), "admin-scoped", "admin-secret"));
    assert_eq!(refusal(pulled), "No default permission for group:G");
    // The trace topic is open to any signed account (Apache).
    assert!(p(send(TRACE_TOPIC)).is_ok());
    // Codes without resources only need a valid signature.
    let route = RemotingCommand::request(rq::GET_ROUTEINFO_BY_TOPIC).with("topic", "TopicD");
    assert!(p(route.clone()).is_ok());
    assert!(a.check(ip(LAN), &route).is_err());
    // A malformed request is refused with the reason, after the signature.
    assert!(refusal(p(RemotingCommand::request(rq::PULL_MESSAGE))).contains("'topic' is missing"));
}

#[test]
fn end_transaction_and_route_table_entries() {
    let a = acl();
    let end = |topic: Option<&str>| {
        let mut c = RemotingCommand::request(rq::END_TRANSACTION)
            .with("producerGroup", "PG")
            .with("commitLogOffset", 100);
        if let Some(t) = topic {
            c.put("topic", t);
        }
        signed(c, "producer1", "producer-secret")
    };
    assert_eq!(
        refusal(a.check(ip(LAN), &end(Some("TopicD")))),
        "No default permission for topic:TopicD"
    );
    assert!(a.check(ip(LAN), &end(Some("TopicA"))).is_ok());
    // 4.x clients name no topic: the broker checks the half message's real topic.
    let e = end(None);
    assert!(a.check(ip(LAN), &e).is_ok());
    let real = |t: &str| [Access::new(t, Need::Pub)];
    assert!(a.check_resources(ip(LAN), &e, &real("TopicA"), false).is_ok());
    assert!(a.check_resources(ip(LAN), &e, &real("TopicD"), false).is_err());
    // A route entry with its own resource function and admin flag.
    let cmd = signed(send("TopicD"), "producer1", "producer-secret");
    assert!(a.check_route(ip(LAN), &cmd, None, false).is_ok());
    assert!(a.check_route(ip(LAN), &cmd, resources::for_code(cmd.code), false).is_err());
    assert!(a.check_route(ip(LAN), &cmd, None, true).unwrap_err().to_string().contains("admin"));
}

#[test]
fn load_reports_the_path_and_line() {
    let dir = std::env::temp_dir().join(format!("rmq-acl-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("plain_acl.yml");
    std::fs::write(&p, "accounts:\n  - accessKey: abcdefg\n    secretKey: [x\n").unwrap();
    let e = Acl::load(&p).unwrap_err();
    assert!(!e.is_refusal());
    let msg = e.to_string();
    assert!(msg.contains("plain_acl.yml") && msg.contains("line 3"), "{msg}");
    let e = Acl::load(&dir.join("missing.yml")).unwrap_err().to_string();
    assert!(e.contains("cannot read the ACL file") && e.contains("missing.yml"), "{e}");
    std::fs::write(&p, FILE).unwrap();
    assert_eq!(Acl::load(&p).unwrap().config().accounts.len(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn watcher_reloads_changes_and_keeps_the_last_good_file() {
    let dir = std::env::temp_dir().join(format!("rmq-acl-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("plain_acl.yml");
    std::fs::write(&p, FILE).unwrap();
    let w = AclWatcher::start(&p, std::time::Duration::from_millis(20)).unwrap();
    let acl = w.shared();
    let cmd = signed(send("TopicD"), "producer1", "producer-secret");
    assert!(acl.check(ip(LAN), &cmd).is_err());
    let wait_for = |want_ok: bool| {
        let t0 = Instant::now();
        while acl.check(ip(LAN), &cmd).is_ok() != want_ok {
            assert!(t0.elapsed().as_secs() < 5, "no reload within 5 s");
            std::thread::yield_now();
        }
    };
    // Same size and (perhaps) same second: the content hash still tells the change.
    std::fs::write(&p, FILE.replace("TopicD=DENY", "TopicD=PUB ")).unwrap();
    wait_for(true);
    // A broken file keeps the last good ACL.
    std::fs::write(&p, "accounts: [\n").unwrap();
    let t0 = Instant::now();
    while t0.elapsed().as_millis() < 200 {
        assert!(acl.check(ip(LAN), &cmd).is_ok());
        std::thread::yield_now();
    }
    std::fs::remove_file(&p).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(60));
    assert!(acl.check(ip(LAN), &cmd).is_ok());
    std::fs::write(&p, FILE).unwrap();
    wait_for(false);
    assert!(AclWatcher::start(&dir.join("nope.yml"), RELOAD_INTERVAL).is_err());
    drop(w);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The golden frames of `tests/fixtures/<dir>`, decoded.
fn fixture_frames(dir: &str) -> Vec<(String, RemotingCommand)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(dir);
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "hex") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let hex: String = text.lines().filter(|l| !l.starts_with('#')).collect();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let (cmd, _) =
            crate::protocol::frame::decode(&bytes, crate::protocol::frame::DEFAULT_MAX_FRAME)
                .unwrap()
                .unwrap();
        out.push((path.file_name().unwrap().to_string_lossy().into_owned(), cmd));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Every frame captured from Apache's C++ client without credentials (tests/fixtures, PyPI
/// rocketmq 0.4.4) is signed with an empty key; our signature of the decoded frame must equal
/// the one it carries. These frames hold JSON-number fields and bodies.
#[test]
fn cpp_client_frames_carry_our_signature() {
    let frames = fixture_frames("");
    assert!(frames.len() >= 15, "only {} fixtures", frames.len());
    for (name, cmd) in frames {
        assert_eq!(cmd.field(ACCESS_KEY), Some(""), "{name}");
        assert!(verify("", &cmd), "{name}: signature mismatch");
        assert!(!verify("x", &cmd), "{name}");
    }
}

/// Frames from the C++ client with `set_session_credentials("rmq-acl-ak", "rmq-acl-secret-1",
/// "ALIYUN")` (tests/fixtures/acl): the validator admits them under that account and refuses
/// them under another secret, and `sign` reproduces each signature from the unsigned frame.
#[test]
fn signed_cpp_frames() {
    let open = "accounts:\n  - accessKey: rmq-acl-ak\n    secretKey: rmq-acl-secret-1\n    defaultTopicPerm: PUB|SUB\n    defaultGroupPerm: SUB\n";
    let wrong = open.replace("rmq-acl-secret-1", "rmq-acl-secret-2");
    let (ok, bad) = (Acl::parse(open).unwrap(), Acl::parse(&wrong).unwrap());
    let frames = fixture_frames("acl");
    assert!(frames.len() >= 10, "only {} frames", frames.len());
    for (name, cmd) in frames {
        assert_eq!(cmd.field(ACCESS_KEY), Some("rmq-acl-ak"), "{name}");
        assert!(ok.check(ip(LAN), &cmd).is_ok(), "{name}: {:?}", ok.check(ip(LAN), &cmd));
        let e = refusal(bad.check(ip(LAN), &cmd));
        assert_eq!(e, "Check signature failed for accessKey=rmq-acl-ak", "{name}");
        let mut unsigned = cmd.clone();
        for k in [ACCESS_KEY, ONS_CHANNEL, SIGNATURE] {
            unsigned.ext_fields.remove(k);
        }
        sign(&mut unsigned, "rmq-acl-ak", "rmq-acl-secret-1", Some("ALIYUN"));
        assert_eq!(unsigned.field(SIGNATURE), cmd.field(SIGNATURE), "{name}");
    }
}
