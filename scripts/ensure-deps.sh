#!/usr/bin/env bash
# Installs what swift-adar needs beyond the Swift toolchain: GSL (the
# numerical oracle) and pkg-config. Idempotent; quiet when already present.
set -euo pipefail
if pkg-config --exists gsl 2>/dev/null; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing libgsl-dev and pkg-config (apt-get)…" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libgsl-dev pkg-config >/dev/null
    exit 0
fi
echo "swift-adar needs GSL and pkg-config; install them with:" >&2
echo "    sudo apt-get update && sudo apt-get install -y libgsl-dev pkg-config" >&2
exit 1
