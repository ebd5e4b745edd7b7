"""The chain gateway's log reading on a real Hardhat node: bounded pages, a checkpointed reader
that resumes after a crash without loss or duplicates, and reorg handling."""

from __future__ import annotations

import pytest

from tests.support.chain_world import GatewayFactory, abi_dir_with_emitter, deploy_emitter, emit

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def world(stack, tmp_path_factory) -> GatewayFactory:
    w3 = stack.w3()
    emitter = deploy_emitter(w3, stack.accounts["deployer"][1])
    deployment = {**stack.deployment, "blockNumber": w3.eth.block_number,
                  "contracts": {**stack.deployment["contracts"], "EventEmitter": emitter}}
    return GatewayFactory(stack.moto_url, stack.env, deployment, abi_dir_with_emitter(tmp_path_factory.mktemp("abi")),
                          defaults={"confirmations": 1})


def rpc(w3, method: str, *params):
    reply = w3.provider.make_request(method, list(params))
    assert "error" not in reply, reply
    return reply["result"]


def tick(entry: dict) -> tuple[int, int]:
    """(batch, index) of a raw Tick log."""
    return int(entry["topics"][1], 16), int(entry["data"][2:66], 16)


class Crash(RuntimeError):
    pass


def test_the_reader_catches_up_10000_events_and_resumes_after_a_crash_without_loss_or_duplicate(world, stack):
    w3, key = stack.w3(), stack.accounts["deployer"][1]
    first = w3.eth.block_number + 1
    for batch in range(20):
        emit(w3, key, world.deployment["contracts"]["EventEmitter"], 500 + batch, 500)
    got: list[tuple[int, int]] = []
    pages = []

    def crashing_sink(page):
        if len(pages) == 3:
            raise Crash("the sink died mid-way")
        pages.append((page.from_block, page.to_block))
        got.extend(tick(e) for e in page.logs)

    reader = world.gateway(max_log_range=3).reader("test-catch-up", ["EventEmitter"], start_block=first)
    with pytest.raises(Crash):
        reader.poll(crashing_sink)
    assert len(got) == 3 * 3 * 500  # three pages of three blocks were accepted before the crash
    assert reader.load().next_block == first + 9

    def sink(page):
        pages.append((page.from_block, page.to_block))
        got.extend(tick(e) for e in page.logs)

    # a fresh reader (another container) resumes from the cursor in DynamoDB
    fresh = world.gateway(max_log_range=3).reader("test-catch-up", ["EventEmitter"], start_block=first)
    assert fresh.poll(sink) == 10_000 - 4_500
    assert len(got) == 10_000 and set(got) == {(500 + b, i) for b in range(20) for i in range(500)}
    assert all(b - a < 3 for a, b in pages)  # bounded ranges
    assert fresh.poll(sink) == 0 and len(got) == 10_000  # nothing new: nothing delivered again


def test_a_reorg_is_read_again_from_the_checkpoint_minus_depth(world, stack):
    w3, key = stack.w3(), stack.accounts["deployer"][1]
    emitter = world.deployment["contracts"]["EventEmitter"]
    start = w3.eth.block_number + 1
    emit(w3, key, emitter, 899, 4)  # stays: before the fork
    delivered: list[tuple[int, int]] = []
    removed: list[dict] = []

    def sink(page):
        delivered.extend(tick(e) for e in page.logs)
        removed.extend(page.removed)

    reader = world.gateway(max_log_range=2, reorg_depth=6).reader("test-reorg", ["EventEmitter"], start_block=start)
    snapshot = rpc(w3, "evm_snapshot")
    emit(w3, key, emitter, 900, 3)
    emit(w3, key, emitter, 900, 3)
    assert reader.poll(sink) == 4 + 6
    # the two blocks with batch 900 are reorganised away; three other blocks take their place
    assert rpc(w3, "evm_revert", snapshot) is True
    for _ in range(3):
        emit(w3, key, emitter, 901, 2)

    reader.poll(sink)

    assert reader.reorgs == 1
    assert sorted(delivered) == sorted([(899, i) for i in range(4)] + [(900, i) for i in range(3)] * 2
                                       + [(901, i) for i in range(2)] * 3)  # 899 not delivered twice
    assert len(removed) == 6  # the vanished batch-900 logs, by id
    reader.poll(sink)
    assert reader.reorgs == 1  # the new blocks' hashes are the ones remembered now


def test_find_logs_reads_in_bounded_pages(world, stack):
    w3, key = stack.w3(), stack.accounts["deployer"][1]
    emitter = world.deployment["contracts"]["EventEmitter"]
    start = w3.eth.block_number + 1
    for _ in range(5):
        emit(w3, key, emitter, 777, 3)
        emit(w3, key, emitter, 778, 1)
    calls = []
    gateway = world.gateway(max_log_range=2)
    provider = gateway.w3.provider
    original = provider.make_request

    def counting(method, params):
        if method == "eth_getLogs":
            calls.append(int(params[0]["toBlock"], 16) - int(params[0]["fromBlock"], 16) + 1)
        return original(method, params)

    provider.make_request = counting
    logs = gateway.find_logs("EventEmitter", "Tick", {"batch": 777}, from_block=start)
    assert [(e["args"]["batch"], e["args"]["index"]) for e in logs] == [(777, i) for _ in range(5) for i in range(3)]
    assert calls and max(calls) <= 2 and len(calls) >= 5  # ten blocks, two at a time
