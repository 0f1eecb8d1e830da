#!/usr/bin/env bash
# The one command that runs every test: formatting, lints, unit and integration tests.
# Integration tests start real rmq processes on 127.0.0.1 and create their own Python venv
# with Apache's C++ client (PyPI rocketmq==0.4.4) under target/tmp/. The C API tests build
# librmq (ffi/), compile the C and C++ examples with gcc/g++ and run them, under valgrind too.
set -euo pipefail
cd "$(dirname "$0")"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace --all-targets
# build.rs regenerates include/rmq.h from ffi/src; a stale committed header fails here.
git diff --exit-code include/
