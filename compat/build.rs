//! Link flags of librocketmq.so.
//!
//! - soname `librocketmq.so`, the name Apache's library has, so `-lrocketmq` records
//!   `NEEDED librocketmq.so` and swapping the file is the migration.
//! - The unwinder linked in statically (libgcc_eh.a, found with `$CC -print-file-name`), so
//!   that with `--as-needed` the library needs libc alone, not libgcc_s (issue 15: libc, libm,
//!   libpthread, libz at most). Without the archive the link falls back to libgcc_s as usual.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CC");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,librocketmq.so");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
    for lib in ["libgcc_eh.a", "libgcc.a"] {
        let found = Command::new(&cc)
            .arg(format!("-print-file-name={lib}"))
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_string())
            .filter(|p| Path::new(p).is_absolute() && Path::new(p).exists());
        let Some(path) = found else { return };
        let dir = Path::new(&path).parent().expect("invariant: an absolute path has a parent");
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!(
            "cargo:rustc-link-lib=static:-bundle={}",
            lib.trim_start_matches("lib").trim_end_matches(".a")
        );
    }
}
