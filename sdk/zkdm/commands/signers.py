"""Flow 4's worker keys: ``zkdm signers add|list|revoke`` (the licensee's usage signers: every
access is signed by one; the keys stay under ``--workers-dir``, the licensee's key signs their
registration and revocation, the platform relays)."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table


def register(app: typer.Typer) -> None:
    signers = typer.Typer(help="Worker keys (usage signers) of a license: each access is signed by one.",
                          no_args_is_help=True)
    app.add_typer(signers, name="signers")

    @signers.command("add")
    def add(ctx: typer.Context, license_id: str) -> None:
        """Make a worker key for a license you bought and register it (AddUsageSigner, signed here
        with your key, relayed). The key is kept under --workers-dir (0600; encrypted when
        ZKDM_WORKER_PASSWORD is set); `zkdm access` signs with it. Prints the worker's address."""
        cli = ctx.obj
        store = cli.workers()
        worker = cli.client().new_worker(license_id, store)
        record = next(r for r in store.records(license_id) if r["address"] == worker.address)
        result = {k: record.get(k) for k in ("licenseId", "address", "state", "chainId", "verifyingContract",
                                             "txHash", "file", "encrypted")}
        cli.emit(result, lambda out: out.print(
            f"worker [bold]{worker.address}[/] registered for license {license_id} (tx {record.get('txHash')})\n"
            f"  key kept in {record['file']}"))

    @signers.command("list")
    def list_(ctx: typer.Context, license_id: str) -> None:
        """A license's usage signers as the API knows them (buyer or creator), and which keys are kept here."""
        cli = ctx.obj
        listed = cli.client().list_signers(license_id)
        here = {r["address"].lower(): r for r in cli.workers().records(license_id)}
        rows: list[dict[str, Any]] = []
        for s in listed.signers:
            kept = here.get(s.signer.lower())
            rows.append({**s.model_dump(mode="json", exclude_none=True), "keptHere": kept is not None,
                         **({"localServed": kept["served"]} if kept else {})})

        def human(out) -> None:
            table = Table("signer", "state", "last counter", "kept here")
            for r in rows:
                table.add_row(r["signer"], r["state"], str(r["lastCounter"]),
                              f"yes (served {r['localServed']})" if r["keptHere"] else "no")
            out.print(table if rows else f"no usage signer for {license_id}: zkdm signers add {license_id}")

        cli.emit({"licenseId": listed.licenseId, "signers": rows}, human)

    @signers.command("revoke")
    def revoke(ctx: typer.Context, license_id: str,
               signer: str = typer.Argument(..., help="the worker's address")) -> None:
        """Revoke a worker key (RevokeUsageSigner, signed here, relayed): its accesses are refused at once."""
        cli = ctx.obj
        view = cli.client().revoke_signer(license_id, signer)
        cli.workers().mark(signer, license_id, view.state, revokedTxHash=view.txHash)
        cli.emit(view, lambda out: out.print(f"worker {view.signer} of {view.licenseId}: {view.state}"))
