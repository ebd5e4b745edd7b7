"""Sign-in and keys: ``zkdm login``, ``zkdm keystore create``."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from zkdm.signing import Signer


def register(app: typer.Typer) -> None:
    @app.command()
    def login(ctx: typer.Context) -> None:
        """Sign in with Ethereum (the message is checked and signed here); the session is cached."""
        cli = ctx.obj
        session = cli.client().login()
        address = cli.client().signer.address
        cli.emit({"address": address, "expiresAt": session.expiresAt, "apiUrl": cli.api_url},
                 lambda out: out.print(f"signed in as [bold]{address}[/] until "
                                       f"{time.strftime('%H:%M:%S', time.localtime(session.expiresAt))}"))

    keystore = typer.Typer(help="Encrypted key files (eth-account JSON keystores).", no_args_is_help=True)
    app.add_typer(keystore, name="keystore")

    @keystore.command("create")
    def create(ctx: typer.Context, path: Path = typer.Argument(..., help="the keystore file to write"),
               new: bool = typer.Option(False, "--new", help="a new random key instead of the one in --key-env"),
               password: str = typer.Option(..., prompt=True, confirmation_prompt=True, hide_input=True,
                                            envvar="ZKDM_KEYSTORE_PASSWORD")) -> None:
        """Write a key (from --key-env, or --new) to an encrypted keystore; use it with --keystore."""
        cli = ctx.obj
        signer = Signer(_random_key()) if new else Signer.from_env(cli.key_env)
        written = signer.to_keystore(path, password)
        cli.emit({"address": signer.address, "keystore": str(written)},
                 lambda out: out.print(f"{signer.address} → {written} (readable by you only)"))


def _random_key() -> bytes:
    import secrets

    return secrets.token_bytes(32)
