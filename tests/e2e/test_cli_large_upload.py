"""A large file registered through the CLI with an interruption in the middle: ``zkdm register`` is
killed (SIGKILL) while its parts upload, run again, and resumes from the parts S3 holds; the
registered SHA-256 and CIDs equal hashlib's and Debian's ``ipfs_cid``'s.

Size: ``ZKDM_E2E_LARGE_MB`` (default 200; 2,048 was run by hand, see docs/design.md)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MiB = 1024 * 1024
SIZE = int(os.environ.get("ZKDM_E2E_LARGE_MB", "200")) * MiB
PART_MIB = 16
ZKDM = [sys.executable, "-m", "zkdm.cli"]
IPFS_CID = shutil.which("ipfs_cid")


def account_key(stack, role: str) -> str:
    return next(a["privateKey"] for a in stack["accounts"] if a["role"] == role)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("large") / "large.bin"
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        left = SIZE
        while left:
            piece = os.urandom(min(8 * MiB, left))
            digest.update(piece)
            out.write(piece)
            left -= len(piece)
    return path, "0x" + digest.hexdigest()


def parts_recorded(home: Path) -> int:
    for state in (home / "uploads").glob("*.json"):
        try:
            return len(json.loads(state.read_text()).get("parts", {}))
        except ValueError:  # never: the file is replaced atomically
            raise
    return 0


@pytest.mark.skipif(IPFS_CID is None, reason="ipfs_cid not installed (make install-system)")
def test_an_interrupted_large_registration_resumes_and_registers_the_right_bytes(stack, big_file, tmp_path):
    path, sha256 = big_file
    home = tmp_path / "home"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ZKDM_")},
           "ZKDM_API_URL": stack["apiUrl"], "ZKDM_HOME": str(home), "CREATOR_KEY": account_key(stack, "creator1")}
    command = [*ZKDM, "--json", "--key-env", "CREATOR_KEY", "register", str(path), "--title", "large",
               "--part-size", str(PART_MIB), "--workers", "2"]
    part_count = -(-SIZE // (PART_MIB * MiB))

    # first run: killed once a third of the parts are recorded
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while parts_recorded(home) < part_count // 3:
        assert first.poll() is None, f"finished before the interruption: {first.communicate()}"
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    held_at_kill = parts_recorded(home)
    assert 0 < held_at_kill < part_count

    listed = subprocess.run([*ZKDM, "--json", "uploads", "list"], env=env, capture_output=True, text=True, check=True)
    (pending,) = json.loads(listed.stdout)
    assert pending["path"] == str(path.resolve()) and pending["completed"] is False

    # second run: the same command resumes
    t0 = time.monotonic()
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
    elapsed = time.monotonic() - t0
    assert second.returncode == 0, second.stderr[-3000:]
    result = json.loads(second.stdout)
    assert "resuming upload" in second.stderr
    assert result["partsResumed"] >= held_at_kill
    assert result["partsResumed"] + result["partsUploaded"] == part_count
    assert result["bytesUploaded"] < SIZE

    reference = json.loads(subprocess.run([IPFS_CID, str(path)], capture_output=True, text=True, check=True).stdout)
    assert result["contentHash"] == sha256
    assert (result["ipfsCid"], result["cidV1"]) == (reference["CIDv0"], reference["CIDv1"])
    assert not list((home / "uploads").glob("*.json"))  # done: nothing left to resume
    print(f"\n{SIZE // MiB} MiB: killed at {held_at_kill}/{part_count} parts, resumed and registered in "
          f"{elapsed:.1f} s")
