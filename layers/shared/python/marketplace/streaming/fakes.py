"""In-memory connections and a recording pusher, for the unit tests (same items as the adapter)."""

from __future__ import annotations

import threading
from typing import Any

from marketplace.shared.memory import MemoryTable
from marketplace.streaming.models import ALL, Connection


class MemoryConnections:
    def __init__(self, table: MemoryTable | None = None) -> None:
        self.table = table if table is not None else MemoryTable("connectionId")  # (an empty table is falsy)

    def put(self, connection: Connection) -> None:
        self.table.put(connection.to_item())

    def get(self, connection_id: str) -> Connection | None:
        item = self.table.get_item({"connectionId": connection_id})
        return Connection.from_item(item) if item else None

    def follow(self, connection_id: str, contents: tuple[str, ...] | None) -> bool:
        def change(item: dict) -> None:
            item["contents"] = list(contents) if contents is not None else ALL

        return self.table.update({"connectionId": connection_id}, change, condition=lambda old: old is not None) \
            is not None

    def delete(self, connection_id: str) -> None:
        self.table.delete({"connectionId": connection_id})

    def of_creator(self, creator: str) -> list[Connection]:
        return [Connection.from_item(i) for i in self.table.query("creator", creator)]


class MemoryOwners:
    def __init__(self, owners: dict[str, str] | None = None) -> None:
        self.owners = {k.lower(): v.lower() for k, v in (owners or {}).items()}

    def creator_of(self, content_id: str) -> str | None:
        return self.owners.get(content_id.lower())


class RecordingPusher:
    """Records what it sends; connections in ``gone`` answer False (API Gateway's 410)."""

    def __init__(self, gone: set[str] | None = None) -> None:
        self.gone = set(gone or ())
        self.sent: list[tuple[str, Any]] = []
        self.closed: list[str] = []
        self._lock = threading.Lock()

    def push(self, connection_id: str, data: Any) -> bool:
        with self._lock:
            if connection_id in self.gone:
                return False
            self.sent.append((connection_id, data))
            return True

    def close(self, connection_id: str) -> None:
        with self._lock:
            self.closed.append(connection_id)
