"""Real published-proof files for the SDK's ``zkdm verify`` tests (tests/sdk/fixtures/proofs/), made
with the platform's prover and the built circuit keys:

    uv run --frozen python -m tests.support.proof_fixtures     (after make build)

- ``compliance/``: a two-chunk compliance proof (33 batch records: 32 + 1, so the chunks link);
- ``aggregate/``: a one-chunk aggregate proof over three licenses.

Each folder holds what ``GET /verify/proof/{id}/files/{name}`` serves (``verification_key.json``,
``proof-<i>.json``, ``public-<i>.json``) and ``view.json``, the public view's fields the SDK reads
(kind, chunks, outputs). The files carry their own verification key, so they stay valid when the
circuits change (the tests give it as the user's key); the SDK's pinned keys are checked against the
build separately.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "sdk" / "fixtures" / "proofs"
HOUR = 3600


def _write(folder: Path, kind: str, chunks, outputs: dict[str, int], circuit_dir: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "verification_key.json").write_text((circuit_dir / "verification_key.json").read_text())
    for i, c in enumerate(chunks):
        (folder / f"proof-{i}.json").write_text(json.dumps(c.proof.to_snarkjs(), indent=1))
        (folder / f"public-{i}.json").write_text(json.dumps([str(s) for s in c.public_signals], indent=1))
    (folder / "view.json").write_text(json.dumps({"kind": kind, "chunks": len(chunks), "outputs": outputs},
                                                 indent=1) + "\n")


def main() -> int:
    sys.path.insert(0, str(ROOT / "layers" / "shared" / "python"))
    from marketplace.proofs.engine import engine
    from marketplace.zk import load_circuit
    from marketplace.zk.folds import prove_aggregate, prove_compliance
    from marketplace.zk.inputs import BatchRecord, fold_chain

    from tests.support.zk_samples import DOMAIN, T0, aggregate_licenses

    records = [BatchRecord(7_000 + j, 30, T0 + j * HOUR, T0 + (j + 1) * HOUR) for j in range(33)]
    terms = {"max_uses": 1000, "price_per_use": 2_500_000, "valid_from": T0, "valid_until": T0 + 40 * HOUR}
    chunks = prove_compliance(records, chain=fold_chain(records), domain=DOMAIN, workers=1, **terms)
    _write(OUT / "compliance", "compliance", chunks, engine().compliance_outputs(chunks),
           load_circuit("compliance").directory)
    agg = prove_aggregate(aggregate_licenses(), DOMAIN, workers=1)
    _write(OUT / "aggregate", "aggregate", agg, engine().aggregate_outputs(agg), load_circuit("aggregate").directory)
    print(f"written: {OUT.relative_to(ROOT)} (compliance {len(chunks)} chunks, aggregate {len(agg)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
