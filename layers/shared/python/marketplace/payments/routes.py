"""Flow 4's HTTP routes (function ``payments-api``): a creator's earnings, payments (creator's and
buyer's views), withdrawal (``services.PaymentsApi``)."""

from __future__ import annotations

import functools
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query

from marketplace import config
from marketplace.kit.http import Api, caller, one_of, parse_body, raw_body
from marketplace.payments.schemas import (
    EarningsView,
    PaymentList,
    WithdrawChallenge,
    WithdrawRequest,
    WithdrawView,
)
from marketplace.payments.services import PaymentsApi

api = Api("payments-api")

_HEX_ANY_CASE = r"^0x[0-9a-fA-F]{64}$"  # ids are stored lowercase; a query may use either case
WithdrawAnswer = one_of("WithdrawAnswer", WithdrawChallenge, WithdrawView)
_QUERY_422 = "VALIDATION_ERROR: a query parameter is invalid (details.field)"


@functools.cache
def payments() -> PaymentsApi:
    from marketplace.adapters.chain import get_chain
    from marketplace.payments.adapters import DynamoGrantedUses, DynamoPaymentsStore, EscrowChain

    cfg = config.load(config.PaymentsApiConfig)
    return PaymentsApi(DynamoPaymentsStore(cfg.payments_table), EscrowChain(get_chain(cfg)),
                       DynamoGrantedUses(cfg.licenses_table))


@api.operation("GET", "/creator/earnings",
               "The caller's earnings as a creator: owed (withdrawable), withdrawn, pending (served, not yet logged), "
               "per content", ok={200: ("the earnings", EarningsView)},
               errors={503: "BLOCKCHAIN_ERROR: the chain could not be read (supportId)"})
def earnings():
    return payments().earnings(caller(api))


@api.operation("GET", "/payments",
               "Payments (one per paid usage batch), newest first: the caller's as creator (role=creator) or as buyer "
               "(role=buyer)", ok={200: ("a page of payments and the next page's cursor", PaymentList)},
               errors={404: "NOT_FOUND: the cursor is not one this listing gave", 422: _QUERY_422})
def list_payments(role: Annotated[Literal["creator", "buyer"], Query(description="whose view")] = "creator",
                  contentId: Annotated[str | None, Query(pattern=_HEX_ANY_CASE)] = None,
                  licenseId: Annotated[str | None, Query(pattern=_HEX_ANY_CASE)] = None,
                  status: Annotated[Literal["PENDING", "PROCESSING", "COMPLETED", "WITHDRAWN", "FAILED"] | None,
                                    Query()] = None,
                  cursor: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,1024}$")] = None,
                  limit: Annotated[int, Query(ge=1, le=100)] = 50):
    return payments().payments(caller(api), role=role, content_id=contentId.lower() if contentId else None,
                               license_id=licenseId.lower() if licenseId else None, status=status, cursor=cursor,
                               limit=limit)


@api.operation("POST", "/creator/withdraw",
               "Withdraw what the escrow owes you. Without txHash: the unsigned withdraw() transaction to send from "
               "your wallet (the escrow pays msg.sender; there is no relayed variant); with txHash: your mined "
               "withdrawal, verified on chain and recorded",
               ok={200: ("the transaction to send, or the recorded withdrawal", WithdrawAnswer)},
               errors={403: "FORBIDDEN: the transaction was not sent by you",
                       409: "CONFLICT: nothing to withdraw, or the transaction is not mined yet",
                       503: "BLOCKCHAIN_ERROR: the chain could not be read (supportId)"},
               request_media={"application/json": WithdrawRequest}, request_required=False)
def withdraw():
    req = parse_body(api, WithdrawRequest) if raw_body(api).strip() else WithdrawRequest()
    return payments().withdraw(caller(api), req)

