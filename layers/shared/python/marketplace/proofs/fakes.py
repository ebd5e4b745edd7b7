"""In-memory implementations of the proofs context's stores (same contracts as the adapters)."""

from __future__ import annotations

import copy
from typing import Any


class MemoryProofStore:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        item = self.items.get(key)
        return copy.deepcopy(item) if item is not None else None

    def put(self, key: str, value: dict[str, Any], ttl: int | None = None) -> None:
        self.items[key] = copy.deepcopy(value)

    def create(self, key: str, value: dict[str, Any]) -> bool:
        if key in self.items:
            return False
        self.items[key] = copy.deepcopy(value)
        return True

    def update(self, key: str, changes: dict[str, Any]) -> None:
        self.items.setdefault(key, {}).update(copy.deepcopy(changes))


class MemoryReportFiles:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.objects[key] = (data, content_type)

    def url(self, key: str, ttl: int) -> str:
        return f"memory://reports/{key}?ttl={ttl}"


class MemoryLicenseRecords:
    def __init__(self) -> None:
        self.served_times: dict[str, list[int]] = {}

    def license(self, license_id: str) -> dict[str, Any] | None:
        return None

    def served(self, license_id: str, valid_from: int, valid_until: int) -> dict[str, int]:
        times = self.served_times.get(license_id, [])
        return {"uses": len(times), "outsideValidity": sum(not (valid_from <= t <= valid_until) for t in times)}


class MemoryContentInfo:
    def __init__(self, items: dict[str, dict[str, Any]] | None = None) -> None:
        self.items = items or {}

    def get(self, content_id: str) -> dict[str, Any] | None:
        return self.items.get(content_id)
