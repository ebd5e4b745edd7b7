"""Contract of the content context's stores: ``Registrations`` and ``ContentItems``."""

from __future__ import annotations

import pytest
from marketplace.content import adapters, fakes
from marketplace.shared.lifecycle import IllegalTransition

pytestmark = pytest.mark.contract

CID = "0x" + "ab" * 32


def stores(b):
    if b.kind == "memory":
        content = fakes.MemoryContent(b.tables["content"])
        return fakes.MemoryRegistrations(b.tables["registrations"], b.tables["content"]), content
    return (adapters.DynamoRegistrations(b.tables["registrations"], b.tables["content"]),
            adapters.DynamoContent(b.tables["content"]))


def reg(rid="r1", state="PENDING", **extra):
    return {"registrationId": rid, "creator": "0xc", "state": state, "createdAt": "t0", **extra}


def test_create_once_in_an_initial_state_only(backend):
    regs, _ = stores(backend)
    assert regs.create(reg()) is True
    assert regs.create(reg()) is False
    assert regs.get("r1")["state"] == "PENDING" and regs.get("nope") is None
    with pytest.raises(IllegalTransition):
        regs.create(reg("r2", "REGISTERED"))


def test_start_uploaded_once_by_its_creator_and_drops_the_ttl(backend):
    regs, _ = stores(backend)
    regs.create(reg(state="AWAITING_UPLOAD", ttl=99))
    assert regs.start_uploaded("r1", "0xother", {"metadata": {"title": "t"}}) is False
    assert regs.start_uploaded("r1", "0xc", {"metadata": {"title": "t"}}) is True
    item = regs.get("r1")
    assert item["state"] == "PENDING" and "ttl" not in item and item["metadata"] == {"title": "t"}
    assert regs.start_uploaded("r1", "0xc", {}) is False


def test_journal_writes_only_while_pending_and_fail_once(backend):
    regs, _ = stores(backend)
    regs.create(reg())
    regs.update("r1", {"stage": "store"})
    assert regs.fail("r1", {"status": 500}, "t1") is True
    regs.update("r1", {"stage": "prove"})  # FAILED: ignored
    item = regs.get("r1")
    assert (item["state"], item["stage"], item["error"]) == ("FAILED", "store", {"status": 500})
    assert regs.fail("r1", {"status": 409}, "t2") is False
    assert regs.fail("missing", {}, "t") is False


def test_claim_release_and_complete(backend):
    regs, content = stores(backend)
    regs.create(reg())
    assert content.claim({"contentId": CID, "registrationId": "r1", "size": 3}) is None
    existing = content.claim({"contentId": CID, "registrationId": "r2"})
    assert existing["registrationId"] == "r1" and existing["state"] == "CREATED"
    assert content.release(CID, "r2") is False
    assert regs.complete("r1", {"txHash": "0x1"}, "t1", CID, {"title": "T"}) is True
    assert content.get(CID)["state"] == "REGISTERED" and content.get(CID)["title"] == "T"
    assert regs.get("r1")["state"] == "REGISTERED" and regs.get("r1")["result"] == {"txHash": "0x1"}
    assert regs.complete("r1", {"txHash": "0x2"}, "t2", CID, {"title": "U"}) is False  # all or nothing
    assert content.get(CID)["title"] == "T"
    assert content.release(CID, "r1") is False  # registered content is not a claim


def test_complete_writes_nothing_when_the_claim_is_not_ours(backend):
    regs, content = stores(backend)
    regs.create(reg())
    content.claim({"contentId": CID, "registrationId": "r0"})
    assert regs.complete("r1", {}, "t1", CID, {"title": "T"}) is False
    assert regs.get("r1")["state"] == "PENDING" and content.get(CID)["state"] == "CREATED"
    assert content.release(CID, "r0") is True and content.get(CID) is None


def test_content_moves_along_its_lifecycle_only(backend):
    _, content = stores(backend)
    backend.put("content", {"contentId": CID, "state": "CREATED", "registrationId": "r1"})
    content.mark_licensed(CID)
    content.activate_content(CID)
    assert content.get(CID)["state"] == "CREATED"  # neither move starts from CREATED
    backend.put("content", {"contentId": CID, "state": "REGISTERED"})
    content.activate_content(CID)
    assert content.get(CID)["state"] == "REGISTERED"
    content.mark_licensed(CID)
    content.mark_licensed(CID)
    assert content.get(CID)["state"] == "LICENSED"
    content.activate_content(CID)
    assert content.get(CID)["state"] == "ACTIVE"
    content.mark_licensed(CID)
    assert content.get(CID)["state"] == "ACTIVE"
    content.mark_licensed("0x" + "00" * 32)  # no such content: nothing created
    assert content.get("0x" + "00" * 32) is None
