"""Aggregate chunks (AggregateChunk(M = 32, L = 8)): statistics over exactly the chains' batches of
any number of licenses, as chunks linked by a state commitment and a license cursor."""

from __future__ import annotations

from itertools import pairwise

import pytest
from marketplace.zk import WitnessError
from marketplace.zk.field import P
from marketplace.zk.folds import (
    ChunkProof,
    aggregate_call_args,
    aggregate_chunk_inputs_all,
    aggregate_outputs,
    aggregate_record_signals,
    chunks_from_call,
    prove_aggregate,
    verify_aggregate,
)
from marketplace.zk.inputs import (
    AGGREGATE_L,
    AGGREGATE_M,
    AggregateState,
    BatchRecord,
    LicenseBatches,
    aggregate_chunk_inputs,
    fold_chain,
    plan_aggregate_chunks,
)

from tests.support.zk_samples import (
    DOMAIN,
    HOUR,
    T0,
    aggregate_licenses,
    aggregate_sample,
    assert_unsatisfiable,
    public_of,
)

pytestmark = [pytest.mark.zk, pytest.mark.usefixtures("built_keys")]
OUTPUTS = ("totalUses", "totalRevenue", "uniqueLicensees", "fromTs", "toTs")


def expected(licenses: list[LicenseBatches]) -> dict:
    records = [r for lic in licenses for r in lic.records]
    return {
        "totalUses": sum(r.count for r in records),
        "totalRevenue": sum(r.count * lic.price_per_use for lic in licenses for r in lic.records),
        "uniqueLicensees": len(licenses),
        "fromTs": min((r.window_start for r in records), default=0),
        "toTs": max((r.window_end for r in records), default=0),
    }


def outputs(out: dict) -> dict:
    return {k: out[k] for k in OUTPUTS}


def run(inputs: list[dict]) -> list[dict]:
    return [public_of("aggregate", i) for i in inputs]


def licenses_of(counts_per_license: list[list[int]], base_price: int = 1_000_000) -> list[LicenseBatches]:
    """Licenses with synthetic records (the fold takes any field values), with their chains."""
    out = []
    for s, counts in enumerate(counts_per_license):
        recs = [BatchRecord(1_000 * s + j + 1, c, T0 + (s + j) * HOUR, T0 + (s + j + 1) * HOUR)
                for j, c in enumerate(counts)]
        out.append(LicenseBatches(recs, base_price + s, fold_chain(recs)))
    return out


# --- one chunk ------------------------------------------------------------------------------------

def test_statistics_over_three_licenses():
    licenses = aggregate_licenses()
    out = public_of("aggregate", aggregate_sample())
    assert outputs(out) == expected(licenses)
    assert out["uniqueLicensees"] == 3 and out["fromTs"] == T0 and out["toTs"] == T0 + 11 * HOUR
    assert (out["stateIn"], out["cursorIn"], out["cursorOut"], out["final"]) == (0, 0, 3, 1)
    assert [out[f"chains[{s}]"] for s in range(3)] == [fold_chain(lic.records) for lic in licenses]
    assert [out[f"chains[{s}]"] for s in range(3, 8)] == [0] * 5


def test_nothing_to_aggregate():
    (inputs,) = aggregate_chunk_inputs_all([], DOMAIN)
    assert outputs(public_of("aggregate", inputs)) == dict.fromkeys(OUTPUTS, 0)


def test_records_of_one_license_may_not_be_reordered_but_licenses_interleave():
    inputs = aggregate_sample()
    base = outputs(public_of("aggregate", inputs))
    fields = ("slotOf", "digests", "counts", "windowStarts", "windowEnds")
    order = [2, 0, 3, 1] + list(range(4, 32))   # license 0's records 0 then 1 kept in order
    assert outputs(public_of("aggregate", {**inputs, **{k: [inputs[k][i] for i in order] for k in fields}})) == base
    swapped = [1, 0] + list(range(2, 32))       # license 0's two records swapped
    assert_unsatisfiable("aggregate", {**inputs, **{k: [inputs[k][i] for i in swapped] for k in fields}})


def test_min_max_pick_the_extremes():
    recs = [BatchRecord(1, 3, T0 + 50, T0 + 60), BatchRecord(2, 3, T0 + 10, T0 + 20), BatchRecord(3, 3, T0 + 30, T0 + 90)]
    (inputs,) = aggregate_chunk_inputs_all([LicenseBatches(recs, 7)], DOMAIN)
    out = public_of("aggregate", inputs)
    assert (out["fromTs"], out["toTs"], out["totalUses"], out["totalRevenue"]) == (T0 + 10, T0 + 90, 9, 63)


def test_records_must_fold_to_each_slot_chain():
    licenses = aggregate_licenses()
    chains = [fold_chain(lic.records) for lic in licenses]
    price = licenses[0].price_per_use
    r1 = licenses[0].records[1]
    smaller = BatchRecord(r1.digest, r1.count - 1, r1.window_start, r1.window_end)
    invented = BatchRecord(42, 1, T0, T0 + HOUR)
    for forged0 in (licenses[0].records[:1],                       # dropped
                    licenses[0].records + [invented],              # invented
                    [licenses[0].records[0], smaller],             # altered
                    licenses[0].records[::-1]):                    # reordered
        forged = [LicenseBatches(forged0, price, chains[0]), *licenses[1:]]
        (inputs,) = aggregate_chunk_inputs_all(forged, DOMAIN)
        assert_unsatisfiable("aggregate", inputs)
    # license 2's record moved to license 1
    moved = [licenses[0], LicenseBatches(licenses[1].records + licenses[2].records, 1, chains[1]),
             LicenseBatches(licenses[2].records, 1, chains[2])]
    (inputs,) = aggregate_chunk_inputs_all(moved, DOMAIN)
    assert_unsatisfiable("aggregate", inputs)


def test_slot_selection_is_one_hot_and_matches_enabled():
    inputs = aggregate_sample()
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
    inputs = aggregate_sample()
    values = list(inputs[name])
    values[index] = bad
    assert_unsatisfiable("aggregate", {**inputs, name: values})


@pytest.mark.parametrize("name,bad", [("counts", 2**32), ("windowStarts", 2**40), ("windowEnds", 2**40),
                                      ("windowStarts", P - 1), ("counts", 0)])
def test_record_fields_are_range_checked_even_when_they_fold(name, bad):
    """Records usage_batch never produces, although the slot's chain folds over them: one past
    each range (and a count of 0, which would count a licensee without uses) fails."""
    good = {"counts": 1, "windowStarts": T0, "windowEnds": T0 + HOUR}
    (inputs,) = aggregate_chunk_inputs_all([LicenseBatches([BatchRecord(5, *good.values())], 7)], DOMAIN)
    public_of("aggregate", inputs)
    record = BatchRecord(5, *{**good, name: bad}.values())
    forged = {**inputs, name: [bad] + inputs[name][1:], "chains": [fold_chain([record])] + inputs["chains"][1:]}
    assert_unsatisfiable("aggregate", forged)


def test_1247_uses_over_5_licensees_is_one_chunk():
    counts = [[64, 64, 64, 57], [64, 64, 64, 58], [64, 64, 64, 57], [64, 64, 64, 57], [64, 64, 64, 58]]
    licenses = licenses_of(counts)
    assert sum(map(sum, counts)) == 1247
    inputs = aggregate_chunk_inputs_all(licenses, DOMAIN)
    assert len(inputs) == 1
    assert outputs(public_of("aggregate", inputs[0])) == expected(licenses)


# --- many chunks ------------------------------------------------------------------------------------

def test_twelve_licensees_and_a_license_split_across_chunks():
    # 12 licensees (more than a chunk's 8 slots); license 2 has 40 batches (more than a chunk's 32)
    counts = [[5, 7], [64], [3] * 40, [1], [2, 2], [64, 64], [9], [1, 1, 1], [4], [6], [7, 8], [10]]
    licenses = licenses_of(counts)
    plans = plan_aggregate_chunks(licenses)
    # some chunk leaves a license partial (records in slot k) for the next one to finish
    assert len(plans) >= 3 and any(slot == p.cursor_out - p.cursor_in for p in plans for slot, _ in p.records)
    outs = run(aggregate_chunk_inputs_all(licenses, DOMAIN))
    assert outs[0]["stateIn"] == 0 and outs[0]["cursorIn"] == 0 and outs[-1]["cursorOut"] == 12
    for prev, nxt in pairwise(outs):
        assert nxt["stateIn"] == prev["stateOut"] and nxt["cursorIn"] == prev["cursorOut"]
    assert [o["final"] for o in outs] == [0] * (len(outs) - 1) + [1]
    for o in outs[:-1]:   # a non-final chunk reveals nothing but its state commitment and cursors
        assert outputs(o) == dict.fromkeys(OUTPUTS, 0)
    assert outputs(outs[-1]) == expected(licenses)
    # the chains and prices of each chunk's window are the licenses' from cursorIn on
    for plan, o in zip(plans, outs, strict=True):
        window = licenses[plan.cursor_in:plan.cursor_in + AGGREGATE_L]
        assert [o[f"chains[{s}]"] for s in range(len(window))] == [lic.chain for lic in window]
        assert [o[f"prices[{s}]"] for s in range(len(window))] == [lic.price_per_use for lic in window]


@pytest.mark.parametrize("counts,cursors", [
    ([[1] * 32, [1]], [(0, 1, 0), (1, 2, 1)]),                       # a chunk ends exactly at a license's end
    ([[1]] * 8 + [[1, 1]], [(0, 8, 0), (8, 9, 1)]),                   # all 8 slots complete (k = L)
    ([[1] * 70], [(0, 0, 0), (0, 0, 0), (0, 1, 1)]),                  # one license over three chunks
])
def test_chunk_boundaries(counts, cursors):
    licenses = licenses_of(counts)
    inputs = aggregate_chunk_inputs_all(licenses, DOMAIN)
    assert [(i["cursorIn"], i["cursorOut"], i["final"]) for i in inputs] == cursors
    outs = run(inputs)
    assert outputs(outs[-1]) == expected(licenses)
    assert all(nxt["stateIn"] == prev["stateOut"] for prev, nxt in pairwise(outs))


def split_case() -> tuple[list[LicenseBatches], list[dict]]:
    """Two chunks: license 0 complete, license 1 partial in chunk 0 (31 + 9 records)."""
    licenses = licenses_of([[1], [2] * 40, [3]])
    inputs = aggregate_chunk_inputs_all(licenses, DOMAIN)
    assert [(i["cursorIn"], i["cursorOut"], i["final"]) for i in inputs] == [(0, 1, 0), (1, 3, 1)]
    return licenses, inputs


def test_a_dropped_or_altered_record_in_a_split_license_fails():
    licenses, _ = split_case()
    recs = licenses[1].records
    altered = BatchRecord(recs[5].digest, 3, recs[5].window_start, recs[5].window_end)
    for forged1 in (recs[:5] + recs[6:], recs[:5] + [altered] + recs[6:], recs[:5] + [recs[6], recs[5]] + recs[7:],
                    recs + [BatchRecord(9, 1, T0, T0)]):
        forged = [licenses[0], LicenseBatches(forged1, licenses[1].price_per_use, licenses[1].chain), licenses[2]]
        inputs = aggregate_chunk_inputs_all(forged, DOMAIN)
        public_of("aggregate", inputs[0])           # the partial chain is not checked yet...
        assert_unsatisfiable("aggregate", inputs[-1])   # ...the chunk completing the license is


def test_the_carried_state_must_open_and_link():
    licenses, inputs = split_case()
    first, _ = run(inputs)
    chunk = inputs[1]
    for name, value in (("partialIn", chunk["partialIn"] + 1), ("usesIn", chunk["usesIn"] - 1),
                        ("revenueIn", chunk["revenueIn"] + 1), ("fromIn", chunk["fromIn"] + 1)):
        assert_unsatisfiable("aggregate", {**chunk, name: value})
    assert_unsatisfiable("aggregate", {**inputs[0], "usesIn": 1})   # stateIn 0 is the all-zero state
    # a state hashed by the prover with a wrong partial (license 1 with its first record dropped)
    # is satisfiable only with that partial's chain, and never links to the first chunk
    recs = licenses[1].records
    fake = AggregateState(chunk["usesIn"] - 2, chunk["revenueIn"] - 2 * licenses[1].price_per_use,
                          chunk["fromIn"], chunk["toIn"], fold_chain(recs[1:31]), 5)
    forged = {**chunk, "stateIn": fake.commitment(), "usesIn": fake.uses, "revenueIn": fake.revenue,
              "partialIn": fake.partial, "saltIn": fake.salt}
    assert_unsatisfiable("aggregate", forged)
    chains = list(chunk["chains"])
    chains[0] = fold_chain(recs[1:])
    assert public_of("aggregate", {**forged, "chains": chains})["stateIn"] != first["stateOut"]


def test_final_needs_no_partial_and_cursors_are_honest():
    _, inputs = split_case()
    first = inputs[0]
    assert_unsatisfiable("aggregate", {**first, "final": 1})          # license 1 left half-folded
    # claim license 1 complete in chunk 0 (k = 2): its chain is not reached
    assert_unsatisfiable("aggregate", {**first, "cursorOut": 2, "kSel": [0, 0, 1] + [0] * 6})
    # claim nothing complete (k = 0): license 0 in slot 0 would be the partial, but slot 1 has records
    assert_unsatisfiable("aggregate", {**first, "cursorOut": 0, "kSel": [1] + [0] * 8})
    # k must be one-hot and equal cursorOut - cursorIn
    assert_unsatisfiable("aggregate", {**first, "cursorOut": 2})
    assert_unsatisfiable("aggregate", {**first, "kSel": [0, 1, 1] + [0] * 6})
    assert_unsatisfiable("aggregate", {**inputs[1], "final": 2})


def test_a_padding_slot_cannot_be_counted_as_a_licensee():
    licenses = licenses_of([[1]])
    plan = plan_aggregate_chunks(licenses)[0]
    inputs, _ = aggregate_chunk_inputs(plan, None, 3, DOMAIN)
    assert public_of("aggregate", inputs)["uniqueLicensees"] == 1
    # claim slot 1 (chain 0: past the list) complete too: uniqueLicensees would be 2
    assert_unsatisfiable("aggregate", {**inputs, "cursorOut": 2, "kSel": [0, 0, 1] + [0] * 6})


# --- proofs ---------------------------------------------------------------------------------------

def test_prove_verify_and_the_contract_call_round_trip():
    licenses = licenses_of([[64, 64], [64] * 3, [1], [2], [3], [4], [5], [6], [7], [8]])   # 10 licensees
    chains = [lic.chain for lic in licenses]
    prices = [lic.price_per_use for lic in licenses]
    seen = []
    chunks = prove_aggregate(licenses, DOMAIN, workers=2, progress=lambda d, t: seen.append((d, t)))
    assert len(chunks) == 2 and seen[-1] == (2, 2)
    out = aggregate_outputs(chunks)
    exp = expected(licenses)
    assert (out.total_uses, out.total_revenue, out.unique_licensees, out.from_ts, out.to_ts) == tuple(exp.values())
    assert verify_aggregate(chunks, chains=chains, prices=prices, domain=DOMAIN)
    assert chunks_from_call("aggregate", aggregate_call_args(chunks)) == chunks
    assert chunks_from_call("aggregate", {"contentId": b"x", "chunks": [
        {"proof": c.proof.calldata(), "signals": c.public_signals} for c in chunks]}) == chunks
    assert aggregate_record_signals(chunks)[:5] == list(exp.values())
    # linkage, completeness, the chains and prices of the chain: each refused
    assert not verify_aggregate(chunks[:1], chains=chains, prices=prices, domain=DOMAIN)
    assert not verify_aggregate(chunks[::-1], chains=chains, prices=prices, domain=DOMAIN)
    assert not verify_aggregate(chunks, chains=chains + [5], prices=prices + [1], domain=DOMAIN)
    assert not verify_aggregate(chunks, chains=chains, prices=[prices[0] + 1, *prices[1:]], domain=DOMAIN)
    assert not verify_aggregate(chunks, chains=[chains[0], chains[1], 7, *chains[3:]], prices=prices, domain=DOMAIN)
    assert not verify_aggregate(chunks, chains=chains, prices=prices, domain=DOMAIN + 1)
    # a chunk's public signals changed to the other chains/prices: the proof no longer verifies
    s = list(chunks[1].public_signals)
    s[1] += 1
    assert not verify_aggregate([chunks[0], ChunkProof("aggregate", chunks[1].proof, s)],
                                chains=chains, prices=prices, domain=DOMAIN)


def test_bad_inputs_raise_witness_errors():
    licenses = licenses_of([[1, 2]])
    with pytest.raises(WitnessError):
        prove_aggregate([LicenseBatches(licenses[0].records, 1, licenses[0].chain + 1)], DOMAIN)
    with pytest.raises(WitnessError):
        prove_aggregate([LicenseBatches([], 1, 0)], DOMAIN)   # a used license has a batch
    assert AGGREGATE_M == 32 and AGGREGATE_L == 8
