"""What the content context needs from storage, the saga runner, the prover and the chain.

Items are plain dicts as stored (see ``adapters``); ``fakes`` implements every store port in
memory with the same contract (tests/contract runs both).
"""

from __future__ import annotations

from typing import Any, BinaryIO, Protocol


class Registrations(Protocol):
    """The registrations table: one item per registration, the saga's journal."""

    def create(self, item: dict[str, Any]) -> bool:
        """Put a new registration (AWAITING_UPLOAD or PENDING); False if the id exists."""
        ...

    def get(self, registration_id: str) -> dict[str, Any] | None: ...

    def start_uploaded(self, registration_id: str, creator: str, changes: dict[str, Any]) -> bool:
        """AWAITING_UPLOAD → PENDING for its creator only, once (False otherwise); drops the ttl."""
        ...

    def update(self, registration_id: str, changes: dict[str, Any]) -> None:
        """Journal what a step did (only while the registration is PENDING; else nothing)."""
        ...

    def fail(self, registration_id: str, error: dict[str, Any], now: str) -> bool:
        """PENDING → FAILED with the error record; False if it was not PENDING."""
        ...

    def complete(self, registration_id: str, result: dict[str, Any], now: str, content_id: str,
                 content_fields: dict[str, Any]) -> bool:
        """In one transaction: the content's CREATED claim (held by this registration) →
        REGISTERED with ``content_fields``, and the registration PENDING → REGISTERED with
        ``result``. False (nothing written) if either is not in that state."""
        ...


class ContentItems(Protocol):
    """The content table: one item per content id."""

    def get(self, content_id: str) -> dict[str, Any] | None: ...

    def claim(self, item: dict[str, Any]) -> dict[str, Any] | None:
        """Put a CREATED claim unless the content id has an item; that item if it has (else None)."""
        ...

    def release(self, content_id: str, registration_id: str) -> bool:
        """Delete the claim if it is still this registration's CREATED claim."""
        ...

    def mark_licensed(self, content_id: str) -> None:
        """REGISTERED → LICENSED (no-op in any other state)."""
        ...

    def activate_content(self, content_id: str) -> None:
        """LICENSED → ACTIVE (no-op in any other state)."""
        ...

    def record_terms(self, content_id: str, price_per_use: int, token: dict[str, Any]) -> None:
        """Count one more active terms in the item's terms summary (``termsCount``, the lowest
        ``minPricePerUse``, the ``termsToken`` they are priced in) and REGISTERED → LICENSED."""
        ...

    def archive(self, content_id: str, changes: dict[str, Any]) -> bool:
        """→ ARCHIVED (from the states the lifecycle allows) with ``changes``, and out of the
        listings (browse); False if the item is unknown or cannot archive (already ARCHIVED)."""
        ...

    def listed(self, creator: str | None, after: tuple[str, str] | None,
               limit: int) -> tuple[list[dict[str, Any]], bool]:
        """Listed content (REGISTERED, LICENSED, ACTIVE) newest first by ``(createdAt, contentId)``:
        a creator's (index byCreator) or everyone's (index byListing, sparse: archiving leaves it),
        at most ``limit`` items after the item keyed ``after`` (exclusive); and whether the index
        may have more after them (DynamoDB says so whenever it stopped at ``limit``, even if nothing
        follows; the fake only when something does). One index read (Query) per call."""
        ...


class ObjectStore(Protocol):
    def put(self, bucket: str, key: str, data: bytes, metadata: dict[str, str] | None = None) -> None: ...
    def open(self, bucket: str, key: str) -> BinaryIO | None: ...
    def size(self, bucket: str, key: str) -> int | None: ...
    def open_version(self, bucket: str, key: str, version: str | None = None) -> tuple[BinaryIO, str | None] | None:
        """A stream of one version of ``key`` (``version``, or the current one) and that version's
        id (None in a bucket without versioning), or None if there is no such object or version."""
        ...

    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str,
             version: str | None = None) -> None:
        """Copy ``src_key`` (exactly ``version`` if given, else the current one) to ``dst_key``."""
        ...
    def delete(self, bucket: str, key: str) -> None: ...
    def presigned_post(self, bucket: str, key: str, size: int, expires_in: int) -> dict[str, Any]: ...

    # S3 multipart uploads (files above what one POST takes; parts uploaded by the client)
    def create_multipart(self, bucket: str, key: str, metadata: dict[str, str] | None = None) -> str:
        """Start a multipart upload of ``key``; its upload id."""
        ...

    def presigned_part(self, bucket: str, key: str, upload_id: str, part_number: int, expires_in: int) -> str:
        """A presigned PUT URL for one part."""
        ...

    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[dict[str, Any]] | None:
        """``[{partNumber, size, etag}]`` uploaded so far, in part order; None if there is no such
        upload (completed or aborted)."""
        ...

    def complete_multipart(self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]) -> str:
        """Assemble ``parts`` ((number, ETag) in order) into the object; its ETag. ``ConflictError``
        if a part is missing, its ETag differs, or a part but the last is under 5 MiB;
        ``NotFoundError`` if there is no such upload."""
        ...

    def abort_multipart(self, bucket: str, key: str, upload_id: str) -> None:
        """Drop an upload and its parts (no such upload is not an error)."""
        ...


class Saga(Protocol):
    def start(self, name: str, payload: dict[str, Any]) -> str:
        """Start the execution named ``name``; its id (ARN)."""
        ...

    def status(self, execution: str) -> str:
        """RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED."""
        ...


class AuthenticityProof(Protocol):
    public_signals: list[int]
    proof: list[int]

    @property
    def creator_commitment(self) -> int: ...

    @property
    def timestamp_commitment(self) -> int: ...


class AuthenticityProver(Protocol):
    def __call__(self, *, creator_secret: int, content_hash: bytes, timestamp: int, salt: int,
                 domain: int) -> AuthenticityProof: ...


class RegistryChain(Protocol):
    """What the register step and compensation use of ``adapters.chain.Chain``."""

    tx_timeout: float

    def block_number(self) -> int: ...
    def block_timestamp(self) -> int:
        """The latest block's timestamp (the registry's clock)."""
        ...
    def transact(self, contract: str, function: str, *args: Any, on_signed: Any = None) -> dict[str, Any]: ...
    def events(self, contract: str, event: str, receipt: dict[str, Any]) -> list[dict[str, Any]]: ...
    def find_logs(self, contract: str, event: str, filters: dict[str, Any], from_block: int) -> list[dict[str, Any]]: ...
    def tx_pending(self, tx_hash: str, nonce: int) -> bool: ...
