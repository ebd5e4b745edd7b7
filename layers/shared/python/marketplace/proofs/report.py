"""The compliance report PDF (fpdf2): license, content, period, each check with its result and
sources, totals, the proof, its transaction, the verification URL with its QR code, and how to
verify it without trusting the platform. It names no licensee address and no use's time."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from marketplace.shared.timefmt import iso


def _latin1(text: str) -> str:
    """The PDF core fonts are Latin-1: anything else becomes '?' (titles are user text)."""
    return str(text).encode("latin-1", "replace").decode("latin-1")


def render(r: dict[str, Any], qr_png: bytes) -> bytes:
    """``r``: the report view (``services.ComplianceService``'s), ``qr_png``: the verification URL's QR."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(datetime.fromtimestamp(r["generatedAtTs"], UTC))
    pdf.set_title(_latin1(f"Compliance report {r['reportId']}"))
    pdf.set_author("zk-data-marketplace")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def heading(text: str, size: int = 13) -> None:
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", size)
        pdf.multi_cell(width, 7, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)

    def line(label: str, value: Any, mono: bool = False) -> None:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(42, 6, _latin1(label))
        pdf.set_font("Courier" if mono else "Helvetica", "", 9 if mono else 10)
        pdf.multi_cell(width - 42, 6, _latin1(str(value)), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_font("Helvetica", "", 10)

    def text(value: str, mono: bool = False) -> None:
        pdf.set_font("Courier" if mono else "Helvetica", "", 8 if mono else 10)
        pdf.multi_cell(width, 5 if mono else 6, _latin1(value), new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_font("Helvetica", "", 10)

    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(width, 10, "License compliance report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 14)
    verdict = "COMPLIANT" if r["compliant"] else "NON-COMPLIANT"
    pdf.set_text_color(0, 110, 40) if r["compliant"] else pdf.set_text_color(180, 0, 0)
    pdf.cell(width, 9, f"Result: {verdict}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("Helvetica", "", 10)

    heading("License")
    line("Report id", r["reportId"], mono=True)
    line("License id", r["licenseId"], mono=True)
    line("Content id", r["contentId"], mono=True)
    line("Content title", r.get("contentTitle") or "-")
    line("Period", f"{r['period']['from']} to {r['period']['to']}")
    line("Validity", f"{iso(r['terms']['validFrom'])} to {iso(r['terms']['validUntil'])}")
    line("Terms", f"maxUses {r['terms']['maxUses']}, price per use {r['terms']['pricePerUse']} (token base units)"
                  + (", revoked" if r["terms"]["revoked"] else ""))
    line("Generated", r["generatedAt"])

    heading("Checks")
    for c in r["checks"]:
        pdf.set_font("Helvetica", "B", 10)
        mark = "PASS" if c["passed"] else "FAIL"
        pdf.multi_cell(width, 6, _latin1(f"[{mark}] {c['title']}"), new_x="LMARGIN", new_y="NEXT")
        text(c["detail"])
        text("From: " + "; ".join(c["sources"]))
        pdf.ln(1)
    if r["violations"]:
        heading("Violations")
        for v in r["violations"]:
            text("- " + v)

    heading("Totals")
    t = r["totals"]
    line("Proven uses", t["provenUses"])
    line("Paid (proof)", f"{t['totalPaid']} token base units")
    line("Paid (escrow)", f"{t['paidUses']} uses, {t['paidAmount']} token base units")
    line("Served uses", t["servedUses"])
    line("In the period", f"{t['periodUses']} proven uses in {t['periodBatches']} batches")

    heading("Proof")
    line("Proof id", r["proofId"], mono=True)
    line("Transaction", r["txHash"], mono=True)
    line("Chunk proofs", r["chunks"])
    line("Verify at", "")
    text(r["verificationUrl"], mono=True)
    pdf.image(io.BytesIO(qr_png), w=38)

    heading("How to verify independently")
    text("1. Read the proof from the chain: the UsageTracker's ProofRecorded event with this proof id, and its "
         "transaction (" + r["txHash"] + "). Its input carries the chunk proofs and public outputs.")
    text("2. Or download the snarkjs files (the same values, decoded from that transaction) and check every chunk:")
    from marketplace.proofs.services import LINKAGE, how_to_verify

    text("\n".join(how_to_verify(r["filesUrl"], r["chunks"])), mono=True)
    text("3. Linkage (" + r["linkage"] + "): " + LINKAGE)
    text("The proof reveals counts, amounts and validity only: no licensee address and no use's time.")
    return bytes(pdf.output())
