"""Lambda: the scoring workflow's evidence step. One Distributed Map child: a batch of wallets' histories
(through the S3 cache) and markets -> stage-1 evidence in S3 (copytrader.workflows.scoring.steps.evidence).

Its metrics keep the `whales_evidence_` prefix the dashboard and alarms read.
"""

from typing import Any

from copytrader.runtime.observability import observability, run_counted
from copytrader.workflows import wiring
from copytrader.workflows.scoring import steps

logger, metrics = observability()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_counted("whales_evidence", steps.evidence, event, wiring.current(), metrics, logger)
