"""marketplace.ipfs: the CID `ipfs add` gives by default, known vectors and the DAG layout."""

from __future__ import annotations

import io
import os

import pytest
from marketplace import ipfs

pytestmark = pytest.mark.unit


# Given well-known `ipfs add` results (kubo defaults: CIDv0, 256 KiB chunks, balanced, 174 links)
@pytest.mark.parametrize("data, v0", [
    (b"hello world\n", "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"),
    (b"", "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"),
    (b"a", "QmfDmsHTywy6L9Ne5RXsj5YumDedfBLMvCvmaxjBoe6w4d"),
])
def test_known_vectors(data, v0):
    assert ipfs.compute_bytes(data).v0 == v0


def test_cid_v1_is_the_same_multihash_as_dag_pb_base32():
    cid = ipfs.compute_bytes(b"a")
    assert cid.v1 == "bafybeih22o2lqjyoumhqtqjwjomq3mzvdmxxeaivw52aoh2mytrlujo7yi"
    assert cid.v1.startswith("bafy")
    assert ipfs.cid_digest(cid.v0) == cid.digest == cid.multihash[2:]


def test_sha256_and_size_are_of_the_raw_bytes():
    import hashlib

    data = os.urandom(700_000)
    cid = ipfs.compute_bytes(data)
    assert cid.sha256 == hashlib.sha256(data).digest()
    assert cid.size == len(data)


@pytest.mark.parametrize("read_size", [1, 1000, 262_143, 262_144, 262_145, 1 << 20])
def test_result_does_not_depend_on_how_the_stream_is_read(read_size):
    data = os.urandom(3 * 262_144 + 17)
    assert ipfs.compute(io.BytesIO(data), read_size=read_size) == ipfs.compute_bytes(data)


def test_cid_digest_rejects_non_v0():
    with pytest.raises(ValueError):
        ipfs.cid_digest("1" * 46)


# --- the balanced layout against an independent port of go-unixfs's builder ---------------------

def _go_balanced_root(chunks: list[bytes], max_links: int) -> ipfs._Link:
    """A line-by-line port of go-unixfs importer/balanced (Layout + fillNodeRec), recursive."""
    it = iter(chunks)
    pending = [next(it)]  # one chunk of look-ahead, so "done" is known like db.Done()

    def done() -> bool:
        return not pending

    def new_leaf() -> ipfs._Link:
        chunk = pending.pop()
        nxt = next(it, None)
        if nxt is not None:
            pending.append(nxt)
        return ipfs._leaf(chunk)

    def fill(children: list[ipfs._Link], depth: int) -> ipfs._Link:
        while len(children) < max_links and not done():
            children.append(new_leaf() if depth == 1 else fill([], depth - 1))
        return ipfs._parent(children)

    root = new_leaf()
    depth = 1
    while not done():
        root = fill([root], depth)
        depth += 1
    return root


@pytest.mark.parametrize("max_links", [2, 3, 5])
def test_layout_matches_go_balanced_builder_on_deep_trees(max_links):
    chunk = 8
    for n_chunks in range(1, 3 * max_links ** 2 + 3):
        data = bytes(range(256)) * ((n_chunks * chunk) // 256 + 1)
        data = data[: n_chunks * chunk - (3 if n_chunks > 1 else 0)]  # a short last chunk too
        chunks = [data[i:i + chunk] for i in range(0, len(data), chunk)]
        builder = ipfs.CidBuilder(chunk_size=chunk, max_links=max_links)
        builder.update(data)
        got = builder.finish()
        want = _go_balanced_root(chunks, max_links)
        assert got.multihash == want.multihash, (max_links, n_chunks)
