"""Witness-level soundness: every circuit in circuits/registry.json, checked on its R1CS.

For each built circuit: a valid witness of its sample inputs (tests/support/zk_samples, computed by
the circuit's wasm witness calculator), then every private wire (each private input and every
intermediate signal the compiler kept) is mutated with the public signals held fixed. Every
mutation must break the R1CS. A wire that can change while the R1CS still holds is an
under-constrained signal and fails the test, unless it is in EXCEPTIONS with its reason and its
structure checks out.

How: `tests/support/r1cs_check.py` evaluates the R1CS in Python. For one-wire mutations it is
exact (the set of values a single wire can take with every constraint still satisfied, over all
of the field, not a sample), and cheap (one pass over the wire's constraints). It is validated
against the reference, `npx snarkjs wtns check <circuit>.r1cs <witness>.wtns`, in both
directions on a sample: the valid witness, a mutated private input and a mutated intermediate
wire per circuit (and an accepted mutation of an excepted wire, where there is one), and on a
deliberately under-constrained circuit whose flaws both must see. One snarkjs run is a node
process of 2-6 s here, so snarkjs checks the sample and Python the bulk (every wire, every
circuit).

Generic over the registry: a circuit that is not built, or whose build is stale (its manifest's
circuit key differs from the sources'), or that has no sample inputs is skipped with the reason.
This test never builds (`uv run --frozen python circuits/build.py` does).
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from circuits import build
from marketplace.zk.witness import WitnessCalculator, WitnessError
from tests.support import r1cs_check as rc
from tests.support.zk_samples import sample_inputs

pytestmark = [pytest.mark.zk]

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = json.loads((ROOT / "circuits" / "registry.json").read_text())["circuits"]
KEYS = ROOT / "build" / "circuits"
SEED = 20261130


# -- exceptions: wires whose value is provably free ------------------------------------------------

@dataclass(frozen=True)
class FreeWire:
    """A class of wires allowed to take another value, with why that is harmless."""

    name: str
    pattern: str  # regex on the wire's signal name (.sym)
    reason: str

    def applies(self, system: System, wire: int) -> bool:
        return re.search(self.pattern, system.r1cs.name(wire)) is not None and self.structure_ok(system, wire)

    def structure_ok(self, system: System, wire: int) -> bool:
        """IsZero's `inv`: the wire is in exactly one constraint, `out = 1 − in·inv` (A = in,
        B = inv or the reverse, never in C), its component is declared `= IsZero()` in the
        circuit's sources, and its factor `in` is 0 in this witness."""
        checker = system.checker
        (k, *more) = checker.constraints_of(wire) or [None]
        if k is None or more:
            return False
        a, b, c = system.r1cs.constraints[k]
        if wire in c or (wire in a) == (wire in b):
            return False
        other = b if wire in a else a
        if sum(coeff * system.values[w] for w, coeff in other.items()) % system.r1cs.prime != 0:
            return False
        component = system.r1cs.name(wire).rsplit(".", 2)[-2]
        base = re.sub(r"\[\d+\]", "", component)
        return re.search(rf"\b{re.escape(base)}\s*(\[[^\]]*\])*\s*=\s*IsZero\s*\(\s*\)", system.sources) is not None


EXCEPTIONS = [
    FreeWire(
        "circomlib IsZero.inv with a zero input",
        r"\.inv$",
        "IsZero computes inv <-- (in != 0 ? 1/in : 0) and constrains out = 1 − in·inv and "
        "in·out = 0. For in ≠ 0 these force inv = 1/in; for in = 0 they force out = 1 and leave inv "
        "free, and inv appears in no other constraint, so its value changes no other signal (out, "
        "and everything after it, are fixed by in alone). The witness has in = 0 wherever this "
        "applies (e.g. unused slots' zero counts or chains, the zero initial state).",
    ),
]


def excepted(system: System, wire: int) -> FreeWire | None:
    return next((e for e in EXCEPTIONS if e.applies(system, wire)), None)


# -- the systems under test ------------------------------------------------------------------------

@dataclass
class System:
    circuit: str
    directory: Path
    r1cs: rc.R1CS
    values: list[int]
    checker: rc.MutationChecker
    sources: str  # every source file of the circuit, for the exception's structure check

    @property
    def r1cs_path(self) -> Path:
        return self.directory / f"{self.circuit}.r1cs"


def _skip_reason(name: str) -> str | None:
    entry = REGISTRY[name]
    manifest_path = KEYS / name / "manifest.json"
    if not manifest_path.is_file():
        return f"{name} is not built (run `uv run --frozen python circuits/build.py --circuit {name}`)"
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("circuit_key") != build.circuit_key(name, entry):
        return f"{name}'s build is stale: its sources or registry entry changed since (rebuild it)"
    if manifest.get("public_signals") != build.expand_signals(entry["public_signals"]):
        return f"{name}'s build has other public signals than the registry"
    try:
        sample_inputs(name)
    except KeyError:
        return f"{name} has no sample inputs in tests/support/zk_samples.py"
    return None


def load_system(name: str) -> System:
    directory = KEYS / name
    r1cs = rc.load(directory / f"{name}.r1cs", directory / f"{name}.sym")
    witness = WitnessCalculator(directory / f"{name}.wasm").calculate(sample_inputs(name))
    values = [witness[i] for i in range(len(witness))]
    # The .wtns this module writes is byte for byte the witness calculator's.
    assert rc.to_wtns(values, r1cs.prime) == witness.to_wtns()
    sources = "\n".join(p.read_text() for p in build.source_closure(ROOT / REGISTRY[name]["main"]))
    return System(name, directory, r1cs, values, rc.MutationChecker(r1cs, values), sources)


@pytest.fixture(scope="module", params=sorted(REGISTRY))
def system(request) -> System:
    """Module-scoped per circuit: pytest runs one circuit's tests together and then drops its
    R1CS (the usage batch's is a few hundred MB of Python ints)."""
    reason = _skip_reason(request.param)
    if reason:
        pytest.skip(reason)
    return load_system(request.param)


def private_wires(system: System) -> range:
    return range(system.r1cs.first_private, system.r1cs.n_wires)


def snarkjs_accepts(r1cs_path: Path, values: list[int], prime: int, tmp_path: Path, label: str) -> bool:
    wtns = tmp_path / f"{label}.wtns"
    wtns.write_bytes(rc.to_wtns(values, prime))
    proc = subprocess.run(["npx", "--no-install", "snarkjs", "wtns", "check", str(r1cs_path), str(wtns)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    out = proc.stdout + proc.stderr
    correct, incorrect = "WITNESS IS CORRECT" in out, "WITNESS IS NOT CORRECT" in out
    assert correct != incorrect, f"unexpected snarkjs output:\n{out[-2000:]}"
    assert (proc.returncode == 0) == correct, out[-2000:]
    return correct


# -- tests -----------------------------------------------------------------------------------------

def test_the_valid_witness_satisfies_the_r1cs(system):
    r1cs = system.r1cs
    assert rc.check(r1cs, system.values) == []
    assert len(system.values) == r1cs.n_wires and system.values[0] == 1
    assert r1cs.n_public == len(build.expand_signals(REGISTRY[system.circuit]["public_signals"]))


def test_no_private_wire_can_take_another_value(system):
    """Exact for every private wire: no δ ≠ 0 in the whole field keeps the R1CS satisfied when
    that wire alone moves by δ (public signals fixed), except EXCEPTIONS."""
    loose, allowed = [], {}
    for wire in private_wires(system):
        alternative = system.checker.alternative(wire)
        if alternative is None:
            continue
        exception = excepted(system, wire)
        if exception is None:
            how = "any value" if alternative == rc.ALL else f"+{alternative}"
            loose.append(f"{system.r1cs.name(wire)} (wire {wire}, {how})")
        else:
            allowed.setdefault(exception.name, []).append(system.r1cs.name(wire))
    assert loose == [], f"{system.circuit}: under-constrained signals: {loose}"
    # every allowed wire is reported by name (visible with -rA), so the exceptions stay explicit
    print(f"{system.circuit}: {len(private_wires(system))} private wires, none free except "
          + (", ".join(f"{k}: {len(v)} ({', '.join(v[:3])}{'...' if len(v) > 3 else ''})"
                       for k, v in allowed.items()) or "none"))


def test_each_private_input_mutated_breaks_the_r1cs(system):
    """The circuit's private inputs (the wires right after the public signals), each moved by a
    seeded random value: every one is refused."""
    rng = random.Random(f"{SEED}:{system.circuit}:inputs")
    inputs = system.r1cs.private_inputs()
    assert len(inputs) == json.loads((system.directory / "manifest.json").read_text())["private_inputs"]
    holding = [system.r1cs.name(w) for w in inputs
               if system.checker.mutation_holds(w, rc.random_delta(rng, system.r1cs.prime))]
    assert holding == [], f"{system.circuit}: private inputs free to change: {holding}"


def input_signals(inputs: dict) -> list[tuple[str, tuple[str, ...]]]:
    """(`main.<name>` as the .sym names it, path into `inputs`) per input value (arrays flattened)."""
    def flat(name, path, value):
        if isinstance(value, (list, tuple)):
            return [n for i, v in enumerate(value) for n in flat(f"{name}[{i}]", (*path, i), v)]
        return [(name, path)]
    return [n for key, value in inputs.items() for n in flat(f"main.{key}", (key,), value)]


def moved_input(inputs: dict, path: tuple, delta: int) -> dict:
    out = json.loads(json.dumps(inputs))
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] += delta
    return out


# Inputs no constraint uses (see the test below): none today. An entry needs its reason, e.g. a
# padding input kept only for a fixed input layout.
UNUSED_INPUTS: dict[str, dict[str, str]] = {}


def dropped_inputs(system: System) -> list[tuple[str, tuple]]:
    """Inputs that are no wire: the compiler removed them from the witness."""
    return [(name, path) for name, path in input_signals(sample_inputs(system.circuit))
            if system.r1cs.signals.get(name, -1) < 0]


def test_every_input_signal_is_used_by_the_r1cs(system):
    """An input with no wire cannot be mutated at the wire level. The compiler drops an input
    for one of two reasons: a linear constraint fixes it in terms of other wires (a flag forced to
    1, the last of a one-hot vector, ...): it is substituted, so constrained; or no constraint uses
    it: the prover's value is ignored. Told apart with the witness calculator, which still asserts
    every constraint: moving a constrained input fails an assertion or changes the witness, moving
    an unused one changes nothing."""
    calculator = WitnessCalculator(system.directory / f"{system.circuit}.wasm")
    inputs = sample_inputs(system.circuit)
    unused = []
    for name, path in dropped_inputs(system):
        if name in UNUSED_INPUTS.get(system.circuit, {}):
            continue
        try:
            witness = calculator.calculate(moved_input(inputs, path, 1))
        except WitnessError:
            continue  # an assertion: the substituted constraint
        if [witness[i] for i in range(len(witness))] == system.values:
            unused.append(name)
    assert unused == [], f"{system.circuit}: inputs no constraint uses: {unused}"


def test_every_intermediate_wire_mutated_breaks_the_r1cs(system):
    """Every other private wire, each moved by a seeded random value: refused unless excepted
    (and an excepted wire's mutation must hold, or the exception is not what it claims)."""
    rng = random.Random(f"{SEED}:{system.circuit}:wires")
    start = system.r1cs.first_private + system.r1cs.n_private_inputs
    holding = []
    for wire in range(start, system.r1cs.n_wires):
        holds = system.checker.mutation_holds(wire, rc.random_delta(rng, system.r1cs.prime))
        if holds != (excepted(system, wire) is not None):
            holding.append((system.r1cs.name(wire), holds))
    assert holding == [], f"{system.circuit}: {holding}"


def test_the_incremental_checker_agrees_with_a_full_check(system):
    """A seeded sample of one-wire mutations, each re-checked on every constraint from scratch."""
    rng = random.Random(f"{SEED}:{system.circuit}:full")
    wires = list(private_wires(system))
    sample = rng.sample(wires, min(len(wires), 12 if system.r1cs.n_wires < 5000 else 3))
    sample += [w for w in wires if excepted(system, w)][:1]
    for wire in sample:
        delta = rc.random_delta(rng, system.r1cs.prime)
        full = rc.check(system.r1cs, system.checker.mutated(wire, delta)) == []
        assert full == system.checker.mutation_holds(wire, delta), system.r1cs.name(wire)


def test_snarkjs_wtns_check_agrees_on_a_sample(system, tmp_path):
    """The reference check, both directions: the valid witness passes; a mutated private input and
    a mutated intermediate wire fail; an excepted wire's mutation (if the circuit has one) passes."""
    r1cs, checker = system.r1cs, system.checker
    rng = random.Random(f"{SEED}:{system.circuit}:snarkjs")
    assert snarkjs_accepts(system.r1cs_path, system.values, r1cs.prime, tmp_path, "valid")
    cases = [rng.choice(list(r1cs.private_inputs())),
             rng.randrange(r1cs.first_private + r1cs.n_private_inputs, r1cs.n_wires)]
    cases += [w for w in private_wires(system) if excepted(system, w)][:1]
    for wire in cases:
        delta = rc.random_delta(rng, r1cs.prime)
        python = checker.mutation_holds(wire, delta)
        assert python == (rc.check(r1cs, checker.mutated(wire, delta)) == [])
        assert snarkjs_accepts(system.r1cs_path, checker.mutated(wire, delta), r1cs.prime, tmp_path,
                               f"wire{wire}") == python, r1cs.name(wire)
        assert python == (excepted(system, wire) is not None)


# -- the method catches a real under-constrained circuit ------------------------------------------

BROKEN = """pragma circom 2.1.0;

// Deliberately under-constrained (tests/zk/test_witness_soundness.py): `root` is a hint that only
// its square constrains (3 and -3 both pass), `hint` is never constrained, `pad` is never used.
template Broken() {
    signal input a;
    signal input pad;
    signal output out;
    signal root;
    root <-- 3;
    root * root === a;
    signal hint;
    hint <-- a + 1;
    out <== a * a;
}

component main = Broken();
"""


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """BROKEN compiled with the repository's circom2 and flags (into build/, which circom2's
    sandbox can see), its R1CS and a valid witness for a = 9."""
    work = ROOT / "build" / f".witness-soundness-{tmp_path_factory.getbasetemp().name}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        (work / "broken.circom").write_text(BROKEN)
        rel = work.relative_to(ROOT)
        build.run([str(build.NODE_BIN / "circom2"), str(rel / "broken.circom"), *build.CIRCOM_FLAGS, "-o", str(rel)],
                  "circom2 (broken fixture)")
        r1cs = rc.load(work / "broken.r1cs", work / "broken.sym")
        witness = WitnessCalculator(work / "broken_js" / "broken.wasm").calculate({"a": 9, "pad": 5})
        values = [witness[i] for i in range(len(witness))]
        yield r1cs, values, work / "broken.r1cs"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_the_checker_finds_the_flaws_of_an_under_constrained_circuit(broken, tmp_path):
    r1cs, values, path = broken
    checker = rc.MutationChecker(r1cs, values)
    by_name = {r1cs.name(w): w for w in range(r1cs.first_private, r1cs.n_wires)}
    p = r1cs.prime
    root = by_name["main.root"]
    assert values[root] == 3 and checker.alternative(root) == (-6) % p  # 3 → -3
    assert checker.alternative(by_name["main.a"]) is None  # out = a² (public) fixes a
    # the unused input and the unconstrained hint are not even wires; moving the input changes
    # nothing in the witness (what the input test looks for)
    assert [n for n, _ in input_signals({"a": 9, "pad": 5}) if r1cs.signals.get(n, -1) < 0] == ["main.pad"]
    assert r1cs.signals["main.hint"] == -1
    moved = WitnessCalculator(path.parent / "broken_js" / "broken.wasm").calculate({"a": 9, "pad": 6})
    assert [moved[i] for i in range(len(moved))] == values
    # snarkjs agrees in both directions, on mutated witnesses: -3 passes, -2 does not
    assert snarkjs_accepts(path, checker.mutated(root, -6), p, tmp_path, "root-negated")
    assert not snarkjs_accepts(path, checker.mutated(root, -5), p, tmp_path, "root-wrong")
    assert rc.check(r1cs, checker.mutated(root, -6)) == [] and rc.check(r1cs, checker.mutated(root, -5)) != []
    # and none of these is an allowed exception
    system = System("broken", path.parent, r1cs, values, checker, BROKEN)
    assert [w for w in by_name.values() if excepted(system, w)] == []
