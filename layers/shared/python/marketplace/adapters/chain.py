"""The chain, for the functions: a ``ChainGateway`` (``marketplace.chain``) built from a function's
``_ChainSender`` configuration, one per configuration per process.

Everything that sends or reads goes through the gateway: relayed transactions signed by the KMS
relayer key under the DynamoDB nonce lease and journaled, reverts decoded into ``ContractRevert``,
logs read in bounded pages. ``Chain`` is the gateway's type under the name the callers know.
"""

from __future__ import annotations

from typing import Any

from marketplace.chain.gateway import ChainGateway, gateway_for, load_abi

Chain = ChainGateway

__all__ = ["Chain", "get_chain", "load_abi"]


def get_chain(cfg: Any, **settings: Any) -> ChainGateway:
    """The gateway of a ``config._ChainSender`` model (``settings`` override its gateway settings,
    e.g. ``confirmations`` for the monitor)."""
    return gateway_for(cfg.chain, cfg.gateway_settings(**settings))
