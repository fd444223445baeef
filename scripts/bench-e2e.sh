#!/usr/bin/env bash
# The whole benchmark table in one command (BENCHMARKS.md), in this order:
#   1. the machine (CPU, cores, kernel, load average);
#   2. in process: the applet's criterion benches (getAssertion, makeCredential and the
#      bare P-256 operations) next to OpenSSL's sign and keygen + sign on the same machine
#      (scripts/bench/openssl_p256.c, built when cc and OpenSSL's headers are there, and
#      `openssl speed`), and the whole card's per APDU (tapfido/benches/card.rs);
#   3. end to end through pcscd + vpcd: tapfido against the minimal responder (a process
#      of its own, like the card; idle and with one busy core) and the bare responder;
#      tap to authenticate; sign-in with PIN.
# Needs what scripts/test.sh needs (root starts pcscd when none runs). Arguments go to the
# end-to-end benchmark:
#   scripts/bench-e2e.sh [--iterations N] [--warmup N] [--rounds N] [--profile NAME] [--no-busy]
#   scripts/bench-e2e.sh --floor-vs-floor      # two identical floors: the method's spread
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}

echo "## Machine"
echo
echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs"
echo "- kernel: $(uname -sr)"
echo "- $(rustc --version); $(openssl version 2>/dev/null || echo 'no openssl binary')"
echo "- load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

cargo build --locked --release -p tapfido --bin tapfido >&2
cargo build --locked --release -p tapfido-tests --bins >&2

if [[ " $* " == *" --floor-vs-floor "* ]]; then
    exec "$target/release/bench_e2e" "$@"
fi

# In process. Criterion's medians (wall clock) from its estimates files.
cargo bench --locked -p tapfido-applet --bench ctap -- --noplot >&2
cargo bench --locked -p tapfido --bench card -- --noplot >&2
median_us() {
    python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["median"]["point_estimate"] / 1000))' \
        "$target/criterion/$1/new/estimates.json"
}
ga=$(median_us ctap_get_assertion)
mc=$(median_us ctap_make_credential)
sign=$(median_us bare_p256_sign)
keygen=$(median_us bare_p256_keygen_sign)
card_select=$(median_us card_select)
card_ga=$(median_us card_get_assertion)
bridge_ga=$(median_us bridge_get_assertion)

ossl_sign="" ossl_keygen="" ossl_ecdh="" ossl_version="OpenSSL headers not installed"
helper="$target/bench/openssl_p256"
if command -v cc >/dev/null && [[ -e /usr/include/openssl/evp.h ]]; then
    mkdir -p "$target/bench"
    cc -O2 -o "$helper" scripts/bench/openssl_p256.c -lcrypto
    while read -r name value; do
        case $name in
            openssl/p256_sign) ossl_sign=$value ;;
            openssl/p256_keygen_sign) ossl_keygen=$value ;;
            openssl/p256_ecdh) ossl_ecdh=$value ;;
            openssl/version) ossl_version=$value ;;
        esac
    done < <("$helper")
fi
speed_sign=$(openssl speed -seconds 3 ecdsap256 2>/dev/null |
    awk '/nistp256/ { printf "%.2f", 1e6 / $(NF-1) }' || true)

ratio() { # a b → a / b with two decimals, or "–"
    if [[ -n $1 && -n $2 ]]; then python3 -c "print('%.2f×' % ($1 / $2))"; else echo "–"; fi
}
echo "## In process (criterion medians, wall clock, µs)"
echo
echo "| operation | tapfido | OpenSSL (same machine) | ratio | target |"
echo "|---|---|---|---|---|"
echo "| P-256 sign, loaded key (bare/p256_sign) | $sign | ${ossl_sign:-–} | $(ratio "$sign" "$ossl_sign") | |"
echo "| P-256 keygen + public key + sign (bare/p256_keygen_sign) | $keygen | ${ossl_keygen:-–} | $(ratio "$keygen" "$ossl_keygen") | |"
echo "| getAssertion (ctap/get_assertion) vs OpenSSL's sign | $ga | ${ossl_sign:-–} | $(ratio "$ga" "$ossl_sign") | ≤ 1.5× |"
echo "| makeCredential (ctap/make_credential) vs OpenSSL's keygen + sign | $mc | ${ossl_keygen:-–} | $(ratio "$mc" "$ossl_keygen") | ≤ 1.5× |"
echo
echo "The whole card as \`tapfido card\` builds it (tapfido/benches/card.rs), per APDU without"\
     "the transport: SELECT $card_select µs, getAssertion $card_ga µs; the same applet in a"\
     "bridge without the control API's observers: getAssertion $bridge_ga µs."
echo
echo "OpenSSL: $ossl_version (scripts/bench/openssl_p256.c), ECDH ${ossl_ecdh:-–} µs;"\
     "\`openssl speed ecdsap256\` (CPU time): ${speed_sign:-–} µs per sign."
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
echo

exec "$target/release/bench_e2e" "$@"
