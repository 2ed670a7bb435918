"""`copytrader demo`: one simulated trading day through the real copy pipeline on an embedded AWS.

1. Build a seeded simulated Polymarket (`copytrader.sim`) whose skilled wallets are known (`DEMO_HISTORY_DAYS` of
   resolved history).
2. Select the tracked wallets from their resolved history (calibrated-edge test with BY control).
3. Start moto server with the deployed resources and a loopback server speaking Polymarket's CLOB,
   Gamma and Data API protocols for the simulated market.
4. Replay the day in time order (`copytrader.local.timeline`): each tracked wallet's fill is claimed in the trades
   table (the listener's dedup: a conditional put per canonical key) and published to the SQS FIFO queue and the
   EventBridge bus; a second feed reports some fills again (the claim drops them) and SQS delivers a few messages
   twice (at-least-once, after a visibility timeout); the local pipe runs each message through the Express state
   machine, whose Lambda tasks are the real handlers; resolved markets are redeemed, equity is marked every half
   hour and the scheduler's reconcile sweep runs every 5 minutes through the execute function.
5. Close the day: the clock moves past the next UTC midnight and the orphan-reservation bound, the sweep runs until
   nothing is left to settle, and the books workflow (settle resolved markets, then audit every invariant of
   `copytrader.risk.audit`) runs once on its Standard state machine.
6. Summarise (`copytrader.local.summary`) and write an HTML report (and its JSON) with the equity curve.

With `faults=True` the day also goes wrong on purpose (`copytrader.local.faults`: venue timeouts and 5xx, crashes
inside execute, SQS redeliveries, SELLs pending at midnight, a re-tagged market, throttled DynamoDB writes, malformed
messages), and the audit must still find nothing. Same seed, same numbers (and the same faults): time is simulated
and every id is derived from the seed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from copytrader.listener.publish import TradePublisher
from copytrader.local import faults as fault_kinds
from copytrader.local.aws import LocalAws
from copytrader.local.day_exits import ExitScans, crash_target
from copytrader.local.faults import CrashPlan, FaultPlan, Malformed, Redelivery, RetagPlan, plan_faults
from copytrader.local.injectors import FaultyLedger, FaultyVenue, Injected, ThrottleHook
from copytrader.local.pipe import Execution, LocalPipe, pipe_record
from copytrader.local.redeem_fault import RedemptionFault, early_target
from copytrader.local.report import DemoResult, write_report
from copytrader.local.scoring import run_books
from copytrader.local.summary import describe_day, percentile_ms, summarise
from copytrader.local.timeline import (
    EXITS_EVERY,
    PIPELINE_KINDS,
    PROCESSING_DELAY,
    VISIBILITY_TIMEOUT,
    Outputs,
    Sweeps,
    Timeline,
    day_timeline,
    redelivery_record,
)
from copytrader.model import COPYABLE_STATUSES, Market, WhaleProfile, WhaleTrade
from copytrader.runtime.alerts import SnsAlerts
from copytrader.runtime.exit_queue import ExitPublisher
from copytrader.scoring.engine import profiles, score_rows
from copytrader.scoring_settings import ScoringSettings
from copytrader.settings import Settings, load_settings
from copytrader.sim.config import SimConfig
from copytrader.sim.selection_check import discovery_window
from copytrader.sim.server import SimPolymarketServer
from copytrader.sim.world import SimWorld, build_world
from copytrader.store.trades import SeenTrades
from copytrader.workflows import COPY, EXITS, wiring
from copytrader.workflows.copy.settlement import check_halts, mark_to_market, settle_resolved

CLOSING_SWEEPS = 10  # the end of the day sweeps until nothing is left, at most this many times
CRASH_TRIES = 12  # a planned crash that finds no held token to hit tries again at the next exits run, this often


class SimClock:
    """The pipeline's clock in local mode: simulated time, moved forward by the replay."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def tracked_wallets(world: SimWorld, config: ScoringSettings | None = None) -> list[WhaleProfile]:
    """Score the world's history as of the day's start and keep the selected set: each wallet tested on what it did
    after the simulated discovery named it (copytrader.sim.selection_check.discovery_window), so on probation."""
    run = score_rows(
        world.history_trade_rows(),
        world.history_markets_gamma(),
        config or ScoringSettings(),
        as_of=int(world.day_start.timestamp()),
        windows=discovery_window(world),
    )
    return [p for p in profiles(run.universe) if p.status in COPYABLE_STATUSES]


DEFAULT_SEED = SimConfig().seed
DEMO_HISTORY_DAYS = 90  # SimConfig's 30 select none of the 12 skilled, 90 select 9 (e2e/test_demo_selection)


def day_deps(
    settings: Settings, clock: SimClock, alerts: SnsAlerts, injected: Injected | None, exit_queue: ExitPublisher
) -> wiring.Deps:
    """The handlers' dependencies; with faults, the venue and the orders ledger wrapped by their injectors."""
    plain = wiring.Deps(settings, clock=clock, alerts=alerts, exit_queue=exit_queue)
    if injected is None:
        return plain
    return wiring.Deps(
        settings,
        clock=clock,
        alerts=alerts,
        exit_queue=exit_queue,
        account=plain.account,
        venue=FaultyVenue(plain.venue, injected, clock),
        ledger=FaultyLedger(plain.ledger, injected),
    )


class Day:
    """The replay of one day's events against the local AWS and the simulated Polymarket."""

    def __init__(self, world: SimWorld, aws: LocalAws, polymarket: SimPolymarketServer, deps: wiring.Deps,
                 clock: SimClock, injected: Injected | None, exits_every: timedelta = EXITS_EVERY) -> None:  # fmt: skip
        resources = aws.resources
        assert resources is not None
        self.world, self.aws, self.polymarket, self.deps, self.clock = world, aws, polymarket, deps, clock
        self.injected, self.exits_every = injected, exits_every
        self.resources = resources
        self.sqs = aws.client("sqs")
        self.publisher = TradePublisher(self.sqs, resources.queue_url, aws.client("events"), resources.bus_name)
        self.pipe = LocalPipe(resources, self.sqs, aws.client("stepfunctions"))
        self.sweeps = Sweeps(aws.client("lambda"), resources.function_arns[COPY.function("execute")])
        self.exits = ExitScans(aws.client("lambda"), resources.function_arns[EXITS.function("scan")], world, deps)
        self.crashed: dict[str, Any] = {}  # --faults: the token the planned crash hit, when, its bid before and after
        self.redeem_fault: RedemptionFault | None = None  # --faults (`run_demo` sets it)
        self.seen = SeenTrades()
        self.outputs = Outputs()
        self.feed_counts = Counter[str]()
        self.failures: list[str] = []
        self.curve: list[tuple[str, str]] = []
        self.executions: list[float] = []
        self.timeline = Timeline()  # the day's, once `replay` starts

    def replay(
        self, feed: list[WhaleTrade], plan: FaultPlan | None, progress: Any = None, stop_after: timedelta | None = None
    ) -> None:
        """Replay the day's events in time order; with `stop_after`, only those of the day's first `stop_after`."""
        self.timeline = day_timeline(self.world, feed, plan, self.exits_every)
        events = progress(iter(self.timeline), len(self.timeline)) if progress else iter(self.timeline)
        end = self.world.day_start + stop_after if stop_after is not None else None
        for event in events:
            if end is not None and event.at > end:
                break
            delay = PROCESSING_DELAY if event.kind in PIPELINE_KINDS else timedelta(0)
            self.clock.now = event.at + delay
            self.polymarket.set_time(self.clock.now)
            getattr(self, f"_{event.kind}")(event.payload)

    # ------------------------------------------------------------------------------------------ events
    def _trade(self, trade: WhaleTrade) -> None:
        self.feed_counts["reported"] += 1
        self._publish(trade)

    def _echo(self, trade: WhaleTrade) -> None:
        self.feed_counts["second_source"] += 1
        self._publish(trade)

    def _publish(self, trade: WhaleTrade) -> None:
        if not self.seen.claim(trade, self.clock.now):
            self.feed_counts["dropped_by_listener_dedup"] += 1
            return
        report = self.publisher.publish([trade])
        self.feed_counts["failed_publish"] += len(report.failed_queue)
        if not report.failed_queue:
            self.seen.mark_published(trade.key, self.clock.now)
        self._drain()

    def _drain(self) -> None:
        for execution in self.pipe.drain(hold=self._hold):
            self._ran(execution)

    def _ran(self, execution: Execution) -> None:
        self.executions.append(execution.seconds)
        if execution.status == "SUCCEEDED":
            self.outputs.add(execution.output)

    def _hold(self, message: dict[str, Any], execution: Execution) -> None:
        """A failed execution: SQS gives the message back after the visibility timeout (simulated)."""
        self.feed_counts["failed_executions"] += 1
        self.failures.append(f"{self.clock.now.isoformat()} {execution.error or execution.status}"[:300])
        self.timeline.add(self.clock.now + VISIBILITY_TIMEOUT, "release", message["ReceiptHandle"])

    def _release(self, receipt_handle: str) -> None:
        self.feed_counts["redelivered_after_failure"] += 1
        self.pipe.release(receipt_handle)
        self._drain()

    def _redeliver(self, payload: tuple[WhaleTrade, Redelivery | None]) -> None:
        trade, injected = payload
        execution = self.pipe.run([pipe_record(redelivery_record(trade, injected), self.resources.queue_arn)])
        self.executions.append(execution.seconds)
        self.feed_counts["redelivered"] += 1
        if self.injected is not None and injected is not None:
            self.injected.note(fault_kinds.REDELIVERY, f"{trade.side.value} {trade.key[:12]} after {injected.after_s}s")
        if execution.status == "SUCCEEDED":
            self.outputs.add(execution.output)
        else:
            self.feed_counts["failed_executions"] += 1
            self.failures.append(f"{self.clock.now.isoformat()} {execution.error or execution.status}"[:300])

    def _resolve(self, condition_id: str) -> None:
        deps = self.deps
        market = deps.markets.get(condition_id, self.clock.now)
        fresh = self.world.market_at(condition_id, self.clock.now)
        if market is None or not market.resolved:
            deps.markets.put(fresh, self.clock.now)
            market = fresh
        if self.redeem_fault is not None and self.redeem_fault.takes(market):
            assert self.injected is not None
            outcome = self.redeem_fault.attempt(market, burn=False)
            self.injected.note(fault_kinds.REDEEM_NO_BURN, f"{condition_id[:12]}: relayer confirmed, {outcome}")
            self.timeline.add(self.clock.now + self.exits_every, "redeem_retry", market)
            return
        settle_resolved(market, deps)

    def _resolve_early(self, _: None) -> None:
        """The planned early resolution closes a market in which we hold the winning token (`early_target`), or tries
        again at the next exits run."""
        lead = timedelta(seconds=self.deps.settings.exits.exit_before_end_s) + timedelta(hours=1)
        condition_id = early_target(self.world, self.deps, lead)
        if condition_id is None:
            self.feed_counts["early_resolution_tries"] += 1
            if self.feed_counts["early_resolution_tries"] < CRASH_TRIES:
                self.timeline.add(self.clock.now + self.exits_every, "resolve_early")
            return
        self.world.resolve_early(condition_id, self.clock.now)
        self._resolve(condition_id)

    def _redeem_retry(self, market: Market) -> None:
        """The next settle run after the redemption that burned nothing: the chain is sound again."""
        assert self.redeem_fault is not None
        if self.redeem_fault.attempt(market, burn=True) == "redeemed":
            check_halts(self.deps)

    def _snapshot(self, _: None) -> None:
        cash, value = mark_to_market(self.deps)
        self.curve.append((self.clock.now.isoformat(), str(cash + value)))

    def _sweep(self, _: None) -> None:
        self.sweeps.run()

    def _exits(self, _: None) -> None:
        self.exits.mark()
        self.exits.scan()
        self._drain()

    def _crash(self, crash: CrashPlan) -> None:
        """The planned crash hits a held token (`day_exits.crash_target`), or tries again at the next exits run."""
        assert self.injected is not None
        lead = timedelta(seconds=self.deps.settings.exits.exit_before_end_s) + timedelta(hours=1)
        token = crash_target(self.world, self.deps, crash.token_id, lead)
        if token is None:
            self.feed_counts["crash_tries"] += 1
            if self.feed_counts["crash_tries"] < CRASH_TRIES:
                self.timeline.add(self.clock.now + self.exits_every, "crash", crash)
            return
        before = self.world.book(token, self.clock.now).best_bid
        self.injected.crashed_token = token
        self.world.shock(token, self.clock.now, crash.drop_logit)
        after = self.world.book(token, self.clock.now).best_bid
        self.crashed = {"token_id": token, "at": self.clock.now.isoformat(), "bid_before": str(before),
                        "bid_after": str(after)}  # fmt: skip
        self.injected.note(fault_kinds.PRICE_CRASH, f"{token[:12]}: bid {before} -> {after}")

    def _retag(self, retag: RetagPlan) -> None:
        assert self.injected is not None
        self.injected.note(fault_kinds.RETAG, f"{retag.condition_id[:12]} -> event {retag.event_id}, {retag.category}")

    def _malformed(self, malformed: Malformed) -> None:
        assert self.injected is not None
        self.injected.note(fault_kinds.MALFORMED, malformed.shape)
        self.sqs.send_message(
            QueueUrl=self.resources.queue_url,
            MessageBody=malformed.body,
            MessageGroupId=malformed.group,
            MessageDeduplicationId=f"malformed-{malformed.shape}-{malformed.at.timestamp()}",
        )
        self._drain()

    # ------------------------------------------------------------------------------------------ the close
    def close(self) -> dict[str, Any]:
        """Past midnight and the orphan bound: sweep until nothing is left, then the books workflow (settle, audit)."""
        settings = self.deps.settings
        bound = timedelta(seconds=settings.risk.orphan_reservation_after_s + 60)
        self.clock.now = max(self.clock.now, self.world.day_end) + bound
        self.polymarket.set_time(self.clock.now)
        left: dict[str, Any] = {}
        for _ in range(CLOSING_SWEEPS):
            left = self.sweeps.run()
            if left and not left["settled"] and not left["released"]:  # nothing more to settle or give back
                break
        sfn = self.aws.client("stepfunctions")
        books = run_books(self.resources, sfn, name=f"books-close-{self.world.config.seed}")
        self.exits.mark()  # the day's last marked equity, after the books run redeemed what resolved
        output = books.output or {}
        audit = output.get("audit") or {"ok": False, "violations": ["books_workflow_failed"], "checks": []}
        return {
            "closed_at": self.clock.now.isoformat(),
            "unresolved_left": left.get("unresolved", 0),
            "books_status": books.status,
            "books_error": books.error,
            "settled": output.get("settled", {}),
            "settle_error": output.get("settle_error"),
            "audit": audit,
        }


def run_demo(
    seed: int = DEFAULT_SEED,
    out_dir: Path = Path("reports"),
    sim: SimConfig | None = None,
    progress: Callable[[Iterable[Any], int], Iterable[Any]] | None = None,
    log: Callable[[str], None] = print,
    inspect: Callable[[], None] | None = None,
    faults: bool = False,
    exits_every: timedelta = EXITS_EVERY,
    stop_after: timedelta | None = None,
    scoring: ScoringSettings | None = None,
) -> tuple[DemoResult, Path]:
    """Run the day (with `faults`, the seed's fault plan); `inspect` is called at the end while the local AWS still
    holds the day's state. `exits_every`: the exits job's period (the deployed job runs every minute; the demo's
    default is 15 minutes, the tests' may be longer). `stop_after`: replay only the day's first hours, then close as
    usual (the determinism test's shorter day). `scoring`: the settings that pick the tracked wallets (default
    ScoringSettings(); a test's small world may lower the bars, its subject being the copy pipeline)."""
    started = time.perf_counter()
    config = sim or SimConfig(seed=seed, history_days=DEMO_HISTORY_DAYS)
    world = build_world(config)
    built = time.perf_counter()
    chosen = tracked_wallets(world, scoring)
    tracked = {p.wallet for p in chosen}
    feed = [t for t in world.day_trades if t.wallet in tracked]
    truly_skilled = world.skilled_addresses
    log(
        f"world: {len(world.wallets)} wallets ({len(truly_skilled)} skilled), {len(world.markets)} live markets, "
        f"{len(world.day_trades)} trades today; tracking {len(chosen)} wallets "
        f"({len(tracked & truly_skilled)} truly skilled) -> {len(feed)} whale fills to copy"
    )
    plan = None
    if faults:
        markets = {m.condition_id: m for m in world.markets}
        plan = plan_faults(config.seed, feed, markets, [c.name for c in config.categories])
        for retag in plan.retags:
            world.retag(retag.condition_id, retag.event_id, retag.category, retag.at)

    with LocalAws() as aws, SimPolymarketServer(world) as polymarket, ExitStack() as stack:
        resources = aws.resources
        assert resources is not None
        clock = SimClock(world.day_start)
        polymarket.set_time(clock.now)
        settings = load_settings(
            environ={},
            overrides={"clob_url": f"{polymarket.url}/clob", "gamma_url": f"{polymarket.url}/gamma"},
        )
        injected = Injected(plan, clock) if plan is not None else None
        exit_queue = ExitPublisher(aws.client("sqs"), resources.queue_url)
        deps = day_deps(settings, clock, SnsAlerts(resources.alert_topic_arn), injected, exit_queue)
        throttles = None
        if injected is not None:
            throttles = ThrottleHook(injected, settings.account).install(deps.account.items.connection.client)
        wiring.install(deps)
        try:
            deps.account.items.open_account(settings.paper_bankroll, clock.now)
            for profile in chosen:
                deps.whales.put(profile, clock.now)
            day = Day(world, aws, polymarket, deps, clock, injected, exits_every)
            if injected is not None:
                day.redeem_fault = stack.enter_context(RedemptionFault(deps, config.seed))
            day.replay(feed, plan, progress, stop_after)
            closing = day.close()
            polymarket.set_time(world.day_end)  # open positions are marked at the day's end, as the curve's last point
            result = summarise(world, config.seed, chosen, feed, day.outputs, day.feed_counts, deps, day.curve,
                               day.exits.marked_curve)  # fmt: skip
            describe_day(result, day, closing, plan, injected, resources.alert_queue_url, resources.dlq_url)
            result.timing = {
                "world_build_s": round(built - started, 2),
                "total_s": round(time.perf_counter() - started, 2),
                "execution_p50_ms": percentile_ms(day.executions, 50),
                "execution_p99_ms": percentile_ms(day.executions, 99),
            }
            if inspect is not None:
                inspect()
        finally:
            if throttles is not None:
                throttles.remove()
            wiring.install(None)

    path = write_report(result, out_dir)
    return result, path
