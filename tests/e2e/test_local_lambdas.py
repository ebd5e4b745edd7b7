"""The local stack's Lambda router: moto's Lambda invocations (direct, and from state machines that
moto runs from ASL) reach in-process Python handlers, errors included.
"""

from __future__ import annotations

import json
import os
import threading
import time

import boto3
import pytest

from local.lambdas import LocalFunction, create_moto_functions, function_arn, install_lambda_router

pytestmark = pytest.mark.e2e


class InsufficientCheese(Exception):
    pass


def worker(event, context):
    if event.get("fail"):
        raise InsufficientCheese("no cheese")
    return {"seen": event, "function": context.function_name, "remainingMs": context.get_remaining_time_in_millis(),
            "env": os.environ.get("ROUTER_TEST_VAR")}


async_seen = threading.Event()


def async_worker(event, context):
    async_seen.set()


ASL = {
    "StartAt": "Work",
    "States": {
        "Work": {
            "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${WorkerArn}", "Payload.$": "$"},
            "OutputPath": "$.Payload",
            "Catch": [{"ErrorEquals": ["InsufficientCheese"], "ResultPath": "$.error", "Next": "Compensate"}],
            "End": True,
        },
        "Compensate": {"Type": "Pass", "Result": "compensated", "ResultPath": "$.compensation", "Next": "Failed"},
        "Failed": {"Type": "Fail", "Error": "RegistrationFailed", "Cause": "compensated"},
    },
}


@pytest.fixture(scope="module")
def moto(moto_server):
    server = moto_server
    functions = {
        "router-test-worker": LocalFunction("router-test-worker", "unused", env={"ROUTER_TEST_VAR": "v1"}, timeout=60),
        "router-test-async": LocalFunction("router-test-async", "unused"),
    }
    create_moto_functions(server.url, functions.values())
    uninstall = install_lambda_router({"router-test-worker": worker, "router-test-async": async_worker})
    yield server
    uninstall()


def test_direct_invoke_runs_the_python_handler_with_the_function_env(moto):
    lam = boto3.client("lambda", endpoint_url=moto.url)
    r = lam.invoke(FunctionName="router-test-worker", Payload=json.dumps({"a": 1}))
    assert "FunctionError" not in r
    out = json.loads(r["Payload"].read())
    assert out["seen"] == {"a": 1}
    assert out["function"] == "router-test-worker"
    assert out["env"] == "v1"
    assert 0 < out["remainingMs"] <= 60_000


def test_handler_exception_is_a_function_error_with_its_type(moto):
    lam = boto3.client("lambda", endpoint_url=moto.url)
    r = lam.invoke(FunctionName="router-test-worker", Payload=json.dumps({"fail": True}))
    assert r["FunctionError"] == "Unhandled"
    out = json.loads(r["Payload"].read())
    assert out["errorType"] == "InsufficientCheese" and out["errorMessage"] == "no cheese"


def test_event_invocation_runs_in_the_background(moto):
    lam = boto3.client("lambda", endpoint_url=moto.url)
    r = lam.invoke(FunctionName="router-test-async", InvocationType="Event", Payload=b"{}")
    assert r["StatusCode"] == 202
    assert async_seen.wait(10)


def _run(sfn, arn: str, payload: dict) -> dict:
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))["executionArn"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        d = sfn.describe_execution(executionArn=execution)
        if d["status"] != "RUNNING":
            return d
        time.sleep(0.05)
    raise TimeoutError(execution)


def test_state_machine_from_asl_invokes_the_routed_handler_and_catches_its_error(moto):
    sfn = boto3.client("stepfunctions", endpoint_url=moto.url)
    iam = boto3.client("iam", endpoint_url=moto.url)
    role = iam.get_role(RoleName="local-lambda-role")["Role"]["Arn"]
    definition = json.dumps(ASL).replace("${WorkerArn}", function_arn("router-test-worker"))
    arn = sfn.create_state_machine(name="router-test", definition=definition, roleArn=role)["stateMachineArn"]

    ok = _run(sfn, arn, {"x": 1})
    assert ok["status"] == "SUCCEEDED"
    assert json.loads(ok["output"])["seen"] == {"x": 1}

    # two unnamed executions in a row: AWS names them; moto needs local.processes' fix for that
    failed = _run(sfn, arn, {"fail": True})
    assert failed["status"] == "FAILED"
    assert failed["error"] == "RegistrationFailed"
    history = sfn.get_execution_history(executionArn=failed["executionArn"])["events"]
    task_failed = [e for e in history if e["type"] == "TaskFailed"]
    assert task_failed and task_failed[0]["taskFailedEventDetails"]["error"] == "InsufficientCheese"
    assert any(e["type"] == "PassStateExited" and e["stateExitedEventDetails"]["name"] == "Compensate"
               for e in history)


def test_moto_api_data_json_answers_with_functions_and_no_docker(moto):
    """moto's /moto-api/data.json (how tests read what SES sent) serialises every model's attributes:
    a Lambda function's docker_client used to raise DockerException there (500) without Docker."""
    import requests

    ses = boto3.client("ses", endpoint_url=moto.url)
    ses.verify_email_identity(EmailAddress="router-test@zkdm.test")
    ses.send_raw_email(Source="router-test@zkdm.test", Destinations=["router-test@zkdm.test"],
                       RawMessage={"Data": b"From: router-test@zkdm.test\nTo: router-test@zkdm.test\n"
                                           b"Subject: data.json\n\nhello"})
    reply = requests.get(f"{moto.url}/moto-api/data.json", timeout=30)
    assert reply.status_code == 200, reply.text[:200]
    data = reply.json()
    assert any(f.get("function_name") == "router-test-worker" for f in data["awslambda"]["LambdaFunction"])
    assert any("Subject: data.json" in m["raw_data"] for m in data["ses"]["RawMessage"])
