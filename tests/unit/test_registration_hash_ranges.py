"""The registration's store stage in pieces (``marketplace.content.staged``): the hash step reads one
range of the pinned upload version per invocation and checkpoints the SHA-256 state (``rehashes``)
and the CID tree in the journal; a crashed invocation's retry resumes from the last checkpoint; the
result equals hashlib's SHA-256 and Debian ``ipfs_cid``'s CIDs. The in-memory fakes, tiny ranges."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess

import pytest
from marketplace import ipfs
from marketplace.content import fakes
from marketplace.content.ranges import MemoryRanges
from marketplace.content.saga import RegistrationSteps
from marketplace.content.staged import ResumableSha256, StoreLimits, sha_library
from marketplace.errors import InternalError

pytestmark = pytest.mark.unit

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CREATOR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
KEY = "uploads/r1"
STATE = {"registrationId": "r1", "creator": CREATOR, "uploadKey": KEY, "metadata": {"title": "t"}}
CHUNK = ipfs.CHUNK_SIZE
MiB = 1 << 20
IPFS_CID = shutil.which("ipfs_cid")
# past 174 chunks the CID tree has a second level: its open groups cross the checkpoints too
BIG = 174 * CHUNK + 3 * MiB + 12_345


class CrashingRanges(MemoryRanges):
    """Ranges whose stream dies (as a Lambda timeout would end it) after ``crash_after`` bytes of
    the ``crash_on``-th range opened."""

    def __init__(self, objects, crash_on: int | None = None, crash_after: int = 0) -> None:
        super().__init__(objects)
        self.crash_on, self.crash_after = crash_on, crash_after

    def open_range(self, bucket, key, version, start, end):
        stream = super().open_range(bucket, key, version, start, end)
        if len(self.reads) != self.crash_on:
            return stream
        budget = [self.crash_after]

        class Dying:
            def read(self, n):
                if budget[0] <= 0:
                    raise OSError("sandbox lost")
                piece = stream.read(min(n, budget[0]))
                budget[0] -= len(piece)
                return piece

        return Dying()


def make(data: bytes, limits: StoreLimits, ranges_cls=MemoryRanges, regs=None, objects=None, **kw):
    objects = objects or fakes.MemoryObjects({("uploads", KEY): data})
    if regs is None:
        regs = fakes.MemoryRegistrations()
        regs.table.put({"registrationId": "r1", "creator": CREATOR, "state": "PENDING"})
    ranges = ranges_cls(objects, **kw)
    steps = RegistrationSteps(
        registrations=regs, content=fakes.MemoryContent(), objects=objects, content_bucket="content",
        uploads_bucket="uploads", chain_id=31337, registry=REGISTRY, chain=lambda: None,
        prove_authenticity=lambda **kw: None, identity_key=lambda: b"k" * 32, ranges=ranges, limits=limits)
    return steps, regs, objects, ranges


def loop(steps, step: str, state: dict, result_key: str, cap: int = 1000) -> tuple[dict, int]:
    """What the state machine's Task + Choice loop does: call the step until ``done``."""
    for n in range(1, cap):
        out = steps.run(step, state)
        if out["done"]:
            return out, n
        state = {**state, result_key: {"value": out}}
    raise AssertionError("no end")


def reference(data: bytes, tmp_path) -> tuple[str, str, str]:
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    out = json.loads(subprocess.run([IPFS_CID, str(path)], capture_output=True, text=True, check=True).stdout)
    return "0x" + hashlib.sha256(data).hexdigest(), out["CIDv0"], out["CIDv1"]


def test_rehashes_state_resumes_to_hashlibs_digest_at_any_cut():
    data = os.urandom(3 * MiB + 7)
    for cut in (0, 1, 63, 64, 65, CHUNK, 2 * MiB + 1):
        first = ResumableSha256()
        first.update(data[:cut])
        again = ResumableSha256(first.state())  # as a new process would load it
        again.update(memoryview(data)[cut:])
        assert again.digest() == hashlib.sha256(data).digest(), cut
    assert len(ResumableSha256().state()) < 200


def test_the_cid_tree_resumes_from_its_exported_groups():
    data = os.urandom(BIG)
    whole = ipfs.compute_bytes(data)
    builder = ipfs.CidBuilder(sha=ResumableSha256())
    pos = 0
    for cut in (CHUNK, 100 * CHUNK, 175 * CHUNK, 180 * CHUNK, len(data)):
        builder.update(data[pos:cut])
        pos = cut
        if cut % CHUNK == 0:
            builder = ipfs.CidBuilder.resume_tree(builder.export_tree(),
                                                  ResumableSha256(builder.sha.state()))  # type: ignore[attr-defined]
    assert builder.finish() == whole
    with pytest.raises(ValueError, match="chunk boundary"):
        odd = ipfs.CidBuilder()
        odd.update(b"x")
        odd.export_tree()


@pytest.mark.slow
@pytest.mark.skipif(IPFS_CID is None, reason="ipfs_cid not installed (make install-system)")
def test_tiny_ranges_hash_in_several_checkpointed_invocations(tmp_path):
    data = os.urandom(BIG)
    range_bytes = 4 * MiB
    steps, regs, _, ranges = make(data, StoreLimits(range_bytes=range_bytes, checkpoint_bytes=MiB))
    seen = []
    state = dict(STATE)
    while True:
        out = steps.run("hash", state)
        item = regs.get("r1")
        seen.append(item["progress"]["bytesHashed"])
        # the checkpoint stays small: SHA-256 state + the tree's open links, never the data
        assert len(json.dumps(item["hashCheckpoint"])) < 20_000
        if out["done"]:
            break
        assert out["bytesHashed"] % CHUNK == 0 and out["totalBytes"] == BIG
        state = {**state, "hashing": {"value": out}}
    expected_calls = -(-BIG // range_bytes)
    assert len(seen) == expected_calls and seen == sorted(seen) and seen[-1] == BIG
    # each invocation read only its own range of the pinned version
    assert ranges.reads == [(i * range_bytes, min(BIG, (i + 1) * range_bytes)) for i in range(expected_calls)]
    assert regs.get("r1")["progress"]["hashInvocations"] == expected_calls
    sha, v0, v1 = reference(data, tmp_path)
    assert (out["contentHash"], out["ipfsCid"], out["cidV1"]) == (sha, v0, v1)
    # the claim and the copy then store exactly these bytes under the CID
    stored = steps.run("claim", {**state, "hashing": {"value": out}})
    assert stored["contentHash"] == sha and stored["ipfsCid"] == v0 and stored["size"] == BIG
    copied = steps.run("copy", {**state, "store": {"value": stored}})
    assert copied["done"] and steps.objects.objects[("content", v0)] == data


@pytest.mark.slow
@pytest.mark.skipif(IPFS_CID is None, reason="ipfs_cid not installed (make install-system)")
def test_a_crash_between_two_checkpoints_resumes_from_the_last_one(tmp_path):
    data = os.urandom(BIG)
    range_bytes = 8 * MiB
    limits = StoreLimits(range_bytes=range_bytes, checkpoint_bytes=2 * MiB)
    # the third invocation dies 5 MiB + 1 byte into its range: after its checkpoints at 2 and 4 MiB
    steps, regs, objects, _ = make(data, limits, CrashingRanges, crash_on=3, crash_after=5 * MiB + 1)
    assert not steps.run("hash", STATE)["done"]
    assert not steps.run("hash", STATE)["done"]
    with pytest.raises(InternalError):  # what Lambda reports; the state machine retries the task
        steps.run("hash", STATE)
    checkpoint = regs.get("r1")["hashCheckpoint"]
    assert checkpoint["offset"] == 2 * range_bytes + 4 * MiB  # the last checkpoint before the crash
    # the retry runs in another sandbox: nothing but the journal carries over
    retry, _, _, ranges = make(data, limits, regs=regs, objects=objects)
    out, _ = loop(retry, "hash", STATE, "hashing")
    assert ranges.reads[0] == (2 * range_bytes + 4 * MiB, 3 * range_bytes + 4 * MiB)  # not from byte 0
    assert sum(end - start for start, end in ranges.reads) == BIG - (2 * range_bytes + 4 * MiB)
    assert (out["contentHash"], out["ipfsCid"], out["cidV1"]) == reference(data, tmp_path)
    # a retried step after the last one answers the same result without reading again
    reads = len(ranges.reads)
    assert retry.run("hash", STATE) == out and len(ranges.reads) == reads


def test_the_time_budget_stops_an_invocation_at_a_chunk_boundary():
    data = os.urandom(6 * MiB + 5)
    ticks = iter(range(10_000))  # every clock read is one "second" later
    steps, _, _, _ = make(data, StoreLimits(range_bytes=64 * MiB, seconds=3))
    steps.staged._monotonic = lambda: float(next(ticks))
    out = steps.run("hash", STATE)
    assert not out["done"] and 0 < out["bytesHashed"] < len(data) and out["bytesHashed"] % CHUNK == 0
    steps.staged._monotonic = lambda: 0.0
    out = steps.run("hash", STATE)
    assert out["done"] and out["contentHash"] == "0x" + hashlib.sha256(data).hexdigest()
    assert out["ipfsCid"] == ipfs.compute_bytes(data).v0


def test_a_checkpoint_of_another_library_version_or_upload_version_is_not_trusted():
    data = os.urandom(3 * MiB)
    steps, regs, _, ranges = make(data, StoreLimits(range_bytes=MiB))
    steps.run("hash", STATE)
    item = regs.get("r1")
    regs.update("r1", {"hashCheckpoint": {**item["hashCheckpoint"], "lib": "rehashes-0.0.1"}})
    ranges.reads.clear()
    out, _ = loop(steps, "hash", STATE, "hashing")
    assert ranges.reads[0][0] == 0  # started again
    assert out["contentHash"] == "0x" + hashlib.sha256(data).hexdigest()
    assert sha_library().startswith("rehashes-0.3")


def test_an_empty_upload_is_refused_before_anything_is_claimed():
    steps, _, _, _ = make(b"", StoreLimits())
    with pytest.raises(Exception, match="empty"):
        steps.run("hash", STATE)
    assert dict(steps.content.table) == {}


@pytest.mark.parametrize("part_mib", [5, 6])
def test_the_copy_step_copies_parts_of_the_pinned_version_across_invocations(part_mib):
    data = os.urandom(17 * MiB + 3)
    limits = StoreLimits(copy_multipart_bytes=5 * MiB, copy_part_bytes=part_mib * MiB, copy_concurrency=2, seconds=1)
    steps, regs, objects, _ = make(data, limits)
    ticks = iter(range(10_000))
    steps.staged._monotonic = lambda: float(next(ticks))  # about one part per invocation
    hashed, _ = loop(steps, "hash", STATE, "hashing")
    stored = steps.run("claim", {**STATE, "hashing": {"value": hashed}})
    objects.put("uploads", KEY, b"written again meanwhile")
    state = {**STATE, "store": {"value": stored}}
    out, calls = loop(steps, "copy", state, "copying")
    parts = -(-len(data) // (part_mib * MiB))
    assert out == {"done": True, "bytesCopied": len(data), "totalBytes": len(data), "parts": parts}
    assert calls > 1
    assert objects.objects[("content", stored["ipfsCid"])] == data  # the hashed version
    assert regs.get("r1")["progress"]["bytesCopied"] == len(data)
    assert not objects.uploads  # completed


def test_compensation_aborts_an_unfinished_multipart_copy():
    data = os.urandom(12 * MiB)
    limits = StoreLimits(copy_multipart_bytes=5 * MiB, copy_part_bytes=5 * MiB, copy_concurrency=1, seconds=1)
    steps, regs, objects, _ = make(data, limits)
    hashed, _ = loop(steps, "hash", STATE, "hashing")
    stored = steps.run("claim", {**STATE, "hashing": {"value": hashed}})
    ticks = iter(range(10_000))
    steps.staged._monotonic = lambda: float(next(ticks))
    out = steps.run("copy", {**STATE, "store": {"value": stored}})
    assert not out["done"] and len(objects.uploads) == 1
    steps.run("compensate", {**STATE, "store": {"value": stored}, "error": {"Error": "States.Timeout"}})
    assert not objects.uploads and ("content", stored["ipfsCid"]) not in objects.objects
    assert regs.get("r1")["state"] == "FAILED"
