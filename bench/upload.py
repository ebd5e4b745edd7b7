"""Large files: multipart upload, hash and CID throughput (issue 13's datasets of any size).

    uv run python bench/upload.py [--runs 3] [--sizes 64MB,512MB] [--part-size 64] [--workers 4]   (make bench-upload)

Starts the local stack in this process (the API on a free port, moto's S3 server), signs in as a
demo creator with the SDK (``zkdm``) and, for each size, writes a file of random bytes and measures:

- ``upload``: the SDK's multipart upload through the API to moto's S3: ``POST /content/uploads
  {multipart: true}``, the parts PUT in parallel to their presigned URLs (Content-MD5, ETag
  checked, state file written after each part), ``POST .../complete``. Bytes / wall clock.
- ``hash``: SHA-256 of the file (hashlib, 1 MiB reads from the page cache), one core.
- ``hash+cid``: ``marketplace.ipfs.compute`` over the file: SHA-256 and the CIDv0 (UnixFS leaves,
  dag-pb nodes) in one streaming pass, one core: what the saga's store step computes.
- ``s3 read+hash+cid``: the former one-pass store step: ``ipfs.compute`` (hashlib) over
  ``S3Objects.open`` of the staged object in moto (read over HTTP from the local moto server).
- ``sha256 resumable``: the file's SHA-256 with ``rehashes`` (the hash step's serialisable
  SHA-256 state), one core: the price of a checkpointable hash against hashlib's ``hash``.
- ``hash step``: the saga's hash step itself (``staged.StagedStore.hash``) over the staged
  upload's pinned version, invoked until done with ``--range-mib`` ranges (ranged GETs from moto,
  SHA-256 state and CID tree checkpointed after each range): the invocations and the largest
  checkpoint (JSON bytes in the journal) are recorded too.

Medians of ``--runs`` in MB/s (10^6 bytes per second) are printed and written to
``bench/results/upload.json`` with every sample; the 50 GB arithmetic for the store step is in
docs/design.md ("Large files").
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
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))

from local.processes import free_port
from local.stack import LocalStack

RESULTS = ROOT / "bench" / "results" / "upload.json"
MiB = 1024 * 1024
UNITS = {"KB": 1024, "MB": MiB, "GB": 1024 * MiB}
COLUMNS = ("upload", "hash", "hash+cid", "s3 read+hash+cid", "sha256 resumable", "hash step")


def parse_size(text: str) -> int:
    text = text.strip().upper()
    for unit, factor in UNITS.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


def label(size: int) -> str:
    return f"{size / (1024 * MiB):g} GiB" if size >= 1024 * MiB else f"{size / MiB:g} MiB"


def random_file(folder: Path, size: int) -> Path:
    path = folder / f"bench-{size}.bin"
    with open(path, "wb") as out:
        left = size
        while left:
            piece = os.urandom(min(8 * MiB, left))
            out.write(piece)
            left -= len(piece)
    return path


def rate(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def measure(client, path: Path, size: int, part_size: int, workers: int, state_dir: Path,
            range_bytes: int) -> tuple[dict[str, float], dict[str, int]]:
    from marketplace import ipfs
    from marketplace.content import fakes
    from marketplace.content.adapters import S3Objects
    from marketplace.content.ranges import S3Ranges
    from marketplace.content.services import upload_key
    from marketplace.content.staged import ResumableSha256, StagedStore, StoreLimits
    from zkdm.transfer import Registration

    os.utime(path)  # a new mtime: a new upload, never a resume of the previous run's
    job = Registration(client, path, {"title": "bench", "description": "", "tags": []}, state_dir=state_dir,
                       part_size=part_size, workers=workers)
    t0 = time.perf_counter()
    upload_id = job.upload()
    upload_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while piece := f.read(MiB):
            digest.update(piece)
    hash_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    with open(path, "rb") as f:
        cid = ipfs.compute(f)
    cid_s = time.perf_counter() - t0
    assert cid.sha256 == digest.digest()

    bucket = os.environ["UPLOADS_BUCKET_NAME"]
    t0 = time.perf_counter()
    staged = S3Objects().open(bucket, upload_key(upload_id))
    assert staged is not None
    assert ipfs.compute(staged).sha256 == digest.digest()
    s3_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    resumable = ResumableSha256()
    with open(path, "rb") as f:
        while piece := f.read(MiB):
            resumable.update(piece)
    assert resumable.digest() == digest.digest()
    rsha_s = time.perf_counter() - t0

    journal = fakes.MemoryRegistrations()
    journal.table.put({"registrationId": "bench", "creator": "bench", "state": "PENDING"})
    store = StagedStore(registrations=journal, objects=S3Objects(), ranges=S3Ranges(), uploads_bucket=bucket,
                        content_bucket=os.environ["CONTENT_BUCKET_NAME"], limits=StoreLimits(range_bytes=range_bytes))
    invocations, largest = 0, 0
    t0 = time.perf_counter()
    while True:
        out = store.hash("bench", upload_key(upload_id))
        invocations += 1
        checkpoint = (journal.get("bench") or {}).get("hashCheckpoint") or {}
        largest = max(largest, len(json.dumps(checkpoint)))
        if out["done"]:
            break
    step_s = time.perf_counter() - t0
    assert out["contentHash"] == "0x" + digest.hexdigest() and out["ipfsCid"] == cid.v0
    job._forget()
    return ({"upload": rate(size, upload_s), "hash": rate(size, hash_s), "hash+cid": rate(size, cid_s),
             "s3 read+hash+cid": rate(size, s3_s), "sha256 resumable": rate(size, rsha_s),
             "hash step": rate(size, step_s)},
            {"invocations": invocations, "checkpointBytesMax": largest})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="64MB,512MB")
    parser.add_argument("--part-size", type=int, default=64, help="MiB per part")
    parser.add_argument("--workers", type=int, default=4, help="parts in parallel")
    parser.add_argument("--range-mib", type=int, default=32, help="the hash step's range (HASH_RANGE_BYTES) in MiB")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    sizes = [parse_size(s) for s in args.sizes.split(",")]

    from zkdm import Client, Signer

    print("Starting the local stack ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        tmp_path = Path(tmp)
        stack = LocalStack(port=free_port(), state_dir=tmp_path / "stack")
        stack.start()
        try:
            os.environ["UPLOADS_BUCKET_NAME"] = stack.env["UPLOADS_BUCKET"]
            os.environ["CONTENT_BUCKET_NAME"] = stack.env["CONTENT_BUCKET"]
            client = Client(stack.api_url, signer=Signer(stack.account("creator1").privateKey), timeout=300)
            client.login()
            results = []
            for size in sizes:
                path = random_file(tmp_path, size)
                samples: dict[str, list[float]] = defaultdict(list)
                steps: dict[str, int] = {}
                for i in range(args.runs):
                    run, steps = measure(client, path, size, args.part_size * MiB, args.workers, tmp_path / "state",
                                         args.range_mib * MiB)
                    for k, v in run.items():
                        samples[k].append(v)
                    print(f"  {label(size):>9} run {i + 1}/{args.runs}: " +
                          ", ".join(f"{k} {v:.0f} MB/s" for k, v in run.items()), flush=True)
                path.unlink()
                results.append({"size": label(size), "bytes": size,
                                "median": {k: round(statistics.median(samples[k]), 1) for k in COLUMNS},
                                "samples": {k: [round(v, 1) for v in samples[k]] for k in COLUMNS},
                                "hashStep": {"rangeMiB": args.range_mib, **steps}})
        finally:
            stack.stop()

    header = f"{'size':>9} " + " ".join(f"{c:>17}" for c in COLUMNS) + f" {'invocations':>12} {'checkpoint B':>13}"
    print(f"\nThroughput, median of {args.runs} runs (MB/s; parts of {args.part_size} MiB, "
          f"{args.workers} in parallel)\n{header}")
    for r in results:
        print(f"{r['size']:>9} " + " ".join(f"{r['median'][c]:>17.1f}" for c in COLUMNS)
              + f" {r['hashStep']['invocations']:>12} {r['hashStep']['checkpointBytesMax']:>13}")
    report = {
        "benchmark": "upload", "unit": "MB/s (10^6 bytes per second)", "runs": args.runs, "statistic": "median",
        "partSizeMiB": args.part_size, "workers": args.workers,
        "columns": {
            "upload": "zkdm multipart upload through the API to the local moto S3 (create, parallel part PUTs "
                      "with Content-MD5 and ETag check, complete)",
            "hash": "SHA-256 of the file, 1 MiB reads, one core",
            "hash+cid": "marketplace.ipfs.compute over the file: SHA-256 + CIDv0 in one pass, one core",
            "s3 read+hash+cid": "the former one-pass store step: ipfs.compute (hashlib) over the staged object "
                                "read from moto",
            "sha256 resumable": "SHA-256 of the file with rehashes (serialisable state), 1 MiB reads, one core",
            "hash step": "staged.StagedStore.hash invoked until done over the staged upload's pinned version in moto "
                         "(ranged GETs of --range-mib, SHA-256 state and CID tree checkpointed after each range)",
        },
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nWritten: {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
