//! Client batch bodies (§3.6): the SEND_BATCH_MESSAGE body (and a V1 send with `batch=true`)
//! is a run of items, each
//!
//! | size | field |
//! |---|---|
//! | 4 | TOTALSIZE (the item's bytes, this field included) |
//! | 4 | MAGICCODE (0) |
//! | 4 | BODYCRC (0) |
//! | 4 | FLAG |
//! | 4 | BODYLEN |
//! | B | BODY |
//! | 2 | PROPLEN (i16) |
//! | P | PROPERTIES |
//!
//! Pure: no I/O.
#![deny(clippy::indexing_slicing, clippy::unwrap_used)]

use super::record::{Reader, RecordError};

/// One message of a client batch body (§3.6).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem {
    /// User flag.
    pub flag: i32,
    /// Body.
    pub body: Vec<u8>,
    /// The message's own properties.
    pub properties: String,
}

/// Fixed bytes of one batch item: TOTALSIZE, MAGIC, BODYCRC, FLAG, BODYLEN, PROPLEN.
pub const BATCH_ITEM_OVERHEAD: usize = 4 + 4 + 4 + 4 + 4 + 2;

/// Decode a batch SEND body. Like Java's decoder, MAGIC and BODYCRC are not checked; unlike it,
/// each item's TOTALSIZE must equal its fields' sum (Java's MessageDecoder.encodeMessage and the
/// C++ client both write it so), so an item whose lengths lie is refused, never guessed at.
/// Bounded by the input: nothing is allocated beyond the bytes present.
pub fn decode_batch_body(body: &[u8]) -> Result<Vec<BatchItem>, RecordError> {
    let mut r = Reader::new(body);
    let mut items = Vec::new();
    while r.pos < body.len() {
        let start = r.pos;
        let total = r.len_i32("batch TOTALSIZE")?;
        let _magic = r.i32("batch MAGICCODE")?;
        let _crc = r.i32("batch BODYCRC")?;
        let flag = r.i32("batch FLAG")?;
        let body_len = r.len_i32("batch BODYLEN")?;
        let b = r.bytes(body_len, "batch BODY")?.to_vec();
        let prop_len = r.i16("batch PROPLEN")?;
        let prop_len = usize::try_from(prop_len)
            .map_err(|_| RecordError::bad_length("batch PROPLEN", prop_len.into()))?;
        let props = r.bytes(prop_len, "batch PROPERTIES")?;
        if r.pos - start != total {
            return Err(RecordError::mismatch("batch item", total, r.pos - start));
        }
        let properties = String::from_utf8_lossy(props).into_owned();
        items.push(BatchItem { flag, body: b, properties });
    }
    Ok(items)
}

/// A SEND_BATCH_MESSAGE body as the broker must take it: refused with [`RecordError::is_too_large`]
/// when the whole body exceeds `max_message_size` (Apache's DefaultMessageStore.checkMessages
/// answers MESSAGE_ILLEGAL with [`message_illegal_remark`]), checked before anything is decoded.
pub fn decode_batch_body_capped(
    body: &[u8],
    max_message_size: usize,
) -> Result<Vec<BatchItem>, RecordError> {
    check_batch_body_size(body.len(), max_message_size)?;
    decode_batch_body(body)
}

/// Refuse a batch body longer than `max_message_size` (issue 13: an 8 MiB body of 380,000 empty
/// messages cost 200 MB of RSS and a 12 MiB msgId header).
pub fn check_batch_body_size(len: usize, max_message_size: usize) -> Result<(), RecordError> {
    if len > max_message_size {
        return Err(RecordError::too_large("batch body", len, max_message_size));
    }
    Ok(())
}

/// The remark of Apache's MESSAGE_ILLEGAL (13) answer for a message or batch over the limits
/// (SendMessageProcessor.handlePutMessageResult).
pub fn message_illegal_remark(max_message_size: usize) -> String {
    format!(
        "the message is illegal, maybe msg body or properties length not matched. msg body length \
         limit {max_message_size}B, msg properties length limit 32KB."
    )
}

/// Encode a batch SEND body (as the Java client does: MAGIC and BODYCRC are 0).
pub fn encode_batch_body(items: &[BatchItem], out: &mut Vec<u8>) {
    for it in items {
        let total = 22 + it.body.len() + it.properties.len();
        out.extend_from_slice(&(total as i32).to_be_bytes());
        out.extend_from_slice(&0i32.to_be_bytes());
        out.extend_from_slice(&0i32.to_be_bytes());
        out.extend_from_slice(&it.flag.to_be_bytes());
        out.extend_from_slice(&(it.body.len() as i32).to_be_bytes());
        out.extend_from_slice(&it.body);
        out.extend_from_slice(&(it.properties.len() as i16).to_be_bytes());
        out.extend_from_slice(it.properties.as_bytes());
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn batch_round_trip() {
        let items = vec![
            BatchItem { flag: 1, body: b"one".to_vec(), properties: "TAGS\u{1}A".into() },
            BatchItem { flag: 0, body: vec![], properties: String::new() },
            BatchItem { flag: 2, body: vec![9; 1000], properties: "K\u{1}V\u{2}".into() },
        ];
        let mut out = Vec::new();
        encode_batch_body(&items, &mut out);
        assert_eq!(decode_batch_body(&out).unwrap(), items);
        let first = 22 + 3 + 6;
        for i in 1..out.len() {
            if decode_batch_body(&out[..i]).is_ok() {
                // only item boundaries decode
                assert!(i == first || i == first + 22, "{i}");
            }
        }
        assert!(decode_batch_body(&[]).unwrap().is_empty());
    }

    fn two_items() -> Vec<u8> {
        let items = vec![
            BatchItem { flag: 1, body: b"one".to_vec(), properties: "TAGS\u{1}A".into() },
            BatchItem { flag: 0, body: b"two".to_vec(), properties: String::new() },
        ];
        let mut out = Vec::new();
        encode_batch_body(&items, &mut out);
        out
    }

    #[test]
    fn lying_inner_lengths_are_refused() {
        let good = two_items();
        let first = BATCH_ITEM_OVERHEAD + 3 + 6;
        // TOTALSIZE of either item off by one in both directions, or negative.
        for (at, v) in [(0, first as i32 + 1), (0, first as i32 - 1), (first, 24), (0, -1)] {
            let mut b = good.clone();
            b[at..at + 4].copy_from_slice(&v.to_be_bytes());
            let e = decode_batch_body(&b).unwrap_err().to_string();
            let want = if v < 0 { "invalid batch TOTALSIZE -1" } else { "declared total size" };
            assert!(e.contains(want), "TOTALSIZE {v} at {at}: {e}");
        }
        // BODYLEN past the end, negative, or eating the next item; PROPLEN past the end.
        for (at, v) in [(16, i32::MAX), (16, -5), (16, 3 + 2 + 6 + 22)] {
            let mut b = good.clone();
            b[at..at + 4].copy_from_slice(&v.to_be_bytes());
            assert!(decode_batch_body(&b).is_err(), "BODYLEN {v}");
        }
        let mut b = good.clone();
        b[first - 8..first - 6].copy_from_slice(&i16::MAX.to_be_bytes());
        assert!(decode_batch_body(&b).is_err());
        assert!(decode_batch_body(&good).is_ok());
    }

    #[test]
    fn batch_over_max_message_size_is_message_illegal() {
        const MAX: usize = 4 * 1024 * 1024;
        // The body: 8 MiB of empty messages (380,000 of them), refused undecoded.
        let empty = BatchItem { flag: 0, body: vec![], properties: String::new() };
        let mut big = Vec::new();
        encode_batch_body(&vec![empty; 8 * 1024 * 1024 / BATCH_ITEM_OVERHEAD], &mut big);
        let e = decode_batch_body_capped(&big, MAX).unwrap_err();
        assert!(e.is_too_large(), "{e}");
        assert!(e.to_string().contains("exceeds the limit of 4194304"), "{e}");
        assert!(check_batch_body_size(MAX, MAX).is_ok());
        assert!(check_batch_body_size(MAX + 1, MAX).unwrap_err().is_too_large());
        assert_eq!(decode_batch_body_capped(&two_items(), MAX).unwrap().len(), 2);
        assert_eq!(
            message_illegal_remark(MAX),
            "the message is illegal, maybe msg body or properties length not matched. msg body \
             length limit 4194304B, msg properties length limit 32KB."
        );
    }
}
