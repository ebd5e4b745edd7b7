"""What the CLI keeps on this machine, under ``ZKDM_HOME`` (default ``~/.zkdm``), readable by its
owner only: session tokens (``sessions.json``, per API and address, until they expire), the
credentials of licenses bought here (``licenses/<licenseId>.json``: apiKey and accessToken, shown
once by the API), and resumable uploads (``uploads/``, see ``zkdm.transfer``). No private key is
ever written here (keystores are the user's own files)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from zkdm.transfer import default_home, write_json_atomic


class Store:
    def __init__(self, home: str | Path | None = None) -> None:
        self.home = Path(home or default_home()).expanduser()

    # -- sessions ---------------------------------------------------------------------------------

    def _sessions(self) -> dict[str, Any]:
        try:
            return json.loads((self.home / "sessions.json").read_text())
        except (OSError, ValueError):
            return {}

    def session(self, api_url: str, address: str) -> str | None:
        entry = self._sessions().get(f"{api_url}|{address.lower()}")
        if entry and entry.get("expiresAt", 0) > time.time() + 60:
            return entry["token"]
        return None

    def save_session(self, api_url: str, address: str, token: str, expires_at: int) -> None:
        sessions = {k: v for k, v in self._sessions().items() if v.get("expiresAt", 0) > time.time()}
        sessions[f"{api_url}|{address.lower()}"] = {"token": token, "expiresAt": expires_at}
        write_json_atomic(self.home / "sessions.json", sessions)

    # -- license credentials ----------------------------------------------------------------------

    def save_license(self, license_id: str, data: dict[str, Any]) -> Path:
        path = self.home / "licenses" / f"{license_id.lower()}.json"
        current = self.license(license_id) or {}
        write_json_atomic(path, {**current, **data, "licenseId": license_id.lower()})
        return path

    def license(self, license_id: str) -> dict[str, Any] | None:
        try:
            return json.loads((self.home / "licenses" / f"{license_id.lower()}.json").read_text())
        except (OSError, ValueError):
            return None

    def licenses(self) -> list[dict[str, Any]]:
        out = []
        for path in sorted((self.home / "licenses").glob("*.json")):
            try:
                out.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
        return out

    def license_for_content(self, content_id: str) -> dict[str, Any] | None:
        mine = [lic for lic in self.licenses() if lic.get("contentId", "").lower() == content_id.lower()]
        return mine[-1] if mine else None
