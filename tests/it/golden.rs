//! Golden frames captured from Apache's C++ client (PyPI rocketmq 0.4.4): they decode, carry
//! what the C++ client is known to send, and survive a re-encode in both header forms.

use rmq::protocol::body::HeartbeatData;
use rmq::protocol::command::SerializeType;
use rmq::protocol::frame::{decode, encode_to_vec, DEFAULT_MAX_FRAME};
use std::path::Path;

fn load(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let hex: String = text.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("");
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn every_fixture_decodes_and_round_trips() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if !name.ends_with(".hex") {
            continue;
        }
        let bytes = load(&name);
        let (cmd, used) = decode(&bytes, DEFAULT_MAX_FRAME)
            .unwrap()
            .unwrap_or_else(|| panic!("{name} incomplete"));
        assert_eq!(used, bytes.len(), "{name}");
        assert_eq!(cmd.language, "CPP", "{name}");
        assert_eq!(cmd.version, 63, "{name}");
        assert!(!cmd.is_response(), "{name}");
        let code: i32 = name.split('_').nth(1).unwrap().parse().unwrap();
        assert_eq!(cmd.code, code, "{name}");
        for form in [SerializeType::Json, SerializeType::RocketMq] {
            let mut c = cmd.clone();
            c.serialize_type = form;
            // The binary form drops empty ext values, as Java does.
            if form == SerializeType::RocketMq {
                c.ext_fields.retain(|_, v| !v.is_empty());
                c.remark = c.remark.filter(|r| !r.is_empty());
            }
            let (d, _) = decode(&encode_to_vec(&c), DEFAULT_MAX_FRAME).unwrap().unwrap();
            assert_eq!(d, c, "{name} {form:?}");
        }
        n += 1;
    }
    assert!(n >= 10, "expected the captured fixtures, found {n}");
}

#[test]
fn send_message_v1_fields_as_cpp_sends_them() {
    let (c, _) = decode(&load("cpp_10_SEND_MESSAGE.hex"), DEFAULT_MAX_FRAME).unwrap().unwrap();
    assert_eq!(c.code, 10);
    assert_eq!(c.field("topic"), Some("CaptureTopic"));
    assert_eq!(c.i32_field("queueId").unwrap(), 0);
    assert_eq!(c.i32_field("defaultTopicQueueNums").unwrap(), 4);
    assert!(!c.bool_field("batch"));
    let props = rmq::protocol::record::parse_properties(c.field("properties").unwrap());
    assert!(props.contains(&("TAGS".to_string(), "TagA".to_string())));
    assert!(props.contains(&("KEYS".to_string(), "key-0".to_string())));
    let (b, _) =
        decode(&load("cpp_10_SEND_MESSAGE.batch.hex"), DEFAULT_MAX_FRAME).unwrap().unwrap();
    assert!(b.bool_field("batch"), "C++ sends batch=\"1\", which must read as true");
    let items = rmq::protocol::record::decode_batch_body(&b.body).unwrap();
    assert_eq!(items.len(), 2);
}

#[test]
fn cpp_heartbeats_parse() {
    let (c, _) = decode(&load("cpp_34_HEART_BEAT.push.hex"), DEFAULT_MAX_FRAME).unwrap().unwrap();
    let hb = HeartbeatData::decode(&c.body).unwrap();
    let cd = &hb.consumer_data_set[0];
    assert_eq!(cd.message_model, "CLUSTERING");
    assert_eq!(cd.consume_type, "CONSUME_PASSIVELY");
    assert!(cd.subscription_data_set.iter().any(|s| s.topic.starts_with("%RETRY%")));
    assert!(cd.subscription_data_set.iter().all(|s| s.sub_version > 0));
    let (p, _) = decode(&load("cpp_34_HEART_BEAT.hex"), DEFAULT_MAX_FRAME).unwrap().unwrap();
    let hb = HeartbeatData::decode(&p.body).unwrap();
    assert_eq!(hb.producer_data_set.len(), 1);
    assert!(hb.consumer_data_set.is_empty());
}

#[test]
fn pull_request_flags() {
    let (c, _) =
        decode(&load("cpp_11_PULL_MESSAGE.commit.hex"), DEFAULT_MAX_FRAME).unwrap().unwrap();
    assert_eq!(c.i32_field("sysFlag").unwrap() & 0x7, 0x7);
    assert_eq!(c.i64_field("suspendTimeoutMillis").unwrap(), 15000);
    assert_eq!(c.i32_field("maxMsgNums").unwrap(), 32);
}
