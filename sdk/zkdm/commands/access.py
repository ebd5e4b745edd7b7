"""Flow 3: ``zkdm access`` (one use of a license, signed by the license's worker key: a presigned
URL; downloaded with progress, resumed with HTTP Range, checked against the registered SHA-256)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from zkdm.transfer import download, write_json_atomic


def register(app: typer.Typer) -> None:
    @app.command()
    def access(
        ctx: typer.Context,
        content_id: str,
        output: Path | None = typer.Option(None, "--output", "-o", help="where to save (default: <contentId>.bin)"),
        license_id: str | None = typer.Option(None, "--license", help="which kept license (default: the "
                                              "latest bought here for this content)"),
        api_key: str | None = typer.Option(None, "--api-key", envvar="ZKDM_API_KEY",
                                           help="instead of a kept license's (with --license)"),
        worker_address: str | None = typer.Option(None, "--worker", help="which worker key signs (default: the "
                                                  "newest active one kept for the license)"),
        url_only: bool = typer.Option(False, "--url-only", help="print the presigned URL, do not download"),
    ) -> None:
        """Access licensed content (one use, signed by the license's worker key: `zkdm signers add`
        first) and download it; run again to resume a download (the URL is reused while it is
        valid, so a resume costs no use)."""
        cli = ctx.obj
        if api_key is None:
            kept = cli.store.license(license_id) if license_id else cli.store.license_for_content(content_id)
            if kept is None:
                raise typer.BadParameter("no kept license for this content: buy one (zkdm buy) or give "
                                         "--api-key and --license")
            api_key, license_id = kept["apiKey"], kept["licenseId"]
        elif license_id is None:
            raise typer.BadParameter("--api-key needs --license (the license its worker key signs for)")
        client = cli.client(signed=False)
        dest = output or Path(f"{content_id}.bin")
        grant_file = dest.with_name(dest.name + ".grant.json")
        grant = None
        if not url_only and grant_file.exists():
            saved = json.loads(grant_file.read_text())
            if saved.get("contentId") == content_id and saved.get("validUntil", 0) > time.time() + 60:
                grant = saved
                cli.note(f"resuming with the URL of use {saved['use']} (no new use)")
        if grant is None:
            worker = cli.workers().load(license_id, worker_address)
            view = client.access(content_id, api_key, worker)
            grant = {**view.model_dump(mode="json"), "validUntil": time.time() + view.expiresIn}
            if url_only:
                cli.emit(view, lambda out: out.print(view.url))
                return
            write_json_atomic(grant_file, grant)
            cli.note(f"use {view.use} of license {view.licenseId} ({view.usesRemaining} left), signed by worker "
                     f"{worker.address} (counter {worker.served})")
        content = client.get_content(content_id)
        with cli.progress() as progress:
            task = progress.add_task(f"{dest.name}: download", total=content.size)
            saved_file = download(client, grant["url"], dest, expected_sha256=content.contentHash,
                                  expected_size=content.size,
                                  on_bytes=lambda done, total: progress.update(task, completed=done, total=total))
        grant_file.unlink(missing_ok=True)
        result = {**saved_file, "contentId": content_id, "licenseId": grant["licenseId"], "use": grant["use"],
                  "usesRemaining": grant["usesRemaining"], "verified": True}
        cli.emit(result, lambda out: out.print(
            f"saved {saved_file['path']} ({saved_file['size']} bytes), SHA-256 matches the registered "
            f"{content.contentHash[:18]}…"))
