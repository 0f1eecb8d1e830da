//! Issue 13: no JSON a peer sends can overflow a stack. Every parse entry point gets a few hundred
//! thousand nested brackets on a thread with a 128 KiB stack (rmq's service threads have 512
//! KiB); a recursion without a limit would abort the test binary, a refusal passes.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::admin_body::{
    ConsumeStats, ConsumerConnection, ProducerConnection, ResetOffsetBody, TopicStatsTable,
};
use super::body::{
    ClusterInfo, ConsumerList, DataVersion, HeartbeatData, KvTable, RegisterBrokerBody,
    TopicConfigSerializeWrapper, TopicList, TopicRouteData,
};
use super::frame::{decode, DEFAULT_MAX_FRAME};
use super::json::{check_depth, from_fastjson, from_strict, normalize, MAX_DEPTH};

const DEPTH: usize = 300_000;
const SMALL_STACK: usize = 128 * 1024;

/// Run `f` on a thread with a small stack; a stack overflow aborts the whole test process.
fn small_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new().stack_size(SMALL_STACK).spawn(f).unwrap().join().unwrap()
}

/// Hostile texts: deep arrays, deep objects (as values and as fastjson keys), and a valid
/// prefix of each body shape followed by the deep part.
fn hostile() -> Vec<(String, Vec<u8>)> {
    let arrays = "[".repeat(DEPTH);
    let objects = "{\"a\":".repeat(DEPTH);
    let keys = "{".repeat(DEPTH);
    let mut out = vec![
        ("arrays".to_string(), arrays.clone().into_bytes()),
        ("objects".to_string(), objects.clone().into_bytes()),
        ("object keys".to_string(), keys.clone().into_bytes()),
        ("closed arrays".to_string(), format!("{arrays}{}", "]".repeat(DEPTH)).into_bytes()),
    ];
    for prefix in [
        r#"{"clientID":"c","consumerDataSet":[{"groupName":"g","subscriptionDataSet":"#,
        r#"{"brokerDatas":[{"brokerAddrs":{0:"#,
        r#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":"#,
        r#"{"offsetTable":{{"topic":"#,
        r#"{"counter":"#,
    ] {
        out.push((format!("{prefix}..."), format!("{prefix}{arrays}").into_bytes()));
        out.push((format!("{prefix}{{..."), format!("{prefix}{keys}").into_bytes()));
    }
    out
}

macro_rules! refuse_all {
    ($($name:literal => $parse:expr),* $(,)?) => {{
        let cases = hostile();
        small_stack(move || {
            for (what, bytes) in &cases {
                $(
                    let r = ($parse)(bytes.as_slice());
                    assert!(r.is_err(), "{} accepted {}", $name, what);
                )*
            }
        })
    }};
}

#[test]
fn deep_json_bodies_are_refused_on_a_small_stack() {
    refuse_all!(
        "from_fastjson::<Value>" => |b: &[u8]| from_fastjson::<serde_json::Value>(b),
        "from_strict::<Value>" => |b: &[u8]| from_strict::<serde_json::Value>(b),
        "serde_json alone" => |b: &[u8]| serde_json::from_slice::<serde_json::Value>(b),
        "HeartbeatData" => HeartbeatData::decode,
        "TopicRouteData" => TopicRouteData::decode,
        "ClusterInfo" => ClusterInfo::decode,
        "RegisterBrokerBody" => |b: &[u8]| from_fastjson::<RegisterBrokerBody>(b),
        "TopicConfigSerializeWrapper" => |b: &[u8]| from_fastjson::<TopicConfigSerializeWrapper>(b),
        "ConsumerList" => |b: &[u8]| from_fastjson::<ConsumerList>(b),
        "TopicList" => |b: &[u8]| from_fastjson::<TopicList>(b),
        "KvTable" => |b: &[u8]| from_fastjson::<KvTable>(b),
        "DataVersion" => |b: &[u8]| from_strict::<DataVersion>(b),
        "ConsumeStats" => ConsumeStats::decode,
        "TopicStatsTable" => TopicStatsTable::decode,
        "ResetOffsetBody" => ResetOffsetBody::decode,
        "ConsumerConnection" => |b: &[u8]| from_fastjson::<ConsumerConnection>(b),
        "ProducerConnection" => |b: &[u8]| from_fastjson::<ProducerConnection>(b),
    );
}

#[test]
fn normaliser_and_depth_scan_are_iterative() {
    let cases = hostile();
    small_stack(move || {
        for (what, bytes) in &cases {
            let text = String::from_utf8(bytes.clone()).unwrap();
            assert!(normalize(&text).is_err(), "normalize accepted {what}");
            assert!(check_depth(bytes, MAX_DEPTH).is_err(), "check_depth accepted {what}");
        }
    });
}

#[test]
fn deep_json_headers_are_refused_on_a_small_stack() {
    let frame = |header: &[u8]| {
        let mut f = Vec::new();
        f.extend_from_slice(&((4 + header.len()) as u32).to_be_bytes());
        f.extend_from_slice(&(header.len() as u32).to_be_bytes());
        f.extend_from_slice(header);
        f
    };
    let mut frames = Vec::new();
    for (_, deep) in hostile() {
        frames.push(frame(&deep));
        let mut h = br#"{"code":34,"extFields":{"a":"#.to_vec();
        h.extend_from_slice(&deep);
        frames.push(frame(&h));
    }
    small_stack(move || {
        for f in &frames {
            let e = decode(f, DEFAULT_MAX_FRAME).unwrap_err();
            assert!(e.to_string().contains("JSON header"), "{e}");
        }
    });
}
