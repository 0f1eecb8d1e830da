//! The YAML subset plain_acl.yml uses (Apache writes it with SnakeYAML's `dumpAsMap`, people by
//! hand): block maps, block sequences (indented or at their key's column, as SnakeYAML writes
//! them), plain, single- and double-quoted scalars, one-line flow sequences and maps, `#`
//! comments, an optional `---`. No anchors, aliases, tags, multi-line or block scalars: those are
//! refused with the line number. Input is capped at [`MAX_BYTES`] and [`MAX_DEPTH`] levels, so a
//! hostile file cannot exhaust the stack or the heap. Scalars stay text; the schema decides what
//! is a boolean. No crate in the allowed list reads YAML, and a general one would be a large
//! dependency for a file of this shape.
#![deny(clippy::indexing_slicing, clippy::unwrap_used)]

use std::fmt;

/// Largest file accepted.
pub const MAX_BYTES: usize = 1 << 20;
/// Deepest nesting of maps and sequences (block and flow together).
pub const MAX_DEPTH: usize = 16;

/// A parsed node. Map entries keep file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Yaml {
    /// An empty value, `~` or `null`.
    Null,
    /// Any scalar, as text.
    Scalar(String),
    /// A sequence.
    Seq(Vec<Yaml>),
    /// A map.
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    /// The value of `key` in a map.
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Why a file is not in the subset, with its 1-based line (0 for the whole file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// Line number, 1-based; 0 when the error concerns the whole input.
    pub line: usize,
    why: String,
}

impl YamlError {
    fn at(line: usize, why: impl Into<String>) -> Self {
        YamlError { line, why: why.into() }
    }
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.why)
        } else {
            write!(f, "line {}: {}", self.line, self.why)
        }
    }
}

impl std::error::Error for YamlError {}

/// A content line: its number, indentation and text (comment and trailing blanks removed).
#[derive(Debug, Clone)]
struct Line {
    no: usize,
    indent: usize,
    text: String,
}

/// Parse `text`. An empty document is [`Yaml::Null`].
pub fn parse(text: &str) -> Result<Yaml, YamlError> {
    if text.len() > MAX_BYTES {
        return Err(YamlError::at(0, format!("the file is larger than {MAX_BYTES} bytes")));
    }
    let lines = split_lines(text)?;
    let Some(first) = lines.first() else { return Ok(Yaml::Null) };
    let indent = first.indent;
    let mut p = Parser { lines, i: 0 };
    let v = p.block(indent, 0)?;
    match p.lines.get(p.i) {
        Some(l) => Err(YamlError::at(l.no, "unexpected indentation")),
        None => Ok(v),
    }
}

fn split_lines(text: &str) -> Result<Vec<Line>, YamlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<Line> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let no = n + 1;
        let body = raw.trim_start_matches(' ');
        let indent = raw.len() - body.len();
        if body.starts_with('\t') {
            return Err(YamlError::at(no, "tabs cannot indent YAML"));
        }
        let content = strip_comment(body).trim_end();
        if content.is_empty() {
            continue;
        }
        if indent == 0 && out.is_empty() && (content == "---" || content.starts_with('%')) {
            continue;
        }
        if indent == 0 && content == "..." {
            break;
        }
        if indent == 0 && content == "---" {
            return Err(YamlError::at(no, "only one document is supported"));
        }
        out.push(Line { no, indent, text: content.to_string() });
    }
    Ok(out)
}

/// `s` up to a `#` that starts a comment (at the start or after a blank, outside quotes).
fn strip_comment(s: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut prev_blank = true;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some('"') if c == '\\' => {
                chars.next();
            }
            // '' inside single quotes is a quote character, not the end.
            Some('\'') if c == '\'' && chars.peek().is_some_and(|&(_, n)| n == '\'') => {
                chars.next();
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '#' && prev_blank => return s.get(..i).unwrap_or(s),
            None if (c == '"' || c == '\'') && prev_blank => quote = Some(c),
            None => {}
        }
        prev_blank = c == ' ' || c == '\t' || (quote.is_none() && matches!(c, '[' | '{' | ','));
    }
    s
}

fn is_seq_item(t: &str) -> bool {
    t == "-" || t.starts_with("- ")
}

struct Parser {
    lines: Vec<Line>,
    i: usize,
}

impl Parser {
    fn line(&self) -> Option<&Line> {
        self.lines.get(self.i)
    }

    /// The node starting at the current line, whose lines are indented by `indent`.
    fn block(&mut self, indent: usize, depth: usize) -> Result<Yaml, YamlError> {
        let Some(l) = self.line() else { return Ok(Yaml::Null) };
        let no = l.no;
        if depth >= MAX_DEPTH {
            return Err(YamlError::at(no, format!("nested deeper than {MAX_DEPTH} levels")));
        }
        if is_seq_item(&l.text) {
            self.seq(indent, depth)
        } else if split_key(&l.text, no)?.is_some() {
            self.map(indent, depth)
        } else {
            let text = l.text.clone();
            self.i += 1;
            inline_value(&text, no, depth)
        }
    }

    fn seq(&mut self, indent: usize, depth: usize) -> Result<Yaml, YamlError> {
        let mut items = Vec::new();
        while let Some(l) = self.line() {
            if l.indent != indent || !is_seq_item(&l.text) {
                break;
            }
            let (no, text) = (l.no, l.text.clone());
            let rest = text.get(1..).unwrap_or("").trim_start_matches(' ');
            let offset = text.len() - rest.len();
            if rest.is_empty() {
                self.i += 1;
                items.push(match self.line() {
                    Some(next) if next.indent > indent => {
                        let ni = next.indent;
                        self.block(ni, depth + 1)?
                    }
                    _ => Yaml::Null,
                });
            } else if is_seq_item(rest) || split_key(rest, no)?.is_some() {
                // `- key: v` / `- - x`: the rest of the line starts a node at its own column.
                let inner = indent + offset;
                if let Some(cur) = self.lines.get_mut(self.i) {
                    *cur = Line { no, indent: inner, text: rest.to_string() };
                }
                items.push(self.block(inner, depth + 1)?);
            } else {
                self.i += 1;
                items.push(inline_value(rest, no, depth + 1)?);
            }
        }
        self.no_deeper(indent)?;
        Ok(Yaml::Seq(items))
    }

    fn map(&mut self, indent: usize, depth: usize) -> Result<Yaml, YamlError> {
        let mut entries: Vec<(String, Yaml)> = Vec::new();
        while let Some(l) = self.line() {
            if l.indent != indent {
                break;
            }
            let (no, text) = (l.no, l.text.clone());
            let Some((key, rest)) = split_key(&text, no)? else {
                return Err(YamlError::at(no, "expected 'key: value'"));
            };
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(YamlError::at(no, format!("duplicate key '{key}'")));
            }
            self.i += 1;
            let value = if rest.is_empty() {
                match self.line() {
                    Some(next) if next.indent > indent => {
                        let ni = next.indent;
                        self.block(ni, depth + 1)?
                    }
                    // SnakeYAML writes a map's sequences at the key's own column.
                    Some(next) if next.indent == indent && is_seq_item(&next.text) => {
                        if depth + 1 >= MAX_DEPTH {
                            return Err(YamlError::at(next.no, "nested too deep"));
                        }
                        self.seq(indent, depth + 1)?
                    }
                    _ => Yaml::Null,
                }
            } else {
                inline_value(rest, no, depth + 1)?
            };
            entries.push((key, value));
        }
        self.no_deeper(indent)?;
        Ok(Yaml::Map(entries))
    }

    /// After a node at `indent`, the next line may not be indented deeper.
    fn no_deeper(&self, indent: usize) -> Result<(), YamlError> {
        match self.line() {
            Some(l) if l.indent > indent => Err(YamlError::at(l.no, "unexpected indentation")),
            _ => Ok(()),
        }
    }
}

/// `key: rest` (or `key:`) of a block map line; `None` when the line is not a map entry.
fn split_key(text: &str, no: usize) -> Result<Option<(String, &str)>, YamlError> {
    if text.starts_with(['[', '{']) {
        return Ok(None);
    }
    if text.starts_with(['"', '\'']) {
        let (key, used) = quoted(text, no)?;
        let after = text.get(used..).unwrap_or("").trim_start_matches(' ');
        return Ok(after
            .strip_prefix(':')
            .filter(|r| r.is_empty() || r.starts_with(' '))
            .map(|r| (key, r.trim_start_matches(' '))));
    }
    let mut from = 0;
    while let Some(at) = text.get(from..).and_then(|t| t.find(':')) {
        let colon = from + at;
        let after = text.get(colon + 1..).unwrap_or("");
        if after.is_empty() || after.starts_with(' ') {
            let key = text.get(..colon).unwrap_or("").trim_end();
            if key.is_empty() {
                return Err(YamlError::at(no, "a key is missing before ':'"));
            }
            return Ok(Some((key.to_string(), after.trim_start_matches(' '))));
        }
        from = colon + 1;
    }
    Ok(None)
}

/// A value written on the same line as its key or dash.
fn inline_value(text: &str, no: usize, depth: usize) -> Result<Yaml, YamlError> {
    let mut f = Flow { s: text, pos: 0, no };
    let v = f.value(depth, false)?;
    f.blanks();
    if f.pos < text.len() {
        return Err(YamlError::at(no, format!("unexpected text after the value: '{}'", f.rest())));
    }
    Ok(v)
}

/// A quoted scalar at the start of `s`: its value and the bytes it used.
fn quoted(s: &str, no: usize) -> Result<(String, usize), YamlError> {
    let mut chars = s.char_indices();
    let Some((_, q)) = chars.next() else { return Err(YamlError::at(no, "empty value")) };
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        if q == '\'' {
            if c == '\'' {
                if s.get(i + 1..).is_some_and(|r| r.starts_with('\'')) {
                    out.push('\'');
                    chars.next();
                    continue;
                }
                return Ok((out, i + 1));
            }
            out.push(c);
            continue;
        }
        match c {
            '"' => return Ok((out, i + 1)),
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                let hex = |n: usize, chars: &mut std::str::CharIndices<'_>| {
                    let digits: String = chars.by_ref().take(n).map(|(_, c)| c).collect();
                    u32::from_str_radix(&digits, 16)
                        .ok()
                        .filter(|_| digits.len() == n)
                        .and_then(char::from_u32)
                        .ok_or_else(|| YamlError::at(no, format!("bad escape '\\{e}{digits}'")))
                };
                out.push(match e {
                    '\\' | '"' | '/' | ' ' => e,
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '0' => '\0',
                    'x' => hex(2, &mut chars)?,
                    'u' => hex(4, &mut chars)?,
                    'U' => hex(8, &mut chars)?,
                    other => return Err(YamlError::at(no, format!("unknown escape '\\{other}'"))),
                });
            }
            _ => out.push(c),
        }
    }
    Err(YamlError::at(no, format!("unclosed {q} quote (multi-line scalars are not supported)")))
}

/// One-line values: scalars and flow collections.
struct Flow<'a> {
    s: &'a str,
    pos: usize,
    no: usize,
}

impl<'a> Flow<'a> {
    fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }

    fn blanks(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start_matches(' ').len();
    }

    fn err(&self, why: impl Into<String>) -> YamlError {
        YamlError::at(self.no, why)
    }

    /// A value; inside a flow collection, plain scalars end at `,`, `]`, `}` and `: `.
    fn value(&mut self, depth: usize, in_flow: bool) -> Result<Yaml, YamlError> {
        self.blanks();
        let r = self.rest();
        match r.chars().next() {
            Some('[' | '{') if depth >= MAX_DEPTH => {
                Err(self.err(format!("nested deeper than {MAX_DEPTH} levels")))
            }
            Some('[') => self.seq(depth),
            Some('{') => self.map(depth),
            Some('"' | '\'') => {
                let (v, used) = quoted(r, self.no)?;
                self.pos += used;
                Ok(Yaml::Scalar(v))
            }
            Some('|' | '>') => Err(self.err("block scalars ('|', '>') are not supported")),
            Some('&' | '!') => Err(self.err("anchors and tags are not supported")),
            Some('*')
                if r.len() > 1 && !in_flow && !r.starts_with("*.") && !r.starts_with("*:") =>
            {
                Err(self.err("aliases are not supported (quote a value starting with '*')"))
            }
            _ => {
                let end = if in_flow {
                    r.char_indices()
                        .find(|&(i, c)| {
                            matches!(c, ',' | ']' | '}')
                                || (c == ':'
                                    && r.get(i + 1..)
                                        .is_none_or(|a| a.is_empty() || a.starts_with(' ')))
                        })
                        .map_or(r.len(), |(i, _)| i)
                } else {
                    r.len()
                };
                let text = r.get(..end).unwrap_or("").trim_end();
                self.pos += end;
                Ok(match text {
                    "" | "~" | "null" | "Null" | "NULL" => Yaml::Null,
                    t => Yaml::Scalar(t.to_string()),
                })
            }
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.blanks();
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn seq(&mut self, depth: usize) -> Result<Yaml, YamlError> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            if self.eat(']') {
                return Ok(Yaml::Seq(items));
            }
            if self.rest().is_empty() {
                return Err(self.err("unclosed '[' (flow sequences must fit on one line)"));
            }
            items.push(self.value(depth + 1, true)?);
            if self.rest().trim().is_empty() {
                return Err(self.err("unclosed '[' (flow sequences must fit on one line)"));
            }
            if !self.eat(',') && !self.rest().trim_start().starts_with(']') {
                return Err(self.err(format!("expected ',' or ']' before '{}'", self.rest())));
            }
        }
    }

    fn map(&mut self, depth: usize) -> Result<Yaml, YamlError> {
        self.pos += 1;
        let mut entries: Vec<(String, Yaml)> = Vec::new();
        loop {
            if self.eat('}') {
                return Ok(Yaml::Map(entries));
            }
            if self.rest().is_empty() {
                return Err(self.err("unclosed '{' (flow maps must fit on one line)"));
            }
            let key = match self.value(depth + 1, true)? {
                Yaml::Scalar(k) => k,
                _ => return Err(self.err("a flow map key must be a scalar")),
            };
            if !self.eat(':') {
                return Err(self.err(format!("expected ':' after key '{key}'")));
            }
            let v = match self.rest().trim_start().chars().next() {
                Some(',' | '}') => Yaml::Null,
                _ => self.value(depth + 1, true)?,
            };
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(self.err(format!("duplicate key '{key}'")));
            }
            entries.push((key, v));
            if self.rest().trim().is_empty() {
                return Err(self.err("unclosed '{' (flow maps must fit on one line)"));
            }
            if !self.eat(',') && !self.rest().trim_start().starts_with('}') {
                return Err(self.err(format!("expected ',' or '}}' before '{}'", self.rest())));
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    fn s(v: &str) -> Yaml {
        Yaml::Scalar(v.into())
    }

    fn map(e: &[(&str, Yaml)]) -> Yaml {
        Yaml::Map(e.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn apache_distribution_file() {
        let text = "# header comment\n\nglobalWhiteRemoteAddresses:\n  - 10.10.103.*\n  - 192.168.0.*\n\naccounts:\n  - accessKey: RocketMQ\n    secretKey: 12345678\n    whiteRemoteAddress:\n    admin: false\n    defaultTopicPerm: DENY\n    defaultGroupPerm: SUB\n    topicPerms:\n      - topicA=DENY\n      - topicB=PUB|SUB\n    groupPerms:\n      # the group should convert to retry topic\n      - groupA=DENY\n\n  - accessKey: rocketmq2\n    secretKey: 12345678\n    whiteRemoteAddress: 192.168.1.*\n    # if it is admin, it could access all resources\n    admin: true\n";
        let v = parse(text).unwrap();
        assert_eq!(
            v.get("globalWhiteRemoteAddresses"),
            Some(&Yaml::Seq(vec![s("10.10.103.*"), s("192.168.0.*")]))
        );
        let Some(Yaml::Seq(accts)) = v.get("accounts") else { panic!("{v:?}") };
        assert_eq!(accts.len(), 2);
        assert_eq!(accts[0].get("secretKey"), Some(&s("12345678")));
        assert_eq!(accts[0].get("whiteRemoteAddress"), Some(&Yaml::Null));
        assert_eq!(
            accts[0].get("topicPerms"),
            Some(&Yaml::Seq(vec![s("topicA=DENY"), s("topicB=PUB|SUB")]))
        );
        assert_eq!(accts[0].get("groupPerms"), Some(&Yaml::Seq(vec![s("groupA=DENY")])));
        assert_eq!(accts[1].get("admin"), Some(&s("true")));
    }

    #[test]
    fn snakeyaml_dump_style_quotes_and_flow() {
        let text = "---\naccounts:\n- accessKey: 'it''s # not a comment'\n  secretKey: \"a\\\"b\\u00e9 # no comment\"\n  topicPerms: [ 'T1=PUB', T2=SUB ]\n  groupPerms: []\n  x: {a: 1, b: [2, 3], c: }\ndataVersion:\n- counter: 3\n  timestamp: 1700000000000\nempty: ~\n";
        let v = parse(text).unwrap();
        let Some(Yaml::Seq(a)) = v.get("accounts") else { panic!("{v:?}") };
        assert_eq!(a[0].get("accessKey"), Some(&s("it's # not a comment")));
        assert_eq!(a[0].get("secretKey"), Some(&s("a\"bé # no comment")));
        assert_eq!(a[0].get("topicPerms"), Some(&Yaml::Seq(vec![s("T1=PUB"), s("T2=SUB")])));
        assert_eq!(a[0].get("groupPerms"), Some(&Yaml::Seq(vec![])));
        assert_eq!(
            a[0].get("x"),
            Some(&map(&[("a", s("1")), ("b", Yaml::Seq(vec![s("2"), s("3")])), ("c", Yaml::Null)]))
        );
        assert_eq!(
            v.get("dataVersion"),
            Some(&Yaml::Seq(vec![map(&[("counter", s("3")), ("timestamp", s("1700000000000"))])]))
        );
        assert_eq!(v.get("empty"), Some(&Yaml::Null));
        // Nested sequences and an address with colons (not a key: no blank after ':').
        let v = parse("a:\n  - - x\n    - y\n  - fe80::1\n  - \"::1\"\nb: 1:2\n").unwrap();
        assert_eq!(
            v.get("a"),
            Some(&Yaml::Seq(vec![Yaml::Seq(vec![s("x"), s("y")]), s("fe80::1"), s("::1")]))
        );
        assert_eq!(v.get("b"), Some(&s("1:2")));
        assert_eq!(parse("").unwrap(), Yaml::Null);
        assert_eq!(parse("# only\n\n").unwrap(), Yaml::Null);
        // A lone '*' (Apache's "all addresses") reads as text.
        assert_eq!(parse("w: *\n").unwrap().get("w"), Some(&s("*")));
        assert_eq!(parse("w: *.*.*.*\n").unwrap().get("w"), Some(&s("*.*.*.*")));
    }

    #[test]
    fn clear_errors_with_line_numbers() {
        for (text, line, want) in [
            ("a: 1\n\tb: 2\n", 2, "tabs"),
            ("a: 1\na: 2\n", 2, "duplicate key 'a'"),
            ("a:\n  - x\n    y: 1\n", 3, "unexpected indentation"),
            ("a: |\n  text\n", 1, "block scalars"),
            ("a: &x 1\n", 1, "anchors"),
            ("a: *x\n", 1, "aliases"),
            ("a: 'open\n", 1, "unclosed ' quote"),
            ("a: [1, 2\n", 1, "unclosed '['"),
            ("a: [[1] 2]\n", 1, "expected ',' or ']'"),
            ("a: \"\\q\"\n", 1, "unknown escape"),
            ("a: 1\n- x\n", 2, "expected 'key: value'"),
            ("a: 1\n---\nb: 2\n", 2, "one document"),
            ("a: 'x' y\n", 1, "unexpected text"),
            (": v\n", 1, "key is missing"),
        ] {
            let e = parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.to_string().contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn depth_and_size_caps() {
        // Block nesting: each level one more indent.
        let mut deep = String::new();
        for i in 0..200 {
            deep.push_str(&format!("{}k{i}:\n", " ".repeat(i)));
        }
        assert!(parse(&deep).unwrap_err().to_string().contains("deeper than 16"));
        // Flow nesting on one line, and sequences of sequences.
        let flow = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&flow).unwrap_err().to_string().contains("deeper than 16"));
        let dashes = format!("{}x\n", "- ".repeat(100_000));
        assert!(parse(&dashes).unwrap_err().to_string().contains("deeper than 16"));
        let big = "a: 1\n".repeat(MAX_BYTES / 5 + 1);
        assert!(parse(&big).unwrap_err().to_string().contains("larger than"));
        let ok = format!("a: {}1{}\n", "[".repeat(14), "]".repeat(14));
        assert!(parse(&ok).is_ok());
    }
}
