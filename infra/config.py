"""The stage's settings, read once from CDK context (``cdk.json`` plus ``-c key=value``).

Nothing here looks anything up in AWS: ``cdk synth`` runs offline. The chain configuration comes
from the deployment file that ``contracts/deploy.py`` writes (``deployments/<network>.json``) and
reaches the functions as the ``CHAIN_CONFIG`` environment variable (the JSON itself, see
docs/design.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,20}$")


class ConfigError(Exception):
    """The context or the files it points at cannot make a stack; the message says what to fix."""


@dataclass(frozen=True)
class StageConfig:
    project: str  # short name, first half of every physical name
    stage: str  # dev, staging, prod, ...
    network: str  # key into the ``networks`` context map and the deployment file's name
    chain_config: dict[str, Any]  # CHAIN_CONFIG: {"chainId", "rpcUrl", "contracts", ...}
    deployment_file: Path
    deployment_found: bool
    root: Path = ROOT  # the repository: functions/, layers/, statemachines/, uv.lock
    build_dir: Path = ROOT / "build"  # contract ABIs and circuit keys (``make build``)
    log_retention_days: int = 30
    api_rate_limit: int = 50  # steady requests per second, stage-wide default
    api_burst_limit: int = 100
    upload_cors_origins: tuple[str, ...] = ("*",)
    public_base_url: str | None = None  # a custom domain; default: the execute-api URL of the stage
    settings: dict[str, str] = field(default_factory=dict)  # values for resources.SETTINGS by env name
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        """``{project}-{stage}``: resources.physical_name's prefix (e.g. ``zkdm-dev``)."""
        return f"{self.project}-{self.stage}"

    @property
    def is_production(self) -> bool:
        return self.stage == "prod"


def _get(ctx: dict[str, Any], key: str, default: Any = None) -> Any:
    value = ctx.get(key, default)
    return default if value is None else value


def load(ctx: dict[str, Any], *, root: Path = ROOT, build_dir: Path | None = None) -> StageConfig:
    """Build the stage's settings from a flat context mapping (``node.try_get_context`` values)."""
    project = str(_get(ctx, "project", "zkdm"))
    stage = str(_get(ctx, "stage", "dev"))
    network = str(_get(ctx, "network", "sepolia"))
    for key, value in (("project", project), ("stage", stage), ("network", network)):
        if not _NAME.match(value):
            raise ConfigError(f"context {key}={value!r}: use lowercase letters, digits and '-' (max 21)")

    networks = _get(ctx, "networks", {})
    if isinstance(networks, str):  # -c networks='{...}' arrives as a string
        networks = json.loads(networks)
    net = dict(networks.get(network, {}))
    # -c rpcUrl=... / -c chainId=... override the network's defaults for one deploy
    if _get(ctx, "rpcUrl"):
        net["rpcUrl"] = str(ctx["rpcUrl"])
    if _get(ctx, "chainId"):
        net["chainId"] = int(ctx["chainId"])

    deployment_file = root / str(_get(ctx, "deploymentFile", "deployments/{network}.json")).format(
        network=network
    )
    chain: dict[str, Any] = {"chainId": net.get("chainId"), "rpcUrl": net.get("rpcUrl"), "contracts": {}}
    found = deployment_file.is_file()
    if found:
        try:
            deployed = json.loads(deployment_file.read_text())
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{deployment_file}: not JSON ({exc})") from exc
        if net.get("chainId") is not None and int(deployed.get("chainId", -1)) != int(net["chainId"]):
            raise ConfigError(
                f"{deployment_file} is for chain {deployed.get('chainId')}, but network {network!r} "
                f"is chain {net['chainId']}: deploy the contracts to this network or pick another file"
            )
        chain = {**deployed, **{k: v for k, v in (("rpcUrl", net.get("rpcUrl")),) if v}}
    if chain.get("chainId") is None or not chain.get("rpcUrl"):
        raise ConfigError(
            f"network {network!r}: no chainId/rpcUrl; add it under context 'networks' in cdk.json "
            "or pass -c rpcUrl=... -c chainId=..."
        )

    throttle = _get(ctx, "apiThrottle", {})
    origins = _get(ctx, "uploadCorsOrigins", ["*"])
    if isinstance(origins, str):
        origins = [o.strip() for o in origins.split(",") if o.strip()]
    settings = _get(ctx, "settings", {})
    if isinstance(settings, str):
        settings = json.loads(settings)
    return StageConfig(
        project=project,
        stage=stage,
        network=network,
        chain_config=chain,
        deployment_file=deployment_file,
        deployment_found=found,
        root=root,
        build_dir=build_dir or root / "build",
        log_retention_days=int(_get(ctx, "logRetentionDays", 30)),
        api_rate_limit=int(throttle.get("rateLimit", 50)),
        api_burst_limit=int(throttle.get("burstLimit", 100)),
        upload_cors_origins=tuple(origins),
        public_base_url=_get(ctx, "publicBaseUrl"),
        settings={str(k): str(v) for k, v in settings.items()},
        tags={"project": project, "stage": stage},
    )
