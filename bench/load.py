"""Load on the access path (Flow 3): N clients for D seconds, exact counts, and the gateway's floor.

    uv run python bench/load.py [--clients 32] [--duration 60] [--rate-limit 300]   (make bench-load)

Starts the local stack in this process (Hardhat node, moto, the API on a free port), registers a
file, offers terms, buys one license with a permit and registers one worker key per client as a
usage signer (a worker's counter is sequential, so clients never share one). Then, from a separate
load process (its own interpreter: the load does not share the stack's GIL), two phases with the
same N client threads, each on its own keep-alive session:

1. **bare**: ``POST /bench/noop`` for ``duration / 4`` seconds (at least 10): a handler that does
   nothing (``{"statusCode": 200}``), mounted in this benchmark's gateway only (not in the product's
   API, not in ``resources.FUNCTIONS``): the floor of the local gateway, the HTTP server and the
   client on this machine;
2. **access**: ``POST /content/{id}/access`` for ``duration`` seconds, every request signed by the
   client's worker key (EIP-712 ``AccessRequest``, its next counter) before its clock starts; a 409
   resyncs from ``expectedCounter``, a 429 waits for ``Retry-After`` (at most 1 s, so the limit is
   met again and again).

The access phase runs with the product's rate limit (``ACCESS_RATE_LIMIT``, 300 per 60 s window per
key, ``--rate-limit`` to change it): all clients share the license's one API key, so the limit is
reached and its exactness is checked with everything else, from the stores after the run:

- **exact use counts**: the license's usage records = its ``usesGranted`` = the signers' counters
  summed = the 200s; the event seqs are ``0..n-1`` without a gap or a duplicate;
- **rate limits exact**: every window's counter ≤ the limit; the windows' counters summed = the
  requests that passed the limiter (every answer but the 429s); a window that refused one is full;
- **0 server errors**: no 5xx in either phase.

The figure is the ratio of the access path's p50 (and p99) to the bare handler's, both measured by
the same clients through the same gateway in the same run: it stays meaningful on a shared machine
whose absolute numbers do not. Writes ``bench/results/load.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "results" / "load.json"
NOOP_PATH = "/bench/noop"
MAX_REQUESTS_PER_CLIENT = 100_000  # a bound besides the clock


# --------------------------------------------------------------------------------------------
# The load process
# --------------------------------------------------------------------------------------------


def load(base: str, path: str, api_key: str, workers_file: str, clients: int, duration: float, signed: bool) -> dict:
    """``clients`` threads sending back to back for ``duration`` seconds (and at most
    ``MAX_REQUESTS_PER_CLIENT`` each); only 127.0.0.1."""
    import requests
    from marketplace.usage.client_signing import WorkerKey, access_headers

    if not base.startswith("http://127.0.0.1:"):
        raise SystemExit("the load goes to 127.0.0.1 only")
    spec = json.loads(Path(workers_file).read_text())
    license_id, chain_id, manager = spec["licenseId"], int(spec["chainId"]), spec["verifyingContract"]
    workers = spec["workers"][:clients]
    results: list[tuple[int, float, float]] = []  # (status, sent at (epoch s), latency ms)
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(worker: dict) -> None:
        session = requests.Session()
        key = WorkerKey(bytes.fromhex(worker["privateKey"][2:]))
        mine: list[tuple[int, float, float]] = []
        start.wait()
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if time.monotonic() >= deadline[0]:
                break
            headers = {"Authorization": f"Bearer {api_key}"}
            if signed:
                headers.update(access_headers(key, license_id, worker["served"] + 1, chain_id, manager, path=path))
            sent = time.time()
            t0 = time.perf_counter()
            resp = session.post(base + path, headers=headers, timeout=60)
            mine.append((resp.status_code, sent, (time.perf_counter() - t0) * 1000))
            if not signed:
                continue
            if resp.status_code == 200:
                worker["served"] += 1
            elif resp.status_code == 409:  # out of step: resync from the API's expectedCounter
                worker["served"] = resp.json()["details"]["expectedCounter"] - 1
            elif resp.status_code in (429, 503):
                time.sleep(min(1.0, float(resp.headers.get("Retry-After", "1"))))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    deadline[0] = time.monotonic() + duration
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    Path(workers_file).write_text(json.dumps(spec))
    return {"results": results, "elapsed_s": elapsed}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def _run_load(url: str, path: str, api_key: str, workers_file: Path, clients: int, duration: float,
              signed: bool) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(ROOT / "layers" / "shared" / "python"), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "load", "--url", url, "--path", path, "--key", api_key,
         "--workers", str(workers_file), "--clients", str(clients), "--duration", str(duration)]
        + (["--signed"] if signed else []),
        capture_output=True, text=True, check=True, cwd=ROOT, env=env, timeout=duration + 300)
    return json.loads(done.stdout)


def _summary(out: dict, ok: int = 200) -> dict:
    statuses: dict[str, int] = {}
    for status, _, _ in out["results"]:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    lat = [ms for status, _, ms in out["results"] if status == ok]
    return {"p50_ms": round(percentile(lat, 50), 1) if lat else None,
            "p99_ms": round(percentile(lat, 99), 1) if lat else None,
            "ok_per_s": round(len(lat) / out["elapsed_s"], 1), "requests": len(out["results"]),
            "seconds": round(out["elapsed_s"], 1), "statuses": dict(sorted(statuses.items()))}


# --------------------------------------------------------------------------------------------
# The bare handler, mounted in this benchmark's gateway only
# --------------------------------------------------------------------------------------------


def noop(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}


def mount_noop(stack) -> None:
    """The stack's gateway again, with ``POST /bench/noop`` added (same auth kind as access: no
    authorizer), routed to ``noop``."""
    from marketplace import resources
    from marketplace.resources import FunctionSpec, Route

    from local.api import ApiGateway, RouteTable

    access = resources.by_name(resources.FUNCTIONS, "access")
    spec = FunctionSpec("bench-noop", "bench-noop", routes=(Route("POST", NOOP_PATH, access.routes[0].auth),),
                        timeout=access.timeout)
    stack.api.gateway = ApiGateway({**stack.functions, spec.name: noop},
                                   routes=RouteTable((*resources.FUNCTIONS, spec)))


# --------------------------------------------------------------------------------------------
# The checks, from the stores
# --------------------------------------------------------------------------------------------


def _query_all(ddb, **kwargs) -> list[dict]:
    from marketplace.adapters.dynamodb import from_ddb

    items: list[dict] = []
    while True:
        page = ddb.query(**kwargs) if "KeyConditionExpression" in kwargs else ddb.scan(**kwargs)
        items += [from_ddb(i) for i in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def rate_windows(stack, key_hash: str) -> dict[int, int]:
    """The key's rate-limit counters: window start → requests let through."""
    from marketplace.adapters.aws import client
    from marketplace.adapters.dynamodb import to_ddb

    return {int(i["pk"].rsplit("#", 1)[1]): int(i["n"]) for i in _query_all(
        client("dynamodb"), TableName=stack.env["RATE_LIMITS_TABLE"], FilterExpression="begins_with(pk, :p)",
        ExpressionAttributeValues=to_ddb({":p": f"key#{key_hash}#"}))}


def check(stack, license_id: str, key_hash: str, granted_before: int, windows_before: dict[int, int], access: dict,
          limit: int, window: int) -> dict:
    """Use counts and rate-limit windows as the stores hold them, against the answers."""
    from marketplace.adapters.aws import client
    from marketplace.adapters.dynamodb import from_ddb, to_ddb

    ddb = client("dynamodb")
    ok = sum(1 for status, _, _ in access["results"] if status == 200)
    refused = sum(1 for status, _, _ in access["results"] if status == 429)
    events = _query_all(ddb, TableName=stack.env["USAGE_TABLE"], KeyConditionExpression="licenseId = :l",
                        ExpressionAttributeValues=to_ddb({":l": license_id}), ConsistentRead=True)
    seqs = sorted(e["seq"] for e in events if e["seq"] >= granted_before)
    lic = from_ddb(ddb.get_item(TableName=stack.env["LICENSES_TABLE"], Key=to_ddb({"licenseId": license_id}),
                                ConsistentRead=True)["Item"])
    signers = _query_all(ddb, TableName=stack.env["USAGE_SIGNERS_TABLE"], KeyConditionExpression="licenseId = :l",
                         ExpressionAttributeValues=to_ddb({":l": license_id}), ConsistentRead=True)
    windows = rate_windows(stack, key_hash)
    counted = {w: n - windows_before.get(w, 0) for w, n in windows.items()}  # this phase's requests
    passed = len(access["results"]) - refused  # every answer but a 429 went through the limiter
    # a 429 sent well inside a window (not within 1 s of its edges) says that window was full
    full_needed = {int(sent - sent % window) for status, sent, _ in access["results"]
                   if status == 429 and 1 < sent % window < window - 1}
    out = {
        "granted_200": ok, "usage_records": len(seqs), "uses_granted": int(lic["usesGranted"]) - granted_before,
        "signer_counters": sum(int(s.get("lastCounter", 0)) for s in signers) - granted_before,
        "seqs_contiguous": seqs == list(range(granted_before, granted_before + len(seqs))),
        "rate_windows": {str(w): n for w, n in sorted(windows.items())}, "rate_limit": limit,
        "rate_window_s": window, "passed_limiter": passed, "refused_429": refused,
    }
    out["exact_use_counts"] = (out["usage_records"] == out["uses_granted"] == out["signer_counters"] == ok
                               and out["seqs_contiguous"])
    out["rate_limit_exact"] = (all(n <= limit for n in windows.values()) and sum(counted.values()) == passed
                               and all(windows.get(w) == limit for w in full_needed))
    return out


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    lp = sub.add_parser("load", help="(internal) the load generator")
    for name in ("url", "path", "key", "workers"):
        lp.add_argument(f"--{name}", required=True)
    lp.add_argument("--clients", type=int, required=True)
    lp.add_argument("--duration", type=float, required=True)
    lp.add_argument("--signed", action="store_true")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of access load (default 60)")
    parser.add_argument("--rate-limit", type=int, default=None, help="ACCESS_RATE_LIMIT (default: the product's)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.command == "load":
        print(json.dumps(load(args.url, args.path, args.key, args.workers, args.clients, args.duration,
                              args.signed)))
        return 0
    return bench(args.clients, args.duration, args.rate_limit, args.out)


def bench(clients: int, duration: float, rate_limit: int | None, out_path: Path) -> int:
    from marketplace.access.models import AccessSettings

    if rate_limit is not None:
        os.environ["ACCESS_RATE_LIMIT"] = str(rate_limit)
    defaults = AccessSettings()
    limit = int(os.environ.get("ACCESS_RATE_LIMIT") or defaults.rate_limit)
    window = int(os.environ.get("ACCESS_RATE_WINDOW_SECONDS") or defaults.rate_window_seconds)
    from marketplace.licensing import credential as cred

    from local.client import Client
    from local.license_client import LicenseClient
    from local.processes import free_port
    from local.stack import LocalStack

    stack = LocalStack(port=free_port(), state_dir=Path(tempfile.mkdtemp(prefix="bench-load-")))
    stack.start()
    try:
        mount_noop(stack)
        api = Client(stack.api_url, timeout=120)
        lc = LicenseClient(api)
        creator, buyer = stack.account("creator1"), stack.account("buyer1")
        creator_jwt, buyer_jwt = api.login(creator.privateKey), api.login(buyer.privateKey)
        record = api.register_file(creator_jwt, os.urandom(64 * 1024), {"title": "load", "description": "",
                                                                        "tags": []}, filename="load.bin")
        content_id = record["contentId"]
        terms = lc.create_terms(creator_jwt, creator.privateKey, content_id, price_per_use=1, max_uses=1_000_000)
        bought = lc.purchase_with_permit(buyer_jwt, buyer.privateKey, terms["termsId"])
        license_id, api_key = bought["licenseId"], bought["apiKey"]
        for _ in range(5):  # warm: handler imported, clients and connections made (5 uses, seqs 0-4)
            lc.access(content_id, api_key, bought["accessToken"])
        granted_before = 5

        from marketplace.usage.client_signing import new_worker_key

        keys = [new_worker_key() for _ in range(clients)]
        domain: dict = {}
        for key in keys:
            domain = lc.add_signer(buyer_jwt, buyer.privateKey, license_id, key.address)["domain"]
        workers_file = Path(tempfile.mkdtemp(prefix="bench-load-workers-")) / "workers.json"
        workers_file.write_text(json.dumps({
            "licenseId": license_id, "chainId": domain["chainId"], "verifyingContract": domain["verifyingContract"],
            "workers": [{"privateKey": "0x" + k.private_key.hex(), "address": k.address, "served": 0} for k in keys]}))
        print(f"{clients} worker keys registered; bare handler for {max(10.0, duration / 4):.0f} s, then access "
              f"for {duration:.0f} s (rate limit {limit} per {window} s per key)", flush=True)
        bare = _run_load(stack.api_url, NOOP_PATH, api_key, workers_file, clients, max(10.0, duration / 4), False)
        key_hash = cred.hash_api_key(api_key)
        windows_before = rate_windows(stack, key_hash)  # the warm-up's hits
        access = _run_load(stack.api_url, f"/content/{content_id}/access", api_key, workers_file, clients, duration,
                           True)
        time.sleep(1.0)  # the last requests' handler threads (a client's timeout leaves none: 60 s > 10 s)
        checks = check(stack, license_id, key_hash, granted_before, windows_before, access, limit, window)
    finally:
        stack.stop()

    a, b = _summary(access), _summary(bare)
    server_errors = sum(v for k, v in a["statuses"].items() if k.startswith("5")) + \
        sum(v for k, v in b["statuses"].items() if k.startswith("5"))
    report = {
        "clients": clients, "duration_s": duration,
        "access": a, "bare_handler": b,
        "ratio_p50": round(a["p50_ms"] / b["p50_ms"], 1) if a["p50_ms"] and b["p50_ms"] else None,
        "ratio_p99": round(a["p99_ms"] / b["p99_ms"], 1) if a["p99_ms"] and b["p99_ms"] else None,
        "server_errors": server_errors, "checks": checks,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "notes": "local stack on one 2-core machine shared with other engineers' work (absolute figures are noisy; "
                 "the ratio to the bare handler, measured by the same clients through the same gateway in the same "
                 "run, is the figure); moto's DynamoDB is serialised by one lock; latencies client-side, of the 200s; "
                 "every access signed before its clock starts",
    }
    print(f"\n{'phase':<14}{'p50 ms':>9}{'p99 ms':>9}{'200/s':>8}{'requests':>10}  statuses")
    for name, s in (("bare handler", b), ("access", a)):
        print(f"{name:<14}{s['p50_ms'] or 0:>9.1f}{s['p99_ms'] or 0:>9.1f}{s['ok_per_s']:>8.1f}{s['requests']:>10}  "
              f"{s['statuses']}")
    print(f"ratio access/bare: p50 {report['ratio_p50']}x, p99 {report['ratio_p99']}x; server errors {server_errors}")
    print(f"exact use counts: {checks['exact_use_counts']} (200s {checks['granted_200']}, records "
          f"{checks['usage_records']}, usesGranted {checks['uses_granted']}, signer counters "
          f"{checks['signer_counters']}); rate limit exact: {checks['rate_limit_exact']} (windows "
          f"{checks['rate_windows']}, passed {checks['passed_limiter']}, 429s {checks['refused_429']})")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {out_path}")
    ok = server_errors == 0 and checks["exact_use_counts"] and checks["rate_limit_exact"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
