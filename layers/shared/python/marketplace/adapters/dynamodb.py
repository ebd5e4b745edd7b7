"""DynamoDB: a small typed table wrapper and the stores of auth and Flow 1.

Items go in and come out as plain dicts (ints, strings, lists, maps, bools; DynamoDB's Decimals
are turned back into ints). A failed condition becomes ``False`` or ``None`` for the caller to
decide, never a botocore exception above this module.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from marketplace.adapters.aws import client, error_code

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import PutTypeDef, TransactWriteItemTypeDef, UpdateTypeDef

CONDITION_FAILED = ("ConditionalCheckFailedException", "TransactionCanceledException")


@functools.cache
def _serde():
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, set, tuple)):
        return [_plain(v) for v in value]
    return value


def to_ddb(item: dict[str, Any]) -> dict[str, Any]:
    ser = _serde()[0]
    return {k: ser.serialize(v) for k, v in item.items() if v is not None}


def from_ddb(item: dict[str, Any]) -> dict[str, Any]:
    de = _serde()[1]
    return {k: _plain(de.deserialize(v)) for k, v in item.items()}


class WindowCounter:
    """Counters of fixed windows in a table keyed by ``pk`` (the ratelimits table): one
    conditional ``ADD`` per hit, so concurrent hits never count past the limit."""

    def __init__(self, table: str) -> None:
        self.table = table

    def hit(self, bucket: str, limit: int, expires_at: int) -> int | None:
        """Count one hit in ``bucket`` if fewer than ``limit`` are counted: the new count, or None."""
        try:
            out = client("dynamodb").update_item(
                TableName=self.table, Key={"pk": {"S": bucket}},
                UpdateExpression="ADD #n :one SET #ttl = if_not_exists(#ttl, :exp)",
                ConditionExpression="attribute_not_exists(#n) OR #n < :limit",
                ExpressionAttributeNames={"#n": "n", "#ttl": "ttl"},
                ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": str(limit)},
                                           ":exp": {"N": str(expires_at)}},
                ReturnValues="UPDATED_NEW",
            )
        except Exception as exc:
            if error_code(exc) in CONDITION_FAILED:
                return None
            raise
        return int(out["Attributes"]["n"]["N"])


class Table:
    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def _ddb(self):
        return client("dynamodb")

    def get(self, key: dict[str, Any], consistent: bool = True) -> dict[str, Any] | None:
        item = self._ddb.get_item(TableName=self.name, Key=to_ddb(key), ConsistentRead=consistent).get("Item")
        return from_ddb(item) if item else None

    def put(self, item: dict[str, Any], condition: str | None = None,
            values: dict[str, Any] | None = None, names: dict[str, str] | None = None) -> bool:
        """Put ``item``; False if ``condition`` failed."""
        return self._conditional(self._ddb.put_item, Item=to_ddb(item), **_cond(condition, values, names))

    def update(self, key: dict[str, Any], set_: dict[str, Any], *, remove: tuple[str, ...] = (),
               condition: str | None = None, values: dict[str, Any] | None = None,
               names: dict[str, str] | None = None) -> bool:
        """SET the given attributes (None values are REMOVEd) and REMOVE ``remove``; False if the
        condition failed."""
        expr, names_, values_ = _update_expression(set_, remove)
        kwargs = _cond(condition, {**values_, **(values or {})}, {**names_, **(names or {})})
        return self._conditional(self._ddb.update_item, Key=to_ddb(key), UpdateExpression=expr, **kwargs)

    def delete(self, key: dict[str, Any], condition: str | None = None,
               values: dict[str, Any] | None = None, names: dict[str, str] | None = None,
               ) -> dict[str, Any] | None | bool:
        """Delete; the old item (None if there was none), or False if the condition failed."""
        try:
            out = self._ddb.delete_item(TableName=self.name, Key=to_ddb(key), ReturnValues="ALL_OLD",
                                        **_cond(condition, values, names))
        except Exception as exc:
            if error_code(exc) in CONDITION_FAILED:
                return False
            raise
        return from_ddb(out["Attributes"]) if out.get("Attributes") else None

    def query(self, index: str, key: str, value: Any, limit: int = 25) -> list[dict[str, Any]]:
        out = self._ddb.query(TableName=self.name, IndexName=index, KeyConditionExpression="#k = :v",
                              ExpressionAttributeNames={"#k": key}, ExpressionAttributeValues=to_ddb({":v": value}),
                              Limit=limit)
        return [from_ddb(i) for i in out.get("Items", [])]

    def _conditional(self, call, **kwargs) -> bool:
        try:
            call(TableName=self.name, **kwargs)
        except Exception as exc:
            if error_code(exc) in CONDITION_FAILED:
                return False
            raise
        return True

    # -- one operation of a transaction (``transact``) -------------------------------------------

    def tx_put(self, item: dict[str, Any], condition: str | None = None,
               values: dict[str, Any] | None = None, names: dict[str, str] | None = None,
               ) -> TransactWriteItemTypeDef:
        put: PutTypeDef = {"TableName": self.name, "Item": to_ddb(item)}
        _add_condition(put, condition, values, names)
        return {"Put": put}

    def tx_update(self, key: dict[str, Any], set_: dict[str, Any], *, remove: tuple[str, ...] = (),
                  condition: str | None = None, values: dict[str, Any] | None = None,
                  names: dict[str, str] | None = None) -> TransactWriteItemTypeDef:
        expr, names_, values_ = _update_expression(set_, remove)
        update: UpdateTypeDef = {"TableName": self.name, "Key": to_ddb(key), "UpdateExpression": expr}
        _add_condition(update, condition, {**values_, **(values or {})}, {**names_, **(names or {})})
        return {"Update": update}


def _add_condition(operation: PutTypeDef | UpdateTypeDef, condition: str | None, values: dict[str, Any] | None,
                   names: dict[str, str] | None) -> None:
    """``_cond``'s keys set on one operation of a transaction."""
    if condition:
        operation["ConditionExpression"] = condition
    if values:
        operation["ExpressionAttributeValues"] = to_ddb(values)
    if names:
        operation["ExpressionAttributeNames"] = names


def transact(*operations: TransactWriteItemTypeDef) -> bool:
    """All operations or none; False if a condition failed. A transaction DynamoDB cancelled for a
    conflict or throttling only is sent again (``adapters.transactions``), and raises
    ``TransactionContended`` if it still is: it is not a failed condition."""
    from marketplace.adapters.transactions import condition_failed, transact_write

    try:
        transact_write(operations)
    except Exception as exc:
        if condition_failed(exc):
            return False
        raise
    return True


def _cond(condition: str | None, values: dict[str, Any] | None, names: dict[str, str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if condition:
        out["ConditionExpression"] = condition
    if values:
        out["ExpressionAttributeValues"] = to_ddb(values)
    if names:
        out["ExpressionAttributeNames"] = names
    return out


def _update_expression(set_: dict[str, Any], remove: tuple[str, ...]) -> tuple[str, dict[str, str], dict[str, Any]]:
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    sets, removes = [], []
    for i, (attr, value) in enumerate(set_.items()):
        names[f"#s{i}"] = attr
        if value is None:
            removes.append(f"#s{i}")
        else:
            values[f":s{i}"] = value
            sets.append(f"#s{i} = :s{i}")
    for i, attr in enumerate(remove):
        names[f"#r{i}"] = attr
        removes.append(f"#r{i}")
    expr = ("SET " + ", ".join(sets) if sets else "") + (" REMOVE " + ", ".join(removes) if removes else "")
    return expr.strip(), names, values
