"""Where each copy ends in the state machine: the one mapping from reason code (or execution status) to a named
branch of `workflows/copy/definition.asl.json`.

A copy stops at the first step that says no (score: SKIP, size: SKIP, risk_check: not approved). The ASL then
records `$.stopped = {step, reason, detail}` (a Pass state per step) and one Choice, `WhyStopped`, routes on
`$.stopped.reason` to a Succeed state named after the kind of stop. A skip is a success: the execution
succeeds and SQS deletes the message. A reason missing here still ends in a success, `StoppedOtherReason`,
and the step's handler counts it (`<step>_unrouted_reason`) next to its `<step>_reason_<code>` metric.

An order that reached the venue ends in the branch of its execution status (`ExecutionOutcome` on
`$.result.status`); the execute reasons travel inside `$.result` and are listed in `EXECUTION_REASONS`.

`tests/unit/workflows/copy/test_definition.py` checks that the ASL routes every reason here exactly once and that every
`Reason` is either here or in `EXECUTION_REASONS`; `why_stopped_choices()` prints the rules to paste.

This module imports only the reason enum: handlers on the hot path import it.
"""

from __future__ import annotations

from typing import Any

from copytrader.reasons import Reason

# branch names (Succeed states) for copies that stop before the venue
SKIPPED_BAD_INPUT = "SkippedBadInput"  # the message or the venue's data cannot be used
SKIPPED_NOT_TRACKED = "SkippedNotTracked"  # wallet not tracked, not active, or scored too low
SKIPPED_STALE = "SkippedStale"  # the whale's fill is too old to copy
SKIPPED_MARKET_STATE = "SkippedMarketState"  # unknown, closed, not accepting orders, near resolution
SKIPPED_PRICE_OR_BOOK = "SkippedPriceOrBook"  # price band, book, spread, depth, drift
SKIPPED_POSITION = "SkippedPosition"  # mirror exit without a position of ours, or exposure we already hold
SKIPPED_CONFLICT = "SkippedConflict"  # tracked whales on opposite sides of one market or neg-risk event
SKIPPED_TOO_SMALL = "SkippedTooSmall"  # whale order too small, or our size below the market minimum
SKIPPED_NO_EDGE = "SkippedNoEdge"  # Kelly says no stake at the executable price after fees
REJECTED_BY_LIMIT = "RejectedByLimit"  # an exposure cap, cash, open orders or order rate
REJECTED_BREAKER = "RejectedBreaker"  # daily-loss breaker or drawdown halt
REJECTED_KILL_SWITCH = "RejectedKillSwitch"  # the operator's kill switch
SKIPPED_ACCOUNT_NOT_OPEN = "SkippedAccountNotOpen"  # live: the execute function has not opened the account yet
STOPPED_OTHER_REASON = "StoppedOtherReason"  # the default: a reason this mapping does not know yet

STOP_BRANCHES: dict[Reason, str] = {
    Reason.INVALID_TRADE: SKIPPED_BAD_INPUT,
    Reason.UPSTREAM_UNUSABLE: SKIPPED_BAD_INPUT,
    Reason.UNTRACKED_WALLET: SKIPPED_NOT_TRACKED,
    Reason.WHALE_NOT_ACTIVE: SKIPPED_NOT_TRACKED,
    Reason.WHALE_SCORE_TOO_LOW: SKIPPED_NOT_TRACKED,
    Reason.STALE_TRADE: SKIPPED_STALE,
    Reason.UNKNOWN_MARKET: SKIPPED_MARKET_STATE,
    Reason.MARKET_CLOSED: SKIPPED_MARKET_STATE,
    Reason.NOT_ACCEPTING_ORDERS: SKIPPED_MARKET_STATE,
    Reason.NEAR_RESOLUTION: SKIPPED_MARKET_STATE,
    Reason.PRICE_OUT_OF_BAND: SKIPPED_PRICE_OR_BOOK,
    Reason.NO_BOOK: SKIPPED_PRICE_OR_BOOK,
    Reason.SPREAD_TOO_WIDE: SKIPPED_PRICE_OR_BOOK,
    Reason.THIN_BOOK: SKIPPED_PRICE_OR_BOOK,
    Reason.PRICE_DRIFT: SKIPPED_PRICE_OR_BOOK,
    Reason.SELL_WITHOUT_POSITION: SKIPPED_POSITION,
    Reason.EXPOSURE_AT_CAP: SKIPPED_POSITION,
    Reason.CONFLICTING_WHALES: SKIPPED_CONFLICT,
    Reason.CONFLICT_LOWER_SCORE: SKIPPED_CONFLICT,
    Reason.WHALE_TOO_SMALL: SKIPPED_TOO_SMALL,
    Reason.BELOW_MIN_SIZE: SKIPPED_TOO_SMALL,
    Reason.MIN_SIZE_UNREACHABLE: SKIPPED_TOO_SMALL,
    Reason.NO_EDGE: SKIPPED_NO_EDGE,
    Reason.COPY_CAP: REJECTED_BY_LIMIT,
    Reason.MARKET_CAP: REJECTED_BY_LIMIT,
    Reason.TOTAL_CAP: REJECTED_BY_LIMIT,
    Reason.GROUP_CAP: REJECTED_BY_LIMIT,
    Reason.CATEGORY_CAP: REJECTED_BY_LIMIT,
    Reason.WHALE_CAP: REJECTED_BY_LIMIT,
    Reason.INSUFFICIENT_CASH: REJECTED_BY_LIMIT,
    Reason.OPEN_ORDERS_LIMIT: REJECTED_BY_LIMIT,
    Reason.ORDER_RATE_LIMIT: REJECTED_BY_LIMIT,
    Reason.BREAKER_OPEN: REJECTED_BREAKER,
    Reason.DRAWDOWN_HALT: REJECTED_BREAKER,
    Reason.KILL_SWITCH: REJECTED_KILL_SWITCH,
    Reason.ACCOUNT_NOT_OPEN: SKIPPED_ACCOUNT_NOT_OPEN,
    Reason.NO_WHALE_PART: SKIPPED_POSITION,
    Reason.POSITION_GONE: SKIPPED_POSITION,
}

# execution status (ExecutionStatus values) -> branch; PENDING never leaves execute (it becomes UNKNOWN)
OUTCOME_BRANCHES: dict[str, str] = {
    "FILLED": "Filled",
    "PARTIAL": "PartlyFilled",
    "UNFILLED": "NotFilled",
    "REJECTED": "VenueRejected",
    "UNKNOWN": "Unknown",
}
OUTCOME_DEFAULT = "Unknown"  # a status the ASL does not name is treated as the one that must be reconciled

# reasons that only appear inside $.result (the execution's outcome), routed by status rather than by reason
EXECUTION_REASONS: frozenset[Reason] = frozenset(
    {
        Reason.DUPLICATE,
        Reason.NOT_FILLED,
        Reason.VENUE_REJECTED,
        Reason.VENUE_AMBIGUOUS,
        Reason.NEVER_PLACED,
        Reason.RESERVATION_RELEASED,
    }
)

STOP_BRANCH_NAMES: tuple[str, ...] = (*dict.fromkeys(STOP_BRANCHES.values()), STOPPED_OTHER_REASON)


def branch_of(reason: str | None) -> str:
    """The named branch a stop with `reason` ends in (`StoppedOtherReason` when the mapping lacks it)."""
    try:
        return STOP_BRANCHES.get(Reason(reason), STOPPED_OTHER_REASON) if reason else STOPPED_OTHER_REASON
    except ValueError:
        return STOPPED_OTHER_REASON


def is_routed(reason: str | None) -> bool:
    """Whether a stop with `reason` reaches a named branch (else the default; the handler counts it)."""
    return branch_of(reason) != STOPPED_OTHER_REASON


def unrouted_reasons() -> list[str]:
    """Reason codes that are neither routed to a stop branch nor carried by an execution outcome."""
    return sorted(r.value for r in Reason if r not in STOP_BRANCHES and r not in EXECUTION_REASONS)


def why_stopped_choices() -> list[dict[str, Any]]:
    """The `WhyStopped` Choice rules the ASL must hold: a stop without a reason string goes to the default
    first (no comparison ever sees a null), then one rule per reason, in the mapping's order."""
    guard = {"Not": {"Variable": "$.stopped.reason", "IsString": True}, "Next": STOPPED_OTHER_REASON}
    return [guard] + [
        {"Variable": "$.stopped.reason", "StringEquals": reason.value, "Next": branch}
        for reason, branch in STOP_BRANCHES.items()
    ]


def outcome_choices() -> list[dict[str, Any]]:
    """The `ExecutionOutcome` Choice rules the ASL must hold (one per execution status)."""
    return [
        {"Variable": "$.result.status", "StringEquals": status, "Next": branch}
        for status, branch in OUTCOME_BRANCHES.items()
    ]
