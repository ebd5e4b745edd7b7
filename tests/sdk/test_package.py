"""The SDK installs on its own: a fresh virtual environment, ``uv pip install ./sdk`` (from uv's
cache when it has every wheel, else from PyPI), then ``import zkdm`` and ``zkdm --help``; none of
the server's dependencies (boto3, web3, the CDK, the prover) comes along."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.sdk, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
UV = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
SERVER_ONLY = {"boto3", "botocore", "web3", "aws-cdk-lib", "groth16py", "aws-lambda-powertools", "moto",
               "wasmtime"}


def _uv(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([UV, *args], capture_output=True, text=True, check=False, timeout=600, **kwargs)


@pytest.mark.skipif(UV is None, reason="uv is not installed (make install installs it)")
def test_the_sdk_installs_alone_into_a_fresh_venv(tmp_path):
    venv = tmp_path / "venv"
    made = _uv("venv", "--python", sys.executable, str(venv))
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    install = ["pip", "install", "--python", str(python), str(ROOT / "sdk")]
    done = _uv(*install, "--offline")
    if done.returncode != 0:  # something is not in uv's cache yet: from PyPI
        done = _uv(*install)
    assert done.returncode == 0, done.stderr
    listed = _uv("pip", "list", "--python", str(python), "--format", "json")
    installed = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert "zkdm" in installed
    assert not installed & SERVER_ONLY, f"server dependencies in the SDK's environment: {installed & SERVER_ONLY}"
    imported = subprocess.run([str(python), "-c", "import zkdm, zkdm.models, zkdm.cli; print(zkdm.__version__)"],
                              capture_output=True, text=True, check=False, cwd=tmp_path)
    assert imported.returncode == 0 and imported.stdout.strip() == "0.1.0", imported.stderr
    helped = subprocess.run([str(venv / "bin" / "zkdm"), "--help"], capture_output=True, text=True, check=False,
                            cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    for command in ("register", "terms", "buy", "access", "keys", "license", "login", "uploads", "signers",
                    "earnings", "payments", "withdraw", "webhooks", "email", "compliance", "proof", "verify",
                    "analytics", "browse", "content"):
        assert command in helped.stdout
    # the verification keys zkdm verify trusts are in the installed package, and py_ecc came along
    script = ("import json; from zkdm.verify import pinned_key; "
              "print(json.loads(pinned_key('compliance'))['nPublic'], json.loads(pinned_key('aggregate'))['nPublic'])")
    keys = subprocess.run([str(python), "-c", script],
                          capture_output=True, text=True, check=False, cwd=tmp_path)
    assert keys.returncode == 0 and [int(n) > 0 for n in keys.stdout.split()] == [True, True], keys.stderr
