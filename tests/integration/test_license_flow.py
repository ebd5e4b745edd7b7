"""Flow 2 in-process: the real license-api handler, moto, and the LicenseManager on a Hardhat node.

Terms are created by the relayer with the creator's EIP-712 signature (and by the creator's own
transaction); licenses are bought with a relayed EIP-2612 permit and with the buyer's own
approve + purchase transactions; the chain is checked after each step.
"""

from __future__ import annotations

import pytest
from marketplace.licensing import credential as cred

from local.license_client import calldata, send_transaction
from tests.support import license_support as support

# the shared fixtures: registered content, signed-in people, fresh handler singletons
content, people, _fresh_license_singletons = support.content, support.people, support._fresh_license_singletons
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def b(hex_id: str) -> bytes:
    return bytes.fromhex(hex_id[2:])


def struct(stack, function: str, *args) -> dict:
    """A LicenseManager view returning a struct, as {field: value} (names from the ABI)."""
    manager = stack.contract("LicenseManager")
    names = [o["name"] for o in manager.get_function_by_name(function).abi["outputs"][0]["components"]]
    return dict(zip(names, getattr(manager.functions, function)(*args).call()))


@pytest.fixture(scope="module")
def terms(content, people):
    return people.create_terms(content[0], price=2_000, max_uses=50, duration=3600)


class TestTerms:
    def test_signed_terms_are_on_chain_listed_and_license_the_content(self, api, stack, content, people, terms):
        content_id = content[0]
        # the relayer created them on chain, as the creator signed
        on_chain = struct(stack, "getTerms", b(terms["termsId"]))
        assert {k: on_chain[k] for k in ("contentId", "pricePerUse", "maxUses", "durationSeconds", "licenseType",
                                         "active")} == {"contentId": b(content_id), "pricePerUse": 2_000,
                                                        "maxUses": 50, "durationSeconds": 3600, "licenseType": 0,
                                                        "active": True}
        assert terms["amount"] == 100_000 and terms["type"] == "per_use"
        # anyone can browse them; the content is LICENSED
        listed = api.call("GET", f"/content/{content_id}/terms")
        assert listed.status == 200 and terms["termsId"] in [t["termsId"] for t in listed.body["terms"]]
        assert api.call("GET", f"/content/{content_id}").body["state"] in ("LICENSED", "ACTIVE")

    def test_terms_from_the_creators_own_transaction(self, api, stack, content, people):
        content_id = content[0]
        manager = stack.deployment["contracts"]["LicenseManager"]
        tx = send_transaction(stack.rpc_url, people.key("creator1"), manager, calldata(
            "createTerms(bytes32,uint8,uint96,uint32,uint40)", [content_id, 2, 7, 3, 0]))
        reply = api.call("POST", f"/content/{content_id}/terms", token=people.jwt("creator1"), body={
            "type": "research", "pricePerUse": 7, "maxUses": 3, "txHash": tx})
        assert reply.status == 201, reply.body
        assert reply.body["amount"] == 21 and reply.body["txHash"] == tx

    def test_someone_else_cannot_create_terms(self, api, content, people):
        reply = api.call("POST", f"/content/{content[0]}/terms", token=people.jwt("buyer1"),
                         body={"pricePerUse": 1, "maxUses": 1})
        assert reply.status == 403
        assert api.call("POST", f"/content/{content[0]}/terms", body={"pricePerUse": 1, "maxUses": 1}).status == 401

    def test_invalid_terms_are_422(self, api, content, people):
        for body in ({"pricePerUse": 0, "maxUses": 1}, {"pricePerUse": 1, "maxUses": 2**32},
                     {"pricePerUse": 1, "maxUses": 1, "type": "free"}):
            assert api.call("POST", f"/content/{content[0]}/terms", token=people.jwt("creator1"),
                            body=body).status == 422


class TestPurchase:
    def test_permit_purchase_moves_the_price_to_escrow_and_records_the_commitment(self, api, stack, people, terms):
        escrow = stack.deployment["contracts"]["PaymentEscrow"]
        buyer = people.address("buyer1")
        before = people.balance(buyer), people.balance(escrow)
        reply = people.buy_with_permit(terms["termsId"])
        assert reply.status == 201, reply.body
        bought = reply.body
        assert set(bought) >= {"licenseId", "accessToken", "apiKey", "txHash", "terms"}
        assert bought["apiKey"].startswith("sk_live_") and len(bought["apiKey"]) == 8 + 64
        assert people.balance(buyer) == before[0] - 100_000 and people.balance(escrow) == before[1] + 100_000
        # on chain: the license is the buyer's, with the commitment the access token opens
        lic = struct(stack, "getLicense", b(bought["licenseId"]))
        credential = cred.decode_token(bought["accessToken"])
        assert credential.license_id == bought["licenseId"]
        assert lic["licensee"] == buyer
        assert lic["credentialCommitment"] == cred.commitment(credential.secret, bought["licenseId"])
        # the key is stored only as its hash
        key = stack.item("API_KEYS_TABLE", {"keyHash": cred.hash_api_key(bought["apiKey"])})
        assert key["licenseId"] == bought["licenseId"] and bought["apiKey"] not in str(key)
        assert key["display"] == bought["apiKey"][:12] + "…"
        # and the buyer sees a PURCHASED license
        view = api.call("GET", f"/license/{bought['licenseId']}", token=people.jwt("buyer1"))
        assert view.status == 200 and view.body["status"] == "PURCHASED" and view.body["uses"] == 0

    def test_purchase_with_the_buyers_own_transaction(self, api, stack, people, terms):
        reply, q, tx_hash = people.buy_with_transaction(terms["termsId"])
        assert reply.status == 201, reply.body
        assert reply.body["licenseId"] == q["licenseId"] and reply.body["txHash"] == tx_hash
        credential = cred.decode_token(reply.body["accessToken"])
        assert cred.commitment(credential.secret, q["licenseId"]) == int(q["credentialCommitment"])
        # posting the same transaction again issues nothing new
        again = api.call("POST", "/license/purchase", token=people.jwt("buyer1"),
                         body={"termsId": terms["termsId"], "payment": {"txHash": tx_hash}})
        assert again.status == 409

    def test_another_buyer_cannot_claim_my_transaction(self, api, people, terms):
        reply, _, tx_hash = people.buy_with_transaction(terms["termsId"])
        assert reply.status == 201
        stolen = api.call("POST", "/license/purchase", token=people.jwt("creator2"),
                          body={"termsId": terms["termsId"], "payment": {"txHash": tx_hash}})
        assert stolen.status in (400, 404) and stolen.body["error"] in ("VALIDATION_ERROR", "NOT_FOUND")

    def test_an_own_purchase_between_the_quote_and_the_relayed_purchase(self, api, stack, people, terms, content):
        """The buyer quotes, then buys another license with their own transactions, then posts the
        first quote's permit: the relayed purchase gets the quoted license id, and both licenses'
        credentials open (on chain and at the access endpoint)."""
        quoted = people.quote(terms["termsId"])
        own, own_quote, _ = people.buy_with_transaction(terms["termsId"])
        assert own.status == 201, own.body
        relayed = people.redeem_with_permit(quoted)
        assert relayed.status == 201, relayed.body
        assert relayed.body["licenseId"] == quoted["licenseId"] and own.body["licenseId"] == own_quote["licenseId"]
        manager = stack.contract("LicenseManager").functions
        assert manager.licenseIdFor(b(terms["termsId"]), people.address("buyer1"),
                                    int(quoted["nonce"])).call() == b(quoted["licenseId"])
        for bought in (relayed.body, own.body):
            credential = cred.decode_token(bought["accessToken"])
            lic = struct(stack, "getLicense", b(bought["licenseId"]))
            assert lic["credentialCommitment"] == cred.commitment(credential.secret, bought["licenseId"])
            grant = people.access(content[0], bought["apiKey"], bought["accessToken"])
            assert grant.status == 200 and grant.body["use"] == 1, grant.body

    def test_a_quote_bought_already_is_409_and_its_transaction_still_issues_it(self, api, stack, people, terms):
        """The buyer sends a quote's purchase themself but posts its permit instead of the txHash:
        the relayed copy is refused on chain (same license id), nothing is paid twice, and posting
        the transaction then issues the license."""
        q = people.quote(terms["termsId"])
        tx = q["transaction"]
        for call in (tx["approve"], tx["purchase"]):
            tx_hash = send_transaction(stack.rpc_url, people.key("buyer1"), call["to"],
                                       calldata(call["function"], call["args"]))
        escrowed = people.balance(stack.deployment["contracts"]["PaymentEscrow"])
        again = people.redeem_with_permit(q)
        assert again.status == 409 and again.body["details"]["reason"] == "License__LicenseExists()", again.body
        assert people.balance(stack.deployment["contracts"]["PaymentEscrow"]) == escrowed
        issued = api.call("POST", "/license/purchase", token=people.jwt("buyer1"),
                          body={"termsId": terms["termsId"], "quoteId": q["quoteId"], "payment": {"txHash": tx_hash}})
        assert issued.status == 201 and issued.body["licenseId"] == q["licenseId"], issued.body

    def test_insufficient_balance_is_402_and_nothing_is_sent(self, api, stack, people, terms):
        poor = people.address("platform")  # the platform's account holds no stablecoin
        assert people.balance(poor) < 100_000
        sent = stack.w3().eth.get_transaction_count(stack.relayer)
        reply = people.buy_with_permit(terms["termsId"], role="platform")
        assert reply.status == 402 and reply.body["error"] == "INSUFFICIENT_FUNDS"
        assert stack.w3().eth.get_transaction_count(stack.relayer) == sent  # the relayer sent nothing

    def test_a_permit_for_less_than_the_price_is_402(self, people, terms):
        reply = people.buy_with_permit(terms["termsId"], value=99_999)
        assert reply.status == 402 and reply.body["error"] == "INSUFFICIENT_FUNDS"


class TestLicenseAccessRights:
    def test_only_the_buyer_and_the_creator_read_a_license(self, api, people, terms):
        bought = people.buy_with_permit(terms["termsId"]).body
        path = f"/license/{bought['licenseId']}"
        mine = api.call("GET", path, token=people.jwt("buyer1"))
        assert mine.status == 200 and mine.body["buyer"] == people.address("buyer1").lower()
        creators = api.call("GET", path, token=people.jwt("creator1"))
        assert creators.status == 200 and "buyer" not in creators.body
        assert api.call("GET", path, token=people.jwt("creator2")).status == 403
        assert api.call("GET", path).status == 401
        assert api.call("GET", "/license/0x" + "00" * 32, token=people.jwt("buyer1")).status == 404

    def test_revocation_on_chain_and_in_the_cache(self, api, stack, people, terms):
        bought = people.buy_with_permit(terms["termsId"]).body
        assert people.revoke(bought["licenseId"], role="creator2").status == 403
        reply = api.call("POST", f"/license/{bought['licenseId']}/revoke", token=people.jwt("buyer1"), body={})
        assert reply.status == 403  # the buyer is not the creator
        revoked = people.revoke(bought["licenseId"])
        assert revoked.status == 200 and revoked.body["status"] == "REVOKED", revoked.body
        assert stack.contract("LicenseManager").functions.licenseState(b(bought["licenseId"])).call() == 5
        assert people.revoke(bought["licenseId"]).status == 409
