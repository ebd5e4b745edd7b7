"""Flow 7's live stream on the local stack: event-to-push latency with N connected dashboards.

    uv run python bench/analytics_live.py [--clients 50] [--events 20]   (part of make bench-analytics)

Starts ``python -m local.stack`` in a child process (free ports, its own state directory). A
creator registers content and offers terms; a buyer buys a license and registers a worker key.
``--clients`` WebSocket clients connect to the analytics stream with the creator's session JWT
(the ``bearer.<jwt>`` subprotocol, as the dashboard does), all in this process (asyncio). Then,
one event after another:

- **access → push**: the buyer's worker makes one signed ``POST /content/{id}/access``; measured
  from just before the request to each client's receipt of ``{contentId, type: "usage", delta:
  {"uses": 1}}`` (one sample per client per event): the access, the usage table's stream read by
  the local stack's poller, the analytics feeder applying the change, the connections lookup and
  ``--clients`` pushes through the Management API emulation.
- **publish → push**: ``analytics.live.LiveStream.publish`` called here against the stack's
  connections table (moto) and Management endpoint: the fan-out alone (one DynamoDB query, the
  pushes in parallel).

Prints a table (p50, p99, max in ms) and returns the rows and samples; ``bench/analytics.py``
writes them into ``bench/results/analytics.json`` (alone: ``--out``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))
from bench.common import machine, percentile, table, write_report

START_TIMEOUT = 300
PUSH_TIMEOUT = 15.0  # seconds an event may take to reach every client before it counts as missed


class Stack:
    """``python -m local.stack`` in a child process; ``info`` is its stack.json."""

    def __init__(self) -> None:
        from local.processes import free_port

        self.dir = Path(tempfile.mkdtemp(prefix="bench-analytics-"))
        self.log = open(self.dir / "stack.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "local.stack", "--port", str(free_port()), "--state-dir", str(self.dir)],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + START_TIMEOUT
        while not (self.dir / "stack.json").is_file():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"local stack did not start; see {self.dir / 'stack.log'}")
            time.sleep(0.2)
        self.info: dict[str, Any] = json.loads((self.dir / "stack.json").read_text())

    def account(self, role: str) -> dict[str, str]:
        return next(a for a in self.info["accounts"] if a["role"] == role)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def setup(stack: Stack) -> dict[str, Any]:
    from local.client import Client
    from local.license_client import LicenseClient

    api = Client(stack.info["apiUrl"], timeout=120)
    creator, buyer = stack.account("creator1"), stack.account("buyer1")
    creator_jwt, buyer_jwt = api.login(creator["privateKey"]), api.login(buyer["privateKey"])
    content_id = api.register_file(creator_jwt, os.urandom(4096), {"title": "bench live", "description": "",
                                                                   "tags": ["bench"]}, filename="b.bin")["contentId"]
    lc = LicenseClient(api)
    terms = lc.create_terms(creator_jwt, creator["privateKey"], content_id, price_per_use=1_000, max_uses=10_000)
    bought = lc.purchase_with_permit(buyer_jwt, buyer["privateKey"], terms["termsId"])
    lc.worker(bought["licenseId"], buyer_jwt, buyer["privateKey"])
    return {"lc": lc, "contentId": content_id, "bought": bought, "creatorJwt": creator_jwt,
            "creator": creator["address"].lower()}


class Clients:
    """``n`` WebSocket clients on one event loop (a thread): each notes when a message about
    ``content_id`` arrives (``time.perf_counter``, the same clock as the sender's)."""

    def __init__(self, url: str, token: str, n: int, content_id: str) -> None:
        self.url, self.token, self.n, self.content_id = url, token, n, content_id
        self.arrivals: list[list[tuple[float, dict]]] = [[] for _ in range(n)]
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stop_event: asyncio.Event | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True)
        self.thread.start()
        if not self.ready.wait(60) or self.error:
            raise RuntimeError(f"clients did not connect: {self.error!r}")

    async def _client(self, i: int, connected: asyncio.Event, count: list[int]) -> None:
        import websockets

        async with websockets.connect(self.url, subprotocols=["zkdm.analytics", f"bearer.{self.token}"],
                                      max_size=2**20, ping_interval=None) as ws:
            count[0] += 1
            if count[0] == self.n:
                connected.set()
            assert self.stop_event is not None
            stop = asyncio.ensure_future(self.stop_event.wait())
            while True:
                recv = asyncio.ensure_future(ws.recv())
                done, _ = await asyncio.wait({recv, stop}, return_when=asyncio.FIRST_COMPLETED)
                if stop in done:
                    recv.cancel()
                    return
                now = time.perf_counter()
                msg = json.loads(recv.result())
                if msg.get("contentId") == self.content_id:
                    self.arrivals[i].append((now, msg))

    async def _main(self) -> None:
        self.stop_event = asyncio.Event()
        connected, count = asyncio.Event(), [0]
        tasks = [asyncio.ensure_future(self._client(i, connected, count)) for i in range(self.n)]
        try:
            await asyncio.wait_for(connected.wait(), 60)
        except BaseException as exc:  # noqa: BLE001 - reported by __init__
            self.error = exc
        self.ready.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    def received(self, since_index: list[int]) -> list[float | None]:
        """Per client, the arrival time of its next message after ``since_index`` (None: not yet)."""
        return [a[since_index[i]][0] if len(a) > since_index[i] else None for i, a in enumerate(self.arrivals)]

    def close(self) -> None:
        if self.stop_event is not None:
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(10)


def _one_event(clients: Clients, trigger) -> tuple[list[float], int]:
    """Latencies (s) of one event at every client, and how many clients missed it."""
    marks = [len(a) for a in clients.arrivals]
    t0 = time.perf_counter()
    trigger()
    deadline = time.monotonic() + PUSH_TIMEOUT
    while True:
        got = clients.received(marks)
        if all(g is not None for g in got) or time.monotonic() > deadline:
            break
        time.sleep(0.005)
    return [g - t0 for g in got if g is not None], sum(g is None for g in got)


def run(clients_n: int = 50, events: int = 20) -> dict[str, Any]:
    stack = Stack()
    try:
        world = setup(stack)
        ws = stack.info["websockets"]["analytics-stream"]
        clients = Clients(ws["url"], world["creatorJwt"], clients_n, world["contentId"])
        try:
            b = world["bought"]

            def access() -> None:
                world["lc"].access(world["contentId"], b["apiKey"], b["accessToken"])

            access()  # warm: the feeder's and the pushers' first (cold) invocations
            time.sleep(3)
            samples: dict[str, list[float]] = {"access → push": [], "publish → push": []}
            missed = {k: 0 for k in samples}
            for _ in range(events):
                lat, miss = _one_event(clients, access)
                samples["access → push"] += lat
                missed["access → push"] += miss
            # the stack's moto, for this process's clients (another row may have pointed them elsewhere:
            # adapters.aws caches one client per service)
            saved = os.environ.get("AWS_ENDPOINT_URL")
            os.environ["AWS_ENDPOINT_URL"] = stack.info["awsEndpoint"]
            os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
            os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
            os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
            from marketplace.adapters.aws import client as aws_client
            from marketplace.analytics.live import live_stream
            from marketplace.analytics.ports import LiveUpdate

            aws_client.cache_clear()

            feed = live_stream(f"{stack.info['prefix']}-ws-connections", ws["managementUrl"])
            update = LiveUpdate(contentId=world["contentId"], creator=world["creator"], type="usage",
                                delta={"uses": 1})
            feed.publish([update])  # warm the management client
            time.sleep(0.5)
            for _ in range(events):
                lat, miss = _one_event(clients, lambda: feed.publish([update]))
                samples["publish → push"] += lat
                missed["publish → push"] += miss
            aws_client.cache_clear()
            if saved is None:
                os.environ.pop("AWS_ENDPOINT_URL", None)
            else:
                os.environ["AWS_ENDPOINT_URL"] = saved
        finally:
            clients.close()
    finally:
        stack.stop()
    rows = []
    for name, values in samples.items():
        ms = [v * 1000 for v in values]
        rows.append({"what": name, "clients": clients_n, "events": events, "samples": len(ms),
                     "missed": missed[name], "p50_ms": round(percentile(ms, 50), 1) if ms else None,
                     "p99_ms": round(percentile(ms, 99), 1) if ms else None,
                     "max_ms": round(max(ms), 1) if ms else None})
    return {"rows": rows, "samples_ms": {k: [round(v * 1000, 2) for v in vs] for k, vs in samples.items()}}


def print_rows(rows: list[dict[str, Any]]) -> None:
    print(table(["event-to-push", "clients", "events", "samples", "missed", "p50 ms", "p99 ms", "max ms"],
                [[r["what"], r["clients"], r["events"], r["samples"], r["missed"], r["p50_ms"], r["p99_ms"],
                  r["max_ms"]] for r in rows]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None, help="write the results alone to this JSON file")
    args = parser.parse_args(argv)
    result = run(args.clients, args.events)
    print_rows(result["rows"])
    if args.out:
        write_report(args.out, {"machine": machine(), "live": result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
