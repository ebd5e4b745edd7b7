"""circuits/build.py: cache key coverage, concurrent builds, cached rebuilds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from circuits import build

CIRCUIT = "credential"


def test_cache_key_covers_every_included_file():
    entry = build.load_registry()["usage_batch"]
    closure = {p.relative_to(build.ROOT).as_posix() for p in build.source_closure(build.ROOT / entry["main"])}
    assert {
        "circuits/main/usage_batch.circom",
        "circuits/templates/usage_batch.circom",
        "circuits/templates/gated_window.circom",
        "circuits/templates/chain_step.circom",
        "node_modules/circomlib/circuits/poseidon.circom",
        "node_modules/circomlib/circuits/poseidon_constants.circom",
        "node_modules/circomlib/circuits/bitify.circom",
    } <= closure


def test_registry_public_signals_expand_arrays():
    assert build.expand_signals(["a", "chains[3]", "b"]) == ["a", "chains[0]", "chains[1]", "chains[2]", "b"]


@pytest.mark.slow
def test_two_concurrent_builds_then_a_cached_one():
    work = build.ROOT / "build" / f".build-test-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    cmd = [sys.executable, str(build.ROOT / "circuits" / "build.py"), "--circuit", CIRCUIT,
           "--keys-dir", str(work / "keys"), "--verifiers-dir", str(work / "verifiers")]
    try:
        procs = [subprocess.Popen(cmd, cwd=build.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for _ in range(2)]
        outputs = [p.communicate(timeout=600)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outputs
        # One built under the lock; the other waited and found it current.
        assert sum("built:" in o for o in outputs) == 1 and sum("cached" in o for o in outputs) == 1, outputs
        manifest = json.loads((work / "keys" / CIRCUIT / "manifest.json").read_text())
        assert manifest["setup"]["kind"] == "development" and manifest["constraints"] > 0
        assert not [p for p in (work / "keys").iterdir() if ".tmp-" in p.name or ".old-" in p.name]
        again = subprocess.run(cmd, cwd=build.ROOT, capture_output=True, text=True, check=True).stdout
        assert "cached" in again and "building" not in again
        assert "DO NOT EDIT" in (work / "verifiers" / "CredentialVerifier.sol").read_text()
    finally:
        shutil.rmtree(work, ignore_errors=True)
