"""Build every circuit in circuits/registry.json: compile, development Groth16 setup, keys, verifiers.

    uv run python circuits/build.py                 # all circuits
    uv run python circuits/build.py --circuit usage_batch
    uv run python circuits/build.py --force         # ignore the cache

Per circuit, into build/circuits/<name>/:
  <name>.r1cs, <name>.wasm, <name>.sym   circom2 (the circom compiler as WASM), --O2
  <name>.zkey                            snarkjs `groth16 setup` over the powers of tau, then one
                                         `zkey contribute` with a fixed, public entropy string
  verification_key.json                  snarkjs `zkey export verificationkey`
  <name>.pk                              groth16py ProvingKey imported from the same .zkey
  manifest.json                          cache key, constraint count, public signals (the prover's
                                         source of truth at run time)
and build/verifiers/<Contract>Verifier.sol (snarkjs `zkey export solidityverifier`, same key).

THE SETUP IS A DEVELOPMENT SETUP, UNSAFE FOR PRODUCTION: the powers of tau is a single-party
file whose toxic waste is not secret (../shared/zk/README.md), and the phase-2 contribution uses a
fixed public entropy string. Anyone can forge proofs for these keys. circuits/README.md says how
to import a real ceremony's .zkey instead.

Keys are cached by a hash of everything they are made from (the circuit sources including every
included circomlib/template file, the registry entry, the compiler and snarkjs versions, the ptau
hash, the setup entropy): a rebuild with nothing changed only re-reads sources. Concurrent builds
are safe: each circuit is built under an exclusive file lock in a temporary folder that is then
renamed into place, and single files are written to a temporary name and renamed.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = ROOT / "circuits" / "registry.json"
BUILD = ROOT / "build" / "circuits"
VERIFIERS = ROOT / "build" / "verifiers"
NODE_BIN = ROOT / "node_modules" / ".bin"
# Include paths, relative to ROOT: circom2 runs in a WASI sandbox that only sees the working
# directory, so every path handed to it must be relative.
INCLUDE_DIRS = ["node_modules/circomlib/circuits", "circuits/templates"]
CIRCOM_FLAGS = ["--O2", "--r1cs", "--wasm", "--sym"]

DEFAULT_PTAU = ROOT.parent / "shared" / "zk" / "pot16_dev_insecure.ptau"
PTAU_SHA256 = "e5bd1232efb187278e41b2858d341edfbaf7818404d3a9ad2afbf01534ac6a9f"
PTAU_POWER = 16
# Public, fixed: this is what makes the phase-2 contribution reproducible and worthless as a secret.
DEV_ENTROPY = "zk-data-marketplace development phase-2 contribution: PUBLIC ENTROPY, UNSAFE"
UNSAFE_NOTE = ("DEVELOPMENT SETUP, UNSAFE FOR PRODUCTION: single-party powers of tau and a "
               "phase-2 contribution with public entropy; anyone can forge proofs for this key.")
# Bump to invalidate every cached key when this script's setup procedure changes.
BUILD_FORMAT = 1


def log(msg: str) -> None:
    print(msg, flush=True)


def pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def load_registry() -> dict:
    return json.loads(REGISTRY.read_text())["circuits"]


def expand_signals(names: list[str]) -> list[str]:
    """`chains[8]` → `chains[0]` ... `chains[7]` (the registry's shorthand for array signals)."""
    out = []
    for name in names:
        m = re.fullmatch(r"(\w+)\[(\d+)\]", name)
        out.extend([f"{m.group(1)}[{i}]" for i in range(int(m.group(2)))] if m else [name])
    return out


# ---------------------------------------------------------------------------------------------
# Cache key


def _resolve_include(name: str, from_dir: Path) -> Path:
    for base in [from_dir, *(ROOT / d for d in INCLUDE_DIRS)]:
        candidate = (base / name).resolve()
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"include {name!r} (from {from_dir}) not found")


def source_closure(main: Path) -> list[Path]:
    """The main file and every file it includes, transitively (resolved like circom does)."""
    seen: dict[Path, None] = {}
    todo = [main.resolve()]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen[path] = None
        text = re.sub(r"//[^\n]*|/\*.*?\*/", "", path.read_text(), flags=re.S)
        for inc in re.findall(r'include\s+"([^"]+)"\s*;', text):
            todo.append(_resolve_include(inc, path.parent))
    return sorted(seen)


def _package_version(pkg: str) -> str:
    return json.loads((ROOT / "node_modules" / pkg / "package.json").read_text())["version"]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def circuit_key(name: str, entry: dict) -> str:
    """Identity of the compiled circuit: sources (with every include), registry entry, compiler."""
    h = hashlib.sha256()
    meta = {
        "format": BUILD_FORMAT, "circuit": name, "entry": entry, "flags": CIRCOM_FLAGS,
        "circom2": _package_version("circom2"), "circomlib": _package_version("circomlib"),
    }
    h.update(json.dumps(meta, sort_keys=True).encode())
    for path in source_closure(ROOT / entry["main"]):
        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        h.update(f"\0{rel}\0".encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def dev_setup_id(ptau_sha: str) -> str:
    """Identity of the development setup procedure (same circuit + same id = same keys)."""
    import groth16py

    meta = {"format": BUILD_FORMAT, "ptau": ptau_sha, "entropy": DEV_ENTROPY,
            "snarkjs": _package_version("snarkjs"), "groth16py": groth16py.__version__}
    return hashlib.sha256(json.dumps(meta, sort_keys=True).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Steps


def run(cmd: list[str], what: str) -> str:
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc.stdout


def r1cs_header(path: Path) -> dict:
    """Header section of a circom .r1cs file (iden3 binary format)."""
    data = path.read_bytes()
    if data[:4] != b"r1cs":
        raise ValueError(f"{path} is not an r1cs file")
    n_sections = int.from_bytes(data[8:12], "little")
    pos = 12
    for _ in range(n_sections):
        kind = int.from_bytes(data[pos:pos + 4], "little")
        size = int.from_bytes(data[pos + 4:pos + 12], "little")
        pos += 12
        if kind == 1:
            n8 = int.from_bytes(data[pos:pos + 4], "little")
            q = pos + 4 + n8
            ints = [int.from_bytes(data[q + 4 * i:q + 4 * i + 4], "little") for i in range(4)]
            constraints = int.from_bytes(data[q + 24:q + 28], "little")
            return {"wires": ints[0], "outputs": ints[1], "public_inputs": ints[2],
                    "private_inputs": ints[3], "constraints": constraints}
        pos += size
    raise ValueError(f"{path}: no header section")


def check_public_order(sym: Path, expected: list[str]) -> None:
    """Wires 1..n must be exactly main.<expected[i]>: the verifier's public input order."""
    names: dict[int, str] = {}
    for line in sym.read_text().splitlines():
        _, wire, _, label = line.split(",", 3)
        wire = int(wire)
        if 1 <= wire <= len(expected) and label.count(".") == 1:
            names[wire] = label.removeprefix("main.")
    got = [names.get(i) for i in range(1, len(expected) + 1)]
    if got != expected:
        raise RuntimeError(f"public signals are {got}, registry says {expected}")


def solidity_verifier(raw: str, contract: str, circuit: str, key: str) -> str:
    """snarkjs's verifier, renamed and marked as generated (its pragma `>=0.7.0 <0.9.0` accepts
    solc 0.8.28)."""
    if "contract Groth16Verifier" not in raw:
        raise RuntimeError("unexpected snarkjs verifier template")
    header = (
        f"// GENERATED by circuits/build.py from build/circuits/{circuit}/{circuit}.zkey "
        f"(snarkjs {_package_version('snarkjs')} `zkey export solidityverifier`). DO NOT EDIT.\n"
        f"// Circuit: {circuit}; cache key {key[:16]}.\n"
        f"// {UNSAFE_NOTE}\n"
    )
    body = raw.replace("contract Groth16Verifier", f"contract {contract}", 1)
    return header + body


def write_atomic(path: Path, data: str | bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data.encode() if isinstance(data, str) else data)
    os.replace(tmp, path)


def vk_points_equal(a: dict, b: dict) -> bool:
    keys = ["vk_alpha_1", "vk_beta_2", "vk_gamma_2", "vk_delta_2", "IC"]

    def ints(x):
        return [ints(v) for v in x] if isinstance(x, list) else int(x)

    return all(ints(a[k]) == ints(b[k]) for k in keys)


@contextmanager
def circuit_lock(name: str):
    BUILD.mkdir(parents=True, exist_ok=True)
    with open(BUILD / f".{name}.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def is_current(name: str, entry: dict, key: str) -> bool:
    out = BUILD / name
    manifest = out / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        if json.loads(manifest.read_text()).get("cache_key") != key:
            return False
    except json.JSONDecodeError:
        return False
    files = [f"{name}.r1cs", f"{name}.wasm", f"{name}.sym", f"{name}.zkey", f"{name}.pk",
             "verification_key.json"]
    return all((out / f).is_file() for f in files)


def ensure_verifier(name: str, entry: dict, key: str) -> None:
    """(Re)write the Solidity verifier from the cached zkey if it is missing or stale."""
    contract = entry["verifier_contract"]
    target = VERIFIERS / f"{contract}.sol"
    if target.is_file() and f"cache key {key[:16]}" in target.read_text():
        return
    VERIFIERS.mkdir(parents=True, exist_ok=True)
    tmp = BUILD / name / f".verifier.{os.getpid()}.sol"
    run([str(NODE_BIN / "snarkjs"), "zkey", "export", "solidityverifier",
         str(BUILD / name / f"{name}.zkey"), str(tmp)], "snarkjs zkey export solidityverifier")
    write_atomic(target, solidity_verifier(tmp.read_text(), contract, name, key))
    tmp.unlink()


def build_circuit(name: str, entry: dict, key: str, ptau: Path, ptau_sha: str) -> dict:
    import groth16py

    snarkjs = str(NODE_BIN / "snarkjs")
    tmp = BUILD / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    rel_tmp = tmp.relative_to(ROOT)
    timings = {}
    try:
        t = time.monotonic()
        cmd = [str(NODE_BIN / "circom2"), entry["main"], *CIRCOM_FLAGS, "-o", str(rel_tmp)]
        for inc in INCLUDE_DIRS:
            cmd += ["-l", inc]
        run(cmd, "circom2")
        stem = Path(entry["main"]).stem
        for ext in ("r1cs", "sym"):
            (tmp / f"{stem}.{ext}").rename(tmp / f"{name}.{ext}")
        (tmp / f"{stem}_js" / f"{stem}.wasm").rename(tmp / f"{name}.wasm")
        shutil.rmtree(tmp / f"{stem}_js")
        header = r1cs_header(tmp / f"{name}.r1cs")
        public = expand_signals(entry["public_signals"])
        if header["outputs"] + header["public_inputs"] != len(public):
            raise RuntimeError(f"{name}: {header['outputs'] + header['public_inputs']} public signals, "
                               f"registry lists {len(public)}")
        check_public_order(tmp / f"{name}.sym", public)
        # snarkjs needs a domain of at least constraints + public inputs + 1 points.
        if header["constraints"] + len(public) + 1 > 1 << PTAU_POWER:
            raise RuntimeError(f"{name}: {header['constraints']} constraints exceed the 2^{PTAU_POWER} ptau")
        timings["compile_s"] = round(time.monotonic() - t, 1)
        log(f"  [{name}] compiled: {header['constraints']} constraints, {header['wires']} wires "
            f"({timings['compile_s']} s)")

        t = time.monotonic()
        zkey0, zkey = tmp / f"{name}_0000.zkey", tmp / f"{name}.zkey"
        run([snarkjs, "groth16", "setup", str(tmp / f"{name}.r1cs"), str(ptau), str(zkey0)],
            "snarkjs groth16 setup")
        run([snarkjs, "zkey", "contribute", str(zkey0), str(zkey), "--name=development (UNSAFE)",
             f"-e={DEV_ENTROPY}"], "snarkjs zkey contribute")
        zkey0.unlink()
        run([snarkjs, "zkey", "export", "verificationkey", str(zkey), str(tmp / "verification_key.json")],
            "snarkjs zkey export verificationkey")
        timings["setup_s"] = round(time.monotonic() - t, 1)
        log(f"  [{name}] Groth16 setup (DEVELOPMENT, UNSAFE) done ({timings['setup_s']} s)")

        t = time.monotonic()
        pk, vk = groth16py.import_zkey(str(zkey))
        if not vk_points_equal(json.loads(vk.to_json()),
                               json.loads((tmp / "verification_key.json").read_text())):
            raise RuntimeError(f"{name}: groth16py's imported key differs from snarkjs's")
        pk.save(str(tmp / f"{name}.pk"))
        timings["import_s"] = round(time.monotonic() - t, 1)

        manifest = {
            "circuit": name, "cache_key": key, "template": entry["template"],
            "parameters": entry["parameters"], "public_signals": public, "outputs": entry["outputs"],
            "consumer": entry["consumer"], "verifier_contract": entry["verifier_contract"],
            "constraints": header["constraints"], "wires": header["wires"],
            "private_inputs": header["private_inputs"], "ptau_sha256": ptau_sha,
            "setup": UNSAFE_NOTE, "timings": timings,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

        # Swap into place (under the lock, so no other builder races us).
        out = BUILD / name
        old = BUILD / f".{name}.old-{os.getpid()}"
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
        return manifest
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def main(argv: list[str] | None = None) -> int:
    registry = load_registry()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--circuit", action="append", choices=sorted(registry),
                        help="build only this circuit (repeatable)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the cache is current")
    args = parser.parse_args(argv)

    ptau = Path(os.environ.get("PTAU", DEFAULT_PTAU)).resolve()
    if not ptau.is_file():
        log(f"powers of tau not found: {ptau} (set PTAU)")
        return 2
    t0 = time.monotonic()
    ptau_sha = sha256_file(ptau)
    if ptau_sha != PTAU_SHA256:
        log(f"powers of tau {ptau} has sha256 {ptau_sha}, expected {PTAU_SHA256}")
        return 2
    log(f"circuits: {UNSAFE_NOTE}")
    for name in args.circuit or list(registry):
        entry = registry[name]
        t = time.monotonic()
        key = cache_key(name, entry, ptau_sha)
        with circuit_lock(name):
            if not args.force and is_current(name, entry, key):
                ensure_verifier(name, entry, key)
                log(f"  [{name}] cached ({key[:12]})")
                continue
            log(f"  [{name}] building ({key[:12]})")
            manifest = build_circuit(name, entry, key, ptau, ptau_sha)
            ensure_verifier(name, entry, key)
        log(f"  [{name}] built: {manifest['constraints']} constraints, "
            f"{len(manifest['public_signals'])} public signals, "
            f"verifier build/verifiers/{entry['verifier_contract']}.sol ({time.monotonic() - t:.1f} s)")
    log(f"circuits: done in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
