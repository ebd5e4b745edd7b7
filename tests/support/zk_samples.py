"""Sample inputs and witness helpers shared by the circuit tests and `bench/zk.py`.

Sample inputs are built only with marketplace.zk.inputs, like the backend builds them.
"""

from __future__ import annotations

import hashlib

import pytest
from marketplace.zk import WitnessError, load_circuit
from marketplace.zk.field import domain
from marketplace.zk.inputs import (
    BatchRecord,
    LicenseBatches,
    UsageEvent,
    aggregate_chunk_inputs,
    authenticity_inputs,
    call_hash,
    compliance_chunk_inputs,
    credential_inputs,
    fold_chain,
    plan_aggregate_chunks,
    usage_batch_inputs,
)

CIRCUITS = ["authenticity", "credential", "usage_batch", "compliance", "aggregate"]
CHAIN_ID = 31337
CONSUMER = "0x" + "5f" * 20
DOMAIN = domain(CHAIN_ID, CONSUMER)
T0 = 1_735_689_600  # 2025-01-01T00:00:00Z
HOUR = 3600
CREDENTIAL_SECRET = 0x1234_5678_9ABC_DEF0_1122_3344_5566_7788
LICENSE_ID = hashlib.sha256(b"license-1").digest()


def witness(circuit: str, inputs: dict):
    """The circuit's witness for `inputs` (raises WitnessError if a constraint fails)."""
    return load_circuit(circuit).witness.calculate(inputs)


def public_of(circuit: str, inputs: dict) -> dict[str, int]:
    """Public signals by name, read from the witness."""
    c = load_circuit(circuit)
    w = c.witness.calculate(inputs)
    return {name: w[i + 1] for i, name in enumerate(c.public_signal_names)}


def assert_unsatisfiable(circuit: str, inputs: dict) -> None:
    with pytest.raises(WitnessError):
        witness(circuit, inputs)


def events(n: int, start: int = T0, step: int = 30) -> list[UsageEvent]:
    return [UsageEvent(start + i * step, call_hash("/v1/data", "GET", "203.0.113.7", f"req-{i}"))
            for i in range(n)]


def usage_sample(n_events: int = 10, start_index: int = 0, chain_old: int = 0,
                 window: tuple[int, int] = (T0, T0 + HOUR)) -> dict:
    return usage_batch_inputs(CREDENTIAL_SECRET, LICENSE_ID, chain_old, start_index, events(n_events),
                              window[0], window[1], DOMAIN)


def records_sample(batches: list[tuple[int, int, int]], secret: int = CREDENTIAL_SECRET,
                   license_id: bytes = LICENSE_ID) -> list[BatchRecord]:
    """Batch records as the backend gets them: (count, windowStart, windowEnd) per batch, proven in
    order (start indices and chain values follow). Records come from real usage inputs."""
    out: list[BatchRecord] = []
    index, chain = 0, 0
    for count, ws, we in batches:
        evs = [UsageEvent(ws + (i % max(1, we - ws + 1)), i + 1) for i in range(count)]
        inputs = usage_batch_inputs(secret, license_id, chain, index, evs, ws, we, DOMAIN)
        record = BatchRecord.from_usage_inputs(inputs)
        out.append(record)
        chain, index = record.next_chain(chain), index + count
    return out


COMPLIANCE_BATCHES = [(10, T0, T0 + HOUR), (64, T0 + HOUR, T0 + 2 * HOUR), (3, T0 + 5 * HOUR, T0 + 6 * HOUR)]
COMPLIANCE_TERMS = {"max_uses": 100, "price_per_use": 2_500_000, "valid_from": T0, "valid_until": T0 + 24 * HOUR}


SAMPLE_SALT = 0x5A17  # fixed, so that a sample's public signals (its stateOut) are reproducible


def compliance_sample(**overrides) -> dict:
    """One final ComplianceChunk over the sample license's three batches (a whole proof)."""
    terms = {**COMPLIANCE_TERMS, **overrides}
    records = records_sample(COMPLIANCE_BATCHES)
    inputs, _ = compliance_chunk_inputs(records, None, SAMPLE_SALT, final=True, chain=fold_chain(records),
                                        domain=DOMAIN, **terms)
    return inputs


def aggregate_sample(licenses: list[LicenseBatches] | None = None) -> dict:
    """The first AggregateChunk over `licenses` (default aggregate_licenses(): one final chunk)."""
    plan = plan_aggregate_chunks(aggregate_licenses() if licenses is None else licenses)[0]
    inputs, _ = aggregate_chunk_inputs(plan, None, SAMPLE_SALT, DOMAIN)
    return inputs


def aggregate_licenses() -> list[LicenseBatches]:
    return [
        LicenseBatches(records_sample([(5, T0 + HOUR, T0 + 2 * HOUR), (7, T0 + 3 * HOUR, T0 + 4 * HOUR)],
                                      secret=11, license_id=b"\x01" * 32), 1_000_000),
        LicenseBatches(records_sample([(64, T0, T0 + HOUR)], secret=22, license_id=b"\x02" * 32), 2_000_000),
        LicenseBatches(records_sample([(1, T0 + 10 * HOUR, T0 + 11 * HOUR)], secret=33,
                                      license_id=b"\x03" * 32), 3_000_000),
    ]


def sample_inputs(circuit: str) -> dict:
    if circuit == "authenticity":
        return authenticity_inputs(987654321, hashlib.sha256(b"dataset v1").digest(), T0 + 123, 555, DOMAIN)
    if circuit == "credential":
        return credential_inputs(CREDENTIAL_SECRET, LICENSE_ID, 0xC0FFEE, DOMAIN)
    if circuit == "usage_batch":
        return usage_sample()
    if circuit == "compliance":
        return compliance_sample()
    if circuit == "aggregate":
        return aggregate_sample()
    raise KeyError(circuit)
