"""Whale scoring: the daily rescoring budget, row parsing, and selection quality on simulated markets.

scoring_10k_wallets_s
    10,000 wallets x 1,000 trades (10 million trades) over 180 days of markets that resolve, 2% of the wallets
    skilled (they buy what is underpriced), through stage 1 (ledger, edges, 1,000-resample stationary-bootstrap
    CIs, daily risk figures, behaviour screen) and stage 2 (FDR, NPMLE shrinkage, DSR, selection), pinned to one
    core (`sched_setaffinity`, so BLAS threads share it). The trades start as a columnar tape: JSON parsing is
    measured separately (scoring_parse_rows_per_s) because the deployed workflow parses inside each
    Distributed Map batch, in parallel.
scoring_parse_rows_per_s
    Data API v1 rows (dicts) -> cleaned, de-duplicated tape, on the simulated market's rows.
scoring_sim_*
    `copytrader score --simulate` over 20 seeds (1,000 wallets, 20 skilled) at 30 and 90 days of history:
    mean precision@20 of the ranking, mean false discoveries, precision and recall of the selection; and 20
    seeds of a universe with no skilled wallet: the share of runs that select nobody.
selection_*
    The selection's benchmarks (issue 12), 20 seeds each, every one through
    `copytrader.sim.selection_check.simulate_selection` (the path of `copytrader score --simulate`) on four
    worlds (`UNIVERSES`): the planted universe (1,000 wallets, 20 skilled, 90 days) gives the mean precision@20
    of the ranking (target >= 0.9) and the mean recall of the selection; 1,000 hedged two-leg null bettors and
    one noise wallet (the least the simulation allows; nobody skilled) give the mean false discoveries per run
    under dependence (target <= 0.1); the planted universe plus 50 one-event "insiders" gives the insiders
    selected over all seeds (target 0); plus 50 leaderboard-selected lucky wallets, their mean selected per run
    (reported). bench/selection_before.py scores the same worlds with another revision's `copytrader score`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from bench.figure import BenchmarkError, Figure
from copytrader.scoring.evidence import wallet_evidence
from copytrader.scoring.market_table import TokenFacts
from copytrader.scoring.tape import TradeTape
from copytrader.scoring.universe import score_universe
from copytrader.scoring_settings import ScoringSettings
from copytrader.sim.selection_check import SimulationCheck

WALLETS, PER_WALLET, MARKETS, DAYS, SKILLED_SHARE = 10_000, 1_000, 20_000, 180, 0.02
SEEDS = range(20)
DAY = 86_400


def synthetic_universe(
    wallets: int = WALLETS, per_wallet: int = PER_WALLET, seed: int = 0
) -> tuple[TradeTape, TokenFacts, int, np.ndarray]:
    """A columnar universe: markets with true probabilities; skilled wallets pick the underpriced side."""
    rng = np.random.default_rng(seed)
    n = wallets * per_wallet
    start = 1_750_000_000
    pi = rng.beta(2, 2, MARKETS)
    yes_wins = rng.random(MARKETS) < pi
    resolve = start + rng.integers(DAY, DAYS * DAY, MARKETS)
    wallet = np.repeat(np.arange(wallets), per_wallet)
    skilled = rng.random(wallets) < SKILLED_SHARE
    market = rng.integers(0, MARKETS, n)
    # the market's price when traded: truth plus a mispricing the skilled see through
    p_yes = np.clip(pi[market] + rng.normal(0, 0.08, n), 0.02, 0.98).round(2)
    informed = skilled[wallet]
    random_side = rng.integers(0, 2, n)
    token_side = np.where(informed, (pi[market] < p_yes).astype(np.int64), random_side)  # NO when YES is rich
    buy = np.where(informed, True, rng.random(n) < 0.8)
    price = np.where(token_side == 0, p_yes, 1 - p_yes).clip(0.01, 0.99)
    size = (np.exp(rng.normal(3, 1, n)) + 1).round(2)
    timestamp = np.maximum(resolve[market] - rng.integers(3600, 20 * DAY, n), start)
    token = 2 * market + token_side
    order = np.lexsort((token, timestamp, wallet))
    tape = TradeTape(
        wallets=tuple(f"0x{i:040x}" for i in range(wallets)),
        tokens=tuple(str(10**20 + i) for i in range(2 * MARKETS)),
        conditions=tuple(f"0x{i:064x}" for i in range(MARKETS)),
        wallet=wallet[order].astype(np.int64),
        token=token[order].astype(np.int64),
        condition=market[order].astype(np.int64),
        buy=buy[order],
        price=price[order],
        size=size[order],
        fee=np.zeros(n),
        timestamp=timestamp[order].astype(np.int64),
        legs=np.ones(n, dtype=np.int64),
        decision=np.ones(n, dtype=bool),
    )
    payout = np.empty(2 * MARKETS)
    payout[0::2], payout[1::2] = yes_wins, ~yes_wins
    events = MARKETS // 3 + 1
    facts = TokenFacts(
        known=np.ones(2 * MARKETS, dtype=bool),
        outcome=np.tile([0, 1], MARKETS).astype(np.int64),
        payout=payout.astype(np.float64),
        resolved_at=np.repeat(resolve, 2).astype(np.int64),
        price_now=np.full(2 * MARKETS, np.nan),
        event=(np.arange(2 * MARKETS) // 6).astype(np.int64),
        category=(np.arange(2 * MARKETS) // 2 % 9).astype(np.int64),
        fee_rate=np.full(2 * MARKETS, 0.04),
        events=tuple(f"event:{i}" for i in range(events)),
        categories=tuple(f"category{i}" for i in range(9)),
        mismatched_tokens=0,
    )
    return tape, facts, int(resolve.max()) + 1, skilled


def scoring(args: argparse.Namespace) -> list[Figure]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    wallets = WALLETS if not args.quick else 1_000
    tape, facts, as_of, skilled = synthetic_universe(wallets=wallets)
    config = ScoringSettings()
    started = time.perf_counter()
    evidence = wallet_evidence(tape, facts, as_of, config)
    stage1 = time.perf_counter() - started
    universe = score_universe(evidence, config, as_of=as_of)
    total = time.perf_counter() - started
    truth = {tape.wallets[i] for i in np.flatnonzero(skilled)}
    chosen = [w.evidence.wallet for w in universe.selected]
    false = sum(w not in truth for w in chosen)
    if len(chosen) < 0.5 * min(len(truth), config.top_n) or false > max(2, 0.1 * len(chosen)):
        raise BenchmarkError(f"the scorer did not find the planted skill: {len(chosen)} selected, {false} false")
    scale = "" if wallets == WALLETS else f" (quick run: {wallets} wallets)"
    return [
        Figure(
            "scoring_10k_wallets_s", total, f"{wallets} wallets x {PER_WALLET} trades, both stages, one core{scale}"
        ),
        Figure("scoring_stage1_per_wallet_ms", stage1 / wallets * 1000, "ledger + edges + bootstrap CIs per wallet"),
        Figure("scoring_stage2_s", total - stage1, "FDR, NPMLE shrinkage, DSR and selection over the universe"),
        *_parse_figures(),
    ]


def _parse_figures() -> list[Figure]:
    from copytrader.scoring.tape import load_rows
    from copytrader.sim import SimConfig, build_world

    started = time.perf_counter()
    world = build_world(SimConfig(seed=3, n_wallets=1000, n_skilled=20, history_days=30))
    build_s = time.perf_counter() - started
    rows = build_world(SimConfig(seed=1, n_wallets=1000, n_skilled=20)).history_trade_rows()
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        load_rows(rows)
        best = min(best, time.perf_counter() - started)
    return [
        Figure("scoring_parse_rows_per_s", len(rows) / best, f"{len(rows)} Data API v1 rows -> tape, best of 3"),
        Figure("sim_world_build_1000w_30d_s", build_s, f"simulated world, {world.history.n} history trades"),
    ]


def _one_seed(task: tuple[int, int, int]) -> tuple[int, int, float, int, int, int, int]:
    from copytrader.scoring.engine import score_rows
    from copytrader.sim import SimConfig, build_world
    from copytrader.sim.selection_check import check_against_truth

    seed, days, skilled = task
    world = build_world(SimConfig(seed=seed, n_wallets=1000, n_skilled=skilled, history_days=days))
    run = score_rows(
        world.history_trade_rows(),
        world.history_markets_gamma(),
        ScoringSettings(),
        as_of=int(world.day_start.timestamp()),
    )
    check = check_against_truth(run.universe, world.skilled_addresses)
    return days, skilled, check.precision_at_20, check.selected, check.true_positives, check.false_discoveries, seed


def scoring_simulation(args: argparse.Namespace) -> list[Figure]:
    seeds = list(SEEDS)[: 4 if args.quick else len(SEEDS)]
    tasks = [(s, d, 20) for d in (30, 90) for s in seeds] + [(s, 30, 0) for s in seeds]
    with ProcessPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
        results = list(pool.map(_one_seed, tasks))
    figures: list[Figure] = []
    for days in (30, 90):
        rows = [r for r in results if r[0] == days and r[1] == 20]
        selected = sum(r[3] for r in rows)
        figures += [
            Figure(f"scoring_sim_{days}d_precision_at_20", statistics.fmean(r[2] for r in rows), f"{len(rows)} seeds"),
            Figure(f"scoring_sim_{days}d_false_discoveries_mean", statistics.fmean(r[5] for r in rows), "per run"),
            Figure(f"scoring_sim_{days}d_selected_mean", statistics.fmean(r[3] for r in rows), "per run"),
            Figure(
                f"scoring_sim_{days}d_precision",
                sum(r[4] for r in rows) / selected if selected else float("nan"),
                "skilled among all selected, pooled over seeds",
            ),
            Figure(f"scoring_sim_{days}d_recall", statistics.fmean(r[4] / 20 for r in rows), "mean share of 20 found"),
        ]
    null = [r for r in results if r[1] == 0]
    figures.append(
        Figure(
            "scoring_sim_null_selects_nobody_share",
            sum(r[3] == 0 for r in null) / len(null),
            f"{len(null)} seeds, 1,000 wallets, none skilled, 30 days",
        )
    )
    return figures


PLANTED: dict[str, int] = {"n_wallets": 1000, "n_skilled": 20, "history_days": 90}
UNIVERSES: dict[str, dict[str, int]] = {  # SimConfig fields of each selection benchmark's world
    "planted": PLANTED,
    "dependent_null": {
        "n_wallets": 1,
        "n_skilled": 0,
        "n_makers": 0,
        "n_lucky": 0,
        "n_hedged": 1000,
        "history_days": 90,
    },
    "insiders": {**PLANTED, "n_insiders": 50},
    "selected_lucky": {**PLANTED, "n_selected_lucky": 50},
}


def _selection_seed(task: tuple[str, int]) -> tuple[str, int, SimulationCheck, float]:
    from copytrader.sim import SimConfig
    from copytrader.sim.selection_check import simulate_selection

    universe, seed = task
    started = time.perf_counter()
    _, check, _ = simulate_selection(SimConfig(seed=seed, **UNIVERSES[universe]), ScoringSettings())
    elapsed = time.perf_counter() - started
    print(f"  selection {universe} seed {seed}: {elapsed:.0f} s, {check}", file=sys.stderr, flush=True)
    return universe, seed, check, elapsed


def selection_figures(checks: dict[str, list[SimulationCheck]]) -> list[Figure]:
    """The selection benchmarks from each universe's checks (one per seed)."""
    planted, null = checks["planted"], checks["dependent_null"]
    insiders, lucky = checks["insiders"], checks["selected_lucky"]
    n = len(planted)
    return [
        Figure(
            "selection_precision_at_20",
            statistics.fmean(c.precision_at_20 for c in planted),
            f"mean over {n} seeds, planted universe (1,000 wallets, 20 skilled, 90 days); target >= 0.9",
        ),
        Figure(
            "selection_false_discoveries_dependent_null",
            statistics.fmean(c.false_discoveries for c in null),
            f"mean per run, {len(null)} seeds of 1,000 hedged two-leg null wallets (90 days); target <= 0.1",
        ),
        Figure(
            "selection_fdr_false_discoveries_dependent_null",
            statistics.fmean(c.discovered_false for c in null),
            f"mean per run, the same {len(null)} worlds: hedgers passing Benjamini-Yekutieli alone (before the "
            "net-edge bound and the rest of the selection)",
        ),
        Figure(
            "selection_one_event_insiders_selected",
            sum(c.by_kind.get("insider", 0) for c in insiders),
            f"total over {len(insiders)} seeds, planted universe + 50 one-event insiders; target 0",
        ),
        Figure(
            "selection_recall_90d",
            statistics.fmean(c.recall for c in planted),
            f"mean share of the 20 skilled selected, {n} seeds, planted universe",
        ),
        Figure(
            "selection_selected_lucky_selected",
            statistics.fmean(c.by_kind.get("selected_lucky", 0) for c in lucky),
            f"mean per run, {len(lucky)} seeds, planted universe + 50 leaderboard-selected lucky wallets",
        ),
    ]


def selection(args: argparse.Namespace) -> list[Figure]:
    """The selection benchmarks (module docstring); BenchmarkError, naming every figure, when a target is missed."""
    seeds = list(SEEDS)[: 4 if args.quick else len(SEEDS)]
    tasks = [(u, s) for s in seeds for u in UNIVERSES]  # seed-major: a stopped run has every universe
    with ProcessPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
        results = list(pool.map(_selection_seed, tasks))
    checks = {u: [c for name, _, c, _ in results if name == u] for u in UNIVERSES}
    figures = selection_figures(checks)
    figures.append(
        Figure(
            "selection_seed_wall_s",
            statistics.fmean(r[3] for r in results),
            f"mean wall time of one seed (world build + scoring), {len(results)} runs, 2 processes",
        )
    )
    value = {f.name: f.value for f in figures}
    missed = [
        name
        for name, ok in (
            ("selection_precision_at_20", value["selection_precision_at_20"] >= 0.9),
            ("selection_false_discoveries_dependent_null", value["selection_false_discoveries_dependent_null"] <= 0.1),
            ("selection_one_event_insiders_selected", value["selection_one_event_insiders_selected"] == 0),
        )
        if not ok
    ]
    if missed:
        measured = ", ".join(f"{f.name} {f.value:.3f}" for f in figures)
        raise BenchmarkError(f"selection targets missed: {', '.join(missed)} (measured: {measured})")
    return figures
