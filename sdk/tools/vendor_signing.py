"""Copy the server's pure access-signing helpers into the SDK (``zkdm.access_signature``,
``zkdm.client_signing``), with the few lines that differ named here.

    uv run --frozen python sdk/tools/vendor_signing.py          # rewrite the copies
    uv run --frozen python sdk/tools/vendor_signing.py --check  # exit 1 if a copy drifted

The server's files use pycryptodome's keccak, which the SDK does not depend on; the copies take
keccak from eth-utils (eth-account's own dependency). ``tests/sdk/test_access_signing.py`` runs
the check, and signs with the copies and verifies with the server's code.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "layers" / "shared" / "python" / "marketplace" / "usage"
SDK = ROOT / "sdk" / "zkdm"

HEADER = ("# Vendored from layers/shared/python/marketplace/usage/{name} by sdk/tools/vendor_signing.py:\n"
          "# do not edit here (edit the server's file and run the tool).\n"
          "# Differences: {why}.\n")

# (server text, SDK text): each must occur exactly once in the server's file
FILES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "access_signature.py": ("keccak from eth-utils (eth-account's dependency) instead of pycryptodome", [
        ("(keccak from pycryptodome, loaded on first use)", "(keccak from eth-utils, loaded on first use)"),
        ("    from Crypto.Hash import keccak\n", "    from eth_utils import keccak\n"),
        ("    return _keccak_impl().new(digest_bits=256, data=data).digest()\n",
         "    return bytes(_keccak_impl()(data))\n"),
    ]),
    "client_signing.py": ("imports the vendored zkdm.access_signature", [
        ("from marketplace.usage import access_signature as sig\n", "from zkdm import access_signature as sig\n"),
    ]),
}


def vendored(name: str) -> str:
    """The SDK's copy of the server's ``name``, as this tool makes it."""
    why, substitutions = FILES[name]
    text = (SERVER / name).read_text()
    for old, new in substitutions:
        if text.count(old) != 1:
            raise SystemExit(f"{name}: expected {old!r} once in the server's file, found it {text.count(old)} "
                             "times: review the change and update sdk/tools/vendor_signing.py")
        text = text.replace(old, new)
    return HEADER.format(name=name, why=why) + text


def main(argv: list[str]) -> int:
    drifted = []
    for name in FILES:
        expected = vendored(name)
        target = SDK / name
        if "--check" in argv:
            if not target.exists() or target.read_text() != expected:
                drifted.append(name)
        else:
            target.write_text(expected)
    if drifted:
        print(f"drifted from the server's files: {', '.join(drifted)} (run sdk/tools/vendor_signing.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
