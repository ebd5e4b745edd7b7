"""Compliance circuit (B = 32): the verdict is truthful, the records are exactly the chain's."""

from __future__ import annotations

import pytest
from marketplace.zk.field import P
from marketplace.zk.inputs import BatchRecord, compliance_inputs, fold_chain
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


def verdict(**overrides) -> dict:
    return public_of("compliance", compliance_sample(**overrides))


def test_compliant_license():
    out = verdict()
    assert out["totalUses"] == TOTAL
    assert out["totalPaid"] == TOTAL * COMPLIANCE_TERMS["price_per_use"]
    assert out["compliant"] == 1
    assert out["chain"] == fold_chain(records_sample(COMPLIANCE_BATCHES))


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
    bad = BatchRecord(records[1].digest, records[1].count, T0 + 2 * HOUR, T0 + HOUR)
    records[1] = bad
    out = public_of("compliance", compliance_inputs(records, domain=DOMAIN, **COMPLIANCE_TERMS))
    assert out["compliant"] == 0


def test_no_batches_is_zero_uses_and_compliant():
    out = public_of("compliance", compliance_inputs([], domain=DOMAIN, **COMPLIANCE_TERMS))
    assert (out["chain"], out["totalUses"], out["totalPaid"], out["compliant"]) == (0, 0, 0, 1)


def test_records_must_fold_to_the_chain():
    records = records_sample(COMPLIANCE_BATCHES)
    chain = fold_chain(records)
    terms = {**COMPLIANCE_TERMS, "domain": DOMAIN, "chain": chain}
    public_of("compliance", compliance_inputs(records, **terms))
    # drop the last batch (hiding uses), drop the first, swap two, invent one, alter a count
    assert_unsatisfiable("compliance", compliance_inputs(records[:-1], **terms))
    assert_unsatisfiable("compliance", compliance_inputs(records[1:], **terms))
    assert_unsatisfiable("compliance", compliance_inputs([records[1], records[0], records[2]], **terms))
    assert_unsatisfiable("compliance", compliance_inputs(records + [records[0]], **terms))
    smaller = BatchRecord(records[1].digest, records[1].count - 1, records[1].window_start, records[1].window_end)
    assert_unsatisfiable("compliance", compliance_inputs([records[0], smaller, records[2]], **terms))


def test_a_hidden_record_after_a_gap_is_rejected():
    inputs = compliance_sample()
    enabled = list(inputs["enabled"])
    enabled[1], enabled[5] = 0, 1
    assert_unsatisfiable("compliance", {**inputs, "enabled": enabled})


@pytest.mark.parametrize("name,bad", [("maxUses", 2**32), ("pricePerUse", 2**96), ("validFrom", 2**40),
                                      ("validUntil", 2**40), ("validFrom", P - 1)])
def test_public_terms_are_range_checked(name, bad):
    assert_unsatisfiable("compliance", {**compliance_sample(), name: bad})


def test_record_fields_are_range_checked_even_when_they_fold():
    # A record whose count is 2^32 (never produced by usage_batch): folding alone would accept
    # it, the range check does not.
    records = [BatchRecord(5, 2**32, T0, T0 + HOUR)]
    with pytest.raises(ValueError):  # the builder refuses it too
        compliance_inputs(records, domain=DOMAIN, **COMPLIANCE_TERMS)
    inputs = compliance_inputs([BatchRecord(5, 1, T0, T0 + HOUR)], domain=DOMAIN, **COMPLIANCE_TERMS)
    public_of("compliance", inputs)
    counts = [2**32] + inputs["counts"][1:]
    assert_unsatisfiable("compliance", {**inputs, "counts": counts, "chain": fold_chain(records)})
    late = [BatchRecord(5, 1, T0, 2**40)]
    ends = [2**40] + inputs["windowEnds"][1:]
    assert_unsatisfiable("compliance", {**inputs, "windowEnds": ends, "chain": fold_chain(late)})
