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

/// The first path segment after every `crate::` in `src`, including each item of a
/// `crate::{a::x, b}` group. Comments are skipped so prose may mention any module.
fn referenced_modules(src: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in src.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        found.insert(name);
                    }
                }
            } else {
                let name: String =
                    rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        }
    }
    found
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
