"""In-memory payments store (the same items as ``adapters.DynamoPaymentsStore``, one table lock
standing for DynamoDB's transactions; tests/contract runs both), notifier, chain and revocations."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from marketplace.payments.adapters import (
    LICENSE_SK,
    REFUND_OPEN,
    account_pk,
    content_key,
    decode_cursor,
    encode_cursor,
    event_key,
    license_key,
    marker,
    payment_key,
    total_key,
    withdrawal_key,
)
from marketplace.payments.models import PAYMENT_LIFECYCLE, Deposit, PaymentState, Settlement
from marketplace.shared.memory import MemoryTable


def _key(item: dict[str, Any]) -> tuple[str, str]:
    return item["pk"], item["sk"]


class MemoryPaymentsStore:
    def __init__(self, payments: MemoryTable | None = None, clock=lambda: 0) -> None:
        self.table = payments if payments is not None else MemoryTable("pk", "sk")
        self.clock = clock

    def _now(self) -> int:
        return int(self.clock())

    def _get(self, key: dict[str, str]) -> dict[str, Any] | None:
        return self.table.get_item(key)

    def _put_new(self, item: dict[str, Any]) -> None:
        self.table.put(item)

    def _add(self, key: dict[str, str], add: dict[str, int], set_: dict[str, Any] | None = None) -> None:
        def change(item: dict[str, Any]) -> None:
            for attr, value in add.items():
                item[attr] = int(item.get(attr, 0)) + int(value)
            item.update(set_ or {})

        self.table.update(key, change)

    def _absent(self, *keys: dict[str, str]) -> bool:
        return all(self._get(k) is None for k in keys)

    # -- markers ------------------------------------------------------------------------------------

    def applied(self, event_id: str) -> dict[str, Any] | None:
        return self._get(event_key(event_id))

    def record_event(self, event_id: str, event_type: str) -> bool:
        return self.table.put(marker(event_id, event_type, self._now()), condition=lambda old: old is None)

    def mark_notified(self, event_id: str) -> None:
        self.table.update(event_key(event_id), lambda i: i.update(notified=True), condition=lambda old: old is not None)

    # -- licenses -----------------------------------------------------------------------------------

    def record_license(self, event_id: str, lic: dict[str, Any]) -> bool:
        key = license_key(lic["licenseId"])
        with self.table.lock:
            if not self._absent(event_key(event_id), key):
                return False
            self._put_new(marker(event_id, "LicensePurchased", self._now()))
            self._put_new({**key, "kind": "license", "usesPaid": 0, "paid": 0, **lic, "licenseCreator": lic["creator"]})
            return True

    def get_license(self, license_id: str) -> dict[str, Any] | None:
        return self._get(license_key(license_id))

    def creator_licenses(self, creator: str) -> list[dict[str, Any]]:
        return [i for i in self._items() if i.get("licenseCreator") == creator.lower()]

    def record_revocation(self, event_id: str, license_id: str, revoked_at: int, tx_hash: str) -> bool:
        with self.table.lock:
            if not self.record_event(event_id, "LicenseRevoked"):
                return False
            lic = self.get_license(license_id)
            if lic is not None:
                changes: dict[str, Any] = {"revokedAt": revoked_at, "revokeTxHash": tx_hash}
                if lic.get("refundedAt") is None:
                    changes.update(refundQueue=REFUND_OPEN, refundAt=0)
                self.table.update(license_key(license_id), lambda i: i.update(changes))
            return True

    # -- payments -----------------------------------------------------------------------------------

    def record_payment(self, event_id: str, payment: dict[str, Any], platform: str | None) -> bool:
        creator, amount, fee = payment["creator"], int(payment["creatorAmount"]), int(payment["platformFee"])
        key = payment_key(creator, payment["position"])
        with self.table.lock:
            if not self._absent(event_key(event_id), key):
                return False
            self._put_new(marker(event_id, "PaymentReleased", self._now()))
            self._put_new({**key, "kind": "payment", **payment})
            counts = {"earned": amount, "uses": int(payment["uses"]), "payments": 1}
            self._add(total_key(creator), counts, {"account": creator})
            self._add(content_key(creator, payment["contentId"]), counts,
                      {"account": creator, "contentId": payment["contentId"]})
            if self.get_license(payment["licenseId"]) is not None:
                self._add(license_key(payment["licenseId"]), {"usesPaid": int(payment["uses"]), "paid": amount + fee})
            if platform and fee and platform.lower() != creator.lower():
                self._add(total_key(platform), {"earned": fee, "fees": fee}, {"account": platform.lower()})
            return True

    def get_payment(self, creator: str, position: int) -> dict[str, Any] | None:
        return self._get(payment_key(creator, position))

    def move_payment(self, creator: str, position: int, target: PaymentState, changes: dict[str, Any]) -> bool:
        sources = {str(s) for s in PAYMENT_LIFECYCLE.sources(target)}
        return self.table.update(payment_key(creator, position),
                                 lambda i: i.update({**changes, "state": str(target)}),
                                 condition=lambda old: old is not None and old.get("state") in sources) is not None

    def list_payments(self, *, creator: str | None = None, buyer: str | None = None, license_id: str | None = None,
                      content_id: str | None = None, status: str | None = None, cursor: str | None = None,
                      limit: int = 50) -> tuple[list[dict[str, Any]], str | None]:
        payments = [i for i in self._items() if i.get("kind") == "payment"]
        if creator is not None:
            rows = sorted((i for i in payments if i["pk"] == account_pk(creator)), key=lambda i: i["sk"], reverse=True)
        elif buyer is not None or license_id is not None:
            attr, value = ("buyer", buyer.lower()) if buyer is not None else ("licenseId", license_id)
            rows = sorted((i for i in payments if i.get(attr) == value), key=lambda i: (i["position"], i["pk"], i["sk"]),
                          reverse=True)
            if buyer is not None and license_id is not None:
                rows = [i for i in rows if i["licenseId"] == license_id]
        else:
            raise ValueError("list payments of a creator, a buyer or a license")
        start = decode_cursor(cursor)
        if start is not None:
            keys = [_key(i) for i in rows]
            rows = rows[keys.index(_key(start)) + 1:] if _key(start) in keys else []
        rows = [i for i in rows if (content_id is None or i["contentId"] == content_id)
                and (status is None or i["state"] == status)]
        page = rows[:limit]
        more = len(rows) > limit
        return page, encode_cursor({"pk": page[-1]["pk"], "sk": page[-1]["sk"]}) if more and page else None

    # -- withdrawals --------------------------------------------------------------------------------

    def record_withdrawal(self, event_id: str, withdrawal: dict[str, Any]) -> bool:
        account, pos = withdrawal["account"].lower(), int(withdrawal["position"])
        key = withdrawal_key(account, pos)
        with self.table.lock:
            if not self._absent(event_key(event_id), key):
                return False
            self._put_new(marker(event_id, "Withdrawn", self._now()))
            self._put_new({**key, "kind": "withdrawal", **withdrawal, "account": account})
            self._add(total_key(account), {"withdrawn": int(withdrawal["amount"])},
                      {"account": account, "withdrawnThrough": pos, "lastWithdrawal": withdrawal["txHash"]})
            return True

    def completed_before(self, creator: str, before: int) -> list[dict[str, Any]]:
        below = f"pay#{before:020d}"
        return sorted((i for i in self._items() if i["pk"] == account_pk(creator) and i["sk"].startswith("pay#")
                       and i["sk"] < below and i.get("state") == str(PaymentState.COMPLETED)),
                      key=lambda i: i["sk"])

    def earnings(self, account: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        per_content = sorted((i for i in self._items() if i["pk"] == account_pk(account)
                              and i["sk"].startswith("content#")), key=lambda i: i["sk"])
        return self._get(total_key(account)), per_content

    # -- refunds ------------------------------------------------------------------------------------

    def record_refund(self, event_id: str, license_id: str, refund: dict[str, Any]) -> bool:
        changes = {"refundedAmount": refund["amount"], "refundedUses": refund["uses"],
                   "refundTxHash": refund["txHash"], "refundedAt": refund["refundedAt"]}
        with self.table.lock:
            if not self.record_event(event_id, "Refunded"):
                return False
            if self.get_license(license_id) is not None:
                def change(i: dict[str, Any]) -> None:
                    i.update(changes)
                    i.pop("refundQueue", None)

                self.table.update(license_key(license_id), change)
            return True

    def refund_candidates(self, now: int, limit: int = 50) -> list[dict[str, Any]]:
        due = [i for i in self._items() if i.get("sk") == LICENSE_SK and i.get("refundQueue") == REFUND_OPEN
               and int(i.get("refundAt", 0)) <= now]
        return sorted(due, key=lambda i: int(i["refundAt"]))[:limit]

    def defer_refund(self, license_id: str, at: int) -> None:
        self.table.update(license_key(license_id), lambda i: i.update(refundAt=at),
                          condition=lambda old: old is not None and "refundQueue" in old)

    def close_refund(self, license_id: str, reason: str) -> None:
        def change(i: dict[str, Any]) -> None:
            i["refundClosed"] = reason
            i.pop("refundQueue", None)

        self.table.update(license_key(license_id), change, condition=lambda old: old is not None)

    def _items(self) -> list[dict[str, Any]]:
        with self.table.lock:
            return [copy.deepcopy(self.table[k]) for k in self.table]


@dataclass
class MemoryNotifier:
    sent: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0  # the next sends raise (a crash before the message left)

    def send(self, message: dict[str, Any]) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("notifications queue unreachable")
        self.sent.append(json_roundtrip(message))


def json_roundtrip(message: dict[str, Any]) -> dict[str, Any]:
    import json

    return json.loads(json.dumps(message))


@dataclass
class MemoryRevocations:
    revoked: dict[str, tuple[int, str]] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)

    def mark_revoked(self, license_id: str, revoked_at: int, tx_hash: str) -> bool:
        if license_id not in self.known or license_id in self.revoked:
            return False
        self.revoked[license_id] = (revoked_at, tx_hash)
        return True


@dataclass
class FakeEscrow:
    """The escrow and a chain of blocks, as far as the payments services read them."""

    escrow: str = "0x" + "e5" * 20
    chain_id: int = 31337
    fee: int = 250
    platform: str = "0x" + "f1" * 20
    head_block: int = 100
    hashes: dict[int, str] = field(default_factory=dict)
    deposits: dict[str, Deposit] = field(default_factory=dict)
    owed_by: dict[str, int] = field(default_factory=dict)
    settlements: dict[str, Settlement] = field(default_factory=dict)
    receipts: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunded: list[str] = field(default_factory=list)

    def head(self) -> int:
        return self.head_block

    def block_hash(self, number: int) -> str | None:
        if number > self.head_block:
            return None
        return self.hashes.get(number, f"0x{number:064x}")

    def block_time(self, number: int) -> int:
        return 1_700_000_000 + 12 * number

    def deposit(self, license_id: str) -> Deposit:
        return self.deposits[license_id]

    def platform_account(self) -> str:
        return self.platform

    def fee_bps(self) -> int:
        return self.fee

    def owed(self, account: str) -> int:
        return self.owed_by.get(account.lower(), 0)

    def settlement(self, license_id: str) -> Settlement:
        return self.settlements[license_id]

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        return self.receipts.get(tx_hash)

    def withdrawals(self, receipt: dict[str, Any]) -> list[dict[str, Any]]:
        return list(receipt.get("withdrawals", []))

    def refund(self, license_id: str) -> str:
        self.refunded.append(license_id)
        return "0x" + f"{len(self.refunded):064x}"


@dataclass
class MemoryGrantedUses:
    uses: dict[str, int] = field(default_factory=dict)

    def granted(self, license_ids: list[str]) -> dict[str, int]:
        return {lid: self.uses[lid] for lid in license_ids if lid in self.uses}
