//! Frames (both header forms), stored records and batch bodies.

use super::{fuzz, golden_frames, mutate, Rng};
use rmq::protocol::batch::{
    decode_batch_body, decode_batch_body_capped, encode_batch_body, BatchItem,
};
use rmq::protocol::command::{RemotingCommand, SerializeType};
use rmq::protocol::frame::{decode, encode_to_vec, DEFAULT_MAX_FRAME};
use rmq::protocol::record::{
    decode_record, decode_view, decode_view_capped, encode_record, max_record_len, peek_header,
    record_span, stamp_record, MessageRecord,
};
use std::net::SocketAddr;

const FRAME_CAPS: [usize; 3] = [DEFAULT_MAX_FRAME, 1 << 16, 64];

/// Any bytes: decoding never panics, never claims more than it was given or than the cap, a
/// decoded frame re-encodes to one that decodes to the same command, and every strict prefix of
/// a whole frame asks for more bytes.
pub fn check_frame(b: &[u8]) {
    for cap in FRAME_CAPS {
        let Ok(Some((cmd, used))) = decode(b, cap) else { continue };
        assert!(used >= 8 && used <= b.len() && used <= cap, "used {used} of {}", b.len());
        let again = encode_to_vec(&cmd);
        let (d, n) = decode(&again, DEFAULT_MAX_FRAME).unwrap().unwrap();
        assert_eq!(n, again.len());
        assert_eq!(d, cmd, "re-encoded frame decodes differently");
        for cut in (0..used.min(48)).chain([used - 1]) {
            assert_eq!(decode(&b[..cut], cap).unwrap(), None, "prefix {cut} of {used}");
        }
    }
}

fn command(rng: &mut Rng) -> RemotingCommand {
    let mut c = RemotingCommand::request(*rng.pick(&[10, 11, 34, 105, 310, 320, 37, 0, -1]));
    c.opaque = rng.int() as i32;
    c.flag = rng.below(4) as i32;
    c.version = rng.int() as i16 as i32;
    c.language = rng.pick(&["JAVA", "CPP", "GO", "RUST"]).to_string().into();
    if rng.chance(1, 2) {
        c.remark = Some(rng.text(20));
    }
    for _ in 0..rng.below(8) {
        let k = if rng.chance(1, 2) { rng.word() } else { rng.text(8) };
        c.put(&k, rng.text(16));
    }
    c.body = rng.bytes(64);
    c.serialize_type = if rng.chance(1, 2) { SerializeType::Json } else { SerializeType::RocketMq };
    if c.serialize_type == SerializeType::RocketMq {
        // The binary form cannot carry empty keys or values, nor an empty remark.
        c.ext_fields.retain(|k, v| !k.is_empty() && !v.is_empty());
        c.remark = c.remark.filter(|r| !r.is_empty());
    }
    c
}

#[test]
fn frame_round_trip_and_prefixes() {
    let mut rng = Rng::new(super::seed());
    for _ in 0..super::iterations(2000) / 4 {
        let c = command(&mut rng);
        let bytes = encode_to_vec(&c);
        let (d, n) = decode(&bytes, DEFAULT_MAX_FRAME).unwrap().unwrap();
        assert_eq!((&d, n), (&c, bytes.len()));
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut], DEFAULT_MAX_FRAME).unwrap(), None);
        }
    }
}

#[test]
fn fuzz_frames() {
    let golden = golden_frames();
    fuzz(
        "frame",
        10_000,
        |rng| {
            let mut b = if rng.chance(1, 2) {
                rng.pick(&golden).clone()
            } else {
                encode_to_vec(&command(rng))
            };
            if rng.chance(4, 5) {
                mutate(rng, &mut b);
            }
            b
        },
        check_frame,
    );
}

const MAX_BODY: usize = 4096;

/// Any bytes as a commit-log position: no panic; a decoded record is within the input and the
/// cap; an encoded copy of it decodes to the same record.
pub fn check_record(b: &[u8]) {
    let cap = max_record_len(MAX_BODY);
    let _ = peek_header(b);
    if let Ok(n) = record_span(b, cap) {
        assert!(n <= cap && n <= b.len());
    }
    if let Ok((v, n)) = decode_view_capped(b, false, cap) {
        assert!(n <= cap && n <= b.len() && v.total_size == n);
    }
    for crc in [true, false] {
        if let Ok((v, n)) = decode_view(b, crc) {
            assert!(n <= b.len() && v.total_size == n);
        }
        if let Ok((rec, n)) = decode_record(b, crc) {
            assert!(n <= b.len());
            let mut out = Vec::new();
            encode_record(&rec, &mut out);
            let (again, m) = decode_record(&out, true).unwrap();
            assert_eq!(m, out.len());
            let mut want = rec.clone();
            want.body_crc = again.body_crc;
            want.sys_flag = again.sys_flag;
            // IPv4-mapped IPv6 hosts are written as IPv4.
            want.born_host = v4_mapped_as_v4(want.born_host);
            want.store_host = v4_mapped_as_v4(want.store_host);
            assert_eq!(again.sys_flag & !0x30, rec.sys_flag & !0x30);
            assert_eq!(again, want);
        }
    }
    let mut copy = b.to_vec();
    let _ = stamp_record(&mut copy, 1, 2, 3);
}

fn v4_mapped_as_v4(a: SocketAddr) -> SocketAddr {
    match a {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(v4.into(), v6.port()),
            None => a,
        },
        v4 => v4,
    }
}

fn host(rng: &mut Rng) -> SocketAddr {
    let s = *rng.pick(&["10.0.0.1:5555", "[::1]:1", "[fe80::2]:10911", "127.0.0.1:0"]);
    s.parse().unwrap()
}

fn record(rng: &mut Rng) -> Vec<u8> {
    let topic: String = rng.word().chars().take(127).collect();
    let properties: String = rng.text(24).chars().filter(|c| *c != '\0').collect();
    let r = MessageRecord {
        queue_id: rng.int() as i32,
        flag: rng.int() as i32,
        queue_offset: rng.int(),
        physical_offset: rng.int(),
        sys_flag: rng.below(16) as i32,
        born_timestamp: rng.int(),
        born_host: host(rng),
        store_timestamp: rng.int(),
        store_host: host(rng),
        reconsume_times: rng.int() as i32,
        prepared_transaction_offset: rng.int(),
        body: rng.bytes(200),
        topic,
        properties,
        body_crc: 0,
    };
    let mut out = Vec::new();
    encode_record(&r, &mut out);
    out
}

#[test]
fn fuzz_records() {
    fuzz(
        "record",
        10_000,
        |rng| {
            let mut b = record(rng);
            if rng.chance(1, 3) {
                b.extend(record(rng));
            }
            if rng.chance(4, 5) {
                mutate(rng, &mut b);
            }
            b
        },
        check_record,
    );
}

/// Any bytes as a batch body: no panic; decoded items re-encode to a body that decodes to the
/// same items; the capped decoder refuses bodies over its cap.
pub fn check_batch(b: &[u8]) {
    if let Ok(items) = decode_batch_body(b) {
        assert!(items.len() <= b.len() / 22);
        let mut out = Vec::new();
        encode_batch_body(&items, &mut out);
        assert_eq!(decode_batch_body(&out).unwrap(), items);
    }
    for cap in [0, 64, b.len(), 4 << 20] {
        if decode_batch_body_capped(b, cap).is_ok() {
            assert!(b.len() <= cap);
        }
    }
}

fn batch(rng: &mut Rng) -> Vec<u8> {
    let items: Vec<BatchItem> = (0..rng.below(5))
        .map(|_| BatchItem {
            flag: rng.int() as i32,
            body: rng.bytes(40),
            properties: rng.text(10),
        })
        .collect();
    let mut out = Vec::new();
    encode_batch_body(&items, &mut out);
    out
}

#[test]
fn fuzz_batches() {
    // The C++ client's batch body is a seed too.
    let cpp: Vec<u8> = golden_frames()
        .into_iter()
        .filter_map(|f| decode(&f, DEFAULT_MAX_FRAME).ok().flatten())
        .find(|(c, _)| c.field("batch") == Some("1"))
        .map(|(c, _)| c.body)
        .unwrap();
    assert_eq!(decode_batch_body(&cpp).unwrap().len(), 2);
    fuzz(
        "batch",
        10_000,
        |rng| {
            let mut b = if rng.chance(1, 4) { cpp.clone() } else { batch(rng) };
            if rng.chance(4, 5) {
                mutate(rng, &mut b);
            }
            b
        },
        check_batch,
    );
}
