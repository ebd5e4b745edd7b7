"""The proofs service on its AWS adapters, as the API and the proof-jobs worker both build it."""

from __future__ import annotations

from typing import Any

from marketplace import config
from marketplace.proofs.services import Proofs


def build(cfg: config.ProofsWorkerConfig, **extra: Any) -> Proofs:
    """``Proofs`` over DynamoDB, S3, the chain and the prover; ``extra`` adds what only one caller has
    (the API: the job starter, the synchronous chunk budget, the relay quota)."""
    from marketplace.adapters.chain import get_chain
    from marketplace.proofs.adapters import (
        ChainProofs,
        DynamoContentInfo,
        DynamoLicenseRecords,
        DynamoProofStore,
        S3ReportFiles,
    )
    from marketplace.proofs.engine import engine
    from marketplace.usage.adapters import DynamoBatchRecords

    return Proofs(engine=engine(), chain=ChainProofs(get_chain(cfg)), store=DynamoProofStore(cfg.proofs_table),
                  files=S3ReportFiles(cfg.reports_bucket),
                  licenses=DynamoLicenseRecords(cfg.licenses_table, cfg.usage_table),
                  batches=DynamoBatchRecords(cfg.batches_table), content=DynamoContentInfo(cfg.content_table),
                  public_base_url=cfg.public_base_url, report_url_ttl=cfg.report_url_ttl_seconds, **extra)
