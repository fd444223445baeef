"""Helpers of the PIN, credential management, extension and Entra-flow scripts
(`pin_*.py`, `entra_flow.py`): taps through the control API, waiting on the reader with
SCardGetStatusChange, and exact CTAP error checks.

A tap is: close the PC/SC handle, `GET /usb{N}/power/off`, wait until pcscd sees the
slot empty, `GET /usb{N}/power/on`, wait until pcscd sees a card, open a new device
(SELECT + getInfo). Every tap is a new field for the card: PIN tokens, the three-strikes
counter and the key agreement key are gone, and the 10 s reset window starts again.
"""

from __future__ import annotations

import hashlib
import os
import re
import time

from fido2.client import UserInteraction
from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin, PinProtocolV1, PinProtocolV2
from smartcard import scard

from tapfido_e2e import check, control, open_device

ERR = CtapError.ERR

# The AAGUIDs the profiles advertise (profiles/*.toml).
AAGUIDS = {
    "default": "d7af8b7f-4eb3-4a35-a888-cb1113a054d2",
    "pocketkey": "973446ca-e21c-9a9b-99f5-9b985a67af0f",
}

PROTOCOLS = {1: PinProtocolV1, 2: PinProtocolV2}


def slot_of(reader: str) -> int:
    """`Virtual PCD 00 0N` -> N (the control API's usb{N})."""
    m = re.search(r"(\d+)\s*$", reader)
    if not m:
        raise AssertionError(f"no slot number in reader name {reader!r}")
    return int(m.group(1))


def wait_reader(reader: str, present: bool, timeout: float = 15.0) -> None:
    """Blocks on SCardGetStatusChange until the reader shows a card (or none)."""
    rv, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if rv != scard.SCARD_S_SUCCESS:
        raise AssertionError(f"SCardEstablishContext: {scard.SCardGetErrorMessage(rv)}")
    try:
        deadline = time.monotonic() + timeout
        state = scard.SCARD_STATE_UNAWARE
        while True:
            left = int((deadline - time.monotonic()) * 1000)
            if left <= 0:
                raise AssertionError(f"{reader}: card {'present' if present else 'absent'} "
                                     f"not seen within {timeout} s")
            rv, states = scard.SCardGetStatusChange(ctx, left, [(reader, state)])
            if rv == scard.SCARD_E_TIMEOUT:
                continue
            if rv != scard.SCARD_S_SUCCESS:
                raise AssertionError(f"SCardGetStatusChange: {scard.SCardGetErrorMessage(rv)}")
            event = states[0][1]
            if bool(event & scard.SCARD_STATE_PRESENT) == present:
                return
            state = event & ~scard.SCARD_STATE_CHANGED
    finally:
        scard.SCardReleaseContext(ctx)


class Session:
    """One card in one reader, reopened after every tap."""

    def __init__(self, args):
        self.args = args
        self.reader = args.reader
        self.slot = slot_of(args.reader)
        self.dev = open_device(self.reader)
        self.ctap = Ctap2(self.dev)
        self.tapped_at = time.monotonic()

    def info(self):
        """A fresh getInfo (the cached one does not follow config changes)."""
        self.ctap = Ctap2(self.dev)
        return self.ctap.info

    def pin(self, protocol: int | None = None) -> ClientPin:
        return ClientPin(self.ctap, PROTOCOLS[protocol]() if protocol else None)

    def remove(self) -> None:
        """Takes the card out of the field (the handle is closed first)."""
        self.dev.close()
        control(self.args.control, f"/usb{self.slot}/power/off")
        wait_reader(self.reader, present=False)

    def put_back(self) -> None:
        control(self.args.control, f"/usb{self.slot}/power/on")
        wait_reader(self.reader, present=True)
        self.dev = open_device(self.reader)
        self.ctap = Ctap2(self.dev)
        self.tapped_at = time.monotonic()

    def tap(self) -> None:
        """Card out of the field, and back: a power cycle through the control API."""
        self.remove()
        self.put_back()
        print("tap: card removed and put back, device reopened")

    def reconnect(self) -> None:
        """python-fido2's NFC reconnect: close() + connect() on the same connection."""
        self.dev.close()
        self.dev.connect()
        self.ctap = Ctap2(self.dev)
        self.tapped_at = time.monotonic()
        print("reconnect: PC/SC handle closed and opened again")

    def select(self) -> None:
        """A bare SELECT of the FIDO applet on the open handle (no power cycle)."""
        resp, sw1, sw2 = self.dev.apdu_exchange(
            bytes.fromhex("00a4040008a0000006472f000100"))
        check((sw1, sw2) == (0x90, 0x00), f"SELECT FIDO again: {resp!r} {sw1:02X}{sw2:02X}")


def expect_error(code: CtapError.ERR, what: str, fn, *a, **kw):
    """Runs fn and checks it fails with exactly this CTAP status."""
    try:
        result = fn(*a, **kw)
    except CtapError as e:
        if e.code != code:
            raise AssertionError(f"{what}: expected {code.name}, got {e.code!r}") from e
        print(f"ok: {what} -> {code.name}")
        return
    raise AssertionError(f"{what}: expected {code.name}, got success {result!r}")


def cdh(label: str = "") -> bytes:
    return hashlib.sha256(b"tapfido e2e " + label.encode() + os.urandom(8)).digest()


ES256 = [{"type": "public-key", "alg": -7}]


class PinEntry(UserInteraction):
    """UserInteraction for Fido2Client: the card is in the field (presence is the tap)
    and the user types `pin` when asked."""

    def __init__(self, pin: str | None):
        super().__init__()
        self.pin = pin
        self.asked = 0

    def prompt_up(self) -> None:
        print("user presence requested (the card is in the field)")

    def request_pin(self, permissions, rp_id):
        self.asked += 1
        print(f"PIN requested (permissions {permissions!r}, rp {rp_id})")
        return self.pin

    def request_uv(self, permissions, rp_id) -> bool:
        return True


def client(s: Session, origin: str, pin: str | None, extensions=None):
    """A Fido2Client on the session's current device with hmac-secret (and prf),
    credProtect, credBlob and minPinLength."""
    from fido2.client import DefaultClientDataCollector, Fido2Client
    from fido2.ctap2.extensions import (
        CredBlobExtension,
        CredProtectExtension,
        HmacSecretExtension,
        MinPinLengthExtension,
    )

    if extensions is None:
        extensions = [HmacSecretExtension(allow_hmac_secret=True), CredProtectExtension(),
                      CredBlobExtension(), MinPinLengthExtension()]
    ui = PinEntry(pin)
    c = Fido2Client(s.dev, DefaultClientDataCollector(origin), user_interaction=ui,
                    extensions=extensions)
    c.ui = ui
    return c
