#!/usr/bin/env bash
# Installs what swift-adar needs beyond the Swift toolchain: GSL (the
# numerical oracle) and pkg-config; OpenBLAS (the SASRec layers' GEMM); SQLite's development files (the run store,
# over GRDB); numpy and scipy for the example port of docs/PORTING.md.
# Idempotent; quiet when already present.
set -euo pipefail

# Installs the apt package $2 unless pkg-config (or the file $3) finds $1;
# as root with apt-get, otherwise says how and exits.
ensure_apt() {
    local module=$1 package=$2 file=${3:-}
    if pkg-config --exists "$module" 2>/dev/null || { [ -n "$file" ] && [ -f "$file" ]; }; then
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing $package (apt-get)…" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" pkg-config >/dev/null
        return 0
    fi
    echo "swift-adar needs $package and pkg-config; install them with:" >&2
    echo "    sudo apt-get update && sudo apt-get install -y $package pkg-config" >&2
    exit 1
}

# GSL: the numerical oracle (GSLOracle).
ensure_gsl() { ensure_apt gsl libgsl-dev; }

# OpenBLAS: ADARLayers' matrix products (the COpenBLAS system-library target).
ensure_openblas() { ensure_apt openblas libopenblas-dev; }

# GRDB (ADARStore, docs/STORE.md) compiles against the system SQLite: it needs sqlite3.h and libsqlite3.
ensure_sqlite() { ensure_apt sqlite3 libsqlite3-dev /usr/include/sqlite3.h; }

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
ensure_openblas
ensure_sqlite
ensure_numpy
