"""Construct ids from resource names (physical names come from ``resources.physical_name``)."""

from __future__ import annotations


def pascal(name: str) -> str:
    """``registration-worker`` / ``usage_batch`` -> ``RegistrationWorker`` / ``UsageBatch``."""
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))
