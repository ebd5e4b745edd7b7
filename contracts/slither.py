"""Static analysis of the contracts with Slither, offline (``make slither``).

solc-js's standard-JSON input and output (``build/contracts/solc-input.json``/``solc-output.json``,
written by ``node contracts/build.mjs``) are wrapped as a Hardhat build-info file, which Slither
reads with ``--hardhat-ignore-compile``: no compiler is downloaded and nothing is recompiled.

Fails (exit 1) on any High or Medium finding in our contracts (``contracts/``; OpenZeppelin is a
dependency, the generated verifiers are reported but their findings are snarkjs's) that
``contracts/SECURITY.md`` does not explain: each explained finding is a row
``| detector | Contract.function | reason |`` of its "Slither findings" table. Prints every
finding; the full report is written to ``build/slither/report.json``.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "contracts"
WORK = ROOT / "build" / "slither"
SECURITY = ROOT / "contracts" / "SECURITY.md"
BLOCKING = ("High", "Medium")


def build_info() -> Path:
    """Writes build/slither/artifacts/build-info/<id>.json from the solc-js standard JSON."""
    subprocess.run(["node", "contracts/build.mjs"], cwd=ROOT, check=True)
    solc_input = json.loads((BUILD / "solc-input.json").read_text())
    solc_output = json.loads((BUILD / "solc-output.json").read_text())
    long_version = (BUILD / "solc-version.txt").read_text().strip()  # 0.8.28+commit.7893614a.Emscripten.clang
    digest = hashlib.sha256((BUILD / "solc-input.json").read_bytes()).hexdigest()[:32]
    info_dir = WORK / "artifacts" / "build-info"
    shutil.rmtree(info_dir, ignore_errors=True)
    info_dir.mkdir(parents=True)
    path = info_dir / f"{digest}.json"
    path.write_text(json.dumps({
        "_format": "hh-sol-build-info-1",
        "id": digest,
        "solcVersion": long_version.split("+")[0],
        "solcLongVersion": long_version.split(".Emscripten")[0],
        "input": solc_input,
        "output": solc_output,
    }))
    return path


def run_slither() -> dict:
    report = WORK / "report.json"
    report.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "slither", ".", "--hardhat-ignore-compile", "--npx-disable",
           "--hardhat-artifacts-directory", str((WORK / "artifacts").relative_to(ROOT)),
           "--exclude-dependencies", "--json", str(report)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)  # exits 255 on findings
    if not report.exists():
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit("slither produced no report")
    data = json.loads(report.read_text())
    if not data.get("success"):
        raise SystemExit(f"slither failed: {data.get('error')}")
    return data


def location(finding: dict) -> str:
    """``Contract.function`` (or ``Contract``) of a finding's first source element."""
    for element in finding.get("elements", []):
        parent = element.get("type_specific_fields", {}).get("parent", {})
        if element.get("type") == "function":
            return f"{parent.get('name', '?')}.{element['name']}"
        if element.get("type") == "contract":
            return element["name"]
        grandparent = parent.get("type_specific_fields", {}).get("parent", {})
        if parent.get("type") == "function" and grandparent:
            return f"{grandparent.get('name', '?')}.{parent['name']}"
    return "?"


def source_file(finding: dict) -> str:
    for element in finding.get("elements", []):
        path = element.get("source_mapping", {}).get("filename_relative")
        if path:
            return path
    return "?"


def explained() -> set[tuple[str, str]]:
    """(detector, Contract.function) pairs of SECURITY.md's "Slither findings" table."""
    text = SECURITY.read_text() if SECURITY.exists() else ""
    section = text.split("## Slither findings", 1)[1] if "## Slither findings" in text else ""
    section = section.split("\n## ", 1)[0]
    rows = re.findall(r"^\|\s*`?([\w-]+)`?\s*\|\s*`?([\w.]+)`?\s*\|", section, flags=re.MULTILINE)
    return {(d, loc) for d, loc in rows if d != "Detector" and not set(d) <= {"-"}}


def main() -> int:
    build_info()
    findings = run_slither()["results"].get("detectors", [])
    accepted = explained()
    blocking = []
    minor: dict[str, int] = {}
    order = ("High", "Medium", "Low", "Informational", "Optimization")
    for f in sorted(findings, key=lambda f: (order.index(f["impact"]), f["check"], location(f))):
        if f["impact"] in ("Informational", "Optimization"):
            minor[f["check"]] = minor.get(f["check"], 0) + 1
            continue
        key = (f["check"], location(f))
        status = ""
        if f["impact"] in BLOCKING:
            if not source_file(f).startswith("contracts/"):
                status = "(generated verifier / dependency)"
            elif key in accepted:
                status = "(explained in SECURITY.md)"
            else:
                status = "UNEXPLAINED"
                blocking.append(f)
        print(f"[{f['impact']}] {f['check']} @ {key[1]} {status}\n    {f['description'].strip().splitlines()[0][:240]}")
    counts = {impact: sum(f["impact"] == impact for f in findings) for impact in order}
    print("\nsummary: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print("informational/optimization by detector: " + ", ".join(f"{k} {v}" for k, v in sorted(minor.items())))
    if blocking:
        print(f"\n{len(blocking)} High/Medium finding(s) not explained in {SECURITY.relative_to(ROOT)}:")
        for f in blocking:
            print(f"  | {f['check']} | {location(f)} | ... |")
        return 1
    print(f"OK: every High/Medium finding in contracts/ is explained in {SECURITY.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
