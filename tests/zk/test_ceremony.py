"""Importing a ceremony .zkey (the production path, circuits/README.md): a small snarkjs ceremony
on the smallest circuit (new zkey, two contributions, a random beacon), imported with
`circuits/build.py --import-zkey`, then proved and verified through marketplace.zk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from marketplace.zk import prove, verify
from marketplace.zk.verifier import VerifyingKey
from tests.support.zk_samples import sample_inputs

from circuits import build

pytestmark = [pytest.mark.zk, pytest.mark.slow, pytest.mark.usefixtures("built_keys")]
CIRCUIT = "credential"
SNARKJS = str(build.NODE_BIN / "snarkjs")


def snarkjs(*args: str) -> str:
    proc = subprocess.run([SNARKJS, *args], capture_output=True, text=True, cwd=build.ROOT, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture()
def workdir():
    # circom2 only sees the working tree, so the keys folder lives under build/.
    path = build.ROOT / "build" / f".ceremony-test-{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_ceremony_zkey_is_imported_and_proves(workdir, monkeypatch):
    r1cs = build.BUILD / CIRCUIT / f"{CIRCUIT}.r1cs"
    ptau = str(build.DEFAULT_PTAU)
    z = [str(workdir / f"c{i}.zkey") for i in range(4)]
    snarkjs("groth16", "setup", str(r1cs), ptau, z[0])
    snarkjs("zkey", "contribute", z[0], z[1], "--name=alice", f"-e={os.urandom(32).hex()}")
    snarkjs("zkey", "contribute", z[1], z[2], "--name=bob", f"-e={os.urandom(32).hex()}")
    snarkjs("zkey", "beacon", z[2], z[3], "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "10",
            "-n=final beacon")
    keys, verifiers = workdir / "keys", workdir / "verifiers"
    args = ["--circuit", CIRCUIT, "--keys-dir", str(keys), "--verifiers-dir", str(verifiers)]

    assert build.main([*args, "--import-zkey", z[3]]) == 0
    manifest = json.loads((keys / CIRCUIT / "manifest.json").read_text())
    assert manifest["setup"]["kind"] == "ceremony"
    assert "CredentialVerifier" in (verifiers / "CredentialVerifier.sol").read_text()

    monkeypatch.setenv("ZK_KEYS_DIR", str(keys))
    result = prove(CIRCUIT, sample_inputs(CIRCUIT))
    assert verify(CIRCUIT, result.proof, result.public_signals)
    # It really is another key: the development key rejects the ceremony key's proof.
    dev_vk = VerifyingKey.from_snarkjs(build.BUILD / CIRCUIT / "verification_key.json")
    assert not dev_vk.verify(result.proof, result.public_signals)

    # An ordinary (cached) build keeps ceremony keys while the circuit is unchanged.
    assert build.main(args) == 0
    assert json.loads((keys / CIRCUIT / "manifest.json").read_text())["setup"]["kind"] == "ceremony"


def test_a_zkey_for_another_circuit_is_refused(workdir):
    other = build.BUILD / "authenticity" / "authenticity.zkey"
    with pytest.raises(RuntimeError, match="zkey verify|does not verify"):
        build.main(["--circuit", CIRCUIT, "--keys-dir", str(workdir / "keys"),
                    "--verifiers-dir", str(workdir / "verifiers"), "--import-zkey", str(other)])
