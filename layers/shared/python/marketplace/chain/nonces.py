"""A DynamoDB nonce lease per (chainId, relayer address): the relayer's nonces hold under any
number of concurrent Lambda containers.

One item ``{pk: "<chainId>#<address>", next, owner, expiresAt}`` in the ``chain-nonces`` table.

- ``acquire`` takes the lease with one conditional write (``attribute_not_exists(owner) OR
  expiresAt < now``) and returns the stored ``next``; the caller uses ``max(next, pending count)``
  (the chain's pending count covers a holder that broadcast and then crashed before storing).
- ``release(next)`` stores ``next = nonce + 1`` after an **accepted** broadcast, or just frees the
  lease (``release(None)``) when nothing was broadcast: a nonce is consumed only by an accepted
  broadcast, so there are no gaps. Both are conditional on still owning the lease.
- An expired lease (a holder that crashed, or stalled longer than ``lease_seconds``) is taken over
  by the next ``acquire``. Gas estimation and receipt waiting happen outside the lease, so it is
  held for a pending-count read, a KMS signature, a journal write and a broadcast.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

from marketplace.adapters.aws import error_code

CONDITION_FAILED = "ConditionalCheckFailedException"


class LeaseUnavailable(RuntimeError):
    """The lease stayed taken for the whole wait (many senders, or a holder stuck before expiry)."""


@dataclass
class Lease:
    key: str
    owner: str
    stored_next: int
    taken_over: bool  # the previous holder's lease had expired


class NonceLease:
    def __init__(self, table: str, ddb: Any | None = None, *, lease_seconds: float = 10.0,
                 wait_seconds: float = 30.0, clock=time.time) -> None:
        self.table = table
        self._ddb = ddb
        self.lease_seconds = lease_seconds
        self.wait_seconds = wait_seconds
        self.clock = clock
        self.contended = 0  # conditional writes refused while waiting (for benchmarks and logs)

    @property
    def ddb(self) -> Any:
        if self._ddb is None:
            from marketplace.adapters.aws import client

            self._ddb = client("dynamodb")
        return self._ddb

    @staticmethod
    def key(chain_id: int, address: str) -> str:
        return f"{chain_id}#{address.lower()}"

    def try_acquire(self, key: str) -> Lease | None:
        owner = uuid.uuid4().hex
        now_ms = int(self.clock() * 1000)
        try:
            out = self.ddb.update_item(
                TableName=self.table, Key={"pk": {"S": key}},
                UpdateExpression="SET #o = :o, expiresAt = :e, takenAt = :n",
                ConditionExpression="attribute_not_exists(#o) OR expiresAt < :n",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":o": {"S": owner}, ":n": {"N": str(now_ms)},
                                           ":e": {"N": str(now_ms + int(self.lease_seconds * 1000))}},
                ReturnValues="ALL_OLD",
            )
        except Exception as exc:
            if error_code(exc) == CONDITION_FAILED:
                return None
            raise
        old = out.get("Attributes", {})
        return Lease(key, owner, int(old.get("next", {}).get("N", "0")), taken_over="owner" in old)

    def acquire(self, key: str) -> Lease:
        deadline = time.monotonic() + self.wait_seconds
        delay = 0.005
        while True:
            lease = self.try_acquire(key)
            if lease is not None:
                return lease
            self.contended += 1
            if time.monotonic() >= deadline:
                raise LeaseUnavailable(f"nonce lease {key} still taken after {self.wait_seconds:.0f} s")
            time.sleep(delay * (0.5 + random.random()))  # jitter spreads the retries of many senders
            delay = min(delay * 1.6, 0.2)

    def release(self, lease: Lease, next_nonce: int | None) -> bool:
        """Store ``next_nonce`` (when a broadcast was accepted) and free the lease; False if the
        lease had been taken over meanwhile (then nothing is written: the new holder reads the
        chain's pending count, which includes an accepted broadcast)."""
        set_next = ", #n = :next" if next_nonce is not None else ""
        values = {":o": {"S": lease.owner}}
        names = {"#o": "owner"}
        if next_nonce is not None:
            values[":next"] = {"N": str(next_nonce)}
            names["#n"] = "next"
        try:
            self.ddb.update_item(
                TableName=self.table, Key={"pk": {"S": lease.key}},
                UpdateExpression="REMOVE #o, expiresAt" + (" SET " + set_next[2:] if set_next else ""),
                ConditionExpression="#o = :o", ExpressionAttributeNames=names, ExpressionAttributeValues=values,
            )
        except Exception as exc:
            if error_code(exc) == CONDITION_FAILED:
                return False
            raise
        return True

    def stored_next(self, key: str) -> int:
        out = self.ddb.get_item(TableName=self.table, Key={"pk": {"S": key}}, ConsistentRead=True)
        return int(out.get("Item", {}).get("next", {}).get("N", "0"))
