"""Shared code of the marketplace: logic, adapters, zero-knowledge prover."""
