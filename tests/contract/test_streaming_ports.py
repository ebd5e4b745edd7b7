"""The live stream's ``Connections`` and ``ContentOwners`` ports over the fakes and the DynamoDB
adapters (the ``ws-connections`` table and its ``byCreator`` index, the content table): what a
connection follows, forgetting it, and a creator's connections across query pages."""

from __future__ import annotations

import pytest
from marketplace.streaming.adapters import ContentTableOwners, DynamoConnections
from marketplace.streaming.fakes import MemoryConnections, MemoryOwners
from marketplace.streaming.models import Connection

pytestmark = pytest.mark.contract

CREATOR, OTHER = "0x" + "c1" * 20, "0x" + "c2" * 20
MINE = "0x" + "a1" * 32


def connections(b):
    return MemoryConnections(b.tables["ws-connections"]) if b.kind == "memory" \
        else DynamoConnections(b.tables["ws-connections"])


def test_put_follow_get_delete(backend):
    conns = connections(backend)
    conns.put(Connection("c-1", CREATOR, None, 100, 7300))
    assert conns.get("c-1") == Connection("c-1", CREATOR, None, 100, 7300)
    assert conns.follow("c-1", (MINE,)) is True
    assert conns.get("c-1").contents == (MINE,) and conns.get("c-1").follows(MINE.upper().replace("0X", "0x"))
    assert not conns.get("c-1").follows("0x" + "b2" * 32)
    assert conns.follow("c-1", None) is True and conns.get("c-1").contents is None  # back to all
    # the stored item is what the table's TTL reads
    assert backend.get("ws-connections", {"connectionId": "c-1"})["ttl"] == 7300
    conns.delete("c-1")
    assert conns.get("c-1") is None
    assert conns.follow("c-1", (MINE,)) is False  # gone: not recreated
    assert conns.get("c-1") is None
    conns.delete("c-1")  # twice: fine


def test_of_creator_lists_every_connection_of_that_creator_only(backend):
    conns = connections(backend)
    n = 120  # several query pages in DynamoDB with a small page size below
    for i in range(n):
        conns.put(Connection(f"m-{i}", CREATOR, (MINE,) if i % 2 else None, 100, 7300))
    conns.put(Connection("o-1", OTHER, None, 100, 7300))
    if backend.kind == "dynamodb":  # force pagination: 7 items a page
        from marketplace.adapters import aws

        real = aws.client("dynamodb").query
        pages = []

        def paged(**kwargs):
            pages.append(kwargs.get("ExclusiveStartKey"))
            return real(**{**kwargs, "Limit": 7})

        aws.client("dynamodb").query = paged
        try:
            mine = conns.of_creator(CREATOR)
        finally:
            del aws.client("dynamodb").query
        assert len(pages) >= n // 7  # it followed LastEvaluatedKey
    else:
        mine = conns.of_creator(CREATOR)
    assert sorted(c.connection_id for c in mine) == sorted(f"m-{i}" for i in range(n))
    assert [c.connection_id for c in conns.of_creator(OTHER)] == ["o-1"]
    assert conns.of_creator("0x" + "00" * 20) == []


def test_content_owners(backend):
    owners = MemoryOwners({MINE: "0xAbC" + "0" * 37}) if backend.kind == "memory" \
        else ContentTableOwners(backend.tables["content"])
    if backend.kind == "dynamodb":
        backend.put("content", {"contentId": MINE, "creator": "0xAbC" + "0" * 37, "state": "REGISTERED"})
    assert owners.creator_of(MINE.upper().replace("0X", "0x")) == "0xabc" + "0" * 37  # lowercase
    assert owners.creator_of("0x" + "99" * 32) is None
