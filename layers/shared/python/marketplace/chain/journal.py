"""The transaction journal: one DynamoDB item per signed transaction (``chain-txs`` table).

``{txHash, chainId, sender, nonce, state, purpose, context, to, value, data, gas, maxFeePerGas,
maxPriorityFeePerGas, raw, createdAt, updatedAt, broadcasts, history[], blockNumber, blockHash,
status, replaces, supersededBy, replacedBy}``; the ``byState`` index (state, nonce) serves the
monitor.

States::

    SIGNED ──broadcast accepted──> PENDING ──receipt──> MINED ──depth──> CONFIRMED
       │                             │  ▲                 │
       │ refused                     │  └─rebroadcast─ DROPPED (node lost it; nonce unused)
       ▼                             │                    (a reorg sends MINED back to PENDING)
    REJECTED                         ├──nonce used by another tx──> REPLACED
                                     └──given up (tx_pending on a lost tx)──> ABANDONED ─cancel─> REPLACED

Every transition is a conditional update from the states it may leave, and appends to ``history``
(``{at, event, ...}``), so two actors (a sender, the monitor, a saga's compensation) never both act
on one transaction: e.g. a rebroadcast is claimed (``DROPPED → PENDING``, ``broadcasts + 1``)
*before* the raw transaction is sent again, and ``abandon`` is conditional on the ``broadcasts``
count the caller saw.
"""

from __future__ import annotations

import time
from typing import Any

from marketplace.adapters.aws import error_code
from marketplace.adapters.dynamodb import from_ddb, to_ddb

SIGNED, PENDING, MINED, CONFIRMED = "SIGNED", "PENDING", "MINED", "CONFIRMED"
DROPPED, REPLACED, REJECTED, ABANDONED = "DROPPED", "REPLACED", "REJECTED", "ABANDONED"
OPEN_STATES = (SIGNED, PENDING, DROPPED, MINED, ABANDONED)  # what the monitor looks at
TTL_DAYS = 90


def _now_ms() -> int:
    return int(time.time() * 1000)


class TxJournal:
    def __init__(self, table: str, ddb: Any | None = None) -> None:
        self.table = table
        self._ddb = ddb

    @property
    def ddb(self) -> Any:
        if self._ddb is None:
            from marketplace.adapters.aws import client

            self._ddb = client("dynamodb")
        return self._ddb

    def record_signed(self, *, tx_hash: str, chain_id: int, sender: str, nonce: int, tx: dict[str, Any],
                      raw: bytes, purpose: str, context: dict[str, Any] | None = None,
                      replaces: str | None = None) -> None:
        now = _now_ms()
        item = {
            "txHash": tx_hash, "chainId": chain_id, "sender": sender, "nonce": nonce, "state": SIGNED,
            "purpose": purpose, "context": context or {}, "to": tx.get("to"), "value": str(tx.get("value", 0)),
            "data": _hex(tx.get("data", b"")), "gas": int(tx["gas"]), "maxFeePerGas": int(tx["maxFeePerGas"]),
            "maxPriorityFeePerGas": int(tx["maxPriorityFeePerGas"]), "raw": "0x" + raw.hex(),
            "createdAt": now, "updatedAt": now, "broadcasts": 0, "reprices": 0,
            "history": [{"at": now, "event": "signed"}], "replaces": replaces,
            "ttl": int(time.time()) + TTL_DAYS * 86400,
        }
        self.ddb.put_item(TableName=self.table, Item=to_ddb(item), ConditionExpression="attribute_not_exists(txHash)")

    def get(self, tx_hash: str) -> dict[str, Any] | None:
        out = self.ddb.get_item(TableName=self.table, Key={"txHash": {"S": tx_hash}}, ConsistentRead=True)
        return from_ddb(out["Item"]) if "Item" in out else None

    def transition(self, tx_hash: str, to_state: str, event: str, *, from_states: tuple[str, ...],
                   fields: dict[str, Any] | None = None, expect: dict[str, Any] | None = None,
                   add: dict[str, int] | None = None) -> bool:
        """``from_states → to_state`` with ``fields`` set and an ``event`` appended to the history;
        False if the item is not in one of ``from_states`` (or ``expect`` does not hold)."""
        now = _now_ms()
        names = {"#st": "state", "#h": "history"}
        values: dict[str, Any] = {":to": to_state, ":now": now, ":ev": [{"at": now, "event": event, **(fields or {})}]}
        sets = ["#st = :to", "updatedAt = :now", "#h = list_append(#h, :ev)"]
        for i, (k, v) in enumerate((fields or {}).items()):
            names[f"#f{i}"] = k
            values[f":f{i}"] = v
            sets.append(f"#f{i} = :f{i}")
        conds = []
        for i, s in enumerate(from_states):
            values[f":from{i}"] = s
        conds.append("#st IN (" + ", ".join(f":from{i}" for i in range(len(from_states))) + ")")
        for i, (k, v) in enumerate((expect or {}).items()):
            names[f"#e{i}"] = k
            values[f":e{i}"] = v
            conds.append(f"#e{i} = :e{i}")
        expr = "SET " + ", ".join(sets)
        if add:
            expr += " ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(add)))
            for i, (k, v) in enumerate(add.items()):
                names[f"#a{i}"] = k
                values[f":a{i}"] = v
        try:
            self.ddb.update_item(TableName=self.table, Key={"txHash": {"S": tx_hash}}, UpdateExpression=expr,
                                 ConditionExpression=" AND ".join(conds), ExpressionAttributeNames=names,
                                 ExpressionAttributeValues=to_ddb(values))
        except Exception as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def note(self, tx_hash: str, fields: dict[str, Any]) -> None:
        """Set fields without a state change (e.g. ``supersededBy`` on a re-priced transaction)."""
        names = {f"#f{i}": k for i, k in enumerate(fields)}
        values = {f":f{i}": v for i, v in enumerate(fields.values())}
        self.ddb.update_item(TableName=self.table, Key={"txHash": {"S": tx_hash}},
                             UpdateExpression="SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
                             ExpressionAttributeNames=names, ExpressionAttributeValues=to_ddb(values))

    def in_state(self, state: str, limit: int = 500) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.table, "IndexName": "byState",
                                  "KeyConditionExpression": "#st = :s", "ExpressionAttributeNames": {"#st": "state"},
                                  "ExpressionAttributeValues": {":s": {"S": state}}}
        while len(items) < limit:
            out = self.ddb.query(**kwargs)
            items += [from_ddb(i) for i in out.get("Items", [])]
            if "LastEvaluatedKey" not in out:
                break
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]
        return items[:limit]


def _hex(data: Any) -> str:
    if isinstance(data, (bytes, bytearray)):
        return "0x" + bytes(data).hex()
    return str(data)
