"""In-memory ``UsageLog`` over the usage table's items (same contract as ``DynamoUsageLog``)."""

from __future__ import annotations

from marketplace.shared.memory import MemoryTable
from marketplace.usage.models import BATCH_LIFECYCLE, BatchState, UsageEvent
from marketplace.usage.ports import UsageConflict


class MemoryUsageLog:
    def __init__(self, table: MemoryTable | None = None) -> None:
        self.table = table if table is not None else MemoryTable("licenseId", "seq")

    def record(self, event: UsageEvent) -> None:
        BATCH_LIFECYCLE.transition(None, event.batch)
        if not self.table.put(event.to_item(), condition=lambda old: old is None):
            raise UsageConflict(f"{event.license_id}#{event.seq}")

    def pending(self, license_id: str, from_seq: int = 0, limit: int = 64) -> list[UsageEvent]:
        items = sorted((i for i in self.table.query("licenseId", license_id)
                        if i["seq"] >= from_seq and i["batch"] == BatchState.PENDING), key=lambda i: i["seq"])
        return [UsageEvent.from_item(i) for i in items[:limit]]

    def mark_proven(self, license_id: str, seqs: list[int]) -> int:
        sources = {str(s) for s in BATCH_LIFECYCLE.sources(BatchState.PROVEN)}
        moved = 0
        for seq in seqs:
            moved += self.table.update({"licenseId": license_id, "seq": seq},
                                       lambda item: item.update(batch=str(BatchState.PROVEN)),
                                       condition=lambda old: old is not None and old["batch"] in sources) is not None
        return moved

    @property
    def events(self) -> list[UsageEvent]:
        """Every event, in (license, seq) order."""
        return [UsageEvent.from_item(i) for i in sorted(self.table.values(), key=lambda i: (i["licenseId"], i["seq"]))]
