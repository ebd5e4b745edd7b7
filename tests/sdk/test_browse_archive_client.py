"""The SDK's browse (query parameters, cursors followed) and archive (the Archive typed data the
server's own code makes, signed here only for the content asked for; the signature recovers, by
the server's code, to the creator)."""

from __future__ import annotations

import json

import httpx
import pytest
from eth_account import Account
from marketplace.licensing import eip712
from zkdm import client as zclient
from zkdm.errors import SigningRefused
from zkdm.signing import Signer

pytestmark = pytest.mark.sdk

API = "http://api.test"
CONTENT = "0x" + "c1" * 32
REGISTRY = "0x" + "44" * 20


def challenge(content_id: str) -> dict:
    domain = {**eip712.REGISTRY_DOMAIN, "chainId": 31337, "verifyingContract": REGISTRY}
    data = eip712.typed_data(domain, "Archive", eip712.ARCHIVE_TYPE, {"contentId": content_id, "deadline": 99})
    return {"signatureRequired": True, "typedData": data, "deadline": 99}


def summary(n: int) -> dict:
    return {"contentId": "0x" + f"{n:064x}", "state": "REGISTERED", "creator": "0xA", "title": f"t{n}", "tags": [],
            "size": 1, "createdAt": "2026-01-01T00:00:00Z", "terms": {"activeTerms": 0}}


def test_browse_sends_the_filters_and_follows_cursors():
    seen: list[httpx.Request] = []
    pages = [{"items": [summary(1), summary(2)], "cursor": "next1"}, {"items": [summary(3)], "cursor": None}]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=pages.pop(0))

    api = zclient.Client(API, transport=httpx.MockTransport(handler))
    items = list(api.iter_content(tag="vision", licensable=True, limit=2))
    assert [int(i.contentId, 16) for i in items] == [1, 2, 3]
    assert dict(seen[0].url.params) == {"tag": "vision", "licensable": "true", "limit": "2"}
    assert seen[1].url.params["cursor"] == "next1" and "Authorization" not in seen[0].headers


def test_archive_signs_the_servers_typed_data_for_this_content_only():
    creator = Account.create()
    posted: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        if not body:
            return httpx.Response(200, json=challenge(request.url.path.split("/")[2]))
        posted.append(body)
        return httpx.Response(200, json={"contentId": CONTENT, "state": "ARCHIVED", "archivedAt": "now",
                                         "txHash": "0x" + "aa" * 32})

    api = zclient.Client(API, token="jwt", signer=Signer(creator.key), transport=httpx.MockTransport(handler))
    assert api.archive(CONTENT).state == "ARCHIVED"
    (body,) = posted
    assert body["deadline"] == 99
    assert eip712.recover_signer(challenge(CONTENT)["typedData"], body["signature"]) == creator.address

    def other(request: httpx.Request) -> httpx.Response:  # a server asking to archive something else
        return httpx.Response(200, json=challenge("0x" + "0d" * 32))

    hostile = zclient.Client(API, token="jwt", signer=Signer(creator.key), transport=httpx.MockTransport(other))
    with pytest.raises(SigningRefused):
        hostile.archive(CONTENT)
