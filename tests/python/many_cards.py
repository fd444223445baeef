"""Many cards at once: every reader given registers and signs in concurrently
(one thread per card, python-fido2 over PC/SC), each signature verified with
the credential's public key, each card's credential bound to its own card
(a credential ID from one card is unknown to every other).

    tapfido run --cards 8 -- python3 tests/python/many_cards.py
    python3 tests/python/many_cards.py --readers "Virtual PCD 00 00,Virtual PCD 00 01,..."

Under `tapfido run`, the readers come from TAPFIDO_READERS and the cards are served by
this script's parent process: its resident memory is printed (`rss_kib N`) once every
card has worked, for BENCHMARKS.md. `--idle` only prints it.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

from fido2.ctap2 import Ctap2
from fido2.ctap import CtapError
from smartcard.System import readers

from tapfido_e2e import check, open_device

ES256 = [{"type": "public-key", "alg": -7}]
RP = "many.example"


def register_and_sign_in(name: str, results: dict) -> None:
    started = time.monotonic()
    dev = open_device(name)
    try:
        ctap = Ctap2(dev)
        att = ctap.make_credential(os.urandom(32), {"id": RP}, {"id": name.encode(), "name": name}, ES256)
        cred_data = att.auth_data.credential_data
        cred = {"type": "public-key", "id": cred_data.credential_id}
        cdh = os.urandom(32)
        assertion = ctap.get_assertion(RP, cdh, [cred])
        assertion.verify(cdh, cred_data.public_key)
        results[name] = {"cred": cred, "seconds": time.monotonic() - started}
    except Exception as err:  # reported by the main thread
        results[name] = {"error": repr(err)}
    finally:
        dev.close()


def parent_rss_kib() -> int:
    """VmRSS of the parent process (under `tapfido run`: the process serving the cards)."""
    with open(f"/proc/{os.getppid()}/status") as f:
        line = next(l for l in f if l.startswith("VmRSS:"))
    return int(line.split()[1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--readers", help="comma-separated reader names (default: TAPFIDO_READERS)")
    p.add_argument("--idle", action="store_true", help="only print the cards' process memory")
    args = p.parse_args()
    names = args.readers.split(",") if args.readers else os.environ["TAPFIDO_READERS"].split("\n")
    if args.idle:
        print(f"rss_kib {parent_rss_kib()}")
        return
    deadline = time.monotonic() + 10
    present = {str(r) for r in readers()}
    while not all(n in present for n in names) and time.monotonic() < deadline:
        time.sleep(0.2)
        present = {str(r) for r in readers()}
    check(all(n in present for n in names), f"{len(names)} readers listed by pcscd ({sorted(present)})")

    results: dict = {}
    threads = [threading.Thread(target=register_and_sign_in, args=(n, results)) for n in names]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    wall = time.monotonic() - started
    errors = {n: r["error"] for n, r in results.items() if "error" in r}
    check(len(results) == len(names) and not errors, f"every card registered and signed in ({errors})")
    slowest = max(r["seconds"] for r in results.values())
    print(f"concurrent: {len(names)} cards, wall {wall:.2f} s, slowest card {slowest:.2f} s")

    print(f"rss_kib {parent_rss_kib()}")

    # A credential made on one card means nothing to the next one.
    first, second = names[0], names[1]
    dev = open_device(second)
    try:
        Ctap2(dev).get_assertion(RP, os.urandom(32), [results[first]["cred"]])
        raise AssertionError("a foreign credential was accepted")
    except CtapError as err:
        check(err.code == CtapError.ERR.NO_CREDENTIALS, f"{second} refuses {first}'s credential")
    finally:
        dev.close()
    print("PASS")


if __name__ == "__main__":
    main()
