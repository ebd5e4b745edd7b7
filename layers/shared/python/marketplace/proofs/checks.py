"""Flow 5's three checks, from what each one can honestly rest on (no I/O here).

The compliance proof opens the license's **proven** batches (their records fold to the license's
on-chain chain value); the contract already refused any batch over ``maxUses`` or outside the
validity, and settlement pays a batch in the transaction that logs it, so over proven batches the
checks pass by construction. What can go wrong is usage the platform **served** (each use signed by
one of the licensee's worker keys) that never reached the chain: a license revoked, or expired past
the settlement grace, with signed uses pending is never paid for them. Each check therefore says
what comes from the proof, what from chain state and what from the platform's usage records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Check:
    name: str  # usage_limit | validity | payment
    title: str
    passed: bool
    detail: str
    sources: tuple[str, ...]
    figures: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "passed": self.passed, "detail": self.detail,
                "sources": list(self.sources), "figures": dict(self.figures)}


@dataclass(frozen=True)
class Facts:
    """Everything the checks read; ``proof`` is the compliance proof's outputs."""

    max_uses: int
    price_per_use: int
    valid_from: int
    valid_until: int
    revoked: bool
    settled_uses: int  # LicenseManager usageContext.uses (proven, logged and paid batches)
    now: int  # chain time
    settlement_grace: int
    proof: dict[str, int]  # totalUses, totalPaid, compliant
    windows: list[tuple[int, int]]  # the proven batches' windows (their records, opened by the proof)
    paid_uses: int  # Σ PaymentReleased.uses of the license's batches (escrow)
    paid_amount: int  # Σ creatorAmount + platformFee
    served_uses: int  # uses the platform served, each signed by a worker key of the licensee
    served_outside_validity: int
    # the UsageTracker's UsageLogged batches (batchId -> uses) and the escrow's PaymentReleased (batchId -> uses)
    logged: dict[str, int] = field(default_factory=dict)
    paid: dict[str, int] = field(default_factory=dict)


def settlement_closed(f: Facts) -> bool:
    """No batch can be logged any more: revoked, or expired past the settlement grace."""
    return f.revoked or f.now > f.valid_until + f.settlement_grace


def evaluate(f: Facts) -> list[Check]:
    proven = f.proof["totalUses"]
    in_validity = all(f.valid_from <= ws <= we <= f.valid_until for ws, we in f.windows)

    limit_ok = proven <= f.max_uses and f.served_uses <= f.max_uses
    limit = Check(
        "usage_limit", "Usage within maxUses", limit_ok,
        f"{proven} proven uses and {f.served_uses} served uses against maxUses {f.max_uses}"
        + ("" if limit_ok else ": over the limit"),
        ("proof: totalUses", "chain: LicenseManager maxUses", "platform: served uses"),
        {"provenUses": proven, "servedUses": f.served_uses, "maxUses": f.max_uses})

    validity_ok = in_validity and bool(f.proof["compliant"] or proven > f.max_uses) and f.served_outside_validity == 0
    validity = Check(
        "validity", "Usage inside the license's validity", validity_ok,
        (f"all {len(f.windows)} proven batch windows inside the validity"
         if in_validity else "a proven batch window lies outside the validity")
        + (f"; {f.served_outside_validity} served uses outside it" if f.served_outside_validity else ""),
        ("proof: compliant (every opened window inside validFrom..validUntil)",
         "chain: LicenseManager validFrom, validUntil", "platform: served uses"),
        {"validFrom": f.valid_from, "validUntil": f.valid_until, "provenBatches": len(f.windows),
         "servedOutsideValidity": f.served_outside_validity})

    unpaid = max(0, f.served_uses - f.settled_uses)
    unpaid_batches = sorted(b for b, n in f.logged.items() if f.paid.get(b) != n)
    proven_paid = (f.paid_uses == proven == f.settled_uses == sum(f.logged.values())
                   and f.paid_amount == f.proof["totalPaid"] and not unpaid_batches)
    closed = settlement_closed(f)
    payment_ok = proven_paid and not (unpaid and closed)
    if not proven_paid:
        detail = (f"proven uses {proven} (paid {f.proof['totalPaid']} by the proof), {sum(f.logged.values())} "
                  f"logged in {len(f.logged)} batches, but the escrow released {f.paid_uses} uses ({f.paid_amount})"
                  + (f"; {len(unpaid_batches)} logged batches without their payment" if unpaid_batches else ""))
    elif unpaid and closed:
        why = "revoked" if f.revoked else "expired past the settlement grace"
        detail = (f"{unpaid} uses served and signed were never paid: the license is {why}, so they can no "
                  f"longer be settled")
    elif unpaid:
        detail = f"every proven use paid; {unpaid} served uses pending settlement in the next batch"
    else:
        detail = f"every use paid: {f.paid_uses} uses, {f.paid_amount} in token base units"
    payment = Check(
        "payment", "Every use paid", payment_ok, detail,
        ("proof: totalPaid = totalUses x pricePerUse", "chain: UsageTracker UsageLogged (the license's batches)",
         "chain: PaymentEscrow PaymentReleased of each batch", "chain: LicenseManager uses (settled)",
         "platform: served uses"),
        {"loggedBatches": len(f.logged), "paidBatches": sum(1 for b in f.logged if f.paid.get(b) == f.logged[b]),
         "paidUses": f.paid_uses, "paidAmount": f.paid_amount, "provenPaid": f.proof["totalPaid"],
         "settledUses": f.settled_uses, "unpaidUses": unpaid, "pendingUses": 0 if closed else unpaid})
    return [limit, validity, payment]


def violations(checks: list[Check]) -> list[str]:
    return [f"{c.title}: {c.detail}" for c in checks if not c.passed]
