"""Compliance chunks (ComplianceChunk(B = 32)): the verdict is truthful, the records are exactly the
chain's, and the chunks of a license with any number of batches link into one proof."""

from __future__ import annotations

import pytest
from marketplace.zk import WitnessError
from marketplace.zk.field import P
from marketplace.zk.folds import (
    chunks_from_call,
    compliance_call_args,
    compliance_chunk_inputs_all,
    compliance_outputs,
    prove_compliance,
    verify_compliance,
)
from marketplace.zk.inputs import (
    COMPLIANCE_B,
    BatchRecord,
    ComplianceState,
    compliance_chunk_inputs,
    fold_chain,
)

from tests.support.zk_samples import (
    COMPLIANCE_BATCHES,
    COMPLIANCE_TERMS,
    DOMAIN,
    HOUR,
    T0,
    assert_unsatisfiable,
    compliance_sample,
    public_of,
    records_sample,
)

pytestmark = [pytest.mark.zk, pytest.mark.usefixtures("built_keys")]
TOTAL = sum(b[0] for b in COMPLIANCE_BATCHES)  # 77
OUTPUTS = ("totalUses", "totalPaid", "compliant")


def verdict(**overrides) -> dict:
    return public_of("compliance", compliance_sample(**overrides))


def many_records(n: int, count: int = 64, start: int = T0) -> list[BatchRecord]:
    """n consecutive one-hour batches (synthetic digests: the fold takes any field values)."""
    return [BatchRecord(7_000 + j, count, start + j * HOUR, start + (j + 1) * HOUR) for j in range(n)]


def chunk_inputs(records: list[BatchRecord], chain: int | None = None, **terms) -> list[dict]:
    terms = {**COMPLIANCE_TERMS, **terms}
    return compliance_chunk_inputs_all(records, chain=fold_chain(records) if chain is None else chain,
                                       domain=DOMAIN, **terms)


def run(inputs: list[dict]) -> list[dict]:
    return [public_of("compliance", i) for i in inputs]


# --- one chunk: the verdict ----------------------------------------------------------------------

def test_compliant_license():
    out = verdict()
    assert out["totalUses"] == TOTAL
    assert out["totalPaid"] == TOTAL * COMPLIANCE_TERMS["price_per_use"]
    assert out["compliant"] == 1
    assert out["chain"] == fold_chain(records_sample(COMPLIANCE_BATCHES))
    assert out["stateIn"] == 0 and out["final"] == 1


def test_max_uses_edge():
    assert verdict(max_uses=TOTAL)["compliant"] == 1
    over = verdict(max_uses=TOTAL - 1)
    assert over["compliant"] == 0 and over["totalUses"] == TOTAL   # a truthful "no"


def test_validity_edges():
    first_start, last_end = COMPLIANCE_BATCHES[0][1], COMPLIANCE_BATCHES[-1][2]
    assert verdict(valid_from=first_start, valid_until=last_end)["compliant"] == 1
    assert verdict(valid_from=first_start + 1)["compliant"] == 0
    assert verdict(valid_until=last_end - 1)["compliant"] == 0


def test_an_inverted_batch_window_is_non_compliant():
    records = records_sample(COMPLIANCE_BATCHES)
    records[1] = BatchRecord(records[1].digest, records[1].count, T0 + 2 * HOUR, T0 + HOUR)
    (out,) = run(chunk_inputs(records))
    assert out["compliant"] == 0 and out["totalUses"] == TOTAL


def test_no_batches_is_zero_uses_and_compliant():
    (out,) = run(chunk_inputs([]))
    assert (out["chain"], out["totalUses"], out["totalPaid"], out["compliant"]) == (0, 0, 0, 1)


def test_records_must_fold_to_the_chain():
    records = records_sample(COMPLIANCE_BATCHES)
    chain = fold_chain(records)
    run(chunk_inputs(records, chain))
    # drop the last batch (hiding uses), drop the first, swap two, invent one, alter a count
    smaller = BatchRecord(records[1].digest, records[1].count - 1, records[1].window_start, records[1].window_end)
    for forged in (records[:-1], records[1:], [records[1], records[0], records[2]], records + [records[0]],
                   [records[0], smaller, records[2]]):
        (inputs,) = chunk_inputs(forged, chain)
        assert_unsatisfiable("compliance", inputs)


def test_a_hidden_record_after_a_gap_is_rejected():
    inputs = compliance_sample()
    enabled = list(inputs["enabled"])
    enabled[1], enabled[5] = 0, 1
    assert_unsatisfiable("compliance", {**inputs, "enabled": enabled})


@pytest.mark.parametrize("name,bad", [("maxUses", 2**32), ("pricePerUse", 2**96), ("validFrom", 2**40),
                                      ("validUntil", 2**40), ("validFrom", P - 1), ("final", 2)])
def test_public_terms_are_range_checked(name, bad):
    assert_unsatisfiable("compliance", {**compliance_sample(), name: bad})


def test_record_fields_are_range_checked_even_when_they_fold():
    # A record whose count is 2^32 (never produced by usage_batch): folding alone would accept
    # it, the range check does not.
    with pytest.raises(ValueError):  # the builder refuses it too
        compliance_chunk_inputs([BatchRecord(5, 2**32, T0, T0 + HOUR)], None, 1, final=True, chain=0,
                                domain=DOMAIN, **COMPLIANCE_TERMS)
    (inputs,) = chunk_inputs([BatchRecord(5, 1, T0, T0 + HOUR)])
    public_of("compliance", inputs)
    forged = [BatchRecord(5, 2**32, T0, T0 + HOUR)]
    assert_unsatisfiable("compliance", {**inputs, "counts": [2**32] + inputs["counts"][1:],
                                        "chain": fold_chain(forged)})
    late = [BatchRecord(5, 1, T0, 2**40)]
    assert_unsatisfiable("compliance", {**inputs, "windowEnds": [2**40] + inputs["windowEnds"][1:],
                                        "chain": fold_chain(late)})


# --- many chunks: the fold across states ---------------------------------------------------------

def test_seventy_batches_in_three_linked_chunks():
    records = many_records(70, count=3)   # 210 uses, > 32 batches
    terms = {"max_uses": 210, "valid_until": T0 + 100 * HOUR}
    outs = run(chunk_inputs(records, **terms))
    assert len(outs) == 3 == -(-70 // COMPLIANCE_B)
    assert outs[0]["stateIn"] == 0
    assert [o["stateIn"] for o in outs[1:]] == [o["stateOut"] for o in outs[:-1]]
    assert [o["final"] for o in outs] == [0, 0, 1]
    for o in outs[:-1]:   # a non-final chunk reveals nothing but its state commitment
        assert [o[k] for k in OUTPUTS] == [0, 0, 0]
    assert [outs[-1][k] for k in OUTPUTS] == [210, 210 * COMPLIANCE_TERMS["price_per_use"], 1]
    # one use over the maximum, or one window outside the validity in the first chunk: a truthful 0
    assert run(chunk_inputs(records, max_uses=209, valid_until=T0 + 100 * HOUR))[-1]["compliant"] == 0
    late = [*records[:5], BatchRecord(9, 3, T0 - 1, T0 + HOUR), *records[6:]]
    assert run(chunk_inputs(late, **terms))[-1]["compliant"] == 0


def test_dropped_invented_altered_or_reordered_record_in_an_earlier_chunk_fails_the_last():
    records = many_records(40)
    chain = fold_chain(records)
    altered = BatchRecord(records[3].digest, 63, records[3].window_start, records[3].window_end)
    for forged in (records[:3] + records[4:],                       # dropped (in chunk 0)
                   records[:10] + [BatchRecord(1, 1, T0, T0 + HOUR)] + records[10:],   # invented
                   records[:3] + [altered] + records[4:],           # altered count
                   records[:3] + [records[4], records[3]] + records[5:]):   # reordered
        inputs = chunk_inputs(forged, chain, valid_until=T0 + 100 * HOUR)
        for i in inputs[:-1]:
            public_of("compliance", i)          # an intermediate chunk does not know the chain...
        assert_unsatisfiable("compliance", inputs[-1])   # ...the last one's fold misses it


def test_the_carried_state_must_open():
    inputs = chunk_inputs(many_records(40), valid_until=T0 + 100 * HOUR)
    second = inputs[1]
    public_of("compliance", second)
    # a wrong partial chain, fewer uses so far, or a cleared "bad" flag under the same stateIn
    for name, value in (("partialIn", second["partialIn"] + 1), ("usesIn", second["usesIn"] - 1),
                        ("badIn", 1)):
        assert_unsatisfiable("compliance", {**second, name: value})
    # the initial state (stateIn 0) is all zero
    first = inputs[0]
    assert_unsatisfiable("compliance", {**first, "usesIn": 5})
    assert_unsatisfiable("compliance", {**first, "partialIn": 123})
    # the last chunk cannot be proved as final when its fold misses the chain, and a middle
    # chunk proved as final must end at the chain too
    assert_unsatisfiable("compliance", {**inputs[-1], "chain": inputs[-1]["chain"] + 1})
    assert_unsatisfiable("compliance", {**inputs[0], "final": 1})


def test_wrong_partial_with_a_matching_state_breaks_the_link():
    """A prover may hash any state it likes as stateIn; the chunk is then satisfiable, but its
    stateIn is not the previous chunk's stateOut, which the verifier and the contract check."""
    records = many_records(40)
    inputs = chunk_inputs(records, valid_until=T0 + 100 * HOUR)
    outs = run(inputs)
    second = inputs[1]
    fake = ComplianceState(second["usesIn"] - 64, 0, fold_chain(records[1:32]), 99)
    forged = {**second, "stateIn": fake.commitment(), "usesIn": fake.uses, "partialIn": fake.partial,
              "saltIn": fake.salt}
    with pytest.raises(WitnessError):   # it no longer reaches the chain
        public_of("compliance", forged)
    assert public_of("compliance", {**forged, "chain": fold_chain(records[1:])})["stateIn"] != outs[0]["stateOut"]


# --- proofs: prove, verify, the contract's call ---------------------------------------------------

def test_prove_and_verify_two_chunks():
    records = many_records(33, count=30)   # 990 uses in 33 batches: 2 chunks
    terms = {**COMPLIANCE_TERMS, "max_uses": 1000, "valid_until": T0 + 40 * HOUR}
    seen = []
    chunks = prove_compliance(records, chain=fold_chain(records), domain=DOMAIN, workers=2,
                              progress=lambda done, total: seen.append((done, total)), **terms)
    assert len(chunks) == 2 and seen[0] == (0, 2) and seen[-1] == (2, 2)
    out = compliance_outputs(chunks)
    assert (out.total_uses, out.total_paid, out.compliant) == (990, 990 * terms["price_per_use"], True)
    context = {"chain": fold_chain(records), "domain": DOMAIN, **terms}
    assert verify_compliance(chunks, **context)
    # the contract's arguments carry every chunk back
    assert chunks_from_call("compliance", compliance_call_args(chunks)) == chunks
    # broken linkage, a missing chunk, chunks out of order, another context: refused
    assert not verify_compliance(chunks[:1], **context)
    assert not verify_compliance(chunks[1:], **context)
    assert not verify_compliance(chunks[::-1], **context)
    assert not verify_compliance(chunks, **{**context, "max_uses": 999})
    assert not verify_compliance(chunks, **{**context, "chain": 1})
    tampered = [chunks[0], type(chunks[1])("compliance", chunks[1].proof,
                                           [chunks[1].public_signals[0], 989, *chunks[1].public_signals[2:]])]
    assert not verify_compliance(tampered, **context)


def test_bad_inputs_raise_witness_errors():
    records = many_records(3)
    with pytest.raises(WitnessError):
        prove_compliance(records, chain=fold_chain(records) + 1, domain=DOMAIN, **COMPLIANCE_TERMS)
    with pytest.raises(WitnessError):
        prove_compliance([BatchRecord(1, 2**32, T0, T0)], chain=0, domain=DOMAIN, **COMPLIANCE_TERMS)
