"""What every function imports or reads besides its own handler folder.

- ``shared``: the ``marketplace`` package (``layers/shared/python``), at ``/opt/python``.
- ``dependencies``: the locked runtime dependencies as manylinux2014 x86_64 / CPython 3.11 wheels
  (``bundling.DependenciesBundler``: local, no Docker, cached by the lock file's hash).
- ``artifacts``: contract ABIs and circuit verifying keys (a few hundred KB) at
  ``/opt/artifacts/contracts`` (the ``CONTRACTS_ABI_DIR`` setting) and ``/opt/artifacts/circuits``.
- proving keys: NOT in a layer. A groth16py ``<circuit>.pk`` carries the CRS, the constraints and
  the witness generator; the larger circuits' keys are tens of MB each and together would eat
  the 250 MB unzipped limit that the function, the ~115 MB dependency layer and every other
  layer share. Each ``.pk`` is a file asset in the CDK assets bucket (uploaded by ``cdk deploy``,
  content-addressed so a new key is a new object); prover functions get ``PROVING_KEYS``
  (``{"<circuit>": "s3://bucket/key"}``), read access to exactly those objects, and extra
  ephemeral storage to cache the keys they use in ``/tmp``.
"""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import AssetHashType, Aws, aws_iam as iam, aws_lambda as lambda_, aws_s3_assets as s3_assets
from constructs import Construct

from infra.bundling import ArtifactsBundler, DependenciesBundler
from infra.naming import pascal
from infra.config import StageConfig

RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.X86_64
ARTIFACTS_DIR = "/opt/artifacts"  # where the artifacts layer's ``artifacts/`` lands in Lambda
CONTRACTS_ABI_DIR = f"{ARTIFACTS_DIR}/contracts"  # <Name>.json: {"contractName", "abi"}
VERIFYING_KEYS_DIR = f"{ARTIFACTS_DIR}/circuits"  # <circuit>/verification_key.json
_EXCLUDE = ["**/__pycache__", "**/*.pyc", "*.egg-info"]


class MissingBuildError(FileNotFoundError):
    """A file the stack ships does not exist yet; the message says which command makes it."""


def contract_artifacts(build_dir: Path) -> dict[str, Path]:
    """``build/contracts/<Name>.json`` files carrying an ABI (``solc-output.json`` excluded)."""
    folder = build_dir / "contracts"
    found = {
        p.stem: p for p in sorted(folder.glob("*.json"))
        if p.name != "solc-output.json" and "abi" in json.loads(p.read_text())
    } if folder.is_dir() else {}
    if not found:
        raise MissingBuildError(f"no contract ABIs in {folder}: run `make build` before synthesizing")
    return found


def circuit_keys(build_dir: Path) -> dict[str, tuple[Path, Path]]:
    """circuit -> (verification_key.json, <circuit>.pk) for every circuit built under build/circuits."""
    folder = build_dir / "circuits"
    keys = {}
    for vk in sorted(folder.glob("*/verification_key.json")) if folder.is_dir() else []:
        circuit = vk.parent.name
        if circuit.startswith("."):  # circuits/build.py's work in progress
            continue
        pk = vk.parent / f"{circuit}.pk"
        if not pk.is_file():
            raise MissingBuildError(f"{pk} missing (its verifying key exists): run `make build`")
        keys[circuit] = (vk, pk)
    if not keys:
        raise MissingBuildError(f"no circuit keys in {folder}: run `make build` before synthesizing")
    return keys


class Layers(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        shared_dir = config.root / "layers" / "shared"
        if not (shared_dir / "python" / "marketplace" / "__init__.py").is_file():
            raise MissingBuildError(f"{shared_dir}/python/marketplace is missing")
        self.shared = lambda_.LayerVersion(
            self, "Shared",
            layer_version_name=f"{config.prefix}-shared",
            description="marketplace package (layers/shared/python)",
            code=lambda_.Code.from_asset(str(shared_dir), exclude=_EXCLUDE),
            compatible_runtimes=[RUNTIME], compatible_architectures=[ARCHITECTURE],
        )

        deps = DependenciesBundler(config.root)
        self.dependencies = lambda_.LayerVersion(
            self, "Dependencies",
            layer_version_name=f"{config.prefix}-dependencies",
            description="runtime dependencies from uv.lock (manylinux2014 x86_64, CPython 3.11)",
            # The source folder is not what ships (the bundler installs from the lock file), so the
            # hash is the bundler's key rather than a fingerprint of the folder.
            code=lambda_.Code.from_asset(
                str(config.root / "infra"), asset_hash_type=AssetHashType.CUSTOM, asset_hash=deps.key(),
                bundling=deps.options(),
            ),
            compatible_runtimes=[RUNTIME], compatible_architectures=[ARCHITECTURE],
        )

        keys = circuit_keys(config.build_dir)
        artifacts = ArtifactsBundler(contract_artifacts(config.build_dir), {c: vk for c, (vk, _) in keys.items()})
        self.artifacts = lambda_.LayerVersion(
            self, "Artifacts",
            layer_version_name=f"{config.prefix}-artifacts",
            description=f"contract ABIs ({CONTRACTS_ABI_DIR}), verifying keys ({VERIFYING_KEYS_DIR})",
            code=lambda_.Code.from_asset(
                str(config.root / "infra"), asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=artifacts.fingerprint(), bundling=artifacts.options(),
            ),
            compatible_runtimes=[RUNTIME], compatible_architectures=[ARCHITECTURE],
        )

        self.proving_keys = {
            circuit: s3_assets.Asset(self, f"ProvingKey{pascal(circuit)}", path=str(pk))
            for circuit, (_, pk) in keys.items()
        }

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.dependencies, self.shared, self.artifacts]

    def proving_keys_env(self) -> str:
        """``PROVING_KEYS``: ``{"<circuit>": "s3://bucket/key"}`` (tokens resolved at deploy)."""
        return json.dumps({c: a.s3_object_url for c, a in self.proving_keys.items()}, sort_keys=True)

    def grant_proving_keys(self, role: iam.IRole) -> None:
        """s3:GetObject on exactly the key objects (no bucket-wide access to the assets bucket)."""
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["s3:GetObject"],
            resources=[f"arn:{Aws.PARTITION}:s3:::{a.s3_bucket_name}/{a.s3_object_key}"
                       for a in self.proving_keys.values()],
        ))
