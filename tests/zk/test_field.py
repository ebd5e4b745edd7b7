"""Field encodings, Poseidon and proof encodings, without circuits (unit)."""

from __future__ import annotations

import json

import pytest
from eth_abi import encode
from eth_hash.auto import keccak
from marketplace.zk import Proof
from marketplace.zk.field import P, domain, poseidon, split_256, to_field
from py_ecc.optimized_bn128 import curve_order

pytestmark = pytest.mark.zk


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


def test_fast_final_exponentiation_matches_py_ecc():
    import random

    from marketplace.zk.verifier import final_exponentiation, frobenius
    from py_ecc.optimized_bn128 import FQ12, G1, G2, final_exponentiate, pairing

    rng = random.Random(7)
    f = pairing(G2, G1, final_exponentiate=False)
    g = FQ12([rng.randrange(P) for _ in range(12)])
    assert final_exponentiation(f) == final_exponentiate(f)
    assert final_exponentiation(g) == final_exponentiate(g)
    assert frobenius(g, 1) == g ** 21888242871839275222246405745257275088696311157297823662689037894645226208583


def test_multi_miller_loop_is_the_product_of_py_ecc_miller_loops():
    from marketplace.zk.verifier import final_exponentiation, multi_miller_loop
    from py_ecc.optimized_bn128 import FQ12, G1, G2, multiply, neg, pairing

    p1, q1, p2 = multiply(G1, 5), multiply(G2, 7), multiply(G1, 11)
    expected = pairing(q1, p1, final_exponentiate=False) * pairing(G2, p2, final_exponentiate=False)
    assert multi_miller_loop([(q1, p1), (G2, p2)]) == expected
    # bilinearity through the whole pipeline: e(5·G1, 7·G2) · e(−35·G1, G2) = 1
    assert final_exponentiation(multi_miller_loop([(q1, p1), (G2, neg(multiply(G1, 35)))])) == FQ12.one()
    assert final_exponentiation(multi_miller_loop([(q1, p1), (G2, neg(multiply(G1, 34)))])) != FQ12.one()
