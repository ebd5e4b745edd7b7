"""A deployed marketplace and the scenario steps the tests and bench/gas.py share: register content
with a real authenticity proof, create terms, buy licenses (directly, or relayed with the buyer's
EIP-712 ``Purchase`` signature), register the buyer's usage signers (worker keys), sign accesses
as a buyer's worker does, log usage batches with real usage-batch proofs and the workers'
signatures, and prove compliance and aggregate statistics.

Proofs are made with the ZK helper's API (``marketplace.zk.prove`` and the input builders) and
memoised by their inputs: after ``evm_revert`` the same scenario step needs the same proof again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from marketplace.zk import prove
from marketplace.zk.field import P
from marketplace.zk.folds import ChunkProof, prove_aggregate, prove_compliance
from marketplace.zk.inputs import (
    BatchRecord,
    LicenseBatches,
    UsageEvent,
    authenticity_inputs,
    call_hash,
    credential_commitment,
    usage_batch_inputs,
)

from tests.support.chainkit import Chain, content_hash

USDC = 10**6
HOUR = 3600

PURCHASE_TYPES = {"Purchase": [
    {"name": "termsId", "type": "bytes32"}, {"name": "credentialCommitment", "type": "uint256"},
    {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"}]}
ACCESS_TYPES = {"AccessRequest": [
    {"name": "licenseId", "type": "bytes32"}, {"name": "counter", "type": "uint64"},
    {"name": "requestHash", "type": "bytes32"}]}
SIGNER_TYPES = {name: [{"name": "licenseId", "type": "bytes32"}, {"name": "signer", "type": "address"},
                       {"name": "nonce", "type": "uint256"}, {"name": "deadline", "type": "uint256"}]
                for name in ("AddUsageSigner", "RevokeUsageSigner")}


def _secret(*parts: Any) -> int:
    """A deterministic test secret (field element) from labels."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest(), "big") % P


@cache
def _prove(circuit: str, frozen_inputs: tuple) -> tuple[list[int], list[int]]:
    result = prove(circuit, _thaw(frozen_inputs))
    return result.proof.calldata(), [int(s) for s in result.public_signals]


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("__list__", tuple(_freeze(v) for v in value))
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple) and value and value[0] == "__list__":
        return [_thaw(v) for v in value[1]]
    if isinstance(value, tuple):
        return {k: _thaw(v) for k, v in value}
    return value


@cache
def _fold_cached(kind: str, *args: Any) -> list[ChunkProof]:
    """Chunked compliance/aggregate proofs, made once per distinct records and context (their
    salts are random, so inputs differ between provings: memoised by what they prove)."""
    if kind == "compliance":
        records, max_uses, price, valid_from, valid_until, chain, domain = args
        return prove_compliance(list(records), max_uses=max_uses, price_per_use=price, valid_from=valid_from,
                                valid_until=valid_until, chain=chain, domain=domain)
    slots, domain = args
    return prove_aggregate([LicenseBatches(list(r), p, c) for r, p, c in slots], domain)


def prove_cached(circuit: str, inputs: dict) -> tuple[list[int], list[int]]:
    """(proof calldata, public signals) for ``inputs``, proved once per distinct input."""
    return _prove(circuit, _freeze(inputs))


@dataclass
class LicenseHandle:
    """What the backend keeps about a license it sold: the id, the buyer's credential secret
    (the access token) and the batch records of its proven usage."""

    license_id: bytes
    terms_id: bytes
    buyer: str
    secret: int
    nonce: int  # the purchase's nonce: license_id = licenseIdFor(terms_id, buyer, nonce)
    records: list[BatchRecord] = field(default_factory=list)
    workers: list[LocalAccount] = field(default_factory=list)  # usage signers registered by purchase()

    @property
    def uses(self) -> int:
        return sum(r.count for r in self.records)

    @property
    def commitment(self) -> int:
        """The credential commitment stored with the license at purchase."""
        return credential_commitment(self.secret, self.license_id)


def worker_key(*labels: Any) -> LocalAccount:
    """A buyer's worker key (a usage signer): deterministic from labels, never the platform's."""
    return Account.from_key(hashlib.sha256(repr(("worker",) + labels).encode()).digest())


def request_hash(license_id: bytes, signer: str, counter: int) -> bytes:
    """What a worker's client puts in ``requestHash``: a hash of the request's details with a
    random salt (here deterministic, so that replayed scenarios sign the same messages)."""
    return hashlib.sha256(repr(("request", license_id, signer, counter)).encode()).digest()


def compact(signature: bytes) -> tuple[bytes, bytes]:
    """(r, vs) of a 65-byte signature (EIP-2098)."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return r, ((v - 27) << 255 | s).to_bytes(32, "big")


@dataclass
class Market:
    chain: Chain
    deployment: dict[str, Any]

    @classmethod
    def deploy(cls, chain: Chain, token: str | None = None) -> Market:
        from contracts.deploy import deploy

        mint_to = [] if token else [chain.buyer, chain.buyer2, chain.other]
        deployment = deploy(chain.node.url, chain.keys["deployer"], relayer=chain.relayer,
                            platform=chain.platform, token=token, mint_to=mint_to)
        return cls(chain, deployment)

    def address(self, name: str) -> str:
        return self.deployment["contracts"][name]

    @property
    def registry(self):
        return self.chain.contract("ContentRegistry", self.address("ContentRegistry"))

    @property
    def manager(self):
        return self.chain.contract("LicenseManager", self.address("LicenseManager"))

    @property
    def escrow(self):
        return self.chain.contract("PaymentEscrow", self.address("PaymentEscrow"))

    @property
    def tracker(self):
        return self.chain.contract("UsageTracker", self.address("UsageTracker"))

    @property
    def token(self):
        return self.chain.contract("MockStablecoin", self.address("Stablecoin"))

    # -- Flow 1: registration -------------------------------------------------------------------

    def creator_secret(self, creator: str) -> int:
        return _secret("creator", creator)

    def registration_args(self, creator: str, data: bytes, *, secret: int | None = None,
                          timestamp: int | None = None, window: tuple[int, int] | None = None) -> tuple:
        """registerContent's arguments for ``data`` by ``creator``, with a real authenticity proof:
        ``(contentHash, cidDigest, creator, creatorCommitment, timestampCommitment, notBefore,
        notAfter, proof)``. The timestamp defaults to the latest block's time (the next block's
        is later, so the registry accepts it), the window to [timestamp, timestamp]."""
        digest = content_hash(data)
        timestamp = self.chain.now() if timestamp is None else timestamp
        not_before, not_after = window or (timestamp, timestamp)
        inputs = authenticity_inputs(
            self.creator_secret(creator) if secret is None else secret, digest,
            timestamp=timestamp, salt=_secret("salt", data),
            domain=self.registry.functions.domain().call(), not_before=not_before, not_after=not_after)
        proof, signals = prove_cached("authenticity", inputs)
        assert signals[4:6] == [not_before, not_after]
        cid_digest = hashlib.sha256(b"dag-pb" + data).digest()
        return digest, cid_digest, creator, signals[0], signals[1], not_before, not_after, proof

    def register(self, creator: str, data: bytes, sender: str | None = None) -> bytes:
        """Registers ``data`` for ``creator`` (sent by the relayer unless ``sender``); the contentId."""
        receipt = self.chain.send(self.registry.functions.registerContent(*self.registration_args(creator, data)),
                                  sender or self.chain.relayer)
        return self.chain.events(self.registry, receipt, "ContentRegistered")[0]["contentId"]

    # -- Flow 2: terms and purchase -------------------------------------------------------------

    def create_terms(self, creator: str, content_id: bytes, price: int = USDC // 2, max_uses: int = 100,
                     duration: int = 30 * 86400, license_type: int = 0) -> bytes:
        receipt = self.chain.send(
            self.manager.functions.createTerms(content_id, license_type, price, max_uses, duration), creator)
        return self.chain.events(self.manager, receipt, "TermsCreated")[0]["termsId"]

    def unused_nonce(self, buyer: str, terms_id: bytes) -> int:
        """The smallest purchase nonce ``buyer`` has not used under ``terms_id``. The backend draws
        a random one; here it is a function of the chain's state, so that a scenario replayed after
        ``evm_revert`` buys the same license ids and reuses its memoised proofs."""
        nonce = 0
        manager = self.manager.functions
        while manager.licenseState(manager.licenseIdFor(terms_id, buyer, nonce).call()).call() != 0:  # not NONE
            nonce += 1
        return nonce

    def new_credential(self, buyer: str, terms_id: bytes, nonce: int | None = None) -> LicenseHandle:
        """The license a purchase by ``buyer`` under ``terms_id`` with ``nonce`` (default: an unused
        one) creates, with a credential secret bound to that licenseId (what the backend's quote
        does before anything is sent)."""
        nonce = self.unused_nonce(buyer, terms_id) if nonce is None else nonce
        license_id = self.manager.functions.licenseIdFor(terms_id, buyer, nonce).call()
        return LicenseHandle(license_id, terms_id, buyer, _secret("credential", buyer, license_id), nonce)

    def purchase(self, buyer: str, terms_id: bytes, *, approve: bool = True,
                 lic: LicenseHandle | None = None, workers: int = 1) -> LicenseHandle:
        """Approve-path purchase (approving exactly the quote unless ``approve`` is false) of ``lic``
        (a ``new_credential`` made earlier) or of a new credential; then the buyer registers
        ``workers`` usage signers (``lic.workers``)."""
        lic = lic or self.new_credential(buyer, terms_id)
        if approve:
            amount = self.manager.functions.quote(terms_id).call()
            self.chain.send(self.token.functions.approve(self.escrow.address, amount), buyer)
        receipt = self.chain.send(self.manager.functions.purchase(terms_id, lic.commitment, lic.nonce), buyer)
        assert self.chain.events(self.manager, receipt, "LicensePurchased")[0]["licenseId"] == lic.license_id
        for _ in range(workers):
            self.add_worker(lic)
        return lic

    def domain(self) -> dict:
        """The LicenseManager's EIP-712 domain (every signature the marketplace checks)."""
        return {"name": "LicenseManager", "version": "1", "chainId": self.chain.w3.eth.chain_id,
                "verifyingContract": self.manager.address}

    def sign_purchase(self, role: str, terms_id: bytes, commitment: int, nonce: int, deadline: int) -> bytes:
        """The buyer's EIP-712 ``Purchase`` signature a relayed purchase needs."""
        message = {"termsId": terms_id, "credentialCommitment": commitment, "nonce": nonce, "deadline": deadline}
        return self.chain.sign_typed(role, self.domain(), PURCHASE_TYPES, "Purchase", message)

    def relayed_purchase_args(self, role: str, terms_id: bytes, lic: LicenseHandle | None = None,
                              deadline: int | None = None, sign: bool = True) -> tuple[tuple, LicenseHandle]:
        """purchaseWithPermit's arguments as the relayer sends them: the buyer's (``role``) permit
        for exactly the quote and its ``Purchase`` signature (empty if not ``sign``)."""
        buyer = self.chain.accounts[role]
        lic = lic or self.new_credential(buyer, terms_id)
        amount = self.manager.functions.quote(terms_id).call()
        deadline = deadline or self.chain.now() + HOUR
        v, r, s = self.chain.permit(role, self.token, self.escrow.address, amount, deadline)
        signature = self.sign_purchase(role, terms_id, lic.commitment, lic.nonce, deadline) if sign else b""
        return (terms_id, buyer, lic.commitment, lic.nonce, deadline, v, r, s, signature), lic

    # -- Flow 4: the buyer's usage signers --------------------------------------------------------

    def add_worker(self, lic: LicenseHandle, key: LocalAccount | None = None) -> LocalAccount:
        """The licensee registers a worker key (sent by the buyer itself)."""
        key = key or worker_key(lic.license_id, len(lic.workers))
        self.chain.send(self.manager.functions.addUsageSigner(lic.license_id, key.address), lic.buyer)
        lic.workers.append(key)
        return key

    def sign_signer_change(self, role: str, kind: str, license_id: bytes, signer: str,
                           deadline: int | None = None) -> tuple:
        """(licenseId, signer, deadline, signature) of the licensee's ``AddUsageSigner`` or
        ``RevokeUsageSigner`` (``kind``) for a relayed call."""
        licensee = self.chain.accounts[role]
        message = {"licenseId": license_id, "signer": signer,
                   "nonce": self.manager.functions.nonces(licensee).call(),
                   "deadline": deadline or self.chain.now() + HOUR}
        sig = self.chain.sign_typed(role, self.domain(), {kind: SIGNER_TYPES[kind]}, kind, message)
        return license_id, signer, message["deadline"], sig

    def sign_access(self, key: LocalAccount, license_id: bytes, counter: int,
                    req: bytes | None = None) -> tuple[int, bytes, bytes, bytes]:
        """A worker's signed ``AccessRequest`` as the contract takes it: (counter, requestHash, r, vs)."""
        req = req if req is not None else request_hash(license_id, key.address, counter)
        message = {"licenseId": license_id, "counter": counter, "requestHash": req}
        signable = encode_typed_data(full_message={
            "types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                       {"name": "chainId", "type": "uint256"},
                                       {"name": "verifyingContract", "type": "address"}], **ACCESS_TYPES},
            "primaryType": "AccessRequest", "domain": self.domain(), "message": message})
        r, vs = compact(bytes(key.sign_message(signable).signature))
        return counter, req, r, vs

    def settled_counter(self, lic: LicenseHandle, signer: str) -> int:
        return self.manager.functions.usageSigner(lic.license_id, signer).call()[2]

    def signed_uses(self, lic: LicenseHandle, split: dict[LocalAccount, int] | int) -> list[tuple]:
        """The accesses that make uses billable: per worker, its latest signature, ``n`` served
        uses past its settled counter (``split`` maps worker -> n; an int means the first worker)."""
        if isinstance(split, int):
            split = {lic.workers[0]: split}
        return [self.sign_access(key, lic.license_id, self.settled_counter(lic, key.address) + n)
                for key, n in split.items() if n]

    # -- Flows 3-4: usage batches ---------------------------------------------------------------

    def batch_args(self, lic: LicenseHandle, count: int, window: tuple[int, int] | None = None,
                   start_index: int | None = None, accesses: list[tuple] | None = None) -> tuple[tuple, BatchRecord]:
        """logUsageBatch's arguments for the license's next ``count`` uses (window: from the
        license's start to the latest block unless given; accesses: the first worker's signature
        of ``count`` more uses unless given), and the batch record. ``start_index`` overrides the
        first use's sequence number (the license's uses so far) to build a proof the contract
        must refuse."""
        onchain = self.manager.functions.getLicense(lic.license_id).call()
        valid_from, chain_old, uses = onchain[2], onchain[6], onchain[7]
        if start_index is not None:
            uses = start_index
        start, end = window or (valid_from, self.chain.now())
        events = [UsageEvent(start + (end - start) * i // max(count - 1, 1),
                             call_hash(f"/content/{lic.license_id.hex()}/access", "POST", "203.0.113.7", f"req-{uses + i}"))
                  for i in range(count)]
        inputs = usage_batch_inputs(lic.secret, lic.license_id, chain_old, uses, events, start, end,
                                    self.tracker.functions.domain().call())
        proof, signals = prove_cached("usage_batch", inputs)
        record = BatchRecord.from_usage_inputs(inputs)
        assert record.next_chain(chain_old) == signals[0]
        if accesses is None:
            accesses = self.signed_uses(lic, count)
        return (lic.license_id, count, start, end, signals[0], proof, accesses), record

    def log_batch(self, lic: LicenseHandle, count: int, window: tuple[int, int] | None = None,
                  accesses: list[tuple] | None = None) -> dict:
        """Logs the next ``count`` uses with a real proof and the buyer's workers' signatures (the
        first worker's unless ``accesses``), sent by the relayer; the receipt."""
        args, record = self.batch_args(lic, count, window, accesses=accesses)
        receipt = self.chain.send(self.tracker.functions.logUsageBatch(*args), self.chain.relayer)
        lic.records.append(record)
        return receipt

    # -- Flows 5-6: compliance and aggregate proofs ---------------------------------------------

    def compliance_proof(self, lic: LicenseHandle) -> list[ChunkProof]:
        """The license's compliance proof (chunks) against its on-chain chain and terms now."""
        onchain = self.manager.functions.getLicense(lic.license_id).call()
        return _fold_cached("compliance", tuple(lic.records), onchain[8], onchain[9], onchain[2], onchain[3],
                            onchain[6], self.tracker.functions.domain().call())

    def aggregate_proof(self, content_id: bytes, licenses: dict[bytes, LicenseHandle]) -> list[ChunkProof]:
        """The content's aggregate proof (chunks) over its used licenses in the tracker's order."""
        ids, chains, prices = self.tracker.functions.aggregateInputs(content_id).call()
        slots = tuple((tuple(licenses[i].records), prices[s], chains[s]) for s, i in enumerate(ids))
        return _fold_cached("aggregate", slots, self.tracker.functions.domain().call())
