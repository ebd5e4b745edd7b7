"""In-memory analytics store over the same items as ``adapters.DynamoAnalyticsStore`` (one
``MemoryTable``, pk + sk), and a live feed that records what it was given."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from marketplace.analytics import rollup
from marketplace.analytics.adapters import active_key, activity_item, bucket_updates, marker_item
from marketplace.analytics.models import ALL, Bucket, Change, Counters
from marketplace.analytics.ports import LiveUpdate
from marketplace.shared.memory import MemoryTable


class MemoryAnalyticsStore:
    def __init__(self, table: MemoryTable | None = None, *, clock=time.time) -> None:
        self.table = table if table is not None else MemoryTable("pk", "sk")
        self.clock = clock

    def apply(self, change: Change) -> bool:
        with self.table.lock:
            if not self.table.put(marker_item(change, int(self.clock())), lambda old: old is None):
                return False
            for u in bucket_updates(change):
                def add(item: dict[str, Any], u=u) -> None:
                    for attr, value in u.add.items():
                        item[attr] = int(item.get(attr, 0)) + value
                    if u.licensee:
                        item["licensees"] = sorted(set(item.get("licensees") or ()) | {u.licensee})
                    for attr, value in u.set_absent.items():
                        item.setdefault(attr, value)
                if u.add or u.licensee or u.set_absent:
                    self.table.update({"pk": u.pk, "sk": u.sk}, add)
            activity = activity_item(change)
            if activity is not None:
                self.table.put(activity)
            if change.kind == "purchase" and change.license_id:
                valid_until = int(change.valid_until or 0)
                self.table.put({"pk": f"license#{change.license_id}", "sk": "-", "creator": change.creator,
                                "contentId": change.content_id, "licensee": change.licensee,
                                "validUntil": valid_until})
                self.table.put({**active_key(change.creator, valid_until, change.license_id),
                                "contentId": change.content_id})
            if change.kind == "revocation" and change.license_id and change.valid_until is not None:
                self.table.delete(active_key(change.creator, change.valid_until, change.license_id))
            main_key, detail_key = self._rollup_keys(change.creator)
            main = rollup.Main.decode((self.table.get_item(main_key) or {}).get("m"))
            detail = rollup.Detail.decode((self.table.get_item(detail_key) or {}).get("d"))
            rollup.apply(main, detail, change)
            rollup.refresh(main, detail, int(self.clock()))
            self.table.update(main_key, lambda item: item.update(m=main.encode(), v=int(item.get("v", 0)) + 1))
            self.table.update(detail_key, lambda item: item.update(d=detail.encode()))
            return True

    @staticmethod
    def _rollup_keys(creator: str) -> tuple[dict[str, str], dict[str, str]]:
        pk = f"rollup#{creator.lower()}"
        return {"pk": pk, "sk": "main"}, {"pk": pk, "sk": "detail"}

    def applied(self, event_id: str) -> bool:
        return self.table.get_item({"pk": f"event#{event_id}", "sk": "-"}) is not None

    def license(self, license_id: str) -> dict[str, Any] | None:
        return self.table.get_item({"pk": f"license#{license_id}", "sk": "-"})

    def _items(self, pk: str) -> list[dict[str, Any]]:
        return sorted(self.table.query("pk", pk), key=lambda i: i["sk"])

    def series(self, scope: str, granularity: Bucket, first: str, last: str, *, counters_only: bool = False
               ) -> list[Counters]:
        out = [Counters.from_item(i) for i in self._items(scope) if first <= i["sk"] <= last]
        if counters_only:
            out = [Counters(c.scope, c.bucket, c.values) for c in out]
        return out

    def totals(self, scope: str) -> Counters | None:
        item = self.table.get_item({"pk": scope, "sk": ALL})
        return Counters.from_item(item) if item else None

    def recent(self, creator: str, limit: int) -> list[dict]:
        return [json.loads(i["entry"]) for i in reversed(self._items(f"activity#{creator.lower()}"))][:limit]

    def active_licenses(self, creator: str, now: int) -> int:
        return sum(1 for i in self._items(f"active#{creator.lower()}") if i["sk"] > f"{now:010d}~")

    def view(self, creator: str, period: str) -> rollup.View:
        item = self.table.get_item(self._rollup_keys(creator)[0]) or {}
        body = item.get(f"cache_{period}")
        return rollup.View(json.loads(body) if body else None, item.get("m"))

    def detail(self, creator: str) -> rollup.Detail:
        return rollup.Detail.decode((self.table.get_item(self._rollup_keys(creator)[1]) or {}).get("d"))

    def cached(self, key: str) -> dict | None:
        creator, period = key.split("|", 1)
        return self.view(creator, period).cached

    def cache(self, key: str, body: dict, ttl_seconds: int) -> None:
        del ttl_seconds
        creator, period = key.split("|", 1)
        self.table.update(self._rollup_keys(creator)[0], lambda item: item.update({f"cache_{period}": json.dumps(body)}))


class RecordingLiveFeed:
    """A ``LiveFeed`` for tests: every published update, in order (``fail=True``: raises)."""

    def __init__(self, fail: bool = False) -> None:
        self.updates: list[LiveUpdate] = []
        self.fail = fail
        self._lock = threading.Lock()

    def publish(self, updates: list[LiveUpdate]) -> None:
        if self.fail:
            raise RuntimeError("live feed down")
        with self._lock:
            self.updates.extend(updates)


class MemoryDirectory:
    """``Directory`` over dicts: ``licenses`` licenseId -> {creator, buyer, contentId}, ``creators``
    contentId -> creator."""

    def __init__(self, licenses: dict[str, dict] | None = None, creators: dict[str, str] | None = None) -> None:
        self.licenses = licenses if licenses is not None else {}
        self.creators = creators if creators is not None else {}

    def license_of(self, license_id: str) -> dict | None:
        return self.licenses.get(license_id)

    def creator_of(self, content_id: str) -> str | None:
        return self.creators.get(content_id)


class FixedBlockClock:
    def __init__(self, times: dict[int, int] | None = None, default: int = 0) -> None:
        self.times = times or {}
        self.default = default

    def block_time(self, number: int) -> int:
        return self.times.get(number, self.default)
