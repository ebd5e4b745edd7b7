"""Byte ranges of one pinned object version: what the registration's hash and copy steps need of
the object store beyond ``ObjectStore`` (``marketplace.content.staged``).

- ``head``: size and version id of ``version`` (or the current one);
- ``open_range``: a stream of bytes ``[start, end)`` of exactly that version (a ranged GET with
  its VersionId: an upload written again meanwhile is never read);
- ``copy_part``: one part of a multipart upload copied server-side from that version's range
  (S3 ``UploadPartCopy`` with ``CopySourceRange``); the part's ETag.

``S3Ranges`` over boto3, ``MemoryRanges`` over ``fakes.MemoryObjects`` (its versions), and
``for_objects`` picking the one that matches an ``ObjectStore``.
"""

from __future__ import annotations

import io
from typing import Any, BinaryIO, Protocol

from marketplace.content.adapters import S3Objects


class VersionRanges(Protocol):
    def head(self, bucket: str, key: str, version: str | None = None) -> tuple[int, str | None] | None:
        """(size, version id) of ``version`` or the current one; None if there is no such object
        or version. The version id is None in a bucket without versioning."""
        ...

    def open_range(self, bucket: str, key: str, version: str, start: int, end: int) -> BinaryIO | None:
        """Bytes ``[start, end)`` of exactly ``version``; None if that version is gone."""
        ...

    def copy_part(self, src_bucket: str, src_key: str, version: str, dst_bucket: str, dst_key: str,
                  upload_id: str, part_number: int, start: int, end: int) -> str:
        """Copy bytes ``[start, end)`` of ``version`` as part ``part_number`` of ``upload_id``;
        its ETag."""
        ...


_MISSING = ("NoSuchKey", "404", "NotFound", "NoSuchVersion", "400")


class S3Ranges(S3Objects):
    """Ranged reads and part copies on S3Objects' client and its error mapping (StorageUnavailable)."""

    def head(self, bucket: str, key: str, version: str | None = None) -> tuple[int, str | None] | None:
        from marketplace.adapters.aws import error_code

        extra = {"VersionId": version} if version else {}
        try:
            out = self._call("head_object", Bucket=bucket, Key=key, **extra)
        except Exception as exc:
            # HEAD has no body: an unknown version id is a bare 400/404
            if error_code(exc) in _MISSING:
                return None
            raise
        return int(out["ContentLength"]), out.get("VersionId")

    def open_range(self, bucket: str, key: str, version: str, start: int, end: int) -> BinaryIO | None:
        from marketplace.adapters.aws import error_code

        if end <= start:
            return io.BytesIO(b"")
        try:
            out = self._call("get_object", Bucket=bucket, Key=key, VersionId=version, Range=f"bytes={start}-{end - 1}")
        except Exception as exc:
            if error_code(exc) in _MISSING:
                return None
            raise
        return out["Body"]

    def copy_part(self, src_bucket: str, src_key: str, version: str, dst_bucket: str, dst_key: str,
                  upload_id: str, part_number: int, start: int, end: int) -> str:
        out = self._call("upload_part_copy", Bucket=dst_bucket, Key=dst_key, UploadId=upload_id,
                         PartNumber=part_number, CopySource={"Bucket": src_bucket, "Key": src_key, "VersionId": version},
                         CopySourceRange=f"bytes={start}-{end - 1}")
        return out["CopyPartResult"]["ETag"]


class MemoryRanges:
    """Over ``fakes.MemoryObjects``: its versions (``open_version``) sliced."""

    def __init__(self, objects: Any) -> None:
        self.objects = objects
        self.reads: list[tuple[int, int]] = []  # every range opened, for tests

    def _data(self, bucket: str, key: str, version: str | None) -> tuple[bytes, str | None] | None:
        opened = self.objects.open_version(bucket, key, version)
        if opened is None:
            return None
        stream, vid = opened
        return stream.read(), vid

    def head(self, bucket: str, key: str, version: str | None = None) -> tuple[int, str | None] | None:
        found = self._data(bucket, key, version)
        return None if found is None else (len(found[0]), found[1])

    def open_range(self, bucket: str, key: str, version: str, start: int, end: int) -> BinaryIO | None:
        found = self._data(bucket, key, version)
        if found is None:
            return None
        self.reads.append((start, end))
        return io.BytesIO(found[0][start:end])

    def copy_part(self, src_bucket: str, src_key: str, version: str, dst_bucket: str, dst_key: str,
                  upload_id: str, part_number: int, start: int, end: int) -> str:
        found = self._data(src_bucket, src_key, version)
        if found is None:
            raise KeyError((src_bucket, src_key, version))
        return self.objects.upload_part(upload_id, part_number, found[0][start:end])


def for_objects(objects: Any) -> VersionRanges:
    """The ranges adapter over the same store as ``objects``: ``MemoryRanges`` for the in-memory
    fake, else S3."""
    from marketplace.content.fakes import MemoryObjects

    return MemoryRanges(objects) if isinstance(objects, MemoryObjects) else S3Ranges()
