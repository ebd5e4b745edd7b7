"""Flow 2: ``zkdm terms create|list``, ``zkdm buy``, ``zkdm license show|revoke``,
``zkdm keys rotate|revoke``, ``zkdm licenses`` (credentials kept here)."""

from __future__ import annotations

import typer
from rich.table import Table

LICENSE_TYPES = ("per_use", "subscription", "research", "commercial")


def register(app: typer.Typer) -> None:
    terms = typer.Typer(help="License terms of content (creators offer, anyone reads).", no_args_is_help=True)
    app.add_typer(terms, name="terms")

    @terms.command("create")
    def create(ctx: typer.Context, content_id: str,
               price: int = typer.Option(..., "--price", min=1, help="token base units (6 decimals) per use"),
               max_uses: int = typer.Option(..., "--max-uses", min=1),
               duration: int = typer.Option(0, "--duration", min=0, help="seconds of validity after purchase; 0: none"),
               license_type: str = typer.Option("per_use", "--type", help="/".join(LICENSE_TYPES))) -> None:
        """Offer terms for your content: CreateTerms is signed here, the platform relays it."""
        if license_type not in LICENSE_TYPES:
            raise typer.BadParameter(f"--type must be one of {', '.join(LICENSE_TYPES)}")
        cli = ctx.obj
        created = cli.client().create_terms(content_id, price_per_use=price, max_uses=max_uses,
                                            duration_seconds=duration, license_type=license_type)
        cli.emit(created)

    @terms.command("list")
    def list_(ctx: typer.Context, content_id: str) -> None:
        """The terms a content offers."""
        cli = ctx.obj
        offered = cli.client(signed=False).list_terms(content_id)

        def human(out) -> None:
            table = Table("type", "price/use", "max uses", "duration", "amount", "active")
            table.add_column("termsId", overflow="fold")
            for t in offered.terms:
                table.add_row(t.type, str(t.pricePerUse), str(t.maxUses), str(t.durationSeconds),
                              str(t.amount), "yes" if t.active else "no", t.termsId)
            out.print(table)

        cli.emit(offered, human)

    @app.command()
    def buy(ctx: typer.Context, terms_id: str,
            max_amount: int | None = typer.Option(None, "--max-amount", help="refuse a quote above this amount"),
            yes: bool = typer.Option(True, "--yes/--confirm", help="--confirm: ask before signing the payment")) -> None:
        """Buy a license: quote, sign the permit and the purchase here, the platform relays it.
        The credentials (API key shown once, access token) are kept under --home."""
        cli = ctx.obj
        client = cli.client()
        quote = client.quote(terms_id)
        cli.note(f"quote {quote.quoteId[:18]}…: {quote.amount} base units of {quote.token.get('symbol', 'token')}")
        if not yes and not typer.confirm(f"pay {quote.amount}?"):
            raise typer.Abort()
        bought = client.purchase(terms_id, max_amount=max_amount, quote=quote)
        path = cli.store.save_license(bought.licenseId, {
            "contentId": bought.terms.contentId, "termsId": bought.terms.termsId, "apiKey": bought.apiKey,
            "accessToken": bought.accessToken, "apiUrl": cli.api_url, "txHash": bought.txHash})
        cli.note(f"credentials kept in {path}")
        cli.emit(bought, lambda out: out.print(
            f"license [bold]{bought.licenseId}[/] for {bought.terms.contentId}\n"
            f"  tx {bought.txHash}\n  apiKey {bought.apiKey[:14]}… (shown once: kept in {path})\n"
            f"  next: zkdm signers add {bought.licenseId} (a worker key), then zkdm access {bought.terms.contentId}"))

    license_ = typer.Typer(help="Licenses (their buyer and the content's creator).", no_args_is_help=True)
    app.add_typer(license_, name="license")

    @license_.command("show")
    def show(ctx: typer.Context, license_id: str) -> None:
        """A license and its state."""
        cli = ctx.obj
        cli.emit(cli.client().get_license(license_id))

    @license_.command("revoke")
    def revoke(ctx: typer.Context, license_id: str) -> None:
        """Revoke a license of your content: RevokeLicense is signed here, the platform relays it."""
        cli = ctx.obj
        cli.emit(cli.client().revoke_license(license_id))

    @app.command("licenses")
    def licenses(ctx: typer.Context) -> None:
        """Licenses bought from this machine (credentials kept under --home)."""
        cli = ctx.obj
        rows = [{k: v for k, v in lic.items() if k not in ("apiKey", "accessToken")} for lic in cli.store.licenses()]

        def human(out) -> None:
            table = Table("licenseId", "contentId", "termsId")
            for r in rows:
                table.add_row(r.get("licenseId", ""), r.get("contentId", ""), r.get("termsId", ""))
            out.print(table if rows else "no license bought from here")

        cli.emit(rows, human)

    keys = typer.Typer(help="A license's API keys (its buyer).", no_args_is_help=True)
    app.add_typer(keys, name="keys")

    @keys.command("rotate")
    def rotate(ctx: typer.Context, license_id: str) -> None:
        """Issue a new API key (the others are revoked); the kept credentials are updated."""
        cli = ctx.obj
        new = cli.client().rotate_key(license_id)
        cli.store.save_license(license_id, {"apiKey": new.apiKey, "accessToken": new.accessToken})
        cli.emit(new, lambda out: out.print(f"new key {new.apiKey[:14]}… for {new.licenseId} (kept)"))

    @keys.command("revoke")
    def revoke_keys(ctx: typer.Context, license_id: str) -> None:
        """Revoke every API key of a license (rotate to get a new one)."""
        cli = ctx.obj
        cli.emit(cli.client().revoke_keys(license_id))
