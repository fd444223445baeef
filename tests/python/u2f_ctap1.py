"""U2F (CTAP1) register and authenticate through python-fido2's Ctap1 over PC/SC.

python-fido2 builds extended U2F APDUs and re-chunks them into short chained ones; the
registration response (public key, key handle, attestation certificate, signature) is
longer than one short frame, so it is paged with GET RESPONSE.

register:     VERSION is U2F_V2; REGISTER verified with the attestation certificate;
              AUTHENTICATE verified with the credential key; check-only answers 6985 for
              the card's key handle and 6A80 for another application or a changed handle.
authenticate: AUTHENTICATE again (after a card restart between phases): the key handle
              still works and the counter keeps increasing.
"""

from __future__ import annotations

import hashlib
import os

from fido2.ctap1 import ApduError, Ctap1, RegistrationData

from tapfido_e2e import check, control, load, open_device, parser, save

APP_PARAM = hashlib.sha256(b"https://u2f.example.com").digest()


def client_param() -> bytes:
    return hashlib.sha256(os.urandom(32)).digest()


def authenticate(ctap1: Ctap1, key_handle: bytes, public_key: bytes, counter: int) -> int:
    cp = client_param()
    sig = ctap1.authenticate(cp, APP_PARAM, key_handle)
    sig.verify(APP_PARAM, cp, public_key)
    check(sig.user_presence & 0x01 == 0x01, "user presence in the authentication")
    check(sig.counter > counter, f"counter {sig.counter} > {counter}")
    return sig.counter


def expect_sw(sw: int, call, what: str) -> None:
    try:
        call()
        raise AssertionError(f"{what}: no error, expected {sw:04X}")
    except ApduError as e:
        check(e.code == sw, f"{what}: {e.code:04X}")


def main() -> None:
    args = parser(__doc__).parse_args()
    print("control:", control(args.control, "/"))
    dev = open_device(args.reader)
    ctap1 = Ctap1(dev)
    check(ctap1.get_version() == "U2F_V2", "VERSION U2F_V2")

    if args.phase in ("all", "register"):
        cp = client_param()
        reg = ctap1.register(cp, APP_PARAM)
        print(f"registration: {len(reg)} bytes, key handle {len(reg.key_handle)} bytes, "
              f"certificate {len(reg.certificate)} bytes")
        check(len(reg) > 256, "registration response longer than one short frame (paged)")
        reg.verify(APP_PARAM, cp)
        print("ok: registration signature verified with the attestation certificate")
        saved = {
            "key_handle": reg.key_handle.hex(),
            "public_key": reg.public_key.hex(),
            "counter": authenticate(ctap1, reg.key_handle, reg.public_key, -1),
        }
        save(args.data, saved)
        # Round trip through the raw bytes, as a relying party would store them.
        RegistrationData(bytes(reg))
    else:
        saved = load(args.data)

    key_handle = bytes.fromhex(saved["key_handle"])
    public_key = bytes.fromhex(saved["public_key"])
    expect_sw(0x6985, lambda: ctap1.authenticate(client_param(), APP_PARAM, key_handle, True),
              "check-only with the card's key handle")
    other_app = hashlib.sha256(b"https://other.example.com").digest()
    expect_sw(0x6A80, lambda: ctap1.authenticate(client_param(), other_app, key_handle, True),
              "check-only for another application")
    changed = key_handle[:-1] + bytes([key_handle[-1] ^ 0x01])
    expect_sw(0x6A80, lambda: ctap1.authenticate(client_param(), APP_PARAM, changed),
              "a changed key handle")
    if args.phase in ("all", "authenticate"):
        counter = authenticate(ctap1, key_handle, public_key, saved["counter"])
        print(f"ok: authenticated, counter {counter}")
    dev.close()
    print("PASS")


if __name__ == "__main__":
    main()
