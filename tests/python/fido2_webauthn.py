"""WebAuthn registration and sign-in through python-fido2's Fido2Client over PC/SC,
verified by fido2.server.Fido2Server (attestation included).

register:     a non-discoverable credential whose request carries an excludeList of six
              foreign credential IDs (python-fido2 probes them with a chained getAssertion
              up=false) and a 64-byte user name; a packed attestation with x5c (a response
              paged through GET RESPONSE), verified up to the card's CA by python-fido2
              and by `openssl verify -x509_strict`; a discoverable
              credential; an excludeList holding one of the card's own credentials must be
              refused (CREDENTIAL_EXCLUDED -> DEVICE_INELIGIBLE).
authenticate: getAssertion with an allowList (short APDUs, then python-fido2's extended
              mode), and a discoverable sign-in without one, all verified by the server; the signature counter keeps increasing, across a card
              restart between the phases.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from fido2.attestation import AttestationType, AttestationVerifier, UntrustedAttestation
from fido2.client import (
    ClientError,
    DefaultClientDataCollector,
    Fido2Client,
    UserInteraction,
)
from fido2.server import Fido2Server
from fido2.webauthn import (
    AttestedCredentialData,
    PublicKeyCredentialDescriptor,
    PublicKeyCredentialType,
)

from tapfido_e2e import POCKETKEY_AAGUID, check, control, load, open_device, parser, save

ORIGIN = "https://example.com"
RP = {"id": "example.com", "name": "Example RP"}


class Tap(UserInteraction):
    """The card is on the reader: presence is the tap. No PIN is set."""

    def prompt_up(self) -> None:
        print("user presence requested (the card is in the field)")


class CardCa(AttestationVerifier):
    """Trusts the card's attestation CA, the PEM given with --ca (the card does not
    send its self-signed root in x5c: it is the trust anchor, RFC 5280 §6.1.1 (d))."""

    def __init__(self, ca_pem: str | None, ca_der: bytes | None = None):
        super().__init__()
        self.ca_der = ca_der
        if ca_pem:
            with open(ca_pem, "rb") as f:
                cert = x509.load_pem_x509_certificate(f.read())
            self.ca_der = cert.public_bytes(Encoding.DER)
        self.result = None

    def ca_lookup(self, attestation_result, auth_data):
        self.result = attestation_result
        check(
            attestation_result.attestation_type == AttestationType.BASIC,
            f"basic attestation ({attestation_result.attestation_type!r})",
        )
        chain = attestation_result.trust_path
        check(self.ca_der is not None, f"a trust anchor (--ca) for x5c of {len(chain)}")
        return self.ca_der


def other_root() -> bytes:
    """A self-signed P-256 CA that has nothing to do with the card."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Unrelated Root")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.DER)


def openssl_verify_strict(x5c: list[bytes], ca_pem: str) -> None:
    """RFC 5280 path validation by OpenSSL, not by the project: `openssl verify
    -x509_strict` of x5c[0] through the rest of x5c to the card's CA."""
    with tempfile.TemporaryDirectory() as tmp:
        def pem_file(name: str, ders: list[bytes]) -> str:
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                for der in ders:
                    f.write(x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM))
            return path

        cmd = ["openssl", "verify", "-x509_strict", "-purpose", "any", "-CAfile", ca_pem]
        if len(x5c) > 1:
            cmd += ["-untrusted", pem_file("untrusted.pem", x5c[1:])]
        cmd.append(pem_file("leaf.pem", x5c[:1]))
        run = subprocess.run(cmd, capture_output=True, text=True)
        out = (run.stdout + run.stderr).strip()
        check(run.returncode == 0 and out.endswith(": OK"),
              f"openssl verify -x509_strict: {out}")


def client_for(dev) -> Fido2Client:
    return Fido2Client(dev, DefaultClientDataCollector(ORIGIN), user_interaction=Tap())


def register(args, dev) -> dict:
    client = client_for(dev)
    info = client.info
    print(f"getInfo: versions {info.versions}, aaguid {info.aaguid}, "
          f"maxMsgSize {info.max_msg_size}, maxCredentialCountInList "
          f"{info.max_creds_in_list}, maxCredentialIdLength {info.max_cred_id_length}")
    if args.profile == "pocketkey":
        check(str(info.aaguid) == POCKETKEY_AAGUID, "pocketkey AAGUID")
        check(info.max_msg_size == 2048, "pocketkey maxMsgSize 2048")
        check(info.max_creds_in_list == 6, "pocketkey maxCredentialCountInList 6")

    verifier = CardCa(args.ca)
    server = Fido2Server(RP, attestation="direct", verify_attestation=verifier)

    # 1. Non-discoverable, with six foreign credential IDs to exclude (long request).
    id_len = min(info.max_cred_id_length or 64, 96)
    foreign = [
        PublicKeyCredentialDescriptor(type=PublicKeyCredentialType.PUBLIC_KEY, id=os.urandom(id_len))
        for _ in range(6)
    ]
    user = {"id": os.urandom(32), "name": "n" * 40 + "@long.example.com" + "m" * 7,
            "displayName": "D" * 64}
    check(len(user["name"]) == 64, "64-byte user name")
    options, state = server.register_begin(
        user, credentials=foreign, user_verification="discouraged"
    )
    result = client.make_credential(options.public_key)
    att = result.response.attestation_object
    print(f"attestation object: {len(att)} bytes, fmt {att.fmt}, "
          f"x5c {[len(c) for c in att.att_stmt.get('x5c', [])]}")
    check(att.fmt == "packed", "packed attestation")
    check(len(att) > 256, "attestation response longer than one short frame (paged)")
    auth_data = server.register_complete(state, result)
    check(verifier.result is not None, "attestation verified up to the CA")
    if args.ca:
        openssl_verify_strict(att.att_stmt["x5c"], args.ca)
    # The same attestation against another CA must fail: the check above is not vacuous.
    try:
        CardCa(None, other_root()).verify_attestation(att, result.response.client_data.hash)
        raise AssertionError("attestation accepted under an unrelated CA")
    except UntrustedAttestation as e:
        check(True, f"attestation refused under an unrelated CA ({e!r})")
    cred = auth_data.credential_data
    assert cred is not None
    check(len(cred.credential_id) <= (info.max_cred_id_length or 1024),
          f"credential ID of {len(cred.credential_id)} bytes within maxCredentialIdLength")
    if args.profile == "pocketkey":
        check(str(cred.aaguid) == POCKETKEY_AAGUID, "AAGUID in the attested credential")

    # 2. Discoverable credential.
    rk_user = {"id": os.urandom(16), "name": "resident@example.com", "displayName": "Resident"}
    options, state = server.register_begin(
        rk_user, resident_key_requirement="required", user_verification="discouraged"
    )
    result = client.make_credential(options.public_key)
    rk_data = server.register_complete(state, result)
    rk_cred = rk_data.credential_data
    assert rk_cred is not None

    # 3. The card's own credential in the excludeList: refused.
    mixed = foreign[:5] + [cred]
    options, state = server.register_begin(
        {"id": os.urandom(32), "name": "again", "displayName": "Again"},
        credentials=mixed,
        user_verification="discouraged",
    )
    try:
        client.make_credential(options.public_key)
        raise AssertionError("registered although excluded")
    except ClientError as e:
        check(e.code == ClientError.ERR.DEVICE_INELIGIBLE, f"excluded credential refused ({e})")

    return {
        "credential": bytes(cred).hex(),
        "resident": bytes(rk_cred).hex(),
        "resident_user_id": rk_user["id"].hex(),
        "counter": max(auth_data.counter, rk_data.counter),
    }


def authenticate(args, dev, saved: dict) -> None:
    client = client_for(dev)
    server = Fido2Server(RP)
    cred = AttestedCredentialData(bytes.fromhex(saved["credential"]))
    rk = AttestedCredentialData(bytes.fromhex(saved["resident"]))
    counter = saved["counter"]

    options, state = server.authenticate_begin([cred], user_verification="discouraged")
    selection = client.get_assertion(options.public_key)
    response = selection.get_response(0)
    server.authenticate_complete(state, [cred], response)
    ad = response.response.authenticator_data
    check(ad.counter > counter, f"counter {ad.counter} > {counter}")
    counter = ad.counter
    print("ok: assertion with allowList verified by Fido2Server")

    # python-fido2's extended-length mode: case 3E requests with no Le, whole responses.
    dev.use_ext_apdu = True
    try:
        options, state = server.authenticate_begin([cred], user_verification="discouraged")
        response = client.get_assertion(options.public_key).get_response(0)
        server.authenticate_complete(state, [cred], response)
        ad = response.response.authenticator_data
        check(ad.counter > counter, f"extended APDUs: counter {ad.counter} > {counter}")
        counter = ad.counter
    finally:
        dev.use_ext_apdu = False
    print("ok: assertion over extended APDUs verified by Fido2Server")

    options, state = server.authenticate_begin(None, user_verification="discouraged")
    selection = client.get_assertion(options.public_key)
    assertions = selection.get_assertions()
    check(len(assertions) == 1, f"one discoverable credential for the RP ({len(assertions)})")
    response = selection.get_response(0)
    server.authenticate_complete(state, [rk, cred], response)
    check(response.raw_id == rk.credential_id, "the discoverable credential answered")
    check(response.response.user_handle == bytes.fromhex(saved["resident_user_id"]),
          "user handle of the discoverable credential")
    check(response.response.authenticator_data.counter > counter, "counter increases")
    print("ok: discoverable assertion verified by Fido2Server")


def main() -> None:
    args = parser(__doc__).parse_args()
    print("control:", control(args.control, "/"))
    dev = open_device(args.reader)
    if args.phase in ("all", "register"):
        saved = register(args, dev)
        save(args.data, saved)
    else:
        saved = load(args.data)
    if args.phase in ("all", "authenticate"):
        authenticate(args, dev, saved)
    dev.close()
    print("PASS")


if __name__ == "__main__":
    main()
