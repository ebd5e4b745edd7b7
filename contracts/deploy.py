"""Deploy the marketplace contracts and write the deployment JSON the backend reads.

Used by the local stack (``deploy(...)`` called programmatically against the Hardhat node) and by
ops for a real chain, with the RPC URL and chain id of a network configured in ``cdk.json``
(``context.networks``, the list the CDK stack reads) and the key from an environment variable::

    DEPLOYER_KEY=0x... uv run python contracts/deploy.py --network base-sepolia --key-env DEPLOYER_KEY \\
        --relayer 0xRelayer --platform 0xTreasury --token 0xUSDC

writes ``deployments/base-sepolia.json`` (cdk.json's ``deploymentFile``) and refuses to deploy if
the node's chain id is not the network's. ``--rpc-url URL --out FILE`` target any node instead.

Order: the four Groth16 verifiers, the stablecoin (MockStablecoin, minted to demo accounts, only
when no token is given), ContentRegistry, PaymentEscrow, LicenseManager, UsageTracker; then the
wiring: the escrow accepts deposits and settlements from the LicenseManager alone, and the
UsageTracker gets TRACKER_ROLE on the LicenseManager (nothing else: the escrow checks no role for
settlement, so granting one there would only widen what a stolen tracker could be given). The deployer keeps DEFAULT_ADMIN_ROLE and
PAUSER_ROLE (hand them to a multisig on a real chain); the relayer gets RELAYER_ROLE. The relayer
is the address of the platform's KMS key (``ECC_SECG_P256K1``): ``PYTHONPATH=layers/shared/python
uv run python -m marketplace.chain.kms <key ARN>`` prints it (from ``GetPublicKey``); ``fund``
sends it gas money on a development chain.

The JSON is ``{"chainId", "rpcUrl", "contracts": {Name: address}, "deployer", "blockNumber",
"relayer", "platform"}`` (docs/design.md, Contracts); ``contracts["Stablecoin"]`` is the payment
token, whichever it is. Artifacts come from ``build/contracts/`` (``node contracts/build.mjs``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "build" / "contracts"
CDK_CONFIG = ROOT / "cdk.json"
VERIFIERS = ("AuthenticityVerifier", "UsageBatchVerifier", "ComplianceVerifier", "AggregateVerifier")
# Development chains, where verifiers made from the insecure development setup are acceptable.
DEV_CHAIN_IDS = (31337, 1337)
DEV_SETUP_MARKER = "UNSAFE FOR PRODUCTION"
DEFAULT_MINT = 1_000_000 * 10**6  # one million tokens (6 decimals) per demo account


def network_config(network: str, config: Path = CDK_CONFIG) -> dict[str, Any]:
    """``{"rpcUrl", "chainId", "out"}`` of a network of ``cdk.json``'s ``context.networks``, ``out``
    being its ``deploymentFile`` (the file the CDK stack reads), relative to the config's folder."""
    context = json.loads(Path(config).read_text()).get("context", {})
    networks = context.get("networks", {})
    if network not in networks:
        raise ValueError(f"network {network!r} is not in {config} (context.networks: {', '.join(networks)})")
    pattern = context.get("deploymentFile", "deployments/{network}.json")
    return {**networks[network], "out": Path(config).parent / pattern.format(network=network)}


def load_artifact(name: str, artifacts: Path = ARTIFACTS) -> dict[str, Any]:
    path = artifacts / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: build the contracts first (make build)")
    return json.loads(path.read_text())


def _dev_verifiers(artifacts: Path) -> list[str]:
    """Verifiers compiled from the development setup (their generated source says so)."""
    sources = json.loads((artifacts / "solc-input.json").read_text())["sources"]
    return [name for name in VERIFIERS
            if DEV_SETUP_MARKER in sources.get(f"build/verifiers/{name}.sol", {}).get("content", "")]


class Deployer:
    """Sends signed transactions from one key and waits for each receipt."""

    def __init__(self, rpc_url: str, key: str | bytes, artifacts: Path = ARTIFACTS) -> None:
        from eth_account import Account
        from web3 import Web3

        self.w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 60}))
        if isinstance(key, str) and not key.startswith("0x"):
            key = "0x" + key
        self.account = Account.from_key(key)
        self.artifacts = artifacts
        self.chain_id = self.w3.eth.chain_id
        self.first_block: int | None = None

    def _send(self, tx: dict[str, Any]) -> dict[str, Any]:
        tx = {**tx, "from": self.account.address, "chainId": self.chain_id,
              "nonce": self.w3.eth.get_transaction_count(self.account.address, "pending")}
        tx.setdefault("gas", int(self.w3.eth.estimate_gas(tx) * 1.2))
        signed = self.account.sign_transaction(tx)
        receipt = self.w3.eth.wait_for_transaction_receipt(
            self.w3.eth.send_raw_transaction(signed.raw_transaction), timeout=300)
        if receipt["status"] != 1:
            raise RuntimeError(f"transaction {receipt['transactionHash'].hex()} reverted")
        if self.first_block is None:
            self.first_block = receipt["blockNumber"]
        return receipt

    def deploy(self, name: str, *args: Any):
        artifact = load_artifact(name, self.artifacts)
        factory = self.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        receipt = self._send(factory.constructor(*args).build_transaction({"from": self.account.address}))
        return self.w3.eth.contract(address=receipt["contractAddress"], abi=artifact["abi"])

    def call(self, fn) -> dict[str, Any]:
        return self._send(fn.build_transaction({"from": self.account.address}))


def fund(rpc_url: str, funder_key: str | bytes, address: str, amount_wei: int) -> dict[str, Any]:
    """Send ``amount_wei`` of the chain's native coin from ``funder_key`` to ``address`` (the
    relayer's KMS address on a development chain: its gas money; the key itself is in KMS)."""
    from web3 import Web3

    d = Deployer(rpc_url, funder_key)
    tip = int(d.w3.eth.max_priority_fee)
    base = int(d.w3.eth.get_block("latest").get("baseFeePerGas") or 0)
    return d._send({"to": Web3.to_checksum_address(address), "value": int(amount_wei), "gas": 21000,
                    "maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip})


RELAYED_CONTRACTS = ("ContentRegistry", "LicenseManager", "UsageTracker")  # each has RELAYER_ROLE


def grant_relayer(deployment_file: Path, admin_key: str | bytes, relayer: str, *, revoke_previous: bool = True,
                  artifacts: Path = ARTIFACTS) -> dict[str, Any]:
    """Give ``relayer`` (the stack's KMS key address) RELAYER_ROLE on the contracts that take relayed
    transactions, revoke it from the deployment's previous relayer, and record the new one in the
    deployment JSON. For a chain deployed before the stack created its KMS key."""
    from web3 import Web3

    deployment = json.loads(Path(deployment_file).read_text())
    d = Deployer(deployment["rpcUrl"], admin_key, artifacts)
    relayer = Web3.to_checksum_address(relayer)
    previous = deployment.get("relayer")
    for name in RELAYED_CONTRACTS:
        c = d.w3.eth.contract(address=deployment["contracts"][name], abi=load_artifact(name, artifacts)["abi"])
        role = c.functions.RELAYER_ROLE().call()
        if not c.functions.hasRole(role, relayer).call():
            d.call(c.functions.grantRole(role, relayer))
        if revoke_previous and previous and previous.lower() != relayer.lower():
            d.call(c.functions.revokeRole(role, Web3.to_checksum_address(previous)))
    deployment["relayer"] = relayer
    Path(deployment_file).write_text(json.dumps(deployment, indent=2) + "\n")
    return deployment


def deploy(
    rpc_url: str,
    deployer_key: str | bytes,
    *,
    relayer: str,
    platform: str,
    token: str | None = None,
    mint_to: Iterable[str] = (),
    mint_amount: int = DEFAULT_MINT,
    out: Path | None = None,
    artifacts: Path = ARTIFACTS,
    allow_dev_verifiers: bool = False,
    expected_chain_id: int | None = None,
    min_window: int | None = None,
) -> dict[str, Any]:
    """Deploys and wires everything; returns (and writes to ``out``) the deployment JSON.

    ``token``: the stablecoin's address on a real chain; without it a MockStablecoin is deployed
    and ``mint_amount`` minted to each of ``mint_to``. Verifiers built from the development setup
    are refused on chains other than Hardhat's unless ``allow_dev_verifiers``. Nothing is sent if
    the node's chain id is not ``expected_chain_id`` (when given). ``min_window``: the
    UsageTracker's minimum public batch window in seconds (``setMinWindow``: 15 minutes to 7 days;
    default: the contract's 1 hour); the local stack and tests use the floor, 15 minutes.
    """
    from web3 import Web3

    d = Deployer(rpc_url, deployer_key, artifacts)
    if expected_chain_id is not None and d.chain_id != expected_chain_id:
        raise RuntimeError(f"{rpc_url} serves chain {d.chain_id}, not the configured {expected_chain_id}")
    if d.chain_id not in DEV_CHAIN_IDS and not allow_dev_verifiers:
        unsafe = _dev_verifiers(artifacts)
        if unsafe:
            raise RuntimeError(f"{', '.join(unsafe)} come from the insecure development setup; build the "
                               f"verifiers from ceremony keys for chain {d.chain_id}")
    admin = d.account.address
    relayer, platform = Web3.to_checksum_address(relayer), Web3.to_checksum_address(platform)

    contracts: dict[str, Any] = {name: d.deploy(name) for name in VERIFIERS}
    if token is None:
        coin = d.deploy("MockStablecoin", admin)
        for account in mint_to:
            d.call(coin.functions.mint(Web3.to_checksum_address(account), mint_amount))
        contracts["MockStablecoin"] = coin
        token = coin.address
    token = Web3.to_checksum_address(token)

    registry = d.deploy("ContentRegistry", admin, relayer, contracts["AuthenticityVerifier"].address)
    escrow = d.deploy("PaymentEscrow", admin, token, platform)
    manager = d.deploy("LicenseManager", admin, relayer, registry.address, escrow.address)
    tracker = d.deploy("UsageTracker", admin, relayer, manager.address, escrow.address,
                       contracts["UsageBatchVerifier"].address, contracts["ComplianceVerifier"].address,
                       contracts["AggregateVerifier"].address)
    d.call(escrow.functions.setLicenseManager(manager.address))
    d.call(manager.functions.grantRole(manager.functions.TRACKER_ROLE().call(), tracker.address))
    if min_window is not None:
        d.call(tracker.functions.setMinWindow(min_window))
    contracts.update(ContentRegistry=registry, PaymentEscrow=escrow, LicenseManager=manager, UsageTracker=tracker)

    deployment = {
        "chainId": d.chain_id,
        "rpcUrl": rpc_url,
        "contracts": {name: c.address for name, c in contracts.items()} | {"Stablecoin": token},
        "deployer": admin,
        "blockNumber": d.first_block,
        "relayer": relayer,
        "platform": platform,
    }
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(deployment, indent=2) + "\n")
    return deployment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--network", help="a network of cdk.json's context.networks: its RPC URL, chain id "
                                          "(checked) and deployment file")
    parser.add_argument("--config", type=Path, default=CDK_CONFIG, help="where --network is looked up")
    parser.add_argument("--rpc-url", help="the node to deploy to (default: the network's rpcUrl)")
    parser.add_argument("--key-env", default="DEPLOYER_KEY",
                        help="name of the environment variable holding the deployer's private key")
    parser.add_argument("--relayer", required=True, help="address given RELAYER_ROLE (the KMS key's address)")
    parser.add_argument("--grant-relayer", action="store_true",
                        help="deploy nothing: grant --relayer RELAYER_ROLE on the deployed contracts (revoking "
                             "the previous relayer) and record it in the deployment file")
    parser.add_argument("--platform", help="address credited with platform fees (required to deploy)")
    parser.add_argument("--token", help="stablecoin address (omit to deploy MockStablecoin)")
    parser.add_argument("--mint-to", nargs="*", default=[], help="MockStablecoin: accounts to mint to")
    parser.add_argument("--mint-amount", type=int, default=DEFAULT_MINT, help="base units per account")
    parser.add_argument("--out", type=Path, help="the deployment JSON (default: the network's deploymentFile)")
    parser.add_argument("--min-window", type=int, help="UsageTracker.setMinWindow (seconds, 900 to 604800; "
                                                       "default: the contract's 3600)")
    parser.add_argument("--allow-dev-verifiers", action="store_true",
                        help="accept verifiers from the insecure development setup on a non-dev chain")
    args = parser.parse_args(argv)
    network: dict[str, Any] = {}
    if args.network:
        try:
            network = network_config(args.network, args.config)
        except ValueError as exc:
            parser.error(str(exc))
    rpc_url, out = args.rpc_url or network.get("rpcUrl"), args.out or network.get("out")
    if not args.grant_relayer and not args.platform:
        parser.error("--platform is required to deploy")
    if not rpc_url or not out:
        parser.error("give --network, or --rpc-url and --out")
    key = os.environ.get(args.key_env)
    if not key:
        parser.error(f"environment variable {args.key_env} is not set")
    if args.grant_relayer:
        json.dump(grant_relayer(out, key, args.relayer), sys.stdout, indent=2)
        print()
        return 0
    deployment = deploy(rpc_url, key, relayer=args.relayer, platform=args.platform, token=args.token,
                        mint_to=args.mint_to, mint_amount=args.mint_amount, out=out,
                        allow_dev_verifiers=args.allow_dev_verifiers,
                        expected_chain_id=network.get("chainId"), min_window=args.min_window)
    json.dump(deployment, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
