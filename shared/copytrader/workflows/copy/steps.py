"""The copy workflow's steps: one function per Lambda state of `definition.asl.json`, plus the reconcile sweep.

Each takes the state-machine input and returns its output. State shape: score receives `{"record": <SQS record>}` and
returns `{"signal": CopySignal, "telemetry": {...}}`; size adds `order` (SizedOrder), risk_check adds
`risk` (RiskDecision), execute adds `result` (ExecutionResult). Every value is JSON with Decimals as
strings. Bad input never raises: it becomes a SKIP with reason `invalid_trade`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from copytrader.copying.conflicts import Stance
from copytrader.copying.decision import decide, skip, stance_to_record
from copytrader.copying.exit_orders import decide_exit, size_exit
from copytrader.copying.sizing import size_copy
from copytrader.errors import UpstreamError
from copytrader.execution.protocol import execute_once
from copytrader.execution.reconcile import SETTLEMENT_FAILED, reconcile_unresolved
from copytrader.model import (
    CopySignal,
    Decision,
    ExecutionStatus,
    Market,
    RiskDecision,
    Side,
    SizedOrder,
    WhaleTrade,
)
from copytrader.model.exits import EXIT_KIND, ExitSignal
from copytrader.money import ZERO
from copytrader.reasons import Reason
from copytrader.risk.affordability import room
from copytrader.risk.changes import lot_reference
from copytrader.risk.rules import ExitRequest, ReservationRequest, screen, utc_day
from copytrader.settings import Mode
from copytrader.store.decision_reads import Prefetched
from copytrader.store.positions import holding_of
from copytrader.workflows.copy.live_start import AccountNotOpen, open_live_account, require_account
from copytrader.workflows.copy.settlement import check_halts
from copytrader.workflows.wiring import Deps

State = dict[str, Any]


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or "trade"
    return f"{where}: {error['msg']}"[:300]


def parse_trade(record: dict[str, Any]) -> WhaleTrade | ExitSignal | str:
    """The message in an SQS record's body: a WhaleTrade, or an ExitSignal (`"kind": "exit"`), or why it is
    unusable."""
    body = record.get("body") if isinstance(record, dict) else None
    if not isinstance(body, str):
        return "record has no string body"
    try:
        if is_exit_body(body):
            return ExitSignal.model_validate_json(body)
        return WhaleTrade.model_validate_json(body)
    except ValidationError as exc:
        return _first_error(exc)
    except ValueError as exc:
        return f"body is not JSON: {exc}"[:300]


def is_exit_body(body: str) -> bool:
    """Whether a message body is an exit signal (a JSON object whose `kind` is "exit")."""
    try:
        decoded = json.loads(body)
    except ValueError:
        return False
    return isinstance(decoded, dict) and decoded.get("kind") == EXIT_KIND


def _score_exit(signal: ExitSignal, deps: Deps, now: datetime) -> CopySignal:
    """An exit signal's decision (`copying.exit_orders.decide_exit`): the position now, its market, its book."""
    if signal.account != deps.settings.account:
        return skip(Reason.INVALID_TRADE, f"exit for account {signal.account}, not ours", now, exit=signal)
    if deps.account.settlements.unsettled_sells({signal.token_id}):  # the venue may have sold some of it already
        return skip(Reason.POSITION_GONE, "a SELL of this token is not settled yet", now, exit=signal)
    position = deps.positions.get(signal.token_id)
    held = (ZERO, None) if position is None else (position.shares, lot_reference(holding_of(position)))
    if position is not None and position.shares <= 0:
        held = (ZERO, None)
    return decide_exit(
        signal,
        now=now,
        held=held,
        load_market=lambda condition_id: deps.markets.get(condition_id, now),
        load_book=deps.books,
        book_levels_kept=deps.settings.book_levels_kept,
    )


def score(event: State, deps: Deps) -> State:
    """Decide whether to copy; `event` is `{"record": <SQS record as Pipes delivers it>}`."""
    now = deps.clock()
    record = event.get("record") or {}
    parsed = parse_trade(record)
    telemetry = {
        "message_id": record.get("messageId"),
        "queue_sent_ms": (record.get("attributes") or {}).get("SentTimestamp"),
        "scored_at": now.isoformat(),
    }
    if isinstance(parsed, str):
        signal = skip(Reason.INVALID_TRADE, parsed, now)
    elif isinstance(parsed, ExitSignal):
        try:
            signal = _score_exit(parsed, deps, now)
        except UpstreamError as exc:
            signal = skip(Reason.UPSTREAM_UNUSABLE, str(exc)[:300], now, exit=parsed)
    else:
        settings = deps.settings
        recorded: list[Stance] = []

        def record_first(stance: Stance) -> None:
            assert deps.stances is not None
            deps.stances.record(stance)
            recorded.append(stance)

        reads: Prefetched | None = None
        try:
            reads = deps.decision_reads.prefetch(parsed, now)  # one round trip: whale, market, account, exposures
            signal = decide(
                parsed,
                now=now,
                filters=settings.filters,
                load_whale=reads.load_whale,
                load_market=reads.load_market,
                load_book=deps.books,
                load_held_shares=reads.load_held_shares,
                book_levels_kept=settings.book_levels_kept,
                sizing=settings.sizing,
                load_stances=_stances_loader(deps, now),
                load_room=lambda market, trade: _room(deps, reads, market, trade.wallet),
                record_stance=record_first if deps.stances is not None else None,
                load_mirror=reads.load_mirror,
            )
            if signal.action is Decision.COPY:
                signal = signal.model_copy(update={"book_equity": reads.book_equity})
        except UpstreamError as exc:  # not retryable: a retry would get the same answer
            signal = skip(Reason.UPSTREAM_UNUSABLE, str(exc)[:300], now, trade=parsed)
        except AccountNotOpen as exc:  # live, before execute opened the account: no bankroll to size from
            signal = skip(Reason.ACCOUNT_NOT_OPEN, str(exc), now, trade=parsed)
        if reads is not None and reads.whale is not None:  # a copied whale's net shares, for its SELLs' fraction
            deps.decision_reads.holdings.observe(parsed, now)
        stance = stance_to_record(signal)
        if stance is not None and deps.stances is not None and stance not in recorded:
            deps.stances.record(stance)  # copied or not: other whales' trades are checked against it
    return {"signal": signal.model_dump(mode="json"), "telemetry": telemetry}


def _room(deps: Deps, reads: Prefetched, market: Market, wallet: str) -> Decimal:
    """pUSD a BUY in `market` copied from `wallet` may still reserve under every exposure cap
    (`risk.affordability.room`), from the score step's reads. A paper account risk_check has not created yet is
    counted as the account it will open as, `paper_bankroll` of cash (risk_check stays the authority either way); a
    live account execute has not opened yet raises AccountNotOpen (`live_start`): nobody has read its bankroll."""
    require_account(deps)
    return room(reads.exposures(market, wallet), deps.settings.risk)


def _stances_loader(deps: Deps, now: datetime) -> Callable[[str], list[Stance]] | None:
    stances = deps.stances
    return None if stances is None else (lambda group: stances.in_group(group, now))


def size(event: State, deps: Deps) -> State:
    """Size a COPY signal against the account's book equity (cash + open positions at cost) as the score step read it
    (`signal.book_equity`; read here only for a signal without it).

    The order's worst-case cost also fits the room under every exposure cap the score step saw (`signal.room`). Both
    are read a few milliseconds before: sizing on them is not a limit (risk_check reserves the order's worst case
    under every limit, on the items as they are then, in one transaction), so a concurrent copy in between changes a
    stake by its fees at most and never lets a limit be passed. A paper account not created yet counts as
    `paper_bankroll`; a live one is a skip, `account_not_open` (`live_start`).
    """
    signal = CopySignal.model_validate(event["signal"])
    if signal.exit is not None:  # an exit sells what the rule said; it needs no bankroll
        return size_exit(signal, order_type=deps.settings.order_type).model_dump(mode="json")
    try:
        require_account(deps)
    except AccountNotOpen as exc:
        return SizedOrder(action="SKIP", reason=Reason.ACCOUNT_NOT_OPEN, detail=str(exc)).model_dump(mode="json")
    equity = signal.book_equity
    if equity is None:
        state = deps.account.reads.state_or_fresh(deps.clock(), deps.settings.paper_bankroll)
        equity = state.cash + state.open_cost
    bankroll = max(equity, Decimal(0))
    order = size_copy(signal, bankroll=bankroll, settings=deps.settings, account=deps.settings.account)
    return order.model_dump(mode="json")


def risk_check(event: State, deps: Deps) -> State:
    """Approve or reject; a BUY is approved only once its worst-case cost is reserved under every limit.

    Paper mode opens the account with `paper_bankroll` on first use; live mode rejects every order as
    `account_not_open` until the execute function has opened it from the wallet's balance (`live_start`).

    A BUY whose worst case exceeds the per-copy cap is refused first (`copy_cap`, no state needed). One DynamoDB
    transaction (`copytrader.store.account.reserve`) checks the daily breaker, the drawdown halt, the kill switch,
    the market / group / category / whale / total caps, cash, open orders and the minute's order rate; every
    rejection names its reason. A SELL passes the breaker and the halt (exits stay possible) but not the kill
    switch, and counts against the order rate (`count_exit`, also one transaction). An order that does not parse
    is rejected as `invalid_trade`.
    """
    now = deps.clock()
    try:
        order = SizedOrder.model_validate(event["order"])
    except (KeyError, TypeError, ValidationError) as exc:
        detail = _first_error(exc) if isinstance(exc, ValidationError) else f"no order: {exc}"[:300]
        rejected = RiskDecision(approved=False, reason=Reason.INVALID_TRADE, detail=detail, day=utc_day(now))
        return rejected.model_dump(mode="json")
    if deps.settings.mode is Mode.PAPER:
        deps.account.items.open_account(deps.settings.paper_bankroll, now)
    else:  # live: only execute opens the account, from the wallet's balance (live_start)
        try:
            require_account(deps)
        except AccountNotOpen as exc:
            rejected = RiskDecision(approved=False, reason=Reason.ACCOUNT_NOT_OPEN, detail=str(exc), day=utc_day(now))
            return rejected.model_dump(mode="json")
    screened = screen(order, deps.settings.risk, now, per_copy_cap=deps.settings.sizing.max_trade_notional)
    if isinstance(screened, ReservationRequest):
        decision = deps.account.reservations.reserve(screened, now)
    elif isinstance(screened, ExitRequest):
        decision = deps.account.reservations.count_exit(screened, now)
    else:
        decision = screened
    return decision.model_dump(mode="json")


def execute(event: State, deps: Deps) -> State:
    """Place the order exactly once and settle it; a realized loss may trip the daily breaker.

    Live mode: a container's first invocation opens the account from the wallet's balance if it does not exist."""
    open_live_account(deps)
    order = SizedOrder.model_validate(event["order"])
    risk = RiskDecision.model_validate(event["risk"])
    result = execute_once(
        order,
        risk.reserved,
        ledger=deps.ledger,
        venue=deps.venue,
        clock=deps.clock,
        reconcile_after=timedelta(seconds=deps.settings.venue.reconcile_after_s),
        stop_at_entry=risk.stop_loss,
    )
    if order.side is Side.SELL and result.status in (ExecutionStatus.FILLED, ExecutionStatus.PARTIAL):
        check_halts(deps)
    return result.model_dump(mode="json")


# ------------------------------------------------------------------------------------------ the sweep
SWEEP_DEFAULT_LIMIT = 100
SWEEP_MAX_LIMIT = 1000


def sweep(event: dict[str, Any], deps: Deps) -> dict[str, Any]:
    """Settle up to `limit` unsettled ledger entries (oldest first) and give back reservations no entry owns.

    Never places an order. EventBridge Scheduler invokes the execute function (the one role that may read the venue
    secret) every few minutes with `{"sweep": {"limit": N}}`; `copytrader reconcile` runs the same function.

    1. Each UNKNOWN / PENDING entry goes through `execution.protocol.reconcile` (an ambiguous order or one still
       resting at the venue holds its reservation until then).
    2. A reservation with no ledger entry that is older than `risk.orphan_reservation_after_s` is given back
       (`Settlements.release_orphan`): execute failed before its first write (a crash, a throttle, a timeout) and
       the redelivery was skipped as stale, so nothing else ever would.
    3. If anything was settled or released, the halts are checked (`settlement.check_halts`), as after execute.

    Returns the counts the handler turns into metrics: `settled` by final status, `unresolved` (still UNKNOWN),
    `failed` (among those, entries whose reconciliation raised: each is skipped, never the sweep's next entries), the
    age of the oldest unresolved entry (an alarm watches it), `released` orphan reservations and `entries`.
    In live mode the sweep first opens the account from the wallet's balance when it does not exist yet
    (`live_start`), and says with how much (`live_account_opened_with`).
    """
    requested = event.get("sweep")
    options: dict[str, Any] = requested if isinstance(requested, dict) else {}
    try:
        limit = max(1, min(int(options.get("limit", SWEEP_DEFAULT_LIMIT)), SWEEP_MAX_LIMIT))
    except (TypeError, ValueError):
        limit = SWEEP_DEFAULT_LIMIT
    opened = open_live_account(deps)
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
    failed = [r for r in unresolved if r.detail.startswith(SETTLEMENT_FAILED)]
    settled = Counter(r.status.value for r in results if r.status not in open_statuses)
    oldest = 0.0
    for result in unresolved:
        entry = deps.ledger.entry(result.idempotency_key)
        if entry is not None:
            oldest = max(oldest, (now - entry.created_at).total_seconds())
    released = release_orphans(deps, limit)
    if settled or released:
        check_halts(deps)
    return {
        "examined": len(results),
        "settled": dict(sorted(settled.items())),
        "unresolved": len(unresolved),
        "failed": len(failed),
        "oldest_unresolved_s": round(oldest, 3),
        "released": len(released),
        "limit_reached": len(results) >= limit,
        "entries": [
            {"idempotency_key": r.idempotency_key, "status": r.status.value, "reason": r.reason, "detail": r.detail}
            for r in results
        ]
        + [
            {"idempotency_key": key, "status": "RELEASED", "reason": None, "detail": "orphan reservation"}
            for key in released
        ],
        **({"live_account_opened_with": str(opened)} if opened is not None else {}),
    }


def release_orphans(deps: Deps, limit: int) -> list[str]:
    """Give back the reservations no ledger entry owns once older than `risk.orphan_reservation_after_s`."""
    now = deps.clock()
    settlements = deps.account.settlements
    made_before = now - timedelta(seconds=deps.settings.risk.orphan_reservation_after_s)
    released = (settlements.release_orphan(r, now) for r in settlements.unsettled_reservations(made_before, limit))
    return [key for key in released if key is not None]
