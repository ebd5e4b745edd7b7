"""HTTP bodies of the payments API (function ``payments-api``). Amounts are integers in the payment
token's base units (6 decimals); addresses EIP-55 checksummed; ids 0x-hex lowercase."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from marketplace.shared.schemas import HexId, Strict

PaymentStatus = Literal["PENDING", "PROCESSING", "COMPLETED", "WITHDRAWN", "FAILED"]


class ContentEarnings(BaseModel):
    contentId: str
    earned: int = Field(description="creator's share of every batch paid for this content")
    uses: int = Field(description="uses paid")
    payments: int = Field(description="batches paid")
    pending: int = Field(description="creator's share (at the current fee) of uses served but not logged yet")
    pendingUses: int


class EarningsView(BaseModel):
    account: str
    owed: int = Field(description="what withdraw() would pay now, from the payments the listener recorded "
                      "(earned − withdrawn)")
    owedOnChain: int = Field(description="PaymentEscrow.owed(account) now (equal to owed once the listener caught up)")
    earned: int = Field(description="creator's share of every batch paid")
    withdrawn: int
    pending: int = Field(description="creator's share (at the current fee) of uses served and not yet logged in a "
                         "batch: paid when the batch prover logs them")
    pendingUses: int
    uses: int = Field(description="uses paid")
    payments: int = Field(description="batches paid")
    platformFeeBps: int = Field(description="the escrow's current fee, basis points")
    lastWithdrawal: str | None = Field(None, description="txHash of the latest withdrawal")
    perContent: list[ContentEarnings]


class PaymentView(BaseModel):
    paymentId: str = Field(description="the batch's id: keccak256(abi.encode(licenseId, startIndex))")
    batchId: str
    licenseId: str
    contentId: str
    creator: str
    buyer: str
    uses: int
    amount: int = Field(description="the creator's share (creatorAmount)")
    platformFee: int
    status: PaymentStatus
    txHash: str = Field(description="the logUsageBatch transaction that paid the batch")
    blockNumber: int
    releasedAt: str
    completedAt: str | None = None
    withdrawTxHash: str | None = None
    withdrawnAt: str | None = None


class PaymentList(BaseModel):
    payments: list[PaymentView]
    cursor: str | None = Field(None, description="pass as ?cursor= for the next page; absent at the end")


class WithdrawRequest(Strict):
    txHash: HexId | None = Field(None, description="your own withdraw() transaction, verified on chain")


class UnsignedTransaction(BaseModel):
    to: str = Field(description="the PaymentEscrow")
    function: str = Field(description="the call's signature")
    args: list[Any]
    data: str = Field(description="the calldata")
    value: str = "0"
    chainId: int


class WithdrawChallenge(BaseModel):
    transactionRequired: Literal[True] = True
    transaction: UnsignedTransaction
    owed: int = Field(description="what the transaction would withdraw now")
    note: str = Field(description="why the platform cannot send it for you")


class WithdrawView(BaseModel):
    account: str
    txHash: str
    amount: int = Field(description="what the transaction withdrew")
    withdrawn: int = Field(description="total withdrawn")
    owed: int = Field(description="owed after the withdrawal (the payments the listener recorded)")

    @model_validator(mode="after")
    def _non_negative(self) -> WithdrawView:
        if self.amount < 0:
            raise ValueError("a withdrawal moves a non-negative amount")
        return self
