"""Check a published proof on this machine, trusting no server (``zkdm verify``).

A compliance (Flow 5) or aggregate (Flow 6) proof is a sequence of chunk proofs (Groth16 over
BN254) linked by a state commitment: chunk i's ``stateIn`` is chunk i-1's ``stateOut``, the first
is 0, only the last is ``final``. The platform publishes each chunk's snarkjs files
(``proof-<i>.json``, ``public-<i>.json``) and a ``verification_key.json``. Here:

1. the **verification key** is the one pinned in this package (``zkdm/keys/<circuit>.json``,
   copied from the circuits' build by ``sdk/tools/vendor_verify.py``) or the file the user gives;
   the published key is only compared with it (a different one is reported, never used);
2. every chunk is verified with py_ecc (``zkdm.groth16_verifier``, the platform's own verifier
   vendored), against that trusted key;
3. the chunks must link (stateIn/stateOut, ``final`` on the last only; an aggregate's license
   cursor runs on without gaps), and a compliance proof's license context (chain value, terms,
   domain) is the same in every chunk;
4. the figures the API shows (``outputs``) must equal the last chunk's public signals.

5. with a chain node of the user's (``--rpc-url``): the recording transaction succeeded and its
   ``ProofRecorded(proofId, kind, subject, publicSignals)`` log holds these outputs and the
   ``chunksHash`` of exactly these chunks (``h_0 = 0``, ``h_{i+1} = keccak256(h_i ‖ signals_i)``).
   UsageTracker verified the chunks against its own state (the license's usage chain and terms,
   the domain) when it recorded them, so the files are the ones the chain accepted. The emitting
   contract is reported (or compared with ``--tracker``).

Without a node, the public inputs (a license's usage chain value and terms, the domain) are not
checked here: the API's ``verified`` says the platform checked them against the chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

# Public signal positions (circuits/registry.json; marketplace.zk.folds)
LAYOUT: dict[str, dict[str, Any]] = {
    "compliance": {"circuit": "compliance", "state_out": 0, "state_in": 4, "final": 5,
                   "outputs": {"totalUses": 1, "totalPaid": 2, "compliant": 3}, "context": (6, 12)},
    "aggregate": {"circuit": "aggregate", "state_out": 0, "state_in": 6, "final": 9, "cursor": (7, 8),
                  "outputs": {"totalUses": 1, "totalRevenue": 2, "uniqueLicensees": 3, "fromTs": 4, "toTs": 5}},
}


@dataclass
class Verdict:
    """What was checked, and whether everything held."""

    kind: str
    chunks: int
    key_source: str  # "pinned in zkdm (…)" or "given: <path>"
    key_sha256: str
    published_key_matches: bool | None  # None: not downloaded
    chunks_verified: list[bool] = field(default_factory=list)
    linked: bool = False
    outputs_match: bool = False
    outputs: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    on_chain: dict[str, Any] | None = None  # the recording transaction, when a node was asked
    signals: list[list[int]] = field(default_factory=list)  # each chunk's public signals

    @property
    def ok(self) -> bool:
        return (bool(self.chunks_verified) and all(self.chunks_verified) and self.linked and self.outputs_match
                and not self.problems)

    def to_dict(self) -> dict[str, Any]:
        return {"verified": self.ok, "kind": self.kind, "chunks": self.chunks, "keySource": self.key_source,
                "keySha256": self.key_sha256, "publishedKeyMatches": self.published_key_matches,
                "chunksVerified": self.chunks_verified, "linked": self.linked, "outputsMatch": self.outputs_match,
                "outputs": self.outputs, "problems": self.problems,
                "warnings": self.warnings, "onChain": self.on_chain}


def pinned_key(circuit: str) -> bytes:
    return resources.files("zkdm").joinpath("keys", f"{circuit}.json").read_bytes()


def trusted_key(kind: str, given: Path | None) -> tuple[bytes, str]:
    """(key bytes, where it comes from): the user's file, else the package's pinned key."""
    if given is not None:
        return given.read_bytes(), f"given: {given}"
    from importlib.metadata import PackageNotFoundError, version

    try:
        where = f"zkdm {version('zkdm')}"
    except PackageNotFoundError:  # pragma: no cover (a source tree without metadata)
        where = "zkdm"
    return pinned_key(LAYOUT[kind]["circuit"]), f"pinned in {where} (zkdm/keys/{LAYOUT[kind]['circuit']}.json)"


def _same_key(a: bytes, b: bytes) -> bool:
    """Two verification keys are the same key (JSON compared as data, not as text)."""
    try:
        return json.loads(a) == json.loads(b)
    except ValueError:
        return False


def check(kind: str, files: dict[str, bytes], shown_outputs: dict[str, int], key: bytes, key_source: str,
          chunks: int) -> Verdict:
    """Verify ``chunks`` chunk proofs of ``kind`` from their published ``files`` against ``key``."""
    from zkdm.groth16_proof import Proof
    from zkdm.groth16_verifier import VerifyingKey

    if kind not in LAYOUT:
        raise ValueError(f"unknown proof kind {kind!r}")
    layout = LAYOUT[kind]
    published = files.get("verification_key.json")
    verdict = Verdict(kind, chunks, key_source, hashlib.sha256(key).hexdigest(),
                      None if published is None else _same_key(published, key))
    if verdict.published_key_matches is False:
        verdict.warnings.append("the server publishes another verification key than the trusted one (not used: "
                                "the proof is checked against the trusted key)")
    vk = VerifyingKey.from_snarkjs(json.loads(key))
    signals: list[list[int]] = []
    for i in range(chunks):
        try:
            proof = Proof.from_snarkjs(json.loads(files[f"proof-{i}.json"]))
            public = [int(s) for s in json.loads(files[f"public-{i}.json"])]
        except (KeyError, ValueError, TypeError) as exc:
            verdict.problems.append(f"chunk {i}: unreadable files ({exc})")
            verdict.chunks_verified.append(False)
            signals.append([])
            continue
        signals.append(public)
        verdict.chunks_verified.append(len(public) == vk.n_public and vk.verify(proof, public))
    if chunks == 0:
        verdict.problems.append("a proof has at least one chunk")
    if any(len(s) != vk.n_public for s in signals):
        verdict.problems.append(f"public signals are not the {kind} circuit's ({vk.n_public} each)")
        return verdict
    verdict.linked = _linked(signals, layout)
    if not verdict.linked:
        verdict.problems.append("the chunks do not link (stateIn of each = stateOut of the one before, the first "
                                "0, final on the last only" + (", the license cursor without gaps)" if kind ==
                                                               "aggregate" else ", one license context)"))
    last = signals[-1] if signals else []
    verdict.outputs = {name: last[i] for name, i in layout["outputs"].items()} if last else {}
    verdict.outputs_match = bool(last) and all(int(shown_outputs[k]) == v for k, v in verdict.outputs.items()
                                               if k in shown_outputs)
    if not verdict.outputs_match:
        verdict.problems.append("the figures the API shows are not the proof's")
    verdict.signals = signals
    return verdict


# keccak256("ProofRecorded(bytes32,uint8,bytes32,uint256[])"): ProofKind is an enum (uint8)
PROOF_RECORDED = "ProofRecorded(bytes32,uint8,bytes32,uint256[])"
# the recorded outputs before the domain/context and chunksHash (UsageTracker's record layout)
RECORDED_OUTPUTS = {"compliance": ("totalUses", "totalPaid", "compliant"),
                    "aggregate": ("totalUses", "totalRevenue", "uniqueLicensees", "fromTs", "toTs")}


def chunks_hash(signals: list[list[int]]) -> int:
    """UsageTracker's binding of a recorded proof to its chunks: ``h = keccak256(h ‖ signals)``
    over the chunks in order, from 32 zero bytes (each signal a 32-byte big-endian word)."""
    from eth_utils import keccak

    h = bytes(32)
    for chunk in signals:
        h = keccak(h + b"".join(int(v).to_bytes(32, "big") for v in chunk))
    return int.from_bytes(h, "big")


def check_recorded(verdict: Verdict, receipt: dict[str, Any] | None, proof_id: str, subject: str,
                   signals: list[list[int]], tracker: str | None = None) -> None:
    """Compare the recording transaction's receipt (from the user's node) with the checked chunks;
    what held goes to ``verdict.on_chain``, what did not to ``verdict.problems``."""
    from eth_utils import keccak

    if receipt is None:
        verdict.problems.append("the node does not know the recording transaction")
        verdict.on_chain = {"found": False}
        return
    topic0 = "0x" + keccak(text=PROOF_RECORDED).hex()
    logs = [log for log in receipt.get("logs", []) if log.get("topics") and log["topics"][0].lower() == topic0
            and log["topics"][1].lower() == proof_id.lower()]
    info: dict[str, Any] = {"found": bool(logs), "status": receipt.get("status"),
                            "blockNumber": int(receipt.get("blockNumber", "0x0"), 16)}
    verdict.on_chain = info
    if int(receipt.get("status", "0x0"), 16) != 1:
        verdict.problems.append("the recording transaction did not succeed")
    if not logs:
        verdict.problems.append("no ProofRecorded log of this proof in the recording transaction")
        return
    log = logs[0]
    info["contract"] = log["address"]
    if tracker is not None and log["address"].lower() != tracker.lower():
        verdict.problems.append(f"the proof was recorded by {log['address']}, not the UsageTracker {tracker}")
    if log["topics"][3].lower() != "0x" + subject.lower().removeprefix("0x").rjust(64, "0"):
        verdict.problems.append("the recorded proof is of another subject")
    data = bytes.fromhex(log["data"].removeprefix("0x"))
    words = [int.from_bytes(data[i:i + 32], "big") for i in range(0, len(data), 32)]
    recorded = words[2:2 + words[1]] if len(words) >= 2 else []
    info["recordedSignals"] = [str(w) for w in recorded]
    names = RECORDED_OUTPUTS[verdict.kind]
    if not recorded or recorded[-1] != chunks_hash(signals):
        verdict.problems.append("the chunks are not the ones recorded on chain (chunksHash differs)")
    else:
        info["chunksHashMatches"] = True
    if [int(verdict.outputs.get(n, -1)) for n in names] != recorded[:len(names)]:
        verdict.problems.append("the recorded outputs are not the proof's")


def _linked(signals: list[list[int]], layout: dict[str, Any]) -> bool:
    prev = 0
    for i, s in enumerate(signals):
        if s[layout["state_in"]] != prev or s[layout["final"]] != int(i == len(signals) - 1):
            return False
        prev = s[layout["state_out"]]
    if "context" in layout:
        lo, hi = layout["context"]
        if any(s[lo:hi] != signals[0][lo:hi] for s in signals):
            return False
    if "cursor" in layout:
        cin, cout = layout["cursor"]
        cursor = 0
        for s in signals:
            if s[cin] != cursor or s[cout] < cursor:
                return False
            cursor = s[cout]
    return True


def verify_published(client: Any, proof_id: str, *, vkey: Path | None = None, rpc_url: str | None = None,
                     tracker: str | None = None, save: Path | None = None) -> tuple[Any, Verdict]:
    """The whole ``zkdm verify`` for SDK users: the public view and its files from ``client`` (no
    credentials), checked against the pinned key (or ``vkey``), and with ``rpc_url`` against the
    recording transaction. Returns (the public view, the verdict); ``verdict.ok`` says it all."""
    import httpx

    from zkdm.chain import ChainError, Rpc
    from zkdm.errors import VerificationFailed

    view = client.public_proof(proof_id)
    names = ["verification_key.json"] + [n for i in range(view.chunks) for n in (f"proof-{i}.json", f"public-{i}.json")]
    files: dict[str, bytes] = {}
    for name in names:
        url = view.files.get(name)
        if url is None:
            raise VerificationFailed(f"the proof's files do not include {name}")
        files[name] = client.fetch(url)
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (save / name).write_bytes(data)
    key, source = trusted_key(view.kind, vkey)
    verdict = check(view.kind, files, view.outputs, key, source, view.chunks)
    if rpc_url:
        rpc = Rpc(rpc_url)
        try:
            receipt = rpc.call("eth_getTransactionReceipt", view.txHash)
        except httpx.HTTPError as exc:
            raise ChainError(f"the chain node at {rpc_url} is unreachable: {exc}") from exc
        finally:
            rpc.close()
        check_recorded(verdict, receipt, view.proofId, view.subject, verdict.signals, tracker)
    return view, verdict

