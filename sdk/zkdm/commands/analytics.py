"""Flow 7: ``zkdm analytics``, a creator's figures over a period: summary with trends, a sparkline
per figure over the period's buckets, top content and recent activity."""

from __future__ import annotations

from collections.abc import Sequence

import typer
from rich.table import Table

from zkdm import models as m

BLOCKS = "▁▂▃▄▅▆▇█"
FIGURES = ("uses", "provenUses", "revenue", "purchases")


def sparkline(values: Sequence[int | float]) -> str:
    """One block character per value, scaled from 0 to the largest (all zero: the lowest block)."""
    if not values:
        return ""
    top = max(values)
    if top <= 0:
        return BLOCKS[0] * len(values)
    return "".join(BLOCKS[min(len(BLOCKS) - 1, int(v / top * (len(BLOCKS) - 1) + 0.5))] if v > 0 else BLOCKS[0]
                   for v in values)


def _trend(t: m.Trend) -> str:
    if t.changePct is None:
        return f"{t.change:+,} (no base)" if t.change else "—"
    return f"{t.change:+,} ({t.changePct:+.1f} %)"


def register(app: typer.Typer) -> None:
    @app.command("analytics")
    def analytics(
        ctx: typer.Context,
        period: str = typer.Option("month", "--period", help="day (hours), week, month (days) or year (months)"),
        address: str | None = typer.Option(None, "--address", help="the creator (default: you; only your own)"),
    ) -> None:
        """Your figures as a creator over a period: uses served and proven, revenue, purchases,
        with trends against the previous period, a sparkline per figure, top content, recent activity."""
        if period not in ("day", "week", "month", "year"):
            raise typer.BadParameter("--period is day, week, month or year")
        cli = ctx.obj
        data: m.CreatorAnalytics = cli.client().analytics(period=period, address=address)

        def human(out) -> None:
            age = f", cached {data.cacheAgeSeconds} s ago" if data.cached else ""
            out.print(f"[bold]{data.creator}[/], last {data.period.value} ({data.start} → {data.end}, "
                      f"per {data.granularity.value}{age})")
            summary = data.summary
            table = Table("figure", "period", "trend", f"per {data.granularity.value}", "all time")
            for name in FIGURES:
                series = [getattr(p, name) for p in data.series]
                table.add_row(name, f"{getattr(summary, name):,}", _trend(getattr(data.trends, name)),
                              sparkline(series), f"{getattr(data.allTime, name):,}")
            for name in ("payments", "sales", "revocations"):
                table.add_row(name, f"{getattr(summary, name):,}", "", sparkline([getattr(p, name) for p in data.series]),
                              f"{getattr(data.allTime, name):,}")
            out.print(table)
            out.print(f"active licenses {summary.activeLicenses}, licensees with uses {summary.licenseesWithUses}")
            if data.topContent:
                top = Table("content", "uses", "revenue", title="top content")
                for c in data.topContent:
                    top.add_row(c.contentId, f"{c.uses:,}", f"{c.revenue:,}")
                out.print(top)
            if data.recentActivity:
                recent = Table("when", "what", "content", "delta", title="recent activity")
                for a in data.recentActivity[:10]:
                    recent.add_row(a.at, a.type.value if hasattr(a.type, "value") else str(a.type), a.contentId[:18] + "…",
                                   ", ".join(f"{k} {v:+,}" for k, v in a.delta.items()))
                out.print(recent)

        cli.emit(data, human)
