"""Local (Docker-free) bundling of the layers' contents.

CDK calls ``try_bundle(output_dir, options)`` on an ``ILocalBundling`` before it would start a
Docker container; returning True means the asset is in ``output_dir``. Both bundlers here run in
this process, so ``cdk synth`` needs neither Docker nor AWS:

- ``DependenciesBundler``: the project's runtime dependencies (``uv export --no-dev``) installed
  as Lambda-compatible wheels (manylinux2014 x86_64, CPython 3.11) into ``python/``. The install is
  cached under ``.cache/deps-layer/<hash of uv.lock and the target>`` so only a changed lock file
  installs again; uv's own wheel cache makes even that work offline once the wheels were fetched.
  uv runs with colour off whatever the caller's environment says (the CDK CLI runs the app under
  npm, which sets ``FORCE_COLOR``, and ``uv export`` would then colour its ``# via`` comments with
  ANSI codes that ``uv pip install`` cannot parse), and the exported requirements are checked line
  by line before anything is installed.
- ``ArtifactsBundler``: the contracts' ABIs (``abi`` only: no bytecode) and the circuits'
  manifests and verifying keys, laid out under ``artifacts/`` so they land in ``/opt/artifacts``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling

# What the dependency layer targets; part of the cache key, so changing it reinstalls.
PYTHON_VERSION = "3.11"
PLATFORM = "x86_64-manylinux2014"  # uv's name for pip's --platform manylinux2014_x86_64

# Never run: local bundling always answers. CDK requires an image in BundlingOptions regardless.
_NO_DOCKER = DockerImage.from_registry("local-bundling-only")


# Environment variables that make uv (and the tools it runs) emit ANSI colour codes even into a pipe.
_COLOUR_FORCING = ("FORCE_COLOR", "CLICOLOR_FORCE", "UV_COLOR", "TERM_COLOR", "COLORTERM")
# One line of ``uv export --format requirements-txt --no-hashes --no-header``: a comment, or
# ``name[extras]==version`` with an optional environment marker.
_REQUIREMENT = re.compile(
    r"(?:\s*#[^\x1b]*"
    r"|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?:\[[A-Za-z0-9._,-]+\])?==[A-Za-z0-9.+!_-]+"
    r"(?:\s*;\s*[^\x1b#]+)?)"
)


class RequirementsError(RuntimeError):
    """``uv export`` produced something that is not a plain pinned requirements file."""


def _uv() -> str:
    found = shutil.which("uv") or str(Path.home() / ".local/bin/uv")
    if not Path(found).exists():
        raise RuntimeError("uv not found: install it (make install) to build the dependency layer")
    return found


def uv_environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) without colour forcing, with ``NO_COLOR``."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _COLOUR_FORCING}
    env["NO_COLOR"] = "1"
    return env


def check_requirements(text: str) -> list[str]:
    """The pinned requirement lines of ``text``; raises ``RequirementsError`` naming the first line
    that is neither a comment nor ``name==version [; marker]`` (e.g. one with ANSI escapes)."""
    pins = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if not _REQUIREMENT.fullmatch(line):
            raise RequirementsError(f"uv export, line {number}: not a pinned requirement: {line!r}")
        if not line.lstrip().startswith("#"):
            pins.append(line)
    if not pins:
        raise RequirementsError("uv export produced no requirements")
    return pins


def _copy_tree(src: Path, dst: Path) -> None:
    """Copy ``src`` into ``dst`` (which exists), hard-linking files when on the same filesystem:
    the dependency layer is ~100 MB and a synth should not copy it every time."""
    for dirpath, _dirs, files in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for name in files:
            s, d = Path(dirpath) / name, dst / rel / name
            try:
                os.link(s, d)
            except OSError:
                shutil.copy2(s, d)


@jsii.implements(ILocalBundling)
class DependenciesBundler:
    """Installs the locked runtime dependencies into ``<output>/python`` (the layer layout)."""

    def __init__(self, root: Path, cache_dir: Path | None = None) -> None:
        self.root = root
        self.lock = root / "uv.lock"
        self.cache_dir = cache_dir or root / ".cache" / "deps-layer"
        if not self.lock.is_file():
            raise FileNotFoundError(f"{self.lock} missing: the dependency layer is built from the lock file")

    def key(self) -> str:
        """Hash of everything that decides the layer's content."""
        h = hashlib.sha256()
        h.update(self.lock.read_bytes())
        h.update((self.root / "pyproject.toml").read_bytes())
        h.update(f"{PLATFORM}|{PYTHON_VERSION}|v1".encode())
        return h.hexdigest()[:32]

    def options(self) -> BundlingOptions:
        return BundlingOptions(image=_NO_DOCKER, local=self)

    def export_requirements(self) -> str:
        """The locked runtime dependencies as a requirements file, checked (``check_requirements``)."""
        result = subprocess.run(
            [_uv(), "export", "--color", "never", "--no-dev", "--frozen", "--no-hashes", "--no-emit-project",
             "--no-header", "--format", "requirements-txt"],
            cwd=self.root, check=False, capture_output=True, text=True, env=uv_environment(),
        )
        if result.returncode != 0:
            raise RequirementsError(f"uv export failed ({result.returncode}):\n{result.stderr}")
        check_requirements(result.stdout)
        return result.stdout

    def build(self) -> Path:
        """The installed tree for the current lock file, building it once. Safe to run from two
        processes at once: each installs into its own staging folder and the first rename wins."""
        target = self.cache_dir / self.key()
        if (target / ".complete").exists():
            return target
        staging = self.cache_dir / f".{target.name}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        site = staging / "python"
        site.mkdir(parents=True)
        requirements = staging / "requirements.txt"
        try:
            requirements.write_text(self.export_requirements())
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        env = uv_environment()
        install = [_uv(), "pip", "install", "--quiet", "--color", "never", "--no-deps", "--only-binary", ":all:",
                   "--python-platform", PLATFORM, "--python-version", PYTHON_VERSION,
                   "--target", str(site), "-r", str(requirements)]
        # Offline first (the wheels are usually in uv's cache); fetch from PyPI only if missing.
        offline = subprocess.run([*install, "--offline"], check=False, cwd=self.root, capture_output=True,
                                 env=env)
        if offline.returncode != 0:
            shutil.rmtree(site)
            site.mkdir()
            result = subprocess.run(install, check=False, cwd=self.root, capture_output=True, text=True,
                                    env=env)
            if result.returncode != 0:
                shutil.rmtree(staging, ignore_errors=True)
                raise RuntimeError(f"dependency layer install failed:\n{result.stderr}")
        requirements.rename(site / "requirements.lock.txt")  # what the layer holds, for the record
        (staging / ".complete").touch()
        try:
            staging.rename(target)
        except OSError:  # another process finished first: use its tree
            shutil.rmtree(staging, ignore_errors=True)
        for old in self.cache_dir.iterdir():  # finished trees of earlier lock files
            if old != target and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)
        return target

    # ILocalBundling.try_bundle takes the BundlingOptions' fields as keywords (jsii expands the
    # struct when the override declares keyword-only parameters); none is needed here.
    def try_bundle(self, output_dir: str, *, image: DockerImage, **options: Any) -> bool:
        tree = self.build()
        _copy_tree(tree / "python", Path(output_dir) / "python")
        return True


@jsii.implements(ILocalBundling)
class ArtifactsBundler:
    """Writes ``artifacts/contracts/<Name>.json`` (``{"contractName", "abi"}``) and
    ``artifacts/circuits/<circuit>/<file>`` (copies) from the build directory."""

    def __init__(self, contracts: dict[str, Path], circuits: dict[str, dict[str, Path]]) -> None:
        self.contracts = contracts
        self.circuits = circuits

    def options(self) -> BundlingOptions:
        return BundlingOptions(image=_NO_DOCKER, local=self)

    def files(self) -> dict[str, bytes]:
        """The layer's content: relative path -> bytes."""
        files: dict[str, bytes] = {}
        for name, path in sorted(self.contracts.items()):
            abi = json.loads(path.read_text())["abi"]
            files[f"artifacts/contracts/{name}.json"] = json.dumps(
                {"contractName": name, "abi": abi}, sort_keys=True).encode()
        for circuit, circuit_files in sorted(self.circuits.items()):
            for name, path in sorted(circuit_files.items()):
                files[f"artifacts/circuits/{circuit}/{name}"] = path.read_bytes()
        return files

    def fingerprint(self) -> str:
        """Asset hash of what ships (a new bytecode with the same ABI changes nothing)."""
        h = hashlib.sha256()
        for rel, data in sorted(self.files().items()):
            h.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
        return h.hexdigest()

    # ILocalBundling.try_bundle takes the BundlingOptions' fields as keywords (jsii expands the
    # struct when the override declares keyword-only parameters); none is needed here.
    def try_bundle(self, output_dir: str, *, image: DockerImage, **options: Any) -> bool:
        for rel, data in self.files().items():
            path = Path(output_dir) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return True
