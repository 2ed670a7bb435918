"""The scheduled reconcile sweep: settle UNKNOWN and PENDING orders without waiting for a redelivery.

An UNKNOWN outcome is a success for the state machine (the message is deleted, nothing is retried), so
without this sweep an ambiguous order would hold its reservation until an operator ran
`copytrader reconcile`. EventBridge Scheduler invokes the execute function (the one role that may read the
venue secret) every few minutes with `{"sweep": {"limit": N}}`; the handler runs `sweep` instead of a
pipeline step. Each entry goes through `execution.protocol.reconcile`, which never sends an order.

Returns the counts the handler turns into metrics: `settled` by final status, `unresolved` (still UNKNOWN
after this sweep: a resting GTC/GTD order, or an ambiguous one inside its grace period), and the age of the
oldest unresolved entry (an alarm watches it).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from copytrader.execution.reconcile import reconcile_unresolved
from copytrader.model import ExecutionStatus
from copytrader.pipeline.deps import Deps

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def sweep(event: dict[str, Any], deps: Deps) -> dict[str, Any]:
    """Reconcile up to `limit` unsettled entries (oldest first); never places an order."""
    requested = event.get("sweep")
    options: dict[str, Any] = requested if isinstance(requested, dict) else {}
    try:
        limit = max(1, min(int(options.get("limit", DEFAULT_LIMIT)), MAX_LIMIT))
    except (TypeError, ValueError):
        limit = DEFAULT_LIMIT
    now = deps.clock()
    results = reconcile_unresolved(
        deps.ledger,
        deps.venue,
        deps.clock,
        reconcile_after=timedelta(seconds=deps.settings.venue.reconcile_after_s),
        limit=limit,
    )
    open_statuses = (ExecutionStatus.UNKNOWN, ExecutionStatus.PENDING)
    unresolved = [r for r in results if r.status in open_statuses]
    settled = Counter(r.status.value for r in results if r.status not in open_statuses)
    oldest = 0.0
    for result in unresolved:
        entry = deps.ledger.entry(result.idempotency_key)
        if entry is not None:
            oldest = max(oldest, (now - entry.created_at).total_seconds())
    return {
        "examined": len(results),
        "settled": dict(sorted(settled.items())),
        "unresolved": len(unresolved),
        "oldest_unresolved_s": round(oldest, 3),
        "limit_reached": len(results) >= limit,
    }
