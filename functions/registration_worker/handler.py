"""The registration saga's tasks: ``{"step": "store"|"prove"|"register"|"cache"|"compensate",
"input": <execution state>}`` → the step's result (see marketplace.content.saga).

A failing step raises its ``MarketplaceError`` (Lambda reports the class name as ``errorType``);
the state machine's Catch sends the execution to ``compensate``.
"""

from __future__ import annotations

import functools

from aws_lambda_powertools import Logger
from marketplace import config
from marketplace.adapters.chain import get_chain
from marketplace.adapters.secrets import get_secret_bytes
from marketplace.content.adapters import DynamoContent, DynamoRegistrations, S3Objects, prove_authenticity
from marketplace.content.saga import REGISTRY, RegistrationSteps

logger = Logger(service="registration-worker")


@functools.cache
def steps() -> RegistrationSteps:
    cfg = config.load(config.RegistrationWorkerConfig)
    return RegistrationSteps(
        registrations=DynamoRegistrations(cfg.registrations_table, cfg.content_table),
        content=DynamoContent(cfg.content_table), objects=S3Objects(), content_bucket=cfg.content_bucket, uploads_bucket=cfg.uploads_bucket,
        chain_id=cfg.chain.chainId, registry=cfg.chain.address(REGISTRY),
        chain=lambda: get_chain(cfg),
        prove_authenticity=prove_authenticity,
        identity_key=lambda: get_secret_bytes(cfg.identity_secret_id),
    )


@logger.inject_lambda_context
def handler(event, context):
    config.load(config.RegistrationWorkerConfig)  # a missing or malformed variable fails here
    step = event["step"]
    state = event["input"]
    logger.append_keys(registrationId=state.get("registrationId"), step=step)
    return steps().run(step, state)
