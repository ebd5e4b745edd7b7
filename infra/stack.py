"""The marketplace stack: composes one construct per concern, defines nothing itself."""

from __future__ import annotations

from aws_cdk import Annotations, CfnOutput, CfnResource, Stack, Tags
from constructs import Construct
from marketplace.resources import physical_name

from infra.api import Api
from infra.config import StageConfig
from infra.data import Tables
from infra.functions import Functions
from infra.keys import Keys
from infra.layers import Layers
from infra.naming import pascal
from infra.queues import Queues
from infra.relayer_balance import RelayerBalanceAlarm
from infra.schedules import Schedules
from infra.secret_store import Secrets
from infra.state_machines import StateMachines
from infra.storage import Buckets
from infra.websockets import WebSocketApis


class MarketplaceStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, description=f"zk data marketplace ({config.prefix})", **kwargs)
        self.config = config
        for key, value in config.tags.items():
            Tags.of(self).add(key, value)
        if not config.deployment_found:
            message = (f"{config.deployment_file} not found: CHAIN_CONFIG has no contract addresses. "
                       "Deploy the contracts (docs/deploy.md) before deploying this stack.")
            if config.is_production:
                Annotations.of(self).add_error(message)
            else:
                Annotations.of(self).add_warning_v2("zkdm:noDeployment", message)

        self.tables = Tables(self, "Tables", config=config)
        self.buckets = Buckets(self, "Buckets", config=config)
        self.queues = Queues(self, "Queues", config=config)
        self.secrets = Secrets(self, "Secrets", config=config)
        self.keys = Keys(self, "Keys", config=config)
        self.layers = Layers(self, "Layers", config=config)
        self.api = Api(self, "Api", config=config)
        self.functions = Functions(
            self, "Functions", config=config, tables=self.tables, buckets=self.buckets,
            queues=self.queues, secrets=self.secrets, keys=self.keys, layers=self.layers,
            public_base_url=self.api.public_url,
        )
        self.schedules = Schedules(self, "Schedules", config=config, functions=self.functions.by_name)
        self.state_machines = StateMachines(self, "StateMachines", config=config,
                                            functions=self.functions.by_name)
        self.functions.connect_state_machines(self.state_machines.by_name)
        self.relayer_balance = RelayerBalanceAlarm(self, "RelayerBalance", config=config)
        self.api.add_routes(self.functions.by_name)
        account = self.api.rest_api.node.try_find_child("Account")  # the account's API Gateway logging role
        self.websockets = WebSocketApis(self, "WebSockets", config=config, functions=self.functions.by_name,
                                        roles=self.functions.roles,
                                        log_role_dependency=account if isinstance(account, CfnResource) else None)

        CfnOutput(self, "ApiUrl", value=self.api.rest_api.url)
        for name in self.websockets.apis:
            CfnOutput(self, f"WebSocket{pascal(name)}Url", value=self.websockets.url(name))
        for name, bucket in self.buckets.by_name.items():
            CfnOutput(self, f"Bucket{pascal(name)}", value=bucket.bucket_name)
        for name in self.secrets.by_name:
            CfnOutput(self, f"Secret{pascal(name)}", value=physical_name(config.prefix, name))
        for name, kms_key in self.keys.by_name.items():  # its address: python -m marketplace.chain.kms ARN
            CfnOutput(self, f"Key{pascal(name)}", value=kms_key.key_arn)
