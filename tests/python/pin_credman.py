"""authenticatorCredentialManagement (0x0A, and 0x41 for FIDO_2_1_PRE clients) through
pcscd + vpcd (CTAP 2.1 §6.8).

Sets a PIN, makes three discoverable credentials on two RPs (and one non-discoverable
one, which must not count), then checks: getCredsMetadata (count, remaining = getInfo's
remainingDiscoverableCredentials before minus 3); the same through command 0x41;
enumerateRPs (ids, names, rpIdHash); enumerateCredentials (user, credential ID and the
public key the registration returned); a token bound to another RP refused for
metadata and enumeration; updateUserInformation (read back); deleteCredential (count
down, the deleted credential no longer asserts, the others still do); finally no
credential left -> enumerateRPsBegin NO_CREDENTIALS.
"""

from __future__ import annotations

import hashlib

from fido2.ctap2 import CredentialManagement
from fido2.ctap2.pin import ClientPin

from pin_common import ERR, ES256, Session, cdh, expect_error
from tapfido_e2e import check, parser

P = ClientPin.PERMISSION
R = CredentialManagement.RESULT
PIN = "246813"
RPS = {"x.example.com": "RP X", "y.example.com": "RP Y"}


def make(s: Session, rp_id: str, user_id: bytes, name: str, rk: bool):
    token = s.pin().get_pin_token(PIN, P.MAKE_CREDENTIAL, rp_id)
    h = cdh("mc")
    pin = s.pin()
    att = s.ctap.make_credential(
        h, {"id": rp_id, "name": RPS[rp_id]},
        {"id": user_id, "name": name, "displayName": name.upper()}, ES256,
        options={"rk": rk}, pin_uv_param=pin.protocol.authenticate(token, h),
        pin_uv_protocol=pin.protocol.VERSION)
    cd = att.auth_data.credential_data
    return {"rp": rp_id, "user_id": user_id, "name": name, "id": cd.credential_id,
            "public_key": dict(cd.public_key)}


def credman(s: Session, rp_id: str | None = None) -> CredentialManagement:
    pin = s.pin()
    token = pin.get_pin_token(PIN, P.CREDENTIAL_MGMT, rp_id)
    return CredentialManagement(s.ctap, pin.protocol, token)


def assert_with_uv(s: Session, cred: dict):
    pin = s.pin()
    token = pin.get_pin_token(PIN, P.GET_ASSERTION, cred["rp"])
    h = cdh("ga")
    return s.ctap.get_assertion(
        cred["rp"], h, [{"type": "public-key", "id": cred["id"]}],
        pin_uv_param=pin.protocol.authenticate(token, h),
        pin_uv_protocol=pin.protocol.VERSION)


def main() -> None:
    args = parser(__doc__).parse_args()
    s = Session(args)
    info = s.info()
    remaining = info.remaining_disc_creds
    check(isinstance(remaining, int) and remaining > 3,
          f"getInfo remainingDiscoverableCredentials {remaining}")
    check(info.options.get("credMgmt") is True, "getInfo credMgmt")
    s.pin().set_pin(PIN)

    creds = [
        make(s, "x.example.com", b"x-user-1", "alice@x", True),
        make(s, "x.example.com", b"x-user-2", "bob@x", True),
        make(s, "y.example.com", b"y-user-1", "carol@y", True),
    ]
    make(s, "y.example.com", b"y-user-2", "not-resident@y", False)
    check(s.info().remaining_disc_creds == remaining - 3,
          "getInfo remainingDiscoverableCredentials down by 3")

    cm = credman(s)
    meta = cm.get_metadata()
    check(meta[R.EXISTING_CRED_COUNT] == 3, f"existing credentials {meta}")
    check(meta[R.MAX_REMAINING_COUNT] == remaining - 3, f"remaining credentials {meta}")

    # The same subcommand through the FIDO_2_1_PRE command byte 0x41.
    pin = s.pin()
    token = pin.get_pin_token(PIN, P.CREDENTIAL_MGMT)
    pre = s.ctap.send_cbor(0x41, {
        1: CredentialManagement.CMD.GET_CREDS_METADATA,
        3: pin.protocol.VERSION,
        4: pin.protocol.authenticate(token, bytes([CredentialManagement.CMD.GET_CREDS_METADATA])),
    })
    check(dict(pre) == dict(meta), f"0x41 getCredsMetadata {pre} == {meta}")

    cm = credman(s)
    rps = cm.enumerate_rps()
    got = {r[R.RP]["id"]: r for r in rps}
    check(len(rps) == 2 and set(got) == set(RPS), f"enumerateRPs ids {sorted(got)}")
    check(rps[0][R.TOTAL_RPS] == 2, "enumerateRPs totalRPs 2")
    for rp_id, r in got.items():
        check(r[R.RP_ID_HASH] == hashlib.sha256(rp_id.encode()).digest(), f"rpIdHash of {rp_id}")
        check(r[R.RP].get("name") == RPS[rp_id], f"rp name of {rp_id}: {r[R.RP]}")

    for rp_id in RPS:
        expected = {c["id"]: c for c in creds if c["rp"] == rp_id}
        listed = cm.enumerate_creds(hashlib.sha256(rp_id.encode()).digest())
        check(len(listed) == len(expected), f"{rp_id}: {len(listed)} credentials")
        check(listed[0][R.TOTAL_CREDENTIALS] == len(expected), f"{rp_id}: totalCredentials")
        for entry in listed:
            c = expected[entry[R.CREDENTIAL_ID]["id"]]
            check(entry[R.USER]["id"] == c["user_id"], f"{c['name']}: user id")
            check(entry[R.USER].get("name") == c["name"], f"{c['name']}: user name")
            check(dict(entry[R.PUBLIC_KEY]) == c["public_key"],
                  f"{c['name']}: public key as registered")

    # A token bound to rp Y: not for metadata, nor for rp X's credentials.
    bound = credman(s, "y.example.com")
    expect_error(ERR.PIN_AUTH_INVALID, "RP-bound token for getCredsMetadata", bound.get_metadata)
    expect_error(ERR.PIN_AUTH_INVALID, "token bound to rp Y enumerating rp X",
                 bound.enumerate_creds_begin, hashlib.sha256(b"x.example.com").digest())
    listed = bound.enumerate_creds(hashlib.sha256(b"y.example.com").digest())
    check(len(listed) == 1, "token bound to rp Y enumerates rp Y")

    # updateUserInformation.
    alice = creds[0]
    desc = {"type": "public-key", "id": alice["id"]}
    cm = credman(s)
    cm.update_user_info(desc, {"id": alice["user_id"], "name": "alice.renamed@x",
                               "displayName": "Alice Renamed"})
    listed = cm.enumerate_creds(hashlib.sha256(b"x.example.com").digest())
    user = next(e[R.USER] for e in listed if e[R.CREDENTIAL_ID]["id"] == alice["id"])
    check(user == {"id": alice["user_id"], "name": "alice.renamed@x",
                   "displayName": "Alice Renamed"}, f"updated user read back: {user}")
    expect_error(ERR.INVALID_PARAMETER, "updateUserInformation with another user id",
                 cm.update_user_info, desc, {"id": b"someone-else", "name": "x"})

    # deleteCredential.
    bob = creds[1]
    cm.delete_cred({"type": "public-key", "id": bob["id"]})
    check(cm.get_metadata()[R.EXISTING_CRED_COUNT] == 2, "2 credentials after a delete")
    expect_error(ERR.NO_CREDENTIALS, "the deleted credential", assert_with_uv, s, bob)
    check(assert_with_uv(s, alice).auth_data.is_user_verified(), "alice still asserts (UV)")
    cm = credman(s)
    expect_error(ERR.NO_CREDENTIALS, "deleting it again", cm.delete_cred,
                 {"type": "public-key", "id": bob["id"]})
    for c in (alice, creds[2]):
        cm.delete_cred({"type": "public-key", "id": c["id"]})
    meta = cm.get_metadata()
    check(meta[R.EXISTING_CRED_COUNT] == 0 and meta[R.MAX_REMAINING_COUNT] == remaining,
          f"all deleted: {meta}")
    expect_error(ERR.NO_CREDENTIALS, "enumerateRPsBegin with no credential",
                 cm.enumerate_rps_begin)
    s.dev.close()
    print("PASS")


if __name__ == "__main__":
    main()
