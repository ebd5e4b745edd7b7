"""S3 buckets, one per ``resources.BUCKETS`` entry, plus the server access log bucket.

Every bucket: all public access blocked, ACLs disabled, SSE-S3, TLS-only (1.2+), versioned (old
versions expire after ``NONCURRENT_DAYS``, so a deleted object is gone for good then), access
logged, RETAIN. A spec's ``expire_days`` becomes a lifecycle expiry; ``cors_post`` allows the
browser's POST of a presigned upload.

Names carry the account and region: S3 names are global, so ``{prefix}-{name}`` alone would
collide between accounts. The functions get the real name in their environment.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct
from marketplace.resources import BUCKETS, BucketSpec, physical_name

from infra.config import StageConfig
from infra.naming import pascal

NONCURRENT_DAYS = 30  # how long an overwritten or deleted object version stays recoverable
ACCESS_LOG_DAYS = 365


def bucket_name(prefix: str, name: str) -> str:
    return f"{physical_name(prefix, name)}-{Aws.ACCOUNT_ID}-{Aws.REGION}"


_PRIVATE: dict[str, Any] = {  # Bucket keyword arguments every bucket shares
    "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
    "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    "encryption": s3.BucketEncryption.S3_MANAGED,
    "enforce_ssl": True,
    "minimum_tls_version": 1.2,
    "versioned": True,
    "removal_policy": RemovalPolicy.RETAIN,
}


class Buckets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        # The access log destination: SSE-S3 (the log delivery cannot write SSE-KMS), not itself
        # logged (that would loop).
        self.access_logs = s3.Bucket(
            self, "AccessLogs", bucket_name=bucket_name(config.prefix, "access-logs"), **_PRIVATE,
            lifecycle_rules=[s3.LifecycleRule(
                expiration=Duration.days(ACCESS_LOG_DAYS),
                noncurrent_version_expiration=Duration.days(NONCURRENT_DAYS))],
        )
        self.by_name: dict[str, s3.Bucket] = {spec.name: self._bucket(spec, config) for spec in BUCKETS}

    def _bucket(self, spec: BucketSpec, config: StageConfig) -> s3.Bucket:
        noncurrent = min(NONCURRENT_DAYS, spec.expire_days or NONCURRENT_DAYS)
        rule = s3.LifecycleRule(
            expiration=Duration.days(spec.expire_days) if spec.expire_days else None,
            noncurrent_version_expiration=Duration.days(noncurrent),
            abort_incomplete_multipart_upload_after=Duration.days(1),
        )
        cors = [s3.CorsRule(
            allowed_methods=[s3.HttpMethods.POST], allowed_origins=list(config.upload_cors_origins),
            allowed_headers=["*"], exposed_headers=["ETag", "Location"], max_age=3000,
        )] if spec.cors_post else None
        return s3.Bucket(
            self, pascal(spec.name), bucket_name=bucket_name(config.prefix, spec.name), **_PRIVATE,
            server_access_logs_bucket=self.access_logs, server_access_logs_prefix=f"{spec.name}/",
            lifecycle_rules=[rule], cors=cors,
        )
