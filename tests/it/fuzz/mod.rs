//! Property-based fuzzing on stable Rust (issue 13): seeded xorshift generators and mutators
//! over the frame codec (both header forms), the record and batch decoders, the JSON bodies and
//! the ACL file parser. cargo-fuzz needs a nightly toolchain, which the project rules exclude.
//!
//! * `cargo test --test it fuzz::` runs a short pass (a few thousand inputs per target, fixed
//!   seed, so CI is deterministic).
//! * `tests/fuzz/run_long.sh [ITERS] [SEED]` runs a long pass in release mode with a fresh seed
//!   (`RMQ_FUZZ_ITERS`, `RMQ_FUZZ_SEED`).
//! * An input that fails is written to `target/tmp/fuzz-failures/<target>-<seed>-<n>.hex` and the
//!   test fails naming it. Keep it as a regression case by moving it to
//!   `tests/fixtures/fuzz/<target>-<what>.hex`: [`regressions`] runs every such file through its
//!   target's checks, always.

mod acl;
mod codec;
mod json;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// xorshift64* (Vigna): small, fast, and reproducible from one u64.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.next() % den < num
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    pub fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.below(max + 1);
        (0..n).map(|_| self.next() as u8).collect()
    }

    /// Short text mixing ASCII, separators, quotes and multi-byte characters.
    pub fn text(&mut self, max: usize) -> String {
        const PIECES: &[&str] = &[
            "a",
            "Z",
            "0",
            "9",
            "_",
            "-",
            "%",
            "|",
            ".",
            ":",
            ",",
            "=",
            "*",
            "{",
            "}",
            "[",
            "]",
            "\"",
            "'",
            "\\",
            "#",
            " ",
            "\t",
            "\n",
            "\u{1}",
            "\u{2}",
            "é",
            "日本",
            "\u{3000}",
            "\u{1F600}",
            "\u{0}",
            "TopicA",
            "%RETRY%",
            "true",
            "null",
            "- ",
            ": ",
        ];
        let n = self.below(max + 1);
        (0..n).map(|_| *self.pick(PIECES)).collect()
    }

    /// A name-like word.
    pub fn word(&mut self) -> String {
        const WORDS: &[&str] = &["T", "TopicA", "G", "grp_1", "key", "b", "a", "x-y", "%RETRY%G"];
        let mut w = self.pick(WORDS).to_string();
        if self.chance(1, 4) {
            w.push_str(&self.below(1000).to_string());
        }
        w
    }

    /// An integer that likes boundaries.
    pub fn int(&mut self) -> i64 {
        const EDGES: &[i64] = &[
            0,
            1,
            -1,
            2,
            127,
            128,
            255,
            32767,
            -32768,
            65535,
            i32::MAX as i64,
            i32::MIN as i64,
            i32::MAX as i64 + 1,
            i64::MAX,
            i64::MIN,
        ];
        if self.chance(1, 2) {
            *self.pick(EDGES)
        } else {
            (self.next() >> self.below(64)) as i64
        }
    }
}

/// Inputs per target: `RMQ_FUZZ_ITERS` or the short-run default.
pub fn iterations(default: u64) -> u64 {
    std::env::var("RMQ_FUZZ_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// `RMQ_FUZZ_SEED` (decimal or 0x hex) or a fixed seed for the short run.
pub fn seed() -> u64 {
    std::env::var("RMQ_FUZZ_SEED")
        .ok()
        .and_then(|v| match v.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16).ok(),
            None => v.parse().ok(),
        })
        .unwrap_or(0x13_5EED)
}

/// Byte-level mutations: bit flips, boundary integers written over 4-byte words (the length
/// fields), inserted and deleted runs, truncation, duplication.
pub fn mutate(rng: &mut Rng, b: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        let len = b.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                b[i] ^= 1 << rng.below(8);
            }
            1 if len >= 4 => {
                let i = rng.below(len - 3);
                let v = rng.int() as i32;
                b[i..i + 4].copy_from_slice(&v.to_be_bytes());
            }
            2 if len >= 2 => {
                let i = rng.below(len - 1);
                let v = rng.int() as i16;
                b[i..i + 2].copy_from_slice(&v.to_be_bytes());
            }
            3 => {
                let i = rng.below(len + 1);
                let ins = rng.bytes(16);
                b.splice(i..i, ins);
            }
            4 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(len - i) + 1;
                b.drain(i..i + n.min(32));
            }
            5 => b.truncate(rng.below(len + 1)),
            6 if len > 0 => {
                let i = rng.below(len);
                let j = (i + rng.below(64)).min(len);
                let chunk = b[i..j].to_vec();
                let at = rng.below(len + 1);
                b.splice(at..at, chunk);
            }
            _ if len > 0 => {
                let i = rng.below(len);
                b[i] = *rng.pick(b"{}[]\":,\\\n -#'|*");
            }
            _ => b.push(rng.next() as u8),
        }
    }
}

/// A target: its name (the fixture prefix) and the checks that hold for any input.
pub type Check = fn(&[u8]);

/// Every target's any-input checks, for the regression corpus.
const TARGETS: &[(&str, Check)] = &[
    ("frame", codec::check_frame),
    ("record", codec::check_record),
    ("batch", codec::check_batch),
    ("json", json::check_json),
    ("yaml", acl::check_yaml),
    ("acl", acl::check_acl),
];

fn failure_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures")
}

fn to_hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2 + b.len() / 32);
    for (i, x) in b.iter().enumerate() {
        if i > 0 && i % 32 == 0 {
            s.push('\n');
        }
        s.push_str(&format!("{x:02x}"));
    }
    s.push('\n');
    s
}

fn from_hex(text: &str) -> Vec<u8> {
    let hex: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

/// Run `check` on `iters` inputs from `gen`; the first failing input is saved and reported.
pub fn fuzz(
    target: &str,
    default_iters: u64,
    mut gen: impl FnMut(&mut Rng) -> Vec<u8>,
    check: Check,
) {
    let seed = seed();
    let iters = iterations(default_iters);
    for n in 0..iters {
        let mut rng = Rng::new(seed ^ n.wrapping_mul(0xA076_1D64_78BD_642F) ^ fxhash(target));
        let input = gen(&mut rng);
        if catch_unwind(AssertUnwindSafe(|| check(&input))).is_err() {
            let dir = failure_dir();
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(format!("{target}-{seed:#x}-{n}.hex"));
            let note = format!("# fuzz target {target}, RMQ_FUZZ_SEED={seed:#x}, input {n}\n");
            std::fs::write(&path, note + &to_hex(&input)).unwrap();
            panic!(
                "fuzz target {target} failed on input {n} of seed {seed:#x} ({} bytes), saved \
                 as {}; keep it as tests/fixtures/fuzz/{target}-<what>.hex",
                input.len(),
                path.display()
            );
        }
    }
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}

/// The golden frames of tests/fixtures (and its `acl` directory), raw.
pub fn golden_frames() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for dir in [root.clone(), root.join("acl")] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "hex") {
                out.push(from_hex(&std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    assert!(out.len() >= 30, "golden frames missing: {}", out.len());
    out
}

/// Every input that ever failed (tests/fixtures/fuzz/<target>-*.hex) passes its target's checks.
#[test]
fn regressions() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut ran = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".hex") {
            continue;
        }
        let target = name.split('-').next().unwrap();
        let (_, check) = TARGETS
            .iter()
            .find(|(t, _)| *t == target)
            .unwrap_or_else(|| panic!("{name}: no fuzz target '{target}'"));
        let input = from_hex(&std::fs::read_to_string(&p).unwrap());
        if catch_unwind(AssertUnwindSafe(|| check(&input))).is_err() {
            panic!("regression {name} fails again");
        }
        ran += 1;
    }
    assert!(ran > 0, "no regression inputs in {}", dir.display());
}

#[test]
fn harness_is_deterministic_and_mutates() {
    let (mut a, mut b) = (Rng::new(7), Rng::new(7));
    assert!((0..100).all(|_| a.next() == b.next()));
    let base = vec![0u8; 64];
    let mut changed = 0;
    for i in 0..200 {
        let mut r = Rng::new(i);
        let mut m = base.clone();
        mutate(&mut r, &mut m);
        changed += usize::from(m != base);
    }
    assert!(changed > 150, "mutations changed only {changed} of 200 inputs");
    assert_eq!(from_hex(&to_hex(&[1, 2, 255])), [1, 2, 255]);
}
