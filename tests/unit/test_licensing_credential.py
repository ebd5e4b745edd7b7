"""API keys, the license credential token and sealing of the credential secret."""

from __future__ import annotations

import base64
import hashlib

import pytest
from marketplace.errors import UnauthorizedError
from marketplace.licensing import credential as cred
from marketplace.zk.field import P, poseidon, to_field

pytestmark = pytest.mark.unit

LICENSE_ID = "0x" + "ab" * 32


class TestApiKey:
    def test_new_key_has_the_prefix_and_32_random_bytes(self):
        k = cred.new_api_key()
        assert k.key.startswith("sk_live_")
        assert len(bytes.fromhex(k.key[len("sk_live_"):])) == 32
        assert cred.new_api_key().key != k.key

    def test_only_the_sha256_and_a_short_prefix_are_kept(self):
        k = cred.new_api_key()
        assert k.key_hash == hashlib.sha256(k.key.encode()).hexdigest()
        assert k.display == k.key[:12] + "…"
        assert k.key[12:] not in k.display

    @pytest.mark.parametrize("bad", ["", "sk_live_", "sk_test_" + "a" * 64, "sk_live_" + "A" * 64,
                                     "sk_live_" + "a" * 63, "sk_live_" + "a" * 65, "sk_live_" + "g" * 64])
    def test_malformed_keys_are_unknown_keys(self, bad):
        with pytest.raises(UnauthorizedError):
            cred.hash_api_key(bad)

    def test_bearer_scheme(self):
        assert cred.bearer_api_key("Bearer sk_live_x") == "sk_live_x"
        assert cred.bearer_api_key("bearer  sk_live_x ") == "sk_live_x"
        for bad in (None, "", "Basic abc", "Bearer", "sk_live_x"):
            with pytest.raises(UnauthorizedError):
                cred.bearer_api_key(bad)


class TestToken:
    def test_round_trip(self):
        secret = cred.new_secret()
        token = cred.encode_token(LICENSE_ID, secret)
        assert token.startswith("zkcred_")
        assert cred.decode_token(token) == cred.Credential(LICENSE_ID, secret)

    def test_commitment_is_poseidon_of_secret_and_license_field(self):
        secret = 12345
        assert cred.commitment(secret, LICENSE_ID) == poseidon(secret, int(LICENSE_ID, 16) % P)
        assert cred.commitment(secret, LICENSE_ID) == poseidon(secret, to_field(LICENSE_ID))

    def test_matches_only_its_own_license_and_commitment(self):
        secret = cred.new_secret()
        c = cred.decode_token(cred.encode_token(LICENSE_ID, secret))
        stored = cred.commitment(secret, LICENSE_ID)
        assert cred.matches(c, LICENSE_ID, stored)
        assert cred.matches(c, LICENSE_ID.upper().replace("0X", "0x"), str(stored))
        assert not cred.matches(c, LICENSE_ID, stored + 1)
        other = "0x" + "cd" * 32
        assert not cred.matches(c, other, cred.commitment(secret, other))
        assert not cred.matches(cred.Credential(LICENSE_ID, secret + 1), LICENSE_ID, stored)

    @pytest.mark.parametrize("mutate", [
        lambda t: None,
        lambda t: "",
        lambda t: t.replace("zkcred_", "zkcrd_"),
        lambda t: t[:-2],  # truncated
        lambda t: t + "AA",  # too long
        lambda t: t[:10] + "!" + t[11:],  # not base64url
    ])
    def test_malformed_tokens_are_401(self, mutate):
        token = cred.encode_token(LICENSE_ID, 7)
        with pytest.raises(UnauthorizedError):
            cred.decode_token(mutate(token))

    def test_secret_outside_the_field_or_zero_or_bad_version_is_refused(self):
        lid = bytes.fromhex(LICENSE_ID[2:])
        for raw in (b"\x01" + lid + P.to_bytes(32, "big"), b"\x01" + lid + bytes(32),
                    b"\x02" + lid + (5).to_bytes(32, "big")):
            token = "zkcred_" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
            with pytest.raises(UnauthorizedError):
                cred.decode_token(token)
        with pytest.raises(ValueError):
            cred.encode_token(LICENSE_ID, P)
        with pytest.raises(ValueError):
            cred.encode_token("0x1234", 5)

    def test_new_secret_is_a_nonzero_field_element(self):
        for _ in range(100):
            assert 0 < cred.new_secret() < P


class TestSeal:
    KEY = "00" * 16 + "11" * 16

    def test_round_trip(self):
        secret = cred.new_secret()
        sealed = cred.seal(secret, self.KEY, bound_to=42)
        assert str(secret) not in sealed and hex(secret)[2:] not in sealed
        assert cred.unseal(sealed, self.KEY, bound_to=42) == secret

    def test_wrong_key_binding_or_tampering_fails(self):
        sealed = cred.seal(99, self.KEY, bound_to=42)
        with pytest.raises(ValueError):
            cred.unseal(sealed, "ff" * 32, bound_to=42)
        with pytest.raises(ValueError):
            cred.unseal(sealed, self.KEY, bound_to=43)
        raw = bytearray(base64.urlsafe_b64decode(sealed[3:]))
        raw[14] ^= 1
        with pytest.raises(ValueError):
            cred.unseal("v1." + base64.urlsafe_b64encode(bytes(raw)).decode(), self.KEY, bound_to=42)
        with pytest.raises(ValueError):
            cred.unseal("v9." + sealed[3:], self.KEY, bound_to=42)

    def test_two_seals_of_one_secret_differ(self):
        assert cred.seal(5, self.KEY, 1) != cred.seal(5, self.KEY, 1)
