#!/usr/bin/env bash
# The test command of tapfido: `scripts/test.sh [cargo test args...]`.
#
# 1. Checks what the end-to-end tests need (pcscd, the vpcd driver, libpcsclite-dev,
#    pcsc-tools, python3 with python-fido2 2.x, pyscard and pytest). As root on Debian it installs
#    what is missing (apt-get, pip); otherwise it prints exactly what to install.
# 2. Builds the `tapfido` binary.
# 3. Runs `cargo test --workspace --locked`, end-to-end tests included: they start their
#    own pcscd when none runs (root), or use the running one.
#
# With CI set, an end-to-end test whose prerequisites are missing FAILS; without it, it
# prints SKIPPED and passes.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
FIDO2_VERSION=2.2.1
VPCD_DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so

apt_missing=()
command -v pcscd >/dev/null 2>&1 || [ -x /usr/sbin/pcscd ] || apt_missing+=(pcscd)
[ -e "$VPCD_DRIVER" ] || apt_missing+=(vsmartcard-vpcd)
[ -e /usr/include/PCSC/winscard.h ] || apt_missing+=(libpcsclite-dev)
command -v pcsc_scan >/dev/null 2>&1 || apt_missing+=(pcsc-tools)
# `openssl verify -x509_strict` checks the attestation chain in tests/python/fido2_webauthn.py.
command -v openssl >/dev/null 2>&1 || apt_missing+=(openssl)
command -v "$PYTHON" >/dev/null 2>&1 || apt_missing+=(python3)

pip_missing=()
if command -v "$PYTHON" >/dev/null 2>&1; then
    if ! "$PYTHON" -c 'import smartcard' >/dev/null 2>&1; then
        # pyscard has no Linux wheels: Debian's package for the system python.
        if [ "$(command -v "$PYTHON")" = /usr/bin/python3 ]; then
            apt_missing+=(python3-pyscard)
        else
            pip_missing+=("pyscard>=2.0.5,<3")
            # pip builds pyscard from source: swig, a C compiler, the PC/SC headers.
            command -v swig >/dev/null 2>&1 || apt_missing+=(swig)
            command -v cc >/dev/null 2>&1 || apt_missing+=(build-essential)
        fi
    fi
    if ! "$PYTHON" -c 'import importlib.metadata as m, sys; sys.exit(int(m.version("fido2").split(".")[0]) < 2)' >/dev/null 2>&1; then
        pip_missing+=("fido2==$FIDO2_VERSION")
    fi
    # python-fido2's own device tests (scripts/interop-python-fido2.sh) run under pytest.
    "$PYTHON" -c 'import pytest' >/dev/null 2>&1 || pip_missing+=("pytest>=8")
else
    apt_missing+=(python3-pyscard python3-pip)
    pip_missing+=("fido2==$FIDO2_VERSION" "pytest>=8")
fi
if [ ${#pip_missing[@]} -gt 0 ] && ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
    apt_missing+=(python3-pip)
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    if [ ${#apt_missing[@]} -gt 0 ]; then
        echo "test.sh: installing ${apt_missing[*]}"
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${apt_missing[@]}"
    fi
    if [ ${#pip_missing[@]} -gt 0 ]; then
        echo "test.sh: pip installing ${pip_missing[*]}"
        # Debian 12's python is "externally managed" (PEP 668).
        "$PYTHON" -m pip install --root-user-action=ignore --break-system-packages "${pip_missing[@]}" ||
            "$PYTHON" -m pip install "${pip_missing[@]}"
    fi
else
    if [ ${#apt_missing[@]} -gt 0 ]; then
        echo "test.sh: missing; install with: sudo apt-get install -y --no-install-recommends ${apt_missing[*]}" >&2
    fi
    if [ ${#pip_missing[@]} -gt 0 ]; then
        echo "test.sh: missing; install with: $PYTHON -m pip install ${pip_missing[*]}" >&2
    fi
    if [ ${#apt_missing[@]} -gt 0 ] || [ ${#pip_missing[@]} -gt 0 ]; then
        echo "test.sh: end-to-end tests will be skipped (or fail, with CI set)" >&2
    fi
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "test.sh: cargo not found: install Rust (https://rustup.rs), 1.89 or newer" >&2
    exit 1
fi

cargo build --locked -p tapfido --bin tapfido
# The end-to-end harness rebuilds tapfido if stale; keep that build --locked too.
export TAPFIDO_E2E_LOCKED=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --locked "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole workspace (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;/) p += $i; if ($(i+1) ~ /^failed;/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
