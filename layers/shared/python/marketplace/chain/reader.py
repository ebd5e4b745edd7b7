"""Reading logs: bounded ``eth_getLogs`` pages, and a checkpointed event reader.

``iter_log_pages`` reads ``[from, to]`` in ranges of at most ``max_range`` blocks (providers cap
``eth_getLogs`` by range and by result count); a range the node refuses is halved, down to one
block, before the error is raised (decided by the refusal, not by its message).

``EventReader`` follows a set of contracts from a cursor stored in DynamoDB (``chain-cursors``):

- reads only blocks with at least ``confirmations`` blocks on top (1 = the head itself);
- hands each page ``(logs, removed, from_block, to_block)`` to a ``sink``; the cursor advances
  only after the sink returned, so a crash (or a raising sink) re-reads the page, never loses it;
- dedupe by ``(txHash, logIndex)``: the ids delivered in the last ``reorg_depth`` blocks are kept
  with the cursor, so a page read again is not delivered twice;
- reorgs: the cursor remembers the hashes of the last ``reorg_depth`` blocks it read through; when
  the chain's hash for one of them differs, the reader goes back to ``checkpoint - reorg_depth``
  and reads forward again: logs still there are skipped as seen, logs that vanished are handed to
  the sink as ``removed``;
- the cursor write is conditional on the cursor it read (one reader per name advances it).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from marketplace.adapters.aws import error_code
from marketplace.adapters.dynamodb import from_ddb, to_ddb

log = logging.getLogger(__name__)


def _hex(b: Any) -> str:
    if isinstance(b, (bytes, bytearray)):
        return "0x" + bytes(b).hex()
    return str(b)


def get_logs(w3: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Raw ``eth_getLogs`` (hex fields as the node gives them, no per-log object churn)."""
    reply = w3.provider.make_request("eth_getLogs", [params])
    if "error" in reply:
        raise LogRangeRefused(reply["error"])
    return reply["result"]


class LogRangeRefused(RuntimeError):
    pass


def iter_log_pages(w3: Any, *, addresses: list[str], topics: list[Any] | None, from_block: int, to_block: int,
                   max_range: int) -> Iterator[tuple[int, int, list[dict[str, Any]]]]:
    """(from, to, logs) pages covering ``[from_block, to_block]`` in order."""
    start = from_block
    span = max(1, max_range)
    while start <= to_block:
        end = min(start + span - 1, to_block)
        params: dict[str, Any] = {"address": addresses if len(addresses) != 1 else addresses[0],
                                  "fromBlock": hex(start), "toBlock": hex(end)}
        if topics:
            params["topics"] = topics
        try:
            logs = get_logs(w3, params)
        except LogRangeRefused:
            if end == start:
                raise
            span = max(1, (end - start + 1) // 2)
            continue
        yield start, end, logs
        start = end + 1


def log_id(entry: dict[str, Any]) -> str:
    """A short stable id of ``(txHash, logIndex)`` (16 hex digits of SHA-256)."""
    key = f"{_hex(entry['transactionHash']).lower()}:{int(str(entry['logIndex']), 0)}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass
class Cursor:
    name: str
    next_block: int
    blocks: dict[int, str] = field(default_factory=dict)  # block number -> hash, the last reorg_depth read
    seen: dict[str, int] = field(default_factory=dict)  # log id -> block number, same window
    version: int = 0


@dataclass
class Page:
    from_block: int
    to_block: int
    logs: list[dict[str, Any]]
    removed: list[dict[str, Any]]


Sink = Callable[[Page], None]


class EventReader:
    def __init__(self, w3: Any, *, table: str, name: str, addresses: list[str], start_block: int,
                 topics: list[Any] | None = None, max_range: int = 2000, confirmations: int = 1,
                 reorg_depth: int = 12, ddb: Any | None = None) -> None:
        if confirmations < 1 or reorg_depth < 1 or max_range < 1:
            raise ValueError("confirmations, reorg_depth and max_range are at least 1")
        self.w3 = w3
        self.table = table
        self.name = name
        self.addresses = addresses
        self.topics = topics
        self.start_block = start_block
        self.max_range = max_range
        self.confirmations = confirmations
        self.reorg_depth = reorg_depth
        self._ddb = ddb
        self.reorgs = 0

    @property
    def ddb(self) -> Any:
        if self._ddb is None:
            from marketplace.adapters.aws import client

            self._ddb = client("dynamodb")
        return self._ddb

    # -- the cursor -------------------------------------------------------------------------------

    def load(self) -> Cursor:
        out = self.ddb.get_item(TableName=self.table, Key={"name": {"S": self.name}}, ConsistentRead=True)
        if "Item" not in out:
            return Cursor(self.name, self.start_block)
        item = from_ddb(out["Item"])
        return Cursor(self.name, int(item["nextBlock"]), {int(k): v for k, v in item.get("blocks", {}).items()},
                      {k: int(v) for k, v in item.get("seen", {}).items()}, int(item.get("version", 0)))

    def _save(self, old: Cursor, new: Cursor) -> None:
        item = {"name": new.name, "nextBlock": new.next_block, "blocks": {str(k): v for k, v in new.blocks.items()},
                "seen": new.seen, "version": old.version + 1}
        kwargs: dict[str, Any] = ({"ConditionExpression": "version = :v",
                                   "ExpressionAttributeValues": {":v": {"N": str(old.version)}}}
                                  if old.version else {"ConditionExpression": "attribute_not_exists(#n)",
                                                       "ExpressionAttributeNames": {"#n": "name"}})
        try:
            self.ddb.put_item(TableName=self.table, Item=to_ddb(item), **kwargs)
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise RuntimeError(f"cursor {self.name} was advanced by another reader") from None
            raise
        new.version = old.version + 1

    # -- reading ----------------------------------------------------------------------------------

    def _block_hash(self, number: int) -> str | None:
        block = self.w3.eth.get_block(number)
        return _hex(block["hash"]) if block is not None else None

    def _check_reorg(self, cursor: Cursor) -> Cursor:
        """The cursor to read from: itself, or rewound to ``checkpoint - reorg_depth`` when a
        remembered block hash is no longer the chain's."""
        if not cursor.blocks:
            return cursor
        last = max(cursor.blocks)
        try:
            same = self._block_hash(last) == cursor.blocks[last]
        except Exception:  # noqa: BLE001 - the block is gone (the chain is shorter now): a reorg
            same = False
        if same:
            return cursor
        self.reorgs += 1
        back = max(self.start_block, cursor.next_block - self.reorg_depth)
        log.warning("reorg under cursor %s at block %s: reading again from %s", self.name, last, back)
        return Cursor(cursor.name, back, {n: h for n, h in cursor.blocks.items() if n < back}, dict(cursor.seen),
                      cursor.version)

    def poll(self, sink: Sink, max_pages: int | None = None) -> int:
        """Read what is confirmed since the cursor, page by page; returns the logs delivered."""
        head = int(self.w3.eth.block_number)
        safe = head - (self.confirmations - 1)
        stored = self.load()
        cursor = self._check_reorg(stored)
        rewound_from = stored.next_block if cursor.next_block < stored.next_block else None
        delivered = pages = 0
        if cursor.next_block > safe:
            if rewound_from is not None:  # a reorg to a shorter chain: remember the rewind anyway
                self._save(stored, cursor)
            return 0
        for start, end, logs in iter_log_pages(self.w3, addresses=self.addresses, topics=self.topics,
                                               from_block=cursor.next_block, to_block=safe,
                                               max_range=self.max_range):
            fresh, ids = [], {}
            for entry in logs:
                if entry.get("removed"):
                    continue
                lid = log_id(entry)
                ids[lid] = int(entry["blockNumber"], 16)
                if lid not in cursor.seen:
                    fresh.append(entry)
            removed = []
            if rewound_from is not None:  # ids seen in the re-read blocks that are no longer there
                removed = [{"id": lid, "blockNumber": n} for lid, n in cursor.seen.items()
                           if start <= n <= end and lid not in ids]
            sink(Page(start, end, fresh, removed))
            # advance only now that the sink has the page
            new = Cursor(cursor.name, end + 1, dict(cursor.blocks), dict(cursor.seen), cursor.version)
            for lid in [lid for lid, n in new.seen.items() if start <= n <= end and lid not in ids]:
                del new.seen[lid]
            new.seen.update(ids)
            new.blocks[end] = self._block_hash(end) or ""
            floor = end + 1 - self.reorg_depth
            new.blocks = {n: h for n, h in new.blocks.items() if n >= floor}
            new.seen = {lid: n for lid, n in new.seen.items() if n >= floor}
            self._save(stored if cursor.version == stored.version else cursor, new)
            stored = cursor = new
            if rewound_from is not None and end + 1 >= rewound_from:
                rewound_from = None
            delivered += len(fresh)
            pages += 1
            if max_pages is not None and pages >= max_pages:
                break
        return delivered
