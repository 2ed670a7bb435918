"""`copytrader score --simulate` with the selection's adversaries (issue 12, item 6): false discoveries are
counted for each simulated kind separately."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from copytrader.cli.score import main
from copytrader.scoring.universe import score_universe
from copytrader.scoring_settings import ScoringSettings
from copytrader.sim.selection_check import check_against_truth
from tests.unit.scoring.test_universe import AS_OF, evidence, population


def test_simulate_with_adversaries_prints_false_discoveries_per_kind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a market with no skill at all: 300 ordinary wallets, 30 hedgers, 10 one-event insiders and 10
    # leaderboard survivors
    out = tmp_path / "sim.json"
    argv = ["score", "--simulate", "--wallets", "300", "--skilled", "0", "--seed", "3", "--quiet", "--json", str(out)]

    # WHEN it is scored
    code = main([*argv, "--hedged", "30", "--insiders", "10", "--selected-lucky", "10"])

    # THEN every adversary is scored and counted under its own kind, and none is selected
    assert code == 0
    printed = capsys.readouterr().out
    assert "false discoveries 0" in printed
    assert "false discoveries by kind: hedged 0, insider 0, lucky 0, maker 0, noise 0, selected_lucky 0" in printed
    records = json.loads(out.read_text())
    kinds = [r["sim_kind"] for r in records]
    assert len(records) == 350 and {r["trials"] for r in records} == {350}
    assert (kinds.count("hedged"), kinds.count("insider"), kinds.count("selected_lucky")) == (30, 10, 10)
    insiders = [r for r in records if r["sim_kind"] == "insider"]
    # one event each: before the simulated naming (seen by it, left out) or after it (tested: one big win, no test)
    assert all(r["evidence_reason"] == "insufficient_events" and r["test"]["statistic"] is None for r in insiders)
    assert all(r["in_sample_events"] + r["events"] == 1 for r in insiders)
    after = [r for r in insiders if r["events"] == 1]
    assert after and all(r["independent_events"] == 1 and r["pnl_usdc"] > 0 for r in after)


def test_false_discoveries_are_attributed_to_their_kind() -> None:
    # GIVEN a scored universe that selects two wallets, one truly skilled and one that is (by the simulation's
    # truth) an insider
    crowd = population(np.random.default_rng(2))
    star, good = evidence(900, edge=0.10, sharpe=0.6, days=365), evidence(901, edge=0.09, sharpe=0.05)
    universe = score_universe([*crowd, star, good], ScoringSettings(), as_of=AS_OF)
    assert {w.evidence.wallet for w in universe.selected} == {star.wallet, good.wallet}
    kinds = {e.wallet: "noise" for e in crowd} | {star.wallet: "insider", good.wallet: "skilled"}

    # WHEN the selection is checked against that truth
    check = check_against_truth(universe, frozenset({good.wallet}), kinds)

    # THEN the one false discovery is the insider's
    assert (check.selected, check.true_positives, check.false_discoveries) == (2, 1, 1)
    assert check.by_kind == {"insider": 1, "noise": 0}
    assert check.precision == 0.5 and check.recall == 1.0
