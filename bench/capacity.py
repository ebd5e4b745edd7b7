"""Capacity at 1x, 10x, 100x and 1,000x today's load, from the measured figures (docs/scaling.md).

    uv run python bench/capacity.py     (reads bench/results/*.json, writes bench/results/capacity.json)

A model, not a measurement: each resource's demand at a load level, computed from the benchmarks'
figures (cited by file and key), against what one instance of it supplies. The first resource
past 100% at each level is what gives out first. The assumptions that are not measurements (the
baseline load, the chain's block space, AWS's published limits) are named in ``ASSUMED``.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
OUT = RESULTS / "capacity.json"

# Not measured here: the baseline ("today's load") and published limits.
ASSUMED = {
    "baseline": {"accesses_per_s": 10, "licenses": 1_000, "creators": 100,
                 "note": "today's load, as a nominal production baseline: 10 accesses/s spread evenly over "
                         "1,000 active licenses of 100 creators"},
    "batch_interval_s": 600,  # the usage-batches schedule (docs/design.md: every 10 minutes)
    "batch_size": 64,  # usage_batch circuit slots
    "map_max_concurrency": 4,  # statemachines/usage-batches.asl.json Map MaxConcurrency
    "batch_iteration_s_besides_proving": 20.0,  # prepare + submit + confirm (1 block at ~12 s) + mark, per license
    "block_gas_limit": 30_000_000, "block_time_s": 12.0,  # an Ethereum-L1-like chain
    "chain_share": 0.10,  # the share of the chain's block space the marketplace can expect to buy
    "ddb_item_wcu_per_s": 1_000,  # DynamoDB: one partition (hence one item / one partition key) ≤ 1,000 WCU/s
    "usage_event_wcu": 2,  # the event's put inside a transaction: 2 WCU per ≤1 KB item
    "lambda_concurrency": 1_000,  # default account concurrency per region
    "access_latency_s_in_aws": 0.05,  # Lambda + 5 DynamoDB calls, single-digit ms each, warm
    "api_gateway_rps": 10_000,  # REST API default account throttle per region
}


def load(name: str) -> dict:
    return json.loads((RESULTS / f"{name}.json").read_text())


def measured() -> dict:
    chain, zk, gas, settlement = load("chain"), load("zk"), load("gas"), load("settlement")
    fns = gas["functions"]
    return {
        "relayer_tx_per_s_1_sender": chain["send"]["1"]["tx_per_s"],  # chain.json send.1.tx_per_s
        "relayer_tx_per_s_8_senders": chain["send"]["8"]["tx_per_s"],  # chain.json send.8.tx_per_s
        "lease_held_ms_p50": chain["send"]["8"]["lease_held_ms_p50"],
        "prove_s_usage_batch": zk["circuits"]["usage_batch"]["prove_s"]["groth16py"],  # zk.json
        "settled_uses_per_min_one_machine": settlement["throughput"]["uses_settled_per_minute_settlement_only"],
        "gas_batch": fns["UsageTracker.logUsageBatch (64 uses, 1 signature, steady; pays the batch)"],  # gas.json
        "gas_per_use_at_64": settlement["gas_per_billable_use_at_64"]["gas_json_steady_one_signer"],
    }


POLICIES = {
    # today: every license with a pending use gets a batch on every scheduled run (10 min)
    "today": "a batch per license per 10-minute run",
    # a lift: a license's batch waits for 64 uses or one day, whichever comes first
    "full": "a batch per license at 64 uses or after a day",
}
LIFTS = {  # capacity with the designs of docs/scaling.md
    "relayer nonce sequence (tx/s)": ("a pool of 16 KMS relayer keys, licenses sharded by id", 16),
    "proving: Map iterations (batches/s)": ("a Distributed Map of 1,000 provers, confirmation outside the prover", None),
    "gas per block (gas/s, 10% of a 30M/12s chain)": ("an L2 with 10x the block gas, same 10% share", 10),
    "usage partition of the biggest license (WCU/s)": ("usage pk sharded 8 ways (licenseId#shard)", 8),
    "license counter item of the biggest license (writes/s)": ("the use counter sharded 8 ways", 8),
    "Lambda concurrency (access)": ("a raised account limit (10,000)", 10),
    "API Gateway account throttle (rps)": ("a raised throttle, or regional APIs", 10),
}


def model(factor: int, m: dict, policy: str = "today") -> dict:
    a = ASSUMED
    rps = a["baseline"]["accesses_per_s"] * factor
    licenses = a["baseline"]["licenses"] * factor
    uses_per_license_per_interval = rps * a["batch_interval_s"] / licenses
    if policy == "today":
        batches_per_license = max(1, math.ceil(uses_per_license_per_interval / a["batch_size"]))
        batches_per_s = licenses * batches_per_license / a["batch_interval_s"]
    else:
        per_license_uses_per_s = rps / licenses
        batches_per_s = licenses * max(per_license_uses_per_s / a["batch_size"], 1 / 86_400)
    iteration_s = m["prove_s_usage_batch"] + a["batch_iteration_s_besides_proving"]
    map_batches_per_s = a["map_max_concurrency"] / iteration_s
    gas_per_s = batches_per_s * m["gas_batch"]
    fleet_batches_per_s = 1_000 / (m["prove_s_usage_batch"] + 3.0)  # prove + submit; confirmation waits elsewhere
    chain_gas_per_s = a["block_gas_limit"] / a["block_time_s"] * a["chain_share"]
    # hot items: with the load spread evenly, one license takes rps / licenses; the 1,000x row
    # also shows the biggest buyer at 10% of all traffic on one license
    per_license = rps / licenses
    biggest_license = rps * 0.10
    usage_partition_wcu = biggest_license * a["usage_event_wcu"]
    lambda_conc = rps * a["access_latency_s_in_aws"]
    rows = {
        "relayer nonce sequence (tx/s)": (batches_per_s, m["relayer_tx_per_s_8_senders"]),
        "proving: Map iterations (batches/s)": (batches_per_s, map_batches_per_s),
        "gas per block (gas/s, 10% of a 30M/12s chain)": (gas_per_s, chain_gas_per_s),
        "usage partition of the biggest license (WCU/s)": (usage_partition_wcu, a["ddb_item_wcu_per_s"]),
        "license counter item of the biggest license (writes/s)": (biggest_license, a["ddb_item_wcu_per_s"]),
        "Lambda concurrency (access)": (lambda_conc, a["lambda_concurrency"]),
        "API Gateway account throttle (rps)": (rps, a["api_gateway_rps"]),
    }
    lifted = {k: (c * LIFTS[k][1] if LIFTS[k][1] else fleet_batches_per_s) for k, (_, c) in rows.items()}
    return {"factor": factor, "policy": policy, "accesses_per_s": rps, "licenses": licenses,
            "creators": a["baseline"]["creators"] * factor, "uses_per_license_per_interval": round(
                uses_per_license_per_interval, 2), "per_license_rps": per_license,
            "batches_per_s": round(batches_per_s, 2),
            "rows": {k: {"demand": round(d, 2), "capacity": round(c, 2), "utilisation": round(d / c, 3),
                         "lift": LIFTS[k][0], "capacity_lifted": round(lifted[k], 2),
                         "utilisation_lifted": round(d / lifted[k], 3)} for k, (d, c) in rows.items()}}


def table(levels: list[dict], key: str, title: str) -> None:
    names = list(levels[0]["rows"])
    print(title)
    header = f"{'resource':<56}" + "".join(f"{str(lv['factor']) + 'x':>9}" for lv in levels)
    print(header)
    print("-" * len(header))
    for name in names:
        print(f"{name:<56}" + "".join(f"{lv['rows'][name][key]:>9.2f}" for lv in levels))
    print()


def main() -> int:
    m = measured()
    out: dict = {"assumed": ASSUMED, "measured": m, "policies": POLICIES}
    for policy, what in POLICIES.items():
        levels = [model(f, m, policy) for f in (1, 10, 100, 1000)]
        out[policy] = levels
        table(levels, "utilisation", f"utilisation, {what} (demand / capacity; > 1.00 gives out)")
        if policy == "full":
            table(levels, "utilisation_lifted", f"utilisation with the lifts, {what}")
        summarise(levels)
    OUT.write_text(json.dumps(out, indent=2) + "\n")
    print(f"written to {OUT.relative_to(ROOT)}")
    return 0


def summarise(levels: list[dict]) -> None:
    for lv in levels:
        over = sorted(((r["utilisation"], n) for n, r in lv["rows"].items() if r["utilisation"] > 1), reverse=True)
        first = min(((r["capacity"] / r["demand"] if r["demand"] else math.inf, n) for n, r in lv["rows"].items()))
        print(f"{lv['factor']:>5}x: {lv['accesses_per_s']:>6} accesses/s, {lv['licenses']:>9,} licenses, "
              f"{lv['batches_per_s']:>7} batches/s; closest to its limit: {first[1]}"
              + (f"; past it: {', '.join(n for _, n in over)}" if over else ""))
    print()


if __name__ == "__main__":
    sys.exit(main())
