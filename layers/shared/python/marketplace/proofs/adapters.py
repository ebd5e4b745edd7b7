"""The proofs context's adapters: the proofs table (DynamoDB), the reports bucket (S3), the chain
(UsageTracker, LicenseManager, PaymentEscrow, ContentRegistry through the chain gateway), and the
platform's license and usage records."""

from __future__ import annotations

import functools
import json
from typing import Any

from marketplace.adapters.aws import client, error_code
from marketplace.adapters.dynamodb import CONDITION_FAILED, from_ddb, to_ddb
from marketplace.chain.gateway import ChainGateway
from marketplace.chain.reverts import ContractRevert

TRACKER, MANAGER, ESCROW, REGISTRY = "UsageTracker", "LicenseManager", "PaymentEscrow", "ContentRegistry"
KIND_NUMBER = {"compliance": 1, "aggregate": 2}
KIND_NAME = {v: k for k, v in KIND_NUMBER.items()}
RECORD_FUNCTION = {"compliance": "recordComplianceProof", "aggregate": "recordAggregateProof"}
ZERO = "0x" + "0" * 40


def _hex(value: Any) -> str:
    return value.lower() if isinstance(value, str) else "0x" + bytes(value).hex()


def _b32(hex_id: str) -> bytes:
    return bytes.fromhex(hex_id[2:])


class DynamoProofStore:
    """The proofs table (``pk``): ``report#…``, ``cproof#…``, ``aproof#…``, ``claims#…``,
    ``verified#…`` (with ``ttl``) and ``job#…`` items, each a JSON document under ``doc`` plus the
    job's progress attributes."""

    def __init__(self, table: str) -> None:
        self.table = table

    @property
    def _ddb(self):
        return client("dynamodb")

    def get(self, key: str) -> dict[str, Any] | None:
        item = self._ddb.get_item(TableName=self.table, Key=to_ddb({"pk": key}), ConsistentRead=True).get("Item")
        if not item:
            return None
        plain = from_ddb(item)
        doc = json.loads(plain.pop("doc"))
        for k in ("state", "stage", "chunksProven", "chunksTotal", "result", "error"):
            if k in plain:
                v = plain[k]
                doc[k] = json.loads(v) if k in ("result", "error") else (int(v) if k.startswith("chunks") else v)
        return doc

    def put(self, key: str, value: dict[str, Any], ttl: int | None = None) -> None:
        item: dict[str, Any] = {"pk": key, "doc": json.dumps(value)}
        if ttl:
            item["ttl"] = ttl
        self._ddb.put_item(TableName=self.table, Item=to_ddb(item))

    def create(self, key: str, value: dict[str, Any]) -> bool:
        try:
            self._ddb.put_item(TableName=self.table, Item=to_ddb({"pk": key, "doc": json.dumps(value)}),
                               ConditionExpression="attribute_not_exists(pk)")
            return True
        except Exception as exc:
            if error_code(exc) in CONDITION_FAILED:
                return False
            raise

    def update(self, key: str, changes: dict[str, Any]) -> None:
        values = {k: json.dumps(v) if k in ("result", "error") else v for k, v in changes.items()}
        names = {f"#a{i}": k for i, k in enumerate(values)}
        expr = "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(values)))
        self._ddb.update_item(TableName=self.table, Key=to_ddb({"pk": key}), UpdateExpression=expr,
                              ExpressionAttributeNames=names,
                              ExpressionAttributeValues=to_ddb({f":v{i}": v for i, v in enumerate(values.values())}))


class S3ReportFiles:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def put(self, key: str, data: bytes, content_type: str) -> None:
        client("s3").put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def url(self, key: str, ttl: int) -> str:
        return client("s3").generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                                   ExpiresIn=ttl)


class DynamoLicenseRecords:
    """The licenses table (the platform's license item) and the usage table (served, signed uses)."""

    def __init__(self, licenses_table: str, usage_table: str) -> None:
        self.licenses_table, self.usage_table = licenses_table, usage_table

    def license(self, license_id: str) -> dict[str, Any] | None:
        item = client("dynamodb").get_item(TableName=self.licenses_table, Key=to_ddb({"licenseId": license_id}),
                                           ConsistentRead=True).get("Item")
        return from_ddb(item) if item else None

    def served(self, license_id: str, valid_from: int, valid_until: int) -> dict[str, int]:
        """Uses served (one usage event each, signed by a worker key) and how many fall outside
        the validity; the events' times are read here and never leave this count."""
        uses = outside = 0
        kwargs: dict[str, Any] = {"TableName": self.usage_table, "KeyConditionExpression": "licenseId = :l",
                                  "ExpressionAttributeValues": to_ddb({":l": license_id}),
                                  "ProjectionExpression": "ts",  # usage.models.UsageEvent.to_item
                                  "ConsistentRead": True}
        while True:
            page = client("dynamodb").query(**kwargs)
            for raw in page.get("Items", []):
                t = int(from_ddb(raw)["ts"])
                uses += 1
                outside += not (valid_from <= t <= valid_until)
            if "LastEvaluatedKey" not in page:
                return {"uses": uses, "outsideValidity": outside}
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class DynamoContentInfo:
    def __init__(self, table: str) -> None:
        self.table = table

    def get(self, content_id: str) -> dict[str, Any] | None:
        item = client("dynamodb").get_item(TableName=self.table, Key=to_ddb({"contentId": content_id})).get("Item")
        return from_ddb(item) if item else None


class ChainProofs:
    """``ports.ProofChain`` on the chain gateway (relayed, journaled sends; reverts decoded)."""

    def __init__(self, gateway: ChainGateway) -> None:
        self.gw = gateway

    def _c(self, name: str):
        return self.gw.contract(name)

    def license(self, license_id: str, block: int | None = None) -> dict[str, Any] | None:
        kwargs = {"block_identifier": block} if block is not None else {}
        lic = self._c(MANAGER).functions.getLicense(_b32(license_id)).call(**kwargs)
        # (contentId, licensee, validFrom, validUntil, revoked, credentialCommitment, chain, uses, maxUses,
        #  pricePerUse, termsIndex)
        if lic[1] == ZERO or int(lic[2]) == 0:
            return None
        return {"contentId": _hex(lic[0]), "licensee": str(lic[1]), "validFrom": int(lic[2]),
                "validUntil": int(lic[3]), "revoked": bool(lic[4]), "chain": int(lic[6]), "uses": int(lic[7]),
                "maxUses": int(lic[8]), "pricePerUse": int(lic[9])}

    @functools.cache  # noqa: B019 - one deployment per process
    def settlement_grace(self) -> int:
        return int(self._c(MANAGER).functions.settlementGrace().call())

    @functools.cache  # noqa: B019
    def domain(self) -> int:
        return int(self._c(TRACKER).functions.domain().call())

    def block_time(self) -> int:
        return self.gw.block_timestamp()

    def head(self) -> int:
        return self.gw.block_number()

    def creator_of(self, content_id: str) -> str | None:
        creator = str(self._c(REGISTRY).functions.creatorOf(_b32(content_id)).call())
        return None if creator.lower() == ZERO else creator

    def used_licenses(self, content_id: str, block: int | None = None) -> list[str]:
        kwargs = {"block_identifier": block} if block is not None else {}
        return [_hex(i) for i in self._c(TRACKER).functions.usedLicenses(_b32(content_id)).call(**kwargs)]

    def logged_batches(self, license_id: str) -> list[dict[str, Any]]:
        out = []
        for e in self.gw.find_logs(TRACKER, "UsageLogged", {"licenseId": _b32(license_id)}):
            a = e["args"]
            out.append({"startIndex": int(a["startIndex"]), "count": int(a["count"]),
                        "windowStart": int(a["windowStart"]), "windowEnd": int(a["windowEnd"]),
                        "chainNew": int(a["chainNew"]), "batchId": _hex(a["batchId"])})
        return sorted(out, key=lambda b: b["startIndex"])

    def payments(self, license_id: str) -> list[dict[str, Any]]:
        return [{"batchId": _hex(e["args"]["batchId"]), "uses": int(e["args"]["uses"]),
                 "creatorAmount": int(e["args"]["creatorAmount"]), "platformFee": int(e["args"]["platformFee"])}
                for e in self.gw.find_logs(ESCROW, "PaymentReleased", {"licenseId": _b32(license_id)})]

    def record(self, kind: str, subject: str, args: tuple, context: dict[str, Any]) -> dict[str, Any]:
        try:
            receipt = self.gw.transact(TRACKER, RECORD_FUNCTION[kind], _b32(subject), *args,
                                       purpose=f"proofs.{RECORD_FUNCTION[kind]}", context=context)
        except ContractRevert as exc:
            if exc.error != "Tracker__ProofAlreadyRecorded":
                raise
            # recorded before (a retried job, a lost cache): the proof on chain is this one
            found = self.proof_record(_hex(exc.error_args.get("proofId")))
            if found is None:
                raise
            return {"proofId": found["proofId"], "txHash": found["txHash"], "blockNumber": found["blockNumber"]}
        [event] = self.gw.events(TRACKER, "ProofRecorded", receipt)
        return {"proofId": _hex(event["proofId"]), "txHash": _hex(receipt["transactionHash"]),
                "blockNumber": int(receipt["blockNumber"])}

    def proof_record(self, proof_id: str) -> dict[str, Any] | None:
        logs = self.gw.find_logs(TRACKER, "ProofRecorded", {"proofId": _b32(proof_id)})
        if not logs:
            return None
        e = logs[0]
        tx_hash = _hex(e["transactionHash"])
        tx = self.gw.w3.eth.get_transaction(tx_hash)
        fn, args = self._c(TRACKER).decode_function_input(tx["input"])
        block = int(e["blockNumber"])
        return {"proofId": proof_id, "kind": KIND_NAME.get(int(e["args"]["kind"]), "unknown"),
                "subject": _hex(e["args"]["subject"]), "publicSignals": [int(s) for s in e["args"]["publicSignals"]],
                "txHash": tx_hash, "blockNumber": block, "function": fn.fn_name,
                "recordedAt": int(self.gw.w3.eth.get_block(block)["timestamp"]),
                "args": {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in dict(args).items()}}


class StepFunctionsJobs:
    def __init__(self, state_machine_arn: str) -> None:
        self.arn = state_machine_arn

    def __call__(self, job_id: str) -> None:
        client("stepfunctions").start_execution(stateMachineArn=self.arn, name=job_id,
                                                input=json.dumps({"jobId": job_id}))
