"""Witness computation: runs a circuit's circom-generated `.wasm` in-process with wasmtime.

This is what produces a proof's public signals: they are read from the computed witness (wires
1..nPublic), never recomputed by hand. A constraint the inputs violate makes the witness code
fail (circom compiles every `===` into an assertion), which raises `WitnessError`.

The circom witness module exposes one field element per call (`getWitness(i)` then eight
`readSharedRWMemory(j)`); calling that from Python for ~40k wires costs ~16 µs per call, so a
tiny helper module (below) does the copy loop inside wasm, importing those functions from the
circuit instance, and Python reads the result in one copy.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import wasmtime

from ..errors import ProofGenerationError
from .field import P


class WitnessError(ProofGenerationError):
    """The inputs do not satisfy the circuit's constraints (or are malformed): no proof exists."""


_EXCEPTIONS = {
    1: "signal not found",
    2: "too many signals set",
    3: "signal already set",
    4: "assert failed (a constraint is not satisfied by these inputs)",
    5: "not enough memory",
    6: "input signal array access exceeds the size",
    7: "out of bounds array access",
}

# Copies the whole witness (n wires of n32 32-bit limbs, little-endian, standard form: the
# `.wtns` layout) into this module's exported memory `out`. Returns 0, or -1 if memory can't grow.
_DUMP_WAT = """
(module
  (import "w" "getWitness" (func $getWitness (param i32)))
  (import "w" "readSharedRWMemory" (func $read (param i32) (result i32)))
  (memory (export "out") 1)
  (func (export "dump") (param $n i32) (param $n32 i32) (result i32)
    (local $i i32) (local $j i32) (local $p i32) (local $pages i32)
    (local.set $pages
      (i32.shr_u (i32.add (i32.mul (i32.mul (local.get $n) (local.get $n32)) (i32.const 4))
                          (i32.const 65535))
                 (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then
        (if (i32.eq (memory.grow (i32.sub (local.get $pages) (memory.size))) (i32.const -1))
          (then (return (i32.const -1))))))
    (block $done
      (loop $wires
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $getWitness (local.get $i))
        (local.set $j (i32.const 0))
        (block $limbs_done
          (loop $limbs
            (br_if $limbs_done (i32.ge_u (local.get $j) (local.get $n32)))
            (i32.store (local.get $p) (call $read (local.get $j)))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $limbs)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $wires)))
    (i32.const 0)))
"""

_compiled: tuple[wasmtime.Engine, wasmtime.Module] | None = None  # the engine and the dump helper


def _engine_and_dump() -> tuple[wasmtime.Engine, wasmtime.Module]:
    global _compiled
    if _compiled is None:
        # Unoptimised Cranelift code: the witness code runs as fast here (~60 ms for the usage
        # batch) and compiles in a third of the time, which is what a cold start pays.
        config = wasmtime.Config()
        config.cranelift_opt_level = "none"
        engine = wasmtime.Engine(config)
        _compiled = engine, wasmtime.Module(engine, bytes(wasmtime.wat2wasm(_DUMP_WAT)))
    return _compiled


def _fnv1a64(name: str) -> tuple[int, int]:
    """circom's signal-name hash (FNV-1a 64), split into (msb, lsb) 32-bit halves."""
    h = 0xCBF29CE484222325
    for ch in name.encode():
        h = ((h ^ ch) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h >> 32, h & 0xFFFFFFFF


def _export_func(exports: Mapping[str, object], name: str) -> wasmtime.Func:
    """The exported function ``name`` (an export is any extern: a function, memory, table...)."""
    extern = exports[name]
    if not isinstance(extern, wasmtime.Func):
        raise WitnessError(f"witness module export {name!r} is a {type(extern).__name__}, not a function")
    return extern


def _export_memory(exports: Mapping[str, object], name: str) -> wasmtime.Memory:
    extern = exports[name]
    if not isinstance(extern, wasmtime.Memory):
        raise WitnessError(f"witness module export {name!r} is a {type(extern).__name__}, not a memory")
    return extern


def _flatten(value: object) -> list[int]:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flatten(v)]
    if isinstance(value, bool) or not isinstance(value, int):
        raise WitnessError(f"input values must be ints, got {type(value).__name__}")
    return [value]


@dataclass(frozen=True)
class Witness:
    """A computed witness: `data` is the `.wtns` section-2 payload (n8 bytes per wire)."""

    data: bytes
    n8: int

    def __len__(self) -> int:
        return len(self.data) // self.n8

    def __getitem__(self, i: int) -> int:
        if not 0 <= i < len(self):
            raise IndexError(i)
        return int.from_bytes(self.data[i * self.n8:(i + 1) * self.n8], "little")

    def to_wtns(self) -> bytes:
        """The snarkjs/circom `.wtns` file (version 2): header section, then the witness."""
        header = self.n8.to_bytes(4, "little") + P.to_bytes(self.n8, "little") + len(self).to_bytes(4, "little")
        return (b"wtns" + (2).to_bytes(4, "little") + (2).to_bytes(4, "little")
                + (1).to_bytes(4, "little") + len(header).to_bytes(8, "little") + header
                + (2).to_bytes(4, "little") + len(self.data).to_bytes(8, "little") + self.data)


class WitnessCalculator:
    """One circuit's witness code, compiled once; `calculate` is thread-safe (serialised)."""

    def __init__(self, wasm: Path | str | bytes):
        engine, dump = _engine_and_dump()
        self._module = (wasmtime.Module(engine, wasm) if isinstance(wasm, bytes)
                        else wasmtime.Module.from_file(engine, str(wasm)))
        self._store = wasmtime.Store(engine)
        self._messages: list[str] = []
        self._lock = threading.Lock()
        store = self._store

        def exception_handler(code: int) -> None:
            detail = "; ".join(m for m in self._messages if m)
            raise WitnessError(_EXCEPTIONS.get(code, f"error code {code}") + (f": {detail}" if detail else ""))

        def print_error_message() -> None:
            self._messages.append(self._read_message())

        def ignore() -> None:
            pass

        void = lambda n: wasmtime.FuncType([wasmtime.ValType.i32()] * n, [])
        imports = {
            "exceptionHandler": wasmtime.Func(store, void(1), exception_handler),
            "printErrorMessage": wasmtime.Func(store, void(0), print_error_message),
            "writeBufferMessage": wasmtime.Func(store, void(0), ignore),
            "showSharedRWMemory": wasmtime.Func(store, void(0), ignore),
        }
        unknown = [imp.name for imp in self._module.imports if imp.name not in imports]
        if unknown:
            raise WitnessError(f"not a circom witness module: it imports {unknown}")
        self._instance = wasmtime.Instance(
            store, self._module, [imports[imp.name] for imp in self._module.imports if imp.name is not None])
        ex = self._instance.exports(store)
        self._ex = ex
        self._memory = _export_memory(ex, "memory")
        self.n32 = _export_func(ex, "getFieldNumLen32")(store)
        self.n_wires = _export_func(ex, "getWitnessSize")(store)
        self.n_inputs = _export_func(ex, "getInputSize")(store)
        self._shared = _export_func(ex, "getSharedRWMemoryStart")(store)
        _export_func(ex, "getRawPrime")(store)
        prime = int.from_bytes(self._memory.read(store, self._shared, self._shared + 4 * self.n32), "little")
        if prime != P:
            raise WitnessError("circuit was compiled for another prime field")
        dump_exports = wasmtime.Instance(
            store, dump, [_export_func(ex, "getWitness"), _export_func(ex, "readSharedRWMemory")]).exports(store)
        self._dump = _export_func(dump_exports, "dump")
        self._out = _export_memory(dump_exports, "out")
        self._init = _export_func(ex, "init")
        self._input_size = _export_func(ex, "getInputSignalSize")
        self._set_input = _export_func(ex, "setInputSignal")
        self._message_char = _export_func(ex, "getMessageChar")

    def _read_message(self) -> str:
        chars = []
        get = self._message_char
        while (c := get(self._store)) != 0:
            chars.append(chr(c))
        return "".join(chars)

    def calculate(self, inputs: dict[str, object]) -> Witness:
        """Run the circuit on `inputs` (signal name → int or nested lists of ints)."""
        with self._lock:
            self._messages.clear()
            store = self._store
            n8 = 4 * self.n32
            try:
                self._init(store, 0)
                count = 0
                for name, value in inputs.items():
                    msb, lsb = _fnv1a64(name)
                    values = _flatten(value)
                    size = self._input_size(store, msb, lsb)
                    if size < 0:
                        raise WitnessError(f"signal {name!r} is not an input of this circuit")
                    if len(values) != size:
                        raise WitnessError(f"signal {name!r} takes {size} values, got {len(values)}")
                    for i, v in enumerate(values):
                        self._memory.write(store, (v % P).to_bytes(n8, "little"), self._shared)
                        self._set_input(store, msb, lsb, i)
                    count += len(values)
                if count < self.n_inputs:
                    raise WitnessError(f"only {count} of {self.n_inputs} input values were given")
                if self._dump(store, self.n_wires, self.n32) != 0:
                    raise WitnessError("not enough memory for the witness")
            except wasmtime.WasmtimeError as e:  # a trap; the handler's WitnessError is its cause
                cause = e.__cause__ if isinstance(e.__cause__, WitnessError) else None
                raise (cause or WitnessError(str(e).splitlines()[0])) from None
            size = self.n_wires * n8
            buf = (ctypes.c_char * size).from_address(ctypes.addressof(self._out.data_ptr(store).contents))
            return Witness(bytes(buf), n8)
