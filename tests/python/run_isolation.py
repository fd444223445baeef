"""Inside `tapfido run`: register and sign in with python-fido2 on this world's card, then
prove that a peer world running at the same time is invisible from here.

    tapfido run -- python3 tests/python/run_isolation.py --name a --peer b --sync DIR

1. pcscd lists this world's vpcd entry only, with a card in TAPFIDO_READERS only.
2. Register a discoverable credential for rp `<name>.example` (attestation verified
   against $TAPFIDO_STATE_DIR/ca.pem), sign in with it (Fido2Server verifies).
3. Publish the credential ID in DIR/<name>.json; wait for DIR/<peer>.json.
4. The peer's credential is unknown to this card: no discoverable credential for
   `<peer>.example`, and its credential ID in an allowList finds nothing.
5. Wait until the peer is done too, so both worlds are alive throughout.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import time

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fido2.attestation import AttestationVerifier
from fido2.client import ClientError, DefaultClientDataCollector, Fido2Client, UserInteraction
from fido2.ctap import CtapError
from fido2.server import Fido2Server
from fido2.webauthn import PublicKeyCredentialDescriptor, PublicKeyCredentialType
from smartcard.Exceptions import NoCardException
from smartcard.System import readers

from tapfido_e2e import check, open_device

WAIT = 60.0


class Tap(UserInteraction):
    def prompt_up(self) -> None:
        pass


class StateDirCa(AttestationVerifier):
    """Trusts only the attestation CA in this world's state directory."""

    def __init__(self) -> None:
        super().__init__()
        pem = pathlib.Path(os.environ["TAPFIDO_STATE_DIR"], "ca.pem").read_bytes()
        self.ca = x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)

    def ca_lookup(self, attestation_result, auth_data):
        return self.ca


def wait_for(path: pathlib.Path) -> None:
    deadline = time.monotonic() + WAIT
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear within {WAIT} s")
        time.sleep(0.05)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("--peer", required=True)
    p.add_argument("--sync", required=True)
    args = p.parse_args()
    sync = pathlib.Path(args.sync)

    announced = os.environ["TAPFIDO_READERS"].split("\n")
    check(len(announced) == 1, f"one card announced: {announced}")
    # One vpcd entry = two readers; the second one of this world is empty.
    listed = [str(r) for r in readers()]
    check(listed[:1] == announced and len(listed) == 2, f"pcscd lists this world's readers {listed}")
    with_card = []
    for r in readers():
        try:
            r.createConnection().connect()
            with_card.append(str(r))
        except NoCardException:
            pass
    check(with_card == announced, f"a card only in {with_card}")
    dev = open_device(announced[0])

    rp = {"id": f"{args.name}.example", "name": args.name}
    client = Fido2Client(dev, DefaultClientDataCollector(f"https://{rp['id']}"),
                         user_interaction=Tap())
    server = Fido2Server(rp, attestation="direct", verify_attestation=StateDirCa())
    user = {"id": os.urandom(16), "name": f"user-{args.name}"}
    options, state = server.register_begin(
        user, resident_key_requirement="required", user_verification="discouraged"
    )
    auth_data = server.register_complete(state, client.make_credential(options.public_key))
    cred = auth_data.credential_data
    check(cred is not None, f"registered at {rp['id']}, attestation verified")

    options, state = server.authenticate_begin(None, user_verification="discouraged")
    selection = client.get_assertion(options.public_key)
    check(len(selection.get_assertions()) == 1, "one discoverable credential here")
    server.authenticate_complete(state, [cred], selection.get_response(0))
    print("ok: sign-in verified by Fido2Server")

    mine = sync / f"{args.name}.json"
    tmp = sync / f".{args.name}.tmp"
    tmp.write_text(json.dumps({"credential_id": cred.credential_id.hex(),
                               "control": os.environ["TAPFIDO_CONTROL"]}))
    tmp.rename(mine)
    theirs = sync / f"{args.peer}.json"
    wait_for(theirs)
    peer = json.loads(theirs.read_text())
    check(peer["control"] != os.environ["TAPFIDO_CONTROL"], "the peer has its own control API")

    peer_client = Fido2Client(dev, DefaultClientDataCollector(f"https://{args.peer}.example"),
                              user_interaction=Tap())
    peer_rp = {"id": f"{args.peer}.example", "name": args.peer}
    for allow in (None, [PublicKeyCredentialDescriptor(
            type=PublicKeyCredentialType.PUBLIC_KEY,
            id=bytes.fromhex(peer["credential_id"]))]):
        options, _ = Fido2Server(peer_rp).authenticate_begin(
            allow, user_verification="discouraged")
        try:
            peer_client.get_assertion(options.public_key)
            raise AssertionError(f"this card knows the peer's credential (allow={allow})")
        except ClientError as e:
            check(isinstance(e.cause, CtapError) and e.cause.code == CtapError.ERR.NO_CREDENTIALS,
                  f"the peer's credential is unknown here ({e!r})")

    (sync / f"{args.name}.done").write_text("")
    wait_for(sync / f"{args.peer}.done")
    print("PASS")


if __name__ == "__main__":
    main()
