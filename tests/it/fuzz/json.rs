//! JSON bodies: strict JSON, fastjson's quirks (bare numeric keys, object keys), the body types
//! every server and client decodes, and the depth cap.

use super::{fuzz, golden_frames, mutate, Rng};
use rmq::protocol::admin_body::{ConsumeStats, ResetOffsetBody, TopicStatsTable};
use rmq::protocol::body::{
    ClusterInfo, ConsumerList, DataVersion, HeartbeatData, KvTable, RegisterBrokerBody,
    TopicConfigSerializeWrapper, TopicRouteData,
};
use rmq::protocol::frame::{decode, DEFAULT_MAX_FRAME};
use rmq::protocol::json::{check_depth, from_fastjson, from_strict, normalize, MAX_DEPTH};
use serde_json::Value;

/// Any bytes as a body: no decoder panics; the normaliser's output is strict, within the depth
/// cap and a fixed point; fastjson parsing agrees with serde_json on strict JSON.
pub fn check_json(b: &[u8]) {
    let _ = HeartbeatData::decode(b);
    let _ = TopicRouteData::decode(b);
    let _ = ClusterInfo::decode(b);
    let _ = ConsumeStats::decode(b);
    let _ = TopicStatsTable::decode(b);
    let _ = ResetOffsetBody::decode(b);
    let _ = from_fastjson::<RegisterBrokerBody>(b);
    let _ = from_fastjson::<TopicConfigSerializeWrapper>(b);
    let _ = from_fastjson::<ConsumerList>(b);
    let _ = from_fastjson::<KvTable>(b);
    let _ = from_strict::<DataVersion>(b);
    let text = String::from_utf8_lossy(b);
    if let Ok(n) = normalize(&text) {
        assert!(check_depth(n.as_bytes(), MAX_DEPTH).is_ok());
        assert_eq!(normalize(&n).unwrap(), n, "normalize is not idempotent");
    }
    let fast = from_fastjson::<Value>(b);
    if let Ok(strict) = serde_json::from_slice::<Value>(b) {
        if check_depth(b, MAX_DEPTH).is_ok() {
            assert_eq!(fast.unwrap(), strict);
        } else {
            assert!(fast.is_err());
        }
    }
}

const LITERALS: [&str; 6] = ["true", "false", "null", "1.5", "-0.0", "1e3"];

/// A random JSON text with fastjson's liberties at times.
fn value(rng: &mut Rng, depth: usize, out: &mut String) {
    let kind = if depth >= 8 { rng.below(4) } else { rng.below(7) };
    match kind {
        0 => out.push_str(&rng.int().to_string()),
        1 => {
            let lit = LITERALS[rng.below(LITERALS.len())];
            out.push_str(lit)
        }
        2 | 3 => out.push_str(&serde_json::to_string(&rng.text(12)).unwrap()),
        4 => {
            out.push('[');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(',');
                }
                value(rng, depth + 1, out);
            }
            out.push(']');
        }
        _ => {
            out.push('{');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push_str(if rng.chance(1, 8) { " , " } else { "," });
                }
                match rng.below(6) {
                    0 => out.push_str(&rng.below(100).to_string()),
                    1 => value(rng, depth + 1, out),
                    _ => out.push_str(&serde_json::to_string(&rng.word()).unwrap()),
                }
                out.push(':');
                value(rng, depth + 1, out);
            }
            out.push('}');
        }
    }
}

#[test]
fn fuzz_json_bodies() {
    let bodies: Vec<Vec<u8>> = golden_frames()
        .into_iter()
        .filter_map(|f| decode(&f, DEFAULT_MAX_FRAME).ok().flatten())
        .map(|(c, _)| c.body)
        .filter(|b| b.first() == Some(&b'{'))
        .collect();
    assert!(bodies.len() >= 4, "heartbeat bodies missing");
    let shapes: [&[u8]; 3] = [
        br#"{"brokerDatas":[{"brokerAddrs":{0:"127.0.0.1:10911"},"brokerName":"b","cluster":"C"}],"queueDatas":[{"brokerName":"b","perm":6,"readQueueNums":4,"writeQueueNums":4}]}"#,
        br#"{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"brokerOffset":5,"consumerOffset":3}},"consumeTps":1.5}"#,
        br#"{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"topicName":"T","perm":6}},"dataVersion":{"counter":1,"timestamp":2}},"filterServerList":[]}"#,
    ];
    fuzz(
        "json",
        10_000,
        |rng| {
            let mut b = match rng.below(3) {
                0 => rng.pick(&bodies).clone(),
                1 => rng.pick(&shapes).to_vec(),
                _ => {
                    let mut s = String::new();
                    value(rng, 0, &mut s);
                    s.into_bytes()
                }
            };
            if rng.chance(2, 3) {
                mutate(rng, &mut b);
            }
            b
        },
        check_json,
    );
}

#[test]
fn generated_fastjson_normalises_to_equal_json() {
    // Strict JSON from serde, nested under bare numeric keys and as an object key: fastjson's
    // forms read as the strict equivalent.
    let mut rng = Rng::new(super::seed());
    for _ in 0..super::iterations(2000) / 4 {
        let mut s = String::new();
        value(&mut rng, 0, &mut s);
        let Ok(v) = serde_json::from_str::<Value>(&s) else { continue };
        let strict = serde_json::to_string(&v).unwrap();
        assert_eq!(from_fastjson::<Value>(strict.as_bytes()).unwrap(), v);
        let bare = format!("{{1:{strict}, 2 :[{strict}]}}");
        let want = serde_json::json!({"1": v.clone(), "2": [v.clone()]});
        assert_eq!(from_fastjson::<Value>(bare.as_bytes()).unwrap(), want, "{bare}");
        let keyed = format!("{{{{\"k\":{strict}}}:7}}");
        let got: Value = from_fastjson(keyed.as_bytes()).unwrap();
        let key = got.as_object().unwrap().keys().next().unwrap().clone();
        assert_eq!(serde_json::from_str::<Value>(&key).unwrap(), serde_json::json!({"k": v}));
    }
}
