"""The synthesized stack against marketplace.resources: every declared resource is there, built
the way the design says (private, encrypted, recoverable, least privilege)."""

from __future__ import annotations

import json
import re

import pytest
from marketplace.resources import (
    BINARY_MEDIA_TYPES,
    BUCKETS,
    FUNCTIONS,
    QUEUES,
    SECRETS,
    SETTINGS,
    STATE_MACHINES,
    TABLES,
    by_name,
    env_names,
    physical_name,
)

from infra.api import AUTHORIZER
from infra.config import ROOT

pytestmark = pytest.mark.infra

# Actions that support no resource-level permission, hence may appear with Resource "*".
RESOURCELESS_ACTIONS = {
    "xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups", "ses:GetIdentityVerificationAttributes",
    "dynamodb:ListStreams",  # a stream event source mapping's (no resource-level permission in IAM)
}


def _refs(node) -> set[str]:
    """Logical ids a template fragment references (Ref and Fn::GetAtt)."""
    found: set[str] = set()
    if isinstance(node, dict):
        if "Ref" in node:
            found.add(node["Ref"])
        if "Fn::GetAtt" in node:
            found.add(node["Fn::GetAtt"][0])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _statements(synth, role_id: str) -> list[dict]:
    return [st for policy in synth.resources("AWS::IAM::Policy").values()
            if {"Ref": role_id} in policy["Properties"]["Roles"]
            for st in policy["Properties"]["PolicyDocument"]["Statement"]]


def _function(synth, name: str) -> dict:
    return synth.template["Resources"][synth.logical_id(synth.stack.functions.by_name[name])]


# --- tables ------------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", TABLES, ids=lambda s: s.name)
def test_table_is_on_demand_recoverable_encrypted_expiring_and_retained(synth, spec):
    table = synth.template["Resources"][synth.logical_id(synth.stack.tables.by_name[spec.name])]
    props = table["Properties"]
    assert props["TableName"] == physical_name("zkdm-dev", spec.name)
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": spec.ttl, "Enabled": True}
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"
    keys = {k["AttributeName"]: k["KeyType"] for k in props["KeySchema"]}
    assert keys == {spec.pk: "HASH", **({spec.sk: "RANGE"} if spec.sk else {})}
    types = {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]}
    for attr in (spec.pk, spec.sk):
        if attr:
            assert types[attr] == ("N" if attr in spec.numeric else "S")
    indexes = {i["IndexName"]: i for i in props.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {i.name for i in spec.indexes}
    for index in spec.indexes:
        schema = {k["AttributeName"]: k["KeyType"] for k in indexes[index.name]["KeySchema"]}
        assert schema == {index.pk: "HASH", **({index.sk: "RANGE"} if index.sk else {})}


def test_no_table_beyond_the_spec(synth):
    assert len(synth.resources("AWS::DynamoDB::Table")) == len(TABLES)


# --- buckets -----------------------------------------------------------------------------------

def test_every_bucket_is_private_encrypted_versioned_and_tls_only(synth):
    buckets = synth.resources("AWS::S3::Bucket")
    assert len(buckets) == len(BUCKETS) + 1  # + the access log bucket
    policies = {p["Properties"]["Bucket"]["Ref"]: p
                for p in synth.resources("AWS::S3::BucketPolicy").values()}
    for logical_id, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True}, logical_id
        sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        assert sse["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms"), logical_id
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, logical_id
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        assert bucket["DeletionPolicy"] == "Retain", logical_id
        denies = [s for s in policies[logical_id]["Properties"]["PolicyDocument"]["Statement"]
                  if s["Effect"] == "Deny"]
        assert any(s["Condition"].get("Bool", {}).get("aws:SecureTransport") == "false"
                   for s in denies), logical_id


@pytest.mark.parametrize("spec", BUCKETS, ids=lambda s: s.name)
def test_bucket_logs_expires_and_allows_posts_as_specified(synth, spec):
    bucket_id = synth.logical_id(synth.stack.buckets.by_name[spec.name])
    props = synth.template["Resources"][bucket_id]["Properties"]
    log_bucket = synth.logical_id(synth.stack.buckets.access_logs)
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": log_bucket}
    rules = props["LifecycleConfiguration"]["Rules"]
    expiry = [r["ExpirationInDays"] for r in rules if "ExpirationInDays" in r]
    assert expiry == ([spec.expire_days] if spec.expire_days else [])
    assert all("NoncurrentVersionExpiration" in r for r in rules)  # deleted objects do not linger
    cors = props.get("CorsConfiguration", {}).get("CorsRules", [])
    assert bool(cors) == spec.cors_post
    if spec.cors_post:
        assert cors[0]["AllowedMethods"] == ["POST"]
    # the name carries account and region (S3 names are global)
    assert props["BucketName"]["Fn::Join"][1][0] == f"{physical_name('zkdm-dev', spec.name)}-"


# --- queues and secrets ------------------------------------------------------------------------

@pytest.mark.parametrize("spec", QUEUES, ids=lambda s: s.name)
def test_queue_is_encrypted_with_a_dead_letter_queue(synth, spec):
    queue = synth.template["Resources"][synth.logical_id(synth.stack.queues.by_name[spec.name])]["Properties"]
    dlq_id = synth.logical_id(synth.stack.queues.dead_letters[spec.name])
    dlq = synth.template["Resources"][dlq_id]["Properties"]
    assert queue["QueueName"] == physical_name("zkdm-dev", spec.name, fifo=spec.fifo)
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
                                      "maxReceiveCount": spec.max_receive_count}
    assert queue["VisibilityTimeout"] == spec.visibility_timeout
    for props in (queue, dlq):
        assert props["SqsManagedSseEnabled"] is True
        assert props.get("FifoQueue", False) is spec.fifo
    queue_ref = {"Ref": synth.logical_id(synth.stack.queues.by_name[spec.name])}
    policies = [p["Properties"] for p in synth.resources("AWS::SQS::QueuePolicy").values()
                if queue_ref in p["Properties"]["Queues"]]
    assert any(s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
               for p in policies for s in p["PolicyDocument"]["Statement"])


@pytest.mark.parametrize("spec", SECRETS, ids=lambda s: s.name)
def test_secret_is_generated_or_left_empty_for_ops(synth, spec):
    secret = synth.template["Resources"][synth.logical_id(synth.stack.secrets.by_name[spec.name])]
    props = secret["Properties"]
    assert props["Name"] == physical_name("zkdm-dev", spec.name)
    assert secret["DeletionPolicy"] == "Retain"
    assert "SecretString" not in props
    if spec.generate == "external":
        assert "GenerateSecretString" not in props  # an empty secret, not a random stand-in
    else:
        gen = props["GenerateSecretString"]
        allowed = set("0123456789abcdefghijklmnopqrstuvwxyz") - set(gen["ExcludeCharacters"])
        assert gen["PasswordLength"] == 64 and gen["ExcludeUppercase"] and gen["ExcludePunctuation"]
        assert allowed == set("0123456789abcdef")


# --- functions ---------------------------------------------------------------------------------

def test_each_function_has_its_own_role_without_managed_policies(synth):
    functions = synth.resources("AWS::Lambda::Function")
    assert len(functions) == len(FUNCTIONS)
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]
    assert len(set(roles)) == len(roles)
    for role in roles:
        assert "ManagedPolicyArns" not in synth.template["Resources"][role]["Properties"]


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.name)
def test_function_code_runtime_layers_and_environment(synth, spec):
    props = _function(synth, spec.name)["Properties"]
    assert props["Handler"] == "handler.handler" and props["Runtime"] == "python3.11"
    assert props["MemorySize"] == spec.memory and props["Timeout"] == spec.timeout
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert len(props["Layers"]) == 3
    env = props["Environment"]["Variables"]
    required = {s.env for s in SETTINGS if s.required}
    # every resource variable, and every required setting, the spec declares
    declared = set(env_names(spec))
    assert {n for n in declared if n not in {s.env for s in SETTINGS} or n in required} <= set(env)
    for name in spec.tables:
        assert env[by_name(TABLES, name).env] == {"Ref": synth.logical_id(synth.stack.tables.by_name[name])}
    for name in spec.secrets:
        assert env[by_name(SECRETS, name).env] == physical_name("zkdm-dev", name)
    for name in spec.state_machines:
        sm_id = synth.logical_id(synth.stack.state_machines.by_name[name])
        assert env[by_name(STATE_MACHINES, name).env] == {"Ref": sm_id}
    if spec.chain:
        chain = json.loads(env["CHAIN_CONFIG"])
        assert {"chainId", "rpcUrl", "contracts"} <= set(chain)
    if "CONTRACTS_ABI_DIR" in spec.settings:
        assert env["CONTRACTS_ABI_DIR"] == "/opt/artifacts/contracts"
    if "PUBLIC_BASE_URL" in spec.settings:
        # the execute-api URL of the stage, from the API's id (no dependency cycle via the stage)
        assert synth.logical_id(synth.stack.api.rest_api) in _refs(env["PUBLIC_BASE_URL"])
    assert env["ZK_KEYS_DIR"] == "/opt/artifacts/circuits"
    assert ("ZK_KEYS_S3" in env) == spec.prover
    assert ("EphemeralStorage" in props) == spec.prover


def _zk_keys_s3(synth, name: str) -> dict:
    """ZK_KEYS_S3 with CloudFormation's Fn::Join/Fn::Sub flattened to text."""
    value = _function(synth, name)["Properties"]["Environment"]["Variables"]["ZK_KEYS_S3"]
    parts = value["Fn::Join"][1] if isinstance(value, dict) else [value]
    return json.loads("".join(p if isinstance(p, str) else p["Fn::Sub"] for p in parts))


def test_prover_reads_exactly_its_proving_objects(synth):
    for spec in FUNCTIONS:
        role = _function(synth, spec.name)["Properties"]["Role"]["Fn::GetAtt"][0]
        key_statements = [s for s in _statements(synth, role)
                          if "s3:GetObject" in _as_list(s["Action"]) and "cdk-" in json.dumps(s["Resource"])]
        if not spec.prover:
            assert not key_statements
            continue
        keys = _zk_keys_s3(synth, spec.name)
        assert keys["bucket"].startswith("cdk-")
        # zkey and wasm of every built circuit; not the saved .pk, not a build in progress
        assert {c: sorted(files) for c, files in keys["objects"].items()} == {
            c: [f"{c}.wasm", f"{c}.zkey"] for c in synth.circuits}
        [statement] = key_statements
        assert _as_list(statement["Action"]) == ["s3:GetObject"]
        resources = json.dumps(statement["Resource"])
        assert "/*" not in resources
        for files in keys["objects"].values():
            for key in files.values():
                assert key in resources
        # the staged objects are the build's files
        for circuit, files in keys["objects"].items():
            for name, key in files.items():
                staged = synth.outdir / f"asset.{key}"
                assert staged.read_bytes() == (synth.build_dir / "circuits" / circuit / name).read_bytes()


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.name)
def test_function_may_touch_only_the_resources_its_spec_lists(synth, spec):
    role = _function(synth, spec.name)["Properties"]["Role"]["Fn::GetAtt"][0]
    referenced = _refs(_statements(synth, role))
    s = synth.stack
    owned = {
        **{synth.logical_id(t): ("table", n) for n, t in s.tables.by_name.items()},
        **{synth.logical_id(b): ("bucket", n) for n, b in s.buckets.by_name.items()},
        **{synth.logical_id(q): ("queue", n) for n, q in s.queues.by_name.items()},
        **{synth.logical_id(x): ("secret", n) for n, x in s.secrets.by_name.items()},
        **{synth.logical_id(m): ("state_machine", n) for n, m in s.state_machines.by_name.items()},
    }
    granted = {owned[r] for r in referenced if r in owned}
    expected = ({("table", n) for n in spec.tables} | {("bucket", n) for n in spec.buckets}
                | {("queue", n) for n in spec.queues + ((spec.consumes,) if spec.consumes else ())}
                | {("table", n) for n in ((spec.stream,) if spec.stream else ())}  # its stream, read
                | {("secret", n) for n in spec.secrets}
                | {("state_machine", n) for n in spec.state_machines})
    assert granted == expected


def test_no_wildcard_actions_and_star_resources_only_where_iam_allows_nothing_else(synth):
    for logical_id, policy in synth.resources("AWS::IAM::Policy").items():
        for st in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = _as_list(st["Action"])
            assert st["Effect"] == "Allow"
            assert not any(a == "*" or a.endswith(":*") for a in actions), (logical_id, actions)
            if "*" in _as_list(st["Resource"]):
                assert set(actions) <= RESOURCELESS_ACTIONS, (logical_id, actions)


# --- state machines ----------------------------------------------------------------------------

@pytest.mark.parametrize("spec", STATE_MACHINES, ids=lambda s: s.name)
def test_state_machine_is_the_asl_file_with_the_function_arns_substituted(synth, spec):
    machine = synth.template["Resources"][synth.logical_id(synth.stack.state_machines.by_name[spec.name])]
    props = machine["Properties"]
    assert props["StateMachineName"] == physical_name("zkdm-dev", spec.name)
    # DefinitionBody.from_file: the ASL file ships as an asset, CloudFormation substitutes at deploy
    key = props["DefinitionS3Location"]["Key"]
    staged = (synth.outdir / f"asset.{key}").read_text()
    assert json.loads(staged) == json.loads((ROOT / "statemachines" / spec.definition).read_text())
    substitutions = props["DefinitionSubstitutions"]
    assert set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", staged)) <= set(substitutions)
    assert substitutions == {
        placeholder: {"Fn::GetAtt": [synth.logical_id(synth.stack.functions.by_name[fn]), "Arn"]}
        for placeholder, fn in spec.functions.items()}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["TracingConfiguration"] == {"Enabled": True}
    # it may invoke exactly the substituted functions
    role = props["RoleArn"]["Fn::GetAtt"][0]
    invokes = [s for s in _statements(synth, role) if "lambda:InvokeFunction" in _as_list(s["Action"])]
    granted = [r for s in invokes for r in _as_list(s["Resource"])]
    assert sorted(granted, key=json.dumps) == sorted(substitutions.values(), key=json.dumps)


# --- API ---------------------------------------------------------------------------------------

def _path(synth, resource_id) -> str:
    resources = synth.template["Resources"]
    parts = []
    while isinstance(resource_id, dict) and "Ref" in resource_id:
        node = resources[resource_id["Ref"]]["Properties"]
        parts.append(node["PathPart"])
        resource_id = node["ParentId"]
    return "/" + "/".join(reversed(parts))


def test_every_route_exists_with_its_function_and_authorizer(synth):
    authorizer = synth.logical_id(synth.stack.api.authorizer)
    routes = {}
    for method in synth.resources("AWS::ApiGateway::Method").values():
        p = method["Properties"]
        routes[(p["HttpMethod"], _path(synth, p["ResourceId"]))] = p
    expected = {(r.method, r.path): (spec, r) for spec in FUNCTIONS for r in spec.routes}
    assert set(routes) == set(expected)
    assert ("GET", "/openapi.json") in routes
    for key, (spec, route) in expected.items():
        p = routes[key]
        assert p["Integration"]["Type"] == "AWS_PROXY"
        fn_id = synth.logical_id(synth.stack.functions.by_name[spec.name])
        assert fn_id in _refs(p["Integration"]["Uri"]), key
        if route.auth == "jwt":
            assert p["AuthorizationType"] == "CUSTOM" and p["AuthorizerId"] == {"Ref": authorizer}, key
            assert p["RequestParameters"]["method.request.header.Authorization"] is True
        else:
            assert p["AuthorizationType"] == "NONE" and "AuthorizerId" not in p, key


def test_authorizer_is_the_authorizer_function_reading_the_authorization_header(synth):
    [auth] = synth.resources("AWS::ApiGateway::Authorizer").values()
    props = auth["Properties"]
    assert props["Type"] == "REQUEST"
    assert props["IdentitySource"] == "method.request.header.Authorization"
    assert synth.logical_id(synth.stack.functions.by_name[AUTHORIZER]) in _refs(props["AuthorizerUri"])


def test_api_takes_multipart_logs_traces_and_throttles(synth):
    [api] = synth.resources("AWS::ApiGateway::RestApi").values()
    assert set(BINARY_MEDIA_TYPES) <= set(api["Properties"]["BinaryMediaTypes"])
    [stage] = synth.resources("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props["TracingEnabled"] is True
    assert "DestinationArn" in props["AccessLogSetting"]
    assert "requestId" in props["AccessLogSetting"]["Format"]
    [settings] = props["MethodSettings"]
    assert settings["LoggingLevel"] == "INFO" and settings["DataTraceEnabled"] is False
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0


def test_gateway_errors_use_the_api_error_body(synth):
    responses = {r["Properties"]["ResponseType"]: r["Properties"]
                 for r in synth.resources("AWS::ApiGateway::GatewayResponse").values()}
    assert {"UNAUTHORIZED", "ACCESS_DENIED", "REQUEST_TOO_LARGE", "THROTTLED", "DEFAULT_4XX",
            "DEFAULT_5XX"} <= set(responses)
    assert responses["REQUEST_TOO_LARGE"]["StatusCode"] == "413"
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"  # unknown route
    assert "StatusCode" not in responses["DEFAULT_4XX"] and "StatusCode" not in responses["DEFAULT_5XX"]
    assert responses["THROTTLED"]["ResponseParameters"] == {"gatewayresponse.header.Retry-After": "'1'"}
    for kind, props in responses.items():
        body = props["ResponseTemplates"]["application/json"]
        # valid JSON once API Gateway's variables are filled in
        filled = body.replace("$context.error.messageString", '"m"').replace("$context.requestId", "r")
        assert set(json.loads(filled)) == {"error", "message", "details"}, kind
    assert "/content/uploads" in responses["REQUEST_TOO_LARGE"]["ResponseTemplates"]["application/json"]


# --- the chain gateway: the relayer's KMS key, who may sign, the monitor's schedule ---------------

def test_relayer_key_is_an_asymmetric_secp256k1_signing_key_kept_on_deletion(synth):
    from marketplace.resources import KEYS

    for spec in KEYS:
        key = synth.template["Resources"][synth.logical_id(synth.stack.keys.by_name[spec.name])]
        assert key["Properties"]["KeySpec"] == "ECC_SECG_P256K1"
        assert key["Properties"]["KeyUsage"] == "SIGN_VERIFY"
        assert key["DeletionPolicy"] == "Retain"
    aliases = [a["Properties"]["AliasName"] for a in synth.resources("AWS::KMS::Alias").values()]
    assert "alias/zkdm-dev-relayer-key" in aliases
    assert "relayer-key" not in {s.name for s in SECRETS}  # the private key exists nowhere but KMS


@pytest.mark.parametrize("spec", FUNCTIONS, ids=lambda s: s.name)
def test_only_functions_that_send_may_sign_with_the_relayer_key(synth, spec):
    from marketplace.resources import KEYS

    role = _function(synth, spec.name)["Properties"]["Role"]["Fn::GetAtt"][0]
    key_ids = {synth.logical_id(k): n for n, k in synth.stack.keys.by_name.items()}
    kms = [st for st in _statements(synth, role) if any(a.startswith("kms:") for a in _as_list(st["Action"]))]
    signing = [st for st in kms if "kms:Sign" in _as_list(st["Action"])]
    if not spec.keys:
        assert signing == []
        return
    [statement] = signing
    assert sorted(_as_list(statement["Action"])) == ["kms:GetPublicKey", "kms:Sign"]
    assert {key_ids[r] for r in _refs(statement["Resource"]) if r in key_ids} == set(spec.keys)
    env = _function(synth, spec.name)["Properties"]["Environment"]["Variables"]
    for name in spec.keys:
        assert env[by_name(KEYS, name).env] == {
            "Fn::GetAtt": [synth.logical_id(synth.stack.keys.by_name[name]), "Arn"]}


def test_scheduled_functions_have_their_rule(synth):
    rules = synth.resources("AWS::Events::Rule")
    scheduled = {s.name: s.schedule for s in FUNCTIONS if s.schedule}
    assert {"chain-monitor": "rate(1 minute)", "chain-listener": "rate(1 minute)",
            "refunds": "rate(5 minutes)"}.items() <= scheduled.items()
    for name, expression in scheduled.items():
        fn_id = synth.logical_id(synth.stack.functions.by_name[name])
        [rule] = [r for r in rules.values() if fn_id in _refs(r["Properties"]["Targets"])]
        assert rule["Properties"]["ScheduleExpression"] == expression
        assert rule["Properties"]["State"] == "ENABLED"


# --- queue consumers, dead-letter alarms, SES (notifications) -------------------------------------

@pytest.mark.parametrize("spec", [f for f in FUNCTIONS if f.consumes], ids=lambda s: s.name)
def test_a_consumer_is_triggered_by_its_queue_with_partial_batch_failures(synth, spec):
    queue_id = synth.logical_id(synth.stack.queues.by_name[spec.consumes])
    fn_id = synth.logical_id(synth.stack.functions.by_name[spec.name])
    [mapping] = [m["Properties"] for m in synth.resources("AWS::Lambda::EventSourceMapping").values()
                 if m["Properties"]["FunctionName"] == {"Ref": fn_id}]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert mapping["BatchSize"] == spec.batch_size and mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = by_name(QUEUES, spec.consumes)
    assert queue.visibility_timeout >= 4 * spec.timeout  # a message is not seen again while being handled


@pytest.mark.parametrize("spec", QUEUES, ids=lambda s: s.name)
def test_every_dead_letter_queue_is_alarmed(synth, spec):
    dlq_id = synth.logical_id(synth.stack.queues.dead_letters[spec.name])
    alarm = synth.template["Resources"][synth.logical_id(synth.stack.queues.alarms[spec.name])]["Properties"]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible" and alarm["Threshold"] == 1
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}]
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_the_delivery_function_may_put_on_its_dead_letter_queue_only(synth):
    spec = by_name(FUNCTIONS, "webhook-delivery")
    env = _function(synth, spec.name)["Properties"]["Environment"]["Variables"]
    dlq_id = synth.logical_id(synth.stack.queues.dead_letters["webhook-deliveries"])
    assert env["WEBHOOK_DEAD_LETTERS_QUEUE"] == {"Fn::GetAtt": [dlq_id, "QueueName"]}
    role = _function(synth, spec.name)["Properties"]["Role"]["Fn::GetAtt"][0]
    dlq_ids = {synth.logical_id(q) for q in synth.stack.queues.dead_letters.values()}
    assert _refs(_statements(synth, role)) & dlq_ids == {dlq_id}


def test_ses_send_is_scoped_to_the_configured_sender():
    from infra.functions import ses_statements

    consumer, api = by_name(FUNCTIONS, "notifications"), by_name(FUNCTIONS, "notifications-api")
    sent = [s.to_json() for s in ses_statements(consumer, "alerts@mail.example.com")]
    [send] = [s for s in sent if "ses:SendRawEmail" in _as_list(s["Action"])]
    assert send["Condition"] == {"StringEquals": {"ses:FromAddress": "alerts@mail.example.com"}}
    assert [r.rsplit(":identity/", 1)[1] for r in _as_list(send["Resource"])] == ["alerts@mail.example.com",
                                                                                "mail.example.com"]
    assert not any("ses:SendRawEmail" in _as_list(s["Action"]) for s in
                   [s.to_json() for s in ses_statements(consumer, None)])  # no sender set: no email at all
    assert not any("ses:SendRawEmail" in _as_list(s["Action"]) for s in
                   [s.to_json() for s in ses_statements(api, "alerts@mail.example.com")])
