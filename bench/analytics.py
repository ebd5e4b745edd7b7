"""Flow 7 analytics: the dashboard API's latency (cache hit and miss) over seeded aggregates, the
aggregates' update rate, and the live stream's event-to-push latency.

    uv run python bench/analytics.py [--uses 100000] [--contents 100] [--samples 60] [--no-live]
    (make bench-analytics) → bench/results/analytics.json

Rows (each a function below returning table rows; ``ROWS`` lists them in order):

- ``api_rows``: ``GET /creator/{address}/analytics`` through the real handler (``functions/analytics_api``,
  the HTTP kit, in this process) against a moto server (in this process too, over HTTP), the analytics
  table seeded with ``--contents`` content items of one creator and ``--uses`` uses spread over the
  last 60 days (200 licensees, a purchase per license, a paid batch per 64 uses). Seeding aggregates
  the changes with the feeders' own ``adapters.bucket_updates`` and ``rollup.apply`` and batch-writes
  the resulting items (the same items ``apply`` makes; the updates row below checks ``apply`` itself).
  Per period: **miss** (the cached answer removed before each call, not timed: one read of the
  creator's main rollup item, the cache write), **hit** (the same read), and **miss, window moved**
  (the writer's per-period parts made stale, as after a new hour/day/month without a change: the
  detail item is read too); p50/p99 over ``--samples`` calls each, after one warm call.
- ``update_rows``: ``UsageFeeder`` applying usage records in stream batches of 100 (per use: a read
  of the creator's rollup, then one TransactWriteItems: marker + 8 bucket updates + the 2 rollup
  items) against the same moto server: uses/s.
- ``live_rows`` (H4, ``bench/analytics_live.py``): event-to-push latency with 50 WebSocket clients
  on a local stack (access → push through the usage stream and the feeder; publish → push).
  **More rows go into ``ROWS``** (a function ``(ctx) -> list[dict]`` printing its own table).

Medians are quoted; everything shares the machine (moto, the handler, the client in one process
for the first two rows). moto's Query scans the whole table where DynamoDB reads one partition's
range: the bench makes moto's table queries read their partition only (``_partitioned_moto_queries``).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))
from bench.common import RESULTS, machine, percentile, table, write_report

CREATOR = "0x" + "c7" * 20
OTHER_CREATOR = "0x" + "c8" * 20
PERIODS = ("day", "week", "month", "year")
DAY = 86_400


class Ctx:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.results: dict[str, Any] = {}
        self.moto: Any = None
        self.table = "bench-analytics"


def _partitioned_moto_queries() -> None:
    """moto's Query filters every item of the table (``Table.all_items``) for the partition key,
    then sizes them all; DynamoDB reads only the partition's sorted key range. A query on the
    table's own key (not an index) here starts from the items of its partition in its key range
    (moto's own comparison), so a dashboard's latency does not grow with other partitions' items
    (per-content buckets, markers) or the partition's other buckets, as it would not in AWS. Same
    results (moto still applies the condition, sorts, pages)."""
    import threading

    from moto.dynamodb.models.table import Table

    if getattr(Table, "_bench_partitioned", False):
        return
    local = threading.local()
    query, all_items = Table.query, Table.all_items

    def partition_query(self, hash_key, range_comparison, range_objs, *args, **kwargs):
        own_key = kwargs.get("index_name") is None and self.range_key_attr
        local.key = (hash_key, range_comparison, range_objs) if own_key else None
        try:
            return query(self, hash_key, range_comparison, range_objs, *args, **kwargs)
        finally:
            local.key = None

    def partition_items(self):
        if getattr(local, "key", None) is None:
            return all_items(self)
        key, comparison, objs = local.key
        items = self.items.get(key, {}).values()
        return [i for i in items if not comparison or i.range_key.compare(comparison, objs)]  # moto sorts them

    Table.query, Table.all_items, Table._bench_partitioned = partition_query, partition_items, True


def start_moto(ctx: Ctx) -> None:
    from local.processes import MotoServer

    _partitioned_moto_queries()

    ctx.moto = MotoServer().start()
    os.environ["AWS_ENDPOINT_URL"] = ctx.moto.url
    import boto3

    ddb = boto3.client("dynamodb", endpoint_url=ctx.moto.url, region_name="us-east-1")
    ddb.create_table(TableName=ctx.table, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "S"}])


def seed(ctx: Ctx) -> dict[str, Any]:
    """``--uses`` uses over ``--contents`` items of CREATOR, aggregated as ``apply`` would, batch-written."""
    from marketplace.adapters.aws import client
    from marketplace.adapters.dynamodb import to_ddb
    from marketplace.analytics import rollup
    from marketplace.analytics.adapters import active_key, activity_item, bucket_updates
    from marketplace.analytics.models import Change

    rng = random.Random(11)
    now = int(time.time())
    contents = ["0x" + hashlib.sha256(f"content {i}".encode()).hexdigest() for i in range(ctx.args.contents)]
    licenses = [(f"0x{0xabc000 + i:064x}", f"0x{0xb000 + i:040x}", contents[i % len(contents)]) for i in range(200)]
    items: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    extra: list[dict[str, Any]] = []

    main, detail = rollup.Main(), rollup.Detail()

    def add(change: Change) -> None:
        rollup.apply(main, detail, change)
        for u in bucket_updates(change):
            item = items[(u.pk, u.sk)]
            for attr, value in u.add.items():
                item[attr] = item.get(attr, 0) + value
            if u.licensee:
                item.setdefault("licensees", set()).add(u.licensee)
            for attr, value in u.set_absent.items():
                item.setdefault(attr, value)
        if (a := activity_item(change)) is not None:
            extra.append(a)

    for license_id, buyer, content in licenses:
        at = now - rng.randrange(60 * DAY)
        add(Change(f"p{license_id}", "purchase", CREATOR, content, at, {"purchases": 1, "sales": 64_000},
                   licensee=buyer, license_id=license_id, valid_until=now + 30 * DAY,
                   activity={"type": "license.purchased", "contentId": content, "licenseId": license_id, "at": at,
                             "delta": {"purchases": 1}}))
        extra.append({**active_key(CREATOR, now + 30 * DAY, license_id), "contentId": content})
    per_license: dict[str, int] = defaultdict(int)
    t0 = time.perf_counter()
    for i in range(ctx.args.uses):
        license_id, buyer, content = licenses[rng.randrange(len(licenses))]
        at = now - rng.randrange(60 * DAY)
        add(Change(f"use#{license_id}#{i}", "usage", CREATOR, content, at, {"uses": 1}, licensee=buyer,
                   license_id=license_id))
        per_license[license_id] += 1
        if per_license[license_id] % 64 == 0:  # a proven, paid batch
            add(Change(f"b{license_id}{i}", "proven", CREATOR, content, at, {"provenUses": 64}, license_id=license_id))
            add(Change(f"r{license_id}{i}", "payment", CREATOR, content, at,
                       {"revenue": 62_400, "platformFees": 1_600, "payments": 1}, license_id=license_id,
                       activity={"type": "payment.released", "contentId": content, "licenseId": license_id,
                                 "at": at, "delta": {"revenue": 62_400, "payments": 1}}))
    rollup.refresh(main, detail, now)
    extra += [{"pk": f"rollup#{CREATOR}", "sk": "main", "v": 1, "m": main.encode()},
              {"pk": f"rollup#{CREATOR}", "sk": "detail", "d": detail.encode()}]
    rows = [{"pk": pk, "sk": sk, **attrs} for (pk, sk), attrs in items.items()] + extra
    ddb = client("dynamodb")
    for start in range(0, len(rows), 25):
        batch = [{"PutRequest": {"Item": to_ddb(r)}} for r in rows[start:start + 25]]
        pending = {ctx.table: batch}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    seeded = {"uses": ctx.args.uses, "contents": len(contents), "licenses": len(licenses), "items": len(rows),
              "seconds": round(time.perf_counter() - t0, 1), "rollup_main_bytes": len(extra[-2]["m"]),
              "rollup_detail_bytes": len(extra[-1]["d"])}
    print(f"seeded {seeded['uses']:,} uses over {seeded['contents']} content items: {seeded['items']:,} items "
          f"in {seeded['seconds']} s", flush=True)
    return seeded


def _handler():
    spec = importlib.util.spec_from_file_location("analytics_api_handler", ROOT / "functions/analytics_api/handler.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.handler


class _Context:
    function_name = "analytics-api"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:analytics-api"
    aws_request_id = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def _event(period: str) -> dict[str, Any]:
    event = json.loads((ROOT / "tests/events/apigw_proxy.json").read_text())
    path = f"/creator/{CREATOR}/analytics"
    event.update(resource="/creator/{address}/analytics", path=path, httpMethod="GET",
                 pathParameters={"address": CREATOR}, queryStringParameters={"period": period},
                 multiValueQueryStringParameters={"period": [period]})
    event["requestContext"].update(resourcePath="/creator/{address}/analytics", httpMethod="GET",
                                   authorizer={"address": CREATOR})
    return event


def api_rows(ctx: Ctx) -> list[dict[str, Any]]:
    """Dashboard latency per period, cache miss and hit."""
    from marketplace.adapters.aws import client
    from marketplace.adapters.dynamodb import to_ddb
    from marketplace.analytics import rollup

    os.environ.update({"ANALYTICS_TABLE": ctx.table, "POWERTOOLS_LOG_LEVEL": "WARNING",
                       "POWERTOOLS_METRICS_NAMESPACE": "bench", "POWERTOOLS_TRACE_DISABLED": "1"})
    import gc

    from marketplace.analytics.adapters import DynamoAnalyticsStore
    from marketplace.analytics.models import Change

    ctx.results["seeded"] = seed(ctx)
    # moto keeps the seeded table in this process's heap (millions of objects): a full collection
    # there costs hundreds of ms, which no Lambda answering from DynamoDB pays; leave it out
    gc.collect()
    gc.freeze()
    handler, context, ddb = _handler(), _Context(), client("dynamodb")
    store, applied = DynamoAnalyticsStore(ctx.table), [ctx.args.uses]
    rows = []
    for period in PERIODS:
        # the creator's uses keep coming (one a minute in the seed): one now, through the feeders' own
        # write, so the rollup's per-period parts are the current window's (the moved-window row below
        # measures a miss without it)
        assert store.apply(Change(f"use#bench#{period}", "usage", CREATOR, "0x" + "ab" * 32, int(time.time()),
                                  {"uses": 1}, licensee=CREATOR, license_id="0x" + "cd" * 32))
        applied[0] += 1
        event = _event(period)

        def call(expect_cached: bool, event: dict = event) -> float:
            t = time.perf_counter()
            reply = handler(event, context)
            took = (time.perf_counter() - t) * 1000
            body = json.loads(reply["body"])
            assert reply["statusCode"] == 200, reply
            assert body["cached"] is expect_cached and body["allTime"]["uses"] == applied[0], body.get("allTime")
            return took

        def drop_cache(period: str = period) -> None:
            ddb.update_item(TableName=ctx.table, Key=to_ddb({"pk": f"rollup#{CREATOR}", "sk": "main"}),
                            UpdateExpression="REMOVE #c", ExpressionAttributeNames={"#c": f"cache_{period}"})

        drop_cache()
        call(False)  # warm (the first import and clients are the cold start's, not measured)
        reads: list[tuple[str, int, int]] = []  # (operation, items, bytes) of one miss, not timed

        def count(http_response, parsed, model, reads=reads, **_):
            items = len(parsed.get("Items", [])) + (1 if "Item" in parsed else 0) + int(parsed.get("Count", 0)
                                                                                     if "Items" not in parsed else 0)
            reads.append((model.name, items, len(http_response.content or b"")))

        drop_cache()
        ddb.meta.events.register("after-call.dynamodb", count)
        try:
            call(False)
        finally:
            ddb.meta.events.unregister("after-call.dynamodb", count)
        reads = [r for r in reads if r[0] in ("GetItem", "Query", "BatchGetItem")]
        miss, hit = [], []
        for _ in range(ctx.args.samples):
            drop_cache()
            miss.append(call(False))
        for _ in range(ctx.args.samples):
            hit.append(call(True))
        # the window moved since the last change (a new bucket without a change yet, or a license
        # expired): the miss reads the detail item too (the writer's per-period parts are stale)
        key = to_ddb({"pk": f"rollup#{CREATOR}", "sk": "main"})
        current = ddb.get_item(TableName=ctx.table, Key=key, ConsistentRead=True)["Item"]
        stale = rollup.Main.decode(bytes(current["m"]["B"]))
        stale.periods = {p: {**parts, "end": "-"} for p, parts in stale.periods.items()}
        ddb.update_item(TableName=ctx.table, Key=key, UpdateExpression="SET m = :m",
                        ExpressionAttributeValues={":m": {"B": stale.encode()}})
        moved = []
        for _ in range(ctx.args.samples):
            drop_cache()
            moved.append(call(False))
        ddb.update_item(TableName=ctx.table, Key=key, UpdateExpression="SET m = :m",
                        ExpressionAttributeValues={":m": current["m"]})
        for kind, values in (("miss", miss), ("hit", hit), ("miss, window moved", moved)):
            rows.append({"period": period, "cache": kind, "samples": len(values),
                         "p50_ms": round(percentile(values, 50), 1), "p99_ms": round(percentile(values, 99), 1)})
        rows[-3]["miss_over_hit_p50"] = round(rows[-3]["p50_ms"] / rows[-2]["p50_ms"], 2)
        rows[-1]["miss_over_hit_p50"] = round(rows[-1]["p50_ms"] / rows[-2]["p50_ms"], 2)
        rows[-3].update(read_requests=len(reads), items_read=sum(r[1] for r in reads),
                        kb_read=round(sum(r[2] for r in reads) / 1024, 1))
        rows[-2].update(read_requests=1, items_read=1)
        rows[-1].update(read_requests=2, items_read=2)
    print(table(["period", "cache", "samples", "p50 ms", "p99 ms", "miss/hit p50", "reads", "items", "KB read"],
                [[r["period"], r["cache"], r["samples"], r["p50_ms"], r["p99_ms"], r.get("miss_over_hit_p50", ""),
                  r["read_requests"], r["items_read"], r.get("kb_read", "")] for r in rows]), flush=True)
    return rows


def update_rows(ctx: Ctx) -> list[dict[str, Any]]:
    """Aggregate updates per second: usage records through the stream feeder, batches of 100."""
    from marketplace.analytics.adapters import DynamoAnalyticsStore
    from marketplace.analytics.fakes import MemoryDirectory
    from marketplace.analytics.feeders import LoggingFeed, UsageFeeder
    from marketplace.analytics.models import creator_scope

    store = DynamoAnalyticsStore(ctx.table)
    licenses = {f"0x{0xdd000 + i:064x}": {"creator": OTHER_CREATOR, "buyer": f"0x{0xe000 + i:040x}",
                                          "contentId": f"0x{0xfe00 + i % 10:064x}"} for i in range(20)}
    feeder = UsageFeeder(store, MemoryDirectory(licenses), LoggingFeed())
    ids, now, n = list(licenses), int(time.time()), ctx.args.updates
    records = [{"licenseId": ids[i % len(ids)], "seq": i, "ts": now - i % 3600, "contentId": licenses[ids[i % 20]][
        "contentId"]} for i in range(n)]
    t0 = time.perf_counter()
    for start in range(0, n, 100):
        for r in records[start:start + 100]:
            feeder.add(r)
        feeder.flush()
    took = time.perf_counter() - t0
    replay = time.perf_counter()
    assert feeder.apply(records[:100]) == 0  # a replayed batch changes nothing
    replay_ms = (time.perf_counter() - replay) * 1000
    total = store.totals(creator_scope(OTHER_CREATOR))
    assert total is not None and total.get("uses") == n, total
    rows = [{"what": "usage records applied (a read of the rollup, 1 transaction: marker + 8 buckets + rollup)",
             "records": n,
             "seconds": round(took, 2), "per_second": round(n / took, 1),
             "replayed_batch_of_100_ms": round(replay_ms, 1)}]
    print(table(["aggregate updates", "records", "s", "per s", "replay of 100 (ms)"],
                [[r["what"], r["records"], r["seconds"], r["per_second"], r["replayed_batch_of_100_ms"]]
                 for r in rows]), flush=True)
    return rows


def live_rows(ctx: Ctx) -> list[dict[str, Any]]:
    """H4's rows: event-to-push latency with 50 WebSocket clients (bench/analytics_live.py)."""
    if ctx.args.no_live:
        return []
    from bench import analytics_live

    result = analytics_live.run(ctx.args.clients, ctx.args.events)
    analytics_live.print_rows(result["rows"])
    ctx.results["live_samples_ms"] = result["samples_ms"]
    return result["rows"]


# Each row function takes the context and returns its rows (printing its own table); add yours here.
ROWS = [("api", api_rows), ("updates", update_rows), ("live", live_rows)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uses", type=int, default=100_000)
    parser.add_argument("--contents", type=int, default=100)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--updates", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--no-live", action="store_true", help="skip the live stream's rows (a local stack)")
    parser.add_argument("--out", type=Path, default=RESULTS / "analytics.json")
    args = parser.parse_args(argv)
    ctx = Ctx(args)
    start_moto(ctx)
    report: dict[str, Any] = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}}
    try:
        for name, row in ROWS:
            print(f"\n== {name}", flush=True)
            report[name] = row(ctx)
    finally:
        ctx.moto.stop()
    report.update(ctx.results)
    api = report.get("api", [])
    report["summary"] = {
        "miss_p50_ms": {r["period"]: r["p50_ms"] for r in api if r["cache"] == "miss"},
        "hit_p50_ms": {r["period"]: r["p50_ms"] for r in api if r["cache"] == "hit"},
        "miss_within_3x_hit": all(r["miss_over_hit_p50"] <= 3 for r in api if r["cache"] == "miss"),
        "moved_window_miss_p50_ms": {r["period"]: r["p50_ms"] for r in api if r["cache"] == "miss, window moved"},
        "updates_per_second": report.get("updates", [{}])[0].get("per_second"),
    }
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
