"""bench.scoring.selection_figures: the selection benchmarks' arithmetic over per-seed checks."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from bench import scoring
from bench.figure import BenchmarkError
from bench.scoring import UNIVERSES, selection_figures
from copytrader.sim.selection_check import SimulationCheck


def _check(selected: int, hits: int, at_20: float, **by_kind: int) -> SimulationCheck:
    return SimulationCheck(selected, hits, selected - hits, 20, at_20, {"noise": 0, **by_kind})


def test_the_figures_average_or_total_over_seeds() -> None:
    checks = {
        "planted": [_check(18, 18, 0.95), _check(17, 16, 0.85, noise=1)],
        "dependent_null": [
            _check(0, 0, 0.0),
            _check(1, 0, 0.0, hedged=1),
            dataclasses.replace(_check(2, 0, 0.0, hedged=2), discovered_false=4),
        ],
        "insiders": [_check(18, 17, 0.9, insider=1), _check(19, 17, 0.9, insider=2)],
        "selected_lucky": [_check(20, 17, 0.9, selected_lucky=3), _check(18, 18, 0.9, selected_lucky=0)],
    }

    figures = {f.name: f.value for f in selection_figures(checks)}

    assert figures == {
        "selection_precision_at_20": pytest.approx(0.9),  # (0.95 + 0.85) / 2
        "selection_false_discoveries_dependent_null": pytest.approx(1.0),  # (0 + 1 + 2) / 3
        "selection_fdr_false_discoveries_dependent_null": pytest.approx(4 / 3),  # (0 + 0 + 4) / 3
        "selection_one_event_insiders_selected": 3,  # 1 + 2, a total
        "selection_recall_90d": pytest.approx(0.85),  # (18 + 16) / 20 / 2
        "selection_selected_lucky_selected": pytest.approx(1.5),  # (3 + 0) / 2
    }


def test_the_universes_are_the_issues() -> None:
    assert UNIVERSES["planted"] == {"n_wallets": 1000, "n_skilled": 20, "history_days": 90}
    null = UNIVERSES["dependent_null"]
    assert null["n_hedged"] == 1000 and null["n_skilled"] == 0  # one noise wallet: the least SimConfig allows
    assert UNIVERSES["insiders"]["n_insiders"] == 50 and UNIVERSES["selected_lucky"]["n_selected_lucky"] == 50


def test_a_missed_target_fails_the_group_and_names_every_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN tiny worlds, where 2 skilled wallets cannot fill a top 20 (precision@20 at most 2 / 20 = 0.1 < 0.9)
    tiny = {"n_wallets": 40, "n_skilled": 2, "n_makers": 1, "n_lucky": 1, "history_days": 3}
    monkeypatch.setattr(
        scoring,
        "UNIVERSES",
        {
            "planted": tiny,
            "dependent_null": {**tiny, "n_skilled": 0, "n_hedged": 5},
            "insiders": {**tiny, "n_insiders": 2},
            "selected_lucky": {**tiny, "n_selected_lucky": 2},
        },
    )
    monkeypatch.setattr(scoring, "SEEDS", range(1))

    # WHEN the selection group runs THEN it fails, naming the missed target and every measured figure
    with pytest.raises(BenchmarkError) as failed:
        scoring.selection(argparse.Namespace(quick=True))
    message = str(failed.value)
    assert message.startswith("selection targets missed: selection_precision_at_20")
    assert "measured: selection_precision_at_20 0.100, " in message and "selection_seed_wall_s" in message
