"""Create every AWS resource of ``marketplace.resources`` in a moto server.

``create_local_resources(endpoint_url, prefix)`` is the local twin of the CDK app: the same list,
the same physical names (``{prefix}-{name}``), the same keys and indexes. It returns the
environment variables the handlers read for those resources (``spec.env`` -> table name, bucket
name, queue URL, secret name, KMS key ARN, state machine ARN); settings such as ``PUBLIC_BASE_URL`` and
``CHAIN_CONFIG`` are the caller's to add. State machines reference each function by the ARN it
gets when the caller creates it in moto (``local.lambdas.create_moto_functions``), so create the
functions with the same ``prefix``.
"""

from __future__ import annotations

import json
import secrets as pysecrets
from pathlib import Path
from typing import Any, TypedDict

from marketplace import resources

from local.lambdas import REGION, function_arn

ROOT = Path(__file__).resolve().parents[1]
STATEMACHINES_DIR = ROOT / "statemachines"
STATES_ROLE = "local-states-role"


class _Where(TypedDict):
    """Where a boto3 client of the local stack talks to: ``boto3.client(service, **where)``."""

    endpoint_url: str
    region_name: str


def _create_table(ddb, prefix: str, spec: resources.TableSpec) -> str:
    name = resources.physical_name(prefix, spec.name)

    def attr_type(attr: str) -> str:
        return "N" if attr in spec.numeric else "S"

    def key_schema(pk: str, sk: str | None) -> list[dict[str, str]]:
        return [{"AttributeName": pk, "KeyType": "HASH"}] + (
            [{"AttributeName": sk, "KeyType": "RANGE"}] if sk else [])

    attrs = {spec.pk, *([spec.sk] if spec.sk else [])}
    for index in spec.indexes:
        attrs |= {index.pk, *([index.sk] if index.sk else [])}
    kwargs: dict[str, Any] = {
        "TableName": name,
        "KeySchema": key_schema(spec.pk, spec.sk),
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": attr_type(a)} for a in sorted(attrs)],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if spec.stream:  # moto keeps the stream's records; local.workers.StreamPoller reads them
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": spec.stream}
    if spec.indexes:
        kwargs["GlobalSecondaryIndexes"] = [
            {"IndexName": ix.name, "KeySchema": key_schema(ix.pk, ix.sk), "Projection": {"ProjectionType": "ALL"}}
            for ix in spec.indexes
        ]
    try:
        ddb.create_table(**kwargs)
    except ddb.exceptions.ResourceInUseException:
        return name
    if spec.ttl:
        ddb.update_time_to_live(TableName=name,
                                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl})
    return name


def _create_bucket(s3, prefix: str, spec: resources.BucketSpec) -> str:
    name = resources.physical_name(prefix, spec.name)
    try:
        s3.create_bucket(Bucket=name)
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        return name
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    if spec.versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    if spec.expire_days:
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [{
            "ID": "expire-staging", "Status": "Enabled", "Filter": {"Prefix": ""},
            "Expiration": {"Days": spec.expire_days},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": spec.expire_days}}]})
    if spec.cors_post:
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [{
            "AllowedMethods": ["POST"], "AllowedOrigins": ["*"], "AllowedHeaders": ["*"], "MaxAgeSeconds": 3000}]})
    return name


def _create_queue(sqs, prefix: str, spec: resources.QueueSpec) -> tuple[str, str]:
    """The queue's URL and its dead-letter queue's URL."""
    fifo = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if spec.fifo else {}
    dlq_url = sqs.create_queue(QueueName=resources.physical_name(prefix, f"{spec.name}-dlq", fifo=spec.fifo),
                               Attributes=fifo)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receive_count})
    return sqs.create_queue(
        QueueName=resources.physical_name(prefix, spec.name, fifo=spec.fifo),
        Attributes={**fifo, "VisibilityTimeout": str(spec.visibility_timeout), "RedrivePolicy": redrive},
    )["QueueUrl"], dlq_url


def _create_secret(sm, prefix: str, spec: resources.SecretSpec, value: str | None) -> str:
    name = resources.physical_name(prefix, spec.name)
    if value is None and spec.generate == "random-hex32":
        value = pysecrets.token_hex(32)
    try:
        sm.create_secret(Name=name, Description=spec.description,
                         **({"SecretString": value} if value is not None else {}))
    except sm.exceptions.ResourceExistsException:
        if value is not None:
            sm.put_secret_value(SecretId=name, SecretString=value)
    return name


def _create_key(kms, prefix: str, spec: resources.KeySpec) -> str:
    """A KMS key (``alias/{prefix}-{name}``); its ARN. Kept if the alias exists."""
    alias = f"alias/{resources.physical_name(prefix, spec.name)}"
    try:
        return kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"]
    except kms.exceptions.NotFoundException:
        pass
    arn = kms.create_key(KeySpec=spec.key_spec, KeyUsage=spec.usage, Description=spec.description)["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName=alias, TargetKeyId=arn)
    return arn


def _states_role(iam) -> str:
    try:
        return iam.get_role(RoleName=STATES_ROLE)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                          "Principal": {"Service": "states.amazonaws.com"}}]}
        return iam.create_role(RoleName=STATES_ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def state_machine_definition(spec: resources.StateMachineSpec, prefix: str) -> str:
    """The ASL file with each ``${Placeholder}`` replaced by its function's local ARN."""
    text = (STATEMACHINES_DIR / spec.definition).read_text()
    for placeholder, function in spec.functions.items():
        text = text.replace("${" + placeholder + "}", function_arn(resources.physical_name(prefix, function)))
    return text


def _create_state_machine(sfn, role: str, prefix: str, spec: resources.StateMachineSpec) -> str:
    name = resources.physical_name(prefix, spec.name)
    definition = state_machine_definition(spec, prefix)
    for machine in sfn.list_state_machines()["stateMachines"]:
        if machine["name"] == name:
            sfn.update_state_machine(stateMachineArn=machine["stateMachineArn"], definition=definition)
            return machine["stateMachineArn"]
    return sfn.create_state_machine(name=name, definition=definition, roleArn=role,
                                    type="EXPRESS" if spec.express else "STANDARD")["stateMachineArn"]


def create_local_resources(endpoint_url: str, prefix: str, *,
                           secret_values: dict[str, str] | None = None) -> dict[str, str]:
    """Create every table, bucket, queue, secret, KMS key and state machine of ``resources`` in the
    moto server at ``endpoint_url``; return ``{env var: name, URL or ARN}`` for the handlers.

    ``secret_values`` (by secret name) sets a secret's value;
    otherwise "random-hex32" secrets get a random value and "external" ones are created empty
    (put their value later). Calling it again with the same prefix keeps what exists.
    """
    secret_values = secret_values or {}
    env: dict[str, str] = {}
    import boto3

    where = _Where(endpoint_url=endpoint_url, region_name=REGION)
    ddb = boto3.client("dynamodb", **where)
    for table in resources.TABLES:
        env[table.env] = _create_table(ddb, prefix, table)
    s3 = boto3.client("s3", **where)
    for bucket in resources.BUCKETS:
        env[bucket.env] = _create_bucket(s3, prefix, bucket)
    sqs = boto3.client("sqs", **where)
    for queue in resources.QUEUES:
        env[queue.env], dlq_url = _create_queue(sqs, prefix, queue)
        if queue.dlq_env:
            env[queue.dlq_env] = dlq_url
    sm = boto3.client("secretsmanager", **where)
    for secret in resources.SECRETS:
        env[secret.env] = _create_secret(sm, prefix, secret, secret_values.get(secret.name))
    kms = boto3.client("kms", **where)
    for key in resources.KEYS:
        env[key.env] = _create_key(kms, prefix, key)
    for function in resources.FUNCTIONS:  # the name a function's invokers call it by
        if function.invoke_env:
            env[function.invoke_env] = resources.physical_name(prefix, function.name)
    if resources.STATE_MACHINES:
        role = _states_role(boto3.client("iam", **where))
        sfn = boto3.client("stepfunctions", **where)
        for machine in resources.STATE_MACHINES:
            env[machine.env] = _create_state_machine(sfn, role, prefix, machine)
    return env


def verify_email_sender(endpoint_url: str, address: str) -> None:
    """Verify ``address`` as an SES identity in moto (moto verifies at once), so the
    notifications consumer may send as ``EMAIL_FROM``; in AWS ops verify the domain (docs/deploy.md)."""
    import boto3

    boto3.client("ses", endpoint_url=endpoint_url, region_name=REGION).verify_email_identity(EmailAddress=address)
