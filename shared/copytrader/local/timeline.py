"""The simulated day as a queue of timed events, and what each event does (`copytrader demo`).

Events, in time order (ties broken by kind, then by the order they were added):

    resolve    a market resolves: its positions are redeemed
    trade      a tracked whale's fill: the listener's dedup claims it, it is published (SQS FIFO, EventBridge) and
               the pipe runs the queue through the copy state machine
    echo       a second feed reports the fill again seconds later (the claim drops it)
    redeliver  SQS hands a fill to the pipeline again (the pipe's call timed out although the execution finished)
    release    a message whose execution failed comes back after the queue's visibility timeout (its market's FIFO
               group waited behind it)
    snapshot   cash + open positions at mid, every 30 minutes (the equity curve)
    sweep      the scheduler's reconcile sweep, every 5 minutes, through the execute function ({"sweep": ...})
    exits      the held tokens' marks from the simulated books, marked equity, then the exits job through its function
               (`copytrader.local.day_exits`), every 15 minutes; the queue is drained after it
    crash      (faults) a held token's price falls sharply (the sim's book), through its stop
    resolve_early (faults) a held winning token's market resolves before its end date; its redemption burns nothing
    redeem_retry  (faults) the next settle run of that market, one exits period later
    retag      (faults) Gamma moves a market to another event and category
    malformed  (faults) a message that is not a usable WhaleTrade reaches the queue

The clean day's draws (second reports, redeliveries) come from the seed exactly as before the faults existed; the
fault plan (`copytrader.local.faults`) only adds events and wraps adapters.
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from copytrader.local.faults import FaultPlan, Redelivery
from copytrader.model import WhaleTrade
from copytrader.sim.world import SimWorld

PROCESSING_DELAY = timedelta(milliseconds=250)  # listener receipt -> pipeline start, simulated
SECOND_SOURCE_SHARE = 0.3  # share of fills a second feed reports again within seconds
# share of messages SQS delivers again after the visibility timeout (the pipe's call timed out although the
# execution finished): the same fill reaches the pipeline a second time, inside the trade-age limit
REDELIVERY_SHARE = 0.05
REDELIVERY_AFTER_S = (60.0, 120.0)
SNAPSHOT_EVERY = timedelta(minutes=30)
SWEEP_EVERY = timedelta(minutes=5)  # the reconcile sweep's schedule, as deployed
SWEEP_LIMIT = 100
# the exits job runs every minute as deployed; the demo runs it every 15 simulated minutes: each run costs a Lambda
# call reading every held position's market, book and parts, a marks write, a marking and a drain (every 5 minutes
# made `make demo` take 2.5 times the CPU of the day without exits, seed 20; every 15, see README)
EXITS_EVERY = timedelta(minutes=15)
# the trade queue's visibility timeout as deployed (infra: TRADE_QUEUE_VISIBILITY_TIMEOUT): a failed message comes
# back after this, which is longer than the trade's freshness window
VISIBILITY_TIMEOUT = timedelta(seconds=330)
_TIES = {"resolve": 0, "retag": 0, "trade": 1, "malformed": 1, "echo": 2, "redeliver": 3, "release": 3,
         "snapshot": 4, "sweep": 5, "crash": 0, "exits": 6,
         "resolve_early": 0, "redeem_retry": 0}  # fmt: skip
PIPELINE_KINDS = ("trade", "echo", "redeliver", "release", "malformed")


@dataclass(order=True)
class Event:
    at: datetime
    tie: int
    seq: int
    kind: str = field(compare=False)
    payload: Any = field(compare=False, default=None)


class Timeline:
    """A time-ordered queue of events that accepts new ones while it is replayed (a failed message's release)."""

    def __init__(self) -> None:
        self._heap: list[Event] = []
        self._seq = 0
        self.added = 0

    def add(self, at: datetime, kind: str, payload: Any = None) -> None:
        heapq.heappush(self._heap, Event(at, _TIES[kind], self._seq, kind, payload))
        self._seq += 1
        self.added += 1

    def __len__(self) -> int:
        return len(self._heap)

    def __iter__(self) -> Iterator[Event]:
        while self._heap:
            yield heapq.heappop(self._heap)


def day_timeline(
    world: SimWorld, feed: list[WhaleTrade], plan: FaultPlan | None = None, exits_every: timedelta = EXITS_EVERY
) -> Timeline:
    """The day's events (see the module docstring); with `plan`, its faults that are events of their own; the exits
    job every `exits_every`."""
    timeline = Timeline()
    rng = np.random.default_rng(world.config.seed ^ 0x5EED)
    for trade in feed:
        timeline.add(trade.detected_at, "trade", trade)
        if rng.uniform() < SECOND_SOURCE_SHARE:
            timeline.add(trade.detected_at + timedelta(seconds=float(rng.uniform(0.5, 3))), "echo", trade)
        if rng.uniform() < REDELIVERY_SHARE:
            after = float(rng.uniform(*REDELIVERY_AFTER_S))
            timeline.add(trade.detected_at + timedelta(seconds=after), "redeliver", (trade, None))
    for resolution in world.resolutions:
        timeline.add(resolution.resolve_at, "resolve", resolution.condition_id)
    t = world.day_start
    while t <= world.day_end:
        timeline.add(t, "snapshot")
        t += SNAPSHOT_EVERY
    t = world.day_start + SWEEP_EVERY
    while t <= world.day_end:
        timeline.add(t, "sweep")
        t += SWEEP_EVERY
    t = world.day_start + exits_every
    while t <= world.day_end:
        timeline.add(t, "exits")
        t += exits_every
    if plan is not None:
        by_key = {trade.key: trade for trade in feed}
        for redelivery in plan.redeliveries:
            trade = by_key[redelivery.trade_key]
            timeline.add(trade.detected_at + timedelta(seconds=redelivery.after_s), "redeliver", (trade, redelivery))
        for retag in plan.retags:
            timeline.add(retag.at, "retag", retag)
        for malformed in plan.malformed:
            timeline.add(malformed.at, "malformed", malformed)
        if plan.crash is not None:
            timeline.add(plan.crash.at, "crash", plan.crash)
        if plan.early_resolution is not None:
            timeline.add(plan.early_resolution, "resolve_early")
    return timeline


@dataclass
class Outputs:
    """What the pipeline answered: the first outcome of each whale fill, later ones, exit signals' outcomes (counted
    from the orders ledger by the summary) and malformed messages."""

    states: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    malformed: list[dict[str, Any]] = field(default_factory=list)
    exits: list[dict[str, Any]] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    def add(self, output: list[dict[str, Any]] | None) -> None:
        for state in output or []:
            signal = state.get("signal") or {}
            trade = signal.get("trade")
            if signal.get("exit") is not None:
                self.exits.append(state)
            elif trade is None:
                self.malformed.append(state)
            elif trade["key"] in self._seen:
                self.duplicates.append(state)
            else:
                self._seen.add(trade["key"])
                self.states.append(state)


def redelivery_record(trade: WhaleTrade, redelivery: Redelivery | None) -> dict[str, Any]:
    """The SQS message a redelivery hands the pipe (as received; the pipe shapes it as Pipes would)."""
    suffix = "" if redelivery is None else f"-{redelivery.after_s}"
    return {"MessageId": f"redelivery-{trade.key}{suffix}", "ReceiptHandle": "-", "Body": trade.model_dump_json()}


def invoke_counted(
    lambda_client: Any, function_arn: str, event: dict[str, Any], totals: Counter[str], errors: list[str]
) -> dict[str, Any] | None:
    """Invoke a scheduled function as EventBridge Scheduler would and count the run in `totals` (`runs`, `errors`);
    its answer, or None when the function failed (its error message kept in `errors`)."""
    answer = lambda_client.invoke(FunctionName=function_arn, Payload=json.dumps(event).encode())
    payload = json.loads(answer["Payload"].read() or b"null")
    totals["runs"] += 1
    if answer.get("FunctionError"):
        totals["errors"] += 1
        errors.append(str((payload or {}).get("errorMessage", payload))[:300])
        return None
    return dict(payload)


class Sweeps:
    """Runs the scheduled reconcile sweep through the execute function and keeps its totals."""

    def __init__(self, lambda_client: Any, function_arn: str) -> None:
        self._lambda, self._arn = lambda_client, function_arn
        self.totals: Counter[str] = Counter()
        self.errors: list[str] = []
        self.released: list[str] = []  # the idempotency keys of the orphan reservations the sweeps gave back

    def run(self, limit: int = SWEEP_LIMIT) -> dict[str, Any]:
        """One sweep; its report (empty when the function failed, which is counted)."""
        payload = invoke_counted(self._lambda, self._arn, {"sweep": {"limit": limit}}, self.totals, self.errors)
        if payload is None:
            return {}
        for status, n in payload["settled"].items():
            self.totals[f"settled_{status.lower()}"] += n
        self.totals["released_orphans"] += payload["released"]
        self.released += [e["idempotency_key"] for e in payload["entries"] if e["status"] == "RELEASED"]
        return dict(payload)
