"""The chain monitor, run on a schedule (``resources.FUNCTIONS``: ``chain-monitor``): brings the
relayer's transaction journal up to date and un-sticks transactions (``marketplace.chain.monitor``:
mined → confirmed, dropped → rebroadcast, stuck → re-priced or cancelled)."""

from __future__ import annotations

from datetime import datetime

from marketplace import config
from marketplace.adapters.chain import get_chain
from marketplace.kit.schedule import ScheduledFunction


def run(now: datetime) -> dict:
    cfg = config.load(config.ChainMonitorConfig)
    gateway = get_chain(cfg, confirmations=cfg.confirmations)
    report = gateway.monitor(stuck_seconds=cfg.stuck_seconds).run()
    return {"checked": report.checked, "actions": report.actions}


handler = ScheduledFunction("chain-monitor", run, config_model=config.ChainMonitorConfig).handler
