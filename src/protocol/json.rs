//! fastjson compatibility: a normaliser that turns fastjson's non-strict output (bare numeric keys
//! `{0:"a"}`, object keys `{{"topic":"T"}:1}`) into strict JSON that serde_json reads (§4.1, §4.10),
//! and the nesting cap every parse of peer JSON goes through (issue 13).
//!
//! A stack overflow cannot be caught, so nothing here recurses on the input: [`check_depth`] and
//! [`normalize`] are single linear passes with an explicit stack bounded by [`MAX_DEPTH`], and
//! serde_json (whose own recursion limit is 128) only ever sees text that passed [`check_depth`].
#![deny(clippy::indexing_slicing, clippy::unwrap_used)]

use std::fmt;

/// Deepest nesting of objects and arrays accepted in JSON from a peer or a file. RocketMQ's
/// bodies nest at most about six levels; serde_json would refuse at 128 on its own.
pub const MAX_DEPTH: usize = 64;

/// JSON that cannot be normalised: nested deeper than [`MAX_DEPTH`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepthError {
    /// Byte offset of the bracket that went past the limit.
    at: usize,
    max: usize,
}

impl fmt::Display for DepthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "JSON nests objects and arrays deeper than {} levels (at byte {})",
            self.max, self.at
        )
    }
}

impl std::error::Error for DepthError {}

impl From<DepthError> for serde_json::Error {
    fn from(e: DepthError) -> Self {
        <serde_json::Error as serde::de::Error>::custom(e)
    }
}

/// Fail if `bytes` nests `{`/`[` deeper than `max` (brackets inside strings do not count).
/// Linear, no allocation, and it does not need the text to be valid JSON or UTF-8.
pub fn check_depth(bytes: &[u8], max: usize) -> Result<(), DepthError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &c) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return Err(DepthError { at: i, max });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// One open container of the normaliser.
struct Frame {
    object: bool,
    /// The next token in this object is a key.
    expect_key: bool,
    /// This container is itself an object key: its text goes to its own buffer, which becomes a
    /// quoted string in the parent when the container closes.
    is_key: bool,
}

/// Rewrite `text` so that every object key is a JSON string. Strict JSON passes through unchanged
/// except for whitespace outside strings, which is dropped. Bare keys are quoted as they are;
/// object and array keys become their own normalised compact text, quoted. Refuses nesting deeper
/// than [`MAX_DEPTH`]. One pass, linear in the input.
pub fn normalize(text: &str) -> Result<String, DepthError> {
    let b = text.as_bytes();
    // Output buffers: the bottom one is the result, one more per object key being captured.
    // Everything copied is whole UTF-8 from `text` or ASCII, so each buffer stays valid UTF-8.
    let mut outs: Vec<Vec<u8>> = vec![Vec::with_capacity(text.len() + 16)];
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let at_key = stack.last().is_some_and(|f| f.object && f.expect_key);
        if at_key && c != b'"' && c != b'}' {
            if let Some(f) = stack.last_mut() {
                f.expect_key = false;
            }
            if c == b'{' || c == b'[' {
                // A container as key: capture its text in a fresh buffer.
                if stack.len() >= MAX_DEPTH {
                    return Err(DepthError { at: i, max: MAX_DEPTH });
                }
                stack.push(Frame { object: c == b'{', expect_key: c == b'{', is_key: true });
                outs.push(vec![c]);
                i += 1;
                continue;
            }
            // A bare token up to ':' (fastjson's unquoted numeric keys).
            let end = scan_bare(b, i);
            let raw = text.get(i..end).unwrap_or("");
            push_quoted(cur(&mut outs), raw.trim());
            i = end;
            continue;
        }
        match c {
            b'"' => {
                let end = scan_string(b, i);
                cur(&mut outs).extend_from_slice(b.get(i..end).unwrap_or_default());
                if let Some(f) = stack.last_mut() {
                    f.expect_key = false;
                }
                i = end;
                continue;
            }
            b'{' | b'[' => {
                if stack.len() >= MAX_DEPTH {
                    return Err(DepthError { at: i, max: MAX_DEPTH });
                }
                stack.push(Frame { object: c == b'{', expect_key: c == b'{', is_key: false });
                cur(&mut outs).push(c);
            }
            b'}' | b']' => {
                cur(&mut outs).push(c);
                if let Some(f) = stack.pop() {
                    if f.is_key && outs.len() > 1 {
                        let key = outs.pop().unwrap_or_default();
                        let key = String::from_utf8_lossy(&key);
                        push_quoted(cur(&mut outs), &key);
                    }
                }
                if let Some(f) = stack.last_mut() {
                    f.expect_key = false;
                }
            }
            b',' => {
                if let Some(f) = stack.last_mut() {
                    f.expect_key = f.object;
                }
                cur(&mut outs).push(c);
            }
            _ => cur(&mut outs).push(c),
        }
        i += 1;
    }
    // Unclosed key containers (truncated input): fold them back so nothing is lost; serde_json
    // then reports the truncation.
    while outs.len() > 1 {
        let top = outs.pop().unwrap_or_default();
        cur(&mut outs).extend_from_slice(&top);
    }
    let out = outs.pop().unwrap_or_default();
    Ok(String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

fn cur(outs: &mut Vec<Vec<u8>>) -> &mut Vec<u8> {
    if outs.is_empty() {
        outs.push(Vec::new());
    }
    let n = outs.len() - 1;
    // `outs` is non-empty here, so the index exists.
    outs.get_mut(n).expect("invariant: outs is non-empty")
}

fn push_quoted(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(&mut *out, s);
}

fn scan_string(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while let Some(&c) = b.get(i) {
        if c == b'\\' {
            i += 2;
            continue;
        }
        i += 1;
        if c == b'"' {
            return i;
        }
    }
    b.len()
}

fn scan_bare(b: &[u8], start: usize) -> usize {
    let mut i = start;
    while let Some(&c) = b.get(i) {
        if c == b':' {
            return i;
        }
        i += 1;
    }
    b.len()
}

/// Parse fastjson text (strict or not) into a serde type. Input nested deeper than
/// [`MAX_DEPTH`] is refused before any parser sees it.
pub fn from_fastjson<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    check_depth(bytes, MAX_DEPTH)?;
    match serde_json::from_slice(bytes) {
        Ok(v) => Ok(v),
        Err(first) => {
            let text = String::from_utf8_lossy(bytes);
            let strict = normalize(&text)?;
            serde_json::from_str(&strict).map_err(|_| first)
        }
    }
}

/// Parse strict JSON from a peer or a file into a serde type, with the [`MAX_DEPTH`] cap.
pub fn from_strict<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    check_depth(bytes, MAX_DEPTH)?;
    serde_json::from_slice(bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn bare_and_object_keys() {
        let n = |s: &str| normalize(s).unwrap();
        assert_eq!(n(r#"{"a":{0:"x",1:"y"}}"#), r#"{"a":{"0":"x","1":"y"}}"#);
        let t = n(r#"{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:42}}"#);
        let v: serde_json::Value = serde_json::from_str(&t).unwrap();
        let k = v["offsetTable"].as_object().unwrap().keys().next().unwrap().clone();
        let mq: serde_json::Value = serde_json::from_str(&k).unwrap();
        assert_eq!(mq["topic"], "T");
        assert_eq!(v["offsetTable"][&k], 42);
        assert_eq!(n("{ \"k\" : [1, {2:\"ü\"}] }\n"), r#"{"k":[1,{"2":"ü"}]}"#);
        assert_eq!(n(r#"{"s":"a{0:b}, c"}"#), r#"{"s":"a{0:b}, c"}"#);
        assert_eq!(n("{}"), "{}");
        // A key object holding a bare key of its own, and two object keys in a row.
        let t = n(r#"{{"a":{1:2}}:3, {"b":"}"}:[4]}"#);
        let v: serde_json::Value = serde_json::from_str(&t).unwrap();
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys, [r#"{"a":{"1":2}}"#, r#"{"b":"}"}"#]);
        // Truncated input keeps its bytes (serde_json reports the error).
        assert!(serde_json::from_str::<serde_json::Value>(&n(r#"{{"a":1"#)).is_err());
    }

    #[test]
    fn depth_limit() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(check_depth(ok.as_bytes(), MAX_DEPTH).is_ok());
        assert!(normalize(&ok).is_ok());
        let deep = format!("[{ok}]");
        let e = check_depth(deep.as_bytes(), MAX_DEPTH).unwrap_err();
        assert!(e.to_string().contains("deeper than 64"), "{e}");
        assert!(normalize(&deep).is_err());
        // Brackets in strings (with escaped quotes) do not count.
        let s = format!(r#"{{"k":"\"{}"}}"#, "[".repeat(1000));
        assert!(check_depth(s.as_bytes(), 2).is_ok());
        // Keys nested as keys count too.
        let keys = format!("{}1{}", "{".repeat(MAX_DEPTH + 1), ":1}".repeat(MAX_DEPTH + 1));
        assert!(normalize(&keys).is_err());
        let v: Result<serde_json::Value, _> = from_fastjson(deep.as_bytes());
        assert!(v.unwrap_err().to_string().contains("deeper than"));
    }
}
