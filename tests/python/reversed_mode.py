"""Reversed mode through a private pcscd whose vpcd entry names the card's address
(`DEVICENAME 127.0.0.1:0xPORT`): vpcd connects to the card.

- both readers of the entry exist; `Virtual PCD NN 01` (PORT + 1, held by tapfido) holds a
  blank card: SELECT of the FIDO AID gets 6A 82;
- python-fido2 registers and signs in on `Virtual PCD NN 00`;
- a tap (control API) is a field loss on the open link: while out, APDUs get 6F 00; back,
  the card signs in again (counter up) — and pcscd survived it all.

    PCSCLITE_CSOCK_NAME=/proc/PID/root/run/pcscd/pcscd.comm \\
    python3 tests/python/reversed_mode.py --reader "Virtual PCD 00 00" --control URL
"""

from __future__ import annotations

import os

from fido2.ctap2 import Ctap2
from smartcard.System import readers

from tapfido_e2e import check, control, open_device, parser

ES256 = [{"type": "public-key", "alg": -7}]
SELECT_FIDO = [0x00, 0xA4, 0x04, 0x00, 0x08, 0xA0, 0x00, 0x00, 0x06, 0x47, 0x2F, 0x00, 0x01, 0x00]


def select_sw(name: str) -> tuple[int, int]:
    reader = next(r for r in readers() if str(r) == name)
    conn = reader.createConnection()
    conn.connect()
    try:
        _, sw1, sw2 = conn.transmit(SELECT_FIDO)
        return sw1, sw2
    finally:
        conn.disconnect()


def sign_in(reader: str, cred: dict) -> int:
    dev = open_device(reader)
    try:
        return Ctap2(dev).get_assertion("reversed.example", os.urandom(32), [cred]).auth_data.counter
    finally:
        dev.close()


def main() -> None:
    args = parser(__doc__).parse_args()
    names = [str(r) for r in readers()]
    held = args.reader[:-2] + "01"
    check(args.reader in names and held in names, f"both readers of the reversed entry ({names})")
    check(select_sw(held) == (0x6A, 0x82), f"{held}: the held slot is a blank card (SELECT FIDO: 6A 82)")

    dev = open_device(args.reader)
    ctap = Ctap2(dev)
    check("FIDO_2_1" in ctap.get_info().versions, "getInfo through reversed vpcd")
    att = ctap.make_credential(
        os.urandom(32), {"id": "reversed.example"}, {"id": b"u1", "name": "u1"}, ES256)
    dev.close()
    cred = {"type": "public-key", "id": att.auth_data.credential_data.credential_id}
    first = sign_in(args.reader, cred)
    check(first > 0, "python-fido2 registered and signed in")

    control(args.control, "/usb0/power/off")
    check(select_sw(args.reader) == (0x6F, 0x00), "out of the field: APDUs get 6F 00, the link stays")
    control(args.control, "/usb0/power/on")
    again = sign_in(args.reader, cred)
    check(again > first, f"back in the field: signed in again (counter {first} -> {again})")
    print("PASS")


if __name__ == "__main__":
    main()
