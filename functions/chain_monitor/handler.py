"""The chain monitor, run on a schedule (``resources.FUNCTIONS``: ``chain-monitor``): brings the
relayer's transaction journal up to date and un-sticks transactions (``marketplace.chain.monitor``:
mined → confirmed, dropped → rebroadcast, stuck → re-priced or cancelled), then publishes the
relayer's ETH balance (metric ``RelayerBalanceEth``: the stack alarms below
``RELAYER_MIN_BALANCE_ETH``; locally the metric is the EMF line on stdout) and logs an error when
it is below that threshold."""

from __future__ import annotations

from datetime import datetime

from marketplace import config
from marketplace.adapters.chain import get_chain
from marketplace.kit import observability
from marketplace.kit.schedule import ScheduledFunction

WEI_PER_ETH = 10**18


def run(now: datetime) -> dict:
    cfg = config.load(config.ChainMonitorConfig)
    gateway = get_chain(cfg, confirmations=cfg.confirmations)
    report = gateway.monitor(stuck_seconds=cfg.stuck_seconds).run()
    balance = gateway.w3.eth.get_balance(gateway.relayer) / WEI_PER_ETH
    observability.business(observability.Metric.RELAYER_BALANCE_ETH, balance)
    if balance < cfg.min_balance_eth:
        logger = observability.current_logger()
        if logger is not None:
            logger.error("relayer balance below the threshold: fund the relayer",
                         extra={"relayer": gateway.relayer, "balanceEth": balance, "minBalanceEth": cfg.min_balance_eth})
    return {"checked": report.checked, "actions": report.actions, "relayerBalanceEth": balance}


handler = ScheduledFunction("chain-monitor", run, config_model=config.ChainMonitorConfig).handler
