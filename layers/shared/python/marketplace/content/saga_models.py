"""The registration saga's messages: the execution state each task receives and what each step returns.

The state machine (``statemachines/registration.asl.json``) passes ``{"step", "input": <state>}``
and stores a step's result at ``$.<step>.value``; ``kit.tasks`` validates the state with
``SagaState`` and each step's result with its output model, so a change to one side that the other
does not expect fails loudly at the boundary instead of deep inside a later step.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from marketplace.shared.schemas import HexId

T = TypeVar("T", bound=BaseModel)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Stored(_Out):
    contentHash: HexId
    ipfsCid: str
    cidV1: str
    contentId: HexId
    size: int
    cidDigest: HexId


class Hashed(_Out):
    """One hash invocation (``staged.StagedStore.hash``): how far it got; the digests once done."""

    done: bool
    bytesHashed: int
    totalBytes: int
    contentHash: HexId | None = None
    ipfsCid: str | None = None
    cidV1: str | None = None
    cidDigest: HexId | None = None
    size: int | None = None


class Copied(_Out):
    """One copy invocation: bytes of the pinned version in the content bucket so far."""

    done: bool
    bytesCopied: int
    totalBytes: int
    parts: int


class Proved(_Out):
    creatorCommitment: str
    timestampCommitment: str
    notBefore: int
    notAfter: int
    proof: list[str]


class RegisteredTx(_Out):
    txHash: HexId
    blockNumber: int
    contentId: HexId


class Cached(_Out):
    contentId: HexId
    ipfsCid: str
    cidV1: str
    contentHash: HexId
    txHash: HexId
    blockNumber: int


class Compensated(_Out):
    registrationId: str
    state: str
    error: dict[str, Any]


class StepResult(BaseModel, Generic[T]):
    value: T


class SagaState(BaseModel):
    """The execution state: the registration, then each finished step's result, and the failure
    Step Functions caught (``error``: ``{Error, Cause}``) when compensating."""

    model_config = ConfigDict(extra="allow")

    registrationId: str
    creator: str
    uploadKey: str
    metadata: dict[str, Any]
    hashing: StepResult[Hashed] | None = None
    store: StepResult[Stored] | None = None
    copying: StepResult[Copied] | None = None
    prove: StepResult[Proved] | None = None
    register: StepResult[RegisteredTx] | None = None
    error: dict[str, Any] | None = None
