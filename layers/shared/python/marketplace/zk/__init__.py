"""Zero-knowledge proofs: circuits' prover interface, verification and field encodings.

    from marketplace.zk import prove, verify, Proof
    from marketplace.zk.inputs import usage_batch_inputs, UsageEvent
    result = prove("usage_batch", usage_batch_inputs(...))
    verify("usage_batch", result.proof, result.public_signals)   # py_ecc
    result.proof.calldata()                                       # uint256[8] for the contracts

Importing this package loads no key and starts nothing: keys are loaded on first use and kept.
"""

import importlib

# The exports load on first use (PEP 562), so importing a light submodule (``marketplace.zk.field``:
# Poseidon for the content access path, which must import in under 300 ms) does not pull in
# wasmtime, py_ecc or groth16py through this package's ``__init__``.
_EXPORTS = {
    "Proof": "proof", "ProofResult": "proof", "WitnessError": "witness",
    "BACKENDS": "prover", "keys_dir": "prover", "load_circuit": "prover", "prove": "prover",
    "public_signal_names": "prover", "verify": "prover", "warm": "prover",
}

__all__ = [  # noqa: RUF022 (grouped as in _EXPORTS)
    "Proof", "ProofResult", "WitnessError", "BACKENDS", "keys_dir", "load_circuit", "prove",
    "public_signal_names", "verify", "warm",
]
assert sorted(__all__) == sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups (and monkeypatching) see a plain attribute
    return value
