//! Layering check (STYLE.md §1 "Allowed `use` edges"): a module under `src/<module>/` may refer
//! only to the crate modules in its row. Any other `crate::x` path fails this test, so a shortcut
//! such as the store reaching into remoting is caught when it is written, not in review.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The allowed edges, verbatim from STYLE.md. A module not listed here may not exist yet; adding
/// one means adding its row.
const ALLOWED: &[(&str, &[&str])] = &[
    ("common", &[]),
    ("protocol", &["common"]),
    ("metrics", &["common"]),
    ("remoting", &["protocol", "metrics", "common"]),
    ("store", &["protocol", "metrics", "common"]),
    ("ha", &["store", "metrics", "common"]),
    ("acl", &["protocol", "common"]),
    ("namesrv", &["remoting", "acl", "protocol", "metrics", "common"]),
    ("broker", &["store", "ha", "acl", "remoting", "protocol", "metrics", "common"]),
    ("client", &["remoting", "acl", "protocol", "common"]),
    ("admin", &["client", "protocol", "common"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src` without comments and string literals, so prose and text may mention any module.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1).copied()) {
            (b'/', Some(b'/')) => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            (b'/', Some(b'*')) => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            (b'"', _) => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            (c, _) => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    out
}

fn ident(s: &str) -> String {
    s.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

/// The items of a `{...}` group starting right after its `{`, split at depth 0, with the text
/// after the closing brace.
fn group_items(s: &str) -> (Vec<&str>, &str) {
    let (mut depth, mut start, mut items) = (0usize, 0usize, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&s[start..i]);
                return (items, &s[i + 1..]);
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&s[start..]);
    (items, "")
}

/// The first path segment after every `<root>::` in `src` (`crate` for the library, `rmq` for
/// the binaries and the ffi crate), including each item of a `<root>::{a::x, b}` group and of
/// groups spread over several lines. Comments and strings are skipped.
fn referenced(src: &str, root: &str) -> BTreeSet<String> {
    let code = code_only(src);
    let needle = format!("{root}::");
    let mut found = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find(&needle) {
        // `mycrate::` is not `crate::`.
        let before = rest[..at].chars().last();
        rest = &rest[at + needle.len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let trimmed = rest.trim_start();
        if let Some(group) = trimmed.strip_prefix('{') {
            let (items, after) = group_items(group);
            for item in items {
                let name = ident(item);
                if !name.is_empty() && name != "self" {
                    found.insert(name);
                }
            }
            rest = after;
        } else {
            let name = ident(trimmed);
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

fn referenced_modules(src: &str) -> BTreeSet<String> {
    referenced(src, "crate")
}

/// What each binary and the ffi crate may use of the library (`rmq::x`): the binaries are thin
/// wrappers over their service (STYLE.md: servers are libraries, rmq-admin wraps `admin`); the
/// ffi crate is a facade over `rmq::client` and the types it re-exports.
const OUTSIDE: &[(&str, &[&str])] = &[
    ("src/bin/rmq-broker.rs", &["broker", "namesrv", "common"]),
    ("src/bin/rmq-namesrv.rs", &["namesrv", "common"]),
    ("src/bin/rmq-admin", &["admin", "common"]),
    ("src/bin/rmq-bench", &["admin", "client", "metrics", "protocol", "remoting", "common"]),
    ("ffi/src", &["client"]),
];

#[test]
fn binaries_and_ffi_use_only_their_layers() {
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut violations = Vec::new();
    let mut checked = 0;
    for (path, allowed) in OUTSIDE {
        let p = top.join(path);
        let mut files = Vec::new();
        if p.is_dir() {
            rust_files(&p, &mut files);
        } else {
            files.push(p);
        }
        for file in files {
            checked += 1;
            let text = fs::read_to_string(&file).unwrap();
            for used in referenced(&text, "rmq") {
                if !allowed.contains(&used.as_str()) {
                    violations.push(format!("{} uses rmq::{used}", file.display()));
                }
            }
        }
    }
    let bins = fs::read_dir(top.join("src/bin")).unwrap().count();
    assert_eq!(bins, 4, "a new binary needs its row in OUTSIDE");
    assert!(checked > 8, "checked only {checked} files");
    assert!(violations.is_empty(), "layering violations:\n{}", violations.join("\n"));
}

#[test]
fn modules_use_only_allowed_layers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    let mut checked = 0;
    for entry in fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() || dir.file_name().is_some_and(|n| n == "bin") {
            continue;
        }
        let module = dir.file_name().unwrap().to_string_lossy().to_string();
        let allowed = match ALLOWED.iter().find(|(m, _)| *m == module) {
            Some((_, allowed)) => *allowed,
            None => {
                violations.push(format!("src/{module}/ is not in STYLE.md's layer table"));
                continue;
            }
        };
        let mut files = Vec::new();
        rust_files(&dir, &mut files);
        for file in files {
            checked += 1;
            let text = fs::read_to_string(&file).unwrap();
            for used in referenced_modules(&text) {
                if used != module && !allowed.contains(&used.as_str()) {
                    violations.push(format!(
                        "{} uses crate::{used}, which {module} may not",
                        file.strip_prefix(&root).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(checked > 10, "found only {checked} source files under {}", root.display());
    assert!(violations.is_empty(), "layering violations:\n{}", violations.join("\n"));
}

#[test]
fn the_scanner_sees_grouped_and_plain_paths() {
    let found = referenced_modules(
        "use crate::store::X;\nuse crate::{remoting::client, common};\n// crate::broker in a comment\n",
    );
    let want: BTreeSet<String> =
        ["store", "remoting", "common"].iter().map(|s| s.to_string()).collect();
    assert_eq!(found, want);
}
