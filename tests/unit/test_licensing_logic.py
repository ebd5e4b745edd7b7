"""Flow 2 logic: typed data, quotes, purchases (permit and own transaction), licenses, revocation,
keys. The chain and the tables are in-memory fakes with the LicenseManager's rules that matter
here (license ids from terms, buyer and the purchase's nonce; a used id or commitment refused;
events); tests/integration runs the real ones."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address
from marketplace.chain.reverts import ContractRevert
from marketplace.content.fakes import MemoryContent
from marketplace.errors import (
    BlockchainError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PaymentRequiredError,
    UnprocessableError,
    ValidationError,
)
from marketplace.licensing import credential as cred
from marketplace.licensing import eip712
from marketplace.licensing import services as lg
from marketplace.licensing.fakes import MemoryLicensingStore
from marketplace.licensing.schemas import PurchaseRequest, RevokeRequest, TermsCreated, TermsRequest
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_750_000_000
SEAL_KEY = "ab" * 32
CREATOR = Account.create()
BUYER = Account.create()
OTHER = Account.create()
CONTENT = "0x" + "c0" * 32
MANAGER = "0x" + "11" * 20
ESCROW = "0x" + "22" * 20
TOKEN = "0x" + "33" * 20


def sign(account, data: dict) -> str:
    return "0x" + account.sign_message(encode_typed_data(full_message=data)).signature.hex().removeprefix("0x")


def h(i: int) -> str:
    return "0x" + i.to_bytes(32, "big").hex()


def contract_license_id(terms_id: str, buyer: str, nonce: int) -> str:
    """LicenseManager.licenseIdFor, written out: keccak256(abi.encode(termsId, buyer, nonce))."""
    return "0x" + keccak(encode(["bytes32", "address", "uint256"],
                                [bytes.fromhex(terms_id[2:]), to_checksum_address(buyer), nonce])).hex()


@dataclass
class FakeChain:
    chain_id: int = 31337
    license_manager: str = MANAGER
    escrow: str = ESCROW
    token: str = TOKEN
    balances: dict = field(default_factory=dict)
    allowances: dict = field(default_factory=dict)
    license_ids: set = field(default_factory=set)
    commitments: set = field(default_factory=set)
    manager_nonces: dict = field(default_factory=dict)
    receipts: dict = field(default_factory=dict)
    sent: list = field(default_factory=list)
    revert: str | None = None
    n_tx: int = 0

    def token_domain(self):
        return {"name": "Mock USD Coin", "version": "1", "chainId": self.chain_id, "verifyingContract": TOKEN}

    def token_info(self):
        return {"address": TOKEN, "symbol": "mUSDC", "decimals": 6}

    def token_nonce(self, owner):
        return 7

    def balance_of(self, owner):
        return self.balances.get(owner.lower(), 0)

    def allowance(self, owner, spender):
        return self.allowances.get(owner.lower(), 0)

    def manager_nonce(self, account):
        return self.manager_nonces.get(account.lower(), 0)

    def settlement(self, license_id):
        return {"usesProven": 0, "paid": 0, "refundable": 0, "refundOpensAt": None}

    def _receipt(self, sender, logs):
        self.n_tx += 1
        tx = h(10_000 + self.n_tx)
        receipt = {"transactionHash": bytes.fromhex(tx[2:]), "status": 1, "from": sender, "logs": logs}
        self.receipts[tx] = receipt
        return receipt

    def buy(self, terms: dict, buyer: str, commitment: int, nonce: int, sender: str):
        """The contract's _purchase: the commitment and the id (from terms, buyer, nonce) must be
        unused, then the event."""
        lid = contract_license_id(terms["termsId"], buyer, nonce)
        for error, used in (("License__InvalidCommitment", commitment in self.commitments),
                            ("License__LicenseExists", lid in self.license_ids)):
            if used:
                raise ContractRevert("LicenseManager", "purchaseWithPermit", error)
        self.license_ids.add(lid)
        self.commitments.add(commitment)
        return self._receipt(sender, [("LicensePurchased", {
            "licenseId": bytes.fromhex(lid[2:]), "licensee": buyer, "termsId": bytes.fromhex(terms["termsId"][2:]),
            "timestamp": NOW, "contentId": bytes.fromhex(CONTENT[2:]), "amount": terms["amount"],
            "credentialCommitment": commitment, "validUntil": NOW + 3600})])

    def send(self, function, *args):
        self.sent.append((function, args))
        if self.revert:
            raise ContractRevert("LicenseManager", function, self.revert)
        if function == "purchaseWithPermit":
            terms_id, buyer, commitment, nonce = "0x" + args[0].hex(), args[1], args[2], args[3]
            return self.buy(self.terms[terms_id], buyer, commitment, nonce, "relayer")
        if function == "createTermsWithSig":
            content, type_index, price, max_uses, duration = args[:5]
            return self._receipt("relayer", [("TermsCreated", {
                "termsId": keccak(content + b"0"), "contentId": content, "licenseType": type_index,
                "pricePerUse": price, "maxUses": max_uses, "durationSeconds": duration})])
        if function == "revokeWithSig":
            return self._receipt("relayer", [("LicenseRevoked", {"licenseId": args[0], "timestamp": NOW + 5})])
        raise AssertionError(function)

    def receipt(self, tx_hash):
        return self.receipts.get(tx_hash)

    def events(self, receipt, event):
        return [dict(args) for name, args in receipt["logs"] if name == event]

    def find_purchase(self, buyer, terms_id, commitment):
        for tx, r in self.receipts.items():
            for e in self.events(r, "LicensePurchased"):
                if e["licensee"].lower() == buyer.lower() and e["credentialCommitment"] == commitment:
                    return tx, e
        return None


def _body(model: BaseModel) -> dict:
    return model.model_dump(exclude_unset=True)


class Dumped:
    """The service answering as the license-api handler does: the body of the model it returns
    (fields left unset are not in it); ``create_terms`` also the status its type means."""

    def __init__(self, svc: lg.Licensing) -> None:
        self.svc = svc

    def __getattr__(self, name):
        attr = getattr(self.svc, name)
        if name.startswith("_") or not callable(attr):
            return attr

        def call(*args, **kwargs):
            out = attr(*args, **kwargs)
            if name == "create_terms":
                return (201 if isinstance(out, TermsCreated) else 200), _body(out)
            return _body(out) if isinstance(out, BaseModel) else out

        return call


@pytest.fixture
def world():
    store, chain, content = MemoryLicensingStore(), FakeChain(), MemoryContent()
    content.table.put({"contentId": CONTENT, "creator": CREATOR.address.lower(), "state": "REGISTERED",
                       "ipfsCid": "QmObject"})
    store.content = content.table  # for the tests to look at
    terms = {"termsId": h(1), "contentId": CONTENT, "creator": CREATOR.address.lower(), "type": "per_use",
             "pricePerUse": 10_000, "maxUses": 50, "durationSeconds": 3600, "amount": 500_000, "active": True,
             "txHash": h(2), "createdAt": "2025-06-15T00:00:00Z"}
    store.terms.put(terms)
    terms = store.terms[terms["termsId"]]  # the stored item (live): a test may change it
    chain.terms = store.terms
    chain.balances[BUYER.address.lower()] = 10**9
    svc = Dumped(lg.Licensing(store, content, chain, lambda: SEAL_KEY, clock=lambda: NOW))
    return svc, store, chain, terms


def permit_request(svc, chain, terms, account=BUYER, quote=None, **permit_overrides) -> PurchaseRequest:
    q = quote or svc.quote(account.address, terms["termsId"])
    signature = sign(account, q["permit"]["typedData"])
    purchase = sign(account, q["purchase"]["typedData"])
    return PurchaseRequest.model_validate({
        "termsId": terms["termsId"], "quoteId": q["quoteId"],
        "payment": {"permit": {"signature": signature, "purchaseSignature": purchase, "deadline": q["permit"]["deadline"],
                               **permit_overrides}}})


# --------------------------------------------------------------------------------------------
# Typed data
# --------------------------------------------------------------------------------------------


def _type_string(data: dict) -> str:
    primary = data["primaryType"]
    return f"{primary}(" + ",".join(f"{f['type']} {f['name']}" for f in data["types"][primary]) + ")"


def test_typed_data_types_are_the_contracts_typehash_strings():
    source = (ROOT / "contracts" / "LicenseManager.sol").read_text()
    declared = set(re.findall(r'keccak256\(\s*"([A-Za-z]+\([^"]*\))"', source))
    domain = {"name": "LicenseManager", "version": "1", "chainId": 1, "verifyingContract": MANAGER}
    terms = eip712.typed_data(domain, "CreateTerms", eip712.CREATE_TERMS_TYPE, {
        "contentId": CONTENT, "licenseType": 0, "pricePerUse": 1, "maxUses": 1, "durationSeconds": 0, "nonce": 0,
        "deadline": 1})
    revoke = eip712.typed_data(domain, "RevokeLicense", eip712.REVOKE_LICENSE_TYPE, {"licenseId": CONTENT, "nonce": 0,
                                                                             "deadline": 1})
    assert {_type_string(terms), _type_string(revoke)} <= declared
    oz = (ROOT / "node_modules/@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol").read_text()
    permit = eip712.permit_typed_data({"name": "T", "version": "1", "chainId": 1, "verifyingContract": TOKEN},
                                  BUYER.address, ESCROW, 5, 0, 9)
    assert f'keccak256("{_type_string(permit)}")' in oz


def test_typed_data_is_json_safe_and_signable():
    big = 2**90
    data = eip712.permit_typed_data({"name": "T", "version": "1", "chainId": 31337, "verifyingContract": TOKEN},
                                BUYER.address, ESCROW, big, 3, NOW)
    assert data["message"]["value"] == str(big) and data["message"]["nonce"] == "3"
    assert [f["name"] for f in data["types"]["EIP712Domain"]] == ["name", "version", "chainId", "verifyingContract"]
    assert eip712.recover_signer(data, sign(BUYER, data)) == BUYER.address
    assert eip712.recover_signer(data, sign(OTHER, data)) == OTHER.address
    assert eip712.recover_signer(data, "0x" + "00" * 65) is None
    v, r, s = eip712.split_signature(sign(BUYER, data))
    assert v in (27, 28) and len(r) == len(s) == 32


def test_license_status_precedence():
    lic = {"usesGranted": 0, "maxUses": 2, "validUntil": NOW + 10}
    assert lg.license_status(lic, NOW) == "PURCHASED"
    assert lg.license_status({**lic, "usesGranted": 1}, NOW) == "IN_USE"
    assert lg.license_status({**lic, "usesGranted": 1}, NOW + 10) == "EXPIRED"
    assert lg.license_status({**lic, "usesGranted": 2}, NOW + 10) == "EXHAUSTED"
    assert lg.license_status({**lic, "usesGranted": 2, "revokedAt": NOW}, NOW + 10) == "REVOKED"


# --------------------------------------------------------------------------------------------
# Terms
# --------------------------------------------------------------------------------------------


TERMS_BODY = {"type": "research", "pricePerUse": 25, "maxUses": 10, "durationSeconds": 60}


class TestTerms:
    BODY = TERMS_BODY

    def test_without_signature_the_creator_gets_typed_data_to_sign(self, world):
        svc, _store, chain, _ = world
        chain.manager_nonces[CREATOR.address.lower()] = 4
        status, body = svc.create_terms(CREATOR.address, CONTENT, TermsRequest.model_validate(self.BODY))
        assert status == 200 and body["signatureRequired"]
        msg = body["typedData"]["message"]
        assert msg == {"contentId": CONTENT, "licenseType": "2", "pricePerUse": "25", "maxUses": "10",
                       "durationSeconds": "60", "nonce": "4", "deadline": str(NOW + 900)}
        assert body["typedData"]["domain"] == {"name": "LicenseManager", "version": "1", "chainId": 31337,
                                               "verifyingContract": MANAGER}
        assert chain.sent == []

    def test_signed_terms_are_relayed_cached_and_license_the_content(self, world):
        svc, store, chain, _ = world
        _, challenge = svc.create_terms(CREATOR.address, CONTENT, TermsRequest.model_validate(self.BODY))
        req = TermsRequest.model_validate({**self.BODY, "signature": sign(CREATOR, challenge["typedData"]),
                                           "deadline": challenge["deadline"]})
        status, body = svc.create_terms(CREATOR.address, CONTENT, req)
        assert status == 201 and body["amount"] == 250 and body["type"] == "research"
        ((function, args),) = chain.sent
        assert function == "createTermsWithSig" and args[:6] == (bytes.fromhex(CONTENT[2:]), 2, 25, 10, 60,
                                                                 challenge["deadline"])
        assert store.terms[body["termsId"]]["creator"] == CREATOR.address.lower()
        assert store.content[CONTENT]["state"] == "LICENSED"
        assert [t["termsId"] for t in svc.list_terms(CONTENT)["terms"]] == sorted(store.terms, key=lambda t: (
            store.terms[t]["createdAt"]))

    def test_a_signature_by_someone_else_is_refused_before_any_transaction(self, world):
        svc, _store, chain, _ = world
        _, challenge = svc.create_terms(CREATOR.address, CONTENT, TermsRequest.model_validate(self.BODY))
        req = TermsRequest.model_validate({**self.BODY, "signature": sign(OTHER, challenge["typedData"]),
                                           "deadline": challenge["deadline"]})
        with pytest.raises(ForbiddenError):
            svc.create_terms(CREATOR.address, CONTENT, req)
        assert chain.sent == []

    def test_only_the_creator_of_existing_content(self, world):
        svc, _store, _chain, _ = world
        with pytest.raises(ForbiddenError):
            svc.create_terms(OTHER.address, CONTENT, TermsRequest.model_validate(self.BODY))
        with pytest.raises(NotFoundError):
            svc.create_terms(CREATOR.address, "0x" + "99" * 32, TermsRequest.model_validate(self.BODY))
        with pytest.raises(NotFoundError):
            svc.list_terms("0x" + "99" * 32)

    def test_own_transaction_must_be_the_creators(self, world):
        svc, _store, chain, _ = world
        receipt = chain.send("createTermsWithSig", bytes.fromhex(CONTENT[2:]), 2, 25, 10, 60, 0, b"")
        tx = "0x" + receipt["transactionHash"].hex()
        receipt["from"] = OTHER.address
        with pytest.raises(ForbiddenError):
            svc.create_terms(CREATOR.address, CONTENT, TermsRequest.model_validate({**self.BODY, "txHash": tx}))
        receipt["from"] = CREATOR.address
        status, body = svc.create_terms(CREATOR.address, CONTENT,
                                        TermsRequest.model_validate({**self.BODY, "txHash": tx}))
        assert status == 201 and body["txHash"] == tx and body["maxUses"] == 10
        # the same transaction again: the recorded terms, not a second copy
        assert svc.create_terms(CREATOR.address, CONTENT,
                                TermsRequest.model_validate({**self.BODY, "txHash": tx}))[0] == 200
        with pytest.raises(ValidationError):  # a transaction that created other terms
            svc.create_terms(CREATOR.address, CONTENT,
                             TermsRequest.model_validate({**self.BODY, "maxUses": 11, "txHash": tx}))


# --------------------------------------------------------------------------------------------
# Quote and purchase
# --------------------------------------------------------------------------------------------


class TestQuote:
    def test_quote_is_the_permit_for_the_escrow_and_a_commitment_for_the_quoted_license(self, world):
        svc, store, _chain, terms = world
        q = svc.quote(BUYER.address, terms["termsId"])
        assert q["amount"] == 500_000
        permit = q["permit"]["typedData"]
        assert permit["primaryType"] == "Permit" and permit["domain"]["verifyingContract"] == TOKEN
        assert permit["message"] == {"owner": BUYER.address, "spender": ESCROW, "value": "500000", "nonce": "7",
                                     "deadline": str(NOW + 900)}
        # the id the purchase with the quote's nonce gets, computed before anything is sent
        nonce = int(q["nonce"])
        assert q["licenseId"] == contract_license_id(terms["termsId"], BUYER.address, nonce)
        assert q["licenseId"] == lg.license_id_for(terms["termsId"], BUYER.address, nonce)
        stored = store.quotes[q["quoteId"]]
        assert stored["nonce"] == q["nonce"] and stored["licenseId"] == q["licenseId"]
        secret = cred.unseal(stored["sealedSecret"], SEAL_KEY, int(stored["commitment"]))
        assert int(q["credentialCommitment"]) == cred.commitment(secret, q["licenseId"])
        assert q["quoteId"] == lg.quote_id_of(int(q["credentialCommitment"]))
        assert str(secret) not in str(q)
        assert q["transaction"]["purchase"]["function"] == "purchase(bytes32,uint256,uint256)"
        assert q["transaction"]["purchase"]["args"] == [terms["termsId"], q["credentialCommitment"], q["nonce"]]
        assert q["transaction"]["approve"]["args"] == [ESCROW, "500000"]

    def test_each_quote_draws_its_own_random_nonce(self, world):
        svc, _store, _chain, terms = world
        quotes = [svc.quote(BUYER.address, terms["termsId"]) for _ in range(8)]
        nonces = {int(q["nonce"]) for q in quotes}
        assert len(nonces) == 8 and all(0 <= n < 2**256 for n in nonces)
        assert max(nonces) >= 2**128  # 256 random bits, not a counter (fails with probability 2^-1024)
        assert len({q["licenseId"] for q in quotes}) == 8

    def test_unknown_or_inactive_terms(self, world):
        svc, _store, _chain, terms = world
        with pytest.raises(NotFoundError):
            svc.quote(BUYER.address, h(99))
        terms["active"] = False
        with pytest.raises(ConflictError):
            svc.quote(BUYER.address, terms["termsId"])


class TestPurchaseWithPermit:
    def test_relays_the_permit_and_issues_credential_and_key(self, world):
        svc, store, chain, terms = world
        req = permit_request(svc, chain, terms)
        q = store.quotes[req.quoteId]
        body = svc.purchase(BUYER.address, req)
        ((function, args),) = chain.sent
        assert function == "purchaseWithPermit"
        assert args[:5] == (bytes.fromhex(terms["termsId"][2:]), BUYER.address, int(q["commitment"]),
                            int(q["nonce"]), req.payment.permit.deadline)
        assert body["licenseId"] == q["licenseId"]
        c = cred.decode_token(body["accessToken"])
        assert c.license_id == body["licenseId"] and cred.commitment(c.secret, c.license_id) == int(q["commitment"])
        assert body["apiKey"].startswith("sk_live_")
        (key,) = store.apikeys.values()
        assert key["keyHash"] == cred.hash_api_key(body["apiKey"]) and body["apiKey"] not in str(dict(store.apikeys))
        assert key["commitment"] == q["commitment"] and key["objectKey"] == "QmObject"
        lic = store.licenses[body["licenseId"]]
        assert (lic["usesGranted"], lic["maxUses"], lic["validFrom"], lic["validUntil"]) == (0, 50, NOW, NOW + 3600)
        assert lic["buyer"] == BUYER.address.lower() and lic["creator"] == CREATOR.address.lower()
        assert store.quotes[req.quoteId]["state"] == "REDEEMED" and store.locks == {}
        assert body["terms"]["termsId"] == terms["termsId"] and body["txHash"].startswith("0x")

    def test_insufficient_balance_is_402_before_relaying(self, world):
        svc, store, chain, terms = world
        chain.balances[BUYER.address.lower()] = 499_999
        with pytest.raises(PaymentRequiredError) as e:
            svc.purchase(BUYER.address, permit_request(svc, chain, terms))
        assert e.value.status == 402 and e.value.details == {"balance": 499_999, "amount": 500_000}
        assert chain.sent == [] and store.locks == {}

    def test_less_than_the_price_is_402(self, world):
        svc, _store, chain, terms = world
        with pytest.raises(PaymentRequiredError):
            svc.purchase(BUYER.address, permit_request(svc, chain, terms, value=499_999))
        req = permit_request(svc, chain, terms)
        req.payment.amount = 1
        with pytest.raises(PaymentRequiredError):
            svc.purchase(BUYER.address, req)
        assert chain.sent == []

    def test_a_permit_not_signed_by_the_buyer_is_402_unless_the_allowance_covers_it(self, world):
        svc, _store, chain, terms = world
        q = svc.quote(BUYER.address, terms["termsId"])
        forged = PurchaseRequest.model_validate({"termsId": terms["termsId"], "quoteId": q["quoteId"], "payment": {
            "permit": {"signature": sign(OTHER, q["permit"]["typedData"]),
                       "purchaseSignature": sign(BUYER, q["purchase"]["typedData"]), "deadline": q["permit"]["deadline"]}}})
        with pytest.raises(PaymentRequiredError):
            svc.purchase(BUYER.address, forged)
        assert chain.sent == []
        chain.allowances[BUYER.address.lower()] = 500_000  # e.g. approved earlier: the contract accepts it
        assert svc.purchase(BUYER.address, forged)["licenseId"] == q["licenseId"]

    def test_expired_permit_is_403(self, world):
        svc, _store, chain, terms = world
        req = permit_request(svc, chain, terms)
        req.payment.permit.deadline = NOW - 1
        with pytest.raises(ForbiddenError):
            svc.purchase(BUYER.address, req)

    def test_an_own_purchase_between_quote_and_permit_purchase_leaves_the_quoted_id(self, world):
        """The buyer sends a purchase of their own after the quote: the relayed purchase still gets
        the quoted license id, so its credential opens, and so does the other one's."""
        svc, store, chain, terms = world
        req = permit_request(svc, chain, terms)
        quoted = store.quotes[req.quoteId]
        own = svc.quote(BUYER.address, terms["termsId"])
        receipt = chain.buy(terms, BUYER.address, int(own["credentialCommitment"]), int(own["nonce"]), BUYER.address)
        own_body = svc.purchase(BUYER.address, PurchaseRequest.model_validate({
            "termsId": terms["termsId"], "payment": {"txHash": "0x" + receipt["transactionHash"].hex()}}))
        body = svc.purchase(BUYER.address, req)
        assert body["licenseId"] == quoted["licenseId"] and own_body["licenseId"] == own["licenseId"]
        for b in (body, own_body):
            c = cred.decode_token(b["accessToken"])
            assert c.license_id == b["licenseId"]
            assert cred.commitment(c.secret, c.license_id) == int(store.licenses[b["licenseId"]]["commitment"])

    def test_a_relayed_purchase_needs_its_quote(self, world):
        svc, _store, _chain, terms = world
        q = svc.quote(BUYER.address, terms["termsId"])
        with pytest.raises(PydanticValidationError, match="quoteId"):
            PurchaseRequest.model_validate({"termsId": terms["termsId"], "payment": {"permit": {
                "signature": sign(BUYER, q["permit"]["typedData"]),
                "purchaseSignature": sign(BUYER, q["purchase"]["typedData"]), "deadline": q["permit"]["deadline"]}}})

    def test_the_purchase_typed_data_names_the_quotes_terms_commitment_and_nonce(self, world):
        svc, _store, _chain, terms = world
        q = svc.quote(BUYER.address, terms["termsId"])
        data = q["purchase"]["typedData"]
        assert data["primaryType"] == "Purchase" and data["domain"]["verifyingContract"] == MANAGER
        assert data["message"] == {"termsId": terms["termsId"], "credentialCommitment": q["credentialCommitment"],
                                   "nonce": q["nonce"], "deadline": str(q["permit"]["deadline"])}

    @pytest.mark.parametrize("forge", ["other-signer", "other-quote"])
    def test_a_purchase_signature_that_is_not_the_buyers_for_this_quote_sends_nothing(self, world, forge):
        svc, _store, chain, terms = world
        q = svc.quote(BUYER.address, terms["termsId"])
        other = svc.quote(BUYER.address, terms["termsId"])
        signed = sign(OTHER, q["purchase"]["typedData"]) if forge == "other-signer" else \
            sign(BUYER, other["purchase"]["typedData"])
        req = permit_request(svc, chain, terms, quote=q, purchaseSignature=signed)
        with pytest.raises(ForbiddenError, match="purchaseSignature"):
            svc.purchase(BUYER.address, req)
        assert chain.sent == []

    def test_one_send_per_quote_at_a_time(self, world):
        svc, store, chain, terms = world
        busy = permit_request(svc, chain, terms)
        store.locks.put({"pk": f"lock#purchase#{busy.quoteId}", "ttl": NOW + 100})  # another request sends it
        with pytest.raises(ConflictError):
            svc.purchase(BUYER.address, busy)
        assert chain.sent == []
        # the buyer's other quotes are not held up
        assert svc.purchase(BUYER.address, permit_request(svc, chain, terms))["status"] == "PURCHASED"

    def test_a_quote_is_redeemed_once(self, world):
        svc, _store, chain, terms = world
        req = permit_request(svc, chain, terms)
        svc.purchase(BUYER.address, req)
        with pytest.raises(ConflictError):
            svc.purchase(BUYER.address, req)
        assert len(chain.sent) == 1

    def test_a_retry_after_a_lost_answer_finds_the_sent_purchase(self, world):
        svc, store, chain, terms = world
        req = permit_request(svc, chain, terms)
        q = store.quotes[req.quoteId]
        chain.buy(terms, BUYER.address, int(q["commitment"]), int(q["nonce"]), "relayer")  # sent, then it died
        q["state"] = "SENDING"
        body = svc.purchase(BUYER.address, req)
        assert body["licenseId"] == q["licenseId"] and chain.sent == []

    def test_someone_elses_quote_is_not_found(self, world):
        svc, _store, chain, terms = world
        q = svc.quote(OTHER.address, terms["termsId"])
        chain.balances[OTHER.address.lower()] = 10**9
        with pytest.raises(NotFoundError):
            svc.purchase(BUYER.address, permit_request(svc, chain, terms, quote=q))

    def test_known_reverts_become_client_errors_and_release_the_lock(self, world):
        svc, store, chain, terms = world
        chain.revert = "License__TermsInactive"
        with pytest.raises(ConflictError):
            svc.purchase(BUYER.address, permit_request(svc, chain, terms))
        chain.revert = "License__LicenseExists"
        with pytest.raises(ConflictError):
            svc.purchase(BUYER.address, permit_request(svc, chain, terms))
        chain.revert = "Panic"
        with pytest.raises(BlockchainError):
            svc.purchase(BUYER.address, permit_request(svc, chain, terms))
        assert store.locks == {}


class TestPurchaseWithOwnTransaction:
    def _self_sent(self, svc, chain, terms, account=BUYER):
        q = svc.quote(account.address, terms["termsId"])
        receipt = chain.buy(terms, account.address, int(q["credentialCommitment"]), int(q["nonce"]), account.address)
        return q, "0x" + receipt["transactionHash"].hex()

    def _req(self, terms, tx, quote_id=None):
        return PurchaseRequest.model_validate({"termsId": terms["termsId"], "quoteId": quote_id,
                                               "payment": {"txHash": tx}})

    def test_verified_purchase_issues_the_credential_found_by_its_commitment(self, world):
        svc, _store, chain, terms = world
        q, tx = self._self_sent(svc, chain, terms)
        body = svc.purchase(BUYER.address, self._req(terms, tx))  # no quoteId: found by the commitment
        assert body["licenseId"] == q["licenseId"] and body["txHash"] == tx
        c = cred.decode_token(body["accessToken"])
        assert cred.commitment(c.secret, c.license_id) == int(q["credentialCommitment"])
        with pytest.raises(ConflictError):  # posted twice
            svc.purchase(BUYER.address, self._req(terms, tx))

    def test_unknown_reverted_or_foreign_transactions_are_refused(self, world):
        svc, _store, chain, terms = world
        with pytest.raises(ConflictError):
            svc.purchase(BUYER.address, self._req(terms, h(777)))
        _, tx = self._self_sent(svc, chain, terms)
        with pytest.raises(ValidationError):  # not OTHER's purchase
            svc.purchase(OTHER.address, self._req(terms, tx))
        chain.receipts[tx]["status"] = 0
        with pytest.raises(ValidationError):
            svc.purchase(BUYER.address, self._req(terms, tx))

    def test_a_commitment_the_platform_did_not_issue_is_refused(self, world):
        svc, _store, chain, terms = world
        receipt = chain.buy(terms, BUYER.address, 12345, 0, BUYER.address)
        with pytest.raises(NotFoundError):
            svc.purchase(BUYER.address, self._req(terms, "0x" + receipt["transactionHash"].hex()))

    def test_the_quotes_commitment_sent_without_its_nonce_is_a_conflict(self, world):
        svc, store, chain, terms = world
        q = svc.quote(BUYER.address, terms["termsId"])
        receipt = chain.buy(terms, BUYER.address, int(q["credentialCommitment"]), int(q["nonce"]) ^ 1, BUYER.address)
        with pytest.raises(ConflictError):
            svc.purchase(BUYER.address, self._req(terms, "0x" + receipt["transactionHash"].hex()))
        assert store.licenses == {}


# --------------------------------------------------------------------------------------------
# Licenses, revocation, keys
# --------------------------------------------------------------------------------------------


@pytest.fixture
def bought(world):
    svc, _store, chain, terms = world
    return svc.purchase(BUYER.address, permit_request(svc, chain, terms))


class TestLicense:
    def test_buyer_and_creator_see_it_others_do_not(self, world, bought):
        svc, _store, _chain, _terms = world
        mine = svc.get_license(BUYER.address, bought["licenseId"])
        assert mine["status"] == "PURCHASED" and mine["buyer"] == BUYER.address.lower()
        assert len(mine["apiKeys"]) == 1 and mine["apiKeys"][0]["prefix"] == bought["apiKey"][:12] + "…"
        theirs = svc.get_license(CREATOR.address, bought["licenseId"])
        assert "buyer" not in theirs and "apiKeys" not in theirs and theirs["maxUses"] == 50
        with pytest.raises(ForbiddenError):
            svc.get_license(OTHER.address, bought["licenseId"])
        with pytest.raises(NotFoundError):
            svc.get_license(BUYER.address, h(5))

    def test_revocation_is_the_creators_and_signed(self, world, bought):
        svc, store, chain, _terms = world
        lid = bought["licenseId"]
        with pytest.raises(ForbiddenError):
            svc.revoke(BUYER.address, lid, RevokeRequest())
        challenge = svc.revoke(CREATOR.address, lid, RevokeRequest())
        assert challenge["typedData"]["primaryType"] == "RevokeLicense"
        assert challenge["typedData"]["message"]["licenseId"] == lid
        with pytest.raises(ForbiddenError):
            svc.revoke(CREATOR.address, lid, RevokeRequest(signature=sign(OTHER, challenge["typedData"]),
                                                          deadline=challenge["deadline"]))
        view = svc.revoke(CREATOR.address, lid, RevokeRequest(signature=sign(CREATOR, challenge["typedData"]),
                                                              deadline=challenge["deadline"]))
        assert view["status"] == "REVOKED" and store.licenses[lid]["revokedAt"] == NOW + 5
        assert chain.sent[-1][0] == "revokeWithSig" and chain.sent[-1][1][0] == bytes.fromhex(lid[2:])
        with pytest.raises(ConflictError):
            svc.revoke(CREATOR.address, lid, RevokeRequest())

    def test_rotating_the_key_revokes_the_old_one_and_shows_the_token_again(self, world, bought):
        svc, store, _chain, _terms = world
        lid = bought["licenseId"]
        with pytest.raises(ForbiddenError):
            svc.rotate_key(CREATOR.address, lid)
        fresh = svc.rotate_key(BUYER.address, lid)
        assert fresh["accessToken"] == bought["accessToken"] and fresh["apiKey"] != bought["apiKey"]
        assert store.apikeys[cred.hash_api_key(bought["apiKey"])]["revokedAt"] == NOW
        assert store.apikeys[cred.hash_api_key(fresh["apiKey"])].get("revokedAt") is None
        assert svc.revoke_keys(BUYER.address, lid) == {"licenseId": lid, "revoked": 1}
        with pytest.raises(ForbiddenError):
            svc.revoke_keys(OTHER.address, lid)
