"""The payments store on DynamoDB, the escrow through the chain gateway, notifications on SQS.

Table ``payments`` (pk ``pk``, sk ``sk``; addresses and ids lowercase; amounts in token base units):

- ``event#<txHash:logIndex>`` / ``event``: an applied chain event's marker (type, appliedAt,
  notified). Written in the same transaction as the event's effect, on condition it is absent.
- ``license#<licenseId>`` / ``license``: the buyer side of a purchase (kind ``license``: contentId,
  termsId, buyer, creator (also as ``licenseCreator``, index byCreatorLicense), amount,
  pricePerUse, maxUses, validFrom, validUntil, txHash, position, usesPaid, paid, revokedAt,
  refundedAmount, refundedUses, refundTxHash, refundedAt; ``refundQueue`` = "open" and ``refundAt``
  while a refund may be due: index byRefund).
- ``creator#<account>`` / ``pay#<position>``: a payment (kind ``payment``: paymentId = batchId,
  licenseId, contentId, creator, buyer, uses, creatorAmount, platformFee, txHash, blockNumber,
  blockHash, logIndex, position, state, releasedAt, completedAt, withdrawTxHash, withdrawnAt);
  indexes byBuyer and byLicense (``position``: newest first).
- ``creator#<account>`` / ``wd#<position>``: a withdrawal (account, amount, txHash, withdrawnAt).
- ``creator#<account>`` / ``total``: earned, withdrawn, uses, payments, fees, withdrawnThrough,
  lastWithdrawal. owed = earned − withdrawn (= ``PaymentEscrow.owed``, for creators and the
  platform account alike).
- ``creator#<account>`` / ``content#<contentId>``: earned, uses, payments per content.
"""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING, Any

from marketplace.adapters.dynamodb import Table, from_ddb, to_ddb, transact
from marketplace.payments.models import PAYMENT_LIFECYCLE, Deposit, PaymentState, Settlement
from marketplace.shared.lifecycle import state_in

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from marketplace.chain.gateway import ChainGateway

MARKER_SK = "event"
LICENSE_SK = "license"
TOTAL_SK = "total"
REFUND_OPEN = "open"
MAX_QUERY_ROUNDS = 10  # a filtered page reads at most this many DynamoDB pages


def event_key(event_id: str) -> dict[str, str]:
    return {"pk": f"event#{event_id}", "sk": MARKER_SK}


def license_key(license_id: str) -> dict[str, str]:
    return {"pk": f"license#{license_id.lower()}", "sk": LICENSE_SK}


def account_pk(account: str) -> str:
    return f"creator#{account.lower()}"


def payment_key(creator: str, position: int) -> dict[str, str]:
    return {"pk": account_pk(creator), "sk": f"pay#{position:020d}"}


def withdrawal_key(account: str, position: int) -> dict[str, str]:
    return {"pk": account_pk(account), "sk": f"wd#{position:020d}"}


def total_key(account: str) -> dict[str, str]:
    return {"pk": account_pk(account), "sk": TOTAL_SK}


def content_key(account: str, content_id: str) -> dict[str, str]:
    return {"pk": account_pk(account), "sk": f"content#{content_id}"}


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """The key a cursor names; ValueError if it is not one of ours."""
    if not cursor:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise ValueError("not a cursor of this listing") from None
    if not isinstance(raw, dict) or not {"pk", "sk"} <= set(raw):
        raise ValueError("not a cursor of this listing")
    return raw


def marker(event_id: str, event_type: str, now: int) -> dict[str, Any]:
    return {**event_key(event_id), "type": event_type, "appliedAt": now}


class DynamoPaymentsStore:
    def __init__(self, table: str, clock=time.time) -> None:
        self.table = Table(table)
        self.name = table
        self.clock = clock

    @property
    def _ddb(self):
        return self.table._ddb

    def _now(self) -> int:
        return int(self.clock())

    def _marker_put(self, event_id: str, event_type: str) -> TransactWriteItemTypeDef:
        return self.table.tx_put(marker(event_id, event_type, self._now()), condition="attribute_not_exists(pk)")

    def _add(self, key: dict[str, str], add: dict[str, int], set_: dict[str, Any] | None = None,
             condition: str | None = None) -> TransactWriteItemTypeDef:
        """An UpdateItem of a transaction that ADDs counters and SETs attributes."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        adds, sets = [], []
        for i, (attr, value) in enumerate(add.items()):
            names[f"#a{i}"], values[f":a{i}"] = attr, value
            adds.append(f"#a{i} :a{i}")
        for i, (attr, value) in enumerate((set_ or {}).items()):
            names[f"#s{i}"], values[f":s{i}"] = attr, value
            sets.append(f"#s{i} = :s{i}")
        expr = ("SET " + ", ".join(sets) + " " if sets else "") + ("ADD " + ", ".join(adds) if adds else "")
        update: dict[str, Any] = {"TableName": self.name, "Key": to_ddb(key), "UpdateExpression": expr.strip(),
                                  "ExpressionAttributeNames": names, "ExpressionAttributeValues": to_ddb(values)}
        if condition:
            update["ConditionExpression"] = condition
        return {"Update": update}  # type: ignore[typeddict-item]

    # -- markers ------------------------------------------------------------------------------------

    def applied(self, event_id: str) -> dict[str, Any] | None:
        return self.table.get(event_key(event_id))

    def record_event(self, event_id: str, event_type: str) -> bool:
        return self.table.put(marker(event_id, event_type, self._now()), condition="attribute_not_exists(pk)")

    def mark_notified(self, event_id: str) -> None:
        self.table.update(event_key(event_id), {"notified": True}, condition="attribute_exists(pk)")

    # -- licenses -----------------------------------------------------------------------------------

    def record_license(self, event_id: str, lic: dict[str, Any]) -> bool:
        item = {**license_key(lic["licenseId"]), "kind": "license", "usesPaid": 0, "paid": 0, **lic,
                "licenseCreator": lic["creator"]}
        return transact(self._marker_put(event_id, "LicensePurchased"),
                        self.table.tx_put(item, condition="attribute_not_exists(pk)"))

    def get_license(self, license_id: str) -> dict[str, Any] | None:
        return self.table.get(license_key(license_id))

    def creator_licenses(self, creator: str) -> list[dict[str, Any]]:
        return self._query_all("byCreatorLicense", "licenseCreator", creator.lower())

    def record_revocation(self, event_id: str, license_id: str, revoked_at: int, tx_hash: str) -> bool:
        lic = self.get_license(license_id)
        if lic is None:
            return self.record_event(event_id, "LicenseRevoked")
        changes: dict[str, Any] = {"revokedAt": revoked_at, "revokeTxHash": tx_hash}
        if lic.get("refundedAt") is None:
            changes.update(refundQueue=REFUND_OPEN, refundAt=0)
        return transact(self._marker_put(event_id, "LicenseRevoked"),
                        self.table.tx_update(license_key(license_id), changes, condition="attribute_exists(pk)"))

    # -- payments -----------------------------------------------------------------------------------

    def record_payment(self, event_id: str, payment: dict[str, Any], platform: str | None) -> bool:
        creator, amount, fee = payment["creator"], int(payment["creatorAmount"]), int(payment["platformFee"])
        item = {**payment_key(creator, payment["position"]), "kind": "payment", **payment}
        ops = [
            self._marker_put(event_id, "PaymentReleased"),
            self.table.tx_put(item, condition="attribute_not_exists(pk)"),
            self._add(total_key(creator), {"earned": amount, "uses": int(payment["uses"]), "payments": 1},
                      {"account": creator}),
            self._add(content_key(creator, payment["contentId"]),
                      {"earned": amount, "uses": int(payment["uses"]), "payments": 1},
                      {"account": creator, "contentId": payment["contentId"]}),
        ]
        if self.get_license(payment["licenseId"]) is not None:
            ops.append(self._add(license_key(payment["licenseId"]),
                                 {"usesPaid": int(payment["uses"]), "paid": amount + fee},
                                 condition="attribute_exists(pk)"))
        if platform and fee and platform.lower() != creator.lower():
            ops.append(self._add(total_key(platform), {"earned": fee, "fees": fee}, {"account": platform.lower()}))
        return transact(*ops)

    def get_payment(self, creator: str, position: int) -> dict[str, Any] | None:
        return self.table.get(payment_key(creator, position))

    def move_payment(self, creator: str, position: int, target: PaymentState, changes: dict[str, Any]) -> bool:
        sources = PAYMENT_LIFECYCLE.sources(target)
        if not sources:
            return False
        condition, values = state_in(sources)
        return self.table.update(payment_key(creator, position), {**changes, "state": str(target)},
                                 condition=f"attribute_exists(pk) AND {condition}", values=values,
                                 names={"#st": "state"})

    def list_payments(self, *, creator: str | None = None, buyer: str | None = None, license_id: str | None = None,
                      content_id: str | None = None, status: str | None = None, cursor: str | None = None,
                      limit: int = 50) -> tuple[list[dict[str, Any]], str | None]:
        names: dict[str, str] = {"#kind": "kind"}
        values: dict[str, Any] = {":payment": "payment"}
        filters = ["#kind = :payment"]
        query: dict[str, Any] = {"TableName": self.name, "ScanIndexForward": False}
        if creator is not None:
            names.update({"#pk": "pk", "#sk": "sk"})
            values.update({":pk": account_pk(creator), ":pay": "pay#"})
            query["KeyConditionExpression"] = "#pk = :pk AND begins_with(#sk, :pay)"
        elif buyer is not None or license_id is not None:
            attr, value = ("buyer", buyer.lower()) if buyer is not None else ("licenseId", license_id)
            query["IndexName"] = "byBuyer" if buyer is not None else "byLicense"
            names["#k"] = attr
            values[":k"] = value
            query["KeyConditionExpression"] = "#k = :k"
            if buyer is not None and license_id is not None:
                names["#lid"], values[":lid"] = "licenseId", license_id
                filters.append("#lid = :lid")
        else:
            raise ValueError("list payments of a creator, a buyer or a license")
        if content_id is not None:
            names["#cid"], values[":cid"] = "contentId", content_id
            filters.append("#cid = :cid")
        if status is not None:
            names["#st"], values[":st"] = "state", status
            filters.append("#st = :st")
        query.update(FilterExpression=" AND ".join(filters), ExpressionAttributeNames=names,
                     ExpressionAttributeValues=to_ddb(values))
        start = decode_cursor(cursor)
        items: list[dict[str, Any]] = []
        last: dict[str, Any] | None = None
        for _ in range(MAX_QUERY_ROUNDS):
            page: dict[str, Any] = dict(query, Limit=limit - len(items))
            if start:
                page["ExclusiveStartKey"] = to_ddb(start)
            out = self._ddb.query(**page)
            items += [from_ddb(i) for i in out.get("Items", [])]
            last = from_ddb(out["LastEvaluatedKey"]) if out.get("LastEvaluatedKey") else None
            if last is None or len(items) >= limit:
                break
            start = last
        return items, encode_cursor(last)

    # -- withdrawals --------------------------------------------------------------------------------

    def record_withdrawal(self, event_id: str, withdrawal: dict[str, Any]) -> bool:
        account, pos = withdrawal["account"].lower(), int(withdrawal["position"])
        item = {**withdrawal_key(account, pos), "kind": "withdrawal", **withdrawal, "account": account}
        return transact(
            self._marker_put(event_id, "Withdrawn"),
            self.table.tx_put(item, condition="attribute_not_exists(pk)"),
            self._add(total_key(account), {"withdrawn": int(withdrawal["amount"])},
                      {"account": account, "withdrawnThrough": pos, "lastWithdrawal": withdrawal["txHash"]}),
        )

    def completed_before(self, creator: str, before: int) -> list[dict[str, Any]]:
        out = self._query_base(account_pk(creator), "pay#", f"pay#{before:020d}",
                               {"#st": "state"}, {":done": str(PaymentState.COMPLETED)}, "#st = :done")
        return out

    def earnings(self, account: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        total = self.table.get(total_key(account))
        per_content = self._query_base(account_pk(account), "content#", None)
        return total, per_content

    # -- refunds ------------------------------------------------------------------------------------

    def record_refund(self, event_id: str, license_id: str, refund: dict[str, Any]) -> bool:
        changes = {"refundedAmount": refund["amount"], "refundedUses": refund["uses"],
                   "refundTxHash": refund["txHash"], "refundedAt": refund["refundedAt"]}
        if self.get_license(license_id) is None:
            return self.record_event(event_id, "Refunded")
        return transact(self._marker_put(event_id, "Refunded"),
                        self.table.tx_update(license_key(license_id), changes, remove=("refundQueue",),
                                             condition="attribute_exists(pk)"))

    def refund_candidates(self, now: int, limit: int = 50) -> list[dict[str, Any]]:
        out = self._ddb.query(TableName=self.name, IndexName="byRefund",
                              KeyConditionExpression="#q = :open AND #at <= :now",
                              ExpressionAttributeNames={"#q": "refundQueue", "#at": "refundAt"},
                              ExpressionAttributeValues=to_ddb({":open": REFUND_OPEN, ":now": now}), Limit=limit)
        return [from_ddb(i) for i in out.get("Items", [])]

    def defer_refund(self, license_id: str, at: int) -> None:
        self.table.update(license_key(license_id), {"refundAt": at},
                          condition="attribute_exists(pk) AND attribute_exists(refundQueue)")

    def close_refund(self, license_id: str, reason: str) -> None:
        self.table.update(license_key(license_id), {"refundClosed": reason}, remove=("refundQueue",),
                          condition="attribute_exists(pk)")

    # -- queries ------------------------------------------------------------------------------------

    def _query_base(self, pk: str, prefix: str, below: str | None, names: dict[str, str] | None = None,
                    values: dict[str, Any] | None = None, filter_: str | None = None) -> list[dict[str, Any]]:
        """Every item of partition ``pk`` whose sort key starts with ``prefix`` (and is below
        ``below``), strongly consistent, in sort key order."""
        names = {"#pk": "pk", "#sk": "sk", **(names or {})}
        values = {":pk": pk, ":prefix": prefix, **(values or {})}
        if below is None:
            key = "#pk = :pk AND begins_with(#sk, :prefix)"
        else:
            key = "#pk = :pk AND #sk BETWEEN :prefix AND :below"
            values[":below"] = below
        query: dict[str, Any] = {"TableName": self.name, "KeyConditionExpression": key, "ConsistentRead": True,
                                 "ExpressionAttributeNames": names, "ExpressionAttributeValues": to_ddb(values)}
        if filter_:
            query["FilterExpression"] = filter_
        items: list[dict[str, Any]] = []
        while True:
            out = self._ddb.query(**query)
            items += [from_ddb(i) for i in out.get("Items", [])]
            if not out.get("LastEvaluatedKey"):
                break
            query["ExclusiveStartKey"] = out["LastEvaluatedKey"]
        if below is not None:
            items = [i for i in items if i["sk"] < below]
        return items

    def _query_all(self, index: str, attr: str, value: Any) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"TableName": self.name, "IndexName": index, "KeyConditionExpression": "#k = :v",
                                 "ExpressionAttributeNames": {"#k": attr},
                                 "ExpressionAttributeValues": to_ddb({":v": value})}
        items: list[dict[str, Any]] = []
        while True:
            out = self._ddb.query(**query)
            items += [from_ddb(i) for i in out.get("Items", [])]
            if not out.get("LastEvaluatedKey"):
                return items
            query["ExclusiveStartKey"] = out["LastEvaluatedKey"]


class DynamoGrantedUses:
    """``usesGranted`` from the licenses table (BatchGetItem, 100 keys a call)."""

    def __init__(self, licenses_table: str) -> None:
        self.name = licenses_table

    def granted(self, license_ids: list[str]) -> dict[str, int]:
        from marketplace.adapters.aws import client

        out: dict[str, int] = {}
        ids = sorted(set(license_ids))
        for i in range(0, len(ids), 100):
            keys = [to_ddb({"licenseId": lid}) for lid in ids[i:i + 100]]
            request: dict[str, Any] = {self.name: {"Keys": keys, "ProjectionExpression": "licenseId, usesGranted"}}
            for _ in range(8):
                reply = client("dynamodb").batch_get_item(RequestItems=request)
                for item in reply.get("Responses", {}).get(self.name, []):
                    plain = from_ddb(item)
                    out[plain["licenseId"]] = int(plain.get("usesGranted", 0))
                request = reply.get("UnprocessedKeys") or {}
                if not request:
                    break
        return out


def queue_url(value: str) -> str:
    """A queue's URL from its environment value (the local stack gives URLs, CDK names)."""
    if value.startswith(("http://", "https://")):
        return value
    from marketplace.adapters.aws import client

    return client("sqs").get_queue_url(QueueName=value)["QueueUrl"]


class SqsNotifier:
    """Notifications on the ``notifications`` queue (a standard queue: at least once; the body's
    ``id`` is stable, so its consumer drops a repeat)."""

    def __init__(self, queue_name: str) -> None:
        self.queue_name = queue_name
        self._url: str | None = None

    def send(self, message: dict[str, Any]) -> None:
        from marketplace.adapters.aws import client

        if self._url is None:
            self._url = queue_url(self.queue_name)
        client("sqs").send_message(QueueUrl=self._url, MessageBody=json.dumps(message, separators=(",", ":")))


ESCROW = "PaymentEscrow"
MANAGER = "LicenseManager"


class EscrowChain:
    """``PaymentsChain`` and ``RefundSender`` over the chain gateway."""

    def __init__(self, gateway: ChainGateway) -> None:
        self.gateway = gateway
        self.escrow = gateway.deployment.address(ESCROW)
        self.chain_id = gateway.deployment.chainId
        self._times: dict[int, int] = {}

    @property
    def _escrow(self):
        return self.gateway.contract(ESCROW)

    def head(self) -> int:
        return self.gateway.block_number()

    def block_hash(self, number: int) -> str | None:
        block = self.gateway.w3.eth.get_block(number)
        return "0x" + bytes(block["hash"]).hex() if block is not None else None

    def block_time(self, number: int) -> int:
        if number not in self._times:
            if len(self._times) > 1024:
                self._times.clear()
            self._times[number] = int(self.gateway.w3.eth.get_block(number)["timestamp"])
        return self._times[number]

    def deposit(self, license_id: str) -> Deposit:
        payee, price, payer, max_uses, released = self._escrow.functions.getDeposit(_b32(license_id)).call()
        return Deposit(payee, payer, int(price), int(max_uses), int(released))

    def platform_account(self) -> str:
        return self._escrow.functions.platformAccount().call()

    def fee_bps(self) -> int:
        return int(self._escrow.functions.platformFeeBps().call())

    def owed(self, account: str) -> int:
        from eth_utils import to_checksum_address

        return int(self._escrow.functions.owed(to_checksum_address(account)).call())

    def settlement(self, license_id: str) -> Settlement:
        lid = _b32(license_id)
        escrow = self._escrow.functions
        onchain = self.gateway.contract(MANAGER).functions.getLicense(lid).call()
        _payee, price, _payer, _max, released = escrow.getDeposit(lid).call()
        opens = int(escrow.refundOpensAt(lid).call())
        return Settlement(uses_proven=int(onchain[7]), paid=int(released) * int(price),
                          refundable=int(escrow.refundable(lid).call()),
                          refund_opens_at=None if opens >= 2**255 else opens)

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        from web3.exceptions import TransactionNotFound

        try:
            return dict(self.gateway.w3.eth.get_transaction_receipt(tx_hash))
        except TransactionNotFound:
            return None

    def withdrawals(self, receipt: dict[str, Any]) -> list[dict[str, Any]]:
        from web3.logs import DISCARD

        ev = self._escrow.events.Withdrawn()
        return [{"account": e["args"]["account"], "amount": int(e["args"]["amount"]), "logIndex": int(e["logIndex"])}
                for e in ev.process_receipt(receipt, errors=DISCARD)]

    def refund(self, license_id: str) -> str:
        receipt = self.gateway.transact(ESCROW, "refund", _b32(license_id), purpose="payments.refund",
                                        context={"licenseId": license_id})
        return "0x" + bytes(receipt["transactionHash"]).hex()


def _b32(hex_id: str) -> bytes:
    return bytes.fromhex(hex_id[2:])

