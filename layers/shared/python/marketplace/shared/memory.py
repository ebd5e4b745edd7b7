"""In-memory tables shaped like the DynamoDB ones, for the contexts' fakes (``*/fakes.py``).

A :class:`MemoryTable` holds plain dict items under the same key attributes as the table in
``marketplace.resources``, so a fake and its DynamoDB adapter read and write the same items and
pass the same contract tests (tests/contract). Every operation takes the table's lock, so a
fake's check-then-write is atomic like a DynamoDB condition.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any


class MemoryTable(Mapping):
    """Also a read-only mapping of the stored items (live) by key value (``(pk, sk)`` for a
    composite key), for tests to look at."""

    def __init__(self, pk: str, sk: str | None = None) -> None:
        self.pk, self.sk = pk, sk
        self._data: dict[Any, dict[str, Any]] = {}
        self.lock = threading.RLock()

    def _key(self, item: dict[str, Any]) -> Any:
        return item[self.pk] if self.sk is None else (item[self.pk], item[self.sk])

    def get_item(self, key: dict[str, Any]) -> dict[str, Any] | None:
        """A copy of the item under ``key`` (a dict of the key attributes), or None."""
        with self.lock:
            item = self._data.get(self._key(key))
            return copy.deepcopy(item) if item is not None else None

    def clear(self) -> None:
        with self.lock:
            self._data.clear()

    def put(self, item: dict[str, Any], condition: Callable[[dict[str, Any] | None], bool] | None = None) -> bool:
        """Store a copy of ``item`` (None values dropped, as the adapters do) if ``condition(old)``."""
        with self.lock:
            old = self._data.get(self._key(item))
            if condition is not None and not condition(old):
                return False
            self._data[self._key(item)] = {k: copy.deepcopy(v) for k, v in item.items() if v is not None}
            return True

    def update(self, key: dict[str, Any], change: Callable[[dict[str, Any]], None],
               condition: Callable[[dict[str, Any] | None], bool] | None = None) -> dict[str, Any] | None:
        """Apply ``change`` to the item (created from ``key`` if missing) if ``condition(old)``; the
        new item, or None when the condition failed."""
        with self.lock:
            old = self._data.get(self._key(key))
            if condition is not None and not condition(old):
                return None
            new = copy.deepcopy(old) if old is not None else dict(key)
            change(new)
            new = {k: v for k, v in new.items() if v is not None}
            if old is None:
                self._data[self._key(key)] = new
            else:  # in place: a test holding the stored dict sees the change
                old.clear()
                old.update(new)
            return copy.deepcopy(new)

    def delete(self, key: dict[str, Any], condition: Callable[[dict[str, Any] | None], bool] | None = None
               ) -> dict[str, Any] | None | bool:
        """Like ``adapters.dynamodb.Table.delete``: the old item (None if none), False if the condition failed."""
        with self.lock:
            old = self._data.get(self._key(key))
            if condition is not None and not condition(old):
                return False
            self._data.pop(self._key(key), None)
            return old

    def query(self, attribute: str, value: Any) -> list[dict[str, Any]]:
        with self.lock:
            return [copy.deepcopy(i) for i in self._data.values() if i.get(attribute) == value]

    def __getitem__(self, key: Any) -> dict[str, Any]:
        return self._data[key]

    def __iter__(self) -> Iterator[Any]:
        with self.lock:
            return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)


def memory_tables() -> dict[str, MemoryTable]:
    """One empty table per table of ``marketplace.resources``, by logical name."""
    from marketplace import resources

    return {t.name: MemoryTable(t.pk, t.sk) for t in resources.TABLES}


class MemoryWindowCounter:
    """``adapters.dynamodb.WindowCounter`` over a :class:`MemoryTable` keyed by ``pk``."""

    def __init__(self, table: MemoryTable | None = None) -> None:
        self.table = table if table is not None else MemoryTable("pk")

    def hit(self, bucket: str, limit: int, expires_at: int) -> int | None:
        def count(item: dict[str, Any]) -> None:
            item["n"] = item.get("n", 0) + 1
            item.setdefault("ttl", expires_at)

        new = self.table.update({"pk": bucket}, count, condition=lambda old: old is None or old["n"] < limit)
        return None if new is None else new["n"]
