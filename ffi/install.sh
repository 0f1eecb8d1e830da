#!/usr/bin/env bash
# Usage: ffi/install.sh PREFIX [--debug] [--no-build]
#
# Builds librmq (release unless --debug) and installs, under PREFIX:
#   lib/librmq.so, lib/librmq.a, lib/pkgconfig/rmq.pc, include/rmq.h, include/rmq.hpp
# Then: PKG_CONFIG_PATH=PREFIX/lib/pkgconfig cc app.c $(pkg-config --cflags --libs rmq)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: ffi/install.sh PREFIX [--debug] [--no-build]" >&2; exit 2; }
PREFIX=$(mkdir -p "$1" && cd "$1" && pwd)
shift
PROFILE=release
BUILD=1
for a in "$@"; do
    case "$a" in
        --debug) PROFILE=debug ;;
        --no-build) BUILD=0 ;;
        *) echo "unknown option $a" >&2; exit 2 ;;
    esac
done
if [ "$BUILD" = 1 ]; then
    if [ "$PROFILE" = release ]; then cargo build --release -p rmq-ffi; else cargo build -p rmq-ffi; fi
fi
TARGET=${CARGO_TARGET_DIR:-target}/$PROFILE
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' ffi/Cargo.toml | head -1)
mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include"
cp "$TARGET/librmq.so" "$TARGET/librmq.a" "$PREFIX/lib/"
cp include/rmq.h bindings/cpp/rmq.hpp "$PREFIX/include/"
sed -e "s|@PREFIX@|$PREFIX|" -e "s|@VERSION@|$VERSION|" ffi/rmq.pc.in >"$PREFIX/lib/pkgconfig/rmq.pc"
echo "installed librmq $VERSION ($PROFILE) under $PREFIX"
