"""The prover interface: `prove(circuit, inputs)` and `verify(circuit, proof, public_signals)`.

Backends (argument `backend`, else env `ZK_BACKEND`, else "groth16py"):
  - "groth16py": in-process. The witness is computed by the circuit's circom `.wasm` under
    wasmtime (marketplace.zk.witness), then groth16py (arkworks) proves from it with the proving
    key imported from the circuit's `.zkey`. Keys and compiled witness code stay in memory across
    calls (a warm Lambda pays the load once).
  - "snarkjs": the reference, `snarkjs groth16 fullprove` in a subprocess (needs Node and
    node_modules; used by tests and the benchmark).
Both prove against the same `.zkey`, so their proofs verify under the same verification key.

Keys are read from env ZK_KEYS_DIR, default <repo>/build/circuits (made by circuits/build.py):
<dir>/<circuit>/{manifest.json, <circuit>.wasm, <circuit>.zkey or <circuit>.pk, verification_key.json}
(groth16py needs only one of .zkey and .pk: the same key; importing the .zkey is much faster).
Nothing is loaded at import time.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ProofGenerationError
from .proof import Proof, ProofResult
from .verifier import VerifyingKey
from .witness import WitnessCalculator

BACKENDS = ("groth16py", "snarkjs")
# The repository root when running from a checkout (layers/shared/python/marketplace/zk/); in a
# Lambda layer (/opt/python/marketplace/zk/) there is none and ZK_KEYS_DIR must be set.
_HERE = Path(__file__).resolve()
_REPO = _HERE.parents[5] if len(_HERE.parents) > 5 and _HERE.parents[3].name == "shared" else None


def keys_dir() -> Path:
    configured = os.environ.get("ZK_KEYS_DIR")
    if configured:
        return Path(configured)
    if _REPO is None:
        raise RuntimeError("ZK_KEYS_DIR is not set (no repository checkout to default to)")
    return _REPO / "build" / "circuits"


def _backend(backend: str | None) -> str:
    name = backend or os.environ.get("ZK_BACKEND") or "groth16py"
    if name not in BACKENDS:
        raise ValueError(f"unknown ZK backend {name!r} (one of {', '.join(BACKENDS)})")
    return name


@dataclass
class Circuit:
    """One circuit's keys, loaded lazily piece by piece and kept for the process's lifetime."""

    name: str
    directory: Path
    manifest: dict
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _witness: WitnessCalculator | None = field(default=None, repr=False)
    _proving_key: object | None = field(default=None, repr=False)
    _verifying_key: VerifyingKey | None = field(default=None, repr=False)

    @property
    def public_signal_names(self) -> list[str]:
        return list(self.manifest["public_signals"])

    def path(self, suffix: str) -> Path:
        """The circuit's `<name><suffix>` file: in ZK_KEYS_DIR, or else fetched once per process
        from S3 when ZK_KEYS_S3 lists it (in AWS the proving files are too big for a layer)."""
        local = self.directory / f"{self.name}{suffix}"
        if local.is_file():
            return local
        fetched = fetch_from_s3(self.name, local.name)
        return fetched if fetched is not None else local

    @property
    def witness(self) -> WitnessCalculator:
        with self._lock:
            if self._witness is None:
                self._witness = WitnessCalculator(self.path(".wasm"))
            return self._witness

    @property
    def proving_key(self):
        """groth16py ProvingKey, imported from the circuit's `.zkey` (about 0.2 s for the usage
        batch) or, if only that is shipped, loaded from the saved `.pk` (`ProvingKey.load`:
        4-10 s here for the same key, as it re-validates every point)."""
        with self._lock:
            if self._proving_key is None:
                import groth16py

                zkey = self.path(".zkey")
                if zkey.is_file():
                    self._proving_key, _ = groth16py.import_zkey(str(zkey))
                else:
                    self._proving_key = groth16py.ProvingKey.load(str(self.path(".pk")))
            return self._proving_key

    @property
    def verifying_key(self) -> VerifyingKey:
        with self._lock:
            if self._verifying_key is None:
                self._verifying_key = VerifyingKey.from_snarkjs(self.directory / "verification_key.json")
            return self._verifying_key


_fetch_lock = threading.Lock()


def fetch_from_s3(circuit: str, file_name: str) -> Path | None:
    """Download `file_name` of `circuit` listed in env ZK_KEYS_S3 (``{"bucket": B, "objects":
    {circuit: {file name: key}}}``, set by the CDK app) to /tmp/zk/<circuit>/ once per container.
    Returns None when ZK_KEYS_S3 does not list it (locally everything is in build/circuits)."""
    spec = os.environ.get("ZK_KEYS_S3")
    if not spec:
        return None
    config = json.loads(spec)
    key = config.get("objects", {}).get(circuit, {}).get(file_name)
    if key is None:
        return None
    target = Path(os.environ.get("ZK_KEYS_CACHE_DIR", tempfile.gettempdir())) / "zk" / circuit / file_name
    with _fetch_lock:
        if not target.is_file():
            import boto3

            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(target.suffix + ".part")
            boto3.client("s3").download_file(config["bucket"], key, str(partial))
            partial.replace(target)
    return target


_circuits: dict[tuple[Path, str], Circuit] = {}
_circuits_lock = threading.Lock()


def load_circuit(name: str) -> Circuit:
    """The circuit's (cached) key holder; raises FileNotFoundError if it was never built."""
    directory = keys_dir() / name
    key = (directory, name)
    with _circuits_lock:
        circuit = _circuits.get(key)
        if circuit is None:
            manifest_path = directory / "manifest.json"
            if not manifest_path.is_file():
                raise FileNotFoundError(
                    f"no keys for circuit {name!r} in {directory.parent} (run `uv run python circuits/build.py`)")
            circuit = Circuit(name, directory, json.loads(manifest_path.read_text()))
            _circuits[key] = circuit
        return circuit


def public_signal_names(circuit: str) -> list[str]:
    return load_circuit(circuit).public_signal_names


def prove(circuit: str, inputs: dict, backend: str | None = None) -> ProofResult:
    """Prove `inputs` (signal name → int or nested lists of ints; see marketplace.zk.inputs for
    builders) for `circuit`. The public signals are read from the witness the circuit computes.
    Raises WitnessError (a ProofGenerationError) if the inputs violate a constraint."""
    c = load_circuit(circuit)
    name = _backend(backend)
    if name == "groth16py":
        return _prove_groth16py(c, inputs)
    return _prove_snarkjs(c, inputs)


def verify(circuit: str, proof: Proof, public_signals: list[int]) -> bool:
    """py_ecc verification under the circuit's verification key (one multi-Miller loop, one final
    exponentiation). False for any malformed proof or public input ≥ p."""
    return load_circuit(circuit).verifying_key.verify(proof, public_signals)


def _prove_groth16py(c: Circuit, inputs: dict) -> ProofResult:
    import groth16py

    witness = c.witness.calculate(inputs)
    n_public = len(c.public_signal_names)
    public = [witness[i] for i in range(1, n_public + 1)]
    pk = c.proving_key
    # prove_wtns reads a .wtns file; /tmp is writable in Lambda too.
    with tempfile.NamedTemporaryFile(suffix=".wtns") as f:
        f.write(witness.to_wtns())
        f.flush()
        try:
            blob = groth16py.prove_wtns(pk, f.name)
        except Exception as e:  # groth16py raises its own exception types
            raise ProofGenerationError("groth16py failed to prove", {"circuit": c.name, "reason": str(e)}) from e
    return ProofResult(Proof.from_bytes(bytes(blob)), public, c.name, "groth16py")


def _json_inputs(value):
    if isinstance(value, (list, tuple)):
        return [_json_inputs(v) for v in value]
    return str(int(value))


def _prove_snarkjs(c: Circuit, inputs: dict) -> ProofResult:
    snarkjs = Path(os.environ.get("SNARKJS") or (_REPO or Path.cwd()) / "node_modules" / ".bin" / "snarkjs")
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "input.json").write_text(json.dumps({k: _json_inputs(v) for k, v in inputs.items()}))
        proc = subprocess.run(
            [str(snarkjs), "groth16", "fullprove", str(t / "input.json"), str(c.path(".wasm")),
             str(c.path(".zkey")), str(t / "proof.json"), str(t / "public.json")],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0 or not (t / "proof.json").is_file():
            raise ProofGenerationError("snarkjs fullprove failed",
                                       {"circuit": c.name, "reason": (proc.stderr or proc.stdout)[-2000:]})
        proof = Proof.from_snarkjs((t / "proof.json").read_text())
        public = [int(x) for x in json.loads((t / "public.json").read_text())]
    return ProofResult(proof, public, c.name, "snarkjs")


def warm(circuit: str) -> float:
    """Load everything `prove` needs for `circuit` now (e.g. in a Lambda's init); returns seconds."""
    t = time.monotonic()
    c = load_circuit(circuit)
    loaded = (c.witness, c.proving_key, c.verifying_key)
    assert all(x is not None for x in loaded)
    return time.monotonic() - t
