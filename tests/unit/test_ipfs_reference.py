"""marketplace.ipfs against Debian's `ipfs_cid` (package ipfs-cid), from 1 byte to 50 MB.

`ipfs_cid FILE` prints `{"CIDv0": "Qm…", "CIDv1": "bafy…"}` on stdout (diagnostics on stderr):
the CID `ipfs add` gives by default and the same multihash as a base32 dag-pb CIDv1.
`make test` installs it (`make install-system`: apt-get install -y ipfs-cid).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from marketplace import ipfs

pytestmark = [pytest.mark.unit, pytest.mark.slow]

IPFS_CID = shutil.which("ipfs_cid")
CHUNK = 262_144
SIZES = [1, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 1 << 20, 5 * (1 << 20) + 3,
         174 * CHUNK, 174 * CHUNK + 1,  # one full node of 174 leaves, then a second level
         50_000_000]


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cid") / "random.bin"
    path.write_bytes(os.urandom(max(SIZES)))
    return path


@pytest.mark.skipif(IPFS_CID is None, reason="ipfs_cid not installed (apt-get install -y ipfs-cid; "
                                               "`make install-system` does it)")
@pytest.mark.parametrize("size", SIZES)
def test_cid_matches_ipfs_cid(size, big_file, tmp_path):
    path = tmp_path / f"f{size}.bin"
    with open(big_file, "rb") as src, open(path, "wb") as dst:
        dst.write(src.read(size))
    out = subprocess.run([IPFS_CID, str(path)], capture_output=True, text=True, check=True)
    reference = json.loads(out.stdout)
    with open(path, "rb") as f:
        cid = ipfs.compute(f)
    assert cid.size == size
    assert cid.v0 == reference["CIDv0"]
    assert cid.v1 == reference["CIDv1"]
