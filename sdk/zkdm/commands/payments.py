"""Flow 4's money: ``zkdm earnings``, ``zkdm payments`` (creator's or buyer's view, filters,
pages), ``zkdm withdraw`` (the escrow pays msg.sender: the unsigned withdraw() is signed here and
sent to your chain node, then recorded)."""

from __future__ import annotations

import os
from typing import Any

import typer
from rich.table import Table

from zkdm.chain import RPC_URL_ENV

STATUSES = ("PENDING", "PROCESSING", "COMPLETED", "WITHDRAWN", "FAILED")


def amount(value: int) -> str:
    """Base units of the 6-decimal payment token, as units."""
    return f"{value / 1_000_000:,.6f}".rstrip("0").rstrip(".")


def register(app: typer.Typer) -> None:
    @app.command()
    def earnings(ctx: typer.Context) -> None:
        """Your earnings as a creator: owed (withdrawable now), withdrawn, pending (uses served, not yet
        logged in a batch), per content. Amounts in the token's base units (6 decimals)."""
        cli = ctx.obj
        view = cli.client().earnings()

        def human(out) -> None:
            out.print(f"[bold]{view.account}[/]: owed {amount(view.owed)} (on chain {amount(view.owedOnChain)}), "
                      f"withdrawn {amount(view.withdrawn)}, earned {amount(view.earned)} over {view.uses} uses in "
                      f"{view.payments} payments")
            out.print(f"pending: {amount(view.pending)} for {view.pendingUses} "
                      f"use{'' if view.pendingUses == 1 else 's'} served, not yet logged in a batch "
                      f"(fee {view.platformFeeBps / 100:g} %)")
            if view.perContent:
                table = Table("contentId", "earned", "uses", "payments", "pending", "pending uses")
                for c in view.perContent:
                    table.add_row(c.contentId, amount(c.earned), str(c.uses), str(c.payments), amount(c.pending),
                                  str(c.pendingUses))
                out.print(table)

        cli.emit(view, human)

    @app.command()
    def payments(
        ctx: typer.Context,
        role: str = typer.Option("creator", "--role", help="creator (paid to you) or buyer (paid by you)"),
        content_id: str | None = typer.Option(None, "--content", help="only this content's"),
        license_id: str | None = typer.Option(None, "--license", help="only this license's"),
        status: str | None = typer.Option(None, "--status", help="/".join(STATUSES)),
        limit: int = typer.Option(50, "--limit", min=1, max=100, help="per page"),
        cursor: str | None = typer.Option(None, "--cursor", help="the page after the one that printed it"),
        all_pages: bool = typer.Option(False, "--all", help="follow the cursors to the last page"),
    ) -> None:
        """Payments (one per paid usage batch), newest first. One page unless --all; the next page's
        cursor is printed (and is `cursor` in --json)."""
        if role not in ("creator", "buyer"):
            raise typer.BadParameter("--role must be creator or buyer")
        if status is not None and status.upper() not in STATUSES:
            raise typer.BadParameter(f"--status must be one of {', '.join(STATUSES)}")
        cli = ctx.obj
        client = cli.client()
        filters: dict[str, Any] = {"role": role, "content_id": content_id, "license_id": license_id,
                                   "status": status.upper() if status else None, "limit": limit}
        if all_pages:
            rows = [p.model_dump(mode="json", exclude_none=True) for p in client.iter_payments(cursor=cursor,
                                                                                              **filters)]
            data: dict[str, Any] = {"payments": rows, "cursor": None}
        else:
            page = client.payments(cursor=cursor, **filters)
            data = page.model_dump(mode="json", exclude_none=True)
            data.setdefault("cursor", None)

        def human(out) -> None:
            if not data["payments"]:
                out.print(f"no payment ({role}'s view)")
            else:
                table = Table("released", "status", "uses", "amount", "fee", "licenseId", "tx")
                for p in data["payments"]:
                    table.add_row(p["releasedAt"], p["status"], str(p["uses"]), amount(p["amount"]),
                                  amount(p["platformFee"]), p["licenseId"][:18] + "…", p["txHash"][:18] + "…")
                out.print(table)
            if data.get("cursor"):
                out.print(f"more: zkdm payments --cursor {data['cursor']}")

        cli.emit(data, human)

    @app.command()
    def withdraw(
        ctx: typer.Context,
        rpc_url: str | None = typer.Option(None, "--rpc-url", envvar=RPC_URL_ENV,
                                           help="your chain node's JSON-RPC URL (the local stack's: rpcUrl in "
                                                ".local/stack.json)"),
        timeout: float = typer.Option(120.0, "--timeout", help="seconds to wait for the transaction"),
    ) -> None:
        """Withdraw what the escrow owes you: the API's unsigned withdraw() is signed here with your
        key, sent to --rpc-url, waited for, and its txHash recorded by the API."""
        cli = ctx.obj
        rpc_url = rpc_url or os.environ.get(RPC_URL_ENV)
        if not rpc_url:
            raise typer.BadParameter(f"--rpc-url (or {RPC_URL_ENV}): the chain node to send your withdrawal to")
        client = cli.client()
        done = client.withdraw(rpc_url, timeout=timeout, on_sent=lambda h: cli.note(f"sent {h}, waiting for it"))
        cli.emit(done, lambda out: out.print(
            f"withdrew {amount(done.amount)} to {done.account} (tx {done.txHash}); withdrawn in all "
            f"{amount(done.withdrawn)}, owed now {amount(done.owed)}"))
