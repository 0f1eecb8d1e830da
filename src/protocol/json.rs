//! fastjson compatibility: a normaliser that turns fastjson's non-strict output (bare numeric keys
//! `{0:"a"}`, object keys `{{"topic":"T"}:1}`) into strict JSON that serde_json reads (§4.1, §4.10).
#![deny(clippy::indexing_slicing, clippy::unwrap_used)]

/// Rewrite `text` so that every object key is a JSON string. Strict JSON passes through unchanged.
/// Bare keys are quoted as they are; object keys become their compact text, quoted.
pub fn normalize(text: &str) -> String {
    let b = text.as_bytes();
    // Built as bytes: everything copied is whole UTF-8 from `text` or ASCII, so it stays valid.
    let mut out: Vec<u8> = Vec::with_capacity(text.len() + 16);
    // Stack of containers: true = object.
    let mut stack: Vec<bool> = Vec::new();
    let mut expect_key = false;
    let mut i = 0;
    while i < b.len() {
        let c = b.get(i).copied().unwrap_or(b' ');
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if expect_key && c != b'"' && c != b'}' {
            // A non-string key: a bare token up to ':' or a nested object/array.
            let end = if c == b'{' || c == b'[' { matching_close(b, i) } else { scan_bare(b, i) };
            let raw = text.get(i..end).unwrap_or("");
            let key = if c == b'{' || c == b'[' { normalize(raw) } else { raw.trim().to_string() };
            push_quoted(&mut out, &key);
            expect_key = false;
            i = end;
            continue;
        }
        match c {
            b'"' => {
                let end = scan_string(b, i);
                out.extend_from_slice(b.get(i..end).unwrap_or_default());
                i = end;
                expect_key = false;
                continue;
            }
            b'{' => {
                stack.push(true);
                expect_key = true;
            }
            b'[' => stack.push(false),
            b'}' | b']' => {
                stack.pop();
                expect_key = false;
            }
            b',' => expect_key = stack.last().copied().unwrap_or(false),
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
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

fn matching_close(b: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                i = scan_string(b, i);
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// Parse fastjson text (strict or not) into a serde type.
pub fn from_fastjson<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    match serde_json::from_slice(bytes) {
        Ok(v) => Ok(v),
        Err(first) => {
            let text = String::from_utf8_lossy(bytes);
            serde_json::from_str(&normalize(&text)).map_err(|_| first)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn bare_and_object_keys() {
        assert_eq!(normalize(r#"{"a":{0:"x",1:"y"}}"#), r#"{"a":{"0":"x","1":"y"}}"#);
        let n = normalize(r#"{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:42}}"#);
        let v: serde_json::Value = serde_json::from_str(&n).unwrap();
        let k = v["offsetTable"].as_object().unwrap().keys().next().unwrap().clone();
        let mq: serde_json::Value = serde_json::from_str(&k).unwrap();
        assert_eq!(mq["topic"], "T");
        assert_eq!(normalize("{ \"k\" : [1, {2:\"ü\"}] }\n"), r#"{"k":[1,{"2":"ü"}]}"#);
        assert_eq!(normalize(r#"{"s":"a{0:b}, c"}"#), r#"{"s":"a{0:b}, c"}"#);
        assert_eq!(normalize("{}"), "{}");
    }
}
