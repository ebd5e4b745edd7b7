"""Starts the usage-batches state machine on a schedule (EventBridge; locally every few seconds,
``local/workers.py``): one execution per run proves a batch for every license with pending uses
(the access path also starts one for a license with a full batch pending)."""

from __future__ import annotations

import json
from datetime import datetime

from marketplace import config
from marketplace.kit.schedule import ScheduledFunction


def run(now: datetime) -> dict:
    from marketplace.adapters.aws import client, error_code

    cfg = config.load(config.UsageBatchSchedulerConfig)
    name = "scheduled-" + now.strftime("%Y%m%dT%H%M%S")
    try:
        out = client("stepfunctions").start_execution(stateMachineArn=cfg.usage_batches_arn, name=name,
                                                      input=json.dumps({}))
    except Exception as exc:
        if error_code(exc) == "ExecutionAlreadyExists":  # EventBridge delivered this run twice
            return {"started": None, "name": name}
        raise
    return {"started": out["executionArn"], "name": name}


handler = ScheduledFunction("usage-batch-scheduler", run, config_model=config.UsageBatchSchedulerConfig).handler
