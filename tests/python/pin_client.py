"""authenticatorClientPIN through pcscd + vpcd, for PIN/UV auth protocol 1 and then 2
(CTAP 2.1 §6.5), with an authenticatorReset within 10 s of a tap in between.

For each protocol:
  tap, reset (within the 10 s window) -> no PIN, 8 retries, earlier credentials gone;
  getPinToken without a PIN -> PIN_NOT_SET; setPIN; setPIN again -> PIN_AUTH_INVALID;
  changePIN; the old PIN -> PIN_INVALID (7 retries); the new one -> 8 retries;
  a newer token invalidates the older one; a token with mc|ga permissions bound to rp A
  signs makeCredential for A (UV flag), not for rp B, and not credentialManagement;
  wrong PIN twice -> PIN_INVALID with 7, 6 retries, a third -> PIN_AUTH_BLOCKED with 5;
  the correct PIN stays PIN_AUTH_BLOCKED (retries unchanged), also after a SELECT;
  a tap through the control API (power off/on, device reopened) clears it: the correct
  PIN works, retries back to 8, the token from before the tap is rejected;
  the same block is cleared by python-fido2's reconnect (close + connect).
"""

from __future__ import annotations

import time

from fido2.ctap2 import CredentialManagement
from fido2.ctap2.pin import ClientPin

from pin_common import ERR, ES256, Session, cdh, expect_error
from tapfido_e2e import check, parser

P = ClientPin.PERMISSION
RP_A = {"id": "a.example.com", "name": "RP A"}
RP_B = {"id": "b.example.com", "name": "RP B"}


def retries(s: Session, protocol: int, expected: int, power_cycle: bool | None = None):
    n, pcs = s.pin(protocol).get_pin_retries()
    check(n == expected, f"pinRetries {n} == {expected}")
    if power_cycle is not None and pcs is not None:
        check(bool(pcs) == power_cycle, f"powerCycleState {pcs} == {power_cycle}")


def make_cred(s: Session, protocol: int, token: bytes, rp: dict):
    h = cdh("mc")
    param = s.pin(protocol).protocol.authenticate(token, h)
    return s.ctap.make_credential(
        h, rp, {"id": b"user-" + rp["id"].encode(), "name": "u"}, ES256,
        pin_uv_param=param, pin_uv_protocol=protocol)


def block(s: Session, protocol: int, pin: str) -> None:
    """Three consecutive wrong PINs: PIN_INVALID, PIN_INVALID, PIN_AUTH_BLOCKED."""
    retries(s, protocol, 8, power_cycle=False)
    for n, (code, left) in enumerate(
            [(ERR.PIN_INVALID, 7), (ERR.PIN_INVALID, 6), (ERR.PIN_AUTH_BLOCKED, 5)], 1):
        expect_error(code, f"wrong PIN #{n}", s.pin(protocol).get_pin_token, "00000000")
        retries(s, protocol, left)
    expect_error(ERR.PIN_AUTH_BLOCKED, "correct PIN while blocked",
                 s.pin(protocol).get_pin_token, pin)
    retries(s, protocol, 5, power_cycle=True)


def run(s: Session, protocol: int, profile: str) -> None:
    print(f"=== PIN/UV auth protocol {protocol}, profile {profile} ===")
    s.tap()
    s.ctap.reset()
    elapsed = time.monotonic() - s.tapped_at
    check(elapsed < 10, f"authenticatorReset within the window ({elapsed:.1f} s after the tap)")
    info = s.info()
    check(protocol in info.pin_uv_protocols, f"getInfo pinUvAuthProtocols {info.pin_uv_protocols}")
    check(info.options.get("clientPin") is False, "clientPin false after reset")
    retries(s, protocol, 8, power_cycle=False)
    expect_error(ERR.PIN_NOT_SET, "getPinToken without a PIN", s.pin(protocol).get_pin_token,
                 "1234")

    pin1, pin2 = f"{protocol}1234", f"{protocol}56789"
    s.pin(protocol).set_pin(pin1)
    check(s.info().options.get("clientPin") is True, "clientPin true after setPIN")
    retries(s, protocol, 8)
    expect_error(ERR.PIN_AUTH_INVALID, "setPIN when a PIN exists", s.pin(protocol).set_pin,
                 "99999999")
    retries(s, protocol, 8)

    s.pin(protocol).change_pin(pin1, pin2)
    expect_error(ERR.PIN_INVALID, "old PIN after changePIN", s.pin(protocol).get_pin_token, pin1)
    retries(s, protocol, 7)
    old = s.pin(protocol).get_pin_token(pin2)
    check(len(old) == 32, f"pinUvAuthToken of {len(old)} bytes")
    retries(s, protocol, 8)

    token = s.pin(protocol).get_pin_token(pin2, P.MAKE_CREDENTIAL | P.GET_ASSERTION, RP_A["id"])
    check(token != old, "a new token at every getPinUvAuthToken")
    expect_error(ERR.PIN_AUTH_INVALID, "makeCredential with the superseded token",
                 make_cred, s, protocol, old, RP_A)
    att = make_cred(s, protocol, token, RP_A)
    check(att.auth_data.is_user_verified(), "makeCredential for rp A: UV flag set")
    check(att.auth_data.is_user_present(), "makeCredential for rp A: UP flag set")
    cred_a = att.auth_data.credential_data.credential_id
    expect_error(ERR.PIN_AUTH_INVALID, "token bound to rp A used for rp B",
                 make_cred, s, protocol, token, RP_B)
    cm = CredentialManagement(s.ctap, s.pin(protocol).protocol, token)
    expect_error(ERR.PIN_AUTH_INVALID, "token without cm permission for credentialManagement",
                 cm.get_metadata)

    # The retry / power cycle / block sequence, cleared by a tap through the control API.
    block(s, protocol, pin2)
    s.select()
    expect_error(ERR.PIN_AUTH_BLOCKED, "correct PIN after a SELECT (no power cycle)",
                 s.pin(protocol).get_pin_token, pin2)
    retries(s, protocol, 5)
    s.tap()
    retries(s, protocol, 5, power_cycle=False)
    token = s.pin(protocol).get_pin_token(pin2, P.MAKE_CREDENTIAL, RP_A["id"])
    retries(s, protocol, 8)
    check(len(token) == 32, "correct PIN accepted after the tap")
    expect_error(ERR.PIN_AUTH_INVALID, "token from before the tap",
                 make_cred, s, protocol, old, RP_A)
    check(make_cred(s, protocol, token, RP_A).auth_data.is_user_verified(),
          "the new token signs makeCredential for rp A")

    # The same, cleared by python-fido2's reconnect.
    block(s, protocol, pin2)
    s.reconnect()
    s.pin(protocol).get_pin_token(pin2)
    retries(s, protocol, 8)
    print("ok: block cleared by close + connect")

    # The credential of rp A survives until the next reset (checked after it).
    s.last_cred = cred_a


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--protocols", default="1,2")
    args = p.parse_args()
    s = Session(args)
    s.last_cred = None
    for protocol in [int(x) for x in args.protocols.split(",")]:
        before = s.last_cred
        run(s, protocol, args.profile)
        if before is not None:
            expect_error(ERR.NO_CREDENTIALS, "credential made before the reset",
                         s.ctap.get_assertion, RP_A["id"], cdh("ga"),
                         [{"type": "public-key", "id": before}])
    s.dev.close()
    print("PASS")


if __name__ == "__main__":
    main()
