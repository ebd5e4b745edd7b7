"""Flow 4 settlement on the local stack: from a license's 64th signed access to the creator's
``payment.completed`` webhook, uses settled per minute, and gas per billable use at 64.

    uv run python bench/settlement.py [--runs 5] [--licenses 4]   (make bench-settlement)

Starts ``python -m local.stack`` in a child process (its own state directory, free ports: the
Hardhat node, moto with every resource, the API emulation and the workers: chain listener every
3 s, the payments, notifications and webhook-delivery consumers) and a webhook receiver on
127.0.0.1. **The usage-batches schedule is set to an hour** (``--schedule-seconds``; 10 minutes in
AWS, 15 s in ``make dev``): batches are then started by the access path's nudge at 64 pending
uses, as a full batch is in AWS; a 15 s schedule would take partial batches of a license whose
window is open while its 64 accesses are still coming. A creator registers content, offers terms
and registers the receiver for ``payment.completed``; the buyer buys ``--runs + --licenses``
licenses and registers a worker key for each; then chain time moves 16 minutes
(``evm_increaseTime`` + ``evm_mine``: the local minimum batch window is 15 minutes of chain time
after a purchase; purchases and signer registrations come first, since their signatures'
deadlines are wall-clock times the moved chain would see as past). Then:

- **latency** (``--runs`` licenses, one after another): the license's worker makes 64 signed
  accesses one after another; the 64th starts the usage-batches state machine: prepare, prove
  ``usage_batch`` (groth16py), ``logUsageBatch`` through the chain gateway (paid in the same
  transaction), confirm, mark; the listener (3 s) puts ``PaymentReleased`` on the FIFO, the
  payments consumer completes it and notifies; the webhook arrives. Measured: from the 64th
  access's answer to the webhook's arrival; p50 and max over the runs.
- **throughput**: ``--licenses`` licenses, one worker each making its 64 accesses, all at once.
  Uses settled per minute = all their uses over the time from the first access to the last
  webhook (what 2 cores sustain with the client, the API, the prover, the node and moto on them),
  and over the settlement alone (the last 64th access to the last webhook).
- **gas**: each batch's ``logUsageBatch`` receipt (``gasUsed`` / 64: a license's first batch, one
  signer), next to ``bench/results/gas.json``'s steady and first figures (``make bench-gas``).

Writes ``bench/results/settlement.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
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
from bench.common import machine

OUT = ROOT / "bench" / "results" / "settlement.json"
GAS = ROOT / "bench" / "results" / "gas.json"

BATCH = 64
PRICE, MAX_USES = 1_000, 128
CHAIN_ADVANCE = 16 * 60  # past the local minimum window (local.stack.LOCAL_MIN_WINDOW, 15 min)
SETTLE_TIMEOUT = 300.0



class Stack:
    """``python -m local.stack`` in a child process, stopped with SIGTERM (it stops its node itself)."""

    def __init__(self, schedule_seconds: float) -> None:
        from local.processes import free_port

        self.dir = Path(tempfile.mkdtemp(prefix="bench-settlement-"))
        self.log = open(self.dir / "stack.log", "wb")  # noqa: SIM115 - closed in stop()
        run = ("import sys, local.workers as w; w.USAGE_BATCHES_SECONDS = float(sys.argv[1]); "
               "from local.stack import main; sys.exit(main(sys.argv[2:]))")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", run, str(schedule_seconds),
             "--port", str(free_port()), "--state-dir", str(self.dir)],
            cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def wait(self, timeout: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        info = self.dir / "stack.json"
        while not info.is_file():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the local stack did not start; see {self.dir / 'stack.log'}")
            time.sleep(0.2)
        return json.loads(info.read_text())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


class World:
    """The stack's API and chain, the creator's content and terms, the buyer, the receiver."""

    def __init__(self, info: dict[str, Any]) -> None:
        from standardwebhooks import Webhook
        from web3 import Web3

        from local.client import Client, stack_account
        from local.license_client import LicenseClient
        from tests.support.webhook_receiver import Receiver

        self.info = info
        self.api = Client(info["apiUrl"], timeout=120)
        self.lc = LicenseClient(self.api)
        self.w3 = Web3(Web3.HTTPProvider(info["rpcUrl"], request_kwargs={"timeout": 60}))
        self.keys = {r: stack_account(info, r)["privateKey"] for r in ("creator1", "buyer1")}
        self.jwt = {r: self.api.login(k) for r, k in self.keys.items()}
        self.receiver = Receiver()
        hook = self.api.request("POST", "/webhooks", self.jwt["creator1"], expect=(201,),
                                json={"url": self.receiver.url, "events": ["payment.completed"]}).json()
        self.webhook = Webhook(hook["secret"])
        record = self.api.register_file(self.jwt["creator1"], os.urandom(20_000),
                                        {"title": "settlement bench", "description": "", "tags": ["bench"]},
                                        filename="bench.bin")
        self.content_id = record["contentId"]
        self.terms = self.lc.create_terms(self.jwt["creator1"], self.keys["creator1"], self.content_id,
                                          price_per_use=PRICE, max_uses=MAX_USES, duration_seconds=7 * 24 * 3600)

    def buy(self) -> dict[str, Any]:
        """A license with its worker registered."""
        bought = self.lc.purchase_with_permit(self.jwt["buyer1"], self.keys["buyer1"], self.terms["termsId"])
        self.lc.worker(bought["licenseId"])
        return bought

    def open_windows(self) -> None:
        """Chain time past the minimum window of every license bought so far."""
        for method, params in (("evm_increaseTime", [CHAIN_ADVANCE]), ("evm_mine", [])):
            reply = self.w3.provider.make_request(method, params)  # type: ignore[arg-type]
            assert "error" not in reply, reply

    def accesses(self, bought: dict[str, Any], n: int = BATCH) -> float:
        """``n`` signed accesses, one after another; the monotonic time of the last one's answer."""
        import requests

        with requests.Session() as session:
            for _ in range(n):
                self.lc.access(self.content_id, bought["apiKey"], bought["accessToken"], session=session)
        return time.monotonic()

    def webhook_for(self, license_id: str, timeout: float = SETTLE_TIMEOUT) -> tuple[float, dict[str, Any]]:
        """(arrival time, verified payload) of the ``payment.completed`` webhook for the license."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for got in list(self.receiver.received):
                payload = self.webhook.verify(got.body, got.headers)
                if payload["data"]["licenseId"] == license_id:
                    return got.at, payload
            time.sleep(0.05)
        raise TimeoutError(f"no payment.completed webhook for {license_id} in {timeout:.0f} s")

    def gas_per_use(self, payload: dict[str, Any]) -> tuple[int, int]:
        """(gasUsed of the batch's logUsageBatch, uses it paid)."""
        receipt = self.w3.eth.get_transaction_receipt(payload["data"]["txHash"])
        return int(receipt["gasUsed"]), int(payload["data"]["uses"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="latency runs (one license, 64 uses, each)")
    parser.add_argument("--licenses", type=int, default=4, help="licenses settled at once in the throughput run")
    parser.add_argument("--schedule-seconds", type=float, default=3600.0,
                        help="the usage-batches schedule (the nudge at 64 pending uses starts the batches)")
    args = parser.parse_args(argv)

    stack = Stack(args.schedule_seconds)
    world: World | None = None
    try:
        t0 = time.monotonic()
        info = stack.wait()
        print(f"local stack ready in {time.monotonic() - t0:.1f} s", flush=True)
        world = World(info)
        gas: list[tuple[int, int]] = []

        licenses = [world.buy() for _ in range(args.runs + args.licenses)]
        world.open_windows()

        latency: list[float] = []
        for r, bought in enumerate(licenses[:args.runs]):
            last = world.accesses(bought)
            arrived, payload = world.webhook_for(bought["licenseId"])
            assert payload["data"]["uses"] == BATCH and payload["data"]["amount"] == (
                BATCH * PRICE - BATCH * PRICE * 250 // 10_000), payload
            latency.append(arrived - last)
            gas.append(world.gas_per_use(payload))
            print(f"run {r + 1}: 64th access -> payment.completed webhook {latency[-1]:.1f} s "
                  f"(logUsageBatch {gas[-1][0]:,} gas)", flush=True)

        licenses = licenses[args.runs:]
        done: dict[str, float] = {}
        threads = [threading.Thread(target=lambda b=b: done.__setitem__(b["licenseId"], world.accesses(b)))
                   for b in licenses]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        arrivals = []
        for b in licenses:
            arrived, payload = world.webhook_for(b["licenseId"])
            arrivals.append(arrived)
            gas.append(world.gas_per_use(payload))
        total = args.licenses * BATCH
        wall, settle = max(arrivals) - start, max(arrivals) - max(done.values())
        throughput = {"licenses": args.licenses, "uses": total, "seconds_first_access_to_last_webhook": round(wall, 2),
                      "seconds_last_64th_access_to_last_webhook": round(settle, 2),
                      "uses_settled_per_minute": round(total / wall * 60),
                      "uses_settled_per_minute_settlement_only": round(total / settle * 60)}
        print(f"throughput: {args.licenses} licenses x 64 uses settled in {wall:.1f} s from the first access "
              f"({throughput['uses_settled_per_minute']} uses/min; settlement alone {settle:.1f} s)", flush=True)
    finally:
        if world is not None:
            world.receiver.stop()
        stack.stop()

    per_use = [g // u for g, u in gas]
    reference = json.loads(GAS.read_text()) if GAS.is_file() else {}
    batches = reference.get("usage_batches", {})
    report = {
        "what": "Flow 4 on the local stack (python -m local.stack, 2 cores shared by client, API, prover, node, moto)",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine(),
        "batch": BATCH,
        "usage_batches_schedule_s": args.schedule_seconds,
        "started_by": "the access path's nudge at 64 pending uses",
        "latency_64th_access_to_webhook_s": {"p50": round(statistics.median(latency), 2),
                                             "max": round(max(latency), 2), "runs": [round(x, 2) for x in latency]},
        "throughput": throughput,
        "gas_per_billable_use_at_64": {
            "measured_first_batch_one_signer": {"p50": int(statistics.median(per_use)), "samples": per_use,
                                                "gasUsed": [g for g, _ in gas]},
            "gas_json_steady_one_signer": batches.get("steady", {}).get("64", {}).get("per_event"),
            "gas_json_first_one_signer": batches.get("first", {}).get("64", {}).get("per_event"),
            "gas_json_steady_4_signers": batches.get("steady, 4 signers", {}).get("64", {}).get("per_event"),
            "bound": reference.get("per_use_bound", 12_000), "aim": reference.get("per_use_aim", 7_000),
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    g = report["gas_per_billable_use_at_64"]
    print()
    print("| measure | value |")
    print("|---|---|")
    print(f"| 64th access -> payment.completed webhook, p50 ({args.runs} runs) | "
          f"{report['latency_64th_access_to_webhook_s']['p50']} s (max {report['latency_64th_access_to_webhook_s']['max']} s) |")
    print(f"| uses settled per minute ({args.licenses} licenses x 64 at once, first access -> last webhook) | "
          f"{throughput['uses_settled_per_minute']} |")
    print(f"| uses settled per minute (settlement alone: last 64th access -> last webhook) | "
          f"{throughput['uses_settled_per_minute_settlement_only']} |")
    print(f"| gas per billable use at 64, measured (a license's first batch, 1 signer) | "
          f"{g['measured_first_batch_one_signer']['p50']:,} |")
    if g["gas_json_steady_one_signer"]:
        print(f"| gas per billable use at 64, gas.json steady 1 signer / 4 signers / first | "
              f"{g['gas_json_steady_one_signer']:,} / {g['gas_json_steady_4_signers']:,} / "
              f"{g['gas_json_first_one_signer']:,} (bound {g['bound']:,}, aim {g['aim']:,}) |")
    print(f"written to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
