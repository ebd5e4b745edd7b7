"""Build every circuit in circuits/registry.json: compile, development Groth16 setup, keys, verifiers.

    uv run python circuits/build.py                 # all circuits
    uv run python circuits/build.py --circuit usage_batch
    uv run python circuits/build.py --force         # ignore the cache

Per circuit, into build/circuits/<name>/:
  <name>.r1cs, <name>.wasm, <name>.sym   circom2 (the circom compiler as WASM), --O2
  <name>.zkey                            snarkjs `groth16 setup` over the powers of tau, then one
                                         `zkey beacon` from a fixed, public beacon (deterministic:
                                         every build of the same sources gives the same keys, so
                                         the verification keys pinned in sdk/zkdm/keys match a
                                         fresh clone's build)
  verification_key.json                  snarkjs `zkey export verificationkey`
  <name>.pk                              groth16py ProvingKey imported from the same .zkey
  manifest.json                          cache key, constraint count, public signals (the prover's
                                         source of truth at run time)
and build/verifiers/<Contract>Verifier.sol (snarkjs `zkey export solidityverifier`, same key).

THE SETUP IS A DEVELOPMENT SETUP, UNSAFE FOR PRODUCTION: the powers of tau is a single-party
file whose toxic waste is not secret (../shared/zk/README.md), and the phase-2 contribution is a
beacon derived from a fixed public string. Anyone can forge proofs for these keys. circuits/README.md says how
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
BUILD_FORMAT = 2  # 2: phase 2 by `zkey beacon` (deterministic) instead of `zkey contribute -e`


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
        text = re.sub(r"//[^\n]*|/\*.*?\*/", "", path.read_text(), flags=re.DOTALL)
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
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
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


def solidity_verifier(raw: str, contract: str, circuit: str, stamp: str, setup_note: str) -> str:
    """snarkjs's verifier, renamed and marked as generated (its pragma `>=0.7.0 <0.9.0` accepts
    solc 0.8.28)."""
    if "contract Groth16Verifier" not in raw:
        raise RuntimeError("unexpected snarkjs verifier template")
    header = (
        f"// GENERATED by circuits/build.py from build/circuits/{circuit}/{circuit}.zkey "
        f"(snarkjs {_package_version('snarkjs')} `zkey export solidityverifier`). DO NOT EDIT.\n"
        f"// Circuit: {circuit}; build stamp {stamp}.\n"
        f"// {setup_note}\n"
    )
    return header + raw.replace("contract Groth16Verifier", f"contract {contract}", 1)


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
def circuit_lock(keys_root: Path, name: str):
    keys_root.mkdir(parents=True, exist_ok=True)
    with open(keys_root / f".{name}.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


KEY_FILES = ["{n}.r1cs", "{n}.wasm", "{n}.sym", "{n}.zkey", "{n}.pk", "verification_key.json"]


def read_manifest(keys_root: Path, name: str) -> dict | None:
    try:
        return json.loads((keys_root / name / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None


def is_current(keys_root: Path, name: str, ckey: str, dev_id: str) -> bool:
    """The keys are for this exact circuit and either come from a ceremony (kept until the
    circuit changes) or from the current development setup."""
    manifest = read_manifest(keys_root, name)
    if manifest is None or manifest.get("circuit_key") != ckey:
        return False
    setup = manifest.get("setup", {})
    if setup.get("kind") != "ceremony" and setup.get("id") != dev_id:
        return False
    return all((keys_root / name / f.format(n=name)).is_file() for f in KEY_FILES)


def ensure_verifier(keys_root: Path, verifiers_root: Path, name: str, entry: dict) -> None:
    """(Re)write the Solidity verifier from the circuit's zkey if it is missing or stale."""
    manifest = read_manifest(keys_root, name)
    stamp = f"{manifest['circuit_key'][:16]}-{manifest['setup']['id'][:16]}"
    target = verifiers_root / f"{entry['verifier_contract']}.sol"
    if target.is_file() and f"build stamp {stamp}" in target.read_text():
        return
    verifiers_root.mkdir(parents=True, exist_ok=True)
    tmp = keys_root / name / f".verifier.{os.getpid()}.sol"
    run([str(NODE_BIN / "snarkjs"), "zkey", "export", "solidityverifier",
         str(keys_root / name / f"{name}.zkey"), str(tmp)], "snarkjs zkey export solidityverifier")
    write_atomic(target, solidity_verifier(tmp.read_text(), entry["verifier_contract"], name, stamp,
                                           manifest["setup"]["note"]))
    tmp.unlink()


def compile_circuit(name: str, entry: dict, tmp: Path) -> dict:
    """circom2 into `tmp` (must be under ROOT); checks the public signals against the registry."""
    cmd = [str(NODE_BIN / "circom2"), entry["main"], *CIRCOM_FLAGS, "-o", str(tmp.relative_to(ROOT))]
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
    return {**header, "public_signals": public}


def dev_zkey(name: str, tmp: Path, ptau: Path) -> Path:
    """Development phase 2: `groth16 setup` then one beacon contribution from public entropy (UNSAFE).
    `zkey contribute -e` mixes the given entropy with fresh random bytes, so each build gave other
    keys; a beacon is a deterministic function of its hash, so the same sources give the same keys."""
    snarkjs = str(NODE_BIN / "snarkjs")
    zkey0, zkey = tmp / f"{name}_0000.zkey", tmp / f"{name}.zkey"
    beacon = hashlib.sha256(DEV_ENTROPY.encode()).hexdigest()
    run([snarkjs, "groth16", "setup", str(tmp / f"{name}.r1cs"), str(ptau), str(zkey0)], "snarkjs groth16 setup")
    run([snarkjs, "zkey", "beacon", str(zkey0), str(zkey), beacon, "10", "--name=development beacon (UNSAFE)"],
        "snarkjs zkey beacon")
    zkey0.unlink()
    return zkey


def ceremony_zkey(name: str, tmp: Path, ptau: Path, source: Path) -> Path:
    """A ceremony's final .zkey, checked against this circuit and the ceremony's powers of tau."""
    zkey = tmp / f"{name}.zkey"
    shutil.copyfile(source, zkey)
    out = run([str(NODE_BIN / "snarkjs"), "zkey", "verify", str(tmp / f"{name}.r1cs"), str(ptau), str(zkey)],
              "snarkjs zkey verify")
    if "ZKey Ok!" not in out:
        raise RuntimeError(f"{source} does not verify against this circuit and {ptau}:\n{out[-2000:]}")
    return zkey


def install_keys(keys_root: Path, name: str, entry: dict, ckey: str, setup: dict, ptau: Path,
                 ceremony: Path | None = None) -> dict:
    """Compile, make or import the zkey, export the verification key, import the groth16py key,
    write the manifest, and swap the folder into place. Caller holds the circuit lock."""
    import groth16py

    tmp = keys_root / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    timings = {}
    try:
        t = time.monotonic()
        info = compile_circuit(name, entry, tmp)
        timings["compile_s"] = round(time.monotonic() - t, 1)
        log(f"  [{name}] compiled: {info['constraints']} constraints, {info['wires']} wires "
            f"({timings['compile_s']} s)")

        t = time.monotonic()
        zkey = dev_zkey(name, tmp, ptau) if ceremony is None else ceremony_zkey(name, tmp, ptau, ceremony)
        run([str(NODE_BIN / "snarkjs"), "zkey", "export", "verificationkey", str(zkey),
             str(tmp / "verification_key.json")], "snarkjs zkey export verificationkey")
        timings["setup_s"] = round(time.monotonic() - t, 1)
        log(f"  [{name}] zkey: {setup['note']} ({timings['setup_s']} s)")

        t = time.monotonic()
        pk, vk = groth16py.import_zkey(str(zkey))
        if not vk_points_equal(json.loads(vk.to_json()), json.loads((tmp / "verification_key.json").read_text())):
            raise RuntimeError(f"{name}: groth16py's imported key differs from snarkjs's")
        pk.save(str(tmp / f"{name}.pk"))
        timings["import_s"] = round(time.monotonic() - t, 1)

        manifest = {
            "circuit": name, "circuit_key": ckey, "setup": setup, "template": entry["template"],
            "parameters": entry["parameters"], "public_signals": info["public_signals"],
            "outputs": entry["outputs"], "consumer": entry["consumer"],
            "verifier_contract": entry["verifier_contract"], "constraints": info["constraints"],
            "wires": info["wires"], "private_inputs": info["private_inputs"], "timings": timings,
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

        out = keys_root / name
        old = keys_root / f".{name}.old-{os.getpid()}"
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
    parser.add_argument("--import-zkey", type=Path, metavar="ZKEY",
                        help="install this ceremony .zkey for the one --circuit (checked with `snarkjs zkey "
                             "verify` against the circuit and the ceremony's powers of tau, env PTAU)")
    parser.add_argument("--keys-dir", type=Path, default=BUILD, help="default build/circuits")
    parser.add_argument("--verifiers-dir", type=Path, default=VERIFIERS, help="default build/verifiers")
    args = parser.parse_args(argv)
    keys_root, verifiers_root = args.keys_dir.resolve(), args.verifiers_dir.resolve()
    if not keys_root.is_relative_to(ROOT):
        parser.error("--keys-dir must be inside the repository (circom2 sees only the working tree)")

    ptau = Path(os.environ.get("PTAU", DEFAULT_PTAU)).resolve()
    if not ptau.is_file():
        log(f"powers of tau not found: {ptau} (set PTAU)")
        return 2
    t0 = time.monotonic()
    ptau_sha = sha256_file(ptau)

    if args.import_zkey:
        if not args.circuit or len(args.circuit) != 1:
            parser.error("--import-zkey needs exactly one --circuit")
        name = args.circuit[0]
        entry = registry[name]
        zkey_sha = sha256_file(args.import_zkey)
        setup = {"kind": "ceremony", "id": zkey_sha, "ptau_sha256": ptau_sha,
                 "note": f"Ceremony zkey {args.import_zkey.name} (sha256 {zkey_sha[:16]}), verified "
                         f"against the circuit and powers of tau {ptau_sha[:16]}."}
        with circuit_lock(keys_root, name):
            log(f"  [{name}] importing ceremony zkey {args.import_zkey}")
            install_keys(keys_root, name, entry, circuit_key(name, entry), setup, ptau, args.import_zkey)
            ensure_verifier(keys_root, verifiers_root, name, entry)
        log(f"  [{name}] installed ceremony keys ({time.monotonic() - t0:.1f} s)")
        return 0

    if ptau_sha != PTAU_SHA256:
        log(f"powers of tau {ptau} has sha256 {ptau_sha}, expected {PTAU_SHA256}")
        return 2
    dev_id = dev_setup_id(ptau_sha)
    setup = {"kind": "development", "id": dev_id, "ptau_sha256": ptau_sha, "note": UNSAFE_NOTE}
    log(f"circuits: {UNSAFE_NOTE}")
    for name in args.circuit or list(registry):
        entry = registry[name]
        t = time.monotonic()
        ckey = circuit_key(name, entry)
        with circuit_lock(keys_root, name):
            if not args.force and is_current(keys_root, name, ckey, dev_id):
                ensure_verifier(keys_root, verifiers_root, name, entry)
                kind = read_manifest(keys_root, name)["setup"]["kind"]
                log(f"  [{name}] cached ({ckey[:12]}, {kind} keys)")
                continue
            log(f"  [{name}] building ({ckey[:12]})")
            manifest = install_keys(keys_root, name, entry, ckey, setup, ptau)
            ensure_verifier(keys_root, verifiers_root, name, entry)
        log(f"  [{name}] built: {manifest['constraints']} constraints, "
            f"{len(manifest['public_signals'])} public signals, "
            f"verifier {entry['verifier_contract']}.sol ({time.monotonic() - t:.1f} s)")
    log(f"circuits: done in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
