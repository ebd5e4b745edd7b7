"""The proving engine behind ``ports.ProofEngine``: ``marketplace.zk.folds`` (chunked, unbounded
compliance and aggregate proofs: one Groth16 proof per chunk of at most 32 batch records (and 8
licenses for an aggregate), linked by a salted state commitment, chunk i's ``stateIn`` being chunk
i-1's ``stateOut``; all recorded and checked on chain in one transaction)."""

from __future__ import annotations

import functools
import math
from typing import Any

from marketplace.zk import folds
from marketplace.zk.inputs import AGGREGATE_L, AGGREGATE_M, COMPLIANCE_B

KINDS = ("compliance", "aggregate")


class FoldsEngine:
    def chunk_count(self, kind: str, batches: int, licenses: int) -> int:
        if kind == "compliance":
            return max(1, math.ceil(batches / COMPLIANCE_B))
        # greedy packing (inputs.plan_aggregate_chunks): at least this many, a few more when a
        # license's records straddle a chunk's slots
        return max(1, math.ceil(batches / AGGREGATE_M), math.ceil(licenses / AGGREGATE_L))

    def prove_compliance(self, records, *, max_uses, price_per_use, valid_from, valid_until, chain, domain,
                         progress=None):
        return folds.prove_compliance(records, max_uses=max_uses, price_per_use=price_per_use,
                                      valid_from=valid_from, valid_until=valid_until, chain=chain, domain=domain,
                                      progress=progress)

    def prove_aggregate(self, licenses, domain, progress=None):
        return folds.prove_aggregate(licenses, domain, progress=progress)

    def compliance_outputs(self, chunks) -> dict[str, int]:
        out = folds.compliance_outputs(chunks)
        return {"totalUses": int(out.total_uses), "totalPaid": int(out.total_paid), "compliant": int(out.compliant)}

    def aggregate_outputs(self, chunks) -> dict[str, int]:
        out = folds.aggregate_outputs(chunks)
        return {"totalUses": int(out.total_uses), "totalRevenue": int(out.total_revenue),
                "uniqueLicensees": int(out.unique_licensees), "fromTs": int(out.from_ts), "toTs": int(out.to_ts)}

    def call_args(self, kind: str, chunks) -> tuple:
        return tuple(folds.compliance_call_args(chunks) if kind == "compliance" else folds.aggregate_call_args(chunks))

    def chunks_from_call(self, kind: str, args: dict[str, Any], event_signals: list[int]):
        return folds.chunks_from_call(kind, args)

    def verify(self, kind: str, chunks, context: dict[str, Any]) -> bool:
        if kind == "compliance":
            return bool(folds.verify_compliance(
                chunks, max_uses=context["maxUses"], price_per_use=context["pricePerUse"],
                valid_from=context["validFrom"], valid_until=context["validUntil"], chain=context["chain"],
                domain=context["domain"]))
        return bool(folds.verify_aggregate(chunks, chains=context["chains"], prices=context["prices"],
                                           domain=context["domain"]))


@functools.cache
def engine() -> FoldsEngine:
    return FoldsEngine()
