"""Extensions through python-fido2's Fido2Client over pcscd + vpcd (CTAP 2.1 §12):
hmac-secret, credProtect and credBlob, on a card with a PIN.

register:      setPIN; a non-discoverable credential with hmacCreateSecret; a discoverable
               one with credProtect level 3 (userVerificationRequired); a discoverable one
               with a credBlob. hmac-secret with UV (PIN) and without UV give different
               outputs; two salts give output1 equal to the one-salt output; a tap, and
               the same salt gives the same outputs. The level-3 credential is invisible
               without UV (discovery and allowList: NO_CREDENTIALS) and found with UV.
               getCredBlob returns the blob. Outputs saved with --data.
after-restart: (the card process was restarted) the same salts give the same outputs,
               with and without UV; the credBlob is still there.
"""

from __future__ import annotations

import os

from fido2.utils import websafe_decode
from fido2.webauthn import (
    PublicKeyCredentialCreationOptions,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialParameters,
    PublicKeyCredentialRequestOptions,
    PublicKeyCredentialRpEntity,
    PublicKeyCredentialType,
    PublicKeyCredentialUserEntity,
    ResidentKeyRequirement,
    AuthenticatorSelectionCriteria,
    UserVerificationRequirement,
)

from pin_common import ERR, Session, cdh, client, expect_error
from tapfido_e2e import check, load, parser, save

ORIGIN = "https://ext.example.com"
RP_ID = "ext.example.com"
PIN = "13572468"
SALT1 = bytes(range(32))
SALT2 = bytes(range(32, 64))
BLOB = b"tapfido credBlob \x00\x01\x02" + bytes(range(40))
UV = {True: UserVerificationRequirement.REQUIRED, False: UserVerificationRequirement.DISCOURAGED}


def create(s: Session, name: str, rk: bool, extensions: dict):
    c = client(s, ORIGIN, PIN)
    options = PublicKeyCredentialCreationOptions(
        rp=PublicKeyCredentialRpEntity(id=RP_ID, name="Ext RP"),
        user=PublicKeyCredentialUserEntity(id=name.encode(), name=name, display_name=name),
        challenge=os.urandom(32),
        pub_key_cred_params=[PublicKeyCredentialParameters(
            type=PublicKeyCredentialType.PUBLIC_KEY, alg=-7)],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED if rk
            else ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.REQUIRED),
        extensions=extensions,
    )
    result = c.make_credential(options)
    ad = result.response.attestation_object.auth_data
    check(ad.is_user_verified(), f"{name}: registered with UV (PIN asked {c.ui.asked}x)")
    return result, ad


def assertion(s: Session, cred_id: bytes | None, uv: bool, extensions: dict):
    c = client(s, ORIGIN, PIN if uv else None)
    allow = [PublicKeyCredentialDescriptor(type=PublicKeyCredentialType.PUBLIC_KEY, id=cred_id)] \
        if cred_id else None
    options = PublicKeyCredentialRequestOptions(
        challenge=os.urandom(32), rp_id=RP_ID, allow_credentials=allow,
        user_verification=UV[uv], extensions=extensions)
    response = c.get_assertion(options).get_response(0)
    ad = response.response.authenticator_data
    check(ad.is_user_verified() == uv, f"assertion UV flag {ad.is_user_verified()} == {uv}")
    return response


def as_bytes(value) -> bytes | None:
    """Client extension outputs come in their JSON form (base64url text)."""
    if value is None or isinstance(value, bytes):
        return value
    return websafe_decode(value)


def hmac(s: Session, cred_id: bytes, uv: bool, two: bool = False) -> list[str]:
    salts = {"salt1": SALT1, "salt2": SALT2} if two else {"salt1": SALT1}
    response = assertion(s, cred_id, uv, {"hmacGetSecret": salts})
    ad = response.response.authenticator_data
    check("hmac-secret" in (ad.extensions or {}), "authData carries the hmac-secret output")
    out = response.client_extension_results["hmacGetSecret"]
    o1, o2 = as_bytes(out["output1"]), as_bytes(out.get("output2"))
    check(len(o1) == 32, "output1 of 32 bytes")
    result = [o1.hex()]
    if two:
        check(o2 is not None and len(o2) == 32, "output2 of 32 bytes")
        result.append(o2.hex())
    else:
        check(not o2, "no output2 for one salt")
    return result


def register(args, s: Session) -> dict:
    info = s.info()
    for ext in ("hmac-secret", "credProtect", "credBlob"):
        check(ext in info.extensions, f"getInfo extensions list {ext}")
    s.pin().set_pin(PIN)

    result, ad = create(s, "hmac-user", False, {"hmacCreateSecret": True})
    check(result.client_extension_results.get("hmacCreateSecret") is True,
          "hmacCreateSecret: true")
    check(ad.extensions.get("hmac-secret") is True, "authData hmac-secret: true")
    hmac_id = ad.credential_data.credential_id

    _, ad = create(s, "protected-user", True,
                   {"credentialProtectionPolicy": "userVerificationRequired",
                    "enforceCredentialProtectionPolicy": True})
    check(ad.extensions.get("credProtect") == 3, f"authData credProtect {ad.extensions}")
    protected_id = ad.credential_data.credential_id

    _, ad = create(s, "blob-user", True, {"credBlob": BLOB})
    check(ad.extensions.get("credBlob") is True, f"authData credBlob {ad.extensions}")
    blob_id = ad.credential_data.credential_id

    with_uv = hmac(s, hmac_id, True)
    without_uv = hmac(s, hmac_id, False)
    check(with_uv != without_uv, "hmac-secret differs with and without UV")
    both = hmac(s, hmac_id, True, two=True)
    check(both[0] == with_uv[0], "output1 of two salts == the one-salt output (UV)")
    check(both[1] != both[0], "output2 differs from output1")
    check(hmac(s, hmac_id, True) == with_uv, "same salt, same output (UV)")

    s.tap()
    check(hmac(s, hmac_id, True) == with_uv, "same output after a tap (UV)")
    check(hmac(s, hmac_id, False) == without_uv, "same output after a tap (no UV)")

    # credProtect 3: invisible without UV.
    expect_error(ERR.NO_CREDENTIALS, "credProtect 3 by allowList without UV",
                 s.ctap.get_assertion, RP_ID, cdh(),
                 [{"type": "public-key", "id": protected_id}])
    discovered = s.ctap.get_assertions(RP_ID, cdh())
    ids = [a.credential["id"] for a in discovered]
    check(protected_id not in ids and blob_id in ids,
          f"discovery without UV lists {len(ids)} credential(s), not the credProtect-3 one")
    response = assertion(s, protected_id, True, {})
    check(response.raw_id == protected_id, "credProtect 3 by allowList with UV")
    response = assertion(s, None, True, {})
    check(response.raw_id in (protected_id, blob_id), "discovery with UV")
    c = client(s, ORIGIN, PIN)
    n = len(c.get_assertion(PublicKeyCredentialRequestOptions(
        challenge=os.urandom(32), rp_id=RP_ID,
        user_verification=UserVerificationRequirement.REQUIRED)).get_assertions())
    check(n == 2, f"discovery with UV lists both discoverable credentials ({n})")

    check(blob(s, blob_id) == BLOB, "getCredBlob returns the stored blob")
    return {"hmac_id": hmac_id.hex(), "blob_id": blob_id.hex(), "uv": with_uv,
            "no_uv": without_uv, "two": both}


def blob(s: Session, blob_id: bytes) -> bytes:
    response = assertion(s, blob_id, True, {"getCredBlob": True})
    return bytes(response.response.authenticator_data.extensions.get("credBlob", b""))


def after_restart(s: Session, saved: dict) -> None:
    hmac_id = bytes.fromhex(saved["hmac_id"])
    check(hmac(s, hmac_id, True) == saved["uv"], "same output after a card restart (UV)")
    check(hmac(s, hmac_id, False) == saved["no_uv"], "same output after a card restart (no UV)")
    check(hmac(s, hmac_id, True, two=True) == saved["two"],
          "same two outputs after a card restart (UV)")
    check(blob(s, bytes.fromhex(saved["blob_id"])) == BLOB, "credBlob after a card restart")


def main() -> None:
    p = parser(__doc__)
    p.set_defaults(phase="register")
    args = p.parse_args()
    s = Session(args)
    if args.phase in ("register", "all"):
        save(args.data, register(args, s))
    if args.phase in ("authenticate", "all"):
        after_restart(s, load(args.data))
    s.dev.close()
    print("PASS")


if __name__ == "__main__":
    main()
