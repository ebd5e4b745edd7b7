"""Stage configuration from CDK context (no synth: plain Python)."""

from __future__ import annotations

import json

import pytest
from marketplace.resources import FunctionSpec, StateMachineSpec

from infra.config import ConfigError, load
from infra.functions import handler_dir
from infra.layers import MissingBuildError, circuit_files, contract_artifacts
from infra.state_machines import definition_file, placeholders

pytestmark = pytest.mark.infra

NETWORKS = {"testnet": {"rpcUrl": "https://rpc.example", "chainId": 5}}


def _ctx(**extra):
    return {"project": "zkdm", "stage": "dev", "network": "testnet", "networks": NETWORKS, **extra}


def test_without_a_deployment_file_the_chain_config_has_no_contracts(tmp_path):
    config = load(_ctx(), root=tmp_path)
    assert not config.deployment_found
    assert config.chain_config == {"chainId": 5, "rpcUrl": "https://rpc.example", "contracts": {}}
    assert config.prefix == "zkdm-dev"


def test_deployment_file_becomes_the_chain_config(tmp_path):
    deployment = {"chainId": 5, "rpcUrl": "http://deployer-node",
                  "contracts": {"ContentRegistry": "0x" + "1" * 40},
                  "deployer": "0x" + "2" * 40, "blockNumber": 7}
    (tmp_path / "deployments").mkdir()
    (tmp_path / "deployments" / "testnet.json").write_text(json.dumps(deployment))
    config = load(_ctx(), root=tmp_path)
    assert config.deployment_found
    # the network's RPC URL (what Lambda should use) wins over the deployer's
    assert config.chain_config == {**deployment, "rpcUrl": "https://rpc.example"}


def test_deployment_for_another_chain_is_refused(tmp_path):
    (tmp_path / "deployments").mkdir()
    other_chain = {"chainId": 1, "rpcUrl": "x", "contracts": {}}
    (tmp_path / "deployments" / "testnet.json").write_text(json.dumps(other_chain))
    with pytest.raises(ConfigError, match="chain 1"):
        load(_ctx(), root=tmp_path)


def test_unknown_network_without_rpc_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="no chainId/rpcUrl"):
        load(_ctx(network="nowhere"), root=tmp_path)
    config = load(_ctx(network="nowhere", rpcUrl="https://x", chainId="9"), root=tmp_path)
    assert config.chain_config["chainId"] == 9


@pytest.mark.parametrize("key,value", [("stage", "Prod"), ("project", "a b"), ("network", "x" * 30)])
def test_names_must_be_safe_for_physical_names(tmp_path, key, value):
    with pytest.raises(ConfigError, match=key):
        load(_ctx(**{key: value}), root=tmp_path)


def test_context_strings_from_the_command_line_are_parsed(tmp_path):
    config = load(_ctx(settings='{"JWT_TTL_SECONDS": 900}', uploadCorsOrigins="https://a, https://b"),
                  root=tmp_path)
    assert config.settings == {"JWT_TTL_SECONDS": "900"}
    assert config.upload_cors_origins == ("https://a", "https://b")


def test_placeholders_are_found_in_asl():
    assert placeholders('{"a": "${WorkerArn}", "b": "${Other_1}", "c": "$.x"}') == {"WorkerArn", "Other_1"}


def test_a_declared_function_without_its_handler_stops_the_synth(tmp_path):
    spec = FunctionSpec("thing", "thing_handler")
    with pytest.raises(MissingBuildError, match=r"functions/thing_handler/handler.py missing.*'thing'"):
        handler_dir(tmp_path, spec)
    (tmp_path / "functions" / "thing_handler").mkdir(parents=True)
    (tmp_path / "functions" / "thing_handler" / "handler.py").write_text("def handler(e, c): ...\n")
    assert handler_dir(tmp_path, spec) == tmp_path / "functions" / "thing_handler"


def test_state_machine_file_must_exist_and_map_every_placeholder(tmp_path):
    spec = StateMachineSpec("saga", "SAGA_ARN", "saga.asl.json", functions={"WorkerArn": "worker"})
    with pytest.raises(MissingBuildError, match="saga.asl.json missing"):
        definition_file(tmp_path, spec)
    (tmp_path / "statemachines").mkdir()
    asl = tmp_path / "statemachines" / "saga.asl.json"
    asl.write_text('{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${WorkerArn}", '
                   '"Next": "B"}, "B": {"Type": "Task", "Resource": "${OtherArn}", "End": true}}}')
    with pytest.raises(ConfigError, match="OtherArn"):
        definition_file(tmp_path, spec)
    asl.write_text('{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${WorkerArn}", '
                   '"End": true}}}')
    assert definition_file(tmp_path, spec) == asl
    asl.write_text("{not json")
    with pytest.raises(ConfigError, match="not JSON"):
        definition_file(tmp_path, spec)


def test_missing_build_outputs_stop_the_synth_with_the_command_to_run(tmp_path):
    with pytest.raises(MissingBuildError, match="make build"):
        contract_artifacts(tmp_path)
    with pytest.raises(MissingBuildError, match="make build"):
        circuit_files(tmp_path)
    folder = tmp_path / "circuits" / "c1"
    folder.mkdir(parents=True)
    for name in ("manifest.json", "verification_key.json", "c1.zkey"):
        (folder / name).write_text("{}")
    with pytest.raises(MissingBuildError, match=r"c1\.wasm missing"):
        circuit_files(tmp_path)
    (folder / "c1.wasm").write_bytes(b"\0asm")
    assert set(circuit_files(tmp_path)["c1"]) == {"manifest.json", "verification_key.json", "c1.zkey",
                                                  "c1.wasm"}
