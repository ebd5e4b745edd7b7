"""Extract circomlib's Poseidon constants into marketplace/zk/poseidon_constants.json.

`marketplace.zk.poseidon` must compute exactly what circomlib's `Poseidon(n)` template computes,
so it uses the very constants (C, S, M, P of the optimised permutation) that
`node_modules/circomlib/circuits/poseidon_constants.circom` feeds the circuit. Only the widths
the circuits use (t = 2..6, i.e. 1..5 inputs) are kept, to keep the shared layer small.

Run after changing the circomlib version: `uv run python circuits/extract_poseidon_constants.py`.
tests/zk/test_poseidon.py checks the Python hash against the compiled circuits.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "node_modules" / "circomlib" / "circuits" / "poseidon_constants.circom"
TARGET = ROOT / "layers" / "shared" / "python" / "marketplace" / "zk" / "poseidon_constants.json"
WIDTHS = range(2, 7)


def _function_body(text: str, name: str) -> str:
    start = text.index(f"function {name}(t)")
    end = text.find("function ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def _array_for_width(body: str, t: int):
    """The literal after `if (t==T) { return` as nested Python lists of ints."""
    m = re.search(rf"t\s*==\s*{t}\s*\)\s*\{{\s*return\s*(\[.*?\])\s*;", body, re.DOTALL)
    if not m:
        raise ValueError(f"no constants for t={t}")
    literal = re.sub(r"0x[0-9a-fA-F]+", lambda h: str(int(h.group(0), 16)), m.group(1))
    return json.loads(literal)


def main() -> None:
    text = SOURCE.read_text()
    out = {"source": "circomlib/circuits/poseidon_constants.circom", "widths": {}}
    for t in WIDTHS:
        out["widths"][str(t)] = {
            name: _array_for_width(_function_body(text, f"POSEIDON_{name}"), t) for name in "CSMP"
        }
    # Decimal strings: JSON numbers this large are not portable.
    def stringify(x):
        return [stringify(v) for v in x] if isinstance(x, list) else str(x)

    for consts in out["widths"].values():
        for k in list(consts):
            consts[k] = stringify(consts[k])
    TARGET.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"wrote {TARGET.relative_to(ROOT)} ({TARGET.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
