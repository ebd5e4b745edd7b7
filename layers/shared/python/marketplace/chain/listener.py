"""The chain listener (Flow 4): contract logs → ``ChainEvent`` messages on the ``chain-events`` FIFO
(payments) and the same messages on ``analytics-events`` (Flow 7's aggregates): one sink per queue.

Run on a schedule (``functions/chain_listener``: EventBridge every minute in AWS, every few seconds
locally). An ``EventReader`` (cursor ``chain-listener`` in ``chain-cursors``) reads the
LicenseManager, UsageTracker and PaymentEscrow logs of the events the consumers handle (one
``topic0`` filter) up to ``CHAIN_CONFIRMATIONS`` deep; each log is decoded by its contract's ABI
and sent with message group = ``event.group`` (the license, else the account) and deduplication
id = ``event.dedupe_id`` (``txHash:logIndex``). The reader advances its cursor only after the sink
returned, and the sink returns only when SQS accepted every message of the page: a failed send
raises, the page is read again next run, and the queue's deduplication (5 minutes) plus the
consumer's markers make the re-send harmless.

Logs a reorg removed (``Page.removed``) are logged and counted, not sent: the confirmation depth
is the guard; a payment whose block vanished deeper than that is caught by the consumer's
confirmation check (``ReorganisedAway``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from marketplace.chain.events import ChainEvent

log = logging.getLogger(__name__)

LISTENED: dict[str, tuple[str, ...]] = {
    "LicenseManager": ("LicensePurchased", "LicenseRevoked", "UsageSignerAdded", "UsageSignerRevoked"),
    "UsageTracker": ("UsageLogged",),
    "PaymentEscrow": ("PaymentReleased", "Withdrawn", "Refunded"),
}
CURSOR_NAME = "chain-listener"
SQS_BATCH = 10  # SendMessageBatch's most entries


def _plain(value: Any) -> Any:
    """An event argument JSON-safe: bytes as 0x-hex, addresses as web3 gives them (checksummed)."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _hex(value: Any) -> str:
    return "0x" + bytes(value).hex() if isinstance(value, (bytes, bytearray)) else str(value)


@dataclass
class EventDecoder:
    """topic0 → (contract name, event ABI) for the listened events of the deployment's contracts."""

    abis: dict[str, list[dict[str, Any]]]  # contract name -> ABI
    addresses: dict[str, str]  # contract name -> address
    listened: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(LISTENED))

    def __post_init__(self) -> None:
        from eth_utils import event_abi_to_log_topic

        self._by_topic: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        for contract, names in self.listened.items():
            for entry in self.abis[contract]:
                if entry.get("type") == "event" and entry["name"] in names:
                    topic = "0x" + event_abi_to_log_topic(entry).hex()  # type: ignore[arg-type]
                    self._by_topic[(self.addresses[contract].lower(), topic)] = (contract, entry)

    @property
    def topics(self) -> list[str]:
        return sorted({topic for _, topic in self._by_topic})

    def decode(self, raw: dict[str, Any]) -> ChainEvent | None:
        """A raw ``eth_getLogs`` entry as a ``ChainEvent`` (None: not an event we listen to)."""
        from web3 import Web3
        from web3._utils.events import get_event_data

        from marketplace.chain.gateway import _log_receipt

        topic0 = raw["topics"][0] if raw.get("topics") else None
        found = self._by_topic.get((str(raw["address"]).lower(), str(topic0).lower()))
        if found is None:
            return None
        contract, abi = found
        entry = get_event_data(Web3().codec, abi, _log_receipt(raw))
        return ChainEvent(contract=contract, event=abi["name"],
                          args={k: _plain(v) for k, v in dict(entry["args"]).items()},
                          txHash=_hex(entry["transactionHash"]).lower(), logIndex=int(entry["logIndex"]),
                          blockNumber=int(entry["blockNumber"]), blockHash=_hex(entry["blockHash"]).lower())


class SqsFifoSink:
    """Sends ``ChainEvent``s to a FIFO queue in batches of 10, in order; raises unless SQS
    accepted every message."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.sent = 0

    def send(self, events: Iterable[ChainEvent]) -> int:
        batch: list[ChainEvent] = []
        count = 0
        for event in events:
            batch.append(event)
            if len(batch) == SQS_BATCH:
                count += self._send(batch)
                batch = []
        if batch:
            count += self._send(batch)
        self.sent += count
        return count

    def _send(self, batch: list[ChainEvent]) -> int:
        entries = [{"Id": str(i), "MessageBody": json.dumps(e.model_dump(mode="json"), separators=(",", ":")),
                    "MessageGroupId": e.group, "MessageDeduplicationId": e.dedupe_id}
                   for i, e in enumerate(batch)]
        out = self.sqs.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        failed = out.get("Failed") or []
        if failed:
            raise RuntimeError(f"SQS refused {len(failed)} of {len(entries)} chain events: "
                               f"{[(f.get('Id'), f.get('Code')) for f in failed]}")
        return len(entries)


@dataclass
class ListenerReport:
    delivered: int = 0
    sent: int = 0
    removed: int = 0
    pages: int = 0
    reorgs: int = 0


class ChainListener:
    def __init__(self, gateway: Any, sqs: Any, queue_url: str | Sequence[str], *, max_pages: int = 50,
                 cursor_name: str = CURSOR_NAME, start_block: int | None = None) -> None:
        contracts = list(LISTENED)
        self.decoder = EventDecoder({c: gateway.abi(c) for c in contracts},
                                    {c: gateway.deployment.address(c) for c in contracts})
        self.reader = gateway.reader(cursor_name, contracts, start_block=start_block, topics=[self.decoder.topics])
        urls = [queue_url] if isinstance(queue_url, str) else list(queue_url)
        # every page goes to each queue before the cursor moves (a failed send: the page is read and
        # sent again to all; each queue's deduplication and its consumer's markers keep one effect)
        self.sinks = [SqsFifoSink(sqs, url) for url in urls]
        self.sink = self.sinks[0]
        self.max_pages = max_pages

    def run(self) -> ListenerReport:
        report = ListenerReport()

        def sink(page) -> None:
            events = [e for e in (self.decoder.decode(raw) for raw in page.logs) if e is not None]
            events.sort(key=lambda e: (e.blockNumber, e.logIndex))
            report.sent += self.sink.send(events)
            for other in self.sinks[1:]:
                other.send(events)
            report.pages += 1
            if page.removed:
                report.removed += len(page.removed)
                log.warning("a reorg removed %d logs in blocks %s-%s (not sent; the consumer's confirmation "
                            "check guards payments)", len(page.removed), page.from_block, page.to_block)

        report.delivered = self.reader.poll(sink, max_pages=self.max_pages)
        report.reorgs = self.reader.reorgs
        return report
