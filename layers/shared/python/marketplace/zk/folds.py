"""Compliance (Flow 5) and aggregate (Flow 6) proofs with no upper bound: chunked folding.

A proof is a sequence of fixed-size chunk proofs (circuits `compliance` = ComplianceChunk(B) and
`aggregate` = AggregateChunk(M, L), circuits/README.md), each a real Groth16 proof, linked by a
state commitment: chunk i's public stateIn is chunk i-1's stateOut (0 for the first), so every
chunk's inputs are computed before any is proved and the chunks are proved in parallel.
UsageTracker.recordComplianceProof / recordAggregateProof verify all chunks in one transaction
against the chain's state; `verify_*` here checks the same with py_ecc.

    chunks = prove_aggregate(licenses, domain)            # list[ChunkProof]
    aggregate_outputs(chunks)                             # AggregateOutputs(total_uses, ...)
    tracker.functions.recordAggregateProof(content_id, *aggregate_call_args(chunks))
    verify_aggregate(chunks, chains=..., prices=..., domain=...)
    chunks_from_call("aggregate", decoded_args)           # back from a decoded transaction

Public signals (registry.json order):
  aggregate  [stateOut, totalUses, totalRevenue, uniqueLicensees, fromTs, toTs, stateIn, cursorIn,
              cursorOut, final, chains[L], prices[L], domain]
  compliance [stateOut, totalUses, totalPaid, compliant, stateIn, final, chain, maxUses,
              pricePerUse, validFrom, validUntil, domain]
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from eth_hash.auto import keccak

from ..errors import ProofGenerationError
from .field import P
from .inputs import (
    AGGREGATE_L,
    COMPLIANCE_B,
    AggregateState,
    BatchRecord,
    ComplianceState,
    LicenseBatches,
    aggregate_chunk_inputs,
    compliance_chunk_inputs,
    plan_aggregate_chunks,
)
from .proof import Proof
from .witness import WitnessError

AGGREGATE = "aggregate"
COMPLIANCE = "compliance"

# Signal positions (circuits/registry.json).
AGG_STATE_OUT, AGG_TOTAL_USES, AGG_TOTAL_REVENUE, AGG_UNIQUE, AGG_FROM, AGG_TO = range(6)
AGG_STATE_IN, AGG_CURSOR_IN, AGG_CURSOR_OUT, AGG_FINAL = range(6, 10)
AGG_CHAINS = 10
AGG_PRICES = AGG_CHAINS + AGGREGATE_L
AGG_DOMAIN = AGG_PRICES + AGGREGATE_L
AGG_SIGNALS = AGG_DOMAIN + 1
CMP_STATE_OUT, CMP_TOTAL_USES, CMP_TOTAL_PAID, CMP_COMPLIANT = range(4)
CMP_STATE_IN, CMP_FINAL, CMP_CHAIN, CMP_MAX_USES, CMP_PRICE, CMP_VALID_FROM, CMP_VALID_UNTIL, CMP_DOMAIN = range(4, 12)
CMP_SIGNALS = CMP_DOMAIN + 1

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ChunkProof:
    """One chunk: its circuit ("aggregate" or "compliance"), proof and public signals."""

    circuit: str
    proof: Proof
    public_signals: list[int]


@dataclass(frozen=True)
class AggregateOutputs:
    total_uses: int
    total_revenue: int
    unique_licensees: int
    from_ts: int
    to_ts: int


@dataclass(frozen=True)
class ComplianceOutputs:
    total_uses: int
    total_paid: int
    compliant: bool


# --- proving -----------------------------------------------------------------------------------

def _salt() -> int:
    return secrets.randbelow(P - 1) + 1


def default_workers() -> int:
    """Chunks proved at once: env ZK_FOLD_WORKERS, else twice the CPU count, at most 8 (a chunk's
    witness is computed under the GIL and its proof without it: two threads a core keep the cores
    busy; each proving thread holds about 10 MB more)."""
    configured = os.environ.get("ZK_FOLD_WORKERS")
    if configured:
        return max(1, int(configured))
    return max(1, min(8, 2 * (os.cpu_count() or 1)))


def _prove_all(circuit: str, inputs: list[dict], workers: int | None, progress: Progress | None) -> list[ChunkProof]:
    """Proves every chunk's inputs (independent of each other), in parallel threads: groth16py
    releases the GIL while proving. Raises the first chunk's WitnessError/ProofGenerationError."""
    from .prover import prove

    total = len(inputs)
    done = 0
    if progress:
        progress(0, total)

    def one(i: int) -> ChunkProof:
        result = prove(circuit, inputs[i])
        return ChunkProof(circuit, result.proof, [int(s) for s in result.public_signals])

    n = min(total, workers or default_workers())
    out: list[ChunkProof | None] = [None] * total
    if n <= 1:
        for i in range(total):
            out[i] = one(i)
            done += 1
            if progress:
                progress(done, total)
        return out  # type: ignore[return-value]
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix=f"fold-{circuit}") as pool:
        futures = {pool.submit(one, i): i for i in range(total)}
        try:
            for future in as_completed(futures):
                out[futures[future]] = future.result()
                done += 1
                if progress:
                    progress(done, total)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return out  # type: ignore[return-value]


def _witness_error(e: ValueError, circuit: str) -> WitnessError:
    return WitnessError(f"invalid {circuit} inputs: {e}", {"circuit": circuit, "reason": str(e)})


def aggregate_chunk_inputs_all(licenses: list[LicenseBatches], domain: int) -> list[dict]:
    """Every chunk's circuit inputs for an aggregate over `licenses` (in the tracker's
    usedLicenses order), states linked with fresh salts."""
    try:
        plans = plan_aggregate_chunks(licenses)
        inputs: list[dict] = []
        state: AggregateState | None = None
        for plan in plans:
            chunk, state = aggregate_chunk_inputs(plan, state, _salt(), domain)
            inputs.append(chunk)
    except ValueError as e:
        raise _witness_error(e, AGGREGATE) from e
    return inputs


def prove_aggregate(licenses: list[LicenseBatches], domain: int, *, workers: int | None = None,
                    progress: Progress | None = None) -> list[ChunkProof]:
    """Aggregate statistics of one content item over all its used licenses, in the tracker's
    `usedLicenses(contentId)` order, each with all its batch records in order, its price per use
    and (preferably) its on-chain chain value. Raises WitnessError when the records do not open
    against the chains (or are malformed)."""
    return _prove_all(AGGREGATE, aggregate_chunk_inputs_all(licenses, domain), workers, progress)


def compliance_chunk_inputs_all(records: list[BatchRecord], *, max_uses: int, price_per_use: int, valid_from: int,
                                valid_until: int, chain: int, domain: int) -> list[dict]:
    """Every chunk's circuit inputs for a compliance proof over a license's `records` (in order)."""
    try:
        runs = [records[i:i + COMPLIANCE_B] for i in range(0, len(records), COMPLIANCE_B)] or [[]]
        inputs: list[dict] = []
        state: ComplianceState | None = None
        for i, run in enumerate(runs):
            chunk, state = compliance_chunk_inputs(
                run, state, _salt(), final=i == len(runs) - 1, chain=chain, max_uses=max_uses,
                price_per_use=price_per_use, valid_from=valid_from, valid_until=valid_until, domain=domain)
            inputs.append(chunk)
    except ValueError as e:
        raise _witness_error(e, COMPLIANCE) from e
    return inputs


def prove_compliance(records: list[BatchRecord], *, max_uses: int, price_per_use: int, valid_from: int,
                     valid_until: int, chain: int, domain: int, workers: int | None = None,
                     progress: Progress | None = None) -> list[ChunkProof]:
    """Compliance verdict over all proven batches of one license (`records` in order, `chain` its
    on-chain value, the terms as on chain). A non-compliant license gets a truthful proof
    (compliant False). Raises WitnessError when the records do not fold to `chain`."""
    inputs = compliance_chunk_inputs_all(records, max_uses=max_uses, price_per_use=price_per_use,
                                         valid_from=valid_from, valid_until=valid_until, chain=chain, domain=domain)
    return _prove_all(COMPLIANCE, inputs, workers, progress)


# --- outputs, linkage, verification --------------------------------------------------------------

def _require(chunks: Sequence[ChunkProof], circuit: str, n_signals: int) -> None:
    if not chunks:
        raise ValueError(f"a {circuit} proof has at least one chunk")
    for c in chunks:
        if c.circuit != circuit or len(c.public_signals) != n_signals:
            raise ValueError(f"not a {circuit} chunk")


def aggregate_outputs(chunks: Sequence[ChunkProof]) -> AggregateOutputs:
    """The aggregates the last (final) chunk reveals."""
    _require(chunks, AGGREGATE, AGG_SIGNALS)
    s = chunks[-1].public_signals
    return AggregateOutputs(s[AGG_TOTAL_USES], s[AGG_TOTAL_REVENUE], s[AGG_UNIQUE], s[AGG_FROM], s[AGG_TO])


def compliance_outputs(chunks: Sequence[ChunkProof]) -> ComplianceOutputs:
    _require(chunks, COMPLIANCE, CMP_SIGNALS)
    s = chunks[-1].public_signals
    return ComplianceOutputs(s[CMP_TOTAL_USES], s[CMP_TOTAL_PAID], s[CMP_COMPLIANT] == 1)


def _linked(chunks: Sequence[ChunkProof], state_in: int, state_out: int, final: int) -> bool:
    """First stateIn 0, each stateIn the previous stateOut, exactly the last one final."""
    prev = 0
    for i, c in enumerate(chunks):
        s = c.public_signals
        if s[state_in] != prev or s[final] != int(i == len(chunks) - 1):
            return False
        prev = s[state_out]
    return True


def _verify_each(chunks: Sequence[ChunkProof]) -> bool:
    from .prover import verify

    return all(verify(c.circuit, c.proof, c.public_signals) for c in chunks)


def verify_aggregate(chunks: Sequence[ChunkProof], *, chains: list[int], prices: list[int], domain: int) -> bool:
    """True when the chunks are a complete, linked aggregate proof over the used licenses whose
    on-chain chains and prices (usedLicenses order) are `chains`/`prices`, for `domain`: what
    UsageTracker.recordAggregateProof checks, with py_ecc."""
    try:
        _require(chunks, AGGREGATE, AGG_SIGNALS)
    except ValueError:
        return False
    if len(chains) != len(prices) or not _linked(chunks, AGG_STATE_IN, AGG_STATE_OUT, AGG_FINAL):
        return False
    cursor = 0
    for c in chunks:
        s = c.public_signals
        if s[AGG_CURSOR_IN] != cursor or not cursor <= s[AGG_CURSOR_OUT] <= cursor + AGGREGATE_L:
            return False
        window = range(cursor, cursor + AGGREGATE_L)
        if s[AGG_CHAINS:AGG_PRICES] != [chains[i] if i < len(chains) else 0 for i in window]:
            return False
        if s[AGG_PRICES:AGG_DOMAIN] != [prices[i] if i < len(prices) else 0 for i in window]:
            return False
        if s[AGG_DOMAIN] != domain:
            return False
        cursor = s[AGG_CURSOR_OUT]
    return cursor == len(chains) and _verify_each(chunks)


def verify_compliance(chunks: Sequence[ChunkProof], *, chain: int, max_uses: int, price_per_use: int,
                      valid_from: int, valid_until: int, domain: int) -> bool:
    """True when the chunks are a complete, linked compliance proof of a license with these
    on-chain values: what UsageTracker.recordComplianceProof checks, with py_ecc."""
    try:
        _require(chunks, COMPLIANCE, CMP_SIGNALS)
    except ValueError:
        return False
    if not _linked(chunks, CMP_STATE_IN, CMP_STATE_OUT, CMP_FINAL):
        return False
    context = [chain, max_uses, price_per_use, valid_from, valid_until, domain]
    if any(c.public_signals[CMP_CHAIN:CMP_SIGNALS] != context for c in chunks):
        return False
    return _verify_each(chunks)


# --- the contract call ---------------------------------------------------------------------------

def _call_chunks(chunks: Sequence[ChunkProof], circuit: str, n: int) -> list[tuple[list[int], list[int]]]:
    _require(chunks, circuit, n)
    return [(c.proof.calldata(), list(c.public_signals)) for c in chunks]


def aggregate_call_args(chunks: Sequence[ChunkProof]) -> tuple:
    """`recordAggregateProof(contentId, chunks)`'s arguments after contentId: one list of
    `(uint256[8] proof, uint256[27] signals)` tuples."""
    return (_call_chunks(chunks, AGGREGATE, AGG_SIGNALS),)


def compliance_call_args(chunks: Sequence[ChunkProof]) -> tuple:
    """`recordComplianceProof(licenseId, chunks)`'s arguments after licenseId: one list of
    `(uint256[8] proof, uint256[12] signals)` tuples."""
    return (_call_chunks(chunks, COMPLIANCE, CMP_SIGNALS),)


def chunks_from_call(kind: str, decoded_args) -> list[ChunkProof]:
    """Chunks back from a decoded recordAggregateProof/recordComplianceProof call: `kind` is
    "aggregate" or "compliance"; `decoded_args` is web3's decoded input (the dict
    `decode_function_input` gives, with "chunks"), or the arguments after the subject id."""
    if kind not in (AGGREGATE, COMPLIANCE):
        raise ValueError(f"unknown proof kind {kind!r}")
    if isinstance(decoded_args, dict):
        raw = decoded_args["chunks"]
    else:
        args = list(decoded_args)
        raw = args[0] if len(args) == 1 else args[1]
    n = AGG_SIGNALS if kind == AGGREGATE else CMP_SIGNALS
    out = []
    for item in raw:
        proof, signals = (item["proof"], item["signals"]) if isinstance(item, dict) else item
        signals = [int(x) for x in signals]
        if len(signals) != n:
            raise ValueError(f"a {kind} chunk has {n} signals")
        out.append(ChunkProof(kind, Proof.from_calldata([int(w) for w in proof]), signals))
    return out


def chunks_hash(chunks: Sequence[ChunkProof]) -> bytes:
    """The contract's binding of a recorded proof to its chunks: h = keccak256(h ‖ signals) over
    the chunks in order, from 32 zero bytes (each signal a 32-byte big-endian word)."""
    h = bytes(32)
    for c in chunks:
        h = keccak(h + b"".join(int(v).to_bytes(32, "big") for v in c.public_signals))
    return h


def aggregate_record_signals(chunks: Sequence[ChunkProof]) -> list[int]:
    """The public signals UsageTracker records (ProofRecorded, matchesRecordedProof, proofIdOf)
    for an aggregate: [totalUses, totalRevenue, uniqueLicensees, fromTs, toTs, domain, chunksHash]."""
    _require(chunks, AGGREGATE, AGG_SIGNALS)
    s = chunks[-1].public_signals
    return [*s[AGG_TOTAL_USES:AGG_TO + 1], s[AGG_DOMAIN], int.from_bytes(chunks_hash(chunks), "big")]


def compliance_record_signals(chunks: Sequence[ChunkProof]) -> list[int]:
    """The recorded signals of a compliance proof: [totalUses, totalPaid, compliant, chain,
    maxUses, pricePerUse, validFrom, validUntil, domain, chunksHash]."""
    _require(chunks, COMPLIANCE, CMP_SIGNALS)
    s = chunks[-1].public_signals
    return [*s[CMP_TOTAL_USES:CMP_COMPLIANT + 1], *s[CMP_CHAIN:CMP_SIGNALS], int.from_bytes(chunks_hash(chunks), "big")]


__all__ = [
    "AggregateOutputs", "ChunkProof", "ComplianceOutputs", "ProofGenerationError", "WitnessError",
    "aggregate_call_args", "aggregate_outputs", "aggregate_record_signals", "chunks_from_call", "chunks_hash",
    "compliance_call_args", "compliance_outputs", "compliance_record_signals", "default_workers",
    "prove_aggregate", "prove_compliance", "verify_aggregate", "verify_compliance",
]
