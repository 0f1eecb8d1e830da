//! The request signature of Apache's ACL 1.0 (AclClientRPCHook.java, AclUtils
//! combineRequestContent, AclSigner.java; rocketmq-client-cpp ClientRPCHook.cpp):
//!
//! 1. take every ext field except `Signature` and `_UNIQUE_KEY_QUERY`, sorted by key (Java's
//!    `TreeMap<String, String>`: UTF-16 order);
//! 2. concatenate their values, not their keys, as UTF-8, then the raw body;
//! 3. HmacSHA1 that with the secret key (UTF-8) and Base64 the digest.
//!
//! Values are the text the server decoded: a number the C++ client sent as JSON counts as its
//! decimal text, which is also what that client signed. The client adds `AccessKey` (and the C++
//! client `OnsChannel`) before signing, so they are signed too.

use super::crypto::{base64, hmac_sha1};
use crate::protocol::command::RemotingCommand;

/// Ext field naming the account.
pub const ACCESS_KEY: &str = "AccessKey";
/// Ext field carrying the signature.
pub const SIGNATURE: &str = "Signature";
/// Optional ext field of temporary credentials (signed like any field).
pub const SECURITY_TOKEN: &str = "SecurityToken";
/// Ext field the C++ client adds (its `authChannel`, usually `ALIYUN`).
pub const ONS_CHANNEL: &str = "OnsChannel";
/// Ext field the validator leaves out of the signed content (MixAll.UNIQUE_MSG_QUERY_FLAG).
pub const UNIQUE_KEY_QUERY: &str = "_UNIQUE_KEY_QUERY";

/// The signature of `cmd` under `secret_key`, as Base64 text.
pub fn signature(secret_key: &str, cmd: &RemotingCommand) -> String {
    let mut fields: Vec<(&str, &str)> =
        cmd.ext_fields.iter().filter(|(k, _)| *k != SIGNATURE && *k != UNIQUE_KEY_QUERY).collect();
    // ExtFields order is UTF-8 byte order; Java's TreeMap compares UTF-16 units. They differ only
    // for keys with characters above U+FFFF against U+E000..U+FFFF, but be exact.
    if fields.iter().any(|(k, _)| !k.is_ascii()) {
        fields.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    }
    let mut parts: Vec<&[u8]> = fields.iter().map(|(_, v)| v.as_bytes()).collect();
    // The whole body: a send's can still be in the read buffer, in the tail.
    parts.push(&cmd.body);
    parts.extend(cmd.tail.iter().map(|t| t.as_slice()));
    base64(&hmac_sha1(secret_key.as_bytes(), &parts))
}

/// Sign `cmd` as Apache's clients do before sending it: set `AccessKey` (and `OnsChannel` when
/// `channel` is given, as the C++ client does), then `Signature` over everything. Any earlier
/// `Signature` is replaced. Install it as the remoting client's outbound hook.
///
/// Unlike Java's AclClientRPCHook, `_UNIQUE_KEY_QUERY` is left out of the signed content: the
/// validator (Apache's and ours) leaves it out, so a Java client's unique-key QUERY_MESSAGE
/// fails Apache's own check, and ours would not.
pub fn sign(cmd: &mut RemotingCommand, access_key: &str, secret_key: &str, channel: Option<&str>) {
    cmd.ext_fields.remove(SIGNATURE);
    cmd.put(ACCESS_KEY, access_key);
    if let Some(c) = channel {
        cmd.put(ONS_CHANNEL, c);
    }
    let sig = signature(secret_key, cmd);
    cmd.put(SIGNATURE, sig);
}

/// True when `cmd` carries the signature `secret_key` gives it (compared in constant time).
pub fn verify(secret_key: &str, cmd: &RemotingCommand) -> bool {
    let Some(got) = cmd.field(SIGNATURE) else { return false };
    let want = signature(secret_key, cmd);
    got.len() == want.len()
        && got.bytes().zip(want.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn values_sorted_by_key_then_body() {
        let cmd = RemotingCommand::request(10)
            .with("b", "2")
            .with("a", "1")
            .with(SIGNATURE, "old")
            .with(UNIQUE_KEY_QUERY, "true")
            .with_body(b"BODY".to_vec());
        // The content is "12BODY": keys are not signed, Signature and _UNIQUE_KEY_QUERY skipped.
        let want = base64(&hmac_sha1(b"secret12", &[b"12BODY"]));
        assert_eq!(signature("secret12", &cmd), want);
        let mut signed = cmd.clone();
        sign(&mut signed, "AK123456", "secret12", Some("ALIYUN"));
        assert_eq!(signed.field(ACCESS_KEY), Some("AK123456"));
        assert_eq!(signed.field(ONS_CHANNEL), Some("ALIYUN"));
        // AccessKey < OnsChannel < a < b in key order.
        let want = base64(&hmac_sha1(b"secret12", &[b"AK123456ALIYUN12BODY"]));
        assert_eq!(signed.field(SIGNATURE), Some(want.as_str()));
        assert!(verify("secret12", &signed));
        assert!(!verify("secret13", &signed));
        let mut tampered = signed.clone();
        tampered.body.push(b'!');
        assert!(!verify("secret12", &tampered));
        tampered = signed.clone();
        tampered.put("b", "3");
        assert!(!verify("secret12", &tampered));
        assert!(!verify("secret12", &cmd.clone().with(SIGNATURE, "")));
    }

    #[test]
    fn java_key_order_for_non_ascii_keys() {
        // U+FF5E sorts before U+1F600 in UTF-8 (BTreeMap) but after it in UTF-16 (Java).
        let cmd = RemotingCommand::request(10).with("\u{1F600}", "x").with("\u{FF5E}", "y");
        assert_eq!(signature("k", &cmd), base64(&hmac_sha1(b"k", &[b"xy"])));
    }
}
