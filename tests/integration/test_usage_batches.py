"""Flow 4 in-process: a buyer registers a worker key (relayed with the buyer's AddUsageSigner
signature), the worker makes N signed accesses through the real access handler, the
usage-batches state machine (the ASL, run by moto; its tasks routed to the real usage-batch-worker,
and its prove task to the real usage-batch-prover: the credential key and the relayer key are in
different functions) proves the batch with groth16py and logs it through the chain gateway: UsageLogged and
PaymentReleased with N uses on the Hardhat chain, the events PROVEN. The relayer, with every
platform secret, cannot get a batch logged without the buyer's signatures (refused on chain,
through the same submit path). Unsigned and replayed accesses are refused.

No chain time is shifted (other tests share the node): the licenses here are valid for a few
seconds, so their window is their whole validity (``min(minWindow, validUntil − validFrom)``) and a
batch may land once the validity is over (within the contract's settlement grace).
"""

from __future__ import annotations

import json
import time

import pytest
from marketplace import resources
from marketplace.usage import client_signing
from marketplace.usage.batch_models import Access

from local.lambdas import LocalFunction, create_moto_functions, install_lambda_router
from local.license_client import sign_typed_data
from tests.integration.conftest import PREFIX
from tests.support import license_support as support
from tests.support.license_support import handler_module

content, people, _fresh_license_singletons = support.content, support.people, support._fresh_license_singletons
pytestmark = [pytest.mark.integration, pytest.mark.slow]

VALIDITY = 40  # seconds: the accesses happen inside it, the batch after it


@pytest.fixture(scope="module")
def batch_worker(stack):
    functions = [LocalFunction(resources.physical_name(PREFIX, spec.name), spec.handler,
                               {k: stack.env[k] for k in resources.env_names(spec) if k in stack.env},
                               spec.memory, spec.timeout)
                 for spec in (resources.by_name(resources.FUNCTIONS, n)
                              for n in ("usage-batch-worker", "usage-batch-prover"))]
    create_moto_functions(stack.moto_url, functions)
    uninstall = install_lambda_router({fn.name: fn for fn in functions})
    yield functions[0]
    uninstall()


def steps(function: str = "usage_batch_worker"):
    module = handler_module(function)
    module.steps.cache_clear()
    return module.steps()


def register_signer(api, people, license_id: str, address: str) -> dict:
    path = f"/license/{license_id}/signers"
    challenge = api.call("POST", path, token=people.jwt("buyer1"), body={"signer": address})
    assert challenge.status == 200 and challenge.body["signatureRequired"], challenge.body
    assert challenge.body["typedData"]["primaryType"] == "AddUsageSigner"
    signature = sign_typed_data(people.key("buyer1"), challenge.body["typedData"])
    added = api.call("POST", path, token=people.jwt("buyer1"),
                     body={"signer": address, "signature": signature, "deadline": challenge.body["deadline"]})
    assert added.status == 201, added.body
    return added.body


def signed_access(api, stack, content_id: str, bought: dict, key, counter: int):
    headers = client_signing.access_headers(key, bought["licenseId"], counter, stack.deployment["chainId"],
                                            stack.deployment["contracts"]["LicenseManager"])
    return api.call("POST", f"/content/{content_id}/access",
                    headers={"Authorization": f"Bearer {bought['apiKey']}", **headers})


def wait_until_chain_time(stack, t: int) -> None:
    """Wait until the chain's clock passes ``t`` and mine a block, so the latest block's time is past
    it. The chain's clock, not the wall clock: another test of the session may have moved the
    shared node's time (Hardhat keeps the offset), and then a wall-clock wait never ends."""
    w3 = stack.w3()
    w3.provider.make_request("evm_mine", [])
    behind = t - int(w3.eth.get_block("latest")["timestamp"])
    time.sleep(max(0.0, behind) + 1.5)  # the node's clock runs with the wall clock, offset kept
    w3.provider.make_request("evm_mine", [])


def run_batches(stack, licenses: list[str], timeout: float = 240) -> dict:
    sfn = stack.client("stepfunctions")
    arn = stack.env["USAGE_BATCHES_ARN"]
    execution = sfn.start_execution(stateMachineArn=arn, name=f"it-{time.time_ns()}",
                                    input=json.dumps({"licenses": licenses}))["executionArn"]
    deadline = time.time() + timeout
    while time.time() < deadline:
        out = sfn.describe_execution(executionArn=execution)
        if out["status"] != "RUNNING":
            assert out["status"] == "SUCCEEDED", out
            return json.loads(out["output"])
        time.sleep(0.5)
    raise AssertionError("the usage-batches execution did not finish")


def usage_items(stack, license_id: str) -> list[dict]:
    from marketplace.adapters.dynamodb import from_ddb

    out = stack.client("dynamodb").query(TableName=stack.env["USAGE_TABLE"], KeyConditionExpression="licenseId = :l",
                                         ExpressionAttributeValues={":l": {"S": license_id}}, ConsistentRead=True)
    return sorted((from_ddb(i) for i in out["Items"]), key=lambda i: i["seq"])


def test_signed_accesses_are_proven_logged_and_paid_in_one_batch(api, stack, people, content, batch_worker):
    content_id, _ = content
    terms = people.create_terms(content_id, price=2_500, max_uses=10, duration=VALIDITY)
    bought = people.buy_with_permit(terms["termsId"]).body
    license_id = bought["licenseId"]
    worker = client_signing.new_worker_key()
    view = register_signer(api, people, license_id, worker.address)
    assert view["state"] == "ACTIVE" and view["signer"] == worker.address
    assert stack.contract("LicenseManager").functions.usageSigner(
        bytes.fromhex(license_id[2:]), stack.w3().to_checksum_address(worker.address)).call()[0]

    # unsigned, then N = 3 signed accesses, then a replay
    unsigned = api.call("POST", f"/content/{content_id}/access",
                        headers={"Authorization": f"Bearer {bought['apiKey']}"})
    assert unsigned.status == 401 and unsigned.body["details"]["reason"] == "signature_missing"
    n = 3
    for counter in range(1, n + 1):
        reply = signed_access(api, stack, content_id, bought, worker, counter)
        assert reply.status == 200, reply.body
    replay = signed_access(api, stack, content_id, bought, worker, n)
    assert replay.status == 409 and replay.body["details"]["reason"] == "replayed_counter"
    assert replay.body["details"]["expectedCounter"] == n + 1
    listed = api.call("GET", f"/license/{license_id}/signers", token=people.jwt("buyer1"))
    assert listed.status == 200 and listed.body["signers"][0]["lastCounter"] == n
    items = usage_items(stack, license_id)
    assert [(i["seq"], i["counter"], i["signer"]) for i in items] == [(k, k + 1, worker.address) for k in range(n)]

    lic = stack.contract("LicenseManager").functions.getLicense(bytes.fromhex(license_id[2:])).call()
    wait_until_chain_time(stack, lic[3])  # validUntil: the window may now be the whole validity
    escrow = stack.contract("PaymentEscrow")
    owed_before = escrow.functions.owed(people.address("creator1")).call()
    out = run_batches(stack, [license_id])
    (result,) = out["results"]
    assert result["count"] == n and result["proven"] == n, out

    # on chain: UsageLogged and PaymentReleased with N uses, in the same transaction
    receipt = stack.w3().eth.get_transaction_receipt(result["txHash"])
    logged = stack.contract("UsageTracker").events.UsageLogged().process_receipt(receipt)
    released = escrow.events.PaymentReleased().process_receipt(receipt)
    assert len(logged) == 1 and logged[0]["args"]["count"] == n and logged[0]["args"]["startIndex"] == 0
    assert "0x" + logged[0]["args"]["batchId"].hex() == result["batchId"]
    assert len(released) == 1 and released[0]["args"]["uses"] == n
    amount = n * 2_500
    assert released[0]["args"]["creatorAmount"] + released[0]["args"]["platformFee"] == amount
    assert escrow.functions.owed(people.address("creator1")).call() - owed_before == amount - amount * 250 // 10000
    assert stack.contract("LicenseManager").functions.getLicense(bytes.fromhex(license_id[2:])).call()[7] == n

    # the events PROVEN with batch, tx and on-chain index; the license's proven uses and cursor
    items = usage_items(stack, license_id)
    assert {i["batch"] for i in items} == {"PROVEN"} and [i["index"] for i in items] == list(range(n))
    assert {i["txHash"] for i in items} == {result["txHash"]} and {i["batchId"] for i in items} == {result["batchId"]}
    lic_item = stack.item("LICENSES_TABLE", {"licenseId": license_id})
    assert lic_item["usesProven"] == n and lic_item["usageCursor"] == n and "batchClaim" not in lic_item

    # a second run finds nothing to prove, and never logs the batch again
    again = run_batches(stack, [license_id])
    assert again["results"] == [{"licenseId": license_id, "ready": False, "reason": "nothing_pending",
                                 **{k: v for k, v in again["results"][0].items()
                                    if k not in ("licenseId", "ready", "reason")}}]


def test_the_relayer_cannot_log_a_batch_without_the_buyers_signatures(api, stack, people, content, batch_worker):
    from marketplace.errors import BlockchainError
    from marketplace.usage.batch_models import LicenseIn

    content_id, _ = content
    terms = people.create_terms(content_id, price=1_000, max_uses=10, duration=VALIDITY)
    bought = people.buy_with_permit(terms["termsId"]).body
    license_id = bought["licenseId"]
    worker = client_signing.new_worker_key()
    register_signer(api, people, license_id, worker.address)
    for counter in (1, 2):
        assert signed_access(api, stack, content_id, bought, worker, counter).status == 200
    lic = stack.contract("LicenseManager").functions.getLicense(bytes.fromhex(license_id[2:])).call()
    wait_until_chain_time(stack, lic[3])

    s = steps()
    batch = s.prepare(LicenseIn(licenseId=license_id))
    assert batch.ready and batch.count == 2, batch
    # the platform holds the credential secret and the prover (in the prover function; the worker
    # holds no credential key): the proof itself is valid
    from marketplace.errors import ProofGenerationError

    with pytest.raises(ProofGenerationError) as no_key:
        s.prove(batch)
    assert "no credential key" in str(no_key.value.__cause__)
    proved = steps("usage_batch_prover").prove(batch)
    platform_key = client_signing.new_worker_key()  # a key the platform made: never registered by the buyer
    forged_hash = client_signing.request_hash("POST", "/forged")
    forged_sig = bytes.fromhex(client_signing.sign_access(
        platform_key, license_id, 2, forged_hash, stack.deployment["chainId"],
        stack.deployment["contracts"]["LicenseManager"])[2:])
    from marketplace.usage.access_signature import compact

    r, vs = compact(forged_sig)
    for accesses, error in (([], "License__SignedUsesMismatch"),
                            ([Access(counter=2, requestHash=forged_hash, r="0x" + r.hex(), vs="0x" + vs.hex())],
                             "License__UnknownUsageSigner")):
        with pytest.raises(BlockchainError) as refused:
            s.submit(proved.model_copy(update={"accesses": accesses}))
        assert refused.value.details["error"] == error, refused.value.details
        s.licenses.clear_claim(license_id)
    assert stack.contract("LicenseManager").functions.getLicense(bytes.fromhex(license_id[2:])).call()[7] == 0
    # with the buyer's signature (what prepare gathered) the same proof lands, once
    sub = s.submit(proved)
    again = s.submit(proved)  # a retried submit finds the logged batch: no second transaction
    assert again.txHash == sub.txHash
    s.licenses.unlock(license_id)
