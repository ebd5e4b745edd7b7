"""Credential circuit: commitment and challenge binding from the witness."""

from __future__ import annotations

import pytest
from marketplace.zk.field import P
from marketplace.zk.inputs import credential_binding, credential_commitment, credential_inputs
from tests.support.zk_samples import CREDENTIAL_SECRET, DOMAIN, LICENSE_ID, public_of

pytestmark = [pytest.mark.zk, pytest.mark.usefixtures("built_keys")]


def test_valid_witness_outputs_commitment_and_binding():
    out = public_of("credential", credential_inputs(CREDENTIAL_SECRET, LICENSE_ID, 42, DOMAIN))
    assert out == {
        "credentialCommitment": credential_commitment(CREDENTIAL_SECRET, LICENSE_ID),
        "binding": credential_binding(CREDENTIAL_SECRET, 42), "challenge": 42, "domain": DOMAIN,
    }


def test_binding_changes_with_the_challenge_and_the_commitment_does_not():
    a = public_of("credential", credential_inputs(CREDENTIAL_SECRET, LICENSE_ID, 1, DOMAIN))
    b = public_of("credential", credential_inputs(CREDENTIAL_SECRET, LICENSE_ID, 2, DOMAIN))
    assert a["binding"] != b["binding"]
    assert a["credentialCommitment"] == b["credentialCommitment"]


@pytest.mark.parametrize("challenge", [0, P - 1])
def test_challenge_extremes(challenge):
    out = public_of("credential", credential_inputs(CREDENTIAL_SECRET, LICENSE_ID, challenge, DOMAIN))
    assert out["binding"] == credential_binding(CREDENTIAL_SECRET, challenge)


def test_another_secret_gives_another_commitment():
    a = public_of("credential", credential_inputs(CREDENTIAL_SECRET, LICENSE_ID, 1, DOMAIN))
    b = public_of("credential", credential_inputs(CREDENTIAL_SECRET + 1, LICENSE_ID, 1, DOMAIN))
    assert a["credentialCommitment"] != b["credentialCommitment"]
