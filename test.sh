#!/usr/bin/env bash
# The one command that runs every test: formatting, lints, unit and integration tests.
# Integration tests start real rmq processes on 127.0.0.1 and create their own Python venv
# with Apache's C++ client (PyPI rocketmq==0.4.4) under target/tmp/.
set -euo pipefail
cd "$(dirname "$0")"
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo test --all-targets
