"""In-memory implementations of the content context's ports, over the same item shapes as the
DynamoDB adapters (tests/contract runs both through one suite), plus an S3-like object store."""

from __future__ import annotations

import hashlib
import io
import secrets
from collections.abc import Callable
from typing import Any, BinaryIO, TypeGuard

from marketplace.content.models import (
    CONTENT_LIFECYCLE,
    LISTED,
    LISTING,
    REGISTRATION_LIFECYCLE,
    ContentState,
    RegistrationState,
)
from marketplace.errors import ConflictError, NotFoundError
from marketplace.shared.memory import MemoryTable

MIN_PART_SIZE = 5 * 1024 * 1024  # S3's smallest part but the last


def _state_is(*states: str) -> Callable[[dict[str, Any] | None], TypeGuard[dict[str, Any]]]:
    """A condition on the stored item: it exists and is in one of ``states``."""
    allowed = {str(s) for s in states}

    def holds(old: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
        return old is not None and old.get("state") in allowed

    return holds


class MemoryRegistrations:
    def __init__(self, registrations: MemoryTable | None = None, content: MemoryTable | None = None) -> None:
        self.table = registrations if registrations is not None else MemoryTable("registrationId")
        self.content = content if content is not None else MemoryTable("contentId")

    def create(self, item: dict[str, Any]) -> bool:
        REGISTRATION_LIFECYCLE.transition(None, item["state"], registrationId=item["registrationId"])
        return self.table.put({**item, "state": str(item["state"])}, condition=lambda old: old is None)

    def get(self, registration_id: str) -> dict[str, Any] | None:
        return self.table.get_item({"registrationId": registration_id})

    def start_uploaded(self, registration_id: str, creator: str, changes: dict[str, Any]) -> bool:
        sources = _state_is(*REGISTRATION_LIFECYCLE.sources(RegistrationState.PENDING))

        def change(item):
            item.update(changes, state=str(RegistrationState.PENDING))
            item.pop("ttl", None)

        return self.table.update({"registrationId": registration_id}, change,
                                 condition=lambda old: sources(old) and old.get("creator") == creator) is not None

    def update(self, registration_id: str, changes: dict[str, Any]) -> None:
        self.table.update({"registrationId": registration_id}, lambda item: item.update(changes),
                          condition=_state_is(RegistrationState.PENDING))

    def fail(self, registration_id: str, error: dict[str, Any], now: str) -> bool:
        return self.table.update(
            {"registrationId": registration_id},
            lambda item: item.update(state=str(RegistrationState.FAILED), error=error, updatedAt=now),
            condition=_state_is(*REGISTRATION_LIFECYCLE.sources(RegistrationState.FAILED))) is not None

    def complete(self, registration_id: str, result: dict[str, Any], now: str, content_id: str,
                 content_fields: dict[str, Any]) -> bool:
        with self.table.lock, self.content.lock:  # both conditions, then both writes: a transaction
            claim = self.content.get_item({"contentId": content_id})
            if not (_state_is(*CONTENT_LIFECYCLE.sources(ContentState.REGISTERED))(claim)
                    and claim.get("registrationId") == registration_id):
                return False
            if not _state_is(*REGISTRATION_LIFECYCLE.sources(RegistrationState.REGISTERED))(
                    self.get(registration_id)):
                return False
            self.content.update({"contentId": content_id},
                                lambda item: item.update(content_fields, state=str(ContentState.REGISTERED)))
            self.table.update({"registrationId": registration_id}, lambda item: item.update(
                state=str(RegistrationState.REGISTERED), result=result, updatedAt=now))
            return True


class MemoryContent:
    def __init__(self, table: MemoryTable | None = None) -> None:
        self.table = table if table is not None else MemoryTable("contentId")

    def get(self, content_id: str) -> dict[str, Any] | None:
        return self.table.get_item({"contentId": content_id})

    def claim(self, item: dict[str, Any]) -> dict[str, Any] | None:
        claim = {**item, "state": str(CONTENT_LIFECYCLE.transition(None, ContentState.CREATED))}
        with self.table.lock:
            if self.table.put(claim, condition=lambda old: old is None):
                return None
            return self.get(item["contentId"])

    def release(self, content_id: str, registration_id: str) -> bool:
        held = _state_is(ContentState.CREATED)
        return bool(self.table.delete({"contentId": content_id}, condition=lambda old: held(old)
                                      and old.get("registrationId") == registration_id))

    def mark_licensed(self, content_id: str) -> None:
        self._move(content_id, ContentState.LICENSED)

    def activate_content(self, content_id: str) -> None:
        self._move(content_id, ContentState.ACTIVE)

    def _move(self, content_id: str, target: ContentState) -> bool:
        return self.table.update({"contentId": content_id}, lambda item: item.update(state=str(target)),
                                 condition=_state_is(*CONTENT_LIFECYCLE.sources(target))) is not None

    def record_terms(self, content_id: str, price_per_use: int, token: dict[str, Any]) -> None:
        def change(item: dict[str, Any]) -> None:
            low = item.get("minPricePerUse")
            item.update(termsCount=item.get("termsCount", 0) + 1, termsToken=token,
                        minPricePerUse=price_per_use if low is None else min(low, price_per_use))

        if self.table.update({"contentId": content_id}, change, condition=lambda old: old is not None) is None:
            raise KeyError(content_id)
        self.mark_licensed(content_id)

    def archive(self, content_id: str, changes: dict[str, Any]) -> bool:
        def change(item: dict[str, Any]) -> None:
            item.update({**changes, "state": str(ContentState.ARCHIVED)})
            item.pop(LISTING, None)

        return self.table.update({"contentId": content_id}, change,
                                 condition=_state_is(*CONTENT_LIFECYCLE.sources(ContentState.ARCHIVED))) is not None

    def listed(self, creator: str | None, after: tuple[str, str] | None,
               limit: int) -> tuple[list[dict[str, Any]], bool]:
        # DynamoDB keeps an index sparse: an item without the key attributes is not in it
        items = [i for i in self.table.query("creator", creator) if "createdAt" in i] if creator else [
            i for i in self.table.query(LISTING, LISTED) if "createdAt" in i]
        items.sort(key=lambda i: (i["createdAt"], i["contentId"]), reverse=True)
        if after is not None:
            items = [i for i in items if (i["createdAt"], i["contentId"]) < after]
        return items[:limit], len(items) > limit


class MemoryObjects:
    """Buckets of bytes: ``objects[(bucket, key)]``."""

    def __init__(self, objects: dict[tuple[str, str], bytes] | None = None) -> None:
        self.objects: dict[tuple[str, str], bytes] = dict(objects or {})
        self.metadata: dict[tuple[str, str], dict[str, str]] = {}
        self.uploads: dict[str, tuple[str, str, dict[int, bytes]]] = {}
        self.versions: dict[tuple[str, str, str], bytes] = {}

    def put(self, bucket: str, key: str, data: bytes, metadata: dict[str, str] | None = None) -> None:
        self.objects[(bucket, key)] = bytes(data)
        self.metadata[(bucket, key)] = dict(metadata or {})

    def open(self, bucket: str, key: str) -> BinaryIO | None:
        data = self.objects.get((bucket, key))
        return None if data is None else io.BytesIO(data)

    def size(self, bucket: str, key: str) -> int | None:
        data = self.objects.get((bucket, key))
        return None if data is None else len(data)

    # Versions as in a versioned bucket: an id per content (a digest), each version readable and
    # copyable by id after the key is overwritten (``versions[(bucket, key, id)]``, kept once read).
    @staticmethod
    def version_id(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()[:32]

    def open_version(self, bucket: str, key: str, version: str | None = None) -> tuple[BinaryIO, str | None] | None:
        data = self._version(bucket, key, version)
        if data is None:
            return None
        vid = self.version_id(data)
        self.versions[(bucket, key, vid)] = data
        return io.BytesIO(data), vid

    def _version(self, bucket: str, key: str, version: str | None) -> bytes | None:
        current = self.objects.get((bucket, key))
        if version is None or (current is not None and self.version_id(current) == version):
            return current
        return self.versions.get((bucket, key, version))

    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str,
             version: str | None = None) -> None:
        data = self._version(src_bucket, src_key, version)
        if data is None:
            raise KeyError((src_bucket, src_key, version))
        self.objects[(dst_bucket, dst_key)] = data

    def delete(self, bucket: str, key: str) -> None:
        self.objects.pop((bucket, key), None)

    def presigned_post(self, bucket: str, key: str, size: int, expires_in: int) -> dict[str, Any]:
        return {"url": f"memory://{bucket}", "fields": {"key": key, "content-length": str(size),
                                                        "expires-in": str(expires_in)}}

    # -- multipart uploads: ``uploads[upload_id] = (bucket, key, {partNumber: bytes})`` -----------

    def create_multipart(self, bucket: str, key: str, metadata: dict[str, str] | None = None) -> str:
        upload_id = secrets.token_urlsafe(24)
        self.uploads[upload_id] = (bucket, key, {})
        self.metadata[(bucket, key)] = dict(metadata or {})
        return upload_id

    def presigned_part(self, bucket: str, key: str, upload_id: str, part_number: int, expires_in: int) -> str:
        return f"memory://{bucket}/{key}?partNumber={part_number}&uploadId={upload_id}&expires-in={expires_in}"

    def upload_part(self, upload_id: str, part_number: int, data: bytes) -> str:
        """What a PUT to a part URL does: store the part, answer its ETag (quoted hex MD5, as S3)."""
        self.uploads[upload_id][2][part_number] = bytes(data)
        return _etag(data)

    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[dict[str, Any]] | None:
        upload = self.uploads.get(upload_id)
        if upload is None or upload[:2] != (bucket, key):
            return None
        return [{"partNumber": n, "size": len(data), "etag": _etag(data)} for n, data in sorted(upload[2].items())]

    def complete_multipart(self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]) -> str:
        upload = self.uploads.get(upload_id)
        if upload is None or upload[:2] != (bucket, key):
            raise NotFoundError("no such multipart upload (completed or aborted)")
        held = upload[2]
        numbers = [n for n, _ in parts]
        if numbers != sorted(set(numbers)):
            raise ConflictError("parts must be listed in ascending part number order",
                                {"field": "parts", "reason": "InvalidPartOrder"})
        if any(n not in held or _etag(held[n]) != etag for n, etag in parts):
            raise ConflictError("a part is missing or its ETag differs: upload it again (POST .../parts lists "
                                "what S3 holds)", {"field": "parts", "reason": "InvalidPart"})
        if any(len(held[n]) < MIN_PART_SIZE for n in numbers[:-1]):
            raise ConflictError("every part but the last must be at least 5 MiB",
                                {"field": "parts", "reason": "EntityTooSmall"})
        data = b"".join(held[n] for n in numbers)
        del self.uploads[upload_id]
        self.objects[(bucket, key)] = data
        digests = b"".join(hashlib.md5(held[n], usedforsecurity=False).digest() for n in numbers)
        return f'"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(numbers)}"'

    def abort_multipart(self, bucket: str, key: str, upload_id: str) -> None:
        self.uploads.pop(upload_id, None)


def _etag(data: bytes) -> str:
    return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'
