"""What every function imports or reads besides its own handler folder.

- ``shared``: the ``marketplace`` package (``layers/shared/python``), at ``/opt/python``.
- ``dependencies``: the locked runtime dependencies as manylinux2014 x86_64 / CPython 3.11 wheels
  (``bundling.DependenciesBundler``: local, no Docker, cached by the lock file's hash).
- ``artifacts`` (a few hundred KB): contract ABIs at ``/opt/artifacts/contracts`` (the
  ``CONTRACTS_ABI_DIR`` setting) and, per circuit, ``manifest.json`` and
  ``verification_key.json`` at ``/opt/artifacts/circuits/<circuit>/`` (``ZK_KEYS_DIR``): every
  function can verify a proof.
- proving material: NOT in a layer. What ``marketplace.zk`` needs to prove a circuit besides its
  manifest is ``<circuit>.zkey`` (the Groth16 key groth16py imports) and ``<circuit>.wasm`` (witness generator): tens of
  MB for the batch circuits (usage_batch: 39 MB + 3 MB), while the function and all its layers
  share 250 MB unzipped and the dependency layer alone is ~145 MB. Each of those files is a file
  asset in the CDK assets bucket (uploaded by ``cdk deploy``, content-addressed, so a new key is
  a new object). Prover functions get ``ZK_KEYS_S3`` = ``{"bucket": ..., "objects": {"<circuit>":
  {"<file name>": "<key>"}}}``, ``s3:GetObject`` on exactly those objects, and 2 GiB of ``/tmp``
  to keep the files of the circuits they actually prove (fetched on first use, see
  docs/design.md, "In AWS").
"""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import AssetHashType, Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from infra.bundling import ArtifactsBundler, DependenciesBundler
from infra.config import StageConfig
from infra.naming import pascal

RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.X86_64
ARTIFACTS_DIR = "/opt/artifacts"  # where the artifacts layer's ``artifacts/`` lands in Lambda
CONTRACTS_ABI_DIR = f"{ARTIFACTS_DIR}/contracts"  # <Name>.json: {"contractName", "abi"}
ZK_KEYS_DIR = f"{ARTIFACTS_DIR}/circuits"  # <circuit>/{manifest.json, verification_key.json}
CIRCUIT_LAYER_FILES = ("manifest.json", "verification_key.json")
CIRCUIT_S3_SUFFIXES = (".zkey", ".wasm")  # <circuit><suffix>: what proving needs besides the manifest (the .zkey imports in 0.2 s; the saved .pk takes 4-10 s to load)
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


def circuit_files(build_dir: Path) -> dict[str, dict[str, Path]]:
    """circuit -> {file name: path} of what the stack ships, for every circuit built under
    build/circuits (``circuits/build.py``'s hidden work-in-progress folders are skipped)."""
    folder = build_dir / "circuits"
    circuits = {}
    for manifest in sorted(folder.glob("*/manifest.json")) if folder.is_dir() else []:
        circuit = manifest.parent.name
        if circuit.startswith("."):
            continue
        names = [*CIRCUIT_LAYER_FILES, *(f"{circuit}{suffix}" for suffix in CIRCUIT_S3_SUFFIXES)]
        missing = [n for n in names if not (manifest.parent / n).is_file()]
        if missing:
            raise MissingBuildError(f"{manifest.parent}: {', '.join(missing)} missing: run `make build`")
        circuits[circuit] = {n: manifest.parent / n for n in names}
    if not circuits:
        raise MissingBuildError(f"no circuit keys in {folder}: run `make build` before synthesizing")
    return circuits


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

        circuits = circuit_files(config.build_dir)
        artifacts = ArtifactsBundler(
            contract_artifacts(config.build_dir),
            {c: {n: files[n] for n in CIRCUIT_LAYER_FILES} for c, files in circuits.items()},
        )
        self.artifacts = lambda_.LayerVersion(
            self, "Artifacts",
            layer_version_name=f"{config.prefix}-artifacts",
            description=f"contract ABIs ({CONTRACTS_ABI_DIR}), circuit manifests and verifying keys "
                        f"({ZK_KEYS_DIR})",
            code=lambda_.Code.from_asset(
                str(config.root / "infra"), asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=artifacts.fingerprint(), bundling=artifacts.options(),
            ),
            compatible_runtimes=[RUNTIME], compatible_architectures=[ARCHITECTURE],
        )

        # circuit -> file name -> asset
        self.proving_files: dict[str, dict[str, s3_assets.Asset]] = {
            circuit: {
                name: s3_assets.Asset(self, pascal(f"{circuit}-{name.removeprefix(circuit).lstrip('.')}"),
                                      path=str(files[name]))
                for name in files if name not in CIRCUIT_LAYER_FILES
            }
            for circuit, files in circuits.items()
        }

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.dependencies, self.shared, self.artifacts]

    def _proving_assets(self) -> list[s3_assets.Asset]:
        return [asset for files in self.proving_files.values() for asset in files.values()]

    def zk_keys_s3_env(self) -> str:
        """``ZK_KEYS_S3`` (tokens resolve at deploy). The synthesizer puts every file asset in the
        one bootstrap assets bucket, so the first asset's bucket is all of theirs."""
        return json.dumps({
            "bucket": self._proving_assets()[0].s3_bucket_name,
            "objects": {c: {n: a.s3_object_key for n, a in files.items()}
                        for c, files in sorted(self.proving_files.items())},
        }, sort_keys=True, separators=(",", ":"))

    def grant_proving_files(self, role: iam.IRole) -> None:
        """s3:GetObject on exactly the proving objects (no bucket-wide access to the assets bucket)."""
        role.add_to_principal_policy(iam.PolicyStatement(
            actions=["s3:GetObject"],
            resources=[f"arn:{Aws.PARTITION}:s3:::{a.s3_bucket_name}/{a.s3_object_key}"
                       for a in self._proving_assets()],
        ))
