"""The relayer: the only API-side holder of the relayer key. Invoked synchronously by the license
API with ``{"contract", "function", "args", "purpose"}``; sends that call through the chain gateway
if it is one of ``marketplace.chain.relay.ALLOWED`` and answers ``{"receipt"}`` or ``{"error"}``."""

from __future__ import annotations

import functools
from typing import Any

from marketplace import config
from marketplace.chain.relay import relay
from marketplace.kit import observability


@functools.cache
def gateway():
    from marketplace.adapters.chain import get_chain

    return get_chain(config.load(config.RelayerConfig))


def _relay(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return relay(gateway(), event)


handler = observability.wrap(_relay, "relayer", before=observability.env_check(config.RelayerConfig))
