"""Least privilege, function by function: the exact IAM actions each function's role allows, on
which resources, read from the synthesized template and compared with the list below, written by
hand (not derived from ``resources.FUNCTIONS``, so a spec that grants too much fails here).

Resources are named by what they are (``table:usage``, ``bucket:content/*``, ``secret:...``,
``key:relayer-key``, ``function:relayer``...); every role also writes its own log group and sends
X-Ray traces. A new function needs its line here."""

from __future__ import annotations

import json

import pytest
from marketplace.resources import FUNCTIONS, TABLES, by_name

pytestmark = pytest.mark.infra

TABLE = {"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
         "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"}
READ = {"s3:GetObject"}
VERSIONS = {"s3:GetObjectVersion"}
WRITE = {"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}
SECRET = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
SIGN = {"kms:Sign", "kms:GetPublicKey"}
SEND = {"sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"}
CONSUME = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
           "sqs:GetQueueUrl"}
STREAM = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}
COMMON = {("logs:CreateLogStream", "logs:self"), ("logs:PutLogEvents", "logs:self"),
          ("xray:PutTraceSegments", "*"), ("xray:PutTelemetryRecords", "*")}


def grants(*, tables=(), read=(), read_versions=(), write=(), secrets=(), keys=(), send=(), consume=(),
           starts=(), invokes=(), stream=None, prover=False, extra=()) -> set[tuple[str, str]]:
    """The (action, resource) pairs of a role, from what it may touch and how."""
    out = set(COMMON) | set(extra)
    for t in tables:
        labels = [f"table:{t}"] + [f"table:{t}/index/{i.name}" for i in by_name(TABLES, t).indexes]
        out |= {(a, label) for a in TABLE for label in labels}
    for b in read:
        out |= {(a, f"bucket:{b}/*") for a in READ | (VERSIONS if b in read_versions else set())}
        out |= {(a, f"bucket:{b}/*") for a in WRITE if b in write}
        out.add(("s3:ListBucket", f"bucket:{b}"))
    out |= {(a, f"secret:{s}") for s in secrets for a in SECRET}
    out |= {(a, f"key:{k}") for k in keys for a in SIGN}
    out |= {(a, f"queue:{q}") for q in send for a in SEND}
    out |= {(a, f"queue:{q}") for q in consume for a in CONSUME}
    for m in starts:
        out |= {("states:StartExecution", f"statemachine:{m}"), ("states:DescribeExecution", f"execution:{m}"),
                ("states:StopExecution", f"execution:{m}")}
    out |= {("lambda:InvokeFunction", f"function:{f}") for f in invokes}
    if stream:
        out |= {(a, f"table:{stream}") for a in STREAM} | {("dynamodb:ListStreams", "*")}
    if prover:
        out.add(("s3:GetObject", "proving-files"))
    return out


CHAIN_SENDER = ("chain-nonces", "chain-txs")
WEBSOCKET_PUSH = {("execute-api:ManageConnections", "websocket-connections:analytics-stream")}

EXPECTED: dict[str, set[tuple[str, str]]] = {
    "auth": grants(tables=("auth",), secrets=("jwt-signing-key",)),
    "authorizer": grants(secrets=("jwt-signing-key",)),
    # the uploads bucket read and written (presigned POST and parts, staging); never the content bucket
    "content-api": grants(tables=("content", "registrations", "ratelimits"), read=("uploads",),
                          read_versions=("uploads",), write=("uploads",), starts=("registration-saga",)),
    # reads one version of the staged upload, writes the content object (and deletes both)
    "registration-worker": grants(tables=("content", "registrations") + CHAIN_SENDER, read=("content", "uploads"),
                                  read_versions=("uploads",), write=("content", "uploads"),
                                  secrets=("identity-key",), keys=("relayer-key",), prover=True),
    "openapi": grants(),
    # the credential key; relayed sends only through the relayer function (no relayer key here)
    "license-api": grants(tables=("content", "terms", "quotes", "licenses", "apikeys", "ratelimits",
                                  "usage-signers"), secrets=("credential-key",), invokes=("relayer",)),
    "relayer": grants(tables=CHAIN_SENDER, keys=("relayer-key",)),
    # the hot path reads content objects (presigned GET): never writes or deletes them
    "access": grants(tables=("apikeys", "ratelimits", "licenses", "usage", "usage-signers", "content"),
                     read=("content",), starts=("usage-batches",)),
    "usage-batch-worker": grants(tables=("licenses", "usage", "usage-signers", "ratelimits", "batches")
                                 + CHAIN_SENDER, keys=("relayer-key",)),
    "usage-batch-prover": grants(tables=("licenses", "usage"), secrets=("credential-key",), prover=True),
    "usage-batch-scheduler": grants(starts=("usage-batches",)),
    "chain-monitor": grants(tables=CHAIN_SENDER, keys=("relayer-key",)),
    "chain-listener": grants(tables=("chain-cursors",), send=("chain-events", "analytics-events")),
    "payments": grants(tables=("payments", "licenses", "usage-signers", "idempotency"), consume=("chain-events",),
                       send=("notifications",)),
    "payments-api": grants(tables=("payments", "licenses")),
    "refunds": grants(tables=("payments",) + CHAIN_SENDER, keys=("relayer-key",)),
    "notifications-api": grants(tables=("webhooks", "deliveries", "creator-settings"), secrets=("webhook-key",),
                                extra={("ses:GetIdentityVerificationAttributes", "*"),
                                       ("ses:VerifyEmailIdentity", "ses-identity:*")}),
    "notifications": grants(tables=("webhooks", "deliveries", "creator-settings", "idempotency"),
                            consume=("notifications",), send=("webhook-deliveries", "webhook-deliveries-dlq"),
                            extra={("ses:GetIdentityVerificationAttributes", "*")}),
    "webhook-delivery": grants(tables=("webhooks", "deliveries", "idempotency"), secrets=("webhook-key",),
                               consume=("webhook-deliveries",), send=("webhook-deliveries", "webhook-deliveries-dlq")),
    # Flows 5-6: proofs (reports: the API and the worker store the PDFs they prove, and presign them)
    "proofs-api": grants(tables=("proofs", "batches", "licenses", "usage", "content", "ratelimits") + CHAIN_SENDER,
                         read=("reports",), write=("reports",), keys=("relayer-key",), starts=("proof-jobs",),
                         prover=True),
    "proofs-worker": grants(tables=("proofs", "batches", "licenses", "usage", "content") + CHAIN_SENDER,
                            read=("reports",), write=("reports",), keys=("relayer-key",), prover=True),
    # Flow 7: analytics
    "analytics-usage": grants(tables=("analytics", "licenses", "ws-connections"), stream="usage",
                              extra=WEBSOCKET_PUSH),
    "analytics-events": grants(tables=("analytics", "content", "licenses", "idempotency", "ws-connections"),
                               consume=("analytics-events",), extra=WEBSOCKET_PUSH),
    "analytics-api": grants(tables=("analytics",)),
    "analytics-stream": grants(tables=("ws-connections", "content"), secrets=("jwt-signing-key",)),
    "dashboard": grants(tables=("analytics", "content"), secrets=("jwt-signing-key",)),
    "method-not-allowed": grants(),
}

_PSEUDO = {"AWS::Partition", "AWS::Region", "AWS::AccountId", "AWS::URLSuffix"}


def _label(node, names: dict[str, str], own_logs: str) -> str:
    """A policy resource as a readable name (see the module's docstring)."""
    if isinstance(node, dict) and ("Fn::GetAtt" in node or "Ref" in node):
        ref = node["Fn::GetAtt"][0] if "Fn::GetAtt" in node else node["Ref"]
        return "logs:self" if ref == own_logs else names.get(ref, ref)
    if isinstance(node, dict) and "Fn::Join" in node:
        text = "".join(p if isinstance(p, str) else "" if p.get("Ref") in _PSEUDO else _label(p, names, own_logs)
                       for p in node["Fn::Join"][1])
    else:
        text = node if isinstance(node, str) else json.dumps(node)
    if text == "*":
        return text
    if ":s3:::cdk-" in text or "Fn::Sub" in text or "proving-files" in text:
        return "proving-files"  # the circuits' zkey and wasm objects, one ARN each (test_stack checks them)
    for kind, marker in (("execution", ":execution:"), ("function", ":function:"), ("ses-identity", ":identity/")):
        if marker in text:
            name = text.split(marker, 1)[1]
            return f"{kind}:{name.removeprefix('zkdm-dev-').removesuffix(':*')}"
    if "execute-api" in text and "@connections" in text:
        return "websocket-connections:analytics-stream"
    return text


def actual_grants(synth, name: str) -> set[tuple[str, str]]:
    s = synth.stack
    names = {synth.logical_id(x): f"{kind}:{n}" for kind, group in (
        ("table", s.tables.by_name), ("bucket", s.buckets.by_name), ("queue", s.queues.by_name),
        ("secret", s.secrets.by_name), ("key", s.keys.by_name), ("statemachine", s.state_machines.by_name))
        for n, x in group.items()}
    names |= {synth.logical_id(x): f"queue:{n}-dlq" for n, x in s.queues.dead_letters.items()}
    fn = synth.template["Resources"][synth.logical_id(s.functions.by_name[name])]
    role = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    own_logs = fn["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    out = set()
    for policy in synth.resources("AWS::IAM::Policy").values():
        if {"Ref": role} not in policy["Properties"]["Roles"]:
            continue
        for st in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert st["Effect"] == "Allow" and "NotAction" not in st and "NotResource" not in st
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            out |= {(a, _label(r, names, own_logs)) for a in actions for r in resources}
    return out


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.name)
def test_each_function_is_allowed_exactly_its_actions_on_its_resources(synth, spec):
    assert spec.name in EXPECTED, f"{spec.name}: add its exact grants to EXPECTED in {__name__}"
    got = actual_grants(synth, spec.name)
    expected = EXPECTED[spec.name]
    assert got == expected, {"not expected": sorted(got - expected), "missing": sorted(expected - got)}


def test_the_access_function_only_reads_content_objects(synth):
    s3 = {(a, r) for a, r in actual_grants(synth, "access") if a.startswith("s3:")}
    assert s3 == {("s3:GetObject", "bucket:content/*"), ("s3:ListBucket", "bucket:content")}


def test_no_function_holds_both_the_relayer_key_and_the_credential_key(synth):
    for spec in FUNCTIONS:
        got = actual_grants(synth, spec.name)
        signs = ("kms:Sign", "key:relayer-key") in got
        opens = ("secretsmanager:GetSecretValue", "secret:credential-key") in got
        assert not (signs and opens), spec.name
    # and the credential key's holders reach the relayer key only through the relayer function
    holders = {s.name for s in FUNCTIONS
               if ("secretsmanager:GetSecretValue", "secret:credential-key") in actual_grants(synth, s.name)}
    assert holders == {"license-api", "usage-batch-prover"}
    assert {(a, r) for a, r in actual_grants(synth, "license-api") if a.startswith("lambda:")} == {
        ("lambda:InvokeFunction", "function:relayer")}
