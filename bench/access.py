"""Content access (Flow 3): latency, throughput, DynamoDB calls per access, import and cold start.

    uv run python bench/access.py [--requests-per-client 60] [--concurrency 1,8,32]   (make bench-access)

Starts the local stack in this process (Hardhat node, moto, the API on a free port; the per-key
rate limit raised so the limiter never refuses), registers a file, offers terms, buys one license
with a permit, registers one worker key per client thread as a usage signer of the license (a
worker's counter is sequential, so parallel clients never share one), then drives
``POST /content/{id}/access`` over HTTP from a separate load process (``bench/access.py load ...``:
N threads, one keep-alive session and one worker key each, so the load generator does not share the
server's interpreter) at each concurrency. Every access is signed (EIP-712 ``AccessRequest``, the
worker's next counter) before its clock starts; ``sign_ms`` is that signing time on its own:

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
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.common import machine, percentile

OUT = ROOT / "bench" / "results" / "access.json"
IMPORT_RUNS = 5
IMPORT_TARGET_MS = 300
DDB_TARGET = 4


# --------------------------------------------------------------------------------------------
# The load process
# --------------------------------------------------------------------------------------------


def load(url: str, api_key: str, workers_file: str, concurrency: int, per_client: int) -> dict:
    """``concurrency`` threads, each sending ``per_client`` signed accesses back to back on its own
    session with its own worker key (``workers_file``: keys, served counters and the signing domain;
    the counters reached are written back)."""
    import requests
    from marketplace.usage.client_signing import WorkerKey, access_headers

    spec = json.loads(Path(workers_file).read_text())
    license_id, chain_id, manager = spec["licenseId"], int(spec["chainId"]), spec["verifyingContract"]
    workers = spec["workers"][:concurrency]
    path = url.split("://", 1)[1].split("/", 1)[1]
    latencies: list[float] = []
    signing: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)

    def client(worker: dict) -> None:
        session = requests.Session()
        key = WorkerKey(bytes.fromhex(worker["privateKey"][2:]))
        mine, signed_ms, codes = [], [], {}
        start.wait()
        for _ in range(per_client):
            s0 = time.perf_counter()
            usage = access_headers(key, license_id, worker["served"] + 1, chain_id, manager, path="/" + path)
            signed_ms.append((time.perf_counter() - s0) * 1000)
            t0 = time.perf_counter()
            resp = session.post(url, headers={"Authorization": f"Bearer {api_key}", **usage}, timeout=60)
            mine.append((time.perf_counter() - t0) * 1000)
            codes[resp.status_code] = codes.get(resp.status_code, 0) + 1
            if resp.status_code == 200:
                worker["served"] += 1
            elif resp.status_code == 409:  # out of step: resync from the API's expectedCounter
                worker["served"] = resp.json()["details"]["expectedCounter"] - 1
        with lock:
            latencies.extend(mine)
            signing.extend(signed_ms)
            for k, v in codes.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=client, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    Path(workers_file).write_text(json.dumps(spec))
    return {"latencies_ms": latencies, "sign_ms": signing, "statuses": statuses, "elapsed_s": elapsed}



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
import json, sys, time, types
sys.path.insert(0, {folder!r})
context = types.SimpleNamespace(  # what Powertools reads of the runtime's context object
    function_name="zkdm-local-access", memory_limit_in_mb=512, function_version="$LATEST",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:zkdm-local-access",
    aws_request_id="bench-first-call", get_remaining_time_in_millis=lambda: 29000)
t = time.perf_counter()
import handler
out = handler.handler(json.loads(sys.stdin.read()), context)
print(json.dumps({{"ms": (time.perf_counter() - t) * 1000, "status": out["statusCode"]}}))
"""


def _python(code: str, env: dict[str, str], stdin: str = "") -> str:
    done = subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True, text=True, check=False,
                          cwd=ROOT, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"a fresh interpreter failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


def import_ms() -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "layers" / "shared" / "python")}
    folder = str(ROOT / "functions" / "access")
    return [float(_python(_IMPORT.format(folder=folder), env)) for _ in range(IMPORT_RUNS)]


def first_call_ms(stack, content_id: str, api_key: str, usage_headers: dict[str, str]) -> dict:
    from marketplace import resources

    from tests.events import api_event

    spec = resources.by_name(resources.FUNCTIONS, "access")
    env = {**os.environ, **stack.functions["access"].env,
           "PYTHONPATH": str(ROOT / "layers" / "shared" / "python")}
    event = api_event("POST", f"/content/{content_id}/access", resource=spec.routes[0].path,
                      headers={"Authorization": f"Bearer {api_key}", **usage_headers})
    return json.loads(_python(_FIRST_CALL.format(folder=str(ROOT / "functions" / "access")), env,
                              stdin=json.dumps(event)))


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    lp = sub.add_parser("load", help="(internal) the load generator")
    for name in ("url", "key", "workers"):
        lp.add_argument(f"--{name}", required=True)
    lp.add_argument("--concurrency", type=int, required=True)
    lp.add_argument("--per-client", type=int, required=True)
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--requests-per-client", type=int, default=60)
    parser.add_argument("--min-requests", type=int, default=200, help="at least this many per level")
    args = parser.parse_args(argv)
    if args.command == "load":
        print(json.dumps(load(args.url, args.key, args.workers, args.concurrency, args.per_client)))
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

        # one worker key per client thread, registered by the licensee (AddUsageSigner, relayed)
        from marketplace.usage.client_signing import access_headers, new_worker_key

        keys = [new_worker_key() for _ in range(max(levels))]
        domain: dict = {}
        for key in keys:
            domain = lc.add_signer(buyer_jwt, buyer.privateKey, bought["licenseId"], key.address)["domain"]
        workers_file = Path(tempfile.mkdtemp(prefix="bench-access-workers-")) / "workers.json"
        workers_file.write_text(json.dumps({
            "licenseId": bought["licenseId"], "chainId": domain["chainId"],
            "verifyingContract": domain["verifyingContract"],
            "workers": [{"privateKey": "0x" + k.private_key.hex(), "address": k.address, "served": 0} for k in keys]}))
        print(f"{len(keys)} worker keys registered as usage signers", flush=True)

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
                 "--workers", str(workers_file), "--concurrency", str(n), "--per-client", str(each)],
                capture_output=True, text=True, check=True, cwd=ROOT,
                env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
                    str(ROOT / "layers" / "shared" / "python"), os.environ.get("PYTHONPATH")]))}).stdout)
            granted = out["statuses"].get("200", 0)
            granted_total += granted
            lat = out["latencies_ms"]
            results[str(n)] = {"p50_ms": round(percentile(lat, 50), 1), "p99_ms": round(percentile(lat, 99), 1),
                               "rps": round(granted / out["elapsed_s"], 1), "requests": len(lat),
                               "sign_ms_p50": round(percentile(out["sign_ms"], 50), 2),
                               "statuses": out["statuses"]}
            print(f"concurrency {n:>2}: p50 {results[str(n)]['p50_ms']:7.1f} ms  p99 {results[str(n)]['p99_ms']:7.1f} "
                  f"ms  {results[str(n)]['rps']:6.1f} rps  ({len(lat)} requests, statuses {out['statuses']})",
                  flush=True)
        ddb = calls["n"] / granted_total
        spec = json.loads(workers_file.read_text())
        first = spec["workers"][0]
        from marketplace.usage.client_signing import WorkerKey

        cold = first_call_ms(stack, content_id, bought["apiKey"], access_headers(
            WorkerKey(bytes.fromhex(first["privateKey"][2:])), spec["licenseId"], first["served"] + 1,
            int(spec["chainId"]), spec["verifyingContract"], path=f"/content/{content_id}/access"))
    finally:
        stack.stop()

    report = {
        "concurrency": results,
        "ddb_calls_per_access": round(ddb, 3),
        "import_ms": round(statistics.median(imports), 1),
        "import_ms_samples": [round(v, 1) for v in imports],
        "first_call_ms": round(cold["ms"], 1),
        "targets": {"ddb_calls_per_access": DDB_TARGET, "import_ms": IMPORT_TARGET_MS},
        "machine": machine(),
        "notes": "local stack on one machine: API gateway emulation, in-process handlers, moto server (its "
                 "DynamoDB serialised by a lock), load from a separate process; latencies are client-side; every "
                 "access signed by its thread's worker key before its clock starts (sign_ms_p50: that signing)",
    }
    print(f"DynamoDB calls per access: {ddb:.3f} (target ≤ {DDB_TARGET}); first call in a fresh interpreter "
          f"{cold['ms']:.0f} ms (status {cold['status']})")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
