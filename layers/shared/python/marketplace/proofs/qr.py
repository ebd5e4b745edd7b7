"""QR codes of verification URLs (segno): PNG for reports and downloads, SVG for pages."""

from __future__ import annotations

import io


def png(url: str, scale: int = 6) -> bytes:
    import segno

    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=scale, border=2)
    return buf.getvalue()


def svg(url: str, scale: int = 4) -> str:
    import segno

    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=scale, border=2, xmldecl=False,
                                    title="QR code: " + url)
    return buf.getvalue().decode("utf-8")
