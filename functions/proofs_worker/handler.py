"""The proof-jobs state machine's tasks (``statemachines/proof-jobs.asl.json``): ``{"step": "run" |
"failed", "input": {"jobId", ...}}``. ``run`` proves (progress in the job item), records the proof on
chain and, for compliance, writes the report (``marketplace.proofs.services.Proofs.run_job``)."""

from __future__ import annotations

import functools

from marketplace import config
from marketplace.kit.tasks import Step, TaskFunction
from marketplace.proofs.schemas import JobDone, JobFailedIn, JobIn
from marketplace.proofs.services import Proofs

SERVICE = "proofs-worker"


@functools.cache
def proofs() -> Proofs:
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

    cfg = config.load(config.ProofsWorkerConfig)
    return Proofs(engine=engine(), chain=ChainProofs(get_chain(cfg)), store=DynamoProofStore(cfg.proofs_table),
                  files=S3ReportFiles(cfg.reports_bucket),
                  licenses=DynamoLicenseRecords(cfg.licenses_table, cfg.usage_table),
                  batches=DynamoBatchRecords(cfg.batches_table), content=DynamoContentInfo(cfg.content_table),
                  public_base_url=cfg.public_base_url, report_url_ttl=cfg.report_url_ttl_seconds)


def _run(req: JobIn) -> JobDone:
    proofs().run_job(req.jobId)
    return JobDone(jobId=req.jobId, state="SUCCEEDED")


def _failed(req: JobFailedIn) -> JobDone:
    cause = str(req.error.get("Error", "Unknown"))
    proofs().job_failed(req.jobId, cause)
    return JobDone(jobId=req.jobId, state="FAILED")


handler = TaskFunction(SERVICE, {
    "run": Step(JobIn, JobDone, _run),
    "failed": Step(JobFailedIn, JobDone, _failed),
}, config_model=config.ProofsWorkerConfig).handler
