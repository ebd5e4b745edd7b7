"""DynamoDB tables, one per ``resources.TABLES`` entry.

On-demand billing, point-in-time recovery, AWS-managed KMS encryption, TTL on the spec's
attribute, the spec's GSIs (projection ALL), and RETAIN: deleting the stack never deletes data.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as ddb
from constructs import Construct
from marketplace.resources import TABLES, TableSpec, physical_name

from infra.config import StageConfig
from infra.naming import pascal


def _attribute(spec: TableSpec, name: str) -> ddb.Attribute:
    kind = ddb.AttributeType.NUMBER if name in spec.numeric else ddb.AttributeType.STRING
    return ddb.Attribute(name=name, type=kind)


class Tables(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, ddb.Table] = {}
        for spec in TABLES:
            table = ddb.Table(
                self, pascal(spec.name),
                table_name=physical_name(config.prefix, spec.name),
                partition_key=_attribute(spec, spec.pk),
                sort_key=_attribute(spec, spec.sk) if spec.sk else None,
                billing_mode=ddb.BillingMode.PAY_PER_REQUEST,
                point_in_time_recovery_specification=ddb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True),
                encryption=ddb.TableEncryption.AWS_MANAGED,
                time_to_live_attribute=spec.ttl,
                # a stream for the function whose spec reads it (FunctionSpec.stream)
                stream=ddb.StreamViewType(spec.stream) if spec.stream else None,
                deletion_protection=config.is_production,
                removal_policy=RemovalPolicy.RETAIN,
            )
            for index in spec.indexes:
                table.add_global_secondary_index(
                    index_name=index.name,
                    partition_key=_attribute(spec, index.pk),
                    sort_key=_attribute(spec, index.sk) if index.sk else None,
                    projection_type=ddb.ProjectionType.ALL,
                )
            self.by_name[spec.name] = table
