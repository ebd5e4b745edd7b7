"""Archiving content (licensing.archive over fakes: the typed data, the relayed archiveWithSig,
the record through the content lifecycle; afterwards terms and purchases 409 before any
transaction) and browsing it (content.browse over the in-memory content store)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from marketplace.chain.quota import RelayQuota, RelayQuotaSettings
from marketplace.chain.reverts import ContractRevert
from marketplace.content import browse as catalog
from marketplace.content.fakes import MemoryContent
from marketplace.errors import ConflictError, ForbiddenError, NotFoundError, RateLimitedError
from marketplace.licensing import services as lg
from marketplace.licensing.fakes import MemoryLicensingStore
from marketplace.licensing.schemas import ArchivedView, ArchiveRequest, PurchaseRequest, TermsRequest, TypedDataChallenge
from marketplace.shared.memory import MemoryTable, MemoryWindowCounter

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_750_000_000
CREATOR, OTHER, BUYER = Account.create(), Account.create(), Account.create()
CONTENT = "0x" + "c0" * 32
REGISTRY = "0x" + "44" * 20
TOKEN = {"address": "0x" + "33" * 20, "symbol": "mUSDC", "decimals": 6}


def sign(account, data: dict) -> str:
    return "0x" + account.sign_message(encode_typed_data(full_message=data)).signature.hex().removeprefix("0x")


@dataclass
class RegistryChain:
    """The LicenseChain parts archiving uses: the registry's relayed sends, its logs, its state."""

    chain_id: int = 31337
    license_manager: str = "0x" + "11" * 20
    registry: str = REGISTRY
    state: int = 1  # REGISTERED on chain
    sent: list = field(default_factory=list)
    manager_sent: list = field(default_factory=list)
    receipts: dict = field(default_factory=dict)
    revert: str | None = None

    def token_info(self):
        return dict(TOKEN)

    def manager_nonce(self, account):
        return 0

    def send(self, function, *args):  # LicenseManager: nothing may reach it for archived content
        self.manager_sent.append(function)
        raise AssertionError(f"sent {function}")

    def send_registry(self, function, *args):
        self.sent.append((function, args))
        if self.revert:
            raise ContractRevert("ContentRegistry", function, self.revert)
        self.state = 2
        return {"transactionHash": b"\xaa" * 32, "status": 1, "from": "relayer",
                "logs": [("ContentArchived", {"contentId": args[0], "creator": CREATOR.address})]}

    def registry_events(self, receipt, event):
        return [dict(a) for name, a in receipt["logs"] if name == event]

    def registry_state(self, content_id):
        return self.state

    def receipt(self, tx_hash):
        return self.receipts.get(tx_hash)


@pytest.fixture
def world():
    content, store, chain = MemoryContent(), MemoryLicensingStore(), RegistryChain()
    content.table.put({"contentId": CONTENT, "creator": CREATOR.address, "state": "LICENSED", "listing": "all",
                       "createdAt": "2026-01-01T00:00:00Z", "title": "Street scenes", "tags": ["vision"]})
    store.terms.put({"termsId": "0x" + "01" * 32, "contentId": CONTENT, "creator": CREATOR.address, "type": "per_use",
                     "pricePerUse": 10, "maxUses": 5, "durationSeconds": 0, "amount": 50, "active": True,
                     "txHash": "0x" + "02" * 32, "createdAt": "2026-01-01T00:00:00Z"})
    counter = MemoryWindowCounter(MemoryTable("pk"))
    quota = RelayQuota(counter, RelayQuotaSettings(limit=1, window_seconds=3600), clock=lambda: NOW)
    svc = lg.Licensing(store, content, chain, lambda: "ab" * 32, clock=lambda: NOW, relay_quota=quota)
    return svc, content, chain


def signed(svc, account=CREATOR) -> ArchiveRequest:
    challenge = svc.archive(CREATOR.address, CONTENT, ArchiveRequest())
    return ArchiveRequest(signature=sign(account, challenge.typedData), deadline=challenge.deadline)


def test_archive_typed_data_is_the_registrys_typehash(world):
    svc, _, _ = world
    challenge = svc.archive(CREATOR.address, CONTENT, ArchiveRequest())
    assert isinstance(challenge, TypedDataChallenge)
    data = challenge.typedData
    assert data["domain"] == {"name": "ContentRegistry", "version": "1", "chainId": 31337, "verifyingContract": REGISTRY}
    assert data["message"] == {"contentId": CONTENT, "deadline": str(NOW + 900)}
    fields = ",".join(f"{f['type']} {f['name']}" for f in data["types"]["Archive"])
    source = (ROOT / "contracts" / "ContentRegistry.sol").read_text()
    assert f'keccak256("Archive({fields})")' in source


def test_the_creators_signature_is_relayed_and_the_content_archived(world):
    svc, content, chain = world
    out = svc.archive(CREATOR.address, CONTENT, signed(svc))
    assert isinstance(out, ArchivedView) and out.state == "ARCHIVED" and out.txHash == "0x" + "aa" * 32
    ((function, args),) = chain.sent
    assert function == "archiveWithSig" and args[0] == bytes.fromhex(CONTENT[2:]) and args[1] == NOW + 900
    item = content.get(CONTENT)
    assert item["state"] == "ARCHIVED" and "listing" not in item and item["archiveTxHash"] == out.txHash


def test_refusals_before_any_transaction(world):
    svc, content, chain = world
    with pytest.raises(ForbiddenError):  # someone else's signature
        svc.archive(CREATOR.address, CONTENT, signed(svc, OTHER))
    with pytest.raises(ForbiddenError):  # not the creator asking
        svc.archive(OTHER.address, CONTENT, ArchiveRequest())
    with pytest.raises(ForbiddenError):  # expired
        svc.archive(CREATOR.address, CONTENT, ArchiveRequest(signature=signed(svc).signature, deadline=NOW - 1))
    with pytest.raises(NotFoundError):
        svc.archive(CREATOR.address, "0x" + "0f" * 32, ArchiveRequest())
    assert chain.sent == [] and content.get(CONTENT)["state"] == "LICENSED"


def test_archived_twice_is_409_and_the_quota_applies(world):
    svc, _, chain = world
    req = signed(svc)
    svc.archive(CREATOR.address, CONTENT, req)
    with pytest.raises(ConflictError):
        svc.archive(CREATOR.address, CONTENT, req)
    assert len(chain.sent) == 1


def test_relay_quota_exhausted_is_429(world):
    svc, content, chain = world
    svc.relay_quota.take(CREATOR.address, "archiveWithSig")  # the quota of 1 used
    with pytest.raises(RateLimitedError):
        svc.archive(CREATOR.address, CONTENT, signed(svc))
    assert chain.sent == []


def test_archived_on_chain_already_the_record_follows(world):
    svc, content, chain = world
    chain.revert, chain.state = "Registry__NotRegistered", 2
    out = svc.archive(CREATOR.address, CONTENT, signed(svc))
    assert out.state == "ARCHIVED" and out.txHash is None and content.get(CONTENT)["state"] == "ARCHIVED"


def test_a_revert_while_registered_on_chain_stays_409(world):
    svc, content, chain = world
    chain.revert = "Registry__NotRegistered"
    with pytest.raises(ConflictError):
        svc.archive(CREATOR.address, CONTENT, signed(svc))
    assert content.get(CONTENT)["state"] == "LICENSED"


def test_own_transaction_is_verified(world):
    svc, content, chain = world
    tx = "0x" + "bb" * 32
    chain.receipts[tx] = {"transactionHash": bytes.fromhex(tx[2:]), "status": 1, "from": CREATOR.address,
                          "logs": [("ContentArchived", {"contentId": bytes.fromhex(CONTENT[2:])})]}
    out = svc.archive(CREATOR.address, CONTENT, ArchiveRequest(txHash=tx))
    assert out.txHash == tx and content.get(CONTENT)["state"] == "ARCHIVED"


def test_after_archive_terms_and_purchases_are_409_before_any_transaction(world):
    svc, _, chain = world
    svc.archive(CREATOR.address, CONTENT, signed(svc))
    terms = TermsRequest.model_validate({"type": "research", "pricePerUse": 1, "maxUses": 1, "durationSeconds": 0,
                                         "signature": "0x" + "11" * 65, "deadline": NOW + 60})
    with pytest.raises(ConflictError):
        svc.create_terms(CREATOR.address, CONTENT, terms)
    with pytest.raises(ConflictError):
        svc.quote(BUYER.address, "0x" + "01" * 32)
    purchase = PurchaseRequest.model_validate({
        "termsId": "0x" + "01" * 32, "quoteId": "0x" + "0e" * 32,
        "payment": {"permit": {"signature": "0x" + "11" * 65, "purchaseSignature": "0x" + "11" * 65,
                               "deadline": NOW + 60}}})
    with pytest.raises(ConflictError):
        svc.purchase(BUYER.address, purchase)
    assert chain.manager_sent == []


# --------------------------------------------------------------------------------------------
# Browse
# --------------------------------------------------------------------------------------------


def listed(content: MemoryContent, n: int, creator=CREATOR.address, **extra) -> list[str]:
    ids = []
    for i in range(n):
        cid = "0x" + f"{len(content.table) + 1:064x}"
        content.table.put({"contentId": cid, "creator": creator, "state": "REGISTERED", "listing": "all",
                           "createdAt": f"2026-02-01T00:00:{len(content.table):02d}Z", "title": f"item {i}",
                           "tags": [], "size": 3, **extra})
        ids.append(cid)
    return ids


class CountingContent(MemoryContent):
    reads = 0

    def listed(self, creator, after, limit):
        self.reads += 1
        return super().listed(creator, after, limit)


def test_pages_newest_first_every_item_once_archived_left_out():
    content = MemoryContent()
    ids = listed(content, 5)
    content.archive(ids[2], {"archivedAt": "now"})
    seen, cursor = [], None
    while True:
        page = catalog.browse(content, limit=2, cursor=cursor)
        seen += [i.contentId for i in page.items]
        if page.cursor is None:
            break
        cursor = page.cursor
    assert seen == [ids[4], ids[3], ids[1], ids[0]]


def test_creator_tag_q_and_licensable():
    content = MemoryContent()
    mine = listed(content, 2, tags=["Vision"], title="Street Scenes")
    theirs = listed(content, 1, creator=OTHER.address, tags=["audio"], title="Birdsong")
    content.record_terms(mine[0], 30, TOKEN)
    content.record_terms(mine[0], 20, TOKEN)
    content.record_terms(mine[0], 25, TOKEN)
    by = lambda **kw: [i.contentId for i in catalog.browse(content, **kw).items]  # noqa: E731
    assert by(creator=CREATOR.address.lower()) == [mine[1], mine[0]]
    assert by(tag="vision") == [mine[1], mine[0]] and by(tag="visio") == []
    assert by(q="SCENE") == [mine[1], mine[0]] and by(q="aud") == theirs
    assert by(licensable=True) == [mine[0]] and by(licensable=False) == [theirs[0], mine[1]]
    (item,) = catalog.browse(content, licensable=True).items
    assert item.terms.activeTerms == 3 and item.terms.minPricePerUse == 20 and item.terms.token == TOKEN
    assert item.state == "LICENSED"


def test_filters_read_a_bounded_number_of_index_pages():
    content = CountingContent()
    listed(content, 30)
    page = catalog.browse(content, q="nothing matches", limit=3)
    assert page.items == [] and page.cursor is not None and content.reads == catalog.MAX_INDEX_READS
    rest = catalog.browse(content, q="nothing matches", limit=3, cursor=page.cursor)
    assert rest.items == [] and rest.cursor is None  # 15 read, 15 left: the end


def test_a_cursor_not_ours_is_404():
    with pytest.raises(NotFoundError):
        catalog.browse(MemoryContent(), cursor="bm90LWEtY3Vyc29y")


@pytest.mark.parametrize("query", [{"tag": ""}, {"q": ""}, {"limit": "0"}, {"limit": "101"}, {"licensable": "maybe"},
                                   {"creator": "0x1"}, {"cursor": "not a cursor!"}])
def test_an_invalid_query_is_422_with_the_error_body(monkeypatch, query):
    import json

    from marketplace.content import routes
    from marketplace.kit.http import http_app

    from tests.events import api_event

    monkeypatch.setattr(routes, "content_items", lambda: MemoryContent())
    event = api_event("GET", "/content", resource="/content")
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
    out = http_app(routes.api).resolve(event, None)
    body = json.loads(out["body"])
    assert out["statusCode"] == 422 and set(body) >= {"error", "message", "details"}, body
    valid = http_app(routes.api).resolve({**event, "queryStringParameters": {"limit": "100"},
                                          "multiValueQueryStringParameters": {"limit": ["100"]}}, None)
    assert valid["statusCode"] == 200 and json.loads(valid["body"]) == {"items": []}  # no cursor: the end
