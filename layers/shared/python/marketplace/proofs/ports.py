"""The proofs context's ports: the proving engine (``marketplace.zk.folds`` behind it), the chain,
the stores (proof records, verification results, reports, jobs) and the report bucket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from marketplace.zk.inputs import BatchRecord, LicenseBatches


class Chunk(Protocol):
    """One Groth16 proof of a chunked compliance or aggregate proof (``folds.ChunkProof``)."""

    circuit: str
    proof: Any  # marketplace.zk.Proof
    public_signals: list[int]


Progress = Callable[[int, int], None]  # (chunks proven, chunks in all)


class ProofEngine(Protocol):
    """Proves, reads and verifies chunked proofs (``marketplace.zk.folds``)."""

    def chunk_count(self, kind: str, batches: int, licenses: int) -> int:
        """How many chunk proofs ``batches`` records (over ``licenses`` licenses) need."""
        ...

    def prove_compliance(self, records: list[BatchRecord], *, max_uses: int, price_per_use: int, valid_from: int,
                         valid_until: int, chain: int, domain: int, progress: Progress | None = None) -> list[Chunk]: ...

    def prove_aggregate(self, licenses: list[LicenseBatches], domain: int,
                        progress: Progress | None = None) -> list[Chunk]: ...

    def compliance_outputs(self, chunks: list[Chunk]) -> dict[str, int]:
        """``{totalUses, totalPaid, compliant}``."""
        ...

    def aggregate_outputs(self, chunks: list[Chunk]) -> dict[str, int]:
        """``{totalUses, totalRevenue, uniqueLicensees, fromTs, toTs}``."""
        ...

    def call_args(self, kind: str, chunks: list[Chunk]) -> tuple:
        """The recording call's arguments after the subject id."""
        ...

    def chunks_from_call(self, kind: str, args: dict[str, Any], event_signals: list[int]) -> list[Chunk]:
        """The chunks a recording transaction carried (its decoded arguments and the event's signals)."""
        ...

    def verify(self, kind: str, chunks: list[Chunk], context: dict[str, Any]) -> bool:
        """Every chunk's Groth16 proof (py_ecc) and their linkage, against the on-chain ``context``
        (compliance: chain, maxUses, pricePerUse, validFrom, validUntil, domain; aggregate: chains,
        prices, domain)."""
        ...


class ProofChain(Protocol):
    def license(self, license_id: str, block: int | None = None) -> dict[str, Any] | None:
        """``{contentId, licensee, validFrom, validUntil, revoked, chain, uses, maxUses, pricePerUse}``;
        None for an unknown license."""
        ...

    def settlement_grace(self) -> int: ...
    def domain(self) -> int: ...
    def block_time(self) -> int: ...
    def creator_of(self, content_id: str) -> str | None: ...
    def used_licenses(self, content_id: str, block: int | None = None) -> list[str]: ...
    def logged_batches(self, license_id: str) -> list[dict[str, Any]]:
        """``UsageLogged`` of the license: ``{startIndex, count, windowStart, windowEnd, chainNew, batchId}``."""
        ...

    def payments(self, license_id: str) -> list[dict[str, Any]]:
        """The escrow's ``PaymentReleased`` of the license: ``{batchId, uses, creatorAmount, platformFee}``."""
        ...

    def record(self, kind: str, subject: str, args: tuple, context: dict[str, Any]) -> dict[str, Any]:
        """Send ``recordComplianceProof`` / ``recordAggregateProof`` through the relayer:
        ``{proofId, txHash, blockNumber}``."""
        ...

    def proof_record(self, proof_id: str) -> dict[str, Any] | None:
        """The ``ProofRecorded`` event and its transaction: ``{proofId, kind, subject, publicSignals,
        txHash, blockNumber, recordedAt, args}`` (``args``: the call's decoded arguments)."""
        ...

    def head(self) -> int: ...


class ProofStore(Protocol):
    """The proofs table: cached reports and verification results, jobs."""

    def get(self, key: str) -> dict[str, Any] | None: ...
    def put(self, key: str, value: dict[str, Any], ttl: int | None = None) -> None: ...
    def create(self, key: str, value: dict[str, Any]) -> bool:
        """Store only if absent (a job's first write)."""
        ...
    def update(self, key: str, changes: dict[str, Any]) -> None: ...


class ReportFiles(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> None: ...
    def url(self, key: str, ttl: int) -> str: ...


class LicenseRecords(Protocol):
    """What the platform keeps of a license (licenses table) and its served uses (usage table)."""

    def license(self, license_id: str) -> dict[str, Any] | None: ...
    def served(self, license_id: str, valid_from: int, valid_until: int) -> dict[str, int]:
        """``{uses, outsideValidity}``: uses served (each signed by a worker key of the licensee), and
        how many of them fall outside ``[valid_from, valid_until]`` (a count: no use's time leaves)."""
        ...


class BatchRecordSource(Protocol):
    def list(self, license_id: str) -> list[dict[str, Any]]: ...


class ContentInfo(Protocol):
    def get(self, content_id: str) -> dict[str, Any] | None: ...
