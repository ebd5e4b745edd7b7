"""marketplace.shared.sealing: the one AES-GCM format behind credential and webhook secrets at rest."""

import base64

import pytest

from marketplace.licensing import credential
from marketplace.notifications import signing
from marketplace.shared import sealing

KEY = sealing.derive_key(b"material", b"purpose v1")


def test_round_trip_and_format():
    sealed = sealing.seal(b"secret", KEY, b"aad")
    version, _, body = sealed.partition(".")
    assert version == "v1" and len(base64.urlsafe_b64decode(body)) == 12 + len(b"secret") + 16
    assert sealing.unseal(sealed, KEY, b"aad") == b"secret"
    assert sealing.seal(b"secret", KEY, b"aad") != sealed  # fresh nonce each time


@pytest.mark.parametrize("change", ["key", "aad", "bytes", "version", "short"])
def test_anything_else_is_refused(change):
    sealed = sealing.seal(b"secret", KEY, b"aad")
    key, aad = KEY, b"aad"
    if change == "key":
        key = sealing.derive_key(b"material", b"another purpose")
    elif change == "aad":
        aad = b"other"
    elif change == "bytes":
        raw = bytearray(base64.urlsafe_b64decode(sealed[3:]))
        raw[14] ^= 1
        sealed = "v1." + base64.urlsafe_b64encode(bytes(raw)).decode()
    elif change == "version":
        sealed = "v2" + sealed[2:]
    else:
        sealed = "v1." + base64.urlsafe_b64encode(b"x" * 20).decode()
    with pytest.raises(ValueError):
        sealing.unseal(sealed, key, aad)


def test_purposes_do_not_open_each_other():
    """A credential sealed under some key material is not a webhook secret under the same material."""
    sealed = credential.seal(12345, "material", bound_to=7)
    assert credential.unseal(sealed, "material", 7) == 12345
    with pytest.raises(ValueError):
        signing.unseal(sealed, b"material", "7")
