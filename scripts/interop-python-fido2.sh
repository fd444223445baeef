#!/usr/bin/env bash
# python-fido2's own device test suite (`tests/device/` of the PyPI sdist) against a
# `tapfido card` over PC/SC, driven unattended through the card's control API:
#
#   scripts/interop-python-fido2.sh [default|pocketkey] [extra pytest args...]
#
# 1. Downloads the fido2 sdist (FIDO2_VERSION, default 2.2.1) with pip into a temporary
#    directory and unpacks it; nothing of it is kept.
# 2. Takes the pcscd lock (shared) and a free vpcd slot lock, the same flock(2) files as
#    the end-to-end tests (/tmp/tapfido-e2e-*.lock), and starts a card there with its own
#    state directory and control port.
# 3. Runs `pytest <sdist>/tests/device --reader "Virtual PCD 00 0N" --controller URL
#    --pico-port N` minus the deselected tests below, and exits with pytest's status.
#
# Needs pcscd answering (started here when run as root and none runs), the vpcd driver,
# and python3 with fido2, pyscard and pytest (tests/python/requirements.txt).
# Environment: TAPFIDO_BIN (default: build target/debug/tapfido), PYTHON, FIDO2_VERSION,
# TAPFIDO_INTEROP_KEEP=1 (keep the temporary directory: card log with --trace, state),
# TAPFIDO_INTEROP_TIMEOUT (seconds for pytest, default 300).
# Exit status: pytest's; 3 when a prerequisite is missing (the Rust test
# tests/tests/python_fido2_suite.rs skips then, or fails with CI set); 1 on other errors.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=${1:-default}
[ $# -gt 0 ] && shift
case "$profile" in
    default | pocketkey) ;;
    *)
        echo "usage: $0 [default|pocketkey] [pytest args...]" >&2
        exit 2
        ;;
esac

PYTHON=${PYTHON:-python3}
FIDO2_VERSION=${FIDO2_VERSION:-2.2.1}
SLOTS=2
VPCD_PORT=35963

# Tests that do not apply to tapfido, and that the suite does not skip by itself from
# getInfo. Each entry: node id (relative to tests/device), then "# reason".
DESELECT=(
    # After a factory reset the test expects getPINRetries to fail with PIN_NOT_SET
    # (0x35). CTAP 2.1 §6.5.5.2 defines no error there: tapfido answers pinRetries 8
    # (tests/python/pin_blocked.py checks exactly that after authenticatorReset).
    "test_clientpin.py::test_set_and_reset # getPINRetries without a PIN answers 8, not PIN_NOT_SET"
)
# Only for the pocketkey profile (no largeBlobs, as in the ACS MDS entry).
DESELECT_POCKETKEY=(
    # The test asks for a token with the lbw permission, expecting the largeBlobs feature;
    # without it, CTAP 2.1 §6.5.5.7.2 requires UNAUTHORIZED_PERMISSION, which tapfido
    # answers, instead of the PIN_AUTH_INVALID the test expects from credMgmt later.
    "test_credman.py::test_missing_permissions # lbw permission on a card without largeBlobs"
)
if [ "$profile" = pocketkey ]; then
    DESELECT+=("${DESELECT_POCKETKEY[@]}")
fi

die() {
    echo "interop-python-fido2: $*" >&2
    exit 1
}
missing() {
    echo "interop-python-fido2: missing prerequisite: $*" >&2
    exit 3
}

"$PYTHON" -c 'import fido2, smartcard, pytest' 2>/dev/null ||
    missing "$PYTHON needs fido2, pyscard and pytest: $PYTHON -m pip install -r tests/python/requirements.txt"
[ -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] ||
    missing "the vpcd driver: apt-get install vsmartcard-vpcd pcscd"
command -v flock >/dev/null 2>&1 || missing "flock (util-linux)"

if [ -n "${TAPFIDO_BIN:-}" ]; then
    tapfido=$TAPFIDO_BIN
else
    cargo build --quiet -p tapfido --bin tapfido
    tapfido=$PWD/target/debug/tapfido
fi
[ -x "$tapfido" ] || die "no tapfido binary at $tapfido"

work=$(mktemp -d /tmp/tapfido-interop-XXXXXX)
card_pid=
reader=
# Waits until pcscd sees reader $1 empty (SCardGetStatusChange), at most 15 s.
wait_empty() {
    "$PYTHON" - "$1" <<'EOF'
import sys, time
from smartcard import scard
hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
deadline = time.monotonic() + 15
while time.monotonic() < deadline:
    hr, states = scard.SCardGetStatusChange(ctx, 500, [(sys.argv[1], scard.SCARD_STATE_UNAWARE)])
    if hr == scard.SCARD_S_SUCCESS and not states[0][1] & scard.SCARD_STATE_PRESENT:
        sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
EOF
}
cleanup() {
    if [ -n "$card_pid" ]; then
        kill "$card_pid" 2>/dev/null || true
        wait "$card_pid" 2>/dev/null || true
        # Release the slot lock only once pcscd has seen the card leave.
        wait_empty "$reader" || echo "interop-python-fido2: $reader still shows a card" >&2
    fi
    if [ "${TAPFIDO_INTEROP_KEEP:-}" = 1 ]; then
        echo "interop-python-fido2: files kept in $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# 1. The sdist (pip's HTTP cache makes the second download local).
"$PYTHON" -m pip download --quiet --no-deps --no-binary :all: \
    -d "$work/dist" "fido2==$FIDO2_VERSION" ||
    missing "pip download fido2==$FIDO2_VERSION failed (network, or pip's cache)"
tar -xzf "$work/dist/fido2-$FIDO2_VERSION.tar.gz" -C "$work"
suite=$work/fido2-$FIDO2_VERSION
[ -f "$suite/tests/device/conftest.py" ] || die "no tests/device in the fido2 $FIDO2_VERSION sdist"

# 2. pcscd (shared lock), then a slot: the same order as the end-to-end harness.
exec {pcscd_fd}>>/tmp/tapfido-e2e-pcscd.lock
flock -s "$pcscd_fd"
if ! "$PYTHON" -c 'from smartcard.System import readers; readers()' 2>/dev/null; then
    [ "$(id -u)" = 0 ] || missing "no pcscd answers and only root can start one"
    exec {start_fd}>>/tmp/tapfido-e2e-pcscd-start.lock
    flock "$start_fd"
    if ! "$PYTHON" -c 'from smartcard.System import readers; readers()' 2>/dev/null; then
        pcscd=$(command -v pcscd || echo /usr/sbin/pcscd)
        setsid "$pcscd" --foreground >/tmp/tapfido-e2e-pcscd.log 2>&1 </dev/null &
        echo $! >/tmp/tapfido-e2e-pcscd.pid
        sleep 2
    fi
    exec {start_fd}>&-
fi
slot=
for n in $(seq 0 $((SLOTS - 1))); do
    exec {slot_fd}>>"/tmp/tapfido-e2e-slot-$n.lock"
    if flock -n "$slot_fd"; then
        slot=$n
        break
    fi
    exec {slot_fd}>&-
done
if [ -z "$slot" ]; then
    slot=$(($$ % SLOTS))
    echo "interop-python-fido2: waiting for vpcd slot $slot" >&2
    exec {slot_fd}>>"/tmp/tapfido-e2e-slot-$slot.lock"
    flock "$slot_fd"
fi
reader="Virtual PCD 00 0$slot"
wait_empty "$reader" || die "$reader is busy: another virtual card is connected to vpcd port $((VPCD_PORT + slot))"

# Port 0: the kernel picks a free port; the card announces it once it listens.
"$tapfido" card --vpcd "127.0.0.1:$VPCD_PORT" --slot "$slot" --profile "$profile" \
    --state-dir "$work/state" --control "127.0.0.1:0" --trace \
    >"$work/card.log" 2>&1 </dev/null &
card_pid=$!
controller=
for _ in $(seq 150); do
    controller=$(grep -o 'control API on http://[0-9.]*:[0-9]*' "$work/card.log" | head -n 1 | sed 's/^control API on //' || true)
    [ -n "$controller" ] && break
    kill -0 "$card_pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$controller" ] || die "the card's control API did not come up: $(cat "$work/card.log")"

# 3. The suite. The sdist's tests/conftest.py adds --reader, --controller, --pico-port.
args=()
for d in "${DESELECT[@]}"; do
    args+=(--deselect "tests/device/${d%% *}")
done
# test_config.py::test_ep_vendor needs an RP ID on the card's vendor-facilitated
# enterprise attestation list: the default profile's (pocketkey's list is empty).
if [ "$profile" = default ]; then
    args+=(--ep-rp-id ep.tapfido.test)
fi
echo "interop-python-fido2: fido2 $FIDO2_VERSION, profile $profile, $reader, controller $controller"
set +e
(cd "$suite" && timeout "${TAPFIDO_INTEROP_TIMEOUT:-300}" "$PYTHON" -m pytest -p no:cacheprovider -rsx tests/device \
    --reader "$reader" --controller "$controller" --pico-port "$slot" \
    "${args[@]}" "$@")
status=$?
set -e
if [ "$status" != 0 ]; then
    echo "--- card log (last 60 lines of $work/card.log) ---" >&2
    tail -n 60 "$work/card.log" >&2
fi
exit "$status"
