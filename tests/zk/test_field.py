"""Field encodings, Poseidon and proof encodings, without circuits (unit)."""

from __future__ import annotations

import json

import pytest
from eth_abi import encode
from eth_hash.auto import keccak
from py_ecc.optimized_bn128 import curve_order

from marketplace.zk import Proof
from marketplace.zk.field import P, domain, poseidon, split_256, to_field

pytestmark = pytest.mark.unit


def test_modulus_is_the_bn254_scalar_field():
    assert P == curve_order


def test_split_256_gives_128_bit_limbs():
    x = bytes(range(32))
    hi, lo = split_256(x)
    assert hi == int.from_bytes(x[:16], "big") and lo == int.from_bytes(x[16:], "big")
    assert (hi << 128) | lo == int.from_bytes(x, "big")
    assert split_256(2**256 - 1) == (2**128 - 1, 2**128 - 1)
    with pytest.raises(ValueError):
        split_256(2**256)


def test_to_field_reduces_like_solidity():
    assert to_field(b"\xff" * 32) == (2**256 - 1) % P
    assert to_field(P) == 0 and to_field(P - 1) == P - 1
    assert to_field("0x" + "00" * 31 + "05") == 5
    with pytest.raises(ValueError):
        to_field(-1)


def test_domain_is_keccak_of_abi_encoded_chain_and_address():
    address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
    expected = int.from_bytes(keccak(encode(["uint256", "address"], [31337, address])), "big") % P
    assert domain(31337, address) == expected
    assert domain(1, address) != expected
    assert domain(31337, "0x" + "00" * 19 + "01") != expected


def test_poseidon_matches_circomlib_vectors():
    # Values from circomlib's Poseidon circuit (also the published circomlibjs test vectors).
    assert poseidon(1, 2) == 7853200120776062878684798364095072458815029376092732009249414926327459813530
    assert poseidon(1) == 18586133768512220936620570745912940619677854269274689475585506675881198879027
    assert poseidon(1, 2, 3, 4) == 18821383157269793795438455681495246036402687001665670618754263018637548127333
    with pytest.raises(ValueError):
        poseidon(*range(6))


SAMPLE = Proof(a=(1, 2), b=((3, 4), (5, 6)), c=(7, 8))


def test_calldata_order_is_the_solidity_verifier_order():
    # a, then b with each Fp2 coordinate as (c1, c0), then c.
    assert SAMPLE.calldata() == [1, 2, 4, 3, 6, 5, 7, 8]
    assert Proof.from_calldata(SAMPLE.calldata()) == SAMPLE


def test_proof_json_is_snarkjs_shaped_and_round_trips():
    d = json.loads(SAMPLE.to_json())
    assert d["pi_a"] == ["1", "2", "1"] and d["pi_b"] == [["3", "4"], ["5", "6"], ["1", "0"]]
    assert d["protocol"] == "groth16" and d["curve"] == "bn128"
    assert Proof.from_json(SAMPLE.to_json()) == SAMPLE
    assert Proof.from_bytes(SAMPLE.to_bytes()) == SAMPLE
    with pytest.raises(ValueError):
        Proof.from_snarkjs({**d, "pi_a": ["1", "2", "3"]})
