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


TOKEN = {"address": "0x" + "33" * 20, "symbol": "mUSDC", "decimals": 6}


def listed_item(n: int, creator: str = "0xA", state: str = "REGISTERED", **extra) -> dict:
    return {"contentId": "0x" + f"{n:064x}", "creator": creator, "state": state, "listing": "all",
            "createdAt": f"2026-03-01T00:00:{n:02d}Z", "title": f"t{n}", **extra}


def test_archive_from_every_offerable_state_once_and_out_of_the_listing(backend):
    _, content = stores(backend)
    for n, state in enumerate(("REGISTERED", "LICENSED", "ACTIVE"), start=1):
        backend.put("content", listed_item(n, state=state))
        cid = "0x" + f"{n:064x}"
        assert content.archive(cid, {"archivedAt": "t9", "archiveTxHash": "0x" + "aa" * 32}) is True
        item = content.get(cid)
        assert item["state"] == "ARCHIVED" and item["archivedAt"] == "t9" and "listing" not in item
        assert content.archive(cid, {"archivedAt": "t10"}) is False  # archived already: unchanged
        assert content.get(cid)["archivedAt"] == "t9"
    backend.put("content", {"contentId": CID, "state": "CREATED", "registrationId": "r1"})
    assert content.archive(CID, {}) is False and content.get(CID)["state"] == "CREATED"
    assert content.archive("0x" + "00" * 32, {}) is False and content.get("0x" + "00" * 32) is None
    assert content.listed(None, None, 10) == ([], False)


def test_record_terms_keeps_the_summary_and_licenses(backend):
    _, content = stores(backend)
    backend.put("content", listed_item(1))
    cid = "0x" + f"{1:064x}"
    content.record_terms(cid, 30, TOKEN)
    content.record_terms(cid, 20, TOKEN)
    content.record_terms(cid, 25, TOKEN)
    item = content.get(cid)
    assert (item["termsCount"], item["minPricePerUse"], item["termsToken"]) == (3, 20, TOKEN)
    assert item["state"] == "LICENSED"


def test_listed_newest_first_in_pages_by_creator_or_all(backend):
    _, content = stores(backend)
    for n in range(1, 6):
        backend.put("content", listed_item(n, creator="0xA" if n % 2 else "0xB"))
    backend.put("content", {**listed_item(9), "listing": None, "state": "ARCHIVED"})  # not in the listing
    ids = lambda items: [int(i["contentId"], 16) for i in items]  # noqa: E731
    first, more = content.listed(None, None, 2)
    assert ids(first) == [5, 4] and more is True
    after = (first[-1]["createdAt"], first[-1]["contentId"])
    second, more = content.listed(None, after, 3)
    assert ids(second) == [3, 2, 1]
    third, more = content.listed(None, (second[-1]["createdAt"], second[-1]["contentId"]), 3)
    assert third == [] and more is False
    mine, _ = content.listed("0xA", None, 10)
    assert ids(mine) == [9, 5, 3, 1]  # byCreator holds every state: browse filters ARCHIVED out
    mine, more = content.listed("0xA", (mine[1]["createdAt"], mine[1]["contentId"]), 1)
    assert ids(mine) == [3] and more is True
