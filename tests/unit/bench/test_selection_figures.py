"""bench.scoring.selection_figures: the selection benchmarks' arithmetic over per-seed checks."""

from __future__ import annotations

import pytest

from bench.scoring import UNIVERSES, selection_figures
from copytrader.sim.selection_check import SimulationCheck


def _check(selected: int, hits: int, at_20: float, **by_kind: int) -> SimulationCheck:
    return SimulationCheck(selected, hits, selected - hits, 20, at_20, {"noise": 0, **by_kind})


def test_the_figures_average_or_total_over_seeds() -> None:
    checks = {
        "planted": [_check(18, 18, 0.95), _check(17, 16, 0.85, noise=1)],
        "dependent_null": [_check(0, 0, 0.0), _check(1, 0, 0.0, hedged=1), _check(2, 0, 0.0, hedged=2)],
        "insiders": [_check(18, 17, 0.9, insider=1), _check(19, 17, 0.9, insider=2)],
        "selected_lucky": [_check(20, 17, 0.9, selected_lucky=3), _check(18, 18, 0.9, selected_lucky=0)],
    }

    figures = {f.name: f.value for f in selection_figures(checks)}

    assert figures == {
        "selection_precision_at_20": pytest.approx(0.9),  # (0.95 + 0.85) / 2
        "selection_false_discoveries_dependent_null": pytest.approx(1.0),  # (0 + 1 + 2) / 3
        "selection_one_event_insiders_selected": 3,  # 1 + 2, a total
        "selection_recall_90d": pytest.approx(0.85),  # (18 + 16) / 20 / 2
        "selection_selected_lucky_selected": pytest.approx(1.5),  # (3 + 0) / 2
    }


def test_the_universes_are_the_issues() -> None:
    assert UNIVERSES["planted"] == {"n_wallets": 1000, "n_skilled": 20, "history_days": 90}
    null = UNIVERSES["dependent_null"]
    assert null["n_hedged"] == 1000 and null["n_skilled"] == 0  # one noise wallet: the least SimConfig allows
    assert UNIVERSES["insiders"]["n_insiders"] == 50 and UNIVERSES["selected_lucky"]["n_selected_lucky"] == 50
