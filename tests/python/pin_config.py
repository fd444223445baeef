"""authenticatorConfig (CTAP 2.1 §6.11), the minPinLength extension (§12.4) and the
authenticatorReset window (§6.6) through pcscd + vpcd.

setPIN "1234"; config without pinUvAuthParam -> PUAT_REQUIRED; a token without the acfg
permission -> PIN_AUTH_INVALID; setMinPINLength(6, minPinLengthRPIDs) -> getInfo
minPINLength 6 and forcePINChange true (the PIN is shorter); getPinToken ->
PIN_POLICY_VIOLATION until changePIN (5 digits refused, 6 accepted); a smaller minimum
-> PIN_POLICY_VIOLATION; makeCredential with minPinLength returns 6 for a listed RP and
nothing for another; toggleAlwaysUv -> getInfo alwaysUv true, makeCredential and
getAssertion without pinUvAuthParam -> PUAT_REQUIRED, with it they work; toggled back.
pocketkey, like the ACS card's MDS entry, lists no alwaysUv: toggleAlwaysUv ->
INVALID_SUBCOMMAND there.
With --late-reset: a tap, 11 s, authenticatorReset -> NOT_ALLOWED and nothing changed;
a tap, authenticatorReset at once -> PIN, minimum length and alwaysUv back to defaults.
"""

from __future__ import annotations

import time

from fido2.ctap2 import Config
from fido2.ctap2.pin import ClientPin

from pin_common import ERR, ES256, Session, cdh, expect_error
from tapfido_e2e import check, parser

P = ClientPin.PERMISSION
LISTED = "min.example.com"
OTHER = "other.example.com"


def config(s: Session, pin: str, permissions=P.AUTHENTICATOR_CFG) -> Config:
    cp = s.pin()
    return Config(s.ctap, cp.protocol, cp.get_pin_token(pin, permissions))


def make(s: Session, rp_id: str, pin: str | None, extensions=None):
    h = cdh("mc")
    kw = {}
    if pin is not None:
        cp = s.pin()
        token = cp.get_pin_token(pin, P.MAKE_CREDENTIAL, rp_id)
        kw = {"pin_uv_param": cp.protocol.authenticate(token, h),
              "pin_uv_protocol": cp.protocol.VERSION}
    return s.ctap.make_credential(h, {"id": rp_id, "name": rp_id},
                                  {"id": b"cfg-user", "name": "cfg"}, ES256,
                                  extensions=extensions, **kw)


def get(s: Session, rp_id: str, cred_id: bytes, pin: str | None):
    h = cdh("ga")
    kw = {}
    if pin is not None:
        cp = s.pin()
        token = cp.get_pin_token(pin, P.GET_ASSERTION, rp_id)
        kw = {"pin_uv_param": cp.protocol.authenticate(token, h),
              "pin_uv_protocol": cp.protocol.VERSION}
    return s.ctap.get_assertion(rp_id, h, [{"type": "public-key", "id": cred_id}], **kw)


def advertised(info, value: bool) -> None:
    """getInfo's alwaysUv option: present (CTAP 2.1 §6.4: absent means the feature is not
    supported) with the current value; makeCredUvNotRqd is false while alwaysUv is on."""
    got = info.options.get("alwaysUv")
    check(got is value, f"getInfo alwaysUv {got} == {value}")
    if value:
        not_rqd = info.options.get("makeCredUvNotRqd")
        check(not_rqd is not True, f"getInfo makeCredUvNotRqd {not_rqd} is not true")


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--late-reset", action="store_true")
    args = p.parse_args()
    s = Session(args)
    info = s.info()
    check(info.options.get("authnrCfg") is True, "getInfo authnrCfg")
    check(info.options.get("setMinPINLength") is True, "getInfo setMinPINLength")
    always_uv = "alwaysUv" in info.options
    if args.profile == "pocketkey":
        check(not always_uv, "pocketkey: no alwaysUv in getInfo (none in the card's MDS entry)")
    if always_uv:
        advertised(info, False)
    check(info.min_pin_length == 4, f"getInfo minPINLength {info.min_pin_length}")

    s.pin().set_pin("1234")
    expect_error(ERR.PUAT_REQUIRED, "toggleAlwaysUv without pinUvAuthParam",
                 Config(s.ctap).toggle_always_uv)
    expect_error(ERR.PIN_AUTH_INVALID, "setMinPINLength with a cm-only token",
                 config(s, "1234", P.CREDENTIAL_MGMT).set_min_pin_length, 6)

    config(s, "1234").set_min_pin_length(6, rp_ids=[LISTED])
    info = s.info()
    check(info.min_pin_length == 6, f"getInfo minPINLength {info.min_pin_length}")
    check(info.force_pin_change is True, "forcePINChange after raising the minimum")
    expect_error(ERR.PIN_POLICY_VIOLATION, "getPinToken while a PIN change is forced",
                 s.pin().get_pin_token, "1234", P.MAKE_CREDENTIAL, LISTED)
    n, _ = s.pin().get_pin_retries()
    check(n == 8, f"a correct PIN under forcePINChange costs no retry ({n})")
    expect_error(ERR.PIN_POLICY_VIOLATION, "changePIN to 5 digits under a minimum of 6",
                 s.pin().change_pin, "1234", "12345")
    s.pin().change_pin("1234", "123456")
    info = s.info()
    check(info.force_pin_change is False, "forcePINChange cleared by changePIN")
    expect_error(ERR.PIN_POLICY_VIOLATION, "lowering the minimum to 4",
                 config(s, "123456").set_min_pin_length, 4)

    att = make(s, LISTED, "123456", {"minPinLength": True})
    check(att.auth_data.extensions.get("minPinLength") == 6,
          f"minPinLength for a listed RP: {att.auth_data.extensions}")
    att = make(s, OTHER, "123456", {"minPinLength": True})
    check("minPinLength" not in (att.auth_data.extensions or {}),
          f"no minPinLength for an RP not listed: {att.auth_data.extensions}")
    cred = att.auth_data.credential_data.credential_id

    if always_uv:
        config(s, "123456").toggle_always_uv()
        advertised(s.info(), True)
        expect_error(ERR.PUAT_REQUIRED, "alwaysUv: makeCredential without pinUvAuthParam",
                     make, s, OTHER, None)
        expect_error(ERR.PUAT_REQUIRED, "alwaysUv: getAssertion without pinUvAuthParam",
                     get, s, OTHER, cred, None)
        check(get(s, OTHER, cred, "123456").auth_data.is_user_verified(),
              "alwaysUv: getAssertion with the PIN (UV)")
        config(s, "123456").toggle_always_uv()
        advertised(s.info(), False)
    else:
        expect_error(ERR.INVALID_SUBCOMMAND, "toggleAlwaysUv on a card without alwaysUv",
                     config(s, "123456").toggle_always_uv)
    ga = get(s, OTHER, cred, None)
    check(ga.auth_data.is_user_present() and not ga.auth_data.is_user_verified(),
          "getAssertion without UV once alwaysUv is off")

    if args.late_reset:
        s.tap()
        time.sleep(11)
        expect_error(ERR.NOT_ALLOWED, "authenticatorReset 11 s after the tap", s.ctap.reset)
        info = s.info()
        check(info.options.get("clientPin") is True and info.min_pin_length == 6,
              "nothing reset")
        check(get(s, OTHER, cred, None).auth_data.is_user_present(), "credential still there")
        s.tap()
        s.ctap.reset()
        elapsed = time.monotonic() - s.tapped_at
        check(elapsed < 10, f"authenticatorReset {elapsed:.1f} s after the tap")
        info = s.info()
        check(info.options.get("clientPin") is False, "no PIN after reset")
        check(info.min_pin_length == 4, f"minPINLength back to 4 ({info.min_pin_length})")
        if always_uv:
            advertised(info, False)
        expect_error(ERR.NO_CREDENTIALS, "credential after reset", get, s, OTHER, cred, None)
    s.dev.close()
    print("PASS")


if __name__ == "__main__":
    main()
