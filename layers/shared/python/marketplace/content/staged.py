"""The registration's long work on a staged upload of any size (up to 50 GiB), in pieces that each
fit one Lambda invocation; the state machine loops over them (a Task and a Choice,
``statemachines/registration.asl.json``), and every piece leaves a checkpoint in the journal.

**Hash** (``StagedStore.hash``): one invocation reads one byte range of the pinned upload version
(a ranged GET with its VersionId), at most ``range_bytes`` (rounded down to whole 256 KiB IPFS
chunks) and at most ``seconds`` (it stops early at a chunk boundary), feeding both the file's
SHA-256 and the CID's tree (``ipfs.CidBuilder``). Its checkpoint, in the registration item as
``hashCheckpoint`` (small: about 100 bytes of SHA-256 state and 48 bytes per open tree link, at
most ~17 KB for 50 GiB, far under DynamoDB's 400 KB item limit):

- ``offset`` (bytes hashed, always a multiple of the chunk size), ``size``, ``version`` (the
  upload version it belongs to);
- ``sha``: the SHA-256 state after ``offset`` bytes, serialised by ``rehashes`` (RustCrypto's
  sha2; ``lib`` names the exact version: a checkpoint from another version is not trusted, the hash
  starts again from byte 0);
- ``tree``: the UnixFS tree's open groups (``CidBuilder.export_tree``): every leaf's link that is
  not yet under a closed parent, so the next invocation goes on building the same balanced tree;
- ``result`` once the last byte is in (a retried finished step answers it again).

A checkpoint is also written every ``checkpoint_bytes`` inside an invocation, so a crash (timeout,
out of memory, a lost sandbox) loses at most that much work: the retried step resumes from the
last checkpoint. ``progress`` (``bytesHashed`` of ``totalBytes``, invocations, ``bytesCopied``)
is what ``GET /content/registrations/{id}`` shows.

**Copy** (``StagedStore.copy``): an object of at most ``copy_multipart_bytes`` (S3's CopyObject
takes up to 5 GiB) is copied in one server-side call of the pinned version; a larger one by a
multipart upload in the content bucket whose parts are ``UploadPartCopy`` ranges of the pinned
version, ``copy_concurrency`` at once, for at most ``seconds`` per invocation: the upload id is
journaled (``copyUpload``), S3 itself holds which parts are done (``list_parts``), so a retried or
looping step copies only the missing parts, then completes the upload. Compensation aborts it.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from marketplace import ipfs
from marketplace.content.ports import ObjectStore, Registrations
from marketplace.content.ranges import VersionRanges
from marketplace.errors import InternalError, NotFoundError, ValidationError

log = logging.getLogger(__name__)

GiB = 1 << 30
MiB = 1 << 20
READ_SIZE = 4 * ipfs.CHUNK_SIZE  # 1 MiB reads: whole chunks, so every read ends on a chunk boundary


@dataclass(frozen=True)
class StoreLimits:
    """How much one invocation of the hash or copy step does (``RegistrationWorkerConfig``)."""

    range_bytes: int = 16 * GiB  # HASH_RANGE_BYTES: bytes one hash invocation reads at most
    seconds: float = 240.0  # STORE_STEP_SECONDS: work one invocation does at most (Lambda timeout 300 s)
    checkpoint_bytes: int = 1 * GiB  # a checkpoint at least this often inside an invocation
    copy_multipart_bytes: int = 5 * GiB  # COPY_MULTIPART_BYTES: above it, a multipart copy
    copy_part_bytes: int = 512 * MiB  # COPY_PART_BYTES: 50 GiB = 100 parts
    copy_concurrency: int = 8

    def aligned(self, n: int) -> int:
        """``n`` rounded down to whole IPFS chunks (at least one)."""
        return max(ipfs.CHUNK_SIZE, n - n % ipfs.CHUNK_SIZE)


def sha_library() -> str:
    return "rehashes-" + metadata.version("rehashes")


class ResumableSha256:
    """A SHA-256 whose state can be saved and restored (``rehashes.PySha256``), with hashlib's
    ``update``/``digest`` interface that ``ipfs.CidBuilder`` uses."""

    def __init__(self, state: bytes | None = None) -> None:
        from rehashes import PySha256  # type: ignore[import-untyped]  # no stubs (a Rust extension)

        self._h = PySha256() if state is None else PySha256.deserialize(state)

    def update(self, data: Any, /) -> None:
        self._h.update(data if isinstance(data, bytes) else bytes(data))

    def digest(self) -> bytes:
        return bytes.fromhex(self._h.finalize())

    def state(self) -> bytes:
        return bytes(self._h.serialize())


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode())


class StagedStore:
    """The hash and copy steps over the journal (``registrations``), the object store and its
    version ranges."""

    def __init__(self, *, registrations: Registrations, objects: ObjectStore, ranges: VersionRanges,
                 uploads_bucket: str, content_bucket: str, limits: StoreLimits | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.registrations = registrations
        self.objects = objects
        self.ranges = ranges
        self.uploads_bucket = uploads_bucket
        self.content_bucket = content_bucket
        self.limits = limits or StoreLimits()
        self._monotonic = monotonic

    # -- the pinned version ---------------------------------------------------------------------

    def pinned(self, rid: str, key: str) -> tuple[int, str, dict[str, Any]]:
        """(size, version, journal item) of the upload version this registration reads: pinned in
        the journal (``uploadVersion``) by the first step that saw it."""
        item = self.registrations.get(rid) or {}
        pinned = item.get("uploadVersion")
        found = self.ranges.head(self.uploads_bucket, key, pinned)
        if found is None:
            raise NotFoundError("the uploaded file is gone (uploads expire after a day)", {"registrationId": rid})
        size, version = found
        if version is None:
            raise InternalError("the uploads bucket is not versioned: the stored bytes could differ "
                                "from the hashed ones", {"registrationId": rid})
        if pinned is None:
            self.registrations.update(rid, {"uploadVersion": version})
            item = {**item, "uploadVersion": version}
        return size, version, item

    # -- hash -----------------------------------------------------------------------------------

    def hash(self, rid: str, key: str, *, unbounded: bool = False) -> dict[str, Any]:
        """Hash the next range from the checkpoint: ``{done, bytesHashed, totalBytes}`` and, once
        done, ``contentHash, ipfsCid, cidV1, cidDigest, size``. ``unbounded``: go on to the end
        in this call (small files, and the one-shot ``store`` step)."""
        started = self._monotonic()
        size, version, item = self.pinned(rid, key)
        if size == 0:
            raise ValidationError("file is empty", {"field": "file"})
        checkpoint = self._usable_checkpoint(item.get("hashCheckpoint"), version, size, rid)
        invocations = (checkpoint or {}).get("invocations", 0) + 1
        if checkpoint is not None and "result" in checkpoint:
            return {"done": True, "bytesHashed": size, "totalBytes": size, **checkpoint["result"]}
        if checkpoint is None:
            builder, offset = ipfs.CidBuilder(sha=ResumableSha256()), 0
        else:
            sha = ResumableSha256(_unb64(checkpoint["sha"]))
            builder = ipfs.CidBuilder.resume_tree(_unb64(checkpoint["tree"]), sha)
            offset = int(checkpoint["offset"])
            if builder.size != offset:
                raise InternalError("the hash checkpoint does not hold as many bytes as it says",
                                    {"registrationId": rid})
        limits = self.limits
        end = size if unbounded else min(size, offset + limits.aligned(limits.range_bytes))
        every = limits.aligned(limits.checkpoint_bytes)
        stream = self.ranges.open_range(self.uploads_bucket, key, version, offset, end)
        if stream is None:
            raise NotFoundError("the uploaded file is gone (uploads expire after a day)", {"registrationId": rid})
        since = 0
        try:
            while offset < end:
                piece = _read_exact(stream, min(READ_SIZE, end - offset))
                if not piece:
                    raise InternalError("the upload ended before its announced size",
                                        {"registrationId": rid, "offset": offset, "size": size})
                builder.update(piece)
                offset += len(piece)
                since += len(piece)
                if offset < end and offset % ipfs.CHUNK_SIZE == 0:
                    if not unbounded and self._monotonic() - started >= limits.seconds:
                        break  # the time budget: stop at this chunk boundary, the next invocation goes on
                    if since >= every:
                        self._save(rid, builder, sha_of(builder), offset, size, version, invocations)
                        since = 0
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        if offset < size:
            self._save(rid, builder, sha_of(builder), offset, size, version, invocations)
            log.info("hashed a range", extra={"registrationId": rid, "bytesHashed": offset, "totalBytes": size})
            return {"done": False, "bytesHashed": offset, "totalBytes": size}
        cid = builder.finish()
        result = {"contentHash": "0x" + cid.sha256.hex(), "ipfsCid": cid.v0, "cidV1": cid.v1,
                  "cidDigest": "0x" + cid.digest.hex(), "size": cid.size}
        self.registrations.update(rid, {
            "hashCheckpoint": {"version": version, "size": size, "offset": size, "lib": sha_library(),
                               "invocations": invocations, "result": result},
            "progress": {"bytesHashed": size, "totalBytes": size, "hashInvocations": invocations}})
        return {"done": True, "bytesHashed": size, "totalBytes": size, **result}

    def _usable_checkpoint(self, checkpoint: dict[str, Any] | None, version: str, size: int,
                           rid: str) -> dict[str, Any] | None:
        if not checkpoint:
            return None
        if checkpoint.get("version") != version or int(checkpoint.get("size", -1)) != size:
            log.warning("a hash checkpoint of another upload version: starting again",
                        extra={"registrationId": rid})
            return None
        if checkpoint.get("lib") != sha_library():
            # rehashes' serialised state is only promised to load in the version that wrote it
            log.warning("a hash checkpoint from another SHA-256 library version: starting again",
                        extra={"registrationId": rid, "lib": checkpoint.get("lib")})
            return None
        return checkpoint

    def _save(self, rid: str, builder: ipfs.CidBuilder, sha: ResumableSha256, offset: int, size: int,
              version: str, invocations: int) -> None:
        self.registrations.update(rid, {
            "hashCheckpoint": {"version": version, "size": size, "offset": offset, "lib": sha_library(),
                               "invocations": invocations, "sha": _b64(sha.state()),
                               "tree": _b64(builder.export_tree())},
            "progress": {"bytesHashed": offset, "totalBytes": size, "hashInvocations": invocations}})

    # -- copy -----------------------------------------------------------------------------------

    def copy(self, rid: str, key: str, dst_key: str, *, unbounded: bool = False) -> dict[str, Any]:
        """Copy the pinned version to ``dst_key`` in the content bucket: ``{done, bytesCopied,
        totalBytes, parts}``."""
        started = self._monotonic()
        size, version, item = self.pinned(rid, key)
        progress = dict(item.get("progress") or {})
        limits = self.limits
        if size <= limits.copy_multipart_bytes:
            self.objects.copy(self.uploads_bucket, key, self.content_bucket, dst_key, version=version)
            self._copied(rid, progress, size, size)
            return {"done": True, "bytesCopied": size, "totalBytes": size, "parts": 1}
        upload = item.get("copyUpload")
        held: list[dict[str, Any]] | None = None
        if upload is not None and upload.get("key") == dst_key:
            held = self.objects.list_parts(self.content_bucket, dst_key, upload["uploadId"])
            if held is None and self._already_there(dst_key, size):
                self._copied(rid, progress, size, size)  # completed by an attempt that died after it
                return {"done": True, "bytesCopied": size, "totalBytes": size, "parts": int(upload["parts"])}
        if held is None:
            part = max(5 * MiB, limits.copy_part_bytes)
            count = -(-size // part)
            if count > 10_000:
                part, count = -(-size // 10_000), 10_000
            upload = {"key": dst_key, "uploadId": self.objects.create_multipart(self.content_bucket, dst_key),
                      "partBytes": part, "parts": count}
            self.registrations.update(rid, {"copyUpload": upload})
            held = []
        assert upload is not None
        part, count, upload_id = int(upload["partBytes"]), int(upload["parts"]), upload["uploadId"]

        def span(n: int) -> tuple[int, int]:
            return (n - 1) * part, min(size, n * part)

        done = {p["partNumber"]: p["etag"] for p in held if p["size"] == span(p["partNumber"])[1] - span(p["partNumber"])[0]}
        todo = [n for n in range(1, count + 1) if n not in done]

        def copy_one(n: int) -> tuple[int, str]:
            start, end = span(n)
            return n, self.ranges.copy_part(self.uploads_bucket, key, version, self.content_bucket, dst_key,
                                            upload_id, n, start, end)

        with ThreadPoolExecutor(max_workers=max(1, limits.copy_concurrency)) as pool:
            running: set[Future[tuple[int, str]]] = set()
            pending = iter(todo)
            submitted = 0
            while True:
                # at least one part per invocation, whatever the clock says: every call progresses
                while len(running) < limits.copy_concurrency and (
                        unbounded or not submitted or self._monotonic() - started < limits.seconds):
                    n = next(pending, None)
                    if n is None:
                        break
                    running.add(pool.submit(copy_one, n))
                    submitted += 1
                if not running:
                    break
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    n, etag = future.result()
                    done[n] = etag
        copied = sum(span(n)[1] - span(n)[0] for n in done)
        if len(done) < count:
            self._copied(rid, progress, copied, size)
            log.info("copied parts", extra={"registrationId": rid, "parts": len(done), "of": count})
            return {"done": False, "bytesCopied": copied, "totalBytes": size, "parts": count}
        self.objects.complete_multipart(self.content_bucket, dst_key, upload_id, sorted(done.items()))
        self._copied(rid, progress, size, size)
        return {"done": True, "bytesCopied": size, "totalBytes": size, "parts": count}

    def _already_there(self, dst_key: str, size: int) -> bool:
        return self.objects.size(self.content_bucket, dst_key) == size

    def _copied(self, rid: str, progress: dict[str, Any], copied: int, size: int) -> None:
        self.registrations.update(rid, {"progress": {**progress, "bytesCopied": copied, "totalBytes": size}})

    def abort_copy(self, item: dict[str, Any]) -> None:
        """Compensation: drop a multipart copy still open (its parts cost storage until then)."""
        upload = item.get("copyUpload")
        if upload:
            self.objects.abort_multipart(self.content_bucket, upload["key"], upload["uploadId"])


def sha_of(builder: ipfs.CidBuilder) -> ResumableSha256:
    sha = builder.sha
    assert isinstance(sha, ResumableSha256)
    return sha


def _read_exact(stream: Any, n: int) -> bytes:
    """``n`` bytes (fewer only at the end of the stream): a body's ``read(n)`` may answer less."""
    first = stream.read(n)
    if len(first) == n or not first:
        return first
    out = bytearray(first)
    while len(out) < n:
        more = stream.read(n - len(out))
        if not more:
            break
        out += more
    return bytes(out)
