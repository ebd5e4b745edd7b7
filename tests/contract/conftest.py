"""One backend per port implementation: the in-memory fakes, and the DynamoDB adapters against
moto's in-process ``mock_aws`` (no server). Each backend gives a ``put(table, item)`` to seed items
and the port implementations over the same logical tables (``marketplace.resources``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from marketplace import resources
from marketplace.shared.memory import memory_tables

REGION = "us-east-1"


@dataclass
class Backend:
    kind: str
    tables: dict[str, Any]  # logical name -> MemoryTable (memory) or physical name (dynamodb)

    def put(self, table: str, item: dict) -> None:
        if self.kind == "memory":
            self.tables[table].put(item)
        else:
            from marketplace.adapters.dynamodb import Table

            Table(self.tables[table]).put(item)

    def get(self, table: str, key: dict) -> dict | None:
        if self.kind == "memory":
            return self.tables[table].get_item(key)
        from marketplace.adapters.dynamodb import Table

        return Table(self.tables[table]).get(key)


def _create_tables(prefix: str) -> dict[str, str]:
    import boto3

    ddb = boto3.client("dynamodb", region_name=REGION)
    names = {}
    for t in resources.TABLES:
        attrs = {t.pk, *(k for k in (t.sk,) if k)} | {a for i in t.indexes for a in (i.pk, i.sk) if a}
        name = f"{prefix}-{t.name}"
        kwargs: dict[str, Any] = {
            "TableName": name, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "N" if a in t.numeric else "S"}
                                     for a in sorted(attrs)],
            "KeySchema": [{"AttributeName": t.pk, "KeyType": "HASH"}]
            + ([{"AttributeName": t.sk, "KeyType": "RANGE"}] if t.sk else []),
        }
        if t.indexes:
            kwargs["GlobalSecondaryIndexes"] = [{
                "IndexName": i.name, "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [{"AttributeName": i.pk, "KeyType": "HASH"}]
                + ([{"AttributeName": i.sk, "KeyType": "RANGE"}] if i.sk else [])} for i in t.indexes]
        ddb.create_table(**kwargs)
        names[t.name] = name
    return names


def _serialize_item_operations(monkeypatch) -> None:
    """moto evaluates a condition and applies the write without a lock; DynamoDB does both
    atomically per item. One lock around moto's item operations restores that (as the local stack
    does), so the parallel tests below test the adapters, not moto."""
    import functools
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()

    def locked(method):
        @functools.wraps(method)
        def run(self, *args, **kwargs):
            with lock:
                return method(self, *args, **kwargs)
        return run

    for name in ("put_item", "get_item", "update_item", "delete_item", "query", "transact_write_items"):
        monkeypatch.setattr(DynamoDBBackend, name, locked(getattr(DynamoDBBackend, name)))


@pytest.fixture(params=["memory", "dynamodb"])
def backend(request, monkeypatch):
    if request.param == "memory":
        yield Backend("memory", memory_tables())
        return
    from marketplace.adapters import aws
    from moto import mock_aws

    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws.client.cache_clear()
    _serialize_item_operations(monkeypatch)
    with mock_aws():
        yield Backend("dynamodb", _create_tables("contract"))
    aws.client.cache_clear()
