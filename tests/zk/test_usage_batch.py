"""Usage batch circuit (N = 64): flags, window, ranges, credential, sequence indices, chain."""

from __future__ import annotations

import pytest
from marketplace.zk.field import P
from marketplace.zk.inputs import BatchRecord, credential_commitment
from tests.support.zk_samples import (
    CREDENTIAL_SECRET,
    DOMAIN,
    HOUR,
    LICENSE_ID,
    T0,
    assert_unsatisfiable,
    public_of,
    usage_sample,
)

pytestmark = [pytest.mark.zk, pytest.mark.usefixtures("built_keys")]
N = 64


def test_valid_batch_extends_the_chain_like_the_backend_record():
    inputs = usage_sample(10, start_index=7, chain_old=12345)
    out = public_of("usage_batch", inputs)
    record = BatchRecord.from_usage_inputs(inputs)
    assert out["chainNew"] == record.next_chain(12345)
    assert (out["chainOld"], out["startIndex"], out["count"]) == (12345, 7, 10)
    assert out["credentialCommitment"] == credential_commitment(CREDENTIAL_SECRET, LICENSE_ID)
    assert (out["windowStart"], out["windowEnd"], out["domain"]) == (T0, T0 + HOUR, DOMAIN)


@pytest.mark.parametrize("n", [1, N])
def test_count_edges_are_accepted(n):
    assert public_of("usage_batch", usage_sample(n, window=(T0, T0 + 2 * HOUR)))["count"] == n


def test_count_must_equal_the_used_slots():
    inputs = usage_sample(10)
    assert_unsatisfiable("usage_batch", {**inputs, "count": 9})
    assert_unsatisfiable("usage_batch", {**inputs, "count": 11})


def test_an_empty_batch_is_rejected():
    inputs = usage_sample(1)
    assert_unsatisfiable("usage_batch", {**inputs, "count": 0, "enabled": [0] * N})


def test_flags_must_be_a_boolean_prefix():
    inputs = usage_sample(10)
    holed = list(inputs["enabled"])
    holed[5], holed[10] = 0, 1          # same count, a hole in the middle
    assert_unsatisfiable("usage_batch", {**inputs, "enabled": holed})
    two = list(inputs["enabled"])
    two[9], two[8] = 0, 2               # sums to 10 with a non-boolean flag
    assert_unsatisfiable("usage_batch", {**inputs, "enabled": two})
    minus = list(inputs["enabled"])
    minus[10], minus[11] = P - 1, 2     # -1 + 2 = 1 extra: still 11 slots "used"
    assert_unsatisfiable("usage_batch", {**inputs, "enabled": minus, "count": 10})


def _with_timestamp(inputs: dict, slot: int, t: int) -> dict:
    ts = list(inputs["timestamps"])
    ts[slot] = t
    return {**inputs, "timestamps": ts}


def test_window_edges_are_inclusive():
    inputs = usage_sample(10)
    public_of("usage_batch", _with_timestamp(inputs, 0, T0))
    public_of("usage_batch", _with_timestamp(inputs, 9, T0 + HOUR))


@pytest.mark.parametrize("t", [T0 - 1, T0 + HOUR + 1, 0, 2**40, P - 1, P - 1 - T0])
def test_timestamps_outside_the_window_are_rejected(t):
    assert_unsatisfiable("usage_batch", _with_timestamp(usage_sample(10), 3, t))


def test_unused_slots_are_unconstrained_padding():
    # A padded slot's timestamp is not an event: any value leaves the proof (and chain) unchanged.
    inputs = usage_sample(10)
    assert (public_of("usage_batch", _with_timestamp(inputs, 20, P - 1))["chainNew"]
            == public_of("usage_batch", inputs)["chainNew"])


def test_start_index_is_32_bits():
    inputs = usage_sample(1)
    public_of("usage_batch", {**inputs, "startIndex": 2**32 - 1})
    assert_unsatisfiable("usage_batch", {**inputs, "startIndex": 2**32})


def test_window_bounds_are_range_checked():
    inputs = usage_sample(1, window=(0, 2**40 - 1))
    public_of("usage_batch", inputs)
    assert_unsatisfiable("usage_batch", {**inputs, "windowEnd": 2**40})
    # windowStart = -1 (p - 1) would pass both difference checks (t + 1 < 2^40): only the
    # range check on windowStart stops a window "starting before 0".
    assert_unsatisfiable("usage_batch", {**inputs, "windowStart": P - 1})


def test_an_inverted_window_is_rejected():
    inputs = usage_sample(1)
    assert_unsatisfiable("usage_batch", {**inputs, "windowStart": T0 + 10, "windowEnd": T0 + 5,
                                         "timestamps": [T0 + 7] + [0] * (N - 1)})


def test_the_credential_must_open_the_license_commitment():
    inputs = usage_sample(5)
    assert_unsatisfiable("usage_batch", {**inputs, "credentialSecret": CREDENTIAL_SECRET + 1})
    assert_unsatisfiable("usage_batch", {**inputs, "licenseIdField": inputs["licenseIdField"] + 1})
    assert_unsatisfiable("usage_batch", {**inputs, "credentialCommitment": inputs["credentialCommitment"] + 1})


def test_sequence_indices_bind_the_chain():
    """A use is identified by its sequence index (nullifier = Poseidon(secret, index)). The same
    events at another start index make another chain value, so a batch cannot be re-counted
    under a different index; and two batches that both start at usesSoFar cannot both extend
    the same chain value (the contract forces startIndex == usesSoFar)."""
    a = public_of("usage_batch", usage_sample(10, start_index=0))
    b = public_of("usage_batch", usage_sample(10, start_index=10))
    assert a["chainNew"] != b["chainNew"]
    again = public_of("usage_batch", usage_sample(10, start_index=10, chain_old=a["chainNew"]))
    assert again["chainOld"] == a["chainNew"] and again["chainNew"] != a["chainNew"]


def test_every_event_detail_is_bound():
    base = public_of("usage_batch", usage_sample(10))["chainNew"]
    inputs = usage_sample(10)
    hashes = list(inputs["callHashes"])
    hashes[4] += 1
    assert public_of("usage_batch", {**inputs, "callHashes": hashes})["chainNew"] != base
    assert public_of("usage_batch", _with_timestamp(inputs, 4, inputs["timestamps"][4] + 1))["chainNew"] != base
