"""Payments context (Flow 4): the payment lifecycle (``models``), the chain events' consumer
(``consumer``: payments, earnings, withdrawals, refunds, revocations, notifications), refunds at
expiry (``refunds``), the payments API (``services``, ``routes``, ``schemas``), the store and the
escrow (``ports``, ``adapters``, ``fakes``). docs/design.md, "Payments (Flow 4)"."""
