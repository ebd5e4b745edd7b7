"""The live stream's routes as plain logic: who may connect, what they may follow.

- ``connect``: a valid session JWT (the REST API's: ``auth.tokens``) opens a connection following
  all of the caller's content; the item expires with the token or after API Gateway's 2 h limit.
- ``subscribe``: narrow (or widen back) what a connection follows: only content the caller created
  (403 otherwise, 404 for content that does not exist); no ids = all of the caller's content.
- ``disconnect``: forget the connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from marketplace.auth import tokens
from marketplace.errors import ForbiddenError, NotFoundError, UnauthorizedError, UnprocessableError
from marketplace.shared.ids import as_hex32
from marketplace.streaming.models import MAX_CONNECTION_SECONDS, Connection
from marketplace.streaming.ports import Connections, ContentOwners

MAX_SUBSCRIBED = 100  # content ids in one subscribe message


def token_expiry(token: str) -> int:
    """``exp`` of a token :func:`tokens.verify` has accepted."""
    import jwt

    return int(jwt.decode(token, options={"verify_signature": False})["exp"])


class StreamService:
    def __init__(self, connections: Connections, owners: ContentOwners, jwt_key: Callable[[], bytes],
                 clock: Callable[[], float] = time.time) -> None:
        self.connections = connections
        self.owners = owners
        self.jwt_key = jwt_key
        self.clock = clock

    def connect(self, connection_id: str, token: str | None) -> Connection:
        if not token:
            raise UnauthorizedError("sign in first: pass the session JWT as ?token= or the "
                                    "Sec-WebSocket-Protocol value bearer.<jwt>")
        address = tokens.verify(token, self.jwt_key())
        now = int(self.clock())
        connection = Connection(connection_id, address.lower(), None, now,
                                min(token_expiry(token), now + MAX_CONNECTION_SECONDS))
        self.connections.put(connection)
        return connection

    def subscribe(self, connection_id: str, content_ids: Any) -> tuple[str, ...] | None:
        """What the connection follows now (None: all of its creator's content)."""
        connection = self.connections.get(connection_id)
        if connection is None or not connection.live(int(self.clock())):
            raise UnauthorizedError("this connection is not signed in (reconnect with a session JWT)")
        wanted = self._content_ids(content_ids)
        if wanted is not None:
            for content_id in wanted:
                creator = self.owners.creator_of(content_id)
                if creator is None:
                    raise NotFoundError("no such content", {"contentId": content_id})
                if creator != connection.creator:
                    raise ForbiddenError("you can follow only content you created", {"contentId": content_id})
        if not self.connections.follow(connection_id, wanted):
            raise UnauthorizedError("this connection is not signed in (reconnect with a session JWT)")
        return wanted

    def disconnect(self, connection_id: str) -> None:
        self.connections.delete(connection_id)

    @staticmethod
    def _content_ids(value: Any) -> tuple[str, ...] | None:
        if value is None or value == []:
            return None
        if not isinstance(value, list) or len(value) > MAX_SUBSCRIBED:
            raise UnprocessableError(f"contentIds must be a list of at most {MAX_SUBSCRIBED} content ids",
                                     {"field": "contentIds"})
        ids = []
        for v in value:
            hex_id = as_hex32(v)
            if hex_id is None:
                raise UnprocessableError("contentIds holds an invalid content id (0x + 64 hex digits)",
                                         {"field": "contentIds"})
            ids.append(hex_id)
        return tuple(dict.fromkeys(ids))
