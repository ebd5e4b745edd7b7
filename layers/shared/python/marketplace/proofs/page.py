"""The verification page people open from a QR code (``GET /verify/{proofId}``): server-rendered
HTML, no JavaScript, no external resources (CSS inline, the QR code inline SVG), readable on a phone."""

from __future__ import annotations

from html import escape
from typing import Any

from marketplace.proofs.services import LINKAGE
from marketplace.shared.timefmt import iso

_CSS = """
:root{color-scheme:light dark;--ok:#0a7d32;--bad:#b00020;--muted:#666;--line:#ddd}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;
padding:1rem;max-width:46rem;margin-inline:auto;word-wrap:break-word}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
.badge{display:inline-block;padding:.5rem .9rem;border-radius:.5rem;color:#fff;font-weight:700;font-size:1.15rem}
.ok{background:var(--ok)}.bad{background:var(--bad)}
dl{display:grid;grid-template-columns:minmax(7rem,max-content) 1fr;gap:.35rem 1rem;margin:0}
dt{color:var(--muted)}dd{margin:0;min-width:0;font-variant-numeric:tabular-nums}
.big{font-size:clamp(1.1rem,5vw,1.5rem);font-weight:700;display:block;line-height:1.25;white-space:nowrap}.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem;
overflow-wrap:anywhere;word-break:break-all}
.figs{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.75rem}
.fig{border:1px solid var(--line);border-radius:.5rem;padding:.6rem .8rem}.fig span{display:block;color:var(--muted);
font-size:.85rem}
ul{padding-left:1.2rem}pre{background:rgba(127,127,127,.12);padding:.7rem;border-radius:.4rem;overflow-x:auto;
font-size:.8rem}.qr svg{width:9rem;height:auto;background:#fff}
footer{margin-top:2rem;color:var(--muted);font-size:.85rem}
"""


def _page(title: str, body: str) -> str:
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>")


def _fmt(n: int) -> str:
    return f"{n:,}"


def _money(n: int) -> tuple[str, str]:
    """Token base units (6 decimals): the decimal amount, and the base units."""
    return f"{n / 1_000_000:,.6f}".rstrip("0").rstrip("."), f"{_fmt(n)} base units"


def render(view: dict[str, Any], qr_svg: str) -> str:
    ok = view["verified"]
    out = view["outputs"]
    figs: list[tuple[str, str, str]] = []  # (label, figure, note)
    if view["kind"] == "aggregate":
        if "totalUses" in out:
            figs.append(("Total uses", _fmt(out["totalUses"]), ""))
        if "totalRevenue" in out:
            figs.append(("Revenue", *_money(out["totalRevenue"])))
        if "uniqueLicensees" in out:
            figs.append(("Licensees with uses", _fmt(out["uniqueLicensees"]), ""))
        if "fromTs" in out:
            figs.append(("Date range", iso(out["fromTs"])[:10], "to " + iso(out["toTs"])[:10]))
        what = "Usage statistics of a content item"
    else:
        figs += [("Proven uses", _fmt(out["totalUses"]), ""), ("Paid", *_money(out["totalPaid"])),
                 ("Within the license", "yes" if out["compliant"] else "no", "")]
        what = "Compliance of a license"
    content = view.get("content") or {}
    files = "".join(f"<li><a href=\"{escape(url)}\">{escape(name)}</a></li>"
                    for name, url in view["files"].items() if name.endswith(".json"))
    steps = escape("\n".join(view["howToVerify"]))
    body = (
        f"<h1>{escape(what)}</h1>"
        f"<p><span class=\"badge {'ok' if ok else 'bad'}\">{'&#10003; Verified' if ok else '&#10007; Not verified'}"
        "</span></p>"
        f"<p>{'The zero-knowledge proof recorded on chain checks out against the chain state it claims.' if ok else 'The proof recorded on chain does not verify: do not rely on these figures.'}</p>"
        "<div class=\"figs\">" + "".join(
            f"<div class=\"fig\"><span>{escape(k)}</span><b class=\"big\">{escape(v)}</b>"
            + (f"<span>{escape(note)}</span>" if note else "") + "</div>" for k, v, note in figs) + "</div>"
        "<h2>Record</h2><dl>"
        f"<dt>Content</dt><dd>{escape(content.get('title') or '-')}<br><span class=\"mono\">{escape(str(view.get('content', {}).get('contentId') or ''))}</span></dd>"
        f"<dt>Creator</dt><dd class=\"mono\">{escape(str(content.get('creator') or '-'))}</dd>"
        f"<dt>Proof id</dt><dd class=\"mono\">{escape(view['proofId'])}</dd>"
        f"<dt>Transaction</dt><dd class=\"mono\">{escape(view['txHash'])}</dd>"
        f"<dt>Block</dt><dd>{view['blockNumber']} ({_fmt(view['confirmations'])} confirmations)</dd>"
        f"<dt>Recorded</dt><dd>{escape(view['recordedAt'])}</dd>"
        f"<dt>Chunk proofs</dt><dd>{view['chunks']}</dd></dl>"
        "<h2>Check it yourself</h2><p>Download the proof files (decoded from the recording transaction) and run "
        "snarkjs: each chunk must print OK. " + escape(LINKAGE[0].upper() + LINKAGE[1:]) + "</p>"
        f"<ul>{files}</ul><pre>{steps}</pre>"
        f"<div class=\"qr\">{qr_svg}</div>"
        "<footer>The proof shows counts, amounts and date ranges only: no licensee address, no time of any use."
        "</footer>")
    return _page("Proof " + ("verified" if ok else "not verified"), body)


def not_found(proof_id: str) -> str:
    return _page("Proof not found", f"<h1>Proof not found</h1><p>No proof with id <span class=\"mono\">"
                 f"{escape(proof_id)}</span> is recorded on chain.</p><p>Check the link or QR code you followed.</p>")
