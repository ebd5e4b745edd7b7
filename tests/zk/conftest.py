"""Fixtures for the circuit tests: built keys and one proof per circuit.

The keys come from `circuits/build.py` (cached: seconds when nothing changed; `make test-zk` builds
first).
"""

from __future__ import annotations

import pytest
from marketplace.zk import prove
from tests.support.zk_samples import sample_inputs


@pytest.fixture(scope="session")
def built_keys():
    """Every circuit built (a no-op when the cache is current)."""
    from circuits import build

    assert build.main([]) == 0


@pytest.fixture(scope="session")
def proofs(built_keys):
    """One groth16py proof per circuit over its sample inputs, made once per session."""
    cache: dict = {}

    def get(circuit: str):
        if circuit not in cache:
            cache[circuit] = prove(circuit, sample_inputs(circuit), backend="groth16py")
        return cache[circuit]

    return get
