"""Lambda: the books workflow's venue-sync step (copytrader.workflows.books.steps.venue_sync).

Its metrics have the `books_venue_sync_` prefix the dashboard and alarms read.
"""

from typing import Any

from copytrader.runtime.observability import observability, run_counted
from copytrader.workflows import wiring
from copytrader.workflows.books import steps

logger, metrics = observability()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_counted("books_venue_sync", steps.venue_sync, event, wiring.current(), metrics, logger)
