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
    from marketplace.proofs.wiring import build

    return build(config.load(config.ProofsWorkerConfig))


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
