"""Flow 1: ``zkdm register`` (a file or a folder, any size, resumable), ``zkdm content``,
``zkdm registration``, ``zkdm uploads``."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from zkdm import models as m
from zkdm.transfer import Registration, pending_uploads

STAGES = ("upload", "store", "prove", "register", "cache")
MiB = 1024 * 1024


# What the registration's stages are called on the progress bar; hash and copy carry byte counts
STAGE_LABELS = {"hash": "hashing (SHA-256 + CID)", "claim": "claiming the content id", "copy": "storing",
                "store": "hashing and storing", "prove": "proving authenticity", "register": "recording on chain",
                "cache": "finishing"}


def stage_progress(status: m.RegistrationStatus) -> tuple[str, int | None, int | None]:
    """(label, bytes done, total) for the progress bar: the server's ``progress`` while it hashes
    (bytes hashed of the upload's size) and copies (bytes copied); no byte count in other stages."""
    stage = status.stage or status.state.lower()
    label = STAGE_LABELS.get(stage, stage)
    p = status.progress
    if p is None or not p.totalBytes:
        return label, None, None
    if stage == "copy":
        return label, p.bytesCopied or 0, p.totalBytes
    if stage in ("hash", "store"):
        return label, p.bytesHashed, p.totalBytes
    return label, None, None


def register(app: typer.Typer) -> None:
    @app.command("register")
    def register_(
        ctx: typer.Context,
        path: Path = typer.Argument(..., exists=True, help="a file, or a folder (each file in it, sorted)"),
        title: str | None = typer.Option(None, "--title", help="title (default: the file name)"),
        description: str = typer.Option("", "--description"),
        tag: list[str] = typer.Option([], "--tag", help="a tag (repeat for more)"),
        part_size_mib: int | None = typer.Option(None, "--part-size", min=5, help="MiB per part (default 64)"),
        workers: int = typer.Option(4, "--workers", min=1, max=32, help="parts uploaded in parallel"),
    ) -> None:
        """Register content: upload (resumable: run again after an interruption), prove, record on chain."""
        cli = ctx.obj
        files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
        if not files:
            raise typer.BadParameter(f"{path} holds no file")
        client = cli.client()
        results: list[dict[str, Any]] = []
        with cli.progress() as progress:
            for file in files:
                name = file.name if len(files) > 1 or not title else title
                task = progress.add_task(f"{file.name}: upload", total=file.stat().st_size)

                def on_bytes(done: int, total: int, task=task) -> None:
                    progress.update(task, completed=done, total=total)

                def on_status(status: m.RegistrationStatus, task=task, file=file) -> None:
                    label, done, total = stage_progress(status)
                    if done is None:
                        progress.update(task, description=f"{file.name}: {label}")
                    else:
                        progress.update(task, description=f"{file.name}: {label}", completed=done, total=total)

                def on_event(event: str, info: dict[str, Any], file=file) -> None:
                    if event == "resume-upload":
                        progress.console.print(f"{file.name}: resuming upload {info['uploadId']} "
                                               f"({info['partsHeld']}/{info['partCount']} parts already in S3)")
                    elif event == "resume-registration":
                        progress.console.print(f"{file.name}: following registration {info['registrationId']}")

                job = Registration(client, file, {"title": name, "description": description, "tags": list(tag)},
                                   state_dir=cli.store.home, workers=workers,
                                   part_size=part_size_mib * MiB if part_size_mib else None,
                                   on_bytes=on_bytes, on_status=on_status, on_event=on_event)
                result = job.run()
                progress.update(task, description=f"{file.name}: registered")
                results.append({"file": str(file), **result.model_dump(mode="json"), **job.stats})

        def human(out) -> None:
            table = Table("file", "contentId", "CID", "tx", "block")
            for r in results:
                table.add_row(Path(r["file"]).name, r["contentId"], r["ipfsCid"], r["txHash"][:18] + "…",
                              str(r["blockNumber"]))
            out.print(table)

        cli.emit(results[0] if len(results) == 1 and path.is_file() else results, human)

    @app.command("content")
    def content(ctx: typer.Context,
                first: str = typer.Argument(..., metavar="[archive|show] CONTENT_ID",
                                            help="a content id to show, or archive / show then the id"),
                second: str | None = typer.Argument(None, hidden=True)) -> None:
        """Show registered content (public metadata and lifecycle state): `zkdm content <id>`; archive
        your own: `zkdm content archive <id>` (the ContentRegistry's Archive typed data signed here,
        relayed by the platform; the content leaves the listing, its licenses stay valid)."""
        cli = ctx.obj
        action, content_id = (first, second) if first in ("archive", "show") else ("show", first)
        if content_id is None or (second is not None and first not in ("archive", "show")):
            raise typer.BadParameter("zkdm content <contentId>, or zkdm content archive <contentId>")
        if action == "show":
            cli.emit(cli.client(signed=False).get_content(content_id))
            return
        done = cli.client().archive(content_id)

        def human(out) -> None:
            tx = f" (tx {done.txHash.root})" if done.txHash is not None else " (already archived on chain)"
            out.print(f"{done.contentId}: {done.state} at {done.archivedAt}{tx}")

        cli.emit(done, human)

    @app.command("browse")
    def browse(
        ctx: typer.Context,
        tag: str | None = typer.Option(None, "--tag", help="only content with this tag"),
        creator: str | None = typer.Option(None, "--creator", help="only this creator's content"),
        query: str | None = typer.Option(None, "--q", help="words of the title"),
        licensable: bool | None = typer.Option(None, "--licensable/--not-licensable",
                                               help="only content with (or without) terms on offer"),
        limit: int = typer.Option(20, "--limit", min=1, max=100, help="items per page"),
        cursor: str | None = typer.Option(None, "--cursor", help="the page after this cursor"),
        all_pages: bool = typer.Option(False, "--all", help="follow the cursors to the end"),
    ) -> None:
        """Listed content (not archived), newest first, each with its terms summary (public: no key
        needed). A page may be short and still give a cursor: run again with --cursor, or --all."""
        cli = ctx.obj
        client = cli.client(signed=False)
        filters = {"tag": tag, "creator": creator, "q": query, "licensable": licensable, "limit": limit}
        if all_pages:
            items, next_cursor = list(client.iter_content(cursor=cursor, **filters)), None
        else:
            page = client.browse(cursor=cursor, **filters)
            items, next_cursor = page.items, page.cursor
        data = {"items": [i.model_dump(mode="json", exclude_none=True) for i in items], "cursor": next_cursor}

        def human(out) -> None:
            if not items:
                out.print("no content" + (" on this page: try --cursor " + next_cursor if next_cursor else ""))
                return
            table = Table("contentId", "title", "tags", "size", "terms", "from / use", "created")
            for i in items:
                price = i.terms.minPricePerUse
                symbol = (i.terms.token or {}).get("symbol", "")
                table.add_row(i.contentId, i.title, ", ".join(i.tags), f"{i.size:,}", str(i.terms.activeTerms),
                              "" if price is None else f"{getattr(price, 'root', price)} {symbol}".strip(),
                              i.createdAt)
            out.print(table)
            if next_cursor:
                out.print(f"more: zkdm browse --cursor {next_cursor}")

        cli.emit(data, human)

    @app.command("registration")
    def registration(ctx: typer.Context, registration_id: str,
                     wait: bool = typer.Option(False, "--wait", help="poll until it is REGISTERED or FAILED")) -> None:
        """A registration's state (and its result or error)."""
        cli = ctx.obj
        client = cli.client()
        if wait:
            cli.emit(client.wait_registration(registration_id))
        else:
            cli.emit(client.registration(registration_id))

    uploads = typer.Typer(help="Resumable uploads kept on this machine.", no_args_is_help=True)
    app.add_typer(uploads, name="uploads")

    @uploads.command("list")
    def list_(ctx: typer.Context) -> None:
        """Uploads that an interrupted `zkdm register` left to resume."""
        cli = ctx.obj
        rows = [{"path": s.get("path"), "uploadId": s.get("uploadId"), "size": s.get("size"),
                 "parts": f"{len(s.get('parts', {}))}/{s.get('partCount')}", "completed": bool(s.get("completed")),
                 "registrationId": s.get("registrationId"), "stateFile": s["stateFile"]}
                for s in pending_uploads(cli.store.home)]

        def human(out) -> None:
            table = Table("path", "uploadId", "parts", "state")
            for r in rows:
                state = "registering" if r["registrationId"] else "complete" if r["completed"] else "partial"
                table.add_row(r["path"], r["uploadId"], r["parts"], state)
            out.print(table if rows else "no upload to resume")

        cli.emit(rows, human)

    @uploads.command("forget")
    def forget(ctx: typer.Context, upload_id: str) -> None:
        """Drop the local state of an upload (S3 drops its parts after a day)."""
        cli = ctx.obj
        gone = []
        for state in pending_uploads(cli.store.home):
            if state.get("uploadId") == upload_id:
                with contextlib.suppress(FileNotFoundError):
                    Path(state["stateFile"]).unlink()
                gone.append(state["stateFile"])
        if not gone:
            raise typer.BadParameter(f"no local upload {upload_id}")
        cli.emit({"uploadId": upload_id, "forgotten": gone})
