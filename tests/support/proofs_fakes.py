"""A chain for ``marketplace.proofs`` services in memory: licenses, payments, contents, and the
UsageTracker's proof recording done as the contract does it (signals built from chain state, the
Groth16 proof checked with py_ecc, one record per proof id)."""

from __future__ import annotations

import hashlib
import random
from typing import Any

from marketplace.proofs.engine import FoldsEngine
from marketplace.proofs.fakes import (
    MemoryContentInfo,
    MemoryLicenseRecords,
    MemoryProofStore,
    MemoryReportFiles,
)
from marketplace.proofs.services import Proofs
from marketplace.usage.fakes import MemoryBatchRecords
from marketplace.zk import folds
from marketplace.zk.field import P
from marketplace.zk.inputs import BatchRecord, fold_chain

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


# -- a small world of two licenses (one revoked with unpaid signed uses), for the service and route tests --

BUYER = "0x" + "b1" * 20
OTHER = "0x" + "0e" * 20
CREATOR = "0x" + "c1" * 20
CID = "0x" + "cc" * 32
LIC_OK, LIC_REVOKED = "0x" + "11" * 32, "0x" + "22" * 32
PRICE, MAX_USES = 1_003, 100
VALID_FROM = 1_900_000_000
VALID_UNTIL = VALID_FROM + 30 * 86400
# per-use times the platform served (private: they must appear nowhere public)
SERVED_TIMES = [VALID_FROM + 3_605 + 17 * i for i in range(9)]  # inside the windows, not their bounds


def world(tmp_records=None):
    chain, batches, served = MemoryChain(), MemoryBatchRecords(), MemoryLicenseRecords()
    chain.now = VALID_FROM + 5 * 86400
    rng = random.Random(7)
    chain.creators[CID] = CREATOR
    for lid, counts, revoked in ((LIC_OK, (4, 3), False), (LIC_REVOKED, (2,), True)):
        records, start = [], 0
        for i, n in enumerate(counts):
            ws = VALID_FROM + 3_600 * (1 + 2 * i)
            rec = BatchRecord(rng.randrange(P), n, ws, ws + 3_600)
            records.append(rec)
            batches.put(lid, start, {**rec.to_dict()}, batch_id=f"0x{lid[2:4]}{start:062x}", tx_hash=None)
            chain.logged.setdefault(lid, []).append({"batchId": f"0x{start:064x}", "count": n, "startIndex": start})
            chain.paid.setdefault(lid, []).append({"batchId": f"0x{start:064x}", "uses": n,
                                                   "creatorAmount": n * PRICE - n * PRICE * 250 // 10_000,
                                                   "platformFee": n * PRICE * 250 // 10_000})
            start += n
        chain.licenses[lid] = {"contentId": CID, "licensee": BUYER, "validFrom": VALID_FROM, "validUntil": VALID_UNTIL,
                               "revoked": revoked, "chain": fold_chain(records), "uses": start, "maxUses": MAX_USES,
                               "pricePerUse": PRICE}
        chain.used.setdefault(CID, []).append(lid)
    served.served_times[LIC_OK] = SERVED_TIMES[:7]  # every served use settled
    served.served_times[LIC_REVOKED] = SERVED_TIMES  # 9 served, 2 settled, then revoked: 7 never paid
    jobs = []
    svc = Proofs(engine=FoldsEngine(), chain=chain, store=MemoryProofStore(), files=MemoryReportFiles(),
                 licenses=served, batches=batches, content=MemoryContentInfo({CID: {"title": "Street scenes"}}),
                 public_base_url="https://market.example", start_job=jobs.append, clock=lambda: chain.now)
    return svc, chain, jobs
