#!/usr/bin/env bash
# Installs PyTorch for the PyTorch port (examples/ports/pytorch, docs/PORTING.md
# "PyTorch"), and says which build it uses. Tries, in order:
#   1. torch already importable by python3: nothing to do;
#   2. the CPU-only wheel torch==2.13.0+cpu (about 200 MB) from pip's configured
#      sources — a local wheel folder named by PIP_FIND_LINKS (or pip.conf's
#      find-links) holds it on some machines, and an index serving +cpu builds
#      (e.g. PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu) does too;
#   3. PyPI's default torch wheel (on Linux the CUDA build: about 3 GB with its
#      nvidia-* packages; it runs on the CPU as well).
# Exits 1, loudly, when none works: CI must not skip the PyTorch port.
set -euo pipefail

CPU_WHEEL="torch==2.13.0+cpu"

torch_version() {
    python3 -c 'import torch; print(torch.__version__)' 2>/dev/null
}

pip_install() {
    python3 -m pip install --quiet --disable-pip-version-check "$@" >&2 \
        || python3 -m pip install --quiet --disable-pip-version-check --user "$@" >&2
}

if ! command -v python3 >/dev/null || ! python3 -m pip --version >/dev/null 2>&1; then
    echo "ensure-torch: error: the PyTorch port needs python3 with pip; install them (e.g. apt-get install python3-pip)" >&2
    exit 1
fi

if version=$(torch_version); then
    echo "torch: $version (already installed)" >&2
    exit 0
fi

echo "torch: installing the CPU-only wheel $CPU_WHEEL (pip's find-links and indexes)…" >&2
if pip_install "$CPU_WHEEL" && version=$(torch_version); then
    echo "torch: $version (the CPU-only wheel $CPU_WHEEL)" >&2
    exit 0
fi

echo "torch: $CPU_WHEEL is not available here; installing PyPI's default torch wheel (the CUDA build, about 3 GB)…" >&2
if pip_install torch && version=$(torch_version); then
    echo "torch: $version (PyPI's default wheel)" >&2
    exit 0
fi

echo "ensure-torch: error: could not install PyTorch (tried $CPU_WHEEL, then PyPI's torch)." >&2
echo "    Install it by hand, e.g.  python3 -m pip install torch --index-url https://download.pytorch.org/whl/cpu" >&2
echo "    then run make again. CI does not skip the PyTorch port." >&2
exit 1
