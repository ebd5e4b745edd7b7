"""BN254 scalar-field helpers shared by the circuits, the contracts and the backend.

Encodings follow docs/design.md ("Field encoding shared by circuits and contracts"):
256-bit hashes as two 128-bit limbs, ids as `uint256(id) % p`, and the domain that binds a proof
to one chain and one consuming contract. `poseidon` is circomlib's Poseidon, bit for bit (same
constants, same optimised permutation as `circomlib/circuits/poseidon.circom`).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

# BN254 (alt_bn128) scalar field modulus: circuit signals and Groth16 public inputs live here.
P = 21888242871839275222246405745257275088548364400416034343698204186575808495617

_MASK_128 = (1 << 128) - 1


def _as_int(x: bytes | int | str) -> int:
    if isinstance(x, bool):
        raise TypeError("expected bytes or int, got bool")
    if isinstance(x, int):
        if x < 0:
            raise ValueError("negative value")
        return x
    if isinstance(x, str):
        return int(x, 16) if x.lower().startswith("0x") else int(x)
    if isinstance(x, (bytes, bytearray)):
        return int.from_bytes(x, "big")
    raise TypeError(f"expected bytes or int, got {type(x).__name__}")


def to_field(x: bytes | int | str) -> int:
    """`uint256(x) % p`: a 32-byte id (bytes, big-endian), an int or a 0x-hex string as a field
    element, exactly as a contract computes `uint256(id) % p`."""
    v = _as_int(x)
    if v >= 1 << 256:
        raise ValueError("value does not fit in 256 bits")
    return v % P


def split_256(x: bytes | int | str) -> tuple[int, int]:
    """A 256-bit value (e.g. a SHA-256 digest) as `(hi, lo)` 128-bit limbs: `hi = x >> 128`,
    `lo = x & (2^128 - 1)`."""
    v = _as_int(x)
    if v >= 1 << 256:
        raise ValueError("value does not fit in 256 bits")
    return v >> 128, v & _MASK_128


def domain(chain_id: int, address: str | bytes) -> int:
    """`uint256(keccak256(abi.encode(uint256 chainid, address consumer))) % p`: the public input
    that binds a proof to one chain and one consuming contract."""
    addr = bytes.fromhex(address.removeprefix("0x")) if isinstance(
        address, str) else bytes(address)
    if len(addr) != 20:
        raise ValueError("an address is 20 bytes")
    if not 0 <= chain_id < 1 << 256:
        raise ValueError("chain id out of range")
    from eth_hash.auto import keccak  # imported here: the access path imports this module and must stay light

    encoded = chain_id.to_bytes(32, "big") + bytes(12) + addr
    return int.from_bytes(keccak(encoded), "big") % P


@cache
def _constants(t: int) -> tuple[list[int], list[int], list[list[int]], list[list[int]]]:
    data = json.loads((Path(__file__).with_name("poseidon_constants.json")).read_text())
    try:
        c = data["widths"][str(t)]
    except KeyError:
        raise ValueError(f"poseidon: {t - 1} inputs not supported") from None
    return (
        [int(v) for v in c["C"]],
        [int(v) for v in c["S"]],
        [[int(v) for v in row] for row in c["M"]],
        [[int(v) for v in row] for row in c["P"]],
    )


# Partial-round counts by width t (index t - 2), as in circomlib's PoseidonEx.
_N_ROUNDS_P = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68]
_N_ROUNDS_F = 8


def _mix(state: list[int], m: list[list[int]]) -> list[int]:
    t = len(state)
    return [sum(m[j][i] * state[j] for j in range(t)) % P for i in range(t)]


def _sbox(x: int) -> int:
    return pow(x, 5, P)


def poseidon(*inputs: int) -> int:
    """circomlib `Poseidon(len(inputs))` (1 to 5 inputs, each reduced mod p)."""
    if not 1 <= len(inputs) <= 5:
        raise ValueError("poseidon takes 1 to 5 inputs")
    t = len(inputs) + 1
    C, S, M, PM = _constants(t)
    n_p = _N_ROUNDS_P[t - 2]
    half_f = _N_ROUNDS_F // 2

    # Mirrors PoseidonEx step by step (initialState 0, then the inputs).
    state = [(v + C[i]) % P for i, v in enumerate([0, *(_as_int(x) % P for x in inputs)])]
    for r in range(half_f - 1):
        state = [(_sbox(v) + C[(r + 1) * t + i]) % P for i, v in enumerate(state)]
        state = _mix(state, M)
    state = [(_sbox(v) + C[half_f * t + i]) % P for i, v in enumerate(state)]
    state = _mix(state, PM)
    for r in range(n_p):
        state[0] = (_sbox(state[0]) + C[(half_f + 1) * t + r]) % P
        base = (2 * t - 1) * r
        s0 = sum(S[base + i] * state[i] for i in range(t)) % P
        state = [s0] + [(state[i] + state[0] * S[base + t + i - 1]) % P for i in range(1, t)]
    for r in range(half_f - 1):
        state = [(_sbox(v) + C[(half_f + 1) * t + n_p + r * t + i]) % P for i, v in enumerate(state)]
        state = _mix(state, M)
    state = [_sbox(v) for v in state]
    return sum(M[j][0] * state[j] for j in range(t)) % P
