import math

import numpy as np
import pytest
from scipy import stats

from copytrader.scoring.calibration import Evidence, benjamini_hochberg, evidence, select

BH_1995_EXAMPLE = [
    0.0001,
    0.0004,
    0.0019,
    0.0095,
    0.0201,
    0.0278,
    0.0298,
    0.0344,
    0.0459,
    0.3240,
    0.4262,
    0.5719,
    0.6528,
    0.7590,
    1.000,
]


def test_bh_reproduces_the_published_example():
    # Benjamini & Hochberg (1995) §4: 15 p-values at q = 0.05 -> the four smallest are rejected
    assert benjamini_hochberg(BH_1995_EXAMPLE, 0.05) == [True] * 4 + [False] * 11


@pytest.mark.parametrize("seed", range(5))
def test_bh_agrees_with_scipy(seed):
    rng = np.random.default_rng(seed)
    p = np.concatenate([rng.uniform(0, 0.01, 10), rng.uniform(0, 1, 90)])
    rng.shuffle(p)
    oracle = stats.false_discovery_control(p, method="bh") <= 0.1
    assert benjamini_hochberg(list(p), 0.1) == list(oracle)


def test_z_and_p_value_against_the_binomial():
    # 100 trades at 0.5, 60 wins: z = (60 - 50) / 5 = 2
    e = Evidence("w", 100, 60, 50.0, 25.0)
    assert e.z == 2.0
    assert math.isclose(e.p_value, stats.norm.sf(2.0), rel_tol=1e-12)
    assert e.edge == pytest.approx(0.10)


def test_buying_favourites_that_win_as_often_as_priced_is_no_edge():
    wallets = ["0xfav"]
    price = np.full(1000, 0.9)
    won = np.zeros(1000, dtype=bool)
    won[:900] = True
    (e,) = evidence(wallets, np.zeros(1000, dtype=np.int64), price, won)
    assert e.wins == 900 and e.expected_wins == pytest.approx(900) and e.z == pytest.approx(0, abs=1e-9)


def test_a_universe_without_skill_usually_selects_nobody():
    rng = np.random.default_rng(7)
    selected_counts = []
    for _ in range(20):
        n = 300 * 50
        idx = rng.integers(0, 300, n)
        price = rng.uniform(0.1, 0.9, n)
        won = rng.uniform(0, 1, n) < price
        chosen = select(evidence([f"0x{i:040x}" for i in range(300)], idx, price, won), q=0.10)
        selected_counts.append(len(chosen))
    assert sum(c == 0 for c in selected_counts) >= 17  # BH at 10%: P(any false selection) <= 0.10 under the null


def test_skilled_wallets_are_found():
    rng = np.random.default_rng(3)
    # power: 200 trades x 0.15 edge = 30 excess wins, sd ~ sqrt(200 x 0.22) = 6.6, so z ~ 4.5 (p ~ 3e-6),
    # far below BH's 0.0005 x rank bar; at 60 trades z ~ 2.5 would mostly miss. Honest tests need evidence.
    n_wallets, per = 200, 200
    idx = np.repeat(np.arange(n_wallets), per)
    price = rng.uniform(0.2, 0.8, idx.size)
    truth = price + np.where(idx < 10, 0.15, 0.0)  # ten wallets with a 15-point edge
    won = rng.uniform(0, 1, idx.size) < truth
    chosen = select(evidence([f"0x{i:040x}" for i in range(n_wallets)], idx, price, won), q=0.10)
    found = {c.wallet for c in chosen}
    assert len(found & {f"0x{i:040x}" for i in range(10)}) >= 8
    assert len(found - {f"0x{i:040x}" for i in range(10)}) <= 2
    assert all(c.status.value == "active" and c.resolved_trades == per for c in chosen)
