"""Copy the server's pure-Python checks into the SDK, with the few lines that differ named here, so
that the client checks what the platform publishes with exactly the platform's code, on the user's
machine: the Groth16 verifier over py_ecc (``zkdm.groth16_proof``, ``zkdm.groth16_verifier``:
``zkdm verify``) and the content address (``zkdm.ipfs_cid``: a downloaded report's ``reportCid``).
It also pins the circuits' verification keys in the package (``zkdm/keys/<circuit>.json``, from
``make build``'s ``build/circuits/<circuit>/verification_key.json``): ``zkdm verify`` trusts those
(or a key the user gives), never the one the server publishes.

    uv run --frozen python sdk/tools/vendor_verify.py          # rewrite the copies
    uv run --frozen python sdk/tools/vendor_verify.py --check  # exit 1 if a copy drifted

``tests/sdk/test_proof_verify.py`` runs the check.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "layers" / "shared" / "python" / "marketplace"
SDK = ROOT / "sdk" / "zkdm"
P = "21888242871839275222246405745257275088548364400416034343698204186575808495617"

HEADER = ("# Vendored from layers/shared/python/marketplace/{name} by sdk/tools/vendor_verify.py:\n"
          "# do not edit here (edit the server's file and run the tool).\n"
          "# Differences: {why}.\n")

# SDK file -> (server file, why, [(server text, SDK text)]): each must occur exactly once
FILES: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "groth16_proof.py": ("zk/proof.py", "none", []),
    "ipfs_cid.py": ("ipfs.py", "none", []),
    "groth16_verifier.py": ("zk/verifier.py", ("the scalar field's modulus inlined (the server's field.py holds "
                                               "the prover's field helpers), the proof class from the vendored "
                                               "zkdm.groth16_proof"), [
                                ("from .field import P\n", f"P = {P}  # BN254 scalar field (marketplace.zk.field.P)\n"),
                                ("from .proof import Proof, Q\n", "from zkdm.groth16_proof import Proof, Q\n"),
                            ]),
}


def vendored(target: str) -> str:
    source, why, substitutions = FILES[target]
    text = (SERVER / source).read_text()
    for old, new in substitutions:
        if text.count(old) != 1:
            raise SystemExit(f"{source}: expected {old!r} once in the server's file, found it {text.count(old)} "
                             "times: review the change and update sdk/tools/vendor_verify.py")
        text = text.replace(old, new)
    return HEADER.format(name=source, why=why) + text


PINNED = ("compliance", "aggregate")  # the circuits of the proofs the platform publishes (Flows 5 and 6)


def built_key(circuit: str) -> Path:
    return ROOT / "build" / "circuits" / circuit / "verification_key.json"


def pinned_key(circuit: str) -> Path:
    return SDK / "keys" / f"{circuit}.json"


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
    for circuit in PINNED:
        source, target = built_key(circuit), pinned_key(circuit)
        if not source.exists():
            print(f"{source.relative_to(ROOT)} missing (make build): {target.name} not checked")
            continue
        if "--check" in argv:
            if not target.exists() or target.read_text() != source.read_text():
                drifted.append(f"keys/{target.name}")
        else:
            target.parent.mkdir(exist_ok=True)
            target.write_text(source.read_text())
    if drifted:
        print(f"drifted from the server's files: {', '.join(drifted)} (run sdk/tools/vendor_verify.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
