"""SQS queues, one per ``resources.QUEUES`` entry, each with its dead-letter queue ``{name}-dlq``.

SSE-SQS encryption, TLS-only, FIFO where the spec says (content-based deduplication on: a
producer may still set its own deduplication id). The DLQ keeps messages for 14 days; a CloudWatch
alarm fires as soon as one holds a message.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from marketplace.resources import QUEUES, physical_name

from infra.config import StageConfig
from infra.naming import pascal


class Queues(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.by_name: dict[str, sqs.Queue] = {}
        self.dead_letters: dict[str, sqs.Queue] = {}
        self.alarms: dict[str, cloudwatch.Alarm] = {}  # one per dead-letter queue: any message in it
        for spec in QUEUES:
            common: dict[str, Any] = {  # Queue keyword arguments of the queue and its DLQ
                "fifo": True if spec.fifo else None,  # None, not False, for a standard queue
                "content_based_deduplication": True if spec.fifo else None,
                "encryption": sqs.QueueEncryption.SQS_MANAGED,
                "enforce_ssl": True,
                "removal_policy": RemovalPolicy.RETAIN if config.is_production else RemovalPolicy.DESTROY,
            }
            dlq = sqs.Queue(
                self, f"{pascal(spec.name)}Dlq",
                queue_name=physical_name(config.prefix, f"{spec.name}-dlq", fifo=spec.fifo),
                retention_period=Duration.days(14), **common,
            )
            self.dead_letters[spec.name] = dlq
            self.alarms[spec.name] = cloudwatch.Alarm(
                self, f"{pascal(spec.name)}DlqAlarm",
                alarm_name=physical_name(config.prefix, f"{spec.name}-dlq"),
                alarm_description=f"messages in {spec.name}'s dead-letter queue: a poison message, or (webhook "
                                  "deliveries) a delivery that failed every scheduled attempt",
                metric=dlq.metric_approximate_number_of_messages_visible(period=Duration.minutes(1),
                                                                         statistic="Maximum"),
                threshold=1, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            self.by_name[spec.name] = sqs.Queue(
                self, pascal(spec.name),
                queue_name=physical_name(config.prefix, spec.name, fifo=spec.fifo),
                visibility_timeout=Duration.seconds(spec.visibility_timeout),
                dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=spec.max_receive_count, queue=dlq),
                **common,
            )
