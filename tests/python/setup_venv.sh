#!/usr/bin/env bash
# Usage: setup_venv.sh DIR
#
# Idempotently prepares a Python venv at DIR with PyPI `rocketmq==0.4.4` (Apache's C++
# client librocketmq.so + ctypes binding) and prints the venv's python path on the LAST
# line of stdout.  All progress messages go to stderr.  Exit 0 on success, non-zero with
# a message on failure.
#
#  - creates DIR with `$PYTHON -m venv` (PYTHON defaults to python3) if DIR/bin/python is missing
#  - pip-installs rocketmq==0.4.4 only if `import rocketmq.client` fails there and the package is absent
#  - checks `ldd` of the bundled librocketmq.so; if a system library is missing, installs the
#    Debian package providing it with apt-get (only then; needs root)
#
# The wheel is manylinux1 x86_64 (bundles its own libz); on Debian 12 it needs only libc6,
# libstdc++6 and libgcc-s1, which are normally present.
set -u -o pipefail

die() { echo "setup_venv.sh: ERROR: $*" >&2; exit 1; }
say() { echo "setup_venv.sh: $*" >&2; }

[ $# -eq 1 ] && [ -n "$1" ] || { echo "usage: setup_venv.sh DIR" >&2; exit 2; }
DIR=$1
PYTHON=${PYTHON:-python3}
PKG=${RMQ_PY_PKG:-rocketmq==0.4.4}
VPY="$DIR/bin/python"

bounded() { # bounded SECONDS cmd...  (timeout if available)
    local s=$1; shift
    if command -v timeout >/dev/null 2>&1; then timeout "$s" "$@"; else "$@"; fi
}

can_import() { bounded 60 "$VPY" -c 'import rocketmq.client' >/dev/null 2>&1; }

so_path() {
    bounded 60 "$VPY" - <<'EOF' 2>/dev/null
import importlib.util, os
spec = importlib.util.find_spec("rocketmq")
if spec and spec.submodule_search_locations:
    p = os.path.join(list(spec.submodule_search_locations)[0], "librocketmq.so")
    if os.path.exists(p):
        print(p)
EOF
}

# 1. venv
if [ ! -x "$VPY" ]; then
    command -v "$PYTHON" >/dev/null 2>&1 || die "'$PYTHON' not found (set PYTHON=...)"
    say "creating venv at $DIR with $PYTHON"
    if ! bounded 300 "$PYTHON" -m venv "$DIR" >&2; then
        # Debian's system python needs python3-venv for ensurepip
        if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
            say "venv creation failed; installing python3-venv with apt-get"
            rm -rf "$DIR"
            bounded 300 apt-get update -qq >&2 || true
            DEBIAN_FRONTEND=noninteractive bounded 600 apt-get install -y -qq python3-venv >&2 \
                || die "apt-get install python3-venv failed"
            bounded 300 "$PYTHON" -m venv "$DIR" >&2 || die "'$PYTHON -m venv $DIR' failed"
        else
            die "'$PYTHON -m venv $DIR' failed"
        fi
    fi
    [ -x "$VPY" ] || die "venv created but $VPY missing"
fi

# 2. package
if can_import; then
    echo "$VPY"
    exit 0
fi
if [ -z "$(so_path)" ]; then
    say "installing $PKG into $DIR"
    bounded 600 "$VPY" -m pip install -q --disable-pip-version-check "$PKG" >&2 \
        || die "pip install $PKG failed (is PyPI reachable? proxy settings?)"
fi
SO=$(so_path)
[ -n "$SO" ] || die "package installed but librocketmq.so not found in $DIR"

# 3. system libraries needed by the .so
if command -v ldd >/dev/null 2>&1; then
    MISSING=$(ldd "$SO" 2>&1 | awk '/not found/ {print $1}' | sort -u)
    if [ -n "$MISSING" ]; then
        say "librocketmq.so has unresolved libraries: $(echo $MISSING)"
        PKGS=""
        for lib in $MISSING; do
            case "$lib" in
                libstdc++.so.*) PKGS="$PKGS libstdc++6" ;;
                libgcc_s.so.*) PKGS="$PKGS libgcc-s1" ;;
                libz.so.*|libz-*.so.*) PKGS="$PKGS zlib1g" ;;
                libc.so.*|libm.so.*|libdl.so.*|librt.so.*|libpthread.so.*|ld-linux*) PKGS="$PKGS libc6" ;;
                *) die "no known Debian package for missing library $lib" ;;
            esac
        done
        command -v apt-get >/dev/null 2>&1 || die "missing libraries ($MISSING) and no apt-get"
        [ "$(id -u)" = 0 ] || die "missing libraries ($MISSING); run as root to apt-get install$PKGS"
        say "apt-get install -y$PKGS"
        bounded 300 apt-get update -qq >&2 || say "apt-get update failed (continuing)"
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive bounded 600 apt-get install -y -qq $PKGS >&2 \
            || die "apt-get install$PKGS failed"
    fi
fi

# 4. final check
if ! ERR=$(bounded 60 "$VPY" -c 'import rocketmq.client' 2>&1); then
    die "import rocketmq.client still fails in $DIR: $(echo "$ERR" | tail -3)"
fi
echo "$VPY"
