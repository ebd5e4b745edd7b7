"""The chain gateway: relayed transactions per second with 1 and 8 concurrent senders, how long
the nonce lease is held, and events per second read by the checkpointed event reader.

    uv run python bench/chain.py [--runs 3] [--txs 200] [--events 10000]   (make bench-chain)

Starts a Hardhat node and a moto server (in this process, with the local stack's KMS DIGEST
patch) on free 127.0.0.1 ports, creates the resources of ``marketplace.resources`` in moto
(``local.aws``), funds the relayer's KMS address from a Hardhat account and deploys the
``EventEmitter`` test contract (tests/contracts/fixtures). Then:

- **send**: ``senders`` threads, each with its own ``ChainGateway`` (own boto3 clients, own web3
  connection: separate Lambda containers), share ``--txs`` relayed ``emitMany(batch, 1)``
  transactions; each ``transact`` estimates gas, takes the DynamoDB nonce lease, signs with KMS,
  journals, broadcasts, releases, and waits for the receipt (Hardhat automines). ``tx_per_s`` =
  transactions / wall time; ``lease_held_ms`` = acquire→release of each lease (p50, p99);
  ``lease_retries`` = refused conditional writes while waiting for the lease;
- **outbox floor**: one message through an SQS FIFO queue (send, receive, delete), what a
  single-message-group outbox would add per transaction (``docs/design.md``, "Chain gateway");
- **read**: ``--events`` Tick events (500 per transaction) read by a fresh ``EventReader`` cursor
  (max range 2,000 blocks, and 5 blocks to show paging's cost); ``events_per_s``.

Medians over ``--runs`` runs. One 2-core machine runs the node, moto and the senders, so the
numbers compare designs here rather than predict AWS (where KMS Sign is ~10-20 ms and DynamoDB
~5 ms). Writes ``bench/results/chain.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))
from bench.common import machine, percentile

OUT = ROOT / "bench" / "results" / "chain.json"
PREFIX = "zkdm-bench"



class LeaseTimer:
    """Times every lease from acquire to release (patched onto NonceLease for the run)."""

    def __init__(self) -> None:
        from marketplace.chain.nonces import NonceLease

        self.held: list[float] = []
        self.started: dict[str, float] = {}
        self.lock = threading.Lock()
        acquire, release = NonceLease.acquire, NonceLease.release
        timer = self

        def timed_acquire(lease_self, key):
            lease = acquire(lease_self, key)
            timer.started[lease.owner] = time.perf_counter()
            return lease

        def timed_release(lease_self, lease, next_nonce):
            out = release(lease_self, lease, next_nonce)
            t0 = timer.started.pop(lease.owner, None)
            if t0 is not None:
                with timer.lock:
                    timer.held.append((time.perf_counter() - t0) * 1000)
            return out

        NonceLease.acquire, NonceLease.release = timed_acquire, timed_release


def send_run(factory, senders: int, total: int, batch_base: int) -> dict:
    gateways = [factory.gateway() for _ in range(senders)]
    for g in gateways:  # warm each container: connection, KMS public key
        _ = g.relayer
    per = [total // senders + (1 if i < total % senders else 0) for i in range(senders)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(senders + 1)

    def run(i: int) -> None:
        barrier.wait()
        for j in range(per[i]):
            try:
                r = gateways[i].transact("EventEmitter", "emitMany", batch_base + i, 1, purpose="bench")
                assert r["status"] == 1
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(senders)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    retries = sum(g.sender.lease.contended for g in gateways)
    return {"txs": total, "seconds": wall, "tx_per_s": total / wall, "errors": len(errors), "lease_retries": retries}


def read_run(factory, name: str, start: int, max_range: int, expected: int) -> dict:
    got = 0

    def sink(page) -> None:
        nonlocal got
        got += len(page.logs)

    reader = factory.gateway(max_log_range=max_range).reader(name, ["EventEmitter"], start_block=start)
    t0 = time.perf_counter()
    reader.poll(sink)
    wall = time.perf_counter() - t0
    assert got == expected, (got, expected)
    return {"events": got, "seconds": wall, "events_per_s": got / wall}


def fifo_round_trip_ms(moto_url: str, queue_url: str, samples: int = 30) -> float:
    """For the outbox alternative: one message through an SQS FIFO queue (send, receive, delete),
    the floor per transaction a single-group outbox adds to the same sign/journal/broadcast work."""
    import boto3

    sqs = boto3.client("sqs", endpoint_url=moto_url, region_name="us-east-1")
    times = []
    for i in range(samples):
        t0 = time.perf_counter()
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"n": i}), MessageGroupId="relayer",
                         MessageDeduplicationId=f"bench-{time.time_ns()}")
        [m] = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=1)["Messages"]
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--txs", type=int, default=200, help="transactions per send run")
    parser.add_argument("--events", type=int, default=10_000, help="events the reader catches up (× 500)")
    args = parser.parse_args(argv)

    import os

    from local.aws import create_local_resources
    from local.processes import HardhatNode, MotoServer, hardhat_accounts
    from local.stack import RELAYER_FUNDING_WEI, _load_deploy, relayer_address
    from tests.support.chain_world import GatewayFactory, abi_dir_with_emitter, deploy_emitter, emit

    node, moto = HardhatNode(), MotoServer()
    timer = LeaseTimer()
    try:
        node.start()
        moto.start()
        os.environ["AWS_ENDPOINT_URL"] = moto.url
        env = create_local_resources(moto.url, PREFIX)
        relayer = relayer_address(env["RELAYER_KEY_ID"])
        (_, funder), (_, deployer) = hardhat_accounts(2)[1], hardhat_accounts(1)[0]
        _load_deploy("fund")(node.url, funder, relayer, RELAYER_FUNDING_WEI)
        from web3 import Web3

        w3 = Web3(Web3.HTTPProvider(node.url))
        emitter = deploy_emitter(w3, deployer)
        deployment = {"chainId": w3.eth.chain_id, "rpcUrl": node.url, "contracts": {"EventEmitter": emitter},
                      "blockNumber": w3.eth.block_number}
        abi_dir = abi_dir_with_emitter(Path(tempfile.mkdtemp(prefix="bench-chain-abi-")))
        factory = GatewayFactory(moto.url, env, deployment, abi_dir, defaults={"tx_timeout": 120.0})

        send: dict[str, dict] = {}
        for senders in (1, 8):
            runs = []
            timer.held.clear()
            for r in range(args.runs):
                runs.append(send_run(factory, senders, args.txs, 10_000 * (r + 1) + 100 * senders))
            assert all(x["errors"] == 0 for x in runs), runs
            send[str(senders)] = {
                "tx_per_s": round(statistics.median(x["tx_per_s"] for x in runs), 1),
                "lease_held_ms_p50": round(percentile(timer.held, 50), 1),
                "lease_held_ms_p99": round(percentile(timer.held, 99), 1),
                "lease_retries_per_tx": round(statistics.median(x["lease_retries"] for x in runs) / args.txs, 2),
                "runs": [{k: round(v, 3) if isinstance(v, float) else v for k, v in x.items()} for x in runs],
            }
            print(f"send, {senders} sender(s): {send[str(senders)]['tx_per_s']:6.1f} tx/s   lease held "
                  f"p50 {send[str(senders)]['lease_held_ms_p50']:.1f} ms, p99 "
                  f"{send[str(senders)]['lease_held_ms_p99']:.1f} ms   lease retries/tx "
                  f"{send[str(senders)]['lease_retries_per_tx']}", flush=True)
        nonce = w3.eth.get_transaction_count(relayer, "latest")
        assert nonce == 2 * args.runs * args.txs, (nonce, "no gap: every relayer nonce mined")

        first = w3.eth.block_number + 1
        batches = args.events // 500
        for b in range(batches):
            emit(w3, deployer, emitter, 1 + b, 500)
        fifo_ms = fifo_round_trip_ms(moto.url, env["CHAIN_EVENTS_QUEUE"])
        print(f"SQS FIFO send+receive+delete (outbox alternative): {fifo_ms:.1f} ms per message", flush=True)
        read: dict[str, dict] = {}
        for max_range in (2000, 5):
            runs = [read_run(factory, f"bench-{max_range}-{r}", first, max_range, batches * 500)
                    for r in range(args.runs)]
            read[str(max_range)] = {"events_per_s": round(statistics.median(x["events_per_s"] for x in runs)),
                                    "runs": [{k: round(v, 3) if isinstance(v, float) else v for k, v in x.items()}
                                             for x in runs]}
            print(f"read, max range {max_range:>4} blocks: {read[str(max_range)]['events_per_s']:7d} events/s "
                  f"({batches * 500} events in {batches} blocks)", flush=True)
    finally:
        moto.stop()
        node.stop()

    report = {
        "machine": machine(),
        "runs": args.runs,
        "send": send,
        "outbox_fifo_round_trip_ms": round(fifo_ms, 1),
        "read": read,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print()
    print("| measure | median |")
    print("|---|---|")
    for n, row in send.items():
        print(f"| tx/s, {n} sender(s) | {row['tx_per_s']} (lease held p50 {row['lease_held_ms_p50']} ms) |")
    for r, row in read.items():
        print(f"| events/s, max range {r} blocks | {row['events_per_s']} |")
    print(f"written to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
