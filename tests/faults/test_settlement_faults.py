"""Faults in usage settlement (Flow 4): the chain node cut mid-submit, the mark step killed after
part of its work and retried. The usage-batches ASL runs in moto, its tasks in the real
usage-batch-worker, proofs by groth16py, ``logUsageBatch`` on the Hardhat node.

Whatever happens, a batch is logged and paid once: one ``UsageLogged`` and one ``PaymentReleased``
per batch, the escrow owes the creator exactly the batch's share once, every event ends PROVEN
with the batch's transaction, and the license's proven count equals its uses.
"""

from __future__ import annotations

import json
import time

import pytest
from marketplace import resources

from local.lambdas import LocalFunction, create_moto_functions, install_lambda_router
from tests.support import license_support as support
from tests.support.chain_proxy import ChainProxy
from tests.support.faults_stack import PREFIX

content, people, _fresh_license_singletons = support.content, support.people, support._fresh_license_singletons
pytestmark = pytest.mark.slow

VALIDITY = 30  # seconds: the accesses happen inside it, the batches after it
USES, PRICE, FEE_BPS = 3, 2_000, 250


BATCH_FUNCTIONS = ("usage-batch-worker", "usage-batch-prover")  # the usage-batches ASL's tasks


@pytest.fixture(scope="module")
def proxy(stack):
    """The batch functions reach the chain through a proxy the tests can cut (up otherwise)."""
    p = ChainProxy(stack.rpc_url)
    yield p
    p.stop()


@pytest.fixture(scope="module")
def batch_worker(stack, proxy):
    env = {**stack.env, "CHAIN_CONFIG": json.dumps({**stack.deployment, "rpcUrl": proxy.url})}
    functions = []
    for name in BATCH_FUNCTIONS:
        spec = next((f for f in resources.FUNCTIONS if f.name == name), None)
        if spec is not None:  # moto applies each function's own environment when it invokes it
            functions.append(LocalFunction(resources.physical_name(PREFIX, spec.name), spec.handler,
                                           {k: env[k] for k in resources.env_names(spec) if k in env},
                                           spec.memory, spec.timeout))
    create_moto_functions(stack.moto_url, functions)
    uninstall = install_lambda_router({f.name: f for f in functions})
    yield functions
    uninstall()


def clear_worker() -> None:
    """Forget the batch functions' singletons and the process's chain gateways (the functions share
    this process: a gateway made for another function's environment would skip the proxy)."""
    from tests.integration.conftest import clear_caches

    clear_caches()  # boto3 clients, secrets, gateways, configs
    for name in BATCH_FUNCTIONS:
        spec = next((f for f in resources.FUNCTIONS if f.name == name), None)
        module = support.handler_module(spec.handler) if spec is not None else None
        if module is not None and hasattr(getattr(module, "steps", None), "cache_clear"):
            module.steps.cache_clear()


@pytest.fixture(scope="module")
def licenses(stack, people, content):
    """Two licenses of USES signed accesses each, their validity over (the window is open)."""
    content_id, _ = content
    out = []
    for _ in range(2):
        terms = people.create_terms(content_id, price=PRICE, max_uses=10, duration=VALIDITY)
        bought = people.buy_with_permit(terms["termsId"]).body
        for _ in range(USES):
            reply = people.access(content_id, bought["apiKey"], bought["licenseId"])
            assert reply.status == 200, reply.body
        out.append(bought["licenseId"])
    w3 = stack.w3()
    ends = [stack.contract("LicenseManager").functions.getLicense(bytes.fromhex(lid[2:])).call()[3] for lid in out]
    w3.provider.make_request("evm_mine", [])
    behind = max(ends) - int(w3.eth.get_block("latest")["timestamp"])
    time.sleep(max(0.0, behind) + 1.5)  # the chain's clock, not the wall clock
    w3.provider.make_request("evm_mine", [])
    return out


@pytest.fixture(autouse=True)
def _fresh_worker():
    clear_worker()
    yield
    clear_worker()


def run_batches(stack, license_id: str, timeout: float = 180) -> dict:
    sfn = stack.client("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=stack.env["USAGE_BATCHES_ARN"], name=f"faults-{time.time_ns()}",
                                    input=json.dumps({"licenses": [license_id]}))["executionArn"]
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = sfn.describe_execution(executionArn=execution)
        if out["status"] != "RUNNING":
            assert out["status"] == "SUCCEEDED", out
            return json.loads(out["output"])["results"][0]
        time.sleep(0.5)
    raise AssertionError("the usage-batches execution did not finish")


def settle(stack, license_id: str, runs: int = 6) -> list[dict]:
    """Run the batches until the license's uses are proven (each run after a failed one recovers;
    the schedule's next run comes minutes later, these 2 s apart)."""
    results = []
    for _ in range(runs):
        results.append(run_batches(stack, license_id))
        if int(stack.item("LICENSES_TABLE", {"licenseId": license_id}).get("usesProven", 0)) == USES:
            return results
        time.sleep(2.0)
    raise AssertionError(f"not settled after {runs} runs: {results}")


def assert_logged_and_paid_once(stack, people, license_id: str, owed_before: int) -> None:
    from marketplace.adapters.dynamodb import from_ddb

    lid = bytes.fromhex(license_id[2:])
    logged = stack.contract("UsageTracker").events.UsageLogged().get_logs(
        from_block=0, argument_filters={"licenseId": lid})
    released = stack.contract("PaymentEscrow").events.PaymentReleased().get_logs(
        from_block=0, argument_filters={"licenseId": lid})
    assert len(logged) == 1 and logged[0]["args"]["count"] == USES
    assert len(released) == 1 and released[0]["args"]["uses"] == USES
    amount = USES * PRICE
    owed = stack.contract("PaymentEscrow").functions.owed(people.address("creator1")).call()
    assert owed - owed_before == amount - amount * FEE_BPS // 10_000  # paid once
    assert stack.contract("LicenseManager").functions.getLicense(lid).call()[7] == USES
    tx = "0x" + bytes(logged[0]["transactionHash"]).hex()
    items = [from_ddb(i) for i in stack.client("dynamodb").query(
        TableName=stack.env["USAGE_TABLE"], KeyConditionExpression="licenseId = :l",
        ExpressionAttributeValues={":l": {"S": license_id}}, ConsistentRead=True)["Items"]]
    assert {i["batch"] for i in items} == {"PROVEN"} and {i["txHash"] for i in items} == {tx}
    lic = stack.item("LICENSES_TABLE", {"licenseId": license_id})
    assert lic["usesProven"] == USES and "batchClaim" not in lic
    records = stack.client("dynamodb").query(
        TableName=stack.env["BATCHES_TABLE"], KeyConditionExpression="licenseId = :l",
        ExpressionAttributeValues={":l": {"S": license_id}}, ConsistentRead=True)["Items"]
    assert len(records) == 1


def test_the_chain_node_cut_mid_submit_logs_and_pays_the_batch_once(stack, people, licenses, batch_worker, proxy):
    license_id = licenses[0]
    owed_before = stack.contract("PaymentEscrow").functions.owed(people.address("creator1")).call()
    # Given the node goes away right after logUsageBatch reaches it (it is mined; the submit step
    # never hears back), and comes back 3 s later
    proxy.down_after("eth_sendRawTransaction", for_seconds=3.0)
    # When the batches run (again, until the license is settled)
    results = settle(stack, license_id)
    # Then the cut was felt, and the batch is on chain, marked and paid exactly once
    worker_env = stack.client("lambda").get_function_configuration(
        FunctionName=batch_worker[0].name)["Environment"]["Variables"]
    assert proxy.cut_at is not None, (proxy.connections, json.loads(worker_env["CHAIN_CONFIG"])["rpcUrl"], results)
    assert results[-1].get("count", USES) == USES or results[-1].get("reason") == "recovered", results
    assert_logged_and_paid_once(stack, people, license_id, owed_before)


def test_a_mark_step_killed_after_recording_the_batch_is_finished_by_the_next_run(
        stack, people, licenses, batch_worker, proxy, monkeypatch):
    from marketplace.usage.adapters import DynamoUsageLog

    license_id = licenses[1]
    owed_before = stack.contract("PaymentEscrow").functions.owed(people.address("creator1")).call()
    mark_proven = DynamoUsageLog.mark_proven
    killed: list[str] = []

    class TaskTimedOut(Exception):  # the task's error type, as a killed Lambda's would reach the ASL
        pass

    def dies_once(self, *args, **kwargs):  # the batch record is stored; the events are not marked yet
        if not killed:
            killed.append(args[0])
            raise TaskTimedOut("the mark task was killed")
        return mark_proven(self, *args, **kwargs)

    monkeypatch.setattr(DynamoUsageLog, "mark_proven", dies_once)
    # When the batches run: the first run's mark dies after the batch's record, the next run recovers
    results = settle(stack, license_id)
    # Then the batch was logged once, its record kept once, and its events marked
    assert killed == [license_id]
    assert results[0].get("error") == "TaskTimedOut", results
    assert results[-1].get("reason") == "recovered", results
    assert_logged_and_paid_once(stack, people, license_id, owed_before)
