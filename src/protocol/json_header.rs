//! The JSON header form (§1.3), read in one pass straight into a [`RemotingCommand`]: no
//! intermediate `serde_json::Value`; ext keys and values are unescaped straight into one
//! buffer ([`ExtFields`](super::ext_fields::ExtFields)), two allocations per header.
//! Iterative, so its nesting is bounded by [`MAX_NESTING`] without recursion: a peer's deeply
//! nested header is an error, never a deep stack.
//!
//! Accepted as Java's and the C++ client's headers are written: members in any order, unknown
//! members skipped, ext values that are strings, numbers, booleans (kept as their text), null
//! (absent), or anything else (kept as its raw JSON text).
#![deny(clippy::indexing_slicing, clippy::unwrap_used)]

use super::codes::{known_language, language_name};
use super::command::{RemotingCommand, SerializeType};
use super::ext_fields::Builder;
use std::borrow::Cow;

/// Deepest nesting accepted inside a header (Java's headers nest two levels): the cap every
/// parse of peer JSON has.
pub const MAX_NESTING: usize = super::json::MAX_DEPTH;

/// Why a JSON header did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderError(pub String);

type R<T> = Result<T, HeaderError>;

fn err<T>(why: impl Into<String>) -> R<T> {
    Err(HeaderError(why.into()))
}

struct Cursor<'a> {
    b: &'a [u8],
    /// The same bytes as text (a header is validated as UTF-8 once, whole).
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8) -> R<()> {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            err(format!("expected '{}' at byte {}", c as char, self.i))
        }
    }

    /// After a member: true when another follows (`,`), false at the closing `close`.
    fn next_member(&mut self, close: u8) -> R<bool> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                Ok(true)
            }
            Some(c) if c == close => {
                self.i += 1;
                Ok(false)
            }
            _ => err(format!("expected ',' or '{}' at byte {}", close as char, self.i)),
        }
    }

    /// A string (the cursor is on its opening quote), unescaped.
    fn string(&mut self) -> R<String> {
        let mut s = String::new();
        self.string_into(&mut s)?;
        Ok(s)
    }

    /// A string, unescaped, appended to `out`: the runs between escapes are copied whole (a
    /// send's properties escape every \u0001 and \u0002, so escapes are the common case).
    fn string_into(&mut self, out: &mut String) -> R<()> {
        self.ws();
        if self.peek() != Some(b'"') {
            return err(format!("expected a string at byte {}", self.i));
        }
        self.i += 1;
        loop {
            let start = self.i;
            let rest = self.b.get(start..).unwrap_or_default();
            let Some(n) = rest.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20) else {
                return err("an unterminated string");
            };
            self.i += n;
            // Runs start and end at ASCII bytes, so they are char boundaries of the text.
            out.push_str(self.s.get(start..self.i).unwrap_or_default());
            let c = self.peek().unwrap_or(0);
            self.i += 1;
            match c {
                b'"' => return Ok(()),
                b'\\' => {
                    let Some(e) = self.peek() else { return err("an unterminated escape") };
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e as char),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => out.push(self.unicode_escape()?),
                        _ => return err("an invalid escape"),
                    }
                }
                _ => return err("a control character inside a string"),
            }
        }
    }

    fn hex4(&mut self) -> R<u32> {
        let h = self.b.get(self.i..self.i + 4).ok_or(HeaderError("a short \\u escape".into()))?;
        let s = std::str::from_utf8(h).map_err(|_| HeaderError("a bad \\u escape".into()))?;
        let v = u32::from_str_radix(s, 16).map_err(|_| HeaderError("a bad \\u escape".into()))?;
        self.i += 4;
        Ok(v)
    }

    fn unicode_escape(&mut self) -> R<char> {
        let hi = self.hex4()?;
        if (0xD800..0xDC00).contains(&hi) {
            if self.b.get(self.i..self.i + 2) == Some(b"\\u") {
                self.i += 2;
                let lo = self.hex4()?;
                if (0xDC00..0xE000).contains(&lo) {
                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    return char::from_u32(c).ok_or(HeaderError("a bad surrogate pair".into()));
                }
            }
            return err("a lone surrogate");
        }
        char::from_u32(hi).ok_or(HeaderError("a bad \\u escape".into()))
    }

    /// Skip one value of any kind; returns its raw text. Nesting is counted, not recursed.
    fn skip_value(&mut self) -> R<&'a str> {
        self.ws();
        let start = self.i;
        let mut depth = 0usize;
        loop {
            self.ws();
            match self.peek() {
                None => return err("an unterminated value"),
                Some(b'{' | b'[') => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return err(format!("nested deeper than {MAX_NESTING} levels"));
                    }
                    self.i += 1;
                    continue;
                }
                Some(b'}' | b']') if depth > 0 => {
                    depth -= 1;
                    self.i += 1;
                }
                Some(b'"') => {
                    self.string()?;
                }
                Some(b',' | b':') if depth > 0 => {
                    self.i += 1;
                    continue;
                }
                Some(_) => {
                    self.scalar()?;
                }
            }
            if depth == 0 {
                return Ok(self.s.get(start..self.i).unwrap_or_default());
            }
        }
    }

    /// A number, `true`, `false` or `null`, as its text.
    fn scalar(&mut self) -> R<&'a str> {
        self.ws();
        let start = self.i;
        while matches!(
            self.peek(),
            Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E' | b'a'..=b'z')
        ) {
            self.i += 1;
        }
        let s = self.s.get(start..self.i).unwrap_or_default();
        let numeric = s.starts_with(|c: char| c == '-' || c.is_ascii_digit());
        let ok = matches!(s, "true" | "false" | "null") || (numeric && s.parse::<f64>().is_ok());
        if ok {
            Ok(s)
        } else {
            err(format!("an invalid value at byte {start}"))
        }
    }

    /// A value as text for an ext field or a header member: `None` for null.
    fn text_value(&mut self) -> R<Option<String>> {
        let mut s = String::new();
        Ok(self.text_value_into(&mut s)?.then_some(s))
    }

    /// A value's text appended to `out`; false (nothing appended) for null.
    fn text_value_into(&mut self, out: &mut String) -> R<bool> {
        self.ws();
        match self.peek() {
            Some(b'"') => self.string_into(out).map(|()| true),
            Some(b'{' | b'[') => {
                out.push_str(self.skip_value()?);
                Ok(true)
            }
            _ => {
                let s = self.scalar()?;
                if s == "null" {
                    return Ok(false);
                }
                out.push_str(s);
                Ok(true)
            }
        }
    }

    /// An integer member: a number or a numeric string, in i32 range (a code of 2^32 + 10 is
    /// not SEND_MESSAGE); null reads as 0.
    fn int_member(&mut self, what: &str) -> R<i32> {
        let Some(t) = self.text_value()? else { return Ok(0) };
        let t = t.trim();
        let n = t.parse::<i64>().ok().or_else(|| {
            let f = t.parse::<f64>().ok()?;
            (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64)
        });
        match n.map(i32::try_from) {
            Some(Ok(v)) => Ok(v),
            Some(Err(_)) => err(format!("header {what} {t} is out of range")),
            None => err(format!("header {what} is not an integer")),
        }
    }
}

/// Parse a JSON header (the header bytes of a frame whose type byte is 0).
pub fn decode(header: &[u8], max_ext_fields: usize) -> R<RemotingCommand> {
    // Every byte outside ASCII belongs inside a string, which has to be UTF-8 anyway.
    let text =
        std::str::from_utf8(header).map_err(|_| HeaderError("a string is not UTF-8".into()))?;
    let mut c = Cursor { b: header, s: text, i: 0 };
    let mut cmd = RemotingCommand::request(0);
    cmd.serialize_type = SerializeType::Json;
    cmd.language = Cow::Borrowed("OTHER");
    let (mut code, mut version, mut opaque, mut flag) = (0, 0, 0, 0);
    c.expect(b'{')?;
    c.ws();
    if c.peek() == Some(b'}') {
        c.i += 1;
    } else {
        loop {
            let key = c.string()?;
            c.expect(b':')?;
            match key.as_str() {
                "code" => code = c.int_member("code")?,
                "version" => version = c.int_member("version")?,
                "opaque" => opaque = c.int_member("opaque")?,
                "flag" => flag = c.int_member("flag")?,
                "language" => {
                    c.ws();
                    cmd.language = match c.peek() {
                        Some(b'"') => {
                            let s = c.string()?;
                            known_language(&s).map_or(Cow::Owned(s), Cow::Borrowed)
                        }
                        _ => match c.text_value()?.and_then(|t| t.parse::<u64>().ok()) {
                            Some(n) => Cow::Borrowed(language_name(n.min(255) as u8)),
                            None => Cow::Borrowed("OTHER"),
                        },
                    }
                }
                "remark" => {
                    c.ws();
                    cmd.remark = if c.peek() == Some(b'"') {
                        Some(c.string()?)
                    } else {
                        c.skip_value()?;
                        None
                    };
                }
                "extFields" => {
                    c.ws();
                    if c.peek() == Some(b'{') {
                        ext_fields(&mut c, &mut cmd, max_ext_fields)?;
                    } else {
                        c.skip_value()?;
                    }
                }
                _ => {
                    c.skip_value()?;
                }
            }
            if !c.next_member(b'}')? {
                break;
            }
        }
    }
    c.ws();
    if c.i != header.len() {
        return err(format!("trailing bytes after the header object at byte {}", c.i));
    }
    cmd.code = code;
    cmd.version = version;
    cmd.opaque = opaque;
    cmd.flag = flag;
    Ok(cmd)
}

fn ext_fields(c: &mut Cursor<'_>, cmd: &mut RemotingCommand, max: usize) -> R<()> {
    c.expect(b'{')?;
    c.ws();
    if c.peek() == Some(b'}') {
        c.i += 1;
        return Ok(());
    }
    let mut n = 0usize;
    let mut fields = Builder::with_capacity(c.b.len().saturating_sub(c.i));
    loop {
        let key_start = fields.text().len();
        c.string_into(fields.text())?;
        let key_end = fields.text().len();
        c.expect(b':')?;
        n += 1;
        if n > max {
            return err(format!("more than {max} ext fields"));
        }
        if c.text_value_into(fields.text())? {
            let end = fields.text().len();
            fields.push((key_start, key_end), (key_end, end));
        } else {
            fields.text().truncate(key_start);
        }
        if !c.next_member(b'}')? {
            break;
        }
    }
    let fields = fields.finish();
    if cmd.ext_fields.is_empty() {
        cmd.ext_fields = fields;
    } else {
        // A second "extFields" member adds to the first, as map inserts would.
        for (k, v) in fields.iter() {
            cmd.ext_fields.insert(k, v);
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_member_in_any_order_and_skips_unknown_ones() {
        let h = br#" {"version":317,"extFields":{"b":"T\"\u00c4\ud83d\ude00","e":3,"f":1.5,"t":true,"n":null,"o":{"x":[1,2]}},"unknown":[{"a":{}},null],"flag":2,"language":"CPP","opaque":-7,"remark":"r\nx","code":310,"serializeTypeCurrentRPC":"JSON"} "#;
        let c = decode(h, 100).unwrap();
        assert_eq!((c.code, c.version, c.opaque, c.flag), (310, 317, -7, 2));
        assert_eq!(c.language, "CPP");
        assert_eq!(c.remark.as_deref(), Some("r\nx"));
        assert_eq!(c.field("b"), Some("T\"Ä😀"));
        assert_eq!(c.field("e"), Some("3"));
        assert_eq!(c.field("f"), Some("1.5"));
        assert_eq!(c.field("t"), Some("true"));
        assert_eq!(c.field("n"), None);
        assert_eq!(c.field("o"), Some(r#"{"x":[1,2]}"#));
    }

    #[test]
    fn equals_serde_json_on_well_formed_headers() {
        let mut cmd = RemotingCommand::request(10).with("topic", "T\u{1}x").with("queueId", 3);
        cmd.remark = Some("\"quoted\" \\ / \u{7}".into());
        let mut bytes = Vec::new();
        crate::protocol::frame::encode(&cmd, &mut bytes);
        let hl = (u32::from_be_bytes(bytes[4..8].try_into().unwrap()) & 0xFF_FFFF) as usize;
        let d = decode(&bytes[8..8 + hl], 100).unwrap();
        assert_eq!(
            (d.code, d.remark.clone(), d.ext_fields.clone()),
            (10, cmd.remark, cmd.ext_fields)
        );
    }

    #[test]
    fn ext_fields_equal_serde_json_for_escapes_unicode_and_duplicate_keys() {
        let alphabet =
            ["a", "Z", "\"", "\\", "/", "\u{1}", "\u{2}", "\n", "\t", "é", "😀", "\u{7f}", " "];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        };
        for _ in 0..500 {
            let mut members = Vec::new();
            for _ in 0..next(8) {
                // Few distinct keys, so duplicates are common: the last one must win.
                let key = ["k", "b", "\u{2}", "é"][next(4)].to_string();
                let value: String = (0..next(12)).map(|_| alphabet[next(alphabet.len())]).collect();
                members.push(format!(
                    "{}:{}",
                    serde_json::to_string(&key).unwrap(),
                    serde_json::to_string(&value).unwrap()
                ));
            }
            let header = format!(r#"{{"code":10,"extFields":{{{}}},"flag":0}}"#, members.join(","));
            let want: serde_json::Value = serde_json::from_str(&header).unwrap();
            let want: Vec<(String, String)> = want["extFields"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            let got = decode(header.as_bytes(), 100).unwrap();
            let got: Vec<(String, String)> =
                got.ext_fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            assert_eq!(got, want, "{header}");
        }
    }

    #[test]
    fn refuses_bad_input_with_a_reason() {
        let deep = format!("{{\"code\":1,\"x\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        for bad in [
            &b"{"[..],
            b"[]",
            b"{\"code\":4294967306}",
            b"{\"code\":\"ten\"}",
            b"{\"code\":1} x",
            b"{\"code\":1,}",
            b"{\"extFields\":{\"a\":\"\\q\"}}",
            b"{\"extFields\":{\"a\":\"\xff\"}}",
            b"{\"remark\":\"\\ud800\"}",
            b"{\"code\":+1}",
            b"{\"code\":nan}",
            b"{\"extFields\":{\"a\":inf}}",
            deep.as_bytes(),
        ] {
            assert!(decode(bad, 100).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let many: String =
            (0..101).map(|i| format!("\"k{i}\":\"v\"")).collect::<Vec<_>>().join(",");
        assert!(decode(format!("{{\"extFields\":{{{many}}}}}").as_bytes(), 100).is_err());
    }
}
