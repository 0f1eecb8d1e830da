//! Generates include/rmq.h from the C API in ffi/src with cbindgen (STYLE.md "FFI boundary" 6).
//! `with_src` parses the files directly (no `cargo metadata`); the header is rewritten only when its
//! bytes change, so an unchanged API never touches the committed file and CI's
//! `git diff --exit-code include/` catches a stale header.

use std::fs;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=ffi/src");
    println!("cargo:rerun-if-changed=ffi/cbindgen.toml");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = match cbindgen::Config::from_file(root.join("ffi/cbindgen.toml")) {
        Ok(c) => c,
        Err(e) => panic!("ffi/cbindgen.toml: {e}"),
    };
    let bindings = match cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("ffi/src/lib.rs"))
        .generate()
    {
        Ok(b) => b,
        Err(e) => panic!("cbindgen could not generate include/rmq.h from ffi/src: {e}"),
    };
    let mut header = Vec::new();
    bindings.write(&mut header);
    let path = root.join("include/rmq.h");
    if fs::read(&path).ok().as_deref() != Some(header.as_slice()) {
        if let Err(e) =
            fs::create_dir_all(root.join("include")).and_then(|_| fs::write(&path, &header))
        {
            panic!("cannot write {}: {e}", path.display());
        }
    }
}
