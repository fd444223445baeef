"""The Entra ID / Windows-shaped flow end to end through pcscd + vpcd (nfc-ctap.md §6):

1. setPIN on a fresh card;
2. register two discoverable credentials for one RP (two accounts) with UV (the PIN,
   entered through Fido2Client's UserInteraction), hmacCreateSecret and packed
   attestation: fido2.server.Fido2Server verifies the attestation up to the card's test
   CA (--ca); the AAGUID in the attested credential and in getInfo is the profile's;
3. remove the card (control API power/off), tap again (power/on, new device);
4. sign in with the PIN, discoverable (no allowList): both accounts are offered, the
   chosen one is verified by Fido2Server with user_verification=required (UV flag set);
   hmac-secret returns 32 bytes; the same salt after a second sign-in gives the same
   secret; prf with value V returns exactly the hmac-secret of salt
   SHA-256("WebAuthn PRF" || 00 || V) (WebAuthn L3 §10.1.4), derived independently here;
   the signature counter increases.
"""

from __future__ import annotations

import hashlib
import os

from fido2.server import Fido2Server
from fido2.utils import websafe_decode, websafe_encode
from fido2.webauthn import AttestedCredentialData

from fido2_webauthn import CardCa
from pin_common import AAGUIDS, Session, client
from tapfido_e2e import check, parser

ORIGIN = "https://login.example.com"
RP = {"id": "login.example.com", "name": "Entra-shaped RP"}
PIN = "482916"


def b(value) -> bytes:
    return value if isinstance(value, bytes) else websafe_decode(value)


def register(s: Session, server: Fido2Server, verifier: CardCa, name: str, profile: str):
    user = {"id": os.urandom(16), "name": f"{name}@contoso.example", "displayName": name}
    options, state = server.register_begin(
        user, resident_key_requirement="required", user_verification="required",
        extensions={"hmacCreateSecret": True})
    c = client(s, ORIGIN, PIN)
    result = c.make_credential(options.public_key)
    check(c.ui.asked >= 1, f"{name}: the PIN was asked for")
    att = result.response.attestation_object
    check(att.fmt == "packed", f"{name}: packed attestation")
    check("x5c" in att.att_stmt, f"{name}: full attestation (x5c)")
    verifier.result = None
    auth_data = server.register_complete(state, result)
    check(verifier.result is not None, f"{name}: attestation verified by Fido2Server up to the CA")
    check(auth_data.is_user_verified(), f"{name}: UV flag in the registration")
    check(auth_data.extensions.get("hmac-secret") is True, f"{name}: hmac-secret enabled")
    check(result.client_extension_results.get("hmacCreateSecret") is True,
          f"{name}: hmacCreateSecret true")
    cred = auth_data.credential_data
    check(str(cred.aaguid) == AAGUIDS[profile], f"{name}: AAGUID {cred.aaguid} of {profile}")
    return user, cred, auth_data.counter


def sign_in(s: Session, server: Fido2Server, creds: list[AttestedCredentialData],
            user: dict, extensions: dict):
    options, state = server.authenticate_begin(user_verification="required")
    request = dict(options.public_key)
    request["extensions"] = extensions
    c = client(s, ORIGIN, PIN)
    selection = c.get_assertion(request)
    check(c.ui.asked >= 1, "sign-in: the PIN was asked for")
    assertions = selection.get_assertions()
    check(len(assertions) == 2, f"sign-in: both accounts offered ({len(assertions)})")
    index = next(i for i, a in enumerate(assertions) if a.user["id"] == user["id"])
    response = selection.get_response(index)
    used = server.authenticate_complete(state, creds, response)
    ad = response.response.authenticator_data
    check(used.credential_id == response.raw_id, "sign-in verified by Fido2Server")
    check(ad.is_user_verified() and ad.is_user_present(), "sign-in: UP and UV flags set")
    check(response.response.user_handle == user["id"], "sign-in: user handle")
    return response, ad


def main() -> None:
    args = parser(__doc__).parse_args()
    if not args.ca:
        raise SystemExit("--ca is required")
    s = Session(args)
    info = s.info()
    check(str(info.aaguid) == AAGUIDS[args.profile], f"getInfo AAGUID of {args.profile}")
    check("hmac-secret" in info.extensions, "getInfo lists hmac-secret")
    check(info.options.get("rk") is True, "getInfo rk")
    s.pin().set_pin(PIN)
    check(s.info().options.get("clientPin") is True, "PIN set")

    verifier = CardCa(args.ca)
    server = Fido2Server(RP, attestation="direct", verify_attestation=verifier)
    user, cred, counter = register(s, server, verifier, "adele", args.profile)
    _, other, _ = register(s, server, verifier, "megan", args.profile)
    creds = [cred, other]

    s.remove()
    print("card removed from the field")
    s.put_back()
    print("card tapped again")

    salt = hashlib.sha256(b"windows hello salt").digest()
    response, ad = sign_in(s, server, creds, user, {"hmacGetSecret": {"salt1": salt}})
    check(ad.counter > counter, f"counter {ad.counter} > {counter}")
    check("hmac-secret" in (ad.extensions or {}), "signed authData carries hmac-secret")
    secret = b(response.client_extension_results["hmacGetSecret"]["output1"])
    check(len(secret) == 32, "hmac-secret output of 32 bytes")

    response, ad2 = sign_in(s, server, creds, user, {"hmacGetSecret": {"salt1": salt}})
    again = b(response.client_extension_results["hmacGetSecret"]["output1"])
    check(again == secret, "same salt, same secret on the next sign-in")
    check(ad2.counter > ad.counter, "counter increases")

    value = b"entra prf input"
    prf_salt = hashlib.sha256(b"WebAuthn PRF\x00" + value).digest()
    response, _ = sign_in(s, server, creds, user, {"hmacGetSecret": {"salt1": prf_salt}})
    via_hmac = b(response.client_extension_results["hmacGetSecret"]["output1"])
    response, _ = sign_in(s, server, creds, user,
                          {"prf": {"eval": {"first": websafe_encode(value)}}})
    prf = response.client_extension_results["prf"]["results"]
    check(b(prf["first"]) == via_hmac, "prf(V) == hmac-secret(SHA-256('WebAuthn PRF' 00 V))")
    check(via_hmac != secret, "another salt, another secret")
    s.dev.close()
    print("PASS")


if __name__ == "__main__":
    main()
