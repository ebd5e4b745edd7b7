"""Payments context (Flow 4): for now only the payment lifecycle and its model (``models``); the
escrow release flow, its store and adapters arrive with Flow 4."""
