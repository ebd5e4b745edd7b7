"""CDK entry point: ``uv run --frozen python -m infra.app`` (cdk.json's "app").

Context (cdk.json, or ``-c key=value``): ``project``, ``stage``, ``network`` (a key of
``networks``: ``rpcUrl``, ``chainId``), ``deploymentFile``, ``logRetentionDays``, ``apiThrottle``,
``uploadCorsOrigins``, ``publicBaseUrl`` (a custom domain in front of the API), ``settings``
(values for optional ``resources.SETTINGS``, e.g. ``{"JWT_TTL_SECONDS": "900"}``).
No lookups: the stack is environment-agnostic and synthesizes offline.
"""

from __future__ import annotations

import os

# jsii prints a banner about the Node version on every start; the CDK CLI already checked it.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import App, Validations
from cdk_nag import AwsSolutionsChecks

from infra import config as stage_config
from infra.nag import suppress
from infra.stack import MarketplaceStack

CONTEXT_KEYS = ("project", "stage", "network", "networks", "rpcUrl", "chainId", "deploymentFile",
                "logRetentionDays", "apiThrottle", "uploadCorsOrigins", "publicBaseUrl", "settings")


def build(app: App, **overrides) -> MarketplaceStack:
    """The stack for ``app``'s context; ``overrides`` go to ``config.load`` (tests: ``build_dir``)."""
    ctx = {key: app.node.try_get_context(key) for key in CONTEXT_KEYS}
    config = stage_config.load(ctx, **overrides)
    stack = MarketplaceStack(app, config.prefix, config=config)
    # cdk-nag 3: a policy-validation plugin; any unacknowledged finding fails the synth.
    # Acknowledgments are also written into the template (Metadata.cdk_nag) as an audit trail.
    Validations.of(app).add_plugins(
        AwsSolutionsChecks(app, verbose=True, write_suppressions_to_cloud_formation=True))
    suppress(stack)
    return stack


def main() -> None:
    app = App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
