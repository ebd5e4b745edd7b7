"""The authenticity prover: ``marketplace.zk`` (Groth16 through groth16py) behind one call.

``marketplace.zk`` loads proving keys on first use; it is imported here, inside the call, so
nothing heavy happens when a handler module is imported.
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


def prove_authenticity(*, hash_hi: int, hash_lo: int, domain: int, creator_secret: int, timestamp: int,
                       salt: int) -> AuthenticityProof:
    """Prove the ``authenticity`` circuit (inputs named as in circuits/templates/authenticity.circom)."""
    from marketplace import zk

    result = zk.prove("authenticity", {
        "contentHashHi": hash_hi, "contentHashLo": hash_lo, "domain": domain,
        "creatorSecret": creator_secret, "timestamp": timestamp, "salt": salt,
    })
    return AuthenticityProof([int(s) for s in result.public_signals], [int(x) for x in result.proof.calldata()])
