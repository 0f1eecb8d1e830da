//! The ACL file parser (YAML subset and schema), the validator and the signature.

use super::{fuzz, golden_frames, mutate, Rng};
use rmq::acl::yaml::{self, Yaml};
use rmq::acl::{sign, verify, Acl, AclConfig};
use rmq::protocol::command::RemotingCommand;
use rmq::protocol::frame::{decode, DEFAULT_MAX_FRAME};
use std::net::IpAddr;

/// Write `v` back as block YAML with every scalar double-quoted (Null as `~`).
fn emit(v: &Yaml, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    let inline = |v: &Yaml| -> Option<String> {
        match v {
            Yaml::Null => Some("~".into()),
            Yaml::Scalar(s) => Some(quote(s)),
            Yaml::Seq(x) if x.is_empty() => Some("[]".into()),
            Yaml::Map(x) if x.is_empty() => Some("{}".into()),
            _ => None,
        }
    };
    match v {
        Yaml::Map(entries) if !entries.is_empty() => {
            for (k, v) in entries {
                match inline(v) {
                    Some(t) => out.push_str(&format!("{pad}{}: {t}\n", quote(k))),
                    None => {
                        out.push_str(&format!("{pad}{}:\n", quote(k)));
                        emit(v, indent + 2, out);
                    }
                }
            }
        }
        Yaml::Seq(items) if !items.is_empty() => {
            for v in items {
                match inline(v) {
                    Some(t) => out.push_str(&format!("{pad}- {t}\n")),
                    None => {
                        out.push_str(&format!("{pad}-\n"));
                        emit(v, indent + 2, out);
                    }
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", inline(other).unwrap())),
    }
}

fn quote(s: &str) -> String {
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            '\r' => q.push_str("\\r"),
            c if (c as u32) < 0x20 => q.push_str(&format!("\\x{:02x}", c as u32)),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

fn depth(v: &Yaml) -> usize {
    match v {
        Yaml::Seq(x) => 1 + x.iter().map(depth).max().unwrap_or(0),
        Yaml::Map(x) => 1 + x.iter().map(|(_, v)| depth(v)).max().unwrap_or(0),
        _ => 0,
    }
}

/// Any text: the parser never panics; what it accepts is within the depth cap and reads back
/// the same after being written out again; the schema layer never panics either.
pub fn check_yaml(b: &[u8]) {
    let text = String::from_utf8_lossy(b);
    if let Ok(doc) = yaml::parse(&text) {
        assert!(depth(&doc) <= yaml::MAX_DEPTH, "depth {}", depth(&doc));
        let mut again = String::new();
        emit(&doc, 0, &mut again);
        assert_eq!(yaml::parse(&again).unwrap(), doc, "re-emitted:\n{again}");
    }
    let _ = AclConfig::parse(&text);
}

/// Any text as plain_acl.yml: a file that loads answers every request without panicking.
pub fn check_acl(b: &[u8]) {
    let Ok(acl) = Acl::parse(&String::from_utf8_lossy(b)) else { return };
    let ips: [IpAddr; 3] =
        ["127.0.0.1".parse().unwrap(), "10.10.103.7".parse().unwrap(), "::1".parse().unwrap()];
    for code in [10, 11, 15, 17, 34, 35, 36, 37, 38, 105, 310, 320] {
        let mut c = RemotingCommand::request(code)
            .with("topic", "TopicA")
            .with("b", "TopicB")
            .with("consumerGroup", "G")
            .with("group", "G");
        let keys: Vec<String> = acl.config().accounts.keys().cloned().collect();
        for ak in keys {
            sign(&mut c, &ak, "not-the-secret", None);
            for ip in ips {
                let _ = acl.check(ip, &c);
            }
        }
        for ip in ips {
            let _ = acl.check(ip, &c);
        }
    }
}

const APACHE: &str = "globalWhiteRemoteAddresses:\n  - 10.10.103.*\n  - 192.168.0.*\n\naccounts:\n  - accessKey: RocketMQ\n    secretKey: 12345678\n    whiteRemoteAddress:\n    admin: false\n    defaultTopicPerm: DENY\n    defaultGroupPerm: SUB\n    topicPerms:\n      - topicA=DENY\n      - topicB=PUB|SUB\n      - topicC=SUB\n    groupPerms:\n      # the group should convert to retry topic\n      - groupA=DENY\n      - groupB=PUB|SUB\n      - groupC=SUB\n\n  - accessKey: rocketmq2\n    secretKey: 12345678\n    whiteRemoteAddress: 192.168.1.*\n    # if it is admin, it could access all resources\n    admin: true\n";

/// A random document in the styles people and SnakeYAML write.
fn doc(rng: &mut Rng, depth: usize, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    let scalar = |rng: &mut Rng| -> String {
        match rng.below(6) {
            0 => quote(&rng.text(10)),
            1 => format!("'{}'", rng.text(8).replace('\n', " ").replace('\'', "''")),
            2 => format!("[{}, {}]", rng.word(), quote(&rng.word())),
            3 => rng.pick(&["10.10.*.*", "PUB|SUB", "topicA=DENY", "true", "~", ""]).to_string(),
            _ => rng.word(),
        }
    };
    let seq = depth < 5 && rng.chance(1, 2);
    for i in 0..=rng.below(3) {
        if rng.chance(1, 6) {
            out.push_str(&format!("{pad}# comment {i}\n\n"));
        }
        let nested = depth < 5 && rng.chance(1, 3);
        if seq {
            if nested {
                out.push_str(&format!("{pad}-\n"));
                doc(rng, depth + 1, indent + 2, out);
            } else {
                out.push_str(&format!("{pad}- {}\n", scalar(rng)));
            }
        } else {
            let key = format!("{}{i}", rng.word());
            if nested {
                out.push_str(&format!("{pad}{key}:\n"));
                // SnakeYAML puts a map's sequence at the key's column.
                let child = if rng.chance(1, 2) { indent + 2 } else { indent };
                doc(rng, depth + 1, child, out);
            } else {
                out.push_str(&format!("{pad}{key}: {}\n", scalar(rng)));
            }
        }
    }
}

#[test]
fn fuzz_yaml() {
    fuzz(
        "yaml",
        10_000,
        |rng| {
            let mut text = String::new();
            if rng.chance(1, 3) {
                text.push_str(APACHE);
            } else {
                doc(rng, 0, 0, &mut text);
            }
            let mut b = text.into_bytes();
            if rng.chance(2, 3) {
                mutate(rng, &mut b);
            }
            b
        },
        check_yaml,
    );
}

#[test]
fn quoted_scalars_read_back_exactly() {
    let mut rng = Rng::new(super::seed());
    for _ in 0..super::iterations(2000) / 4 {
        let t: String = rng.text(12).replace('\n', " ");
        let single = format!("k: '{}' # comment\n", t.replace('\'', "''"));
        let got = yaml::parse(&single).unwrap_or_else(|e| panic!("{single:?}: {e}"));
        assert_eq!(got.get("k"), Some(&Yaml::Scalar(t.clone())), "{single:?}");
        let double = format!("- {} # comment\n", quote(&t));
        let got = yaml::parse(&double).unwrap_or_else(|e| panic!("{double:?}: {e}"));
        assert_eq!(got, Yaml::Seq(vec![Yaml::Scalar(t)]), "{double:?}");
    }
}

#[test]
fn fuzz_acl_files() {
    fuzz(
        "acl",
        2_000,
        |rng| {
            let mut b = APACHE.as_bytes().to_vec();
            if rng.chance(1, 2) {
                b = APACHE.replace("12345678", "1234567890").into_bytes();
            }
            mutate(rng, &mut b);
            b
        },
        check_acl,
    );
}

#[test]
fn signatures_verify_and_any_change_breaks_them() {
    let golden: Vec<RemotingCommand> = golden_frames()
        .into_iter()
        .filter_map(|f| decode(&f, DEFAULT_MAX_FRAME).ok().flatten())
        .map(|(c, _)| c)
        .collect();
    let mut rng = Rng::new(super::seed());
    for _ in 0..super::iterations(2000) / 4 {
        let mut c = rng.pick(&golden).clone();
        let sk = rng.text(12);
        sign(&mut c, &rng.word(), &sk, rng.chance(1, 2).then_some("ALIYUN"));
        assert!(verify(&sk, &c));
        let mut t = c.clone();
        if rng.chance(1, 2) && !t.body.is_empty() {
            let i = rng.below(t.body.len());
            t.body[i] ^= 1;
        } else {
            let k = t.ext_fields.keys().find(|k| *k != "Signature").unwrap().to_string();
            let v = format!("{}x", t.ext_fields.get(&k).unwrap());
            t.ext_fields.insert(&k, &v);
        }
        assert!(!verify(&sk, &t));
    }
}
