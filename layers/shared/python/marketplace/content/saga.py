"""Flow 1, the registration saga's steps (statemachines/registration.asl.json).

Each step receives the execution state ``{registrationId, creator, uploadKey, metadata, store?,
prove?, register?, error?}`` (a step's result is at ``state[step]["value"]``) and returns its
result. The registrations item is the saga's journal: each step records its stage and what it
produced, so compensation knows what to undo even when a step died half-way.

- ``hash`` (looped by the state machine), ``claim``, ``copy`` (looped): the store stage in pieces
  that fit Lambda's limits, for uploads of any size up to 50 GiB (``marketplace.content.staged``:
  ranged reads of the pinned version, checkpoints of the SHA-256 and CID state in the journal,
  the copy as server-side ``UploadPartCopy`` parts). ``claim`` is ``store`` without the copy.
- ``store`` (the same work in one call, for direct callers): stream one version of the staged upload (its VersionId pinned in the journal as
  ``uploadVersion``: the uploads bucket is versioned) once for SHA-256 and the CIDs; claim the
  content id in the content table (``contentId = keccak256(abi.encode(chainId, registry,
  contentHash))``, the id the registry will give it); a taken claim is a 409 with the existing
  ``contentId``; copy exactly that version into the content bucket under the CIDv0 (an upload
  written again meanwhile is not what gets stored).
- ``prove``: creator secret ``HMAC-SHA256(identity key, checksummed creator) mod p``, a fresh
  salt, the timestamp ``max(latest block time, clock − CLOCK_MARGIN_SECONDS)`` proven inside the
  public window ``[timestamp, timestamp]``, the authenticity proof bound to (chainId,
  ContentRegistry). The registry accepts the window only if it lies inside [block.timestamp −
  REGISTRATION_MAX_SKEW (1 hour), block.timestamp]: a register step that lands more than an hour
  after its proof reverts (``Registry__TimestampOutOfRange``) and the saga compensates. The proof
  shows that the platform, which derives the secret, registered the content for this address; not
  that the creator holds a secret of their own (circuits/README.md, "authenticity").
- ``register``: ``ContentRegistry.registerContent`` from the relayer; a receipt with status 1 and
  a ``ContentRegistered`` event for our content id, else BLOCKCHAIN_ERROR. The signed
  transaction's hash and nonce are journaled (``registerTx``) before it is sent.
- ``cache``: content item REGISTERED (public metadata) and registration REGISTERED in one
  DynamoDB transaction; the staging object is deleted.
- ``compensate``: if this registration still holds its claim, delete the content object, then
  release the claim (in that order: a released id may be claimed and copied again at once); delete
  the staging object; mark the registration FAILED with the error record. A registration whose
  transaction was mined (journaled, or found on chain after a register step that died unjournaled)
  keeps its object and claim for support to reconcile. Nothing is deleted while a sent transaction
  may still be mined (it would put the content on chain without its bytes): compensation waits for
  ``registerTx`` to be mined, replaced or dropped (at most the chain's tx timeout), then looks for
  our ``ContentRegistered`` log; if the transaction is still pending after the wait (or the node
  cannot be asked), the object and claim stay and the error gets ``details.reconcile: true``.

Failures: a step raises a ``MarketplaceError`` (409, BLOCKCHAIN_ERROR, PROOF_GENERATION_FAILED...),
after recording it in the journal; an unexpected exception is recorded and raised as the
stage's error type with a fresh ``supportId``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from marketplace.content.models import LISTED, LISTING, ContentState, RegistrationState
from marketplace.content.ports import (
    AuthenticityProver,
    ContentItems,
    ObjectStore,
    Registrations,
    RegistryChain,
)
from marketplace.content.ranges import VersionRanges, for_objects
from marketplace.content.staged import StagedStore, StoreLimits
from marketplace.errors import (
    BlockchainError,
    ConflictError,
    InternalError,
    MarketplaceError,
    ProofGenerationError,
    SupportError,
    error_record,
)
from marketplace.shared.timefmt import now_iso

log = logging.getLogger(__name__)

REGISTRY = "ContentRegistry"
SETTLE_POLL_SECONDS = 1.0
SETTLE_WAIT_CAP_SECONDS = 240  # compensation runs in the worker Lambda (300 s timeout)
STEPS = ("hash", "claim", "copy", "store", "prove", "register", "cache")
# The committed timestamp must not be after the registering block's time, nor more than an hour
# (REGISTRATION_MAX_SKEW) before it (ContentRegistry). The gas estimate runs the call at the latest
# block, whose time an idle node (Hardhat automine) lets fall minutes behind the clock: a timestamp
# from the clock then reverts there (Registry__TimestampOutOfRange, seen with a 2 GiB upload whose
# hashing left the node idle). So the step commits to the latest block's time while that block is
# recent enough for the registering block to be within the hour; only a block older than that (a
# node idle for most of an hour) makes it fall back to its own clock minus this margin.
CLOCK_MARGIN_SECONDS = 60
LATEST_BLOCK_MAX_AGE_SECONDS = 45 * 60
# What an unexpected exception in a stage becomes (the spec's error flows 3 and 4): an error that
# carries a supportId (logged with the traceback), built as ``cls(message, details)``
STAGE_ERRORS: dict[str, type[SupportError]] = {
    "prove": ProofGenerationError, "register": BlockchainError,
}


def content_id(chain_id: int, registry: str, content_hash: bytes) -> str:
    """``keccak256(abi.encode(uint256 chainid, address registry, bytes32 contentHash))`` as 0x-hex."""
    from eth_hash.auto import keccak

    encoded = chain_id.to_bytes(32, "big") + bytes(12) + bytes.fromhex(registry[2:]) + content_hash
    return "0x" + keccak(encoded).hex()


def creator_secret(identity_key: bytes, creator: str) -> int:
    from marketplace.zk.field import P

    return int.from_bytes(hmac.new(identity_key, creator.encode(), hashlib.sha256).digest(), "big") % P


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


class RegistrationSteps:
    """The saga's steps over their adapters. ``chain``, ``prover`` and the secrets are factories:
    only the step that needs one builds it (the store step never imports web3)."""

    def __init__(self, *, registrations: Registrations, content: ContentItems, objects: ObjectStore,
                 content_bucket: str, uploads_bucket: str, chain_id: int, registry: str,
                 chain: Callable[[], RegistryChain], prove_authenticity: AuthenticityProver,
                 identity_key: Callable[[], bytes], clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, ranges: VersionRanges | None = None,
                 limits: StoreLimits | None = None):
        self.registrations = registrations
        self.content = content
        self.objects = objects
        self.content_bucket = content_bucket
        self.uploads_bucket = uploads_bucket
        self.chain_id = chain_id
        self.registry = registry
        self._chain = chain
        self._prove = prove_authenticity
        self._identity_key = identity_key
        self._clock = clock
        self._sleep = sleep
        self.staged = StagedStore(registrations=registrations, objects=objects,
                                  ranges=ranges if ranges is not None else for_objects(objects),
                                  uploads_bucket=uploads_bucket, content_bucket=content_bucket, limits=limits)

    # -- entry point ------------------------------------------------------------------------------

    def run(self, step: str, state: dict[str, Any]) -> dict[str, Any]:
        if step == "compensate":
            return self.compensate(state)
        if step not in STEPS:
            raise ValueError(f"unknown step {step!r}")
        rid = state["registrationId"]
        self.registrations.update(rid, {"stage": step, "updatedAt": now_iso()})
        try:
            return getattr(self, step)(state)
        except MarketplaceError as err:
            self._record(rid, err)
            raise
        except Exception as exc:
            error = STAGE_ERRORS.get(step, InternalError)(
                "Unable to generate proof" if step == "prove" else f"Registration failed at {step}")
            log.exception("saga step failed", extra={"registrationId": rid, "step": step,
                                                      "supportId": error.support_id})
            self._record(rid, error)
            raise error from exc

    def _record(self, rid: str, err: MarketplaceError) -> None:
        try:
            self.registrations.update(rid, {"lastError": error_record(err)})
        except Exception:  # the journal is best effort here: compensation falls back on $.error
            log.exception("could not record the step's error", extra={"registrationId": rid})

    # -- steps ------------------------------------------------------------------------------------

    def hash(self, state: dict[str, Any]) -> dict[str, Any]:
        """The next range of the pinned upload version into the SHA-256 and CID state (the state
        machine loops until ``done``)."""
        return self.staged.hash(state["registrationId"], state["uploadKey"])

    def claim(self, state: dict[str, Any]) -> dict[str, Any]:
        """Claim the content id of the hashed bytes (hashing what is left first, if the hash
        loop did not finish: a direct call)."""
        rid, creator = state["registrationId"], state["creator"]
        hashed = (state.get("hashing") or {}).get("value") or {}
        if not hashed.get("done"):
            hashed = self.staged.hash(rid, state["uploadKey"], unbounded=True)
        digest = bytes.fromhex(hashed["contentHash"][2:])
        stored = {"contentHash": hashed["contentHash"], "ipfsCid": hashed["ipfsCid"], "cidV1": hashed["cidV1"],
                  "contentId": content_id(self.chain_id, self.registry, digest), "size": hashed["size"],
                  "cidDigest": hashed["cidDigest"]}
        self.registrations.update(rid, {k: stored[k] for k in ("contentHash", "ipfsCid", "cidV1", "contentId")})
        existing = self.content.claim({
            "contentId": stored["contentId"], "contentHash": stored["contentHash"], "ipfsCid": stored["ipfsCid"],
            "cidV1": stored["cidV1"], "size": stored["size"], "creator": creator, "registrationId": rid,
            "createdAt": now_iso(),
        })
        if existing is not None and existing.get("registrationId") != rid:
            details = {"contentId": stored["contentId"], "contentHash": stored["contentHash"]}
            if existing["state"] == ContentState.CREATED:
                raise ConflictError("this content is being registered by another request", details)
            raise ConflictError("this content is already registered", {**details, "state": existing["state"]})
        return stored

    def copy(self, state: dict[str, Any]) -> dict[str, Any]:
        """Copy the pinned version into the content bucket under the CIDv0, parts at a time (the
        state machine loops until ``done``)."""
        return self.staged.copy(state["registrationId"], state["uploadKey"], state["store"]["value"]["ipfsCid"])

    def store(self, state: dict[str, Any]) -> dict[str, Any]:
        """``hash``, ``claim`` and ``copy`` in one call, each to its end."""
        stored = self.claim(state)
        self.staged.copy(state["registrationId"], state["uploadKey"], stored["ipfsCid"], unbounded=True)
        return stored

    def prove(self, state: dict[str, Any]) -> dict[str, Any]:
        from marketplace.zk.field import P, domain, split_256
        from marketplace.zk.inputs import creator_commitment, timestamp_commitment

        stored = state["store"]["value"]
        content_hash = bytes.fromhex(stored["contentHash"][2:])
        secret = creator_secret(self._identity_key(), state["creator"])
        dom = domain(self.chain_id, self.registry)
        try:
            chain_time = int(self._chain().block_timestamp())
        except MarketplaceError:
            raise
        except Exception as exc:  # the node: a chain failure, not a proving one
            chain_err = BlockchainError("Unable to read the chain's time", {"circuit": "authenticity"})
            log.exception("latest block unavailable", extra={"supportId": chain_err.support_id,
                                                             "registrationId": state["registrationId"]})
            raise chain_err from exc
        now = int(self._clock())
        recent = chain_time >= now - LATEST_BLOCK_MAX_AGE_SECONDS
        timestamp = chain_time if recent else max(chain_time, now - CLOCK_MARGIN_SECONDS)
        salt = secrets.randbelow(P)
        try:
            # the window defaults to [timestamp, timestamp] (authenticity_inputs)
            proof = self._prove(creator_secret=secret, content_hash=content_hash, timestamp=timestamp,
                                salt=salt, domain=dom)
        except Exception as exc:
            err = ProofGenerationError("Unable to generate proof", {"circuit": "authenticity"})
            log.exception("authenticity proof failed", extra={"supportId": err.support_id,
                                                              "registrationId": state["registrationId"]})
            raise err from exc
        expected = [creator_commitment(secret), timestamp_commitment(timestamp, salt, content_hash),
                    *split_256(content_hash), timestamp, timestamp, dom]
        if list(proof.public_signals) != expected:
            raise ProofGenerationError("Unable to generate proof",
                                       {"circuit": "authenticity", "reason": "public signals mismatch"})
        # The opening of the timestamp commitment stays with the registration (its creator's view)
        self.registrations.update(state["registrationId"],
                                  {"timestampOpening": {"timestamp": timestamp, "salt": str(salt)}})
        return {"creatorCommitment": str(proof.creator_commitment),
                "timestampCommitment": str(proof.timestamp_commitment),
                "notBefore": timestamp, "notAfter": timestamp,
                "proof": [str(x) for x in proof.proof]}

    def register(self, state: dict[str, Any]) -> dict[str, Any]:
        stored, proved = state["store"]["value"], state["prove"]["value"]
        chain = self._chain()
        rid = state["registrationId"]
        cid_bytes = bytes.fromhex(stored["contentId"][2:])
        ts_commitment = int(proved["timestampCommitment"])
        from_block = (self.registrations.get(rid) or {}).get("registerFromBlock")
        if from_block is None:  # first attempt: note where a retry must look for our transaction
            self.registrations.update(rid, {"registerFromBlock": chain.block_number()})
        else:  # a retried step may find its own transaction mined: same id, same commitment
            mined = self._own_registration(chain, state, from_block)
            if mined is not None:
                return self._registered(state, *mined)
        def journal_sent(tx_hash: str, nonce: int) -> None:  # before the send: see compensate
            self.registrations.update(rid, {"registerTx": {"txHash": tx_hash, "nonce": nonce}})

        receipt = chain.transact(
            REGISTRY, "registerContent", bytes.fromhex(stored["contentHash"][2:]),
            bytes.fromhex(stored["cidDigest"][2:]), state["creator"], int(proved["creatorCommitment"]),
            ts_commitment, int(proved["notBefore"]), int(proved["notAfter"]), [int(x) for x in proved["proof"]],
            on_signed=journal_sent,
        )
        tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
        events = chain.events(REGISTRY, "ContentRegistered", receipt)
        if not any(bytes(e["contentId"]) == cid_bytes for e in events):
            raise BlockchainError("Transaction did not register the content",
                                  {"txHash": tx_hash, "contentId": stored["contentId"]})
        return self._registered(state, tx_hash, receipt["blockNumber"])

    @staticmethod
    def _own_registration(chain: Any, state: dict[str, Any], from_block: int) -> tuple[str, int] | None:
        """(txHash, block) of this registration's mined ``ContentRegistered`` (same content id, same
        timestamp commitment) since ``from_block``, or None."""
        cid_bytes = bytes.fromhex(state["store"]["value"]["contentId"][2:])
        ts_commitment = int(state["prove"]["value"]["timestampCommitment"])
        for entry in chain.find_logs(REGISTRY, "ContentRegistered", {"contentId": cid_bytes}, from_block):
            if entry["args"]["timestampCommitment"] == ts_commitment:
                return entry["transactionHash"], entry["blockNumber"]
        return None

    def _registered(self, state: dict[str, Any], tx_hash: str, block: int) -> dict[str, Any]:
        self.registrations.update(state["registrationId"], {"txHash": tx_hash, "blockNumber": block})
        return {"txHash": tx_hash, "blockNumber": block, "contentId": state["store"]["value"]["contentId"]}

    def cache(self, state: dict[str, Any]) -> dict[str, Any]:
        rid = state["registrationId"]
        stored, registered = state["store"]["value"], state["register"]["value"]
        metadata = state["metadata"]
        now = now_iso()
        result = {k: stored[k] for k in ("contentId", "ipfsCid", "cidV1", "contentHash")}
        result.update(txHash=registered["txHash"], blockNumber=registered["blockNumber"])
        content_fields = {"title": metadata["title"], "description": metadata.get("description", ""),
                          "tags": metadata.get("tags", []), "txHash": registered["txHash"],
                          "blockNumber": registered["blockNumber"], "registeredAt": now,
                          LISTING: LISTED}  # in everyone's listing (GET /content) until archived
        if not self.registrations.complete(rid, result, now, stored["contentId"], content_fields):
            item = self.registrations.get(rid) or {}
            if item.get("state") != RegistrationState.REGISTERED:  # not a retry of a cache step that already landed
                raise InternalError("could not record the registration", {"registrationId": rid})
        self._delete_staging(state)
        return result

    def compensate(self, state: dict[str, Any]) -> dict[str, Any]:
        rid = state["registrationId"]
        item = self.registrations.get(rid) or {}
        record = item.get("lastError") or _record_from_failure(state.get("error"), item.get("stage"))
        cid, content = item.get("ipfsCid"), item.get("contentId")
        tx_hash, undecided = item.get("txHash"), False
        if not tx_hash:
            tx_hash, undecided = self._mined_before_failing(state, item)
        if tx_hash:
            # On chain already: the object must stay for the registered content; support reconciles.
            log.error("registration failed after its transaction", extra={
                "registrationId": rid, "txHash": tx_hash, "error": record})
        elif undecided:
            # Our transaction may still be mined: keep the object and the claim, flag for support.
            body = record["body"]
            record = {**record, "body": {**body, "details": {
                **(body.get("details") or {}), "reconcile": True, "txHash": item["registerTx"]["txHash"]}}}
            log.error("registration failed with its transaction undecided: reconcile", extra={
                "registrationId": rid, "registerTx": item["registerTx"], "supportId": body.get("supportId")})
        elif content:
            # Only the claim holder stored the object, so only it deletes it, and before releasing
            # the claim: once released, another registration of these bytes may claim and copy
            # them to the same key, and a later delete would take its object.
            held = self.content.get(content)
            if held is not None and held.get("registrationId") == rid and held.get("state") == ContentState.CREATED:
                self.staged.abort_copy(item)
                if cid:
                    self.objects.delete(self.content_bucket, cid)
                self.content.release(content, rid)
        self._delete_staging(state)
        self.registrations.fail(rid, record, now_iso())
        body = record["body"]
        log.warning("registration compensated", extra={"registrationId": rid, "error": body.get("error"),
                                                       "supportId": body.get("supportId")})
        return {"registrationId": rid, "state": str(RegistrationState.FAILED), "error": body}

    def _mined_before_failing(self, state: dict[str, Any], item: dict[str, Any]) -> tuple[str | None, bool]:
        """A register step that sent its transaction and then failed (its receipt wait timed out,
        or recording the result did) left no txHash: look on chain before deleting anything.
        Returns (txHash of our mined registration or None, whether a sent transaction may still
        be mined). The wait comes first, the log search after it: once the last transaction the
        step signed is mined or replaced, so are its earlier attempts (lower nonces)."""
        from_block = item.get("registerFromBlock")
        if from_block is None or "prove" not in state or "store" not in state:
            return None, False  # the step never got as far as sending
        sent = item.get("registerTx")  # journaled before the send: absent = nothing was sent
        try:
            chain = self._chain()
            if sent is not None and not self._settled(chain, sent):
                return None, True
            mined = self._own_registration(chain, state, from_block)
        except Exception:  # the node is unreachable: only a signed transaction can be on its way
            log.exception("could not look for the registration's transaction",
                          extra={"registrationId": state["registrationId"]})
            return None, sent is not None
        if mined is None:
            return None, False
        self.registrations.update(state["registrationId"], {"txHash": mined[0], "blockNumber": mined[1]})
        return mined[0], False

    def _settled(self, chain: Any, sent: dict[str, Any]) -> bool:
        """Wait (at most the chain's tx timeout) until ``sent`` can no longer be mined: mined,
        replaced or dropped. False if it is still pending at the end."""
        deadline = time.monotonic() + min(chain.tx_timeout, SETTLE_WAIT_CAP_SECONDS)
        while chain.tx_pending(sent["txHash"], int(sent["nonce"])):
            if time.monotonic() >= deadline:
                return False
            self._sleep(SETTLE_POLL_SECONDS)
        return True

    def _delete_staging(self, state: dict[str, Any]) -> None:
        try:
            self.objects.delete(self.uploads_bucket, state["uploadKey"])
        except Exception:  # the uploads bucket expires objects after a day anyway
            log.exception("could not delete the staging object", extra={"key": state["uploadKey"]})


def _record_from_failure(failure: dict[str, Any] | None, stage: str | None) -> dict[str, Any]:
    """An error record when the failing step could not record its own (timeout, crash): the
    stage's error type with a fresh supportId, the Step Functions error name in the details."""
    name = (failure or {}).get("Error", "unknown")
    err = STAGE_ERRORS.get(stage or "", InternalError)(
        "Unable to generate proof" if stage == "prove" else "Registration failed",
        {"stage": stage, "cause": name})
    log.error("saga step failed without a recorded error",
              extra={"stage": stage, "failure": failure, "supportId": err.support_id})
    return error_record(err)
