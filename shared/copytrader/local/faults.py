"""What goes wrong during `copytrader demo --faults`, and when: the `FaultPlan`.

The plan is a function of the seed and the day (its feed of tracked whales' fills and its markets) only: a numpy
Generator seeded from the seed picks, for each kind, a few whale fills (or times, or markets), so the same seed
injects the same faults. The injectors that carry it out are in `copytrader.local.injectors`; the timeline
(`copytrader.local.timeline`) schedules the faults that are events of their own.

    venue_timeout_after_fill   the venue fills a BUY, then the call raises VenueAmbiguous (a read timeout)
    venue_5xx_before_fill      the call raises VenueAmbiguous and nothing was placed (a 5xx before matching)
    crash_before_ledger_write  execute dies after risk_check reserved, before the ledger entry is written
    crash_after_venue_call     execute dies after the venue answered, before the settlement is written
    sqs_redelivery             SQS hands a fill to the pipeline again inside its freshness window
    sell_pending_at_midnight   a SELL's answer is lost and the venue cannot be asked about it before 00:00 UTC (the
                               day's last whale SELLs of held tokens; when the exits sold those positions first, the
                               first exit SELLs placed from `exit_sells_from` on stand in for them)
    market_retag               Gamma moves a market to another event and category mid-day
    dynamodb_throttle          DynamoDB throttles a copy's transaction (the request, or an item inside it)
    malformed_message          a message that is not a WhaleTrade, or one with an absurd epoch, reaches the queue
    price_crash_through_stop   a held token's price falls sharply (the simulated books) at a planned time: the exits job
                               must sell it once, at its stop (`copytrader.local.day_exits.crash_target`)
    redemption_burns_nothing   at a planned time a market in which we hold the winning token resolves early (before
                               its end date, so the time-to-end exit cannot have sold it); it is redeemed on a simulated
                               chain whose relayer confirms a transaction that burned nothing: not booked, then
                               redeemed and booked once at the next run (`copytrader.local.redeem_fault`)

A fault aimed at a fill is injected only if the fill gets that far (a copy skipped at score never reaches the
venue), so each kind names more candidates than it injects: the first `count` that get there are faulted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import numpy as np

from copytrader.model import Market, Side, WhaleTrade

VENUE_TIMEOUT = "venue_timeout_after_fill"
VENUE_5XX = "venue_5xx_before_fill"
CRASH_BEFORE_LEDGER = "crash_before_ledger_write"
CRASH_AFTER_VENUE = "crash_after_venue_call"
REDELIVERY = "sqs_redelivery"
SELL_AT_MIDNIGHT = "sell_pending_at_midnight"
RETAG = "market_retag"
THROTTLE = "dynamodb_throttle"
MALFORMED = "malformed_message"
PRICE_CRASH = "price_crash_through_stop"
REDEEM_NO_BURN = "redemption_burns_nothing"
FAULT_KINDS = (
    VENUE_TIMEOUT,
    VENUE_5XX,
    CRASH_BEFORE_LEDGER,
    CRASH_AFTER_VENUE,
    REDELIVERY,
    SELL_AT_MIDNIGHT,
    RETAG,
    THROTTLE,
    MALFORMED,
    PRICE_CRASH,
    REDEEM_NO_BURN,
)
_BUY_KINDS = (VENUE_TIMEOUT, VENUE_5XX, CRASH_BEFORE_LEDGER, CRASH_AFTER_VENUE, THROTTLE)
_STREAM = 0xFA175  # the plan's own random stream: the clean day's draws stay as they are
_FEW = (2, 4)  # each kind injects this many (inclusive), when enough candidates get that far
_CANDIDATES_PER_INJECTION = 3
_REDELIVERY_AFTER_S = (20.0, 240.0)  # inside the 300 s freshness window: the redelivery reaches execute
_LAST_SELLS = 3
_MALFORMED_SHAPES = ("not_a_trade", "absurd_epoch", "not_json", "absurd_epoch_ms")
_NEW_EVENT_BASE = 990_000
_CRASH_STREAM = 0xC4A5  # the crash's own stream: the other kinds' draws stay as they were
_CRASH_AFTER_BUY_MIN = (10.0, 40.0)  # the crash comes this long after a tracked whale's BUY (its copy is held)
_CRASH_LEAD = timedelta(hours=6)  # ... in a market that ends at least this long after the BUY (no time_to_end first)
_EXIT_SELLS_BEFORE_MIDNIGHT = timedelta(hours=12)
_EARLY_STREAM = 0xEA51  # the early resolution's own stream
_EARLY_AFTER_BUY_MIN = (60.0, 180.0)
CRASH_DROP_LOGIT = 2.5  # the held token's price falls this much in logit space (0.5 -> 0.08, 0.8 -> 0.27)


@dataclass(frozen=True)
class Targets:
    """Whale fills (trade keys) a kind may fault, in the plan's order, and how many it faults."""

    candidates: tuple[str, ...]
    count: int


@dataclass(frozen=True)
class Throttle:
    """How the i-th throttled copy is throttled: which of its transactions (`reserve` in risk_check, `begin` and
    `settle` in execute), in which form (`request`: HTTP 400 ThrottlingException, retried by botocore first; `item`:
    the transaction cancelled with reason ThrottlingError) and for how many consecutive attempts."""

    phase: str
    form: str
    attempts: int


# botocore's attempts per call (pynamodb: 1 + 3 retries) x run_transaction's attempts (8): every retry below the
# state machine's fails, so the step raises TransientError and the state machine retries it
EXHAUST_REQUEST = 4 * 8
EXHAUST_ITEM = 8
THROTTLES = (
    Throttle("settle", "request", EXHAUST_REQUEST),  # after the venue filled: the state machine retries execute
    Throttle("reserve", "item", EXHAUST_ITEM),  # the state machine retries risk_check
    Throttle("begin", "request", 2),  # botocore's own retries absorb it
    Throttle("settle", "item", 3),  # run_transaction's retries absorb it
)


@dataclass(frozen=True)
class Redelivery:
    trade_key: str
    after_s: float


@dataclass(frozen=True)
class RetagPlan:
    condition_id: str
    at: datetime
    event_id: str
    category: str
    old_event_id: str
    old_category: str


@dataclass(frozen=True)
class Malformed:
    at: datetime
    shape: str
    group: str  # the SQS message group (a market's condition id, as the listener sends)
    body: str


@dataclass(frozen=True)
class CrashPlan:
    """At `at`, the price of `token_id` (bought by a tracked whale shortly before) falls by `drop_logit`; if we do not
    hold it then, another held token falls instead (`copytrader.local.day_exits.crash_target`)."""

    at: datetime
    token_id: str
    drop_logit: float


@dataclass(frozen=True)
class FaultPlan:
    seed: int
    venue_timeout: Targets
    venue_5xx: Targets
    crash_before_ledger: Targets
    crash_after_venue: Targets
    throttled: Targets
    sells_at_midnight: Targets
    midnight: datetime
    redeliveries: tuple[Redelivery, ...]
    retags: tuple[RetagPlan, ...]
    malformed: tuple[Malformed, ...]
    crash: CrashPlan | None = None
    exit_sells_from: datetime | None = None  # from then on an exit's SELL may be a SELL pending at midnight
    early_resolution: datetime | None = None  # a held winning token's market resolves early (`REDEEM_NO_BURN`)

    def targets(self, kind: str) -> Targets:
        return {
            VENUE_TIMEOUT: self.venue_timeout,
            VENUE_5XX: self.venue_5xx,
            CRASH_BEFORE_LEDGER: self.crash_before_ledger,
            CRASH_AFTER_VENUE: self.crash_after_venue,
            THROTTLE: self.throttled,
            SELL_AT_MIDNIGHT: self.sells_at_midnight,
        }[kind]

    def describe(self) -> dict[str, Any]:
        """The plan as JSON-able data (what `--faults` will try, before anything ran)."""
        text = json.dumps(asdict(self), default=lambda v: v.isoformat() if isinstance(v, datetime) else str(v))
        described: dict[str, Any] = json.loads(text)
        return described


def next_midnight(at: datetime) -> datetime:
    """The first UTC midnight after `at`."""
    day = at.astimezone(UTC).date() + timedelta(days=1)
    return datetime.combine(day, time(0), tzinfo=UTC)


def plan_faults(
    seed: int, feed: Sequence[WhaleTrade], markets: Mapping[str, Market], categories: Sequence[str]
) -> FaultPlan:
    """The faults of the day whose tracked whales' fills are `feed` (time order) and whose live markets are
    `markets` (condition id -> market at the day's start); `categories` are the world's category names."""
    rng = np.random.default_rng([seed, _STREAM])
    buys = [t for t in feed if t.side is Side.BUY]
    counts = {kind: int(rng.integers(_FEW[0], _FEW[1] + 1)) for kind in (*_BUY_KINDS, REDELIVERY, RETAG, MALFORMED)}
    pools: dict[str, list[str]] = {kind: [] for kind in _BUY_KINDS}
    for j, index in enumerate(rng.permutation(len(buys))):
        kind = _BUY_KINDS[j % len(_BUY_KINDS)]
        if len(pools[kind]) < counts[kind] * _CANDIDATES_PER_INJECTION:
            pools[kind].append(buys[int(index)].key)
    targets = {kind: Targets(tuple(pools[kind]), counts[kind]) for kind in _BUY_KINDS}
    last_sells = _last_sells(feed)
    midnight = next_midnight(feed[-1].detected_at) if feed else datetime.max.replace(tzinfo=UTC)
    return FaultPlan(
        seed=seed,
        venue_timeout=targets[VENUE_TIMEOUT],
        venue_5xx=targets[VENUE_5XX],
        crash_before_ledger=targets[CRASH_BEFORE_LEDGER],
        crash_after_venue=targets[CRASH_AFTER_VENUE],
        throttled=Targets(targets[THROTTLE].candidates, min(counts[THROTTLE], len(THROTTLES))),
        sells_at_midnight=Targets(last_sells, len(last_sells)),
        midnight=midnight,
        redeliveries=_redeliveries(rng, feed, targets[VENUE_TIMEOUT], counts[REDELIVERY]),
        retags=_retags(rng, buys, markets, categories, counts[RETAG]),
        malformed=_malformed(rng, feed, counts[MALFORMED]),
        crash=_crash(np.random.default_rng([seed, _CRASH_STREAM]), buys, markets),
        exit_sells_from=midnight - _EXIT_SELLS_BEFORE_MIDNIGHT if feed else None,
        early_resolution=_early_resolution(np.random.default_rng([seed, _EARLY_STREAM]), buys),
    )


def _early_resolution(rng: np.random.Generator, buys: Sequence[WhaleTrade]) -> datetime | None:
    """When a held market resolves early: one to three hours after a tracked whale's BUY in the day's first half (its
    copy is likely still held; `Day._resolve_early` picks the market then)."""
    if not buys:
        return None
    first_half = buys[: max(1, len(buys) // 2)]
    trade = first_half[int(rng.integers(len(first_half)))]
    return trade.detected_at + timedelta(minutes=float(rng.uniform(*_EARLY_AFTER_BUY_MIN)))


def _crash(rng: np.random.Generator, buys: Sequence[WhaleTrade], markets: Mapping[str, Market]) -> CrashPlan | None:
    """A BUY whose market ends long after it (so the crash is not pre-empted by the time-to-end exit); the crash
    comes 10 to 40 minutes after it."""
    eligible = []
    for trade in buys:
        market = markets.get(trade.condition_id)
        if market is not None and market.end_time is not None and market.end_time > trade.detected_at + _CRASH_LEAD:
            eligible.append(trade)
    if not eligible:
        return None
    trade = eligible[int(rng.integers(len(eligible)))]
    at = trade.detected_at + timedelta(minutes=float(rng.uniform(*_CRASH_AFTER_BUY_MIN)))
    return CrashPlan(at, trade.token_id, CRASH_DROP_LOGIT)


def _last_sells(feed: Sequence[WhaleTrade]) -> tuple[str, ...]:
    """The day's last SELLs of tokens a tracked whale bought earlier that day (so the copy may hold them: only those
    reach the venue), else its last SELLs."""
    bought: set[str] = set()
    held, sells = [], []
    for trade in feed:
        if trade.side is Side.BUY:
            bought.add(trade.token_id)
            continue
        sells.append(trade.key)
        if trade.token_id in bought:
            held.append(trade.key)
    return tuple((held or sells)[-_LAST_SELLS:])


def _redeliveries(
    rng: np.random.Generator, feed: Sequence[WhaleTrade], timeouts: Targets, count: int
) -> tuple[Redelivery, ...]:
    """Half of them fills the venue may time out on (a redelivery then reconciles the order), the rest any fill."""
    keys = list(timeouts.candidates[: (count + 1) // 2])
    others = [t.key for t in feed if t.key not in keys]
    keys += [others[int(i)] for i in rng.choice(len(others), size=min(count - len(keys), len(others)), replace=False)]
    return tuple(Redelivery(k, round(float(rng.uniform(*_REDELIVERY_AFTER_S)), 3)) for k in keys)


def _retags(
    rng: np.random.Generator,
    buys: Sequence[WhaleTrade],
    markets: Mapping[str, Market],
    categories: Sequence[str],
    count: int,
) -> tuple[RetagPlan, ...]:
    """The markets (not neg-risk) tracked whales bought most often, each moved to a new event and another category
    half-way through its BUYs (so copies are likely on both sides); one, or two when `count` is 4."""
    times: dict[str, list[datetime]] = {}
    for trade in buys:
        market = markets.get(trade.condition_id)
        if market is not None and not market.neg_risk:
            times.setdefault(trade.condition_id, []).append(trade.detected_at)
    eligible = sorted((c for c, at in times.items() if len(at) >= 2), key=lambda c: (-len(times[c]), c))
    chosen = eligible[: max(1, count // 2)]
    plans = []
    for j, condition_id in enumerate(chosen):
        at = sorted(times[condition_id])
        middle = len(at) // 2
        when = at[middle - 1] + (at[middle] - at[middle - 1]) / 2
        others = [c for c in categories if c != markets[condition_id].category]
        category = others[int(rng.integers(len(others)))]
        old = markets[condition_id]
        plans.append(
            RetagPlan(condition_id, when, str(_NEW_EVENT_BASE + j), category, old.event_id or "", old.category)
        )
    return tuple(plans)


def _malformed(rng: np.random.Generator, feed: Sequence[WhaleTrade], count: int) -> tuple[Malformed, ...]:
    """Bodies the score step must answer with invalid_trade, at times of the day's fills."""
    if not feed:
        return ()
    out = []
    for j in range(count):
        trade = feed[int(rng.integers(len(feed)))]
        shape = _MALFORMED_SHAPES[j % len(_MALFORMED_SHAPES)]
        at = trade.detected_at + timedelta(seconds=float(rng.uniform(1, 30)))
        out.append(Malformed(at, shape, trade.condition_id, malformed_body(trade, shape)))
    return tuple(out)


def malformed_body(trade: WhaleTrade, shape: str) -> str:
    """A message body of `shape` built around `trade`: not a trade, not JSON, or the trade with an absurd epoch."""
    if shape == "not_a_trade":
        return json.dumps({"wallet": trade.wallet, "note": "a message that is not a WhaleTrade"})
    if shape == "not_json":
        return "{not json: " + trade.key
    body = json.loads(trade.model_dump_json())
    body["timestamp"] = 1e300 if shape == "absurd_epoch" else 10**22  # seconds past any calendar; "ms" past float
    return json.dumps(body)
