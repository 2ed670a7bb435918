"""`copytrader demo`: one simulated trading day through the real copy pipeline on an embedded AWS.

1. Build a seeded simulated Polymarket (`copytrader.sim`) whose skilled wallets are known.
2. Select the tracked wallets from their resolved history (calibrated-edge test with BH control).
3. Start moto server with the deployed resources and a loopback server speaking Polymarket's CLOB,
   Gamma and Data API protocols for the simulated market.
4. Replay the day in time order: each tracked wallet's fill is claimed in the trades table (the
   listener's dedup: a conditional put per canonical key) and published to the SQS FIFO queue and the
   EventBridge bus; a second feed reports some fills again (the claim drops them) and SQS delivers a
   few messages twice (at-least-once, after a visibility timeout); the local
   pipe runs each message through the Express state machine, whose Lambda tasks are the real handlers;
   resolved markets are redeemed and equity is marked every half hour.
5. Summarise and write an HTML report (and its JSON) with the equity curve.
Same seed, same numbers: time is simulated and every id is derived from the seed.
"""

from __future__ import annotations

import heapq
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from copytrader.listener.publish import TradePublisher
from copytrader.local.aws import LocalAws
from copytrader.local.pipe import LocalPipe, pipe_record
from copytrader.local.report import DemoResult, write_report
from copytrader.model import COPYABLE_STATUSES, WhaleProfile, WhaleTrade
from copytrader.runtime.alerts import SnsAlerts
from copytrader.scoring.engine import profiles, score_rows
from copytrader.settings import ScoringSettings, load_settings
from copytrader.sim.config import SimConfig
from copytrader.sim.server import SimPolymarketServer
from copytrader.sim.world import SimWorld, build_world
from copytrader.store.tables import OrderModel
from copytrader.store.trades import SeenTrades
from copytrader.workflows import wiring
from copytrader.workflows.copy.settlement import mark_to_market, settle_resolved

PROCESSING_DELAY = timedelta(milliseconds=250)  # listener receipt -> pipeline start, simulated
SECOND_SOURCE_SHARE = 0.3  # share of fills a second feed reports again within seconds
# share of messages SQS delivers again after the visibility timeout (the pipe's call timed out although the
# execution finished): the same fill reaches the pipeline a second time, inside the trade-age limit
REDELIVERY_SHARE = 0.05
REDELIVERY_AFTER_S = (60.0, 120.0)
SNAPSHOT_EVERY = timedelta(minutes=30)


class SimClock:
    """The pipeline's clock in local mode: simulated time, moved forward by the replay."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def tracked_wallets(world: SimWorld, config: ScoringSettings | None = None) -> list[WhaleProfile]:
    """Score the world's resolved history as of the day's start (copytrader.scoring) and keep the selected set."""
    run = score_rows(
        world.history_trade_rows(),
        world.history_markets_gamma(),
        config or ScoringSettings(),
        as_of=int(world.day_start.timestamp()),
    )
    return [p for p in profiles(run.universe) if p.status in COPYABLE_STATUSES]


def _events(world: SimWorld, feed: list[WhaleTrade]) -> list[tuple[datetime, int, str, Any]]:
    """The day's timeline: (time, tie-break, kind, payload), in order."""
    events: list[tuple[datetime, int, str, Any]] = []
    rng = np.random.default_rng(world.config.seed ^ 0x5EED)
    for i, trade in enumerate(feed):
        events.append((trade.detected_at, 1, "trade", trade))
        if rng.uniform() < SECOND_SOURCE_SHARE:
            events.append((trade.detected_at + timedelta(seconds=float(rng.uniform(0.5, 3))), 2, "echo", trade))
        if rng.uniform() < REDELIVERY_SHARE:
            events.append(
                (trade.detected_at + timedelta(seconds=float(rng.uniform(*REDELIVERY_AFTER_S))), 3, "redeliver", i)
            )
    for resolution in world.resolutions:
        events.append((resolution.resolve_at, 0, "resolve", resolution.condition_id))
    t = world.day_start
    while t <= world.day_end:
        events.append((t, 4, "snapshot", None))
        t += SNAPSHOT_EVERY
    return list(heapq.merge(sorted(events, key=lambda e: (e[0], e[1]))))


DEFAULT_SEED = SimConfig().seed


def run_demo(
    seed: int = DEFAULT_SEED,
    out_dir: Path = Path("reports"),
    sim: SimConfig | None = None,
    progress: Callable[[Iterable[Any], int], Iterable[Any]] | None = None,
    log: Callable[[str], None] = print,
    inspect: Callable[[], None] | None = None,
) -> tuple[DemoResult, Path]:
    """Run the day; `inspect` is called at the end while the local AWS still holds the day's state."""
    started = time.perf_counter()
    config = sim or SimConfig(seed=seed)
    world = build_world(config)
    built = time.perf_counter()
    chosen = tracked_wallets(world)
    tracked = {p.wallet for p in chosen}
    feed = [t for t in world.day_trades if t.wallet in tracked]
    truly_skilled = world.skilled_addresses
    log(
        f"world: {len(world.wallets)} wallets ({len(truly_skilled)} skilled), {len(world.markets)} live markets, "
        f"{len(world.day_trades)} trades today; tracking {len(chosen)} wallets "
        f"({len(tracked & truly_skilled)} truly skilled) -> {len(feed)} whale fills to copy"
    )

    with LocalAws() as aws, SimPolymarketServer(world) as polymarket:
        resources = aws.resources
        assert resources is not None
        clock = SimClock(world.day_start)
        polymarket.set_time(clock.now)
        settings = load_settings(
            environ={},
            overrides={"clob_url": f"{polymarket.url}/clob", "gamma_url": f"{polymarket.url}/gamma"},
        )
        deps = wiring.Deps(settings, clock=clock, alerts=SnsAlerts(resources.alert_topic_arn))
        wiring.install(deps)
        deps.account.items.open_account(settings.paper_bankroll, clock.now)
        seen = SeenTrades()
        for profile in chosen:
            deps.whales.put(profile, clock.now)
        sqs, sfn = aws.client("sqs"), aws.client("stepfunctions")
        publisher = TradePublisher(sqs, resources.queue_url, aws.client("events"), resources.bus_name)
        pipe = LocalPipe(resources, sqs, sfn)

        states: list[dict[str, Any]] = []
        duplicates_results: list[dict[str, Any]] = []
        feed_counts = Counter[str]()
        curve: list[tuple[str, str]] = []
        executions: list[float] = []
        redeemed = Decimal(0)
        events = _events(world, feed)
        iterator = progress(events, len(events)) if progress else events
        for at, _, kind, payload in iterator:
            clock.now = at + (PROCESSING_DELAY if kind in ("trade", "echo", "redeliver") else timedelta(0))
            polymarket.set_time(clock.now)
            if kind in ("trade", "echo"):
                feed_counts["reported" if kind == "trade" else "second_source"] += 1
                if not seen.claim(payload, clock.now):
                    feed_counts["dropped_by_listener_dedup"] += 1
                    continue
                report = publisher.publish([payload])
                feed_counts["failed_publish"] += len(report.failed_queue)
                if not report.failed_queue:
                    seen.mark_published(payload.key, clock.now)
                for execution in pipe.drain():
                    executions.append(execution.seconds)
                    if execution.status != "SUCCEEDED":
                        feed_counts["failed_executions"] += 1
                        continue
                    (states if kind == "trade" else duplicates_results).extend(execution.output)
            elif kind == "redeliver":
                trade = feed[payload]
                record = pipe_record(
                    {"MessageId": f"redelivery-{trade.key}", "ReceiptHandle": "-", "Body": trade.model_dump_json()},
                    resources.queue_arn,
                )
                execution = pipe.run([record])
                executions.append(execution.seconds)
                feed_counts["redelivered"] += 1
                duplicates_results.extend(execution.output or [])
            elif kind == "resolve":
                market = deps.markets.get(payload, clock.now)
                fresh = world.market_at(payload, clock.now)
                if market is None or not market.resolved:
                    deps.markets.put(fresh, clock.now)
                    market = fresh
                for redemption in settle_resolved(market, deps):
                    redeemed += redemption.payout
            elif kind == "snapshot":
                cash, value = mark_to_market(deps)
                curve.append((clock.now.isoformat(), str(cash + value)))

        result = _summarise(world, config.seed, chosen, feed, states, duplicates_results, feed_counts, deps, curve)
        assert aws.dispatch is not None
        result.metrics = {name: int(total) for name, total in sorted(aws.dispatch.metrics.items())}
        alerts = sqs.receive_message(QueueUrl=resources.alert_queue_url, MaxNumberOfMessages=10).get("Messages", [])
        result.risk["alerts_sent"] = len(alerts)
        result.timing = {
            "world_build_s": round(built - started, 2),
            "total_s": round(time.perf_counter() - started, 2),
            "execution_p50_ms": round(float(np.percentile(executions, 50)) * 1000, 1) if executions else 0.0,
            "execution_p99_ms": round(float(np.percentile(executions, 99)) * 1000, 1) if executions else 0.0,
        }
        if inspect is not None:
            inspect()
        wiring.install(None)

    path = write_report(result, out_dir)
    return result, path


def _summarise(
    world: SimWorld,
    seed: int,
    chosen: list[WhaleProfile],
    feed: list[WhaleTrade],
    states: list[dict[str, Any]],
    duplicates: list[dict[str, Any]],
    feed_counts: Counter[str],
    deps: wiring.Deps,
    curve: list[tuple[str, str]],
) -> DemoResult:
    tracked = {p.wallet for p in chosen}
    skilled = world.skilled_addresses
    reasons = Counter[str]()
    outcomes = Counter[str]()
    copies = []
    fees = notional = shares = Decimal(0)
    slippage: list[float] = []
    for state in states:
        signal: dict[str, Any] = state["signal"]
        order, risk, result = state.get("order"), state.get("risk"), state.get("result")
        if result is not None:
            outcomes[f"executed_{result['status'].lower()}"] += 1
            if Decimal(result["filled_shares"]) > 0:
                fees += Decimal(result["fee"])
                shares += Decimal(result["filled_shares"])
                notional += Decimal(result["filled_shares"]) * Decimal(result["avg_price"])
                trade = signal["trade"]
                whale_price = Decimal(trade["price"])
                ours = Decimal(result["avg_price"])
                slippage.append(float((ours - whale_price) if trade["side"] == "BUY" else (whale_price - ours)))
                copies.append(
                    {
                        "at": trade["detected_at"],
                        "wallet": trade["wallet"],
                        "skilled": trade["wallet"] in skilled,
                        "side": trade["side"],
                        "outcome": trade.get("outcome"),
                        "whale_price": trade["price"],
                        "our_price": f"{ours:.4f}",
                        "shares": result["filled_shares"],
                        "fee": result["fee"],
                        "status": result["status"],
                    }
                )
            continue
        for step, payload in (("risk", risk), ("size", order), ("score", signal)):
            if payload is not None and payload.get("reason"):
                reasons[f"{step}: {payload['reason']}"] += 1
                outcomes[f"skipped_at_{step}"] += 1
                break
    answered_from_ledger = sum(1 for d in duplicates if (d.get("result") or {}).get("duplicate") is True)
    orders_per_fill = Counter(entry.trade_key for entry in OrderModel.scan())
    ledger = deps.positions.ledger()
    portfolio = deps.account.reads.state(deps.clock())
    cash, value = mark_to_market(deps)
    start = deps.settings.paper_bankroll
    equity = cash + value
    realized = sum((p.realized_pnl for p in deps.positions.all()), Decimal(0))
    peak, max_dd = Decimal(0), Decimal(0)
    for _, point in curve:
        level = Decimal(point)
        peak = max(peak, level)
        max_dd = max(max_dd, (peak - level) / peak if peak else Decimal(0))
    return DemoResult(
        seed=seed,
        world={
            "wallets": len(world.wallets),
            "skilled_wallets": len(skilled),
            "live_markets": len(world.markets),
            "resolved_today": len(world.resolutions),
            "trades_today_all_wallets": len(world.day_trades),
            "history_fills": int(world.history.n),
        },
        selection={
            "tracked": len(tracked),
            "truly_skilled_among_tracked": len(tracked & skilled),
            "false_discoveries": len(tracked - skilled),
            "precision": round(len(tracked & skilled) / len(tracked), 3) if tracked else None,
            "recall": round(len(tracked & skilled) / len(skilled), 3) if skilled else None,
        },
        feed={
            "whale_fills_seen": len(feed),
            "second_source_reports": feed_counts["second_source"],
            "dropped_by_listener_dedup": feed_counts["dropped_by_listener_dedup"],
            "redelivered_after_visibility_timeout": feed_counts["redelivered"],
            "redeliveries_answered_from_ledger": answered_from_ledger,
            "orders_in_ledger": sum(orders_per_fill.values()),
            "max_orders_per_whale_fill": max(orders_per_fill.values(), default=0),
            "failed_publishes": feed_counts["failed_publish"],
            "failed_executions": feed_counts["failed_executions"],
        },
        outcomes=dict(sorted(outcomes.items())),
        reasons=dict(reasons.most_common()),
        fills={
            "copies_filled": len(copies),
            "shares": str(shares),
            "notional": f"{notional:.2f}",
            "fees": f"{fees:.5f}",
            "mean_price_gap_vs_whale": f"{(sum(slippage) / len(slippage)) if slippage else 0:.4f}",
        },
        money={
            "start_equity": f"{start:.2f}",
            "end_equity": f"{equity:.2f}",
            "pnl": f"{equity - start:.2f}",
            "return_pct": f"{(equity - start) / start * 100:.3f}",
            "realized_pnl": f"{realized:.2f}",
            "unrealized_value": f"{value:.2f}",
            "cash": f"{cash:.2f}",
            "fees": f"{fees:.2f}",
            "ledger_entries": str(len(ledger)),
            "max_drawdown_pct": f"{max_dd * 100:.3f}",
        },
        risk={"breaker_open": portfolio.breaker_open, "day_realized_pnl": str(portfolio.day_realized_pnl)},
        equity_curve=curve,
        copies=copies,
    )
