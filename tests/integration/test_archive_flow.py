"""Browse and archive on the real parts: the content-api and license-api handlers on moto's
DynamoDB and S3, archiveWithSig relayed through the relayer function to the Hardhat chain. After
the archive: terms and purchases 409 before any transaction, the license bought before still
serves its content, browse leaves the content out, GET /content/{id} shows ARCHIVED."""

from __future__ import annotations

import json

import pytest
from local.lambdas import LambdaContext, load_handler
from local.license_client import sign_typed_data

from tests.support import license_support as support
from tests.events import api_event
from tests.support.license_support import register

people, _fresh_license_singletons = support.people, support._fresh_license_singletons
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def browse(**query) -> tuple[int, dict]:
    """GET /content?query through the content-api handler (the test Api sends no query strings)."""
    event = api_event("GET", "/content", resource="/content")
    event["queryStringParameters"] = {k: str(v) for k, v in query.items()}
    event["multiValueQueryStringParameters"] = {k: [str(v)] for k, v in query.items()}
    out = load_handler("content_api")(event, LambdaContext("content_api"))
    return out["statusCode"], json.loads(out["body"])


def listed_ids(**query) -> list[str]:
    status, body = browse(**query)
    assert status == 200, body
    return [i["contentId"] for i in body["items"]]


def test_archive_end_to_end(api, stack, people):
    creator = people.address("creator1")
    content_id, _ = register(api, people.jwt("creator1"))
    bare_id, _ = register(api, people.jwt("creator1"))  # no terms
    terms = people.create_terms(content_id, price=700, max_uses=10)
    bought = people.buy_with_permit(terms["termsId"])
    assert bought.status == 201, bought.body
    early_quote = people.quote(terms["termsId"])  # a quote taken before the archive

    # browse: newest first, with the terms summary; licensable filters
    status, page = browse(creator=creator.lower(), limit=100)
    assert status == 200, page
    item = next(i for i in page["items"] if i["contentId"] == content_id)
    assert item["terms"]["activeTerms"] == 1 and item["terms"]["minPricePerUse"] == 700
    assert item["terms"]["token"]["symbol"] and item["state"] == "LICENSED"
    assert [i["contentId"] for i in page["items"]].index(bare_id) < [i["contentId"] for i in page["items"]].index(
        content_id)  # newer first
    assert content_id in listed_ids(licensable="true", limit=100)
    assert bare_id not in listed_ids(licensable="true", limit=100)

    path = f"/content/{content_id}/archive"
    assert api.call("POST", path, token=people.jwt("creator2"), body={}).status == 403
    assert api.call("POST", f"/content/0x{'0e' * 32}/archive", token=people.jwt("creator1")).status == 404
    challenge = api.call("POST", path, token=people.jwt("creator1"))  # no body: the typed data
    assert challenge.status == 200 and challenge.body["typedData"]["primaryType"] == "Archive", challenge.body
    # someone else's signature over the same typed data: refused before any transaction
    sent = stack.w3().eth.get_transaction_count(stack.relayer)
    foreign = sign_typed_data(people.key("creator2"), challenge.body["typedData"])
    refused = api.call("POST", path, token=people.jwt("creator1"),
                       body={"signature": foreign, "deadline": challenge.body["deadline"]})
    assert refused.status == 403 and refused.body["error"] == "FORBIDDEN", refused.body
    assert stack.w3().eth.get_transaction_count(stack.relayer) == sent

    signature = sign_typed_data(people.key("creator1"), challenge.body["typedData"])
    archived = api.call("POST", path, token=people.jwt("creator1"),
                        body={"signature": signature, "deadline": challenge.body["deadline"]})
    assert archived.status == 200 and archived.body["state"] == "ARCHIVED", archived.body
    registry = stack.contract("ContentRegistry").functions
    assert registry.creatorAndState(bytes.fromhex(content_id[2:])).call()[1] == 2  # ARCHIVED on chain
    receipt = stack.w3().eth.get_transaction_receipt(archived.body["txHash"])
    assert receipt["status"] == 1 and receipt["from"].lower() == stack.relayer.lower()
    view = api.call("GET", f"/content/{content_id}").body
    assert view["state"] == "ARCHIVED" and view["archiveTxHash"] == archived.body["txHash"]
    again = api.call("POST", path, token=people.jwt("creator1"),
                     body={"signature": signature, "deadline": challenge.body["deadline"]})
    assert again.status == 409 and again.body["error"] == "CONFLICT"

    # no new terms or purchases: 409 before any transaction
    sent = stack.w3().eth.get_transaction_count(stack.relayer)
    terms_reply = api.call("POST", f"/content/{content_id}/terms", token=people.jwt("creator1"),
                           body={"type": "per_use", "pricePerUse": 1, "maxUses": 1, "durationSeconds": 0})
    assert terms_reply.status == 409 and set(terms_reply.body) >= {"error", "message", "details"}
    quote = api.call("POST", "/license/quote", token=people.jwt("buyer1"), body={"termsId": terms["termsId"]})
    assert quote.status == 409, quote.body
    late = people.redeem_with_permit(early_quote)
    assert late.status == 409 and late.body["details"]["state"] == "ARCHIVED", late.body
    assert stack.w3().eth.get_transaction_count(stack.relayer) == sent

    # the license bought before keeps working
    served = people.access(content_id, bought.body["apiKey"], bought.body["accessToken"])
    assert served.status == 200, served.body

    # browse leaves it out, everywhere
    assert content_id not in listed_ids(limit=100)
    assert content_id not in listed_ids(creator=creator, limit=100)
    assert bare_id in listed_ids(creator=creator, limit=100)
    assert browse(cursor="bm90LW91cnM")[0] == 404
