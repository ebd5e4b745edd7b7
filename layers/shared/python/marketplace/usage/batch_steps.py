"""Flow 4's batch prover: the tasks of ``statemachines/usage-batches.asl.json`` (function
``usage-batch-worker``), per license: gather → prove → submit → confirm → mark.

**Never logged twice.** The contract refuses a second batch at a start index (``startIndex`` is
the license's on-chain ``uses``, which the batch advances, and the proof binds ``chainOld`` and
``startIndex``; the buyer's counters are settled once). The license item keeps the batch in flight
as a claim (``batchClaim``: start index, count, seqs, the cursor after it, and once signed its
``txHash`` and nonce, journaled before broadcast through the chain gateway's ``on_signed``), so a
crash anywhere is resolved by the next run's ``prepare``: on-chain ``uses`` past the claim → it was
logged: its events are marked PROVEN with the transaction found in the ``UsageLogged`` logs;
its transaction still pending → wait; otherwise the claim is dropped and the batch built again.
``submit`` itself looks for the batch's ``UsageLogged`` before sending. One run works on a license
at a time (a lock in the ratelimits table, ``lock#usage-batch#<licenseId>``).

**Batch records.** ``prove`` computes the batch record's digest (``BatchRecord.from_usage_inputs``:
the fold of the batch's nullifiers, times and call hashes, which never leave the worker) and carries
it to ``submit``, which keeps it in the claim; ``mark`` (or ``prepare`` recovering a logged claim)
stores ``(digest, count, windowStart, windowEnd)`` in the batches table (``BatchRecords``), the
records compliance and aggregate proofs (Flows 5-6) open against the license's on-chain chain.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from marketplace.errors import BlockchainError, ConflictError, InternalError, ProofGenerationError
from marketplace.usage.access_signature import compact
from marketplace.usage.batch_models import (
    Access,
    Batch,
    Failed,
    FailedIn,
    LicenseIn,
    LicensesIn,
    LicensesOut,
    Marked,
    Proved,
    Submitted,
)
from marketplace.usage.batches import (
    SignatureMismatch,
    choose_window,
    latest_accesses,
    prefix_within,
    select_events,
)
from marketplace.usage.ports import BatchRecords, UsageLog

log = logging.getLogger(__name__)
LOCK_SECONDS = 900  # > the longest branch: prove (≤ 300 s) + submit + confirmations with their retries
EVENTS_PER_READ = 256  # events read from the cursor: a batch (64) and the gaps among them


class NotConfirmed(Exception):  # noqa: N818 - the ASL retries on this name
    """The batch's transaction has fewer confirmations than required (retried with backoff)."""


class BatchLicenses(Protocol):
    def pending(self, limit: int) -> list[str]: ...
    def get(self, license_id: str) -> dict[str, Any] | None: ...
    def lock(self, license_id: str, until: int, now: int) -> bool: ...
    def unlock(self, license_id: str) -> None: ...
    def set_claim(self, license_id: str, claim: dict[str, Any]) -> None: ...
    def clear_claim(self, license_id: str) -> None: ...
    def complete(self, license_id: str, uses_proven: int, cursor: int) -> None: ...


class UsageChainPort(Protocol):
    def license(self, license_id: str) -> dict[str, Any]: ...
    def min_window(self) -> int: ...
    def domain(self) -> int: ...
    def block_time(self) -> int: ...
    def settled(self, license_id: str, signer: str) -> int: ...
    def logged(self, license_id: str, start_index: int) -> dict[str, Any] | None: ...
    def log_batch(self, args: tuple, on_signed: Callable[[str, int], None], context: dict[str, Any]
                  ) -> dict[str, Any]: ...
    def confirmations(self, tx_hash: str) -> int: ...
    def tx_pending(self, tx_hash: str, nonce: int) -> bool: ...


def batch_id(license_id: str, start_index: int) -> str:
    """``keccak256(abi.encode(licenseId, startIndex))`` (the contract's batch id)."""
    from marketplace.usage.access_signature import keccak256

    return "0x" + keccak256(bytes.fromhex(license_id[2:]) + start_index.to_bytes(32, "big")).hex()


@dataclass
class UsageBatchSteps:
    usage: UsageLog
    licenses: BatchLicenses
    chain: UsageChainPort
    seal_key: Callable[[], str]
    gap_seconds: int = 300
    batch_licenses: int = 100
    confirmations_required: int = 3
    clock: Callable[[], float] = time.time
    prove_batch: Callable[[dict[str, Any]], tuple[list[int], list[int]]] | None = None
    records: BatchRecords | None = None  # the batches table (the worker always has it)

    def _now(self) -> int:
        return int(self.clock())

    # -- licenses ------------------------------------------------------------------------------

    def list_licenses(self, req: LicensesIn) -> LicensesOut:
        ids = req.licenses if req.licenses else self.licenses.pending(self.batch_licenses)
        return LicensesOut(licenses=sorted({i.lower() for i in ids})[: self.batch_licenses])

    # -- prepare -------------------------------------------------------------------------------

    def _not_ready(self, license_id: str, reason: str, unlock: bool = True) -> Batch:
        if unlock:
            self.licenses.unlock(license_id)
        return Batch(licenseId=license_id, ready=False, reason=reason)

    def prepare(self, req: LicenseIn) -> Batch:
        license_id, now = req.licenseId.lower(), self._now()
        lic = self.licenses.get(license_id)
        if lic is None:
            return Batch(licenseId=license_id, ready=False, reason="unknown")
        onchain = self.chain.license(license_id)
        if onchain["revoked"]:  # the tracker refuses a revoked license's batches
            return Batch(licenseId=license_id, ready=False, reason="revoked")
        if not self.licenses.lock(license_id, now + LOCK_SECONDS, now):
            return Batch(licenseId=license_id, ready=False, reason="locked")
        claim = lic.get("batchClaim")
        if claim:
            start, count = int(claim["startIndex"]), int(claim["count"])
            if onchain["uses"] >= start + count:  # logged, not marked: finish it
                found = self.chain.logged(license_id, start)
                tx_hash = claim.get("txHash") or (found or {}).get("txHash")
                self._mark(license_id, claim, tx_hash)
                return self._not_ready(license_id, "recovered")
            if claim.get("txHash") and self.chain.tx_pending(claim["txHash"], int(claim["nonce"])):
                return self._not_ready(license_id, "in_flight")
            self.licenses.clear_claim(license_id)  # never landed: build it again
        cursor = int(lic.get("usageCursor", 0))
        sel = select_events(self.usage.events_from(license_id, cursor, EVENTS_PER_READ), cursor, now,
                            self.gap_seconds)
        if not sel.events:
            return self._not_ready(license_id, "gap_pending" if sel.waiting_gap is not None else "nothing_pending")
        window = choose_window([e.timestamp for e in sel.events], onchain["validFrom"], onchain["validUntil"],
                               self.chain.block_time(), self.chain.min_window())
        if window is None:
            return self._not_ready(license_id, "window_not_open")
        events = prefix_within(sel.events, window[1])
        window = choose_window([e.timestamp for e in events], onchain["validFrom"], onchain["validUntil"],
                               window[1], self.chain.min_window()) or window
        next_cursor = events[-1].seq + 1
        signers = {e.access.signer for e in events if e.access is not None}
        try:
            accesses = latest_accesses(events, {s: self.chain.settled(license_id, s) for s in signers})
        except SignatureMismatch as exc:
            self.licenses.unlock(license_id)
            raise InternalError("The batch's signed uses do not match its events", {
                "licenseId": license_id, "reason": str(exc)}) from None
        return Batch(
            licenseId=license_id, startIndex=onchain["uses"], count=len(events), windowStart=window[0],
            windowEnd=window[1], chainOld=str(onchain["chain"]), seqs=[e.seq for e in events],
            skipped=[s for s in sel.skipped if s < next_cursor], nextCursor=next_cursor,
            accesses=[_access(a) for a in accesses], lock=license_id)

    # -- prove ---------------------------------------------------------------------------------

    def prove(self, batch: Batch) -> Proved:
        from marketplace.licensing import credential as cred
        from marketplace.zk.inputs import BatchRecord, usage_batch_inputs
        from marketplace.zk.inputs import UsageEvent as ZkEvent

        lic = self.licenses.get(batch.licenseId)
        if lic is None:
            raise ConflictError("The license disappeared", {"licenseId": batch.licenseId})
        by_seq = {e.seq: e for e in self.usage.events_from(batch.licenseId, batch.seqs[0], EVENTS_PER_READ)}
        events = [by_seq[s] for s in batch.seqs]
        try:
            secret = cred.unseal(lic["sealedSecret"], self.seal_key(), int(lic["commitment"]))
            inputs = usage_batch_inputs(secret, bytes.fromhex(batch.licenseId[2:]), int(batch.chainOld),
                                        batch.startIndex, [ZkEvent(e.timestamp, e.call_hash) for e in events],
                                        batch.windowStart, batch.windowEnd, self.chain.domain())
            proof, signals = (self.prove_batch or _prove)(inputs)
            digest = BatchRecord.from_usage_inputs(inputs).digest
        except Exception as exc:
            log.exception("usage batch proof failed for %s", batch.licenseId)
            raise ProofGenerationError("The usage batch proof could not be generated",
                                       {"licenseId": batch.licenseId}) from exc
        return Proved(**batch.model_dump(), chainNew=str(signals[0]), proof=[str(p) for p in proof],
                      digest=str(digest))

    # -- submit --------------------------------------------------------------------------------

    def submit(self, proved: Proved) -> Submitted:
        license_id, start = proved.licenseId, proved.startIndex
        bid = batch_id(license_id, start)
        claim = {"startIndex": start, "count": proved.count, "seqs": proved.seqs, "nextCursor": proved.nextCursor,
                 "batchId": bid, "digest": proved.digest, "windowStart": proved.windowStart,
                 "windowEnd": proved.windowEnd}
        found = self.chain.logged(license_id, start)
        if found is None:
            if self.chain.license(license_id)["uses"] != start:
                raise ConflictError("Another batch was logged at this start index: rebuilt next run",
                                    {"licenseId": license_id, "startIndex": start})
            self.licenses.set_claim(license_id, claim)

            def journal(tx_hash: str, nonce: int) -> None:  # before the broadcast
                self.licenses.set_claim(license_id, {**claim, "txHash": tx_hash, "nonce": nonce})

            args = (bytes.fromhex(license_id[2:]), proved.count, proved.windowStart, proved.windowEnd,
                    int(proved.chainNew), [int(p) for p in proved.proof],
                    [(a.counter, bytes.fromhex(a.requestHash[2:]), bytes.fromhex(a.r[2:]), bytes.fromhex(a.vs[2:]))
                     for a in proved.accesses])
            receipt = self.chain.log_batch(args, journal, {"licenseId": license_id, "startIndex": start,
                                                           "batchId": bid})
            found = {"txHash": "0x" + bytes(receipt["transactionHash"]).hex(),
                     "blockNumber": int(receipt["blockNumber"])}
            self.licenses.set_claim(license_id, {**claim, "txHash": found["txHash"], "nonce": -1})
        return Submitted(**proved.model_dump(), batchId=bid, txHash=found["txHash"],
                         blockNumber=found["blockNumber"])

    # -- confirm, mark, failed -----------------------------------------------------------------

    def confirm(self, sub: Submitted) -> Submitted:
        have = self.chain.confirmations(sub.txHash)
        if have < self.confirmations_required:
            raise NotConfirmed(f"{sub.txHash}: {have} of {self.confirmations_required} confirmations")
        return sub

    def _mark(self, license_id: str, claim: dict[str, Any], tx_hash: str | None) -> int:
        start = int(claim["startIndex"])
        if self.records is not None:
            if claim.get("digest") is None:  # a claim from before batch records: the record is lost
                log.error("batch %s#%d has no digest: its batch record cannot be stored", license_id, start)
            else:
                self.records.put(license_id, start, {"digest": claim["digest"], "count": claim["count"],
                                                     "window_start": claim["windowStart"],
                                                     "window_end": claim["windowEnd"]},
                                 batch_id=batch_id(license_id, start), tx_hash=tx_hash)
        moved = self.usage.mark_proven(license_id, [int(s) for s in claim["seqs"]], batch_id=batch_id(license_id, start),
                                       tx_hash=tx_hash, first_index=start)
        self.licenses.complete(license_id, start + int(claim["count"]), int(claim["nextCursor"]))
        return moved

    def mark(self, sub: Submitted) -> Marked:
        moved = self._mark(sub.licenseId, {"startIndex": sub.startIndex, "count": sub.count, "seqs": sub.seqs,
                                            "nextCursor": sub.nextCursor, "digest": sub.digest,
                                            "windowStart": sub.windowStart, "windowEnd": sub.windowEnd}, sub.txHash)
        self.licenses.unlock(sub.licenseId)
        return Marked(licenseId=sub.licenseId, batchId=sub.batchId, txHash=sub.txHash, count=sub.count,
                      proven=moved, skipped=sub.skipped)

    def failed(self, req: FailedIn) -> Failed:
        if req.lock:
            self.licenses.unlock(req.lock)
        error = str(req.error.get("Error", "Unknown"))
        support = None
        cause = req.error.get("Cause")
        if isinstance(cause, str):
            import json

            try:
                support = (json.loads(cause) or {}).get("errorMessage")
            except ValueError:
                support = cause[:200]
        log.error("usage batch failed for %s: %s (%s); retried next run", req.licenseId, error, support)
        return Failed(licenseId=req.licenseId, error=error, supportId=support)


def _access(a) -> Access:
    r, vs = compact(bytes.fromhex(a.signature[2:]))
    return Access(counter=a.counter, requestHash=a.request_hash, r="0x" + r.hex(), vs="0x" + vs.hex())


def _prove(inputs: dict[str, Any]) -> tuple[list[int], list[int]]:
    from marketplace.zk import prove

    result = prove("usage_batch", inputs)
    return result.proof.calldata(), [int(s) for s in result.public_signals]


# errors the ASL matches by name (kit.tasks: Lambda's errorType is the class name)
RETRYABLE_CHAIN = (BlockchainError.__name__,)
