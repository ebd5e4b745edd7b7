"""KMS keys, one per ``resources.KEYS`` entry, aliased ``alias/{prefix}-{name}``.

The relayer key is an asymmetric secp256k1 key (``ECC_SECG_P256K1``, ``SIGN_VERIFY``): its private
half never leaves KMS; the functions that send get ``kms:Sign`` and ``kms:GetPublicKey`` on it
(``infra.functions``) and derive its Ethereum address from the public key. Ops fund that address
and grant it the contracts' relayer roles (docs/deploy.md). Asymmetric keys cannot rotate
automatically (a new key is a new address); RETAIN: a deleted stack must not take the relayer's
account with it.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from constructs import Construct
from marketplace.resources import KEYS, physical_name

from infra.config import StageConfig
from infra.naming import pascal


class Keys(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, kms.Key] = {}
        for spec in KEYS:
            self.by_name[spec.name] = kms.Key(
                self, pascal(spec.name),
                alias=f"alias/{physical_name(config.prefix, spec.name)}",
                description=spec.description,
                key_spec=kms.KeySpec(spec.key_spec),
                key_usage=kms.KeyUsage(spec.usage),
                enable_key_rotation=False,
                removal_policy=RemovalPolicy.RETAIN,
            )
