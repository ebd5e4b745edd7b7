"""Input builders: the only place that knows the circuits' signal names and padding rules.

Each `<circuit>_inputs(...)` returns the dict `prove(circuit, inputs)` takes; compliance and
aggregate proofs are chunked (`compliance_chunk_inputs`, `plan_aggregate_chunks` +
`aggregate_chunk_inputs`, one chunk each; `marketplace.zk.folds` drives them). The commitment
helpers compute, off-chain and with the same Poseidon, the values the backend stores (a
credential commitment at purchase, a batch record after a usage proof); tests check each against
the circuit's witness.

Sizes (N, B, M, L) are the registry's (circuits/registry.json); a different instance size needs
a different circuit build.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

from .field import P, poseidon, split_256, to_field

USAGE_BATCH_N = 64
COMPLIANCE_B = 32
AGGREGATE_M = 32
AGGREGATE_L = 8

_TS_MAX = 1 << 40
_COUNT_MAX = 1 << 32
_MONEY_MAX = 1 << 96


def _check(value: int, upper: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < upper:
        raise ValueError(f"{what} must be an int in [0, {upper})")
    return value


def _field(value: int, what: str) -> int:
    return _check(value, P, what)


# --- commitments and hashes (same Poseidon as the circuits) ----------------------------------

def creator_commitment(creator_secret: int) -> int:
    return poseidon(_field(creator_secret, "creator_secret"))


def timestamp_commitment(timestamp: int, salt: int, content_hash: bytes) -> int:
    hi, lo = split_256(content_hash)
    return poseidon(_check(timestamp, _TS_MAX, "timestamp"), _field(salt, "salt"), hi, lo)


def credential_commitment(credential_secret: int, license_id: bytes | int) -> int:
    return poseidon(_field(credential_secret, "credential_secret"), to_field(license_id))


def credential_binding(credential_secret: int, challenge: int) -> int:
    return poseidon(_field(credential_secret, "credential_secret"), _field(challenge, "challenge"))


def nullifier(credential_secret: int, index: int) -> int:
    """The nullifier of a license's use number `index` (0-based, the contract's usesSoFar)."""
    return poseidon(credential_secret, _check(index, _COUNT_MAX + USAGE_BATCH_N, "index"))


def call_hash(endpoint: str, method: str, client_ip: str, request_id: str) -> int:
    """Poseidon of the call details (each string as SHA-256 mod p); private to the prover."""
    parts = [to_field(hashlib.sha256(s.encode()).digest()) for s in (endpoint, method, client_ip, request_id)]
    return poseidon(*parts)


@dataclass(frozen=True)
class UsageEvent:
    timestamp: int   # unix seconds
    call_hash: int   # call_hash(...)


@dataclass(frozen=True)
class BatchRecord:
    """What the backend keeps per proven usage batch; compliance and aggregate proofs open
    records against the license's on-chain chain value."""

    digest: int
    count: int
    window_start: int
    window_end: int

    def next_chain(self, prev: int) -> int:
        """The chain value after this batch: Poseidon(prev, digest, count, windowStart, windowEnd)."""
        return poseidon(prev, self.digest, self.count, self.window_start, self.window_end)

    def to_dict(self) -> dict:
        return {k: str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> BatchRecord:
        return cls(int(d["digest"]), int(d["count"]), int(d["window_start"]), int(d["window_end"]))

    @classmethod
    def from_usage_inputs(cls, inputs: dict) -> BatchRecord:
        """The record a `usage_batch_inputs(...)` dict proves (digest folded as the circuit does)."""
        secret, start = inputs["credentialSecret"], inputs["startIndex"]
        digest = 0
        for i, enabled in enumerate(inputs["enabled"]):
            if enabled:
                digest = poseidon(digest, nullifier(secret, start + i), inputs["timestamps"][i],
                                  inputs["callHashes"][i])
        return cls(digest, inputs["count"], inputs["windowStart"], inputs["windowEnd"])


def fold_chain(records: list[BatchRecord], start: int = 0) -> int:
    """A license's chain value after `records` (a new license's chain is 0)."""
    chain = start
    for r in records:
        chain = r.next_chain(chain)
    return chain


# --- per-circuit inputs ------------------------------------------------------------------------

def authenticity_inputs(creator_secret: int, content_hash: bytes, timestamp: int, salt: int,
                        domain: int, not_before: int | None = None, not_after: int | None = None) -> dict:
    """One registration's proof. The public window [not_before, not_after] (default: [timestamp,
    timestamp], which reveals the timestamp) must contain `timestamp`; ContentRegistry accepts
    it only inside [block.timestamp − REGISTRATION_MAX_SKEW, block.timestamp]."""
    if len(content_hash) != 32:
        raise ValueError("content_hash is a 32-byte SHA-256 digest")
    _check(timestamp, _TS_MAX, "timestamp")
    not_before = timestamp if not_before is None else _check(not_before, _TS_MAX, "not_before")
    not_after = timestamp if not_after is None else _check(not_after, _TS_MAX, "not_after")
    if not not_before <= timestamp <= not_after:
        raise ValueError("timestamp must be inside [not_before, not_after]")
    hi, lo = split_256(content_hash)
    return {
        "contentHashHi": hi, "contentHashLo": lo, "notBefore": not_before, "notAfter": not_after,
        "domain": _field(domain, "domain"),
        "creatorSecret": _field(creator_secret, "creator_secret"),
        "timestamp": timestamp, "salt": _field(salt, "salt"),
    }


def credential_inputs(credential_secret: int, license_id: bytes | int, challenge: int, domain: int) -> dict:
    return {
        "challenge": _field(challenge, "challenge"), "domain": _field(domain, "domain"),
        "credentialSecret": _field(credential_secret, "credential_secret"),
        "licenseIdField": to_field(license_id),
    }


def usage_batch_inputs(credential_secret: int, license_id: bytes | int, chain_old: int,
                       start_index: int, events: list[UsageEvent], window_start: int, window_end: int,
                       domain: int) -> dict:
    """One usage batch: `events` (1..64) are uses number start_index, start_index+1, ...;
    unused slots are padded with zeros. `credentialCommitment` is computed from the secret
    and license id: it must equal the one stored with the license on chain."""
    if not 1 <= len(events) <= USAGE_BATCH_N:
        raise ValueError(f"a usage batch has 1 to {USAGE_BATCH_N} events")
    pad = USAGE_BATCH_N - len(events)
    return {
        "chainOld": _field(chain_old, "chain_old"),
        "credentialCommitment": credential_commitment(credential_secret, license_id),
        "startIndex": _check(start_index, _COUNT_MAX, "start_index"),
        "count": len(events),
        "windowStart": _check(window_start, _TS_MAX, "window_start"),
        "windowEnd": _check(window_end, _TS_MAX, "window_end"),
        "domain": _field(domain, "domain"),
        "credentialSecret": credential_secret,
        "licenseIdField": to_field(license_id),
        "enabled": [1] * len(events) + [0] * pad,
        "timestamps": [_check(e.timestamp, _TS_MAX, "timestamp") for e in events] + [0] * pad,
        "callHashes": [_field(e.call_hash, "call_hash") for e in events] + [0] * pad,
    }


def _record_slots(records: list[BatchRecord], size: int) -> dict:
    pad = size - len(records)
    return {
        "enabled": [1] * len(records) + [0] * pad,
        "digests": [r.digest for r in records] + [0] * pad,
        "counts": [_check(r.count, _COUNT_MAX, "count") for r in records] + [0] * pad,
        "windowStarts": [_check(r.window_start, _TS_MAX, "window_start") for r in records] + [0] * pad,
        "windowEnds": [_check(r.window_end, _TS_MAX, "window_end") for r in records] + [0] * pad,
    }


# --- compliance and aggregate: chunks linked by a state commitment (marketplace.zk.folds) -------
#
# Both proofs are sequences of fixed-size chunk proofs; each chunk opens the running state of the
# previous one (stateIn; 0 = the initial all-zero state) and commits to its own (stateOut) with a
# fresh private salt. `marketplace.zk.folds` plans, proves and verifies the sequences; the
# builders below make one chunk's circuit inputs and its outgoing state.

_TS_SHIFT = 1 << 40


@dataclass(frozen=True)
class ComplianceState:
    """A compliance chunk's running state: uses so far, whether a batch so far was outside the
    validity, the chain after the records so far, the salt of its commitment."""

    uses: int = 0
    bad: int = 0
    partial: int = 0
    salt: int = 0

    def commitment(self) -> int:
        return poseidon(self.uses, self.bad, self.partial, self.salt)


@dataclass(frozen=True)
class AggregateState:
    """An aggregate chunk's running state: uses and revenue so far, the date range so far (0, 0
    before the first record), the partial chain of the license the chunk left unfinished, the salt."""

    uses: int = 0
    revenue: int = 0
    from_ts: int = 0
    to_ts: int = 0
    partial: int = 0
    salt: int = 0

    def commitment(self) -> int:
        return poseidon(self.uses, self.revenue, self.from_ts + self.to_ts * _TS_SHIFT, self.partial, self.salt)


def _state_in(state: ComplianceState | AggregateState | None) -> int:
    """The public stateIn of a chunk: 0 for the first (state None), else the commitment."""
    return 0 if state is None else state.commitment()


def compliance_chunk_inputs(records: list[BatchRecord], state: ComplianceState | None, salt_out: int, *,
                            final: bool, chain: int, max_uses: int, price_per_use: int, valid_from: int,
                            valid_until: int, domain: int) -> tuple[dict, ComplianceState]:
    """One ComplianceChunk(B): the next ≤ B records of the license, after `state` (None for the
    first chunk). Returns the circuit inputs and the chunk's outgoing state (whose commitment is
    its stateOut). `chain` is the license's on-chain value (checked by the final chunk)."""
    if len(records) > COMPLIANCE_B:
        raise ValueError(f"a compliance chunk opens at most {COMPLIANCE_B} batches")
    prev = state or ComplianceState()
    bad = prev.bad
    for r in records:
        if not valid_from <= r.window_start <= r.window_end <= valid_until:
            bad = 1
    out = ComplianceState(prev.uses + sum(r.count for r in records), bad, fold_chain(records, prev.partial),
                          _field(salt_out, "salt_out"))
    inputs = {
        "stateIn": _state_in(state),
        "final": int(bool(final)),
        "chain": _field(chain, "chain"),
        "maxUses": _check(max_uses, _COUNT_MAX, "max_uses"),
        "pricePerUse": _check(price_per_use, _MONEY_MAX, "price_per_use"),
        "validFrom": _check(valid_from, _TS_MAX, "valid_from"),
        "validUntil": _check(valid_until, _TS_MAX, "valid_until"),
        "domain": _field(domain, "domain"),
        "usesIn": prev.uses, "badIn": prev.bad, "partialIn": prev.partial, "saltIn": prev.salt,
        "saltOut": out.salt,
        **_record_slots(records, COMPLIANCE_B),
    }
    return inputs, out


@dataclass(frozen=True)
class LicenseBatches:
    """One license of a content item: its proven batches in order, its price per use and
    (optionally) its on-chain chain value."""

    records: list[BatchRecord]
    price_per_use: int
    chain: int | None = None


@dataclass(frozen=True)
class AggregateChunkPlan:
    """What one AggregateChunk(M, L) covers: licenses cursor_in.. in slots 0..L-1 (slot 0 may
    continue a license the previous chunk left partial), `records` as (slot, record) in sequence
    order; licenses cursor_in..cursor_out-1 are completed here. `chains`/`prices` are the L
    licenses from cursor_in on, zero-padded past the list (what the contract supplies)."""

    cursor_in: int
    cursor_out: int
    final: bool
    records: tuple[tuple[int, BatchRecord], ...]
    chains: tuple[int, ...]
    prices: tuple[int, ...]


def plan_aggregate_chunks(licenses: list[LicenseBatches]) -> list[AggregateChunkPlan]:
    """Splits the content's licenses (in the tracker's usedLicenses order) into chunks of at most
    M records and L license slots, greedily. Every license needs at least one record (a used
    license has a batch); an empty list gives one final chunk with no records."""
    chains = [fold_chain(lic.records) if lic.chain is None else _field(lic.chain, "chain") for lic in licenses]
    prices = [_check(lic.price_per_use, _MONEY_MAX, "price_per_use") for lic in licenses]
    for i, lic in enumerate(licenses):
        if not lic.records:
            raise ValueError(f"license {i} has no batch records (a used license has at least one)")
        for r in lic.records:
            _check(r.count, _COUNT_MAX, "count")
            if r.count == 0:
                raise ValueError("a batch record has count ≥ 1")
    n = len(licenses)

    def window(cursor: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        pad = [0] * AGGREGATE_L
        c = (chains[cursor:cursor + AGGREGATE_L] + pad)[:AGGREGATE_L]
        p = (prices[cursor:cursor + AGGREGATE_L] + pad)[:AGGREGATE_L]
        return tuple(c), tuple(p)

    plans: list[AggregateChunkPlan] = []
    cur, rec = 0, 0   # next record: licenses[cur].records[rec]
    while True:
        cursor_in = cur
        taken: list[tuple[int, BatchRecord]] = []
        while cur < n and len(taken) < AGGREGATE_M and cur - cursor_in < AGGREGATE_L:
            records = licenses[cur].records
            room = AGGREGATE_M - len(taken)
            part = records[rec:rec + room]
            taken.extend((cur - cursor_in, r) for r in part)
            rec += len(part)
            if rec == len(records):
                cur, rec = cur + 1, 0
        final = cur == n
        plans.append(AggregateChunkPlan(cursor_in, cur, final, tuple(taken), *window(cursor_in)))
        if final:
            return plans


def aggregate_chunk_inputs(plan: AggregateChunkPlan, state: AggregateState | None, salt_out: int,
                           domain: int) -> tuple[dict, AggregateState]:
    """One AggregateChunk(M, L) for `plan`, after `state` (None for the first chunk). Returns the
    circuit inputs and the outgoing state (its commitment is the chunk's stateOut)."""
    if len(plan.records) > AGGREGATE_M:
        raise ValueError(f"an aggregate chunk opens at most {AGGREGATE_M} batch records")
    k = plan.cursor_out - plan.cursor_in
    if not 0 <= k <= AGGREGATE_L:
        raise ValueError(f"an aggregate chunk completes 0 to {AGGREGATE_L} licenses")
    prev = state or AggregateState()
    # Only the slot left partial needs its chain here (Poseidon in Python is slow; the circuit
    # folds every slot itself).
    partial = (prev.partial if k == 0 else 0) if k < AGGREGATE_L else 0
    uses, revenue, lo, hi = prev.uses, prev.revenue, prev.from_ts, prev.to_ts
    for slot, r in plan.records:
        if slot == k:
            partial = r.next_chain(partial)
        if uses == 0:
            lo, hi = r.window_start, r.window_end
        else:
            lo, hi = min(lo, r.window_start), max(hi, r.window_end)
        uses += r.count
        revenue += r.count * plan.prices[slot]
    out = AggregateState(uses, revenue, lo, hi, partial, _field(salt_out, "salt_out"))
    records = [r for _, r in plan.records]
    pad = AGGREGATE_M - len(records)
    inputs = {
        "stateIn": _state_in(state),
        "cursorIn": _check(plan.cursor_in, _COUNT_MAX, "cursor_in"),
        "cursorOut": plan.cursor_out,
        "final": int(bool(plan.final)),
        "chains": [_field(c, "chain") for c in plan.chains],
        "prices": [_check(p, _MONEY_MAX, "price_per_use") for p in plan.prices],
        "domain": _field(domain, "domain"),
        "usesIn": prev.uses, "revenueIn": prev.revenue, "fromIn": prev.from_ts, "toIn": prev.to_ts,
        "partialIn": prev.partial, "saltIn": prev.salt, "saltOut": out.salt,
        "kSel": [int(t == k) for t in range(AGGREGATE_L + 1)],
        "slotOf": [[int(s == slot) for s in range(AGGREGATE_L)] for slot, _ in plan.records]
        + [[0] * AGGREGATE_L] * pad,
        **_record_slots(records, AGGREGATE_M),
    }
    return inputs, out
