"""A live-stream connection: one API Gateway WebSocket connection of a signed-in creator."""

from __future__ import annotations

from dataclasses import dataclass

# API Gateway closes a WebSocket connection after 2 hours at most; the item lives no longer, and
# no longer than the session JWT it was opened with (its ``exp``)
MAX_CONNECTION_SECONDS = 2 * 3600
ALL = "*"  # a connection following all of its creator's content


@dataclass(frozen=True)
class Connection:
    connection_id: str
    creator: str  # the signed-in address, lowercase (as analytics' LiveUpdate.creator)
    contents: tuple[str, ...] | None  # content ids followed (lowercase); None: all the creator's
    connected_at: int  # unix seconds
    ttl: int  # unix seconds: the session's expiry or connected_at + 2 h, whichever is first

    def follows(self, content_id: str) -> bool:
        return self.contents is None or content_id.lower() in self.contents

    def live(self, now: int) -> bool:
        return now < self.ttl

    def to_item(self) -> dict:
        return {"connectionId": self.connection_id, "creator": self.creator,
                "contents": list(self.contents) if self.contents is not None else ALL,
                "connectedAt": self.connected_at, "ttl": self.ttl}

    @classmethod
    def from_item(cls, item: dict) -> Connection:
        contents = item.get("contents", ALL)
        return cls(connection_id=str(item["connectionId"]), creator=str(item["creator"]),
                   contents=None if contents == ALL else tuple(str(c) for c in contents),
                   connected_at=int(item.get("connectedAt", 0)), ttl=int(item["ttl"]))
