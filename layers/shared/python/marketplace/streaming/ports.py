"""What the live stream needs: the connections table, content ownership, the Management API."""

from __future__ import annotations

from typing import Any, Protocol

from marketplace.streaming.models import Connection


class Connections(Protocol):
    def put(self, connection: Connection) -> None: ...

    def get(self, connection_id: str) -> Connection | None: ...

    def follow(self, connection_id: str, contents: tuple[str, ...] | None) -> bool:
        """Set what the connection follows (None: all its creator's content); False if it is gone."""
        ...

    def delete(self, connection_id: str) -> None: ...

    def of_creator(self, creator: str) -> list[Connection]:
        """Every stored connection of ``creator`` (lowercase address), expired ones included."""
        ...


class ContentOwners(Protocol):
    def creator_of(self, content_id: str) -> str | None:
        """The content's creator (lowercase address), None if no such content."""
        ...


class Pusher(Protocol):
    def push(self, connection_id: str, data: Any) -> bool:
        """Send ``data`` (JSON) to the connection; False when API Gateway says it is gone (410)."""
        ...

    def close(self, connection_id: str) -> None:
        """Close the connection (its session expired); a gone one is ignored."""
        ...
