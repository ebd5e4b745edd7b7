"""The usage-batches state machine's messages (``statemachines/usage-batches.asl.json``): what each
task of the batch worker takes and returns, validated at the boundary by ``kit.tasks``.

One execution: ``licenses`` (which licenses have pending uses) → a Map over them (bounded
concurrency), each ``prepare`` → ``prove`` → ``submit`` → ``confirm`` → ``mark``; a failure of
one license's branch is caught into ``failed`` (the batch is retried by the next run)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from marketplace.shared.schemas import HexId


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LicensesIn(_Msg):
    licenses: list[HexId] | None = Field(None, description="only these (a nudge); default: every license with "
                                         "pending uses")


class LicensesOut(_Msg):
    licenses: list[HexId]


class LicenseIn(_Msg):
    licenseId: HexId


class Access(_Msg):
    """One ``SignedAccess`` tuple of ``logUsageBatch`` (EIP-2098 compact signature)."""

    counter: int
    requestHash: HexId
    r: HexId
    vs: HexId


class Batch(_Msg):
    """A batch ready to prove: the events by seq (with the gaps skipped before them), its on-chain
    start index, window and the buyer's signatures."""

    licenseId: HexId
    ready: bool = True
    reason: str | None = Field(None, description="why no batch (ready false): nothing_pending, gap_pending, "
                               "window_not_open, locked, in_flight, recovered, revoked")
    startIndex: int = 0
    count: int = 0
    windowStart: int = 0
    windowEnd: int = 0
    chainOld: str = "0"
    seqs: list[int] = []
    skipped: list[int] = []
    nextCursor: int = 0
    accesses: list[Access] = []
    lock: str | None = None


class Proved(Batch):
    chainNew: str
    proof: list[str] = Field(min_length=8, max_length=8)
    digest: str | None = Field(None, description="the batch record's digest (BatchRecord.from_usage_inputs): "
                               "stored in the batches table when the batch is marked")


class Submitted(Proved):
    batchId: HexId
    txHash: HexId
    blockNumber: int


class Marked(_Msg):
    licenseId: HexId
    batchId: HexId | None = None
    txHash: HexId | None = None
    count: int = 0
    proven: int = 0
    skipped: list[int] = []
    reason: str | None = None


class FailedIn(BaseModel):
    """The failed task's state (any of the messages above) with the caught error at ``error``."""

    model_config = ConfigDict(extra="ignore")

    licenseId: HexId
    lock: str | None = Field(None, description="set when the branch holds the license's batch lock")
    error: dict = Field(default_factory=dict, description="the caught error: Error, Cause")


class Failed(_Msg):
    licenseId: HexId
    error: str
    supportId: str | None = None
