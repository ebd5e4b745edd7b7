"""Lambda functions, one per ``resources.FUNCTIONS`` entry, each with its own role.

Code: ``functions/<spec.handler>/`` (``handler.handler``) plus the layers (``infra.layers``).
Environment: the physical name of every table, bucket, queue and secret the spec lists, under
that resource's ``env`` key (state machines and KMS keys: the ARN), plus ``CHAIN_CONFIG`` for chain functions
and every ``resources.SETTINGS`` entry the spec lists (computed here, or from context
``settings``, or left to its default in ``marketplace.config``), ``ZK_KEYS_DIR`` for all and
``ZK_KEYS_S3`` for provers (``infra.layers``).
Permissions: exactly those resources, with the data-plane actions a handler uses (no ``*``
actions, no table scans, no bucket configuration); buckets are read, or read and written when the
spec lists them in ``bucket_writes``.
"""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import Aws, Duration, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct
from marketplace.resources import (
    BUCKETS,
    FUNCTIONS,
    KEYS,
    QUEUES,
    SECRETS,
    SETTINGS,
    STATE_MACHINES,
    TABLES,
    FunctionSpec,
    by_name,
    physical_name,
)

from infra.config import ConfigError, StageConfig
from infra.data import Tables
from infra.keys import Keys
from infra.layers import ARCHITECTURE, CONTRACTS_ABI_DIR, RUNTIME, ZK_KEYS_DIR, Layers, MissingBuildError
from infra.log_groups import log_group
from infra.naming import pascal
from infra.queues import Queues
from infra.secret_store import Secrets
from infra.storage import Buckets

TABLE_ACTIONS = [
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem",
    "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
]
# Objects: every listed bucket is read (and its versions, if versioned: the registration reads and
# copies one VersionId); ``bucket_writes`` are also written. ListMultipartUploadParts: ListParts of
# a multipart upload; AbortMultipartUpload: boto3's managed transfers (copy/upload over 8 MB) clean
# up failed parts.
READ_OBJECT_ACTIONS = ["s3:GetObject"]
READ_VERSION_ACTIONS = ["s3:GetObjectVersion"]
WRITE_OBJECT_ACTIONS = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
BUCKET_ACTIONS = ["s3:ListBucket"]  # so a missing key reads as 404 rather than 403
QUEUE_ACTIONS = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
SECRET_ACTIONS = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
KEY_ACTIONS = ["kms:Sign", "kms:GetPublicKey"]  # the relayer key: sign digests, derive the address
INVOKE_ACTIONS = ["lambda:InvokeFunction"]  # a synchronous call of another function (the relayer)
# SES (v1 API): a creator verifies any address ("verify"); mail goes out only as EMAIL_FROM ("send");
# reading verification status has no resource-level permission
SES_VERIFY_ACTIONS = ["ses:VerifyEmailIdentity"]
SES_SEND_ACTIONS = ["ses:SendRawEmail"]
SES_STATUS_ACTIONS = ["ses:GetIdentityVerificationAttributes"]
PROVER_TMP = Size.gibibytes(2)  # /tmp for the proving files a prover downloads


def handler_dir(root: Path, spec: FunctionSpec) -> Path:
    """``functions/<spec.handler>``, which must hold ``handler.py`` (nothing is invented here)."""
    code_dir = root / "functions" / spec.handler
    if not (code_dir / "handler.py").is_file():
        raise MissingBuildError(f"{code_dir}/handler.py missing: resources.FUNCTIONS declares function "
                                f"{spec.name!r} but its handler has not been written")
    return code_dir


def ses_identity_arn(identity: str) -> str:
    return f"arn:{Aws.PARTITION}:ses:{Aws.REGION}:{Aws.ACCOUNT_ID}:identity/{identity}"


def ses_statements(spec: FunctionSpec, email_from: str | None) -> list[iam.PolicyStatement]:
    """SES permissions of a function: "verify" may start verification of any address (creators
    choose theirs); "send" may send only as ``EMAIL_FROM`` (the address identity, or its domain's),
    and nothing when ``EMAIL_FROM`` is not set (email is then off)."""
    out: list[iam.PolicyStatement] = []
    if spec.ses:
        out.append(iam.PolicyStatement(actions=SES_STATUS_ACTIONS, resources=["*"]))
    if "verify" in spec.ses:
        out.append(iam.PolicyStatement(actions=SES_VERIFY_ACTIONS, resources=[ses_identity_arn("*")]))
    if "send" in spec.ses and email_from:
        domain = email_from.rsplit("@", 1)[-1]
        out.append(iam.PolicyStatement(
            actions=SES_SEND_ACTIONS, resources=[ses_identity_arn(email_from), ses_identity_arn(domain)],
            conditions={"StringEquals": {"ses:FromAddress": email_from}}))
    return out


class Functions(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, tables: Tables,
        buckets: Buckets, queues: Queues, secrets: Secrets, keys: Keys, layers: Layers, public_base_url: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = config
        unknown = set(config.settings) - {s.env for s in SETTINGS}
        if unknown:
            raise ConfigError(f"context settings {sorted(unknown)} are not in resources.SETTINGS")
        # the settings the stack knows; any other comes from context "settings" or its default
        self.computed_settings = {
            "PUBLIC_BASE_URL": public_base_url,
            "CHAIN_ID": str(config.chain_config["chainId"]),
            "CHAIN_CONFIG": json.dumps(config.chain_config, sort_keys=True, separators=(",", ":")),
            "CONTRACTS_ABI_DIR": CONTRACTS_ABI_DIR,
        }
        self.by_name: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        for spec in FUNCTIONS:
            code_dir = handler_dir(config.root, spec)
            name = physical_name(config.prefix, spec.name)
            role = iam.Role(
                self, f"{pascal(spec.name)}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"{name}: only the resources resources.FUNCTIONS lists for it",
            )
            logs = log_group(self, f"{pascal(spec.name)}Logs", f"/aws/lambda/{name}", config)
            fn = lambda_.Function(
                self, pascal(spec.name),
                function_name=name,
                description=f"{spec.name} (functions/{spec.handler})",
                runtime=RUNTIME, architecture=ARCHITECTURE,
                handler="handler.handler",
                code=lambda_.Code.from_asset(str(code_dir), exclude=["**/__pycache__", "**/*.pyc"]),
                layers=layers.all,
                memory_size=spec.memory,
                timeout=Duration.seconds(spec.timeout),
                ephemeral_storage_size=PROVER_TMP if spec.prover else None,
                role=role,
                log_group=logs,
                tracing=lambda_.Tracing.ACTIVE,
                environment=self._environment(spec, tables, buckets, queues, secrets, keys, layers),
            )
            logs.grant_write(role)
            self._grant(spec, role, tables, buckets, queues, secrets, keys, layers)
            if spec.consumes:  # the event source mapping (its consume permissions on that queue only)
                fn.add_event_source(event_sources.SqsEventSource(
                    queues.by_name[spec.consumes], batch_size=spec.batch_size, report_batch_item_failures=True))
            if spec.stream:  # a DynamoDB Streams mapping: new items only, retried from a failed record
                fn.add_event_source(event_sources.DynamoEventSource(
                    tables.by_name[spec.stream], starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                    batch_size=spec.batch_size, report_batch_item_failures=True,
                    max_batching_window=Duration.seconds(1),
                    filters=[lambda_.FilterCriteria.filter({"eventName": lambda_.FilterRule.is_equal("INSERT")})]))
            self.by_name[spec.name] = fn
            self.roles[spec.name] = role

    def _environment(self, spec: FunctionSpec, tables: Tables, buckets: Buckets, queues: Queues,
                     secrets: Secrets, keys: Keys, layers: Layers) -> dict[str, str]:
        c = self.config
        env = {
            "STAGE": c.stage,
            "ZK_KEYS_DIR": ZK_KEYS_DIR,
            "POWERTOOLS_SERVICE_NAME": spec.name,
            "POWERTOOLS_METRICS_NAMESPACE": c.project,
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        for names, specs, physical in (
            (spec.tables, TABLES, lambda n: tables.by_name[n].table_name),
            (spec.buckets, BUCKETS, lambda n: buckets.by_name[n].bucket_name),
            (spec.queues, QUEUES, lambda n: queues.by_name[n].queue_name),
            # the name, not secret_name (CDK derives that from the ARN with a chain of Fn::Split)
            (spec.secrets, SECRETS, lambda n: physical_name(c.prefix, n)),
            (spec.keys, KEYS, lambda n: keys.by_name[n].key_arn),
        ):
            for n in names:
                env[by_name(specs, n).env] = physical(n)
        for n in spec.invokes:  # the functions it invokes, by name
            invoke_env = by_name(FUNCTIONS, n).invoke_env
            if not invoke_env:
                raise ConfigError(f"function {spec.name!r} invokes {n!r}, which declares no invoke_env")
            env[invoke_env] = physical_name(c.prefix, n)
        for n in spec.queues:  # a queue's dead-letter queue, for functions that put messages there
            dlq_env = by_name(QUEUES, n).dlq_env
            if dlq_env:
                env[dlq_env] = queues.dead_letters[n].queue_name
        for name in spec.settings + (("CHAIN_CONFIG",) if spec.chain else ()):
            value = c.settings.get(name, self.computed_settings.get(name))
            if value is not None:
                env[name] = value
            elif by_name(SETTINGS, name, key="env").required:
                raise ConfigError(f"function {spec.name!r} requires setting {name}: pass it with "
                                  f"-c settings='{{\"{name}\": ...}}'")
        if spec.prover:
            env["ZK_KEYS_S3"] = layers.zk_keys_s3_env()
        return env

    def _grant(self, spec: FunctionSpec, role: iam.Role, tables: Tables, buckets: Buckets,
               queues: Queues, secrets: Secrets, keys: Keys, layers: Layers) -> None:
        def allow(actions: list[str], resources: list[str]) -> None:
            if resources:
                role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=resources))

        table_arns = []
        for n in spec.tables:
            table = tables.by_name[n]
            table_arns.append(table.table_arn)
            table_arns += [f"{table.table_arn}/index/{i.name}" for i in by_name(TABLES, n).indexes]
        allow(TABLE_ACTIONS, table_arns)
        unknown = set(spec.bucket_writes) - set(spec.buckets)
        if unknown:
            raise ConfigError(f"function {spec.name!r}: bucket_writes {sorted(unknown)} not in its buckets")
        for n in spec.buckets:  # one statement per bucket (a Sid: never merged with the proving files' reads)
            actions = READ_OBJECT_ACTIONS + (READ_VERSION_ACTIONS if by_name(BUCKETS, n).versioned else [])
            actions += WRITE_OBJECT_ACTIONS if n in spec.bucket_writes else []
            role.add_to_principal_policy(iam.PolicyStatement(
                sid=f"{pascal(n)}Objects{'ReadWrite' if n in spec.bucket_writes else 'Read'}",
                actions=actions, resources=[buckets.by_name[n].arn_for_objects("*")]))
        allow(BUCKET_ACTIONS, [buckets.by_name[n].bucket_arn for n in spec.buckets])
        allow(QUEUE_ACTIONS, [queues.by_name[n].queue_arn for n in spec.queues])
        allow(QUEUE_ACTIONS, [queues.dead_letters[n].queue_arn for n in spec.queues if by_name(QUEUES, n).dlq_env])
        for statement in ses_statements(spec, self.config.settings.get("EMAIL_FROM")):
            role.add_to_principal_policy(statement)
        allow(SECRET_ACTIONS, [secrets.by_name[n].secret_arn for n in spec.secrets])
        allow(KEY_ACTIONS, [keys.by_name[n].key_arn for n in spec.keys])
        allow(INVOKE_ACTIONS, [f"arn:{Aws.PARTITION}:lambda:{Aws.REGION}:{Aws.ACCOUNT_ID}:function:"
                               f"{physical_name(self.config.prefix, n)}" for n in spec.invokes])
        if spec.prover:
            layers.grant_proving_files(role)

    def connect_state_machines(self, machines: dict[str, sfn.StateMachine]) -> None:
        """Give each function the state machines its spec lists (built after the functions, since
        a state machine's definition needs the ARNs of the functions it invokes)."""
        for spec in FUNCTIONS:
            for n in spec.state_machines:
                machine, sm_spec = machines[n], by_name(STATE_MACHINES, n)
                self.by_name[spec.name].add_environment(sm_spec.env, machine.state_machine_arn)
                self.roles[spec.name].add_to_principal_policy(iam.PolicyStatement(
                    actions=["states:StartExecution"], resources=[machine.state_machine_arn]))
                # executions of this machine only (their names are chosen at start)
                executions = (f"arn:{Aws.PARTITION}:states:{Aws.REGION}:{Aws.ACCOUNT_ID}:execution:"
                              f"{physical_name(self.config.prefix, n)}:*")
                self.roles[spec.name].add_to_principal_policy(iam.PolicyStatement(
                    actions=["states:DescribeExecution", "states:StopExecution"], resources=[executions]))
