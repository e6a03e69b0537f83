#!/usr/bin/env bash
# Installs what swift-adar needs beyond the Swift toolchain: GSL (the
# numerical oracle) and pkg-config; SQLite's development files (the run store,
# over GRDB); numpy and scipy for the example port of docs/PORTING.md.
# Idempotent; quiet when already present.
set -euo pipefail

ensure_gsl() {
    if pkg-config --exists gsl 2>/dev/null; then
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing libgsl-dev and pkg-config (apt-get)…" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgsl-dev pkg-config >/dev/null
        return 0
    fi
    echo "swift-adar needs GSL and pkg-config; install them with:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y libgsl-dev pkg-config" >&2
    exit 1
}

# GRDB (ADARStore, docs/STORE.md) compiles against the system SQLite: it needs sqlite3.h and libsqlite3.
ensure_sqlite() {
    if pkg-config --exists sqlite3 2>/dev/null || [ -f /usr/include/sqlite3.h ]; then
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing libsqlite3-dev (apt-get)…" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsqlite3-dev >/dev/null
        return 0
    fi
    echo "swift-adar needs SQLite's development files; install them with:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y libsqlite3-dev" >&2
    exit 1
}

# The example port (examples/ports/python-numpy) needs python3 with numpy and scipy.
ensure_numpy() {
    if python3 -c 'import numpy, scipy' 2>/dev/null; then
        return 0
    fi
    if command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1; then
        echo "installing numpy and scipy (pip)…" >&2
        if python3 -m pip install --quiet --disable-pip-version-check numpy scipy >&2 \
            || python3 -m pip install --quiet --disable-pip-version-check --user numpy scipy >&2; then
            return 0
        fi
    fi
    echo "the example port needs python3 with numpy and scipy; install them with:" >&2
    echo "    python3 -m pip install numpy scipy" >&2
    exit 1
}

ensure_gsl
ensure_sqlite
ensure_numpy
