"""In-memory implementations of the content context's ports, over the same item shapes as the
DynamoDB adapters (tests/contract runs both through one suite), plus an S3-like object store."""

from __future__ import annotations

import io
from typing import Any, BinaryIO

from marketplace.content.models import (
    CONTENT_LIFECYCLE,
    REGISTRATION_LIFECYCLE,
    ContentState,
    RegistrationState,
)
from marketplace.shared.memory import MemoryTable


def _state_is(*states):
    return lambda old: old is not None and old.get("state") in {str(s) for s in states}


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


class MemoryObjects:
    """Buckets of bytes: ``objects[(bucket, key)]``."""

    def __init__(self, objects: dict[tuple[str, str], bytes] | None = None) -> None:
        self.objects: dict[tuple[str, str], bytes] = dict(objects or {})
        self.metadata: dict[tuple[str, str], dict[str, str]] = {}

    def put(self, bucket: str, key: str, data: bytes, metadata: dict[str, str] | None = None) -> None:
        self.objects[(bucket, key)] = bytes(data)
        self.metadata[(bucket, key)] = dict(metadata or {})

    def open(self, bucket: str, key: str) -> BinaryIO | None:
        data = self.objects.get((bucket, key))
        return None if data is None else io.BytesIO(data)

    def size(self, bucket: str, key: str) -> int | None:
        data = self.objects.get((bucket, key))
        return None if data is None else len(data)

    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str) -> None:
        self.objects[(dst_bucket, dst_key)] = self.objects[(src_bucket, src_key)]

    def delete(self, bucket: str, key: str) -> None:
        self.objects.pop((bucket, key), None)

    def presigned_post(self, bucket: str, key: str, size: int, expires_in: int) -> dict[str, Any]:
        return {"url": f"memory://{bucket}", "fields": {"key": key, "content-length": str(size),
                                                        "expires-in": str(expires_in)}}
