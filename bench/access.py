"""Content access (Flow 3): latency, throughput, DynamoDB calls per access, import and cold start.

    uv run python bench/access.py [--requests-per-client 60] [--concurrency 1,8,32]   (make bench-access)

Starts the local stack in this process (Hardhat node, moto, the API on a free port; the per-key
rate limit raised so the limiter never refuses), registers a file, offers terms, buys one license
with a permit, then drives ``POST /content/{id}/access`` over HTTP from a separate load process
(``bench/access.py load ...``: N threads, one keep-alive session each, so the load generator does
not share the server's interpreter) at each concurrency:

- ``p50_ms``/``p99_ms``: client-side round trip of one access (API gateway emulation + handler +
  moto), ``rps``: successful accesses per second over the run;
- ``ddb_calls_per_access``: DynamoDB API calls the access function made (counted in the stack's
  process with a botocore ``before-call.dynamodb.*`` hook) divided by the accesses granted;
- ``import_ms``: median over 5 fresh interpreters of ``import handler`` (functions/access), timed
  with ``time.perf_counter`` around the import (interpreter start-up excluded);
- ``first_call_ms``: in a fresh interpreter, the import plus the first access against the stack:
  what a cold start adds before the first answer (boto3 loads lazily, on this first call).

Everything runs on one machine (this one: 2 cores shared with the stack, moto and the load), so the
numbers compare designs here rather than predict AWS. Writes ``bench/results/access.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "results" / "access.json"
IMPORT_RUNS = 5
IMPORT_TARGET_MS = 300
DDB_TARGET = 4


# --------------------------------------------------------------------------------------------
# The load process
# --------------------------------------------------------------------------------------------


def load(url: str, api_key: str, token: str, concurrency: int, per_client: int) -> dict:
    """``concurrency`` threads, each sending ``per_client`` accesses back to back on its own session."""
    import requests

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)
    headers = {"Authorization": f"Bearer {api_key}", "X-License-Token": token}

    def client() -> None:
        session = requests.Session()
        mine, codes = [], {}
        start.wait()
        for _ in range(per_client):
            t0 = time.perf_counter()
            status = session.post(url, headers=headers, timeout=60).status_code
            mine.append((time.perf_counter() - t0) * 1000)
            codes[status] = codes.get(status, 0) + 1
        with lock:
            latencies.extend(mine)
            for k, v in codes.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    return {"latencies_ms": latencies, "statuses": statuses, "elapsed_s": time.perf_counter() - t0}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


# --------------------------------------------------------------------------------------------
# Import time and cold start (fresh interpreters)
# --------------------------------------------------------------------------------------------

_IMPORT = """
import sys, time
sys.path.insert(0, {folder!r})
t = time.perf_counter()
import handler
print((time.perf_counter() - t) * 1000)
"""

_FIRST_CALL = """
import json, sys, time
sys.path.insert(0, {folder!r})
t = time.perf_counter()
import handler
out = handler.handler(json.loads(sys.stdin.read()), None)
print(json.dumps({{"ms": (time.perf_counter() - t) * 1000, "status": out["statusCode"]}}))
"""


def _python(code: str, env: dict[str, str], stdin: str = "") -> str:
    return subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True, text=True, check=True,
                          cwd=ROOT, env=env).stdout.strip().splitlines()[-1]


def import_ms() -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "shared" / "python")}
    folder = str(ROOT / "functions" / "access")
    return [float(_python(_IMPORT.format(folder=folder), env)) for _ in range(IMPORT_RUNS)]


def first_call_ms(stack, content_id: str, api_key: str, token: str) -> dict:
    from marketplace import resources

    from tests.events import api_event

    spec = resources.by_name(resources.FUNCTIONS, "access")
    env = {**os.environ, **stack.functions["access"].env,
           "PYTHONPATH": str(ROOT / "layers" / "shared" / "python")}
    event = api_event("POST", f"/content/{content_id}/access", resource=spec.routes[0].path,
                      headers={"Authorization": f"Bearer {api_key}", "X-License-Token": token})
    return json.loads(_python(_FIRST_CALL.format(folder=str(ROOT / "functions" / "access")), env,
                              stdin=json.dumps(event)))


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    lp = sub.add_parser("load", help="(internal) the load generator")
    for name in ("url", "key", "token"):
        lp.add_argument(f"--{name}", required=True)
    lp.add_argument("--concurrency", type=int, required=True)
    lp.add_argument("--per-client", type=int, required=True)
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--requests-per-client", type=int, default=60)
    parser.add_argument("--min-requests", type=int, default=200, help="at least this many per level")
    args = parser.parse_args(argv)
    if args.command == "load":
        print(json.dumps(load(args.url, args.key, args.token, args.concurrency, args.per_client)))
        return 0
    return bench([int(c) for c in args.concurrency.split(",")], args.requests_per_client, args.min_requests)


def bench(levels: list[int], per_client: int, min_requests: int) -> int:
    os.environ["ACCESS_RATE_LIMIT"] = str(10**9)  # measure the path, not the limiter's refusals
    from marketplace.adapters.aws import client as aws_client

    from local.client import Client
    from local.license_client import LicenseClient
    from local.processes import free_port
    from local.stack import LocalStack

    imports = import_ms()
    print(f"import of functions/access/handler.py: median {statistics.median(imports):.0f} ms "
          f"({', '.join(f'{v:.0f}' for v in imports)})", flush=True)

    stack = LocalStack(port=free_port(), state_dir=Path(tempfile.mkdtemp(prefix="bench-access-")))
    stack.start()
    try:
        api = Client(stack.api_url, timeout=120)
        lc = LicenseClient(api)
        creator, buyer = stack.account("creator1"), stack.account("buyer1")
        creator_jwt, buyer_jwt = api.login(creator.privateKey), api.login(buyer.privateKey)
        record = api.register_file(creator_jwt, os.urandom(64 * 1024), {"title": "bench", "description": "",
                                                                        "tags": []}, filename="bench.bin")
        content_id = record["contentId"]
        total = sum(max(per_client * n, min_requests) for n in levels) + 50
        terms = lc.create_terms(creator_jwt, creator.privateKey, content_id, price_per_use=1, max_uses=total * 2)
        bought = lc.purchase_with_permit(buyer_jwt, buyer.privateKey, terms["termsId"])
        url = f"{stack.api_url}/content/{content_id}/access"
        for _ in range(20):  # warm: handler imported, clients and connections made
            lc.access(content_id, bought["apiKey"], bought["accessToken"])

        calls = {"n": 0}

        def count(**_kwargs):
            calls["n"] += 1

        aws_client("dynamodb").meta.events.register("before-call.dynamodb.*", count)
        results: dict[str, dict] = {}
        granted_total = 0
        for n in levels:
            each = max(per_client, -(-min_requests // n))
            out = json.loads(subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "load", "--url", url, "--key", bought["apiKey"],
                 "--token", bought["accessToken"], "--concurrency", str(n), "--per-client", str(each)],
                capture_output=True, text=True, check=True, cwd=ROOT).stdout)
            granted = out["statuses"].get("200", 0)
            granted_total += granted
            lat = out["latencies_ms"]
            results[str(n)] = {"p50_ms": round(percentile(lat, 50), 1), "p99_ms": round(percentile(lat, 99), 1),
                               "rps": round(granted / out["elapsed_s"], 1), "requests": len(lat),
                               "statuses": out["statuses"]}
            print(f"concurrency {n:>2}: p50 {results[str(n)]['p50_ms']:7.1f} ms  p99 {results[str(n)]['p99_ms']:7.1f} "
                  f"ms  {results[str(n)]['rps']:6.1f} rps  ({len(lat)} requests, statuses {out['statuses']})",
                  flush=True)
        ddb = calls["n"] / granted_total
        cold = first_call_ms(stack, content_id, bought["apiKey"], bought["accessToken"])
    finally:
        stack.stop()

    report = {
        "concurrency": results,
        "ddb_calls_per_access": round(ddb, 3),
        "import_ms": round(statistics.median(imports), 1),
        "import_ms_samples": [round(v, 1) for v in imports],
        "first_call_ms": round(cold["ms"], 1),
        "targets": {"ddb_calls_per_access": DDB_TARGET, "import_ms": IMPORT_TARGET_MS},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "notes": "local stack on one machine: API gateway emulation, in-process handlers, moto server (its "
                 "DynamoDB serialised by a lock), load from a separate process; latencies are client-side",
    }
    print(f"DynamoDB calls per access: {ddb:.3f} (target ≤ {DDB_TARGET}); first call in a fresh interpreter "
          f"{cold['ms']:.0f} ms (status {cold['status']})")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
