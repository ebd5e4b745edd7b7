"""Email bodies per event type (plain text and HTML) and the MIME message SES sends."""

from __future__ import annotations

import html as _html
from email.message import EmailMessage
from email.utils import make_msgid

from marketplace.notifications.models import NotificationMessage

SUBJECTS = {
    "payment.completed": "Payment completed: {amount} for content {contentId}",
    "license.purchased": "License purchased for content {contentId}",
    "usage.batch_logged": "Usage batch logged for license {licenseId}",
    "license.revoked": "License {licenseId} revoked",
    "refund.completed": "Refund completed for license {licenseId}",
}
INTROS = {
    "payment.completed": "A payment to you was released from escrow.",
    "license.purchased": "A buyer purchased a license to your content.",
    "usage.batch_logged": "A batch of uses of your content was proven and logged on chain.",
    "license.revoked": "A license to your content was revoked.",
    "refund.completed": "A buyer's unused deposit was refunded.",
}
FIELD_LABELS = {"amount": "Amount (token base units)", "contentId": "Content", "licenseId": "License",
                "batchId": "Batch", "txHash": "Transaction", "uses": "Uses", "platformFee": "Platform fee"}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return "?"


def render(message: NotificationMessage) -> tuple[str, str, str]:
    """(subject, plain text, HTML) for one notification."""
    fields = _Blank({k: str(v) for k, v in message.data.items()})
    subject = SUBJECTS[message.type].format_map(fields)
    intro = INTROS[message.type]
    rows = [(FIELD_LABELS.get(k, k), str(v)) for k, v in message.data.items()]
    text = "\n".join([intro, "", *(f"{label}: {value}" for label, value in rows), "",
                      f"Event: {message.type} ({message.id}) at {message.occurredAt}", ""])
    cells = "".join(f"<tr><th align=\"left\">{_html.escape(label)}</th><td><code>{_html.escape(value)}</code></td></tr>"
                    for label, value in rows)
    html = (f"<!doctype html><html><body><p>{_html.escape(intro)}</p><table>{cells}</table>"
            f"<p><small>Event {_html.escape(message.type)} ({_html.escape(message.id)}) at "
            f"{_html.escape(message.occurredAt)}</small></p></body></html>")
    return subject, text, html


def mime(sender: str, to: str, subject: str, text: str, html: str) -> str:
    """A multipart/alternative message: the text part first, the HTML part preferred."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg.as_string()
