"""Flows 5 and 6: ``zkdm compliance verify`` (a license's compliance report, its PDF downloaded and
its content address checked), ``zkdm proof generate`` / ``proof job`` (a content item's aggregate
usage proof, a long one followed as a job with a progress bar) and ``zkdm verify`` (a published
proof checked on this machine with py_ecc against a trusted verification key: ``zkdm.verify``)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from zkdm import models as m
from zkdm.errors import VerificationFailed


def follow_job(cli: Any, client: Any, job: m.JobView, what: str) -> dict[str, Any]:
    """Poll a 202's job (its ``Location``) with a progress bar over the chunks proven."""
    cli.note(f"{what}: a long proof, following job {job.jobId} ({job.location})")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"),
               TimeElapsedColumn())
    with Progress(*columns, console=cli.err, disable=cli.quiet, transient=False) as progress:
        task = progress.add_task(f"{what}: {job.stage}", total=max(1, job.chunksTotal), completed=job.chunksProven)

        def on_job(view: m.JobView) -> None:
            progress.update(task, description=f"{what}: {view.stage.lower()}", total=max(1, view.chunksTotal),
                            completed=view.chunksProven)

        result = client.wait_job(job.location, on_job=on_job)
        progress.update(task, description=f"{what}: done", completed=max(1, job.chunksTotal))
    return result


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def register(app: typer.Typer) -> None:
    compliance = typer.Typer(help="Flow 5: compliance reports of your licenses.", no_args_is_help=True)
    app.add_typer(compliance, name="compliance")

    @compliance.command("verify")
    def compliance_verify(
        ctx: typer.Context,
        license_id: str = typer.Argument(..., help="the license (yours: you bought it)"),
        period_from: str | None = typer.Option(None, "--from", help="report period start (ISO date or time; "
                                               "default the license's validFrom)"),
        period_to: str | None = typer.Option(None, "--to", help="report period end (default now)"),
        output: Path | None = typer.Option(None, "--output", "-o", help="where to save the PDF report (default "
                                           "compliance-<licenseId>.pdf)"),
        prefer_async: bool = typer.Option(False, "--async", help="ask for a job (202) and follow it"),
    ) -> None:
        """Check a license's compliance (uses within maxUses, inside the validity, every use paid),
        proven and recorded on chain; download the PDF report and check it is the one the API named
        (its content address)."""
        cli = ctx.obj
        client = cli.client()
        answer = client.compliance_report(license_id, period_from=period_from, period_to=period_to,
                                          prefer_async=prefer_async)
        if isinstance(answer, m.JobView):
            answer = m.ComplianceReportView.model_validate(follow_job(cli, client, answer, "compliance proof"))
        report: m.ComplianceReportView = answer
        pdf = client.report_pdf(report)
        cid = report.reportCid
        path = output or Path(f"compliance-{license_id[:18]}.pdf")
        _write_atomic(path, pdf)
        data = {**report.model_dump(mode="json", exclude_none=True), "reportFile": str(path),
                "reportBytes": len(pdf), "reportCidChecked": True}

        def human(out) -> None:
            verdict = "[bold green]compliant[/]" if report.compliant else "[bold red]NOT compliant[/]"
            out.print(f"license {report.licenseId}: {verdict}  (period {report.period.get('from')} → "
                      f"{report.period.get('to')})")
            table = Table("check", "", "detail", "rests on")
            for c in report.checks:
                table.add_row(c.title, "[green]✓[/]" if c.passed else "[red]✗[/]", c.detail, ", ".join(c.sources))
            out.print(table)
            for v in report.violations:
                out.print(f"  [red]violation[/]: {v}")
            out.print(f"proof {report.proofId} recorded in tx {report.txHash}")
            out.print(f"report: {path} ({len(pdf):,} bytes, {cid}: the one the API named)")
            out.print(f"anyone can check it: {report.verificationUrl}  (or: zkdm verify {report.proofId})")

        cli.emit(data, human)

    proof = typer.Typer(help="Flow 6: aggregate usage proofs of your content.", no_args_is_help=True)
    app.add_typer(proof, name="proof")

    @proof.command("generate")
    def proof_generate(
        ctx: typer.Context,
        content_id: str = typer.Argument(..., help="your content"),
        claim: list[str] = typer.Option([], "--claim", help="a figure to show: totalUses, totalRevenue, "
                                        "uniqueLicensees, dateRange (repeat; default all). The proof commits to all"),
        prefer_async: bool = typer.Option(False, "--async", help="ask for a job (202) and follow it"),
    ) -> None:
        """Prove a content item's usage over all its licenses (total uses, revenue, licensees,
        dates), record it on chain, and get its public verification link and QR code."""
        cli = ctx.obj
        client = cli.client()
        answer = client.generate_proof(content_id, claims=claim or None, prefer_async=prefer_async)
        if isinstance(answer, m.JobView):
            answer = m.ProofGeneratedView.model_validate(follow_job(cli, client, answer, "aggregate proof"))
        result: m.ProofGeneratedView = answer

        def human(out) -> None:
            table = Table("figure", "value")
            for k, v in result.outputs.items():
                table.add_row(k, f"{v:,}")
            out.print(table)
            out.print(f"proof {result.proofId} ({result.chunks} chunk{'s' if result.chunks != 1 else ''}) "
                      f"recorded in tx {result.txHash}")
            out.print(f"verification page: {result.verificationUrl}")
            out.print(f"QR code: {result.qrCode.png} (PNG), {result.qrCode.svg} (SVG)")
            out.print(f"check it yourself: zkdm verify {result.proofId}")

        cli.emit(result, human)

    @proof.command("job")
    def proof_job(ctx: typer.Context, job_id: str,
                  wait: bool = typer.Option(False, "--wait", help="follow it until it is done")) -> None:
        """A proof job's state (compliance or aggregate), or its result with --wait."""
        cli = ctx.obj
        client = cli.client()
        job = client.proof_job(job_id)
        if wait and job.state not in ("SUCCEEDED", "FAILED"):
            cli.emit(follow_job(cli, client, job, f"{job.kind} proof"))
            return
        if wait and job.state == "FAILED":
            client.wait_job(job.location)  # raises the job's error
        cli.emit(job)

    @app.command("verify")
    def verify(
        ctx: typer.Context,
        proof_id: str = typer.Argument(..., help="a published proof's id (from its verification link)"),
        vkey: Path | None = typer.Option(None, "--vkey", exists=True, dir_okay=False,
                                         help="a verification key to trust instead of the one pinned in zkdm"),
        save: Path | None = typer.Option(None, "--save", file_okay=False, help="keep the downloaded files here"),
        rpc_url: str | None = typer.Option(None, "--rpc-url", envvar="ZKDM_RPC_URL",
                                           help="your chain node: check the proof was recorded with these chunks"),
        tracker: str | None = typer.Option(None, "--tracker", help="the UsageTracker address the record must "
                                           "come from (default: the emitting contract is shown)"),
    ) -> None:
        """Check a published compliance or aggregate proof on this machine: its snarkjs files are
        downloaded and every chunk verified with py_ecc against the verification key pinned in zkdm
        (or --vkey), the chunks' linkage and the figures shown checked; with --rpc-url, that the
        chain recorded exactly these chunks. Exit 9 if anything fails."""
        from zkdm.verify import verify_published

        cli = ctx.obj
        view, verdict = verify_published(cli.client(signed=False), proof_id, vkey=vkey, rpc_url=rpc_url,
                                         tracker=tracker, save=save)
        data = {"proofId": view.proofId, "subject": view.subject, "txHash": view.txHash,
                "serverSaysVerified": view.verified, **verdict.to_dict()}

        def human(out) -> None:
            mark = "[bold green]verified[/]" if verdict.ok else "[bold red]NOT verified[/]"
            out.print(f"{view.kind} proof {view.proofId}: {mark} on this machine")
            table = Table(show_header=False, box=None)
            table.add_column(style="bold cyan")
            table.add_column(overflow="fold")
            table.add_row("verification key", f"{verdict.key_source}, sha256 {verdict.key_sha256[:16]}…")
            table.add_row("published key", {True: "the same", False: "[red]different (not used)[/]",
                                            None: "not downloaded"}[verdict.published_key_matches])
            table.add_row("chunks", ", ".join(f"{i}: {'ok' if ok else 'FAILED'}"
                                              for i, ok in enumerate(verdict.chunks_verified)))
            table.add_row("linked", "yes" if verdict.linked else "[red]no[/]")
            table.add_row("figures shown", "the proof's" if verdict.outputs_match else "[red]not the proof's[/]")
            for k, v in verdict.outputs.items():
                table.add_row(f"  {k}", f"{v:,}")
            table.add_row("recorded", f"tx {view.txHash} (block {view.blockNumber}, {view.confirmations} "
                                      f"confirmations)")
            if verdict.on_chain is None:
                table.add_row("not checked here", "that the public inputs (license chain values, terms) are the "
                                                  "chain's (give --rpc-url): the platform says "
                              + ("yes" if view.verified else "NO"))
            elif verdict.on_chain.get("chunksHashMatches"):
                table.add_row("on chain", f"recorded by {verdict.on_chain.get('contract')} with exactly these "
                                          "chunks (chunksHash), which it verified against its state")
            out.print(table)
            for p in verdict.problems:
                out.print(f"  [red]problem[/]: {p}")
            for w in verdict.warnings:
                out.print(f"  [yellow]warning[/]: {w}")

        cli.emit(data, human)
        if not verdict.ok:  # after the verdict is shown: exit 9
            raise VerificationFailed("the proof does not verify on this machine: " + "; ".join(verdict.problems
                                     or [f"chunk {i} fails" for i, ok in enumerate(verdict.chunks_verified)
                                         if not ok]))
