"""The authenticity prover: ``marketplace.zk`` (Groth16 through groth16py) behind one call.

``marketplace.zk`` loads proving keys on first use (from ZK_KEYS_DIR, default build/circuits);
it is imported inside the call, so nothing heavy happens when a handler module is imported.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AuthenticityProof:
    public_signals: list[int]  # [creatorCommitment, timestampCommitment, hashHi, hashLo, domain]
    proof: list[int]  # [a0, a1, b00, b01, b10, b11, c0, c1], as ContentRegistry takes it

    @property
    def creator_commitment(self) -> int:
        return self.public_signals[0]

    @property
    def timestamp_commitment(self) -> int:
        return self.public_signals[1]


def prove_authenticity(*, creator_secret: int, content_hash: bytes, timestamp: int, salt: int,
                       domain: int) -> AuthenticityProof:
    from marketplace import zk
    from marketplace.zk.inputs import authenticity_inputs

    result = zk.prove("authenticity", authenticity_inputs(creator_secret, content_hash, timestamp, salt, domain))
    return AuthenticityProof([int(s) for s in result.public_signals], [int(x) for x in result.proof.calldata()])
