"""Zero-knowledge benchmark (`make bench-zk`): every circuit, both provers, py_ecc and on-chain verification.

    uv run python bench/zk.py [--runs 3] [--circuit NAME ...]

Per circuit, medians of --runs runs (at least 3), all against the same key (build/circuits), on
the tests' sample inputs (tests/zk/zk_samples.py) except the usage batch, which is full (64 events):
  constraints   from the build manifest
  witness_s     witness computation (circom .wasm under wasmtime, in-process)
  prove_s       groth16py: marketplace.zk.prove end to end with warm keys (witness + proof);
                snarkjs: `snarkjs groth16 fullprove` (its own witness + proof, a Node process)
  verify_s      marketplace.zk.verify (py_ecc: one multi-Miller loop, one final exponentiation)
  verify_gas    estimate_gas of verifyProof on the generated verifier, on a Hardhat node
and aggregate_1247_prove_s: proving aggregate stats over 1,247 usage events (20 batches of ≤ 64,
4 licenses), the batch records made from real usage-batch inputs.
Writes bench/results/zk.json. Keys load once per process (not timed in prove_s); their load
times are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import groth16py

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from marketplace.zk import load_circuit, prove, verify
from marketplace.zk.folds import aggregate_outputs, prove_aggregate, verify_aggregate
from marketplace.zk.inputs import (
    BatchRecord,
    LicenseBatches,
    fold_chain,
    usage_batch_inputs,
)
from tests.support.zk_samples import DOMAIN, HOUR, T0, events, sample_inputs, usage_sample

from circuits.verifier_contracts import compile_verifiers, deploy, verify_args
from local.processes import HardhatNode

CIRCUITS = ["authenticity", "credential", "usage_batch", "compliance", "aggregate"]
RESULTS = ROOT / "bench" / "results" / "zk.json"
TARGETS = {"usage_batch_prove_s": 3.0, "speedup_vs_snarkjs": 1.5, "aggregate_1247_prove_s": 5.0,
           "verify_s": 0.8}


def median_time(fn, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def aggregate_1247_licenses() -> list[LicenseBatches]:
    """1,247 events as 20 batches (19 × 64 + 31) spread over 4 licenses, proven in order per
    license; each record is what the backend keeps after a real usage-batch proof's inputs."""
    counts = [64] * 19 + [31]
    licenses = []
    for s in range(4):
        secret, license_id = 1000 + s, bytes([s + 1]) * 32
        records, chain, index = [], 0, 0
        for j, count in enumerate(counts[s::4]):
            ws = T0 + (4 * j + s) * HOUR
            inputs = usage_batch_inputs(secret, license_id, chain, index, events(count, start=ws, step=50),
                                        ws, ws + HOUR, DOMAIN)
            record = BatchRecord.from_usage_inputs(inputs)
            records.append(record)
            chain, index = record.next_chain(chain), index + count
        licenses.append(LicenseBatches(records, 1_000_000 * (s + 1), fold_chain(records)))
    assert sum(r.count for lic in licenses for r in lic.records) == 1247
    return licenses


def bench_inputs(name: str) -> dict:
    """The tests' sample inputs, except that the usage batch is full (64 events, no padding): the
    proving target is stated for a 64-event batch."""
    return usage_sample(64) if name == "usage_batch" else sample_inputs(name)


def bench_circuit(name: str, runs: int) -> tuple[dict, object]:
    """Timings of one circuit (verify_gas is filled in later, on chain); returns them and a proof."""
    c = load_circuit(name)
    inputs = bench_inputs(name)
    if name == "usage_batch":
        assert inputs["count"] == 64
    wasm_s, _ = median_time(lambda: c.witness, 1)
    pk_s, _ = median_time(lambda: c.proving_key, 1)
    pk_load_s, _ = median_time(lambda: groth16py.ProvingKey.load(str(c.path(".pk"))), 1)
    witness_s, _ = median_time(lambda: c.witness.calculate(inputs), runs)
    g_s, result = median_time(lambda: prove(name, inputs, backend="groth16py"), runs)
    s_s, reference = median_time(lambda: prove(name, inputs, backend="snarkjs"), runs)
    assert reference.public_signals == result.public_signals
    v_s, ok = median_time(lambda: verify(name, result.proof, result.public_signals), runs)
    assert ok and verify(name, reference.proof, reference.public_signals)
    print(f"  {name:<13} {c.manifest['constraints']:>6} constraints  witness {witness_s:6.3f} s  "
          f"groth16py {g_s:6.3f} s  snarkjs {s_s:6.3f} s  ({s_s / g_s:4.2f}x)  py_ecc verify {v_s:5.3f} s"
          f"   [load: wasm {wasm_s:.2f} s, key from .zkey {pk_s:.2f} s (from .pk {pk_load_s:.2f} s)]",
          flush=True)
    figures = {
        "constraints": c.manifest["constraints"],
        "witness_s": round(witness_s, 3),
        "prove_s": {"groth16py": round(g_s, 3), "snarkjs": round(s_s, 3)},
        "verify_s": round(v_s, 3),
        "verify_gas": None,
    }
    return figures, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="zero-knowledge benchmark")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--circuit", action="append", choices=CIRCUITS)
    args = parser.parse_args(argv)
    runs = max(3, args.runs)
    circuits = args.circuit or CIRCUITS

    print(f"zk bench: {runs} runs per figure, load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs (other work on the machine inflates the timings)", flush=True)
    results: dict = {"circuits": {}}
    proofs = {}
    for name in circuits:
        results["circuits"][name], proofs[name] = bench_circuit(name, runs)

    # On-chain verification gas, one node for all verifiers.
    contracts = {n: load_circuit(n).manifest["verifier_contract"] for n in circuits}
    artifacts = compile_verifiers(list(contracts.values()))
    node = HardhatNode().start()
    try:
        from web3 import Web3

        w3 = Web3(Web3.HTTPProvider(node.url))
        sender = w3.eth.accounts[0]
        for name, contract_name in contracts.items():
            contract = deploy(w3, artifacts[contract_name], sender)
            call = contract.functions.verifyProof(*verify_args(proofs[name].proof, proofs[name].public_signals))
            assert call.call() is True
            results["circuits"][name]["verify_gas"] = call.estimate_gas({"from": sender})
    finally:
        node.stop()

    if "aggregate" in circuits:
        licenses = aggregate_1247_licenses()
        agg_s, chunks = median_time(lambda: prove_aggregate(licenses, DOMAIN), runs)
        assert aggregate_outputs(chunks).total_uses == 1247
        assert verify_aggregate(chunks, chains=[lic.chain for lic in licenses],
                                prices=[lic.price_per_use for lic in licenses], domain=DOMAIN)
        results["aggregate_1247_prove_s"] = round(agg_s, 3)
    else:
        results["aggregate_1247_prove_s"] = None

    print()
    print(f"{'circuit':<13} {'constraints':>11} {'witness s':>10} {'groth16py s':>12} {'snarkjs s':>10} "
          f"{'speedup':>8} {'verify s':>9} {'verify gas':>11}")
    for name, r in results["circuits"].items():
        g, s = r["prove_s"]["groth16py"], r["prove_s"]["snarkjs"]
        print(f"{name:<13} {r['constraints']:>11} {r['witness_s']:>10.3f} {g:>12.3f} {s:>10.3f} "
              f"{s / g:>7.2f}x {r['verify_s']:>9.3f} {r['verify_gas']:>11}")
    if results["aggregate_1247_prove_s"] is not None:
        print(f"aggregate over 1,247 events (20 batches): {results['aggregate_1247_prove_s']:.3f} s")

    print("\ntargets:")
    checks = []
    if "usage_batch" in results["circuits"]:
        ub = results["circuits"]["usage_batch"]
        checks += [
            ("usage_batch proved with witness ≤ 3 s", ub["prove_s"]["groth16py"], ub["prove_s"]["groth16py"] <= 3.0),
            ("usage_batch ≥ 1.5x faster than snarkjs fullprove",
             ub["prove_s"]["snarkjs"] / ub["prove_s"]["groth16py"],
             ub["prove_s"]["snarkjs"] / ub["prove_s"]["groth16py"] >= 1.5),
        ]
    if results["aggregate_1247_prove_s"] is not None:
        checks.append(("aggregate over 1,247 events ≤ 5 s", results["aggregate_1247_prove_s"],
                       results["aggregate_1247_prove_s"] <= 5.0))
    worst = max(r["verify_s"] for r in results["circuits"].values())
    checks.append(("py_ecc verification ≤ 0.8 s (slowest circuit)", worst, worst <= 0.8))
    for what, value, ok in checks:
        print(f"  {'met ' if ok else 'MISSED'} {what}: {value:.3f}")

    if args.circuit:
        print(f"\n(partial run: {RESULTS.relative_to(ROOT)} not written)")
        return 0
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
