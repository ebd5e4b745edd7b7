"""Zero-knowledge proofs: circuits' prover interface, verification and field encodings.

    from marketplace.zk import prove, verify, Proof
    from marketplace.zk.inputs import usage_batch_inputs, UsageEvent
    result = prove("usage_batch", usage_batch_inputs(...))
    verify("usage_batch", result.proof, result.public_signals)   # py_ecc
    result.proof.calldata()                                       # uint256[8] for the contracts

Importing this package loads no key and starts nothing: keys are loaded on first use and kept.
"""

from .proof import Proof, ProofResult
from .prover import BACKENDS, keys_dir, load_circuit, prove, public_signal_names, verify, warm
from .witness import WitnessError

__all__ = [
    "BACKENDS", "Proof", "ProofResult", "WitnessError", "keys_dir", "load_circuit", "prove",
    "public_signal_names", "verify", "warm",
]
