"""Authenticity circuit: witness behaviour at the boundaries (public signals from the witness)."""

from __future__ import annotations

import hashlib

import pytest
from marketplace.zk.field import P, split_256
from marketplace.zk.inputs import authenticity_inputs, creator_commitment, timestamp_commitment
from tests.support.zk_samples import DOMAIN, T0, assert_unsatisfiable, public_of, sample_inputs

pytestmark = [pytest.mark.zk, pytest.mark.usefixtures("built_keys")]

CONTENT = hashlib.sha256(b"dataset v1").digest()


def test_valid_witness_outputs_the_commitments():
    out = public_of("authenticity", sample_inputs("authenticity"))
    hi, lo = split_256(CONTENT)
    assert out == {
        "creatorCommitment": creator_commitment(987654321),
        "timestampCommitment": timestamp_commitment(T0 + 123, 555, CONTENT),
        "contentHashHi": hi, "contentHashLo": lo, "notBefore": T0 + 123, "notAfter": T0 + 123, "domain": DOMAIN,
    }


@pytest.mark.parametrize("content", [b"\x00" * 32, b"\xff" * 32])
def test_extreme_content_hashes_are_accepted(content):
    out = public_of("authenticity", authenticity_inputs(1, content, 0, 0, DOMAIN))
    assert (out["contentHashHi"], out["contentHashLo"]) == split_256(content)


def test_timestamp_range_is_40_bits():
    inputs = sample_inputs("authenticity")
    top = {**inputs, "notAfter": 2**40 - 1}
    public_of("authenticity", {**top, "timestamp": 2**40 - 1})
    assert_unsatisfiable("authenticity", {**top, "timestamp": 2**40})
    assert_unsatisfiable("authenticity", {**top, "timestamp": P - 1})


def window_inputs(timestamp: int, not_before: int, not_after: int) -> dict:
    # built by hand: authenticity_inputs refuses a timestamp outside its window
    return {**sample_inputs("authenticity"), "timestamp": timestamp, "notBefore": not_before, "notAfter": not_after}


def test_the_timestamp_is_inside_the_public_window():
    t = T0 + 123
    for lo, hi in ((t, t), (t - 1, t), (t, t + 1), (t - 3600, t + 3600), (0, 2**40 - 1)):
        out = public_of("authenticity", window_inputs(t, lo, hi))
        assert (out["notBefore"], out["notAfter"]) == (lo, hi)
        assert out["timestampCommitment"] == timestamp_commitment(t, 555, CONTENT)
    assert_unsatisfiable("authenticity", window_inputs(t, t + 1, t + 3600))  # before the window
    assert_unsatisfiable("authenticity", window_inputs(t, t - 3600, t - 1))  # after it
    assert_unsatisfiable("authenticity", window_inputs(t, t + 1, t - 1))     # empty window


@pytest.mark.parametrize("bound", ["notBefore", "notAfter"])
def test_window_bounds_are_40_bits(bound):
    # Without the bounds' own range checks the two difference checks would accept notBefore =
    # p − (2^40 − t − 1) (then timestamp − notBefore = 2^40 − 1) and notAfter = 2^40 (then
    # notAfter − timestamp < 2^40): a window the contract cannot compare honestly.
    t = T0 + 123
    for value in (2**40, P - 1, P - (2**40 - t - 1)):
        inputs = window_inputs(t, value, t) if bound == "notBefore" else window_inputs(t, t, value)
        assert_unsatisfiable("authenticity", inputs)


def test_authenticity_inputs_check_the_window():
    with pytest.raises(ValueError, match="inside"):
        authenticity_inputs(1, CONTENT, T0, 0, DOMAIN, not_before=T0 + 1, not_after=T0 + 2)
    with pytest.raises(ValueError, match="not_after"):
        authenticity_inputs(1, CONTENT, T0, 0, DOMAIN, not_before=T0, not_after=2**40)
    assert authenticity_inputs(1, CONTENT, T0, 0, DOMAIN)["notBefore"] == T0


@pytest.mark.parametrize("limb", ["contentHashHi", "contentHashLo"])
def test_hash_limbs_are_128_bits(limb):
    inputs = sample_inputs("authenticity")
    public_of("authenticity", {**inputs, limb: 2**128 - 1})
    assert_unsatisfiable("authenticity", {**inputs, limb: 2**128})
    assert_unsatisfiable("authenticity", {**inputs, limb: P - 1})


def test_a_non_canonical_split_of_the_same_hash_is_rejected():
    # hi·2^128 + lo is the same field value with (hi - 1, lo + 2^128): the range checks forbid it.
    inputs = sample_inputs("authenticity")
    assert_unsatisfiable("authenticity", {**inputs, "contentHashHi": inputs["contentHashHi"] - 1,
                                          "contentHashLo": inputs["contentHashLo"] + 2**128})


def test_commitment_depends_on_every_private_input():
    base = public_of("authenticity", sample_inputs("authenticity"))
    for name in ("timestamp", "salt"):
        inputs = sample_inputs("authenticity")
        inputs["notAfter"] += 1  # room for timestamp + 1 (the window is a public signal: compared below)
        base = public_of("authenticity", inputs)
        changed = public_of("authenticity", {**inputs, name: inputs[name] + 1})
        assert changed["timestampCommitment"] != base["timestampCommitment"]
        assert changed["creatorCommitment"] == base["creatorCommitment"]
    inputs = sample_inputs("authenticity")
    other = public_of("authenticity", {**inputs, "creatorSecret": inputs["creatorSecret"] + 1})
    assert other["creatorCommitment"] != base["creatorCommitment"]
