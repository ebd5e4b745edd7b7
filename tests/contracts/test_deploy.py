"""contracts/deploy.py: the deployment JSON, the role wiring, the CLI, the dev-key guard; and the
build's artifacts."""

from __future__ import annotations

import json

import pytest

import contracts.deploy as deploy_module
from contracts.deploy import DEFAULT_MINT, deploy, main

pytestmark = [pytest.mark.contracts]

NAMES = {"AuthenticityVerifier", "UsageBatchVerifier", "ComplianceVerifier", "AggregateVerifier", "MockStablecoin",
         "Stablecoin", "ContentRegistry", "PaymentEscrow", "LicenseManager", "UsageTracker"}


def test_deployment_json_shape(chain, market):
    d = market.deployment
    assert d["chainId"] == 31337 and d["rpcUrl"] == chain.node.url
    assert set(d["contracts"]) == NAMES
    assert d["contracts"]["Stablecoin"] == d["contracts"]["MockStablecoin"]
    assert d["deployer"] == chain.deployer and d["relayer"] == chain.relayer and d["platform"] == chain.platform
    assert 0 < d["blockNumber"] <= chain.w3.eth.block_number
    # every address has code
    for address in d["contracts"].values():
        assert len(chain.w3.eth.get_code(address)) > 0


def test_roles_and_wiring(chain, market):
    m, e, t, r = market.manager, market.escrow, market.tracker, market.registry
    relayer_role, pauser_role, tracker_role = (m.functions.RELAYER_ROLE().call(), m.functions.PAUSER_ROLE().call(),
                                               m.functions.TRACKER_ROLE().call())
    admin_role = m.functions.DEFAULT_ADMIN_ROLE().call()
    for contract in (r, m, e, t):
        assert contract.functions.hasRole(admin_role, chain.deployer).call()
        assert contract.functions.hasRole(pauser_role, chain.deployer).call()
    for contract in (r, m, t):
        assert contract.functions.hasRole(relayer_role, chain.relayer).call()
    assert not e.functions.hasRole(relayer_role, chain.relayer).call()
    assert m.functions.hasRole(tracker_role, t.address).call()
    assert not e.functions.hasRole(tracker_role, t.address).call()  # the escrow settles for the LicenseManager only
    assert e.functions.licenseManager().call() == m.address
    assert m.functions.TOKEN().call() == market.address("Stablecoin") == e.functions.TOKEN().call()
    assert m.functions.REGISTRY().call() == r.address and m.functions.ESCROW().call() == e.address
    assert r.functions.AUTHENTICITY_VERIFIER().call() == market.address("AuthenticityVerifier")
    assert t.functions.USAGE_BATCH_VERIFIER().call() == market.address("UsageBatchVerifier")
    assert t.functions.COMPLIANCE_VERIFIER().call() == market.address("ComplianceVerifier")
    assert t.functions.AGGREGATE_VERIFIER().call() == market.address("AggregateVerifier")
    assert t.functions.LICENSE_MANAGER().call() == m.address and t.functions.ESCROW().call() == e.address
    for role in ("buyer", "buyer2", "other"):
        assert market.token.functions.balanceOf(chain.accounts[role]).call() == DEFAULT_MINT
    assert market.token.functions.decimals().call() == 6


def test_cli_writes_the_json(chain, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TEST_DEPLOYER_KEY", chain.keys["deployer"][2:])  # without 0x works too
    out = tmp_path / "deployments" / "local.json"
    code = main(["--rpc-url", chain.node.url, "--key-env", "TEST_DEPLOYER_KEY", "--relayer", chain.relayer,
                 "--platform", chain.platform, "--mint-to", chain.other, "--mint-amount", "5", "--out", str(out)])
    assert code == 0
    written = json.loads(out.read_text())
    assert written == json.loads(capsys.readouterr().out)
    coin = chain.contract("MockStablecoin", written["contracts"]["MockStablecoin"])
    assert coin.functions.balanceOf(chain.other).call() == 5


def test_cli_needs_the_key(chain, tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    with pytest.raises(SystemExit):
        main(["--rpc-url", chain.node.url, "--key-env", "NO_SUCH_KEY", "--relayer", chain.relayer,
              "--platform", chain.platform, "--out", str(tmp_path / "x.json")])


def test_given_token_is_used_and_not_minted(chain, market):
    d = deploy(chain.node.url, chain.keys["deployer"], relayer=chain.relayer, platform=chain.platform,
               token=market.address("Stablecoin"))
    assert "MockStablecoin" not in d["contracts"]
    assert d["contracts"]["Stablecoin"] == market.address("Stablecoin")
    escrow = chain.contract("PaymentEscrow", d["contracts"]["PaymentEscrow"])
    assert escrow.functions.TOKEN().call() == market.address("Stablecoin")


def test_development_verifiers_are_refused_on_other_chains(chain, monkeypatch):
    assert set(deploy_module._dev_verifiers(deploy_module.ARTIFACTS)) == set(deploy_module.VERIFIERS)
    monkeypatch.setattr(deploy_module, "DEV_CHAIN_IDS", ())  # pretend 31337 is a real chain
    with pytest.raises(RuntimeError, match="insecure development setup"):
        deploy(chain.node.url, chain.keys["deployer"], relayer=chain.relayer, platform=chain.platform)


def test_no_placeholder_verifier_in_the_production_build():
    """The verifiers deployed come from build/verifiers (circuits/build.py), never from contracts/."""
    sources = json.loads((deploy_module.ARTIFACTS / "solc-input.json").read_text())["sources"]
    for name in deploy_module.VERIFIERS:
        artifact = deploy_module.load_artifact(name)
        assert artifact["sourceName"] == f"build/verifiers/{name}.sol"
        assert "GENERATED by circuits/build.py" in sources[artifact["sourceName"]]["content"]
    assert not [unit for unit in sources if unit.startswith("tests/")]


def _network_config(tmp_path, chain, chain_id: int):
    """A cdk.json-shaped configuration naming the test node as network "testnet"."""
    config = tmp_path / "cdk.json"
    config.write_text(json.dumps({"context": {
        "networks": {"testnet": {"rpcUrl": chain.node.url, "chainId": chain_id}},
        "deploymentFile": "deployments/{network}.json"}}))
    return config


def test_cli_deploys_to_a_configured_network(chain, tmp_path, monkeypatch, capsys):
    """Ops name a network of cdk.json: its RPC URL and chain id come from there, the key from the
    environment, and the JSON lands in the network's deployment file (what the CDK stack reads)."""
    monkeypatch.setenv("TEST_DEPLOYER_KEY", chain.keys["deployer"])
    config = _network_config(tmp_path, chain, 31337)
    code = main(["--network", "testnet", "--config", str(config), "--key-env", "TEST_DEPLOYER_KEY",
                 "--relayer", chain.relayer, "--platform", chain.platform])
    assert code == 0
    written = json.loads((tmp_path / "deployments" / "testnet.json").read_text())
    assert written == json.loads(capsys.readouterr().out)
    assert written["rpcUrl"] == chain.node.url and written["chainId"] == 31337


def test_cli_refuses_a_node_of_another_chain(chain, tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_DEPLOYER_KEY", chain.keys["deployer"])
    config = _network_config(tmp_path, chain, 8453)  # configured as Base, but the node is Hardhat
    block = chain.w3.eth.block_number
    with pytest.raises(RuntimeError, match="serves chain 31337, not the configured 8453"):
        main(["--network", "testnet", "--config", str(config), "--key-env", "TEST_DEPLOYER_KEY",
              "--relayer", chain.relayer, "--platform", chain.platform])
    assert chain.w3.eth.block_number == block  # nothing was sent
    with pytest.raises(SystemExit):  # an unknown network, or neither a network nor --rpc-url
        main(["--network", "nowhere", "--config", str(config), "--relayer", chain.relayer,
              "--platform", chain.platform])
    with pytest.raises(SystemExit):
        main(["--relayer", chain.relayer, "--platform", chain.platform, "--out", str(tmp_path / "x.json")])


def test_repository_networks_are_configured():
    """Every network of the repository's cdk.json resolves to an RPC URL, a chain id and its file."""
    from contracts.deploy import CDK_CONFIG, ROOT, network_config

    networks = json.loads(CDK_CONFIG.read_text())["context"]["networks"]
    assert "base-sepolia" in networks
    for name in networks:
        config = network_config(name)
        assert config["rpcUrl"].startswith("http") and isinstance(config["chainId"], int)
        assert config["out"] == ROOT / "deployments" / f"{name}.json"
