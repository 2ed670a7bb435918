"""`copytrader.sim.selection_check`: a simulated world scored and checked against its truth, on the one path that
`copytrader score --simulate` and the selection benchmarks share."""

from __future__ import annotations

import pytest

from copytrader.cli.score import main, render_check
from copytrader.scoring_settings import ScoringSettings
from copytrader.sim import SimConfig, build_world
from copytrader.sim.selection_check import simulate_selection

# no skill at all: 60 ordinary wallets (4 makers, 4 lucky, 52 noise), 5 hedgers and 3 one-event insiders
NULL_WORLD = SimConfig(seed=3, n_wallets=60, history_days=12, n_skilled=0, n_hedged=5, n_insiders=3)
DAY = 86_400


def test_a_world_without_skill_is_scored_and_checked_against_its_truth() -> None:
    # WHEN a world with no skilled wallet is simulated and scored
    run, check, kinds = simulate_selection(NULL_WORLD, ScoringSettings())

    # THEN every wallet's kind is known, the run is as of the live day's start, and nothing is selected
    world = build_world(NULL_WORLD)
    assert len(kinds) == 68 and kinds == {w.address: w.kind.value for w in world.wallets}
    assert [list(kinds.values()).count(k) for k in ("noise", "lucky", "maker", "hedged", "insider")] == [52, 4, 4, 5, 3]
    assert run.as_of == int(world.day_start.timestamp())
    assert (check.selected, check.true_positives, check.false_discoveries, check.skilled) == (0, 0, 0, 0)
    assert check.precision_at_20 == 0.0
    assert check.by_kind == {"hedged": 0, "insider": 0, "lucky": 0, "maker": 0, "noise": 0}  # every unskilled kind


def test_an_earlier_as_of_drops_the_later_trades() -> None:
    world = build_world(NULL_WORLD)
    start = int(world.day_start.timestamp())
    last_day = sum(start - DAY < int(r["timestamp"]) <= start for r in world.history_trade_rows())
    assert last_day > 0

    run, _, _ = simulate_selection(NULL_WORLD, ScoringSettings(), as_of=start - DAY)

    assert run.as_of == start - DAY and run.after_as_of == last_day


def test_the_cli_prints_the_same_check(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN a small world with skill and every adversary
    sim = SimConfig(seed=5, n_wallets=150, n_skilled=6, history_days=20, n_hedged=4, n_insiders=3, n_selected_lucky=3)
    _, check, _ = simulate_selection(sim, ScoringSettings())

    # WHEN `copytrader score --simulate` scores the same world
    argv = ["score", "--simulate", "--wallets", "150", "--skilled", "6", "--seed", "5", "--history-days", "20"]
    code = main([*argv, "--hedged", "4", "--insiders", "3", "--selected-lucky", "3", "--quiet"])

    # THEN it prints the check simulate_selection returns
    assert code == 0
    assert capsys.readouterr().out.endswith(render_check(check, 5) + "\n")
    assert set(check.by_kind) == {"hedged", "insider", "lucky", "maker", "noise", "selected_lucky"}
