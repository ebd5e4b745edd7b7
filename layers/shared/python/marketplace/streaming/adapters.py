"""The connections table (DynamoDB), content ownership (the content table), and pushes through
API Gateway's Management API (``apigatewaymanagementapi`` at the stream's endpoint: AWS's
``https://{api}.execute-api.{region}.amazonaws.com/{stage}``, or the local emulation's URL)."""

from __future__ import annotations

import functools
from typing import Any

from marketplace.adapters.aws import client as aws_client
from marketplace.adapters.dynamodb import Table, from_ddb, to_ddb
from marketplace.kit.websocket import push
from marketplace.streaming.models import ALL, Connection

BY_CREATOR = "byCreator"


class DynamoConnections:
    def __init__(self, table: str) -> None:
        self.table = Table(table)

    def put(self, connection: Connection) -> None:
        self.table.put(connection.to_item())

    def get(self, connection_id: str) -> Connection | None:
        item = self.table.get({"connectionId": connection_id})
        return Connection.from_item(item) if item else None

    def follow(self, connection_id: str, contents: tuple[str, ...] | None) -> bool:
        return self.table.update({"connectionId": connection_id},
                                 {"contents": list(contents) if contents is not None else ALL},
                                 condition="attribute_exists(connectionId)")

    def delete(self, connection_id: str) -> None:
        self.table.delete({"connectionId": connection_id})

    def of_creator(self, creator: str) -> list[Connection]:
        ddb = aws_client("dynamodb")
        kwargs: dict[str, Any] = {"TableName": self.table.name, "IndexName": BY_CREATOR,
                                  "KeyConditionExpression": "creator = :c",
                                  "ExpressionAttributeValues": to_ddb({":c": creator})}
        out: list[Connection] = []
        while True:
            page = ddb.query(**kwargs)
            out += [Connection.from_item(from_ddb(i)) for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class ContentTableOwners:
    def __init__(self, table: str) -> None:
        self.table = Table(table)

    def creator_of(self, content_id: str) -> str | None:
        item = self.table.get({"contentId": content_id.lower()}, consistent=False)
        return str(item["creator"]).lower() if item and item.get("creator") else None


@functools.cache
def _management_client(endpoint: str, pool: int) -> Any:
    """One client per endpoint per process (making a boto3 client costs tens of ms), thread-safe,
    with enough pooled connections for parallel pushes."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "apigatewaymanagementapi", endpoint_url=endpoint,
        config=Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=5,
                      max_pool_connections=pool))


class ManagementApiPusher:
    def __init__(self, endpoint: str, *, pool: int = 16) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.pool = pool

    @property
    def client(self) -> Any:
        return _management_client(self.endpoint, self.pool)

    def push(self, connection_id: str, data: Any) -> bool:
        return push(self.endpoint, connection_id, data, client=self.client)

    def close(self, connection_id: str) -> None:
        c = self.client
        try:
            c.delete_connection(ConnectionId=connection_id)
        except c.exceptions.GoneException:
            pass
