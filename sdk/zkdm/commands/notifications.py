"""Flow 4's notifications to creators: ``zkdm webhooks add|list|delete|rotate|test|deliveries|replay``
(Standard Webhooks; secrets shown once) and ``zkdm email set|show``."""

from __future__ import annotations

import typer
from rich.table import Table

EVENTS = ("payment.completed", "license.purchased", "usage.batch_logged", "license.revoked", "refund.completed")


def register(app: typer.Typer) -> None:
    webhooks = typer.Typer(help="Webhooks (Standard Webhooks) for your content's events.", no_args_is_help=True)
    app.add_typer(webhooks, name="webhooks")

    def delivery_human(view):
        def human(out) -> None:
            out.print(f"delivery {view.deliveryId} ({view.type}): {view.state}")
            table = Table("attempt", "at", "trigger", "ok", "status", "ms", "error")
            for a in view.attempts:
                table.add_row(str(a.n), a.at, a.trigger, "yes" if a.ok else "no", str(a.status or ""),
                              str(a.durationMs), a.error or "")
            out.print(table)
        return human

    @webhooks.command("add")
    def add(ctx: typer.Context, url: str,
            event: list[str] = typer.Option(list(EVENTS[:1]), "--event",
                                            help=f"an event type (repeat for more): {', '.join(EVENTS)}"),
            description: str | None = typer.Option(None, "--description")) -> None:
        """Register a webhook (https; its signing secret whsec_… is shown this once: keep it)."""
        unknown = [e for e in event if e not in EVENTS]
        if unknown:
            raise typer.BadParameter(f"unknown event {', '.join(unknown)}: one of {', '.join(EVENTS)}")
        cli = ctx.obj
        created = cli.client().add_webhook(url, event, description)
        cli.emit(created, lambda out: out.print(
            f"webhook [bold]{created.webhookId}[/] → {created.url} ({', '.join(created.events)})\n"
            f"  secret {created.secret} (shown once: verify deliveries with it)"))

    @webhooks.command("list")
    def list_(ctx: typer.Context) -> None:
        """Your webhooks (no secrets)."""
        cli = ctx.obj
        listed = cli.client().list_webhooks()

        def human(out) -> None:
            table = Table("webhookId", "url", "events", "created")
            for w in listed.webhooks:
                table.add_row(w.webhookId, w.url, ", ".join(w.events), w.createdAt)
            out.print(table if listed.webhooks else "no webhook")

        cli.emit(listed, human)

    @webhooks.command("delete")
    def delete(ctx: typer.Context, webhook_id: str) -> None:
        """Delete a webhook (its pending deliveries are cancelled)."""
        cli = ctx.obj
        cli.client().delete_webhook(webhook_id)
        cli.emit({"webhookId": webhook_id, "deleted": True}, lambda out: out.print(f"webhook {webhook_id} deleted"))

    @webhooks.command("rotate")
    def rotate(ctx: typer.Context, webhook_id: str) -> None:
        """A new signing secret (shown once); the previous one keeps signing until the grace ends."""
        cli = ctx.obj
        rotated = cli.client().rotate_webhook(webhook_id)
        cli.emit(rotated, lambda out: out.print(
            f"new secret {rotated.secret} (shown once); the previous one signs too until "
            f"{rotated.previousSecretExpiresAt}"))

    @webhooks.command("test")
    def test(ctx: typer.Context, webhook_id: str) -> None:
        """Send a webhook.test event now and show the attempt's outcome."""
        cli = ctx.obj
        view = cli.client().test_webhook(webhook_id)
        cli.emit(view, delivery_human(view))

    @webhooks.command("deliveries")
    def deliveries(ctx: typer.Context, webhook_id: str) -> None:
        """The webhook's delivery log, newest first."""
        cli = ctx.obj
        listed = cli.client().webhook_deliveries(webhook_id)

        def human(out) -> None:
            table = Table("deliveryId", "type", "state", "attempts", "created")
            for d in listed.deliveries:
                table.add_row(d.deliveryId, d.type, d.state, str(len(d.attempts)), d.createdAt)
            out.print(table if listed.deliveries else "no delivery yet")

        cli.emit(listed, human)

    @webhooks.command("replay")
    def replay(ctx: typer.Context, webhook_id: str, delivery_id: str) -> None:
        """Send one delivery again now (signed with the current secrets)."""
        cli = ctx.obj
        view = cli.client().replay_delivery(webhook_id, delivery_id)
        cli.emit(view, delivery_human(view))

    email = typer.Typer(help="Your notification email (SES; only a verified address gets mail).",
                        no_args_is_help=True)
    app.add_typer(email, name="email")

    @email.command("set")
    def set_(ctx: typer.Context, address: str) -> None:
        """Set your notification email: SES sends it a verification link."""
        cli = ctx.obj
        view = cli.client().set_email(address)
        cli.emit(view, lambda out: out.print(f"{view.email}: {view.status}"
                                             f"{'' if view.verified else ' (open the verification link)'}"))

    @email.command("show")
    def show(ctx: typer.Context) -> None:
        """Your notification email and its verification status."""
        cli = ctx.obj
        view = cli.client().get_email()
        cli.emit(view, lambda out: out.print(f"{view.email}: {view.status} "
                                             f"({'verified' if view.verified else 'not verified'})"))
