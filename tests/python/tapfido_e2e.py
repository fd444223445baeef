"""Shared helpers of the python-fido2 end-to-end scripts.

Each script talks to one tapfido card through pcscd + vpcd:

    python3 tests/python/<script>.py --reader "Virtual PCD 00 00" \
        --control http://127.0.0.1:PORT [--profile NAME] [--phase ...] [--data FILE]

and exits non-zero (with a traceback) when anything is off.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request

from fido2.pcsc import CtapPcscDevice
from smartcard.System import readers

# The ACS FIDO Authenticator Card AAGUID (FIDO MDS), presented by the pocketkey profile.
POCKETKEY_AAGUID = "973446ca-e21c-9a9b-99f5-9b985a67af0f"


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--reader", required=True, help='e.g. "Virtual PCD 00 00"')
    p.add_argument("--control", required=True, help="card control API base URL")
    p.add_argument("--profile", default="default")
    p.add_argument(
        "--phase",
        choices=["all", "register", "authenticate"],
        default="all",
        help="register and/or authenticate (the card may restart in between)",
    )
    p.add_argument("--data", help="JSON file carrying credentials between phases")
    p.add_argument("--ca", help="PEM of the card's attestation root CA")
    return p


def open_device(reader_name: str) -> CtapPcscDevice:
    """Opens the reader with exactly this name (errors are not swallowed, unlike
    CtapPcscDevice.list_devices)."""
    names = [str(r) for r in readers()]
    for r in readers():
        if str(r) == reader_name:
            dev = CtapPcscDevice(r.createConnection(), str(r))
            print(f"device: {dev!r}, ATR {dev.get_atr().hex(' ')}")
            return dev
    sys.exit(f"reader {reader_name!r} not found among {names}")


def control(base: str, path: str) -> str:
    with urllib.request.urlopen(base.rstrip("/") + path, timeout=10) as resp:
        body = resp.read().decode()
        assert resp.status == 200, (path, resp.status, body)
        return body


def save(path: str | None, data: dict) -> None:
    if path:
        with open(path, "w") as f:
            json.dump(data, f, indent=1)


def load(path: str | None) -> dict:
    if not path:
        sys.exit("--data is required for --phase authenticate")
    with open(path) as f:
        return json.load(f)


def check(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)
    print(f"ok: {what}")
