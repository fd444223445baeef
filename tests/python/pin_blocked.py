"""PIN_BLOCKED after the eighth wrong PIN, across a card restart, until authenticatorReset
(CTAP 2.1 §6.5.5.7; reliability checklist 8.2 items 18-20).

block:         setPIN; a wrong PIN, then the correct PIN encrypted under the same (now
               stale) shared secret -> PIN_INVALID: a mismatch regenerates the card's
               key agreement key; then wrong PINs with a tap after every three-strikes
               block until retries reach 0: the eighth failure answers PIN_BLOCKED, the
               correct PIN too, and getPinToken after a tap as well.
after-restart: (the card process was restarted) retries still 0, the correct PIN ->
               PIN_BLOCKED; a tap and authenticatorReset -> no PIN, 8 retries, a new PIN
               can be set and used.
"""

from __future__ import annotations

import hashlib

from fido2.ctap2.pin import ClientPin

from pin_common import ERR, Session, expect_error
from tapfido_e2e import check, parser

PIN = "86420"


def retries(s: Session, expected: int) -> None:
    n, _ = s.pin().get_pin_retries()
    check(n == expected, f"pinRetries {n} == {expected}")


def block(s: Session) -> None:
    s.pin().set_pin(PIN)
    retries(s, 8)
    cp = s.pin()
    key_agreement, shared = cp._get_shared_secret()

    def token_with(pin: str):
        enc = cp.protocol.encrypt(shared, hashlib.sha256(pin.encode()).digest()[:16])
        return s.ctap.client_pin(cp.protocol.VERSION, ClientPin.CMD.GET_TOKEN_USING_PIN_LEGACY,
                                 key_agreement=key_agreement, pin_hash_enc=enc)

    expect_error(ERR.PIN_INVALID, "wrong PIN #1", token_with, "0000")
    expect_error(ERR.PIN_INVALID, "correct PIN under the shared secret of a failed attempt",
                 token_with, PIN)
    retries(s, 6)
    expect_error(ERR.PIN_AUTH_BLOCKED, "wrong PIN #3", s.pin().get_pin_token, "0000")
    left = 5
    while left > 1:
        s.tap()
        for _ in range(min(3, left - 1)):
            left -= 1
            code = ERR.PIN_AUTH_BLOCKED if left in (2,) else ERR.PIN_INVALID
            expect_error(code, f"wrong PIN, {left} left", s.pin().get_pin_token, "0000")
            retries(s, left)
    s.tap()
    expect_error(ERR.PIN_BLOCKED, "wrong PIN #8", s.pin().get_pin_token, "0000")
    retries(s, 0)
    expect_error(ERR.PIN_BLOCKED, "correct PIN once blocked", s.pin().get_pin_token, PIN)
    s.tap()
    expect_error(ERR.PIN_BLOCKED, "correct PIN after a tap", s.pin().get_pin_token, PIN)
    retries(s, 0)


def after_restart(s: Session) -> None:
    retries(s, 0)
    expect_error(ERR.PIN_BLOCKED, "correct PIN after a card restart", s.pin().get_pin_token, PIN)
    s.tap()
    s.ctap.reset()
    info = s.info()
    check(info.options.get("clientPin") is False, "no PIN after reset")
    retries(s, 8)
    s.pin().set_pin("97531")
    check(len(s.pin().get_pin_token("97531")) == 32, "a new PIN works after reset")


def main() -> None:
    p = parser(__doc__)
    p.set_defaults(phase="register")
    args = p.parse_args()
    s = Session(args)
    if args.phase in ("register", "all"):
        block(s)
    if args.phase in ("authenticate", "all"):
        after_restart(s)
    s.dev.close()
    print("PASS")


if __name__ == "__main__":
    main()
