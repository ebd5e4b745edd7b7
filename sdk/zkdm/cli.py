"""``zkdm``: the marketplace from a terminal. Human output by default, ``--json`` for scripts.

Global options come before the command (``zkdm --json buy 0x…``); each has an environment variable:
``--api`` ZKDM_API_URL, ``--keystore`` ZKDM_KEYSTORE (+ ZKDM_KEYSTORE_PASSWORD or a prompt),
``--key-env`` (the name of the variable holding a hex key, default ZKDM_PRIVATE_KEY), ``--home``
ZKDM_HOME (sessions, license credentials, resumable uploads; default ~/.zkdm).

Exit codes (``EXIT_CODES``): 0 done; 1 unexpected failure (500: quote the supportId); 2 wrong
usage; 3 not allowed (no key, 401, 403); 4 not found (404); 5 refused as invalid or in the wrong
state (400, 409, 413, 415, 422; a FAILED registration); 6 insufficient funds (402); 7 temporarily
unavailable, try again later (429, 503; retryAfter); 8 transfer failed its integrity check;
9 a proof checked here did not verify (``zkdm verify``); 130 interrupted (an upload resumes when the command is run again).

Commands live in ``zkdm/commands/<flow>.py``, each module a ``register(app)``: a new flow's
commands are a module and one line in ``COMMAND_MODULES``.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from zkdm.chain import ChainError
from zkdm.client import Client
from zkdm.errors import ApiError, KeyUnavailable, SigningRefused, TransferError, VerificationFailed, ZkdmError
from zkdm.signing import DEFAULT_KEY_ENV, PASSWORD_ENV, Signer
from zkdm.store import Store
from zkdm.workers import WORKERS_DIR_ENV, WorkerStore

COMMAND_MODULES = ("zkdm.commands.auth", "zkdm.commands.content", "zkdm.commands.licensing",
                   "zkdm.commands.signers", "zkdm.commands.access", "zkdm.commands.payments",
                   "zkdm.commands.notifications", "zkdm.commands.proofs", "zkdm.commands.analytics")
DEFAULT_API = "http://127.0.0.1:3000"

OK, FAILURE, USAGE, NOT_ALLOWED, NOT_FOUND, REFUSED, FUNDS, UNAVAILABLE, TRANSFER, UNVERIFIED, INTERRUPTED = (
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 130)
EXIT_CODES = {
    OK: "done", FAILURE: "unexpected failure (500: quote the supportId)", USAGE: "wrong usage",
    NOT_ALLOWED: "not allowed: no key, not signed in, or not yours (401, 403)", NOT_FOUND: "not found (404)",
    REFUSED: "refused: invalid input or wrong state (400, 409, 413, 415, 422), the registration FAILED, or a "
             "transaction reverted",
    FUNDS: "insufficient funds (402)", UNAVAILABLE: "temporarily unavailable: try again later (429, 503, the chain node unreachable)",
    TRANSFER: "a transfer failed its integrity check (checksum, size)",
    UNVERIFIED: "a proof checked on this machine did not verify (zkdm verify), or a downloaded report is not the "
                "one the API named",
    INTERRUPTED: "interrupted: run the command again to resume",
}
_BY_STATUS = {401: NOT_ALLOWED, 403: NOT_ALLOWED, 404: NOT_FOUND, 402: FUNDS, 429: UNAVAILABLE, 503: UNAVAILABLE,
              400: REFUSED, 409: REFUSED, 413: REFUSED, 415: REFUSED, 422: REFUSED}

app = typer.Typer(name="zkdm", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="The ZK data marketplace: register content, offer terms, buy licenses, access data. "
                       "Exit codes: " + "; ".join(f"{k} {v}" for k, v in EXIT_CODES.items()))


@dataclass
class Cli:
    """What every command gets in ``ctx.obj``."""

    api_url: str
    json_output: bool
    store: Store
    keystore: Path | None
    key_env: str
    quiet: bool = False
    get: str | None = None
    workers_dir: Path | None = None
    err: Console = field(default_factory=lambda: Console(stderr=True))
    _client: Client | None = None

    def signer(self) -> Signer:
        if self.keystore is not None:
            password = os.environ.get(PASSWORD_ENV)
            if password is None and sys.stdin.isatty():
                password = typer.prompt(f"password of {self.keystore}", hide_input=True)
            return Signer.from_keystore(self.keystore, password)
        return Signer.from_env(self.key_env)

    def workers(self) -> WorkerStore:
        """Where worker keys (usage signers) and their counters are kept."""
        return WorkerStore(self.workers_dir)

    def client(self, *, signed: bool = True) -> Client:
        """The API client; ``signed``: with the key (sessions cached in the store, signed in on demand)."""
        if self._client is None:
            signer = self.signer() if signed else None
            token = self.store.session(self.api_url, signer.address) if signer else None
            self._client = Client(self.api_url, token=token, signer=signer, timeout=120)
            self._client.on_login = lambda address, s: self.store.save_session(self.api_url, address, s.token,
                                                                                s.expiresAt)
        return self._client

    # -- output -----------------------------------------------------------------------------------

    def emit(self, data: Any, human: Callable[[Console], None] | None = None) -> None:
        """``data`` as JSON on stdout with --json, else ``human`` (or a key/value table)."""
        if hasattr(data, "model_dump"):
            data = data.model_dump(mode="json", exclude_none=True)
        if self.get is not None:
            value = data.get(self.get) if isinstance(data, dict) else None
            if value is None:
                raise typer.BadParameter(f"--get {self.get}: the result has no such field "
                                         f"({', '.join(data) if isinstance(data, dict) else 'a list'})")
            typer.echo(json.dumps(value) if isinstance(value, dict | list) else value)
            return
        if self.json_output:
            typer.echo(json.dumps(data, indent=2))
            return
        out = Console()
        if human is not None:
            human(out)
        elif isinstance(data, dict):
            out.print(kv_table(data))
        else:
            out.print(data)

    def note(self, text: str) -> None:
        if not self.quiet:
            self.err.print(text)

    def progress(self) -> Progress:
        return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                        TimeRemainingColumn(), console=self.err, disable=self.quiet, transient=False)


def kv_table(data: dict[str, Any], title: str | None = None) -> Table:
    table = Table(show_header=False, title=title, box=None, pad_edge=False)
    table.add_column(style="bold cyan")
    table.add_column(overflow="fold")
    for key, value in data.items():
        table.add_row(key, json.dumps(value) if isinstance(value, dict | list) else str(value))
    return table


@app.callback()
def main_options(
    ctx: typer.Context,
    api: str = typer.Option(DEFAULT_API, "--api", envvar="ZKDM_API_URL", help="the API's base URL"),
    json_output: bool = typer.Option(False, "--json", help="JSON on stdout (progress stays on stderr)"),
    keystore: Path | None = typer.Option(None, "--keystore", envvar="ZKDM_KEYSTORE",
                                         help="encrypted JSON keystore (password: ZKDM_KEYSTORE_PASSWORD or prompt)"),
    key_env: str = typer.Option(DEFAULT_KEY_ENV, "--key-env", help="environment variable holding a hex private key"),
    home: Path | None = typer.Option(None, "--home", envvar="ZKDM_HOME", help="where sessions, license "
                                     "credentials and resumable uploads are kept (default ~/.zkdm)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress display"),
    get: str | None = typer.Option(None, "--get", help="print only this field of the result (for scripts: "
                                   "CONTENT=$(zkdm --get contentId register f.bin))"),
    workers_dir: Path | None = typer.Option(None, "--workers-dir", envvar=WORKERS_DIR_ENV,
                                            help="where worker keys and their counters are kept (default "
                                                 "~/.config/zkdm/workers)"),
) -> None:
    ctx.obj = Cli(api.rstrip("/"), json_output, Store(home), keystore, key_env, quiet, get, workers_dir)


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def exit_code(exc: BaseException) -> int:
    if isinstance(exc, ApiError):
        if exc.status is None:
            return REFUSED  # a registration that FAILED, or a quote the SDK refused
        return _BY_STATUS.get(exc.status, FAILURE)
    if isinstance(exc, KeyUnavailable | SigningRefused):
        return NOT_ALLOWED
    if isinstance(exc, TransferError):
        return TRANSFER
    if isinstance(exc, VerificationFailed):
        return UNVERIFIED
    if isinstance(exc, ChainError):
        return REFUSED if exc.reverted else UNAVAILABLE
    return FAILURE


def report(exc: BaseException, json_output: bool) -> None:
    """An error on stderr: the API's code, message and supportId (JSON with --json)."""
    if isinstance(exc, ApiError):
        body = exc.to_dict()
    else:
        body = {"error": type(exc).__name__, "message": str(exc)}
    if json_output:
        typer.echo(json.dumps(body), err=True)
        return
    err = Console(stderr=True)
    head = f"[bold red]error[/] {body.get('error')}"
    if isinstance(exc, ApiError) and exc.status:
        head += f" ({exc.status})"
    err.print(f"{head}: {body.get('message')}", highlight=False)
    if body.get("details"):
        err.print(f"  details: {json.dumps(body['details'])}", highlight=False)
    if body.get("supportId"):
        err.print(f"  supportId: [bold]{body['supportId']}[/] (quote it when asking for help)")
    if body.get("retryAfter") is not None:
        err.print(f"  retry after {body['retryAfter']} s")
    if body.get("request"):
        err.print(f"  request: {body['request']}", highlight=False)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    json_output = "--json" in args
    try:
        app(args=args, prog_name="zkdm", standalone_mode=False)
    except typer.Exit as done:
        return done.exit_code
    except (typer.Abort, KeyboardInterrupt):
        Console(stderr=True).print("interrupted: run the same command again to resume")
        return INTERRUPTED
    except typer.TyperException as usage:  # click's usage errors (typer vendors click)
        show = getattr(usage, "show", None)
        if show is not None:
            show()
        return int(getattr(usage, "exit_code", USAGE))
    except ZkdmError as exc:
        report(exc, json_output)
        return exit_code(exc)
    except Exception as exc:  # noqa: BLE001 (network errors and the like: said plainly, no traceback)
        report(exc, json_output)
        return FAILURE
    return OK


if __name__ == "__main__":
    sys.exit(main())
