"""A chain for ``marketplace.proofs`` services in memory: licenses, payments, contents, and the
UsageTracker's proof recording done as the contract does it (signals built from chain state, the
Groth16 proof checked with py_ecc, one record per proof id)."""

from __future__ import annotations

import hashlib
from typing import Any

from marketplace.zk import folds

DOMAIN = 987654321


class Refused(Exception):
    pass


class MemoryChain:
    def __init__(self) -> None:
        self.licenses: dict[str, dict[str, Any]] = {}
        self.creators: dict[str, str] = {}
        self.used: dict[str, list[str]] = {}
        self.paid: dict[str, list[dict[str, Any]]] = {}
        self.logged: dict[str, list[dict[str, Any]]] = {}
        self.proofs: dict[str, dict[str, Any]] = {}
        self.now = 2_000_000_000
        self.block = 100
        self.grace = 3600
        self.sent = 0

    def license(self, license_id, block=None):
        lic = self.licenses.get(license_id)
        return dict(lic) if lic else None

    def settlement_grace(self):
        return self.grace

    def domain(self):
        return DOMAIN

    def block_time(self):
        return self.now

    def head(self):
        return self.block

    def creator_of(self, content_id):
        return self.creators.get(content_id)

    def used_licenses(self, content_id, block=None):
        return list(self.used.get(content_id, []))

    def logged_batches(self, license_id):
        return list(self.logged.get(license_id, []))

    def payments(self, license_id):
        return list(self.paid.get(license_id, []))

    def record(self, kind, subject, args, context):
        chunks = folds.chunks_from_call(kind, list(args))
        if kind == "compliance":
            lic = self.licenses[subject]
            ok = folds.verify_compliance(chunks, chain=lic["chain"], max_uses=lic["maxUses"],
                                         price_per_use=lic["pricePerUse"], valid_from=lic["validFrom"],
                                         valid_until=lic["validUntil"], domain=DOMAIN)
            signals = folds.compliance_record_signals(chunks)
        else:
            ids = self.used.get(subject, [])
            ok = folds.verify_aggregate(chunks, chains=[self.licenses[i]["chain"] for i in ids],
                                        prices=[self.licenses[i]["pricePerUse"] for i in ids], domain=DOMAIN)
            signals = folds.aggregate_record_signals(chunks)
        if not ok:
            raise Refused("Tracker__InvalidProof")
        proof_id = "0x" + hashlib.sha3_256(repr((kind, subject, signals)).encode()).hexdigest()
        if proof_id in self.proofs:
            raise Refused(f"Tracker__ProofAlreadyRecorded({proof_id})")
        self.block += 1
        self.sent += 1
        tx = "0x" + hashlib.sha256(proof_id.encode()).hexdigest()
        self.proofs[proof_id] = {"proofId": proof_id, "kind": kind, "subject": subject, "publicSignals": signals,
                                 "txHash": tx, "blockNumber": self.block, "recordedAt": self.now,
                                 "args": {"chunks": args[0]}}
        return {"proofId": proof_id, "txHash": tx, "blockNumber": self.block}

    def proof_record(self, proof_id):
        rec = self.proofs.get(proof_id)
        return dict(rec) if rec else None
