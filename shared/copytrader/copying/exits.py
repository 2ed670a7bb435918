"""The exit rules (pure): when we leave a position, how much of it we sell, and at what price at worst.

Each rule is one `ExitReason` and yields an `ExitSignal` (model/exits.py), or nothing:

- mirror (`mirror_sale`, on the copy path of a whale's SELL): a copied whale that sells a fraction f of its
  position in a token makes us sell f of the shares its copies built in ours (all of them when it is flat). Our
  shares attributed to whale w are S x c_w / C (its part of the cost basis C, `#PART#<token>#WHALE#<w>`, over the
  basis; exact when its copies paid the position's average price). A SELL attributed to a whale releases its cost
  from that whale's part first (`risk.changes`), which lowers exactly its attributed shares by the shares sold and
  leaves every other whale's unchanged. f = whale's shares sold / its shares before the sale, the latter from the
  trades of it we observed (`store.whale_holdings`); when we observed none, from the Data API v2 `/v2/positions`
  if `exits.whale_positions_url` is set (`whale_before_from_positions`). Unknown (never observed and no answer) or
  smaller than the sale (we missed some of its buys): f = 1, a full exit of its part. That is the conservative
  side: an exit lowers our risk, and a whale selling what we never saw it buy leaves a position we cannot size.
- stop_loss: the bid <= the stop at entry, average cost x (1 - s) (`risk.rules.stop_price`, s = the position's);
- trailing_stop: the bid <= its high-water mark since entry x (1 - t), once that mark is above our average cost
  (below it the stop-loss is the rule); the mark is kept on the position (`bid_high`, raised only upward);
- take_profit (off by default): the bid >= average cost x (1 + p);
- time_to_end: the market's end date is less than `exits.exit_before_end_s` away;
- resolution_dispute: Gamma's UMA status of the market is one of `exits.uma_exit_statuses` (proposed, disputed);
- whale_culled: a whale whose copies built part of the position is culled; policy `hold`, `exit` (sell its part)
  or `exit_if_losing` (sell its part when the bid is below our average cost).

Price rules act only on a fresh bid (`Mark.is_stale` with `exits.max_mark_age_s`): a stale price fires nothing,
and the next fresh one decides. Every exit's limit price is the bid that fired it less `exits.max_slippage`,
floored to the tick (at least one tick), and is part of the trigger: a rule that stays true at the same price
is one order, while an exit that did not fill (no bids within its limit) is tried again once the bid has moved.
One evaluation yields at most one signal per position, in the order
resolution_dispute, time_to_end, stop_loss, trailing_stop, take_profit, whale_culled (a full exit first).
`price_exits` (the listener, on each price update) evaluates the three price rules; `scheduled_exits` (the
every-minute job) all but mirror.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from copytrader.exit_settings import CullPolicy
from copytrader.model import Market, WhaleStatus
from copytrader.model.exits import ExitReason, ExitSignal
from copytrader.model.marks import Mark
from copytrader.money import MICRO, ONE, SIZE_STEP, ZERO, floor_to
from copytrader.risk.changes import Holding, lot_reference
from copytrader.risk.rules import stop_price
from copytrader.settings import Settings

DEFAULT_TICK = Decimal("0.01")


@dataclass(frozen=True)
class ExitRules:
    """The exit settings as the rules read them (`from_settings`)."""

    stop_loss: Decimal = Decimal("0.15")  # the default when a position recorded no stop at entry
    take_profit: Decimal | None = None
    trailing_stop: Decimal | None = Decimal("0.25")
    exit_before_end: timedelta = timedelta(hours=3)
    uma_statuses: frozenset[str] = frozenset({"proposed", "disputed"})
    cull_policy: CullPolicy = CullPolicy.EXIT_IF_LOSING
    max_mark_age: timedelta = timedelta(seconds=120)
    max_slippage: Decimal = Decimal("0.05")

    @classmethod
    def from_settings(cls, settings: Settings) -> ExitRules:
        exits = settings.exits
        return cls(
            stop_loss=settings.risk.stop_loss,
            take_profit=exits.take_profit,
            trailing_stop=exits.trailing_stop,
            exit_before_end=timedelta(seconds=exits.exit_before_end_s),
            uma_statuses=frozenset(s.lower() for s in exits.uma_exit_statuses),
            cull_policy=exits.cull_policy,
            max_mark_age=timedelta(seconds=exits.max_mark_age_s),
            max_slippage=exits.max_slippage,
        )


@dataclass(frozen=True)
class ExitPosition:
    """One open position as the rules read it: the settlement's `Holding`, the bid's high-water mark since entry
    and each copied whale's part of the cost (wallet -> pUSD)."""

    account: str
    holding: Holding
    bid_high: Decimal | None = None
    whale_costs: Mapping[str, Decimal] = field(default_factory=dict)
    tick_size: Decimal = DEFAULT_TICK

    @property
    def lot(self) -> str:
        return lot_reference(self.holding)

    @property
    def average_cost(self) -> Decimal:
        return self.holding.cost_basis / self.holding.shares if self.holding.shares > 0 else ZERO

    def whale_shares(self, wallet: str) -> Decimal:
        """Our shares attributed to `wallet`'s copies: S x c_w / C (module docstring)."""
        return attributed_shares(self.holding.shares, self.holding.cost_basis, self.whale_costs.get(wallet.lower()))


def attributed_shares(held: Decimal, cost_basis: Decimal, whale_cost: Decimal | None) -> Decimal:
    """Shares of a position of `held` shares and basis `cost_basis` that a whale whose part of the cost is
    `whale_cost` built: held x whale_cost / cost_basis, at most `held`; all of them when the position records no
    whale parts (`whale_cost` None: a position from before parts were kept), none when the whale has no part."""
    if held <= 0:
        return ZERO
    if whale_cost is None:
        return held
    if whale_cost <= 0 or cost_basis <= 0:
        return ZERO
    return min(held, held * whale_cost / cost_basis)


def mirror_fraction(whale_before: Decimal | None, sold: Decimal) -> Decimal:
    """The fraction of its position a whale sold: sold / its shares before the sale; 1 (a full exit) when those are
    unknown, not positive, or not more than the sale (module docstring: the conservative side)."""
    if whale_before is None or whale_before <= sold:
        return ONE
    return sold / whale_before


def whale_before_from_positions(
    current: Decimal, last_event_at: datetime | None, sold: Decimal, sold_at: datetime
) -> Decimal:
    """A whale's shares before a SELL from the Data API's current size (the fallback, module docstring): current +
    sold when the API's last event for the position is not older than the SELL (the sale is in it, or it cannot
    say), else current (the API has not seen the sale yet). The API's times are whole seconds: compared to the
    sale's second."""
    if last_event_at is not None and last_event_at < sold_at.replace(microsecond=0):
        return current
    return current + sold


def mirror_sale(
    held: Decimal, cost_basis: Decimal, whale_cost: Decimal | None, whale_before: Decimal | None, sold: Decimal
) -> Decimal:
    """Shares we sell when a whale sells `sold` of the `whale_before` it held: its fraction of the shares its
    copies built in our position, floored to the 0.01 grid (never more than we hold)."""
    ours = attributed_shares(held, cost_basis, whale_cost)
    return floor_to(ours * mirror_fraction(whale_before, sold), SIZE_STEP)


def exit_limit(bid: Decimal, slippage: Decimal, tick: Decimal) -> Decimal:
    """The lowest price an exit sells at: the bid less the slippage, floored to the tick, in [tick, 1 - tick]."""
    return min(max(floor_to(bid - slippage, tick), tick), ONE - tick)


def fresh_bid(mark: Mark | None, rules: ExitRules, now: datetime) -> Decimal | None:
    """The mark's bid when it is fresh and positive, else None (a price rule then fires nothing)."""
    if mark is None or mark.is_stale(now, rules.max_mark_age) or mark.bid is None or mark.bid <= 0:
        return None
    return mark.bid


def high_water(position: ExitPosition, mark: Mark | None, rules: ExitRules, now: datetime) -> Decimal | None:
    """The bid's new high-water mark when a fresh bid is above the recorded one (the caller writes it, only if
    higher), else None."""
    bid = fresh_bid(mark, rules, now)
    if bid is None or (position.bid_high is not None and bid <= position.bid_high):
        return None
    return bid


def _signal(
    position: ExitPosition,
    reason: ExitReason,
    trigger: str,
    bid: Decimal,
    rules: ExitRules,
    now: datetime,
    **extra: object,
) -> ExitSignal:
    holding = position.holding
    limit = exit_limit(bid, rules.max_slippage, position.tick_size)
    return ExitSignal.create(
        account=position.account,
        token_id=holding.token_id,
        condition_id=holding.condition_id,
        lot=position.lot,
        reason=reason,
        trigger=f"{trigger} @{_fmt(limit)}",
        position_shares=holding.shares,
        min_price=limit,
        observed_at=now,
        **extra,
    )


def _fmt(value: Decimal) -> str:
    return f"{value.quantize(MICRO).normalize():f}"


def price_exits(position: ExitPosition, mark: Mark | None, rules: ExitRules, now: datetime) -> ExitSignal | None:
    """Stop-loss, trailing stop, take-profit on one price update (in that order); cheap, no I/O."""
    holding = position.holding
    bid = fresh_bid(mark, rules, now)
    if bid is None or holding.shares <= 0:
        return None
    stop = stop_price(holding, rules.stop_loss)
    if stop is not None and bid <= stop:
        return _signal(position, ExitReason.STOP_LOSS, f"stop {_fmt(stop)}", bid, rules, now)
    average = position.average_cost
    if rules.trailing_stop is not None:
        peak = max(position.bid_high or ZERO, bid)
        level = peak * (ONE - rules.trailing_stop)
        if peak > average and bid <= level:
            return _signal(
                position, ExitReason.TRAILING_STOP, f"trail {_fmt(peak)} -{_fmt(rules.trailing_stop)}", bid, rules, now
            )
    if rules.take_profit is not None:
        target = average * (ONE + rules.take_profit)
        if bid >= target:
            return _signal(position, ExitReason.TAKE_PROFIT, f"target {_fmt(target)}", bid, rules, now)
    return None


def uma_exit_status(market: Market, rules: ExitRules) -> str | None:
    """The market's UMA status when it is one we leave on (the current one, else the history's latest)."""
    current = market.uma_status or (market.uma_statuses[-1] if market.uma_statuses else None)
    return current if current in rules.uma_statuses else None


def market_exits(
    position: ExitPosition, market: Market, bid: Decimal, rules: ExitRules, now: datetime
) -> ExitSignal | None:
    """Resolution dispute, then time to end."""
    status = uma_exit_status(market, rules)
    if status is not None:
        return _signal(position, ExitReason.RESOLUTION_DISPUTE, f"uma {status}", bid, rules, now)
    if market.end_time is not None and market.end_time - now <= rules.exit_before_end:
        return _signal(position, ExitReason.TIME_TO_END, f"end {market.end_time.isoformat()}", bid, rules, now)
    return None


def cull_exit(
    position: ExitPosition, statuses: Mapping[str, WhaleStatus], bid: Decimal, rules: ExitRules, now: datetime
) -> ExitSignal | None:
    """Sell a culled whale's part (the first such whale by address), as the policy says."""
    if rules.cull_policy is CullPolicy.HOLD:
        return None
    if rules.cull_policy is CullPolicy.EXIT_IF_LOSING and bid >= position.average_cost:
        return None
    for wallet in sorted(position.whale_costs):
        if statuses.get(wallet) is not WhaleStatus.CULLED:
            continue
        shares = floor_to(position.whale_shares(wallet), SIZE_STEP)
        if shares > 0:
            return _signal(
                position, ExitReason.WHALE_CULLED, f"culled {wallet}", bid, rules, now, shares=shares, whale=wallet
            )
    return None


def scheduled_exits(
    positions: Iterable[ExitPosition],
    markets: Mapping[str, Market],
    marks: Mapping[str, Mark],
    statuses: Mapping[str, WhaleStatus],
    rules: ExitRules,
    now: datetime,
) -> list[ExitSignal]:
    """Every rule but mirror on each open position (at most one signal each, module docstring).

    A position without a fresh bid, or whose market is unknown, closed or resolved (the books workflow redeems
    those), yields nothing."""
    signals: list[ExitSignal] = []
    for position in positions:
        holding = position.holding
        market = markets.get(holding.condition_id)
        bid = fresh_bid(marks.get(holding.token_id), rules, now)
        if holding.shares <= 0 or market is None or market.closed or market.resolved or bid is None:
            continue
        found = (
            market_exits(position, market, bid, rules, now)
            or price_exits(position, marks[holding.token_id], rules, now)
            or cull_exit(position, statuses, bid, rules, now)
        )
        if found is not None:
            signals.append(found)
    return signals


__all__ = [
    "ExitPosition",
    "ExitRules",
    "attributed_shares",
    "cull_exit",
    "exit_limit",
    "fresh_bid",
    "high_water",
    "market_exits",
    "mirror_fraction",
    "mirror_sale",
    "price_exits",
    "scheduled_exits",
    "uma_exit_status",
    "whale_before_from_positions",
]
