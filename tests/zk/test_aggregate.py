"""Aggregate circuit (M = 32 records, L = 8 licenses): statistics over exactly the chains' batches."""

from __future__ import annotations

import pytest
from marketplace.zk.field import P
from marketplace.zk.inputs import BatchRecord, LicenseBatches, aggregate_inputs, fold_chain
from tests.support.zk_samples import DOMAIN, HOUR, T0, aggregate_licenses, assert_unsatisfiable, public_of

pytestmark = [pytest.mark.zk, pytest.mark.usefixtures("built_keys")]


def expected(licenses: list[LicenseBatches]) -> dict:
    records = [r for lic in licenses for r in lic.records]
    return {
        "totalUses": sum(r.count for r in records),
        "totalRevenue": sum(r.count * lic.price_per_use for lic in licenses for r in lic.records),
        "uniqueLicensees": sum(1 for lic in licenses if sum(r.count for r in lic.records) > 0),
        "fromTs": min((r.window_start for r in records), default=0),
        "toTs": max((r.window_end for r in records), default=0),
    }


def outputs(inputs: dict) -> dict:
    out = public_of("aggregate", inputs)
    return {k: out[k] for k in ("totalUses", "totalRevenue", "uniqueLicensees", "fromTs", "toTs")}


def test_statistics_over_three_licenses():
    licenses = aggregate_licenses()
    out = public_of("aggregate", aggregate_inputs(licenses, DOMAIN))
    assert {k: out[k] for k in expected(licenses)} == expected(licenses)
    assert out["uniqueLicensees"] == 3 and out["fromTs"] == T0 and out["toTs"] == T0 + 11 * HOUR
    assert [out[f"chains[{s}]"] for s in range(3)] == [fold_chain(lic.records) for lic in licenses]
    assert [out[f"chains[{s}]"] for s in range(3, 8)] == [0] * 5


def test_nothing_to_aggregate():
    assert outputs(aggregate_inputs([], DOMAIN)) == dict.fromkeys(expected([]), 0)


def test_records_may_interleave_across_slots_in_any_order():
    inputs = aggregate_inputs(aggregate_licenses(), DOMAIN)
    order = [3, 0, 2, 1] + list(range(4, 32))   # per-slot order kept: slot 0's records 0 then 1
    shuffled = {**inputs, **{k: [inputs[k][i] for i in order]
                             for k in ("slotOf", "digests", "counts", "windowStarts", "windowEnds")}}
    assert outputs(shuffled) == outputs(inputs)


def test_min_max_pick_the_extremes():
    lic = [LicenseBatches([BatchRecord(1, 3, T0 + 50, T0 + 60), BatchRecord(2, 3, T0 + 10, T0 + 20),
                           BatchRecord(3, 3, T0 + 30, T0 + 90)], 7)]
    out = outputs(aggregate_inputs(lic, DOMAIN))
    assert (out["fromTs"], out["toTs"], out["totalUses"], out["totalRevenue"]) == (T0 + 10, T0 + 90, 9, 63)


def test_records_must_fold_to_each_slot_chain():
    licenses = aggregate_licenses()
    chains = [fold_chain(lic.records) for lic in licenses]
    # drop a record of license 0 but keep its on-chain chain value
    dropped = [LicenseBatches(licenses[0].records[:1], licenses[0].price_per_use, chains[0]), *licenses[1:]]
    assert_unsatisfiable("aggregate", aggregate_inputs(dropped, DOMAIN))
    # move license 2's record to license 1's slot
    moved = [licenses[0],
             LicenseBatches(licenses[1].records + licenses[2].records, licenses[1].price_per_use, chains[1]),
             LicenseBatches([], licenses[2].price_per_use, chains[2])]
    assert_unsatisfiable("aggregate", aggregate_inputs(moved, DOMAIN))
    # an empty slot claimed to have a chain, or a chain claimed empty
    assert_unsatisfiable("aggregate", aggregate_inputs([*licenses, LicenseBatches([], 1, chains[0])], DOMAIN))
    assert_unsatisfiable("aggregate", aggregate_inputs([LicenseBatches([], 1, chains[0])], DOMAIN))


def test_slot_selection_is_one_hot_and_matches_enabled():
    inputs = aggregate_inputs(aggregate_licenses(), DOMAIN)
    two = [list(row) for row in inputs["slotOf"]]
    two[0][5] = 1                               # record 0 in two slots
    assert_unsatisfiable("aggregate", {**inputs, "slotOf": two})
    padded = [list(row) for row in inputs["slotOf"]]
    padded[10][0] = 1                           # an unused record tagged with a slot
    assert_unsatisfiable("aggregate", {**inputs, "slotOf": padded})
    nonbool = [list(row) for row in inputs["slotOf"]]
    nonbool[0] = [0] * 8
    nonbool[0][0], nonbool[0][1] = 2, P - 1     # sums to 1 without being one-hot
    assert_unsatisfiable("aggregate", {**inputs, "slotOf": nonbool})


@pytest.mark.parametrize("name,index,bad", [("prices", 0, 2**96), ("prices", 7, P - 1)])
def test_prices_are_96_bits(name, index, bad):
    inputs = aggregate_inputs(aggregate_licenses(), DOMAIN)
    values = list(inputs[name])
    values[index] = bad
    assert_unsatisfiable("aggregate", {**inputs, name: values})


def test_full_capacity_and_20_batches_of_1247_events():
    # The spec's headline case: 1,247 events as 20 batches (19 × 64 + 31) over 4 licenses.
    counts = [64] * 19 + [31]
    assert sum(counts) == 1247
    licenses = []
    for s in range(4):
        mine = counts[s::4]
        recs = [BatchRecord(1000 * s + j, c, T0 + j * HOUR, T0 + j * HOUR + 59) for j, c in enumerate(mine)]
        licenses.append(LicenseBatches(recs, 1_000_000 + s))
    out = outputs(aggregate_inputs(licenses, DOMAIN))
    assert out == expected(licenses) and out["totalUses"] == 1247


@pytest.mark.parametrize("name,bad", [("counts", 2**32), ("windowStarts", 2**40), ("windowEnds", 2**40),
                                      ("windowStarts", P - 1)])
def test_record_fields_are_range_checked_even_when_they_fold(name, bad):
    """Records usage_batch never produces, although the slot's chain folds over them: one past
    each range fails. Without the per-record range checks a count of 2^32 and a window start of
    p - 1 would be accepted (checked on a mutant build of the circuit: LessThan(40) takes p - 1
    for -1, so the minimum would be "before 0")."""
    good = {"counts": 1, "windowStarts": T0, "windowEnds": T0 + HOUR}
    inputs = aggregate_inputs([LicenseBatches([BatchRecord(5, *good.values())], 7)], DOMAIN)
    outputs(inputs)
    record = BatchRecord(5, *{**good, name: bad}.values())
    forged = {**inputs, name: [bad] + inputs[name][1:], "chains": [fold_chain([record])] + inputs["chains"][1:]}
    assert_unsatisfiable("aggregate", forged)
