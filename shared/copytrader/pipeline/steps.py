"""One function per copy-pipeline Lambda. Each takes the state-machine input and returns its output.

State shape (see statemachines/copy_pipeline.asl.json): score receives `{"record": <SQS record>}` and
returns `{"signal": CopySignal, "telemetry": {...}}`; size adds `order` (SizedOrder), risk_check adds
`risk` (RiskDecision), execute adds `result` (ExecutionResult). Every value is JSON with Decimals as
strings. Bad input never raises: it becomes a SKIP with reason `invalid_trade`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from copytrader.conflicts import Stance
from copytrader.decision import decide, skip, stance_to_record
from copytrader.errors import UpstreamError
from copytrader.execution.protocol import execute_once
from copytrader.model import (
    CopySignal,
    ExecutionStatus,
    Market,
    RiskDecision,
    Side,
    SizedOrder,
    WhaleTrade,
    risk_group_of,
)
from copytrader.pipeline.deps import Deps
from copytrader.reasons import Reason
from copytrader.risk import ReservationRequest, breaker_floor, drawdown_floor, room, screen, utc_day
from copytrader.settings import Mode
from copytrader.sizing import size_copy

State = dict[str, Any]


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or "trade"
    return f"{where}: {error['msg']}"[:300]


def parse_trade(record: dict[str, Any]) -> WhaleTrade | str:
    """The WhaleTrade in an SQS record's body, or why it is unusable."""
    body = record.get("body") if isinstance(record, dict) else None
    if not isinstance(body, str):
        return "record has no string body"
    try:
        return WhaleTrade.model_validate_json(body)
    except ValidationError as exc:
        return _first_error(exc)
    except ValueError as exc:
        return f"body is not JSON: {exc}"[:300]


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
    else:
        settings = deps.settings
        recorded: list[Stance] = []

        def record_first(stance: Stance) -> None:
            assert deps.stances is not None
            deps.stances.record(stance)
            recorded.append(stance)

        try:
            signal = decide(
                parsed,
                now=now,
                filters=settings.filters,
                load_whale=deps.whales.get,
                load_market=lambda cid: deps.markets.get(cid, now),
                load_book=deps.books,
                load_held_shares=deps.positions.held_shares,
                book_levels_kept=settings.book_levels_kept,
                sizing=settings.sizing,
                load_stances=_stances_loader(deps, now),
                load_room=lambda market, trade: _room(deps, market, trade.wallet),
                record_stance=record_first if deps.stances is not None else None,
            )
        except UpstreamError as exc:  # not retryable: a retry would get the same answer
            signal = skip(Reason.UPSTREAM_UNUSABLE, str(exc)[:300], now, trade=parsed)
        stance = stance_to_record(signal)
        if stance is not None and deps.stances is not None and stance not in recorded:
            deps.stances.record(stance)  # copied or not: other whales' trades are checked against it
    return {"signal": signal.model_dump(mode="json"), "telemetry": telemetry}


def _stances_loader(deps: Deps, now: datetime) -> Callable[[str], list[Stance]] | None:
    stances = deps.stances
    return None if stances is None else (lambda group: stances.in_group(group, now))


def _room(deps: Deps, market: Market, wallet: str) -> Decimal:
    """pUSD a BUY in `market` copied from `wallet` may still reserve under every exposure cap (`risk.room`).

    A paper account risk_check has not created yet reads as all zeros; it will start with `paper_bankroll` of
    cash, so its room is counted from that (risk_check stays the authority either way).
    """
    exposures = deps.portfolio.exposures(market.condition_id, risk_group_of(market), market.category, wallet)
    if exposures.committed == 0 and exposures.available == 0 and deps.settings.mode is Mode.PAPER:
        exposures = replace(exposures, available=deps.settings.paper_bankroll)
    return room(exposures, deps.settings.risk)


def size(event: State, deps: Deps) -> State:
    """Size a COPY signal against the account's current book equity (cash + open positions at cost).

    The order's worst-case cost also fits the room under every exposure cap the score step saw (`signal.room`).
    """
    signal = CopySignal.model_validate(event["signal"])
    try:
        state = deps.portfolio.state(deps.clock())
        bankroll = max(state.cash + state.open_cost, Decimal(0))
    except LookupError:  # no copy yet: the paper account starts with the configured bankroll (risk_check creates it)
        bankroll = deps.settings.paper_bankroll
    order = size_copy(signal, bankroll=bankroll, settings=deps.settings, account=deps.settings.account)
    return order.model_dump(mode="json")


def risk_check(event: State, deps: Deps) -> State:
    """Approve or reject; a BUY is approved only once its worst-case cost is reserved under every limit.

    One DynamoDB transaction (`PortfolioStore.reserve`) checks the daily breaker, the drawdown halt, the kill
    switch, the market / group / category / whale / total caps, cash, open orders and the minute's order
    rate; every rejection names its reason. An order that does not parse is rejected as `invalid_trade`.
    """
    now = deps.clock()
    try:
        order = SizedOrder.model_validate(event["order"])
    except (KeyError, TypeError, ValidationError) as exc:
        detail = _first_error(exc) if isinstance(exc, ValidationError) else f"no order: {exc}"[:300]
        rejected = RiskDecision(approved=False, reason=Reason.INVALID_TRADE, detail=detail, day=utc_day(now))
        return rejected.model_dump(mode="json")
    deps.portfolio.ensure_account(deps.settings.paper_bankroll, now)
    screened = screen(order, deps.settings.risk, now)
    if isinstance(screened, ReservationRequest):
        decision = deps.portfolio.reserve(screened, now)
    elif screened.approved and order.side is Side.SELL:
        decision = _exit_allowed(screened, deps, now)
    else:
        decision = screened
    return decision.model_dump(mode="json")


def _exit_allowed(decision: RiskDecision, deps: Deps, now: Any) -> RiskDecision:
    state = deps.portfolio.state(now)
    if state.kill_switch:
        return RiskDecision(approved=False, reason=Reason.KILL_SWITCH, detail="account kill switch", day=decision.day)
    return decision


def execute(event: State, deps: Deps) -> State:
    """Place the order exactly once and settle it; a realized loss may trip the daily breaker."""
    order = SizedOrder.model_validate(event["order"])
    risk = RiskDecision.model_validate(event["risk"])
    result = execute_once(
        order,
        risk.reserved,
        ledger=deps.ledger,
        venue=deps.venue,
        clock=deps.clock,
        reconcile_after=timedelta(seconds=deps.settings.venue.reconcile_after_s),
    )
    if order.side is Side.SELL and result.status in (ExecutionStatus.FILLED, ExecutionStatus.PARTIAL):
        check_breaker(deps)
    return result.model_dump(mode="json")


def check_breaker(deps: Deps) -> bool:
    """After a settlement (sell fill, redemption): trip today's breaker if realized losses reached the limit,
    alert once, from the call that tripped it; then the drawdown check (`check_drawdown`).

    Returns whether this call tripped the daily-loss breaker.
    """
    now = deps.clock()
    limits = deps.settings.risk
    check_drawdown(deps)
    tripped = deps.portfolio.trip_breaker_if_needed(now, lambda equity: breaker_floor(equity, limits))
    if tripped:
        state = deps.portfolio.state(now)
        deps.alerts.send(
            "copytrader: daily-loss breaker tripped",
            {
                "account": deps.settings.account,
                "day": state.day,
                "day_realized_pnl": str(state.day_realized_pnl),
                "day_start_equity": str(state.day_start_equity),
                "limit": str(limits.daily_loss_limit),
                "at": now.isoformat(),
            },
        )
    return tripped


def check_drawdown(deps: Deps) -> bool:
    """Raise the equity high-water mark, then halt new BUYs if equity < (1 - max_drawdown) x mark; alert once,
    from the call that set the halt. Returns whether this call set it."""
    now = deps.clock()
    limits = deps.settings.risk
    deps.portfolio.update_high_water_mark(now)
    halted = deps.portfolio.trip_drawdown_if_needed(now, lambda mark: drawdown_floor(mark, limits))
    if halted:
        status = deps.portfolio.risk_status(now)
        deps.alerts.send(
            "copytrader: drawdown halt",
            {
                "account": deps.settings.account,
                "equity": status["equity"],
                "equity_high_water_mark": status["equity_high_water_mark"],
                "max_drawdown": str(limits.max_drawdown),
                "at": now.isoformat(),
            },
        )
    return halted
