"""Input builders: the only place that knows the circuits' signal names and padding rules.

Each `<circuit>_inputs(...)` returns the dict `prove(circuit, inputs)` takes. The commitment
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
                        domain: int) -> dict:
    if len(content_hash) != 32:
        raise ValueError("content_hash is a 32-byte SHA-256 digest")
    hi, lo = split_256(content_hash)
    return {
        "contentHashHi": hi, "contentHashLo": lo, "domain": _field(domain, "domain"),
        "creatorSecret": _field(creator_secret, "creator_secret"),
        "timestamp": _check(timestamp, _TS_MAX, "timestamp"), "salt": _field(salt, "salt"),
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


def compliance_inputs(records: list[BatchRecord], max_uses: int, price_per_use: int, valid_from: int,
                      valid_until: int, domain: int, chain: int | None = None) -> dict:
    """All proven batches of one license, in order (≤ 32). `chain` is the license's on-chain
    value (default: folded from `records`; pass the contract's value to prove against it)."""
    if len(records) > COMPLIANCE_B:
        raise ValueError(f"a compliance proof opens at most {COMPLIANCE_B} batches")
    return {
        "chain": fold_chain(records) if chain is None else _field(chain, "chain"),
        "maxUses": _check(max_uses, _COUNT_MAX, "max_uses"),
        "pricePerUse": _check(price_per_use, _MONEY_MAX, "price_per_use"),
        "validFrom": _check(valid_from, _TS_MAX, "valid_from"),
        "validUntil": _check(valid_until, _TS_MAX, "valid_until"),
        "domain": _field(domain, "domain"),
        **_record_slots(records, COMPLIANCE_B),
    }


@dataclass(frozen=True)
class LicenseBatches:
    """One license of a content item: its proven batches in order, its price per use and
    (optionally) its on-chain chain value."""

    records: list[BatchRecord]
    price_per_use: int
    chain: int | None = None


def aggregate_inputs(licenses: list[LicenseBatches], domain: int) -> dict:
    """Usage statistics over up to 8 distinct licenses with 32 batch records in all."""
    if len(licenses) > AGGREGATE_L:
        raise ValueError(f"an aggregate proof covers at most {AGGREGATE_L} licenses")
    records: list[BatchRecord] = []
    slot_of: list[list[int]] = []
    chains, prices = [], []
    for s, lic in enumerate(licenses):
        for r in lic.records:
            records.append(r)
            slot_of.append([int(i == s) for i in range(AGGREGATE_L)])
        chains.append(fold_chain(lic.records) if lic.chain is None else _field(lic.chain, "chain"))
        prices.append(_check(lic.price_per_use, _MONEY_MAX, "price_per_use"))
    if len(records) > AGGREGATE_M:
        raise ValueError(f"an aggregate proof opens at most {AGGREGATE_M} batch records")
    empty = AGGREGATE_L - len(licenses)
    return {
        "chains": chains + [0] * empty,
        "prices": prices + [0] * empty,
        "domain": _field(domain, "domain"),
        "slotOf": slot_of + [[0] * AGGREGATE_L] * (AGGREGATE_M - len(records)),
        **_record_slots(records, AGGREGATE_M),
    }
