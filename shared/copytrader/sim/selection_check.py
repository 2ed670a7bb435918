"""How well a selection finds a simulated world's truth: `simulate_selection` builds a world (copytrader.sim),
scores its resolved history with the scorer (copytrader.scoring.engine.score_rows) and checks the selected set
and the ranking against the wallets' simulated kinds (`SimulationCheck`).

One path for every consumer: `copytrader score --simulate` prints it, the selection benchmarks
(bench/scoring.py) average it over seeds. No printing here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy and scipy stay off the import path of `copytrader --help`
    from copytrader.scoring.engine import ScoreRun
    from copytrader.scoring.naming import SelectionWindow
    from copytrader.scoring.universe import Universe
    from copytrader.scoring_settings import ScoringSettings
    from copytrader.sim.config import SimConfig
    from copytrader.sim.world import SimWorld

TOP = 20  # precision@TOP of the ranking


@dataclass(frozen=True)
class SimulationCheck:
    """How a selection compares with a simulation's truth."""

    selected: int
    true_positives: int
    false_discoveries: int
    skilled: int
    precision_at_20: float
    by_kind: dict[str, int] = field(default_factory=dict)  # false discoveries per simulated kind (every unskilled one)
    # unskilled wallets that passed the false-discovery control (q <= fdr_q), selected or not: what BY alone lets by
    discovered_false: int = 0

    @property
    def precision(self) -> float:
        return self.true_positives / self.selected if self.selected else math.nan

    @property
    def recall(self) -> float:
        return self.true_positives / self.skilled if self.skilled else math.nan


def check_against_truth(
    universe: Universe, skilled: frozenset[str], kinds: dict[str, str] | None = None
) -> SimulationCheck:
    """Precision / recall of the selected set, false discoveries (in total, and per unskilled kind when `kinds`
    maps wallets to their simulated kind), and precision@20 of the ranking."""
    chosen = [w.evidence.wallet for w in universe.selected]
    hits = sum(w in skilled for w in chosen)
    by_kind: dict[str, int] = {}
    if kinds is not None:
        by_kind = {k: 0 for k in sorted(set(kinds.values())) if k != "skilled"}
        for wallet in chosen:
            if wallet not in skilled:
                by_kind[kinds[wallet]] += 1
    top = [w.evidence.wallet for w in universe.ranking()[:TOP]]
    return SimulationCheck(
        selected=len(chosen),
        true_positives=hits,
        false_discoveries=len(chosen) - hits,
        skilled=len(skilled),
        precision_at_20=sum(w in skilled for w in top) / TOP,
        by_kind=by_kind,
        discovered_false=sum(1 for w in universe.wallets if w.discovered and w.evidence.wallet not in skilled),
    )


def simulate_selection(
    sim: SimConfig,
    config: ScoringSettings,
    as_of: int | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    on_loaded: Callable[[int], None] | None = None,
    split: bool = True,
) -> tuple[ScoreRun, SimulationCheck, dict[str, str]]:
    """Build the world of `sim`, score its history as of `as_of` (default: the start of its live day) and check
    the selection against its truth. Returns the run, the check and each wallet's simulated kind.
    With `split` (the default), the simulated discovery named every wallet at `sim.named_at` having looked at all
    of its history before (the leaderboard survivors were picked there), and each wallet is tested on what it did
    after (copytrader.scoring.holdout); without, on its whole history (what the scorer did before the split).
    `progress` / `on_loaded`: the scorer's progress callbacks (copytrader.scoring.engine.score_rows)."""
    from copytrader.scoring.engine import score_rows
    from copytrader.sim.world import build_world

    world = build_world(sim)
    when = as_of if as_of is not None else int(world.day_start.timestamp())
    run = score_rows(
        world.history_trade_rows(),
        world.history_markets_gamma(),
        config,
        as_of=when,
        progress=progress,
        on_loaded=on_loaded,
        windows=discovery_window(world) if split else None,
        trials=len(world.wallets),
    )
    kinds = {w.address: w.kind.value for w in world.wallets}
    return run, check_against_truth(run.universe, world.skilled_addresses, kinds), kinds


def discovery_window(world: SimWorld) -> SelectionWindow:
    """What the simulated discovery saw of every wallet: named at `SimConfig.named_at`, having looked at all of its
    history before (copytrader.scoring.naming)."""
    from copytrader.scoring.naming import SelectionWindow

    return SelectionWindow(int(world.config.named_at.timestamp()))
