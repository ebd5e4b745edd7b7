"""Compliance (Flow 5) and aggregate (Flow 6) proofs end to end: `make bench-proofs`.

    uv run python bench/proofs.py [--runs 3] [--only NAME ...]

Each row is a function in ROWS (taking the number of runs, with a `title` attribute) returning one
table row (a dict with at least "name" = its title and "median_s"); the results are written to bench/results/proofs.json as {"what", "date", "machine",
"rows": [...]}. A row is measured end to end as the API would: witnesses and chunk inputs, every
chunk's Groth16 proof (groth16py, chunks in parallel threads: `workers`), then py_ecc verification
of the whole sequence (timed separately). Keys are warmed first (a warm Lambda's state). More rows
(the verify endpoint, PDF generation) are added by appending functions to ROWS; `--only` runs some,
keeping the other rows already in the file.

Targets on this 2-core machine: aggregate of 1,247 uses over 5 licensees ≤ 2 s, 10,000 uses over
50 licensees ≤ 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from marketplace.zk import warm
from marketplace.zk.field import domain as field_domain
from marketplace.zk.folds import (
    aggregate_outputs,
    compliance_outputs,
    default_workers,
    prove_aggregate,
    prove_compliance,
    verify_aggregate,
    verify_compliance,
)
from marketplace.zk.inputs import BatchRecord, LicenseBatches, fold_chain

OUT = ROOT / "bench" / "results" / "proofs.json"
DOMAIN = field_domain(31337, "0x" + "5f" * 20)
T0 = 1_735_689_600
HOUR = 3600
BATCH = 64


def batches_of(uses: int) -> list[int]:
    """`uses` as full 64-use batches and one remainder (the usage batches' size)."""
    return [BATCH] * (uses // BATCH) + ([uses % BATCH] if uses % BATCH else [])


def licenses_with(uses_per_license: list[int]) -> list[LicenseBatches]:
    """Licenses with their batch records (synthetic digests: folding costs the same for any value),
    on-chain chains and prices, as the API passes them to prove_aggregate."""
    out = []
    for s, uses in enumerate(uses_per_license):
        records = [BatchRecord(1_000 * (s + 1) + j, c, T0 + (s + j) * HOUR, T0 + (s + j + 1) * HOUR)
                   for j, c in enumerate(batches_of(uses))]
        out.append(LicenseBatches(records, 1_000 * (s + 1), fold_chain(records)))
    return out


def spread(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


CPU_TIMES: list[float] = []   # CPU seconds (all threads) of each timed call, in order


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(fn: Callable[[], object], runs: int) -> tuple[list[float], object]:
    """Wall seconds of each run (and, in CPU_TIMES, the process's CPU seconds: on a shared
    machine the wall time depends on the load, the CPU time much less)."""
    times, out = [], None
    CPU_TIMES.clear()
    for _ in range(runs):
        c = _cpu()
        t = time.perf_counter()
        out = fn()
        times.append(round(time.perf_counter() - t, 3))
        CPU_TIMES.append(round(_cpu() - c, 3))
    return times, out


def aggregate_row(name: str, uses: int, licensees: int, target_s: float | None) -> Callable[[int], dict]:
    def row(runs: int) -> dict:
        licenses = licenses_with(spread(uses, licensees))
        workers = default_workers()
        times, chunks = timed(lambda: prove_aggregate(licenses, DOMAIN, workers=workers), runs)
        cpu = statistics.median(CPU_TIMES)
        out = aggregate_outputs(chunks)
        assert (out.total_uses, out.unique_licensees) == (uses, licensees)
        chains, prices = [lic.chain for lic in licenses], [lic.price_per_use for lic in licenses]
        v_times, ok = timed(lambda: verify_aggregate(chunks, chains=chains, prices=prices, domain=DOMAIN), runs)
        assert ok
        median = statistics.median(times)
        return {"name": name, "proof": "aggregate", "uses": uses, "licensees": licensees,
                "batches": sum(len(lic.records) for lic in licenses), "chunks": len(chunks), "workers": workers,
                "median_s": round(median, 3), "runs_s": times, "cpu_median_s": round(cpu, 3),
                "verify_median_s": round(statistics.median(v_times), 3),
                "target_s": target_s, "meets_target": None if target_s is None else median <= target_s}
    row.title = name  # type: ignore[attr-defined]
    return row


def compliance_row(name: str, uses: int) -> Callable[[int], dict]:
    def row(runs: int) -> dict:
        records = licenses_with([uses])[0].records
        terms = {"max_uses": uses, "price_per_use": 2_500, "valid_from": T0, "valid_until": T0 + 1000 * HOUR}
        chain = fold_chain(records)
        workers = default_workers()
        times, chunks = timed(lambda: prove_compliance(records, chain=chain, domain=DOMAIN, workers=workers,
                                                       **terms), runs)
        cpu = statistics.median(CPU_TIMES)
        out = compliance_outputs(chunks)
        assert out.total_uses == uses and out.compliant
        v_times, ok = timed(lambda: verify_compliance(chunks, chain=chain, domain=DOMAIN, **terms), runs)
        assert ok
        return {"name": name, "proof": "compliance", "uses": uses, "licensees": 1, "batches": len(records),
                "chunks": len(chunks), "workers": workers, "median_s": round(statistics.median(times), 3),
                "runs_s": times, "cpu_median_s": round(cpu, 3), "verify_median_s": round(statistics.median(v_times), 3), "target_s": None,
                "meets_target": None}
    row.title = name  # type: ignore[attr-defined]
    return row


ROWS: list[Callable[[int], dict]] = [
    aggregate_row("aggregate: 1,247 uses / 5 licensees", 1_247, 5, 2.0),
    aggregate_row("aggregate: 10,000 uses / 50 licensees", 10_000, 50, 10.0),
    compliance_row("compliance: 1,000 uses", 1_000),
    compliance_row("compliance: 5,000 uses", 5_000),
]


# -- the proofs API (issue 10): verification endpoint and report PDF --------------------------------


def _api_world(uses: int, licensees: int):
    """The proofs API in process (function proofs-api's handler through the HTTP kit) over an
    in-memory chain and stores (tests/support/proofs_fakes.py), with one recorded aggregate proof of
    `uses` over `licensees`: what a GET /verify/proof/{id} costs besides the chain's and DynamoDB's
    round trips (not measured here)."""
    from marketplace.kit.http import HttpFunction
    from marketplace.proofs import routes
    from marketplace.proofs.engine import FoldsEngine
    from marketplace.proofs.fakes import (
        MemoryContentInfo,
        MemoryLicenseRecords,
        MemoryProofStore,
        MemoryReportFiles,
    )
    from marketplace.proofs.services import Proofs
    from marketplace.usage.fakes import MemoryBatchRecords

    from tests.support.proofs_fakes import MemoryChain

    chain, batches = MemoryChain(), MemoryBatchRecords()
    content_id, creator = "0x" + "cc" * 32, "0x" + "c1" * 20
    chain.creators[content_id] = creator
    for s, lic in enumerate(licenses_with(spread(uses, licensees))):
        license_id = "0x" + f"{s + 1:064x}"
        start = 0
        for r in lic.records:
            batches.put(license_id, start, r.to_dict(), batch_id="0x" + f"{start:064x}", tx_hash=None)
            start += r.count
        chain.licenses[license_id] = {"contentId": content_id, "licensee": "0x" + "b1" * 20, "validFrom": T0,
                                      "validUntil": T0 + 10_000 * HOUR, "revoked": False, "chain": lic.chain,
                                      "uses": start, "maxUses": 100_000, "pricePerUse": lic.price_per_use}
        chain.used.setdefault(content_id, []).append(license_id)
    svc = Proofs(engine=FoldsEngine(), chain=chain, store=MemoryProofStore(), files=MemoryReportFiles(),
                 licenses=MemoryLicenseRecords(), batches=batches, content=MemoryContentInfo(),
                 public_base_url="https://market.example")
    _, proof = svc.generate_aggregate(creator, content_id, "aggregate_usage", ["totalUses"])
    routes.proofs = lambda: svc  # the route module's service, for this process only
    return svc, HttpFunction(routes.api).handler, proof["proofId"]


def verify_endpoint_row(name: str, uses: int, licensees: int, cached: bool) -> Callable[[int], dict]:
    def row(runs: int) -> dict:
        from local.lambdas import LambdaContext
        from tests.events import api_event

        svc, handler, proof_id = _api_world(uses, licensees)
        event = api_event("GET", f"/verify/proof/{proof_id}", resource="/verify/proof/{proofId}")
        n = max(runs, 15)
        handler(event, LambdaContext("proofs-api"))  # warm (and cached)

        def call() -> None:
            if not cached:
                svc.store.items.pop(f"verified#{proof_id}", None)
            out = handler(event, LambdaContext("proofs-api"))
            assert out["statusCode"] == 200 and json.loads(out["body"])["verified"] is True

        times = []  # (timed() rounds to milliseconds: a cached answer takes less)
        for _ in range(n):
            t = time.perf_counter()
            call()
            times.append(time.perf_counter() - t)
        return {"name": name, "proof": "aggregate", "uses": uses, "licensees": licensees,
                "chunks": len(svc.verified(proof_id)["chunks"]), "median_s": round(statistics.median(times), 6),
                "p50_ms": round(statistics.median(times) * 1000, 3), "p90_ms": round(sorted(times)[int(0.9 * n)] * 1000, 3),
                "runs_s": [round(x, 6) for x in times], "cached": cached,
                "note": "GET /verify/proof/{id} through the kit in process; chain and proofs table in memory",
                "target_s": None, "meets_target": None}
    row.title = name  # type: ignore[attr-defined]
    return row


def report_pdf_row(name: str) -> Callable[[int], dict]:
    def row(runs: int) -> dict:
        from marketplace.proofs import qr
        from marketplace.proofs.report import render

        checks = [{"name": n, "title": t, "passed": True, "detail": "every use paid: 64 uses, 64000 base units",
                   "sources": ["proof: totalUses", "chain: LicenseManager", "platform: served uses"], "figures": {}}
                  for n, t in (("usage_limit", "Usage within maxUses"), ("validity", "Usage inside the validity"),
                               ("payment", "Every use paid"))]
        url = "https://market.example/verify/0x" + "ab" * 32
        report = {"reportId": "rpt_" + "0" * 24, "licenseId": "0x" + "11" * 32, "contentId": "0x" + "cc" * 32,
                  "contentTitle": "Street scenes", "period": {"from": "2025-01-01T00:00:00Z", "to": "2025-12-31T00:00:00Z"},
                  "terms": {"maxUses": 1000, "pricePerUse": 1000, "validFrom": T0, "validUntil": T0 + 1000 * HOUR,
                            "revoked": False},
                  "compliant": True, "checks": checks, "violations": [],
                  "totals": {"provenUses": 64, "totalPaid": 64_000, "paidUses": 64, "paidAmount": 64_000,
                             "servedUses": 64, "periodUses": 64, "periodBatches": 1},
                  "proofId": "0x" + "ab" * 32, "txHash": "0x" + "cd" * 32, "chunks": 1, "verificationUrl": url,
                  "filesUrl": url.replace("/verify/", "/verify/proof/") + "/files", "linkage": "one chunk",
                  "generatedAt": "2025-06-01T00:00:00Z", "generatedAtTs": T0}
        n = max(runs, 10)
        times, pdf = timed(lambda: render(report, qr.png(url)), n)
        return {"name": name, "median_s": round(statistics.median(times), 4), "runs_s": times,
                "pdf_bytes": len(pdf), "note": "fpdf2 report with its QR code (segno PNG), one chunk",
                "target_s": None, "meets_target": None}
    row.title = name  # type: ignore[attr-defined]
    return row


ROWS += [
    verify_endpoint_row("verify endpoint p50: uncached (py_ecc)", 1_247, 5, cached=False),
    verify_endpoint_row("verify endpoint p50: cached", 1_247, 5, cached=True),
    report_pdf_row("compliance report PDF generation"),
]


def machine(load_at_start: list[float]) -> dict:
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "load_average_at_start": load_at_start,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}


def print_table(rows: list[dict]) -> None:
    print(f"{'row':<40} {'batches':>7} {'chunks':>6} {'workers':>7} {'median s':>9} {'cpu s':>7} {'verify s':>9} "
          f"{'target':>7}")
    for r in rows:
        target = "" if r.get("target_s") is None else (f"≤{r['target_s']:g} " + ("ok" if r["meets_target"] else "NO"))
        print(f"{r['name']:<40} {r.get('batches', ''):>7} {r.get('chunks', ''):>6} {r.get('workers', ''):>7} "
              f"{r['median_s']:>9.3f} {r.get('cpu_median_s', float('nan')):>7.3f} "
              f"{r.get('verify_median_s', float('nan')):>9.3f} {target:>7}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per row (median), default 3")
    parser.add_argument("--only", action="append", help="run only rows whose name contains this (repeatable)")
    args = parser.parse_args(argv)
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    warmup = {c: round(warm(c), 3) for c in ("aggregate", "compliance")}
    rows_by_name: dict[str, dict] = {}
    if args.only and OUT.is_file():
        rows_by_name = {r["name"]: r for r in json.loads(OUT.read_text()).get("rows", [])}
    selected = [r for r in ROWS if not args.only or any(o in getattr(r, "title", "") for o in args.only)]
    measured = []
    for row in selected:
        result = row(args.runs)
        measured.append(result)
        rows_by_name[result["name"]] = result
        print_table([result])
    rows = list(rows_by_name.values())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "what": "compliance and aggregate proofs end to end (chunk inputs, witnesses, groth16py proofs of every "
                "chunk in parallel threads; py_ecc verification of the sequence timed apart), keys warm; median_s "
                "is wall time, cpu_median_s the process's CPU time (all threads)",
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "machine": machine(load_at_start), "runs": args.runs,
        "key_load_s": warmup, "rows": rows}, indent=2) + "\n")
    print()
    print_table(rows)
    print(f"\nwrote {OUT.relative_to(ROOT)}")
    return 0 if all(r.get("meets_target") in (None, True) for r in measured) else 1


if __name__ == "__main__":
    sys.exit(main())
