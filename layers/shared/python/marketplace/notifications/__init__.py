"""Notifications to creators (issue 9, items 6 and 7): webhooks per Standard Webhooks and email
through SES, fed by the ``notifications`` queue (docs/design.md, "Notifications")."""
