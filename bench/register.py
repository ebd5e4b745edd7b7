"""Registration time (Flow 1) broken down into hash, CID, proof, transaction and total.

    uv run python bench/register.py [--runs 3] [--sizes 1KB,1MB,50MB]     (make bench-register)

Starts the local stack in this process (Hardhat node, moto, the API on a free port), signs in as a
demo creator and registers fresh random files of each size over HTTP with ``local.client`` (1 KB
and 1 MB as multipart, 50 MB through the presigned upload). The saga runs in this process too,
so its parts are timed where they happen:

- ``hash``: SHA-256 of the file in memory (hashlib), timed on the same bytes;
- ``cid``: the CIDv0/v1 of the file in memory (``marketplace.ipfs.compute_bytes``: UnixFS chunks,
  dag-pb nodes; it computes the SHA-256 in the same pass);
- ``proof``: the authenticity proof inside the saga's prove step (Groth16 via groth16py);
- ``transaction``: ``ContentRegistry.registerContent`` inside the register step: build, sign,
  send, and wait for the receipt (Hardhat mines at once);
- ``store``/``prove``/``register``/``cache``: each saga step as the worker ran it (store reads the
  upload from S3 once for hash and CID, claims the id, copies the object); ``saga``: from the
  first step's start to the last step's end, so it includes moto's state transitions;
- ``total``: what the client waited, from the first byte sent (upload included) to the result.

Medians over ``--runs`` runs (each with new bytes) are printed and written to
``bench/results/register.json`` with every sample.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from local.client import MULTIPART_MAX, Client
from local.lambdas import load_handler
from local.processes import free_port
from local.stack import LocalStack

RESULTS = ROOT / "bench" / "results" / "register.json"
UNITS = {"KB": 1024, "MB": 1024 * 1024}
COLUMNS = ("hash", "cid", "proof", "transaction", "store", "prove", "register", "cache", "saga", "total")


def parse_size(text: str) -> int:
    text = text.strip().upper()
    for unit, factor in UNITS.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


def label(size: int) -> str:
    return f"{size // UNITS['MB']} MB" if size >= UNITS["MB"] else f"{size // UNITS['KB']} KB"


class Timings:
    """Durations recorded by the instrumented saga (it runs in moto's threads in this process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current: dict[str, float] = defaultdict(float)
        self._first, self._last = float("inf"), 0.0

    def add(self, name: str, seconds: float) -> None:
        with self._lock:
            self.current[name] += seconds

    def span(self, start: float, end: float) -> None:
        """Widen the saga's wall-clock span (first step's start to last step's end)."""
        with self._lock:
            self._first = min(self._first, start)
            self._last = max(self._last, end)

    def take(self) -> dict[str, float]:
        with self._lock:
            out, self.current = dict(self.current), defaultdict(float)
            if self._last > self._first:
                out["saga"] = self._last - self._first
            self._first, self._last = float("inf"), 0.0
        return out

    def wrap(self, name: str, fn):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - t0)

        return timed


def instrument(timings: Timings) -> None:
    """Time the saga's steps, the proof and the transaction where the worker runs them."""
    from marketplace.adapters.chain import Chain
    from marketplace.content.saga import RegistrationSteps

    run = RegistrationSteps.run

    def timed_run(self, step, state):
        t0 = time.perf_counter()
        try:
            return run(self, step, state)
        finally:
            t1 = time.perf_counter()
            timings.add(step, t1 - t0)
            timings.span(t0, t1)

    RegistrationSteps.run = timed_run
    Chain.transact = timings.wrap("transaction", Chain.transact)
    # the worker hands its module's prove_authenticity to the steps on first use: patch it before
    worker = sys.modules[load_handler("registration_worker").__module__]
    worker.prove_authenticity = timings.wrap("proof", worker.prove_authenticity)


@contextmanager
def local_stack():
    with tempfile.TemporaryDirectory(prefix="bench-register-") as state_dir:
        stack = LocalStack(port=free_port(), state_dir=Path(state_dir))
        stack.start()
        try:
            yield stack
        finally:
            stack.stop()


def measure(client: Client, token: str, size: int, timings: Timings) -> dict[str, float]:
    from marketplace import ipfs

    data = os.urandom(size)
    t0 = time.perf_counter()
    hashlib.sha256(data).digest()
    hash_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ipfs.compute_bytes(data)
    cid_s = time.perf_counter() - t0

    timings.take()
    t0 = time.perf_counter()
    client.register_file(token, data, {"title": f"bench {label(size)}", "description": "", "tags": ["bench"]},
                         filename="bench.bin")
    total = time.perf_counter() - t0
    saga = timings.take()
    missing = {"proof", "transaction", "store", "prove", "register", "cache", "saga"} - set(saga)
    if missing:
        raise RuntimeError(f"the saga did not report {sorted(missing)}: is it running in this process?")
    return {"hash": hash_s, "cid": cid_s, **saga, "total": total}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per size (the median is reported)")
    parser.add_argument("--sizes", default="1KB,1MB,50MB")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",")]

    timings = Timings()
    print("Starting the local stack ...", flush=True)
    with local_stack() as stack:
        instrument(timings)
        client = Client(stack.api_url, timeout=300)
        token = client.login(stack.account("creator1").privateKey)
        # one registration first so imports, key loading and connections are not in the samples
        print("Warm-up registration ...", flush=True)
        measure(client, token, 1024, timings)

        results = []
        for size in sizes:
            samples: dict[str, list[float]] = defaultdict(list)
            for i in range(args.runs):
                run = measure(client, token, size, timings)
                for k, v in run.items():
                    samples[k].append(v)
                print(f"  {label(size):>6} run {i + 1}/{args.runs}: total {run['total']:.2f} s", flush=True)
            results.append({
                "size": label(size), "bytes": size,
                "path": "multipart" if size <= MULTIPART_MAX else "presigned upload",
                "median": {k: round(statistics.median(samples[k]), 6) for k in COLUMNS},
                "samples": {k: [round(v, 6) for v in samples[k]] for k in COLUMNS},
            })

    header = f"{'size':>7} {'path':>16} " + " ".join(f"{c:>11}" for c in COLUMNS)
    print(f"\nRegistration time, median of {args.runs} runs (milliseconds)\n{header}")
    for r in results:
        print(f"{r['size']:>7} {r['path']:>16} " + " ".join(f"{r['median'][c] * 1000:>11.1f}" for c in COLUMNS))

    report = {
        "benchmark": "register",
        "unit": "seconds",
        "runs": args.runs,
        "statistic": "median",
        "columns": {
            "hash": "SHA-256 of the bytes in memory",
            "cid": "CIDv0/v1 of the bytes in memory (UnixFS, 256 KiB chunks; includes its own SHA-256 pass)",
            "proof": "authenticity proof (Groth16) inside the saga",
            "transaction": "ContentRegistry.registerContent: send and wait for the receipt (Hardhat automine)",
            "store": "saga step: read the upload from S3, hash + CID, claim, copy to the content bucket",
            "prove": "saga step: derive the secret, prove, check the public signals",
            "register": "saga step: the transaction plus the idempotency log lookup and event check",
            "cache": "saga step: DynamoDB transaction, delete the staging object",
            "saga": "wall clock from the store step's start to the cache step's end (moto runs the ASL)",
            "total": "client: request (upload included) until the registration result",
        },
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nWritten: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
