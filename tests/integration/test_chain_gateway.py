"""The chain gateway's sender, journal and monitor on a real Hardhat node and moto (KMS, DynamoDB).

Each thread builds its own gateway (own boto3 clients, own web3 connection), as separate Lambda
containers would; they share only the nonce lease and the journal in DynamoDB.
"""

from __future__ import annotations

import threading

import pytest
from marketplace.chain import journal as J
from marketplace.chain.reverts import ContractRevert

from tests.support.chain_world import GatewayFactory, abi_dir_with_emitter, deploy_emitter

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SENDERS, PER_SENDER = 8, 25


@pytest.fixture(scope="module")
def world(stack, tmp_path_factory) -> GatewayFactory:
    w3 = stack.w3()
    emitter = deploy_emitter(w3, stack.accounts["deployer"][1])
    deployment = {**stack.deployment, "contracts": {**stack.deployment["contracts"], "EventEmitter": emitter}}
    return GatewayFactory(stack.moto_url, stack.env, deployment, abi_dir_with_emitter(tmp_path_factory.mktemp("abi")),
                          defaults={"tx_timeout": 60.0, "confirmations": 1})


def rpc(w3, method: str, *params):
    reply = w3.provider.make_request(method, list(params))
    assert "error" not in reply, reply
    return reply["result"]


@pytest.fixture
def manual_mining(stack):
    w3 = stack.w3()
    rpc(w3, "evm_setAutomine", False)
    try:
        yield w3
    finally:
        rpc(w3, "evm_setAutomine", True)
        rpc(w3, "evm_mine")


def events(item: dict) -> list[str]:
    return [h["event"] for h in item["history"]]


def test_eight_concurrent_senders_send_200_transactions_without_a_nonce_error_or_gap(world, stack):
    w3 = stack.w3()
    start = w3.eth.get_transaction_count(stack.relayer, "latest")
    receipts: list[dict] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def container(i: int) -> None:
        gateway = world.gateway()  # its own clients and connection
        for j in range(PER_SENDER):
            try:
                r = gateway.transact("EventEmitter", "emitMany", 1000 + i, 1 + j % 3, purpose="test.concurrency")
            except BaseException as exc:  # noqa: BLE001 - counted and shown below
                with lock:
                    failures.append(exc)
            else:
                with lock:
                    receipts.append(r)

    threads = [threading.Thread(target=container, args=(i,)) for i in range(SENDERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert failures == []
    assert len(receipts) == SENDERS * PER_SENDER and all(r["status"] == 1 for r in receipts)
    # no gap and no duplicate: exactly the next 200 nonces, all mined
    nonces = sorted(w3.eth.get_transaction(r["transactionHash"])["nonce"] for r in receipts)
    assert nonces == list(range(start, start + SENDERS * PER_SENDER))
    assert w3.eth.get_transaction_count(stack.relayer, "latest") == start + SENDERS * PER_SENDER
    # every transaction journaled and mined; none refused by the node (0 nonce errors)
    journal = world.gateway().journal
    for r in receipts:
        item = journal.get("0x" + bytes(r["transactionHash"]).hex())
        assert item["state"] == J.MINED and item["purpose"] == "test.concurrency"
        assert events(item) == ["signed", "broadcast", "mined"]
    assert [i for i in journal.in_state(J.REJECTED) if i["purpose"] == "test.concurrency"] == []


def test_a_dropped_transaction_is_detected_and_rebroadcast_by_the_monitor(world, manual_mining):
    w3 = manual_mining
    gateway = world.gateway()
    sent = gateway.send("EventEmitter", "emitMany", 7, 2, purpose="test.drop")
    assert rpc(w3, "hardhat_dropTransaction", sent.tx_hash) is True
    assert not gateway.sender.knows(sent.tx_hash)

    report = world.gateway().monitor(stuck_seconds=600).run()

    assert report.actions.get("rebroadcast") == 1, report
    item = gateway.journal.get(sent.tx_hash)
    assert item["state"] == J.PENDING and item["broadcasts"] == 2
    assert events(item)[-2:] == ["dropped", "rebroadcast"]
    assert gateway.sender.knows(sent.tx_hash)
    rpc(w3, "evm_mine")
    assert gateway.wait(sent)["status"] == 1
    world.gateway().monitor(stuck_seconds=600).run()
    assert gateway.journal.get(sent.tx_hash)["state"] == J.CONFIRMED


def test_a_stuck_transaction_is_repriced_and_its_sender_gets_the_replacement_receipt(world, manual_mining):
    w3 = manual_mining
    gateway = world.gateway()
    sent = gateway.send("EventEmitter", "emitMany", 8, 1, purpose="test.stuck")
    got: list[dict] = []
    waiter = threading.Thread(target=lambda: got.append(gateway.wait(sent)))
    waiter.start()

    report = world.gateway().monitor(stuck_seconds=0).run()

    assert report.actions.get("repriced") == 1, report
    old = gateway.journal.get(sent.tx_hash)
    new = gateway.journal.get(old["supersededBy"])
    assert new["replaces"] == sent.tx_hash and new["nonce"] == sent.nonce and new["data"] == old["data"]
    assert new["maxFeePerGas"] > old["maxFeePerGas"] and new["maxPriorityFeePerGas"] > old["maxPriorityFeePerGas"]
    rpc(w3, "evm_mine")
    waiter.join(30)
    assert got and "0x" + bytes(got[0]["transactionHash"]).hex() == new["txHash"]
    world.gateway().monitor(stuck_seconds=600).run()
    old, new = gateway.journal.get(old["txHash"]), gateway.journal.get(new["txHash"])
    assert old["state"] == J.REPLACED and old["replacedBy"] == new["txHash"]
    assert new["state"] in (J.MINED, J.CONFIRMED)


def test_a_lost_transaction_given_up_is_cancelled_so_no_nonce_gap_remains(world, stack, manual_mining):
    w3 = manual_mining
    gateway = world.gateway()
    sent = gateway.send("EventEmitter", "emitMany", 9, 1, purpose="test.abandon")
    rpc(w3, "hardhat_dropTransaction", sent.tx_hash)
    # a caller (the saga's compensation) asks whether it can still be mined: no, and never will be
    assert gateway.tx_pending(sent.tx_hash, sent.nonce) is False
    assert gateway.journal.get(sent.tx_hash)["state"] == J.ABANDONED

    report = world.gateway().monitor(stuck_seconds=600).run()

    assert report.actions.get("cancel-abandoned") == 1, report
    cancel = gateway.journal.get(gateway.journal.get(sent.tx_hash)["supersededBy"])
    assert cancel["purpose"] == "cancel" and cancel["nonce"] == sent.nonce and cancel["value"] == "0"
    assert cancel["to"].lower() == stack.relayer.lower()
    rpc(w3, "evm_mine")
    world.gateway().monitor(stuck_seconds=600).run()
    assert gateway.journal.get(sent.tx_hash)["state"] == J.REPLACED
    # the next transaction takes the next nonce: nothing is stuck behind a gap
    rpc(w3, "evm_setAutomine", True)
    receipt = gateway.transact("EventEmitter", "emitMany", 9, 1)
    assert w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == sent.nonce + 1


def test_reverts_are_decoded_by_custom_error_abi_and_nothing_is_sent(world, stack):
    w3 = stack.w3()
    gateway = world.gateway()
    nonce = w3.eth.get_transaction_count(stack.relayer, "pending")
    buyer = stack.accounts["buyer1"][0]

    with pytest.raises(ContractRevert) as err:  # OpenZeppelin's ERC-20 error, three arguments
        gateway.transact("MockStablecoin", "transfer", buyer, 1)
    assert (err.value.contract, err.value.function, err.value.error) == ("MockStablecoin", "transfer",
                                                                         "ERC20InsufficientBalance")
    assert err.value.error_args == {"sender": stack.relayer, "balance": 0, "needed": 1}
    body = err.value.body()
    assert body["error"] == "BLOCKCHAIN_ERROR" and body["supportId"].startswith("err_")
    assert body["message"] == "Transaction failed: ERC20InsufficientBalance"
    assert body["details"]["args"] == {"sender": stack.relayer, "balance": 0, "needed": 1}

    with pytest.raises(ContractRevert) as err:  # the fixture's own error
        gateway.transact("EventEmitter", "emitMany", 1, 5000)
    assert err.value.error == "Emitter__TooMany" and err.value.error_args == {"count": 5000, "max": 1000}

    registry = stack.contract("ContentRegistry")
    stack.send_as("deployer", registry.functions.pause())
    try:  # a project contract's error (OpenZeppelin Pausable's, through ContentRegistry's ABI)
        with pytest.raises(ContractRevert) as err:
            gateway.transact("ContentRegistry", "registerContent", b"\x01" * 32, b"\x02" * 32, buyer, 1, 2, 0, 0,
                             [0] * 8)
        assert err.value.error == "EnforcedPause" and err.value.reason == "EnforcedPause()"
    finally:
        stack.send_as("deployer", registry.functions.unpause())
    assert w3.eth.get_transaction_count(stack.relayer, "pending") == nonce  # nothing was sent


def test_the_relayer_role_can_be_moved_to_the_stacks_kms_address(stack, tmp_path):
    """Ops deploy the contracts before the stack creates its KMS key: ``deploy.py --grant-relayer``."""
    import importlib.util
    import json

    from eth_account import Account

    from local.processes import ROOT

    spec = importlib.util.spec_from_file_location("contracts_deploy", ROOT / "contracts" / "deploy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "deployment.json"
    path.write_text(json.dumps({**stack.deployment, "relayer": stack.relayer}))
    newcomer = Account.create().address
    written = module.grant_relayer(path, stack.accounts["deployer"][1], newcomer, revoke_previous=False)
    assert written["relayer"] == newcomer and json.loads(path.read_text())["relayer"] == newcomer
    for name in module.RELAYED_CONTRACTS:
        contract = stack.contract(name)
        role = contract.functions.RELAYER_ROLE().call()
        assert contract.functions.hasRole(role, newcomer).call()
        assert contract.functions.hasRole(role, stack.relayer).call()  # kept: revoke_previous=False
        stack.send_as("deployer", contract.functions.revokeRole(role, newcomer))


def test_a_send_after_a_lost_transaction_takes_the_chains_nonce_before_any_monitor_run(world, stack, manual_mining):
    """A dropped (or reorged-away) relayer transaction leaves the lease's next nonce above the
    chain's count; the next send must not wait for the monitor, or every later send is refused as
    'nonce too high' (seen when one test dropped a transaction and the next saga could not send)."""
    w3 = manual_mining
    gateway = world.gateway()
    lost = gateway.send("EventEmitter", "emitMany", 9, 1, purpose="test.lost")
    rpc(w3, "hardhat_dropTransaction", lost.tx_hash)
    rpc(w3, "evm_setAutomine", True)
    receipt = world.gateway().transact("EventEmitter", "emitMany", 9, 1, purpose="test.after-lost")
    assert receipt["status"] == 1
    assert w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == lost.nonce
