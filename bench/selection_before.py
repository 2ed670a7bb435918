"""The selection benchmarks' "before" figures: the worlds of bench.scoring.UNIVERSES scored by ANOTHER revision's
`copytrader score --trades --markets` (a checkout given by --repo, e.g. main before issue 12), checked against
this revision's simulated truth.

    PYTHONPATH=$PWD/shared:$PWD .venv/bin/python bench/selection_before.py --repo /work/main --seeds 0-19

For each universe and seed it writes the world's history_trade_rows() and history_markets_gamma() to
OUT/<universe>/<seed>/ (default /tmp/h12b), runs
`cd REPO && PYTHONPATH=REPO/shared REPO/.venv/bin/python -c '<copytrader.cli.main>' score --trades ... --markets ...
--as-of <day_start> --json ... --quiet` and reads the selected wallets and the ranking back from its JSON.
Prints the figures of bench.scoring.selection_figures; writes nothing to bench/results.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.scoring import UNIVERSES, selection_figures  # noqa: E402
from copytrader.sim import SimConfig, build_world  # noqa: E402
from copytrader.sim.selection_check import TOP, SimulationCheck  # noqa: E402


def score_elsewhere(task: tuple[str, int, str, str]) -> tuple[str, int, SimulationCheck, float]:
    universe, seed, repo, out = task
    started = time.perf_counter()
    world = build_world(SimConfig(seed=seed, **UNIVERSES[universe]))
    folder = Path(out) / universe / str(seed)
    folder.mkdir(parents=True, exist_ok=True)
    trades, markets, result = folder / "trades.json", folder / "markets.json", folder / "scored.json"
    trades.write_text(json.dumps(world.history_trade_rows()))
    markets.write_text(json.dumps(world.history_markets_gamma()))
    as_of = str(int(world.day_start.timestamp()))
    entry = "from copytrader.cli import main; raise SystemExit(main())"  # the `copytrader` console script
    command = [f"{repo}/.venv/bin/python", "-c", entry, "score", "--trades", str(trades)]
    command += ["--markets", str(markets), "--as-of", as_of, "--json", str(result), "--quiet"]
    env = {"PYTHONPATH": f"{repo}/shared", "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{universe} seed {seed}: exit {done.returncode}\n{done.stderr[-2000:]}")
    records = json.loads(result.read_text())  # in ranking order
    skilled = world.skilled_addresses
    kinds = {w.address: w.kind.value for w in world.wallets}
    chosen = [r["wallet"] for r in records if r["selected"]]
    hits = sum(w in skilled for w in chosen)
    by_kind = {k: 0 for k in sorted(set(kinds.values())) if k != "skilled"}
    for wallet in chosen:
        if wallet not in skilled:
            by_kind[kinds[wallet]] += 1
    check = SimulationCheck(
        selected=len(chosen),
        true_positives=hits,
        false_discoveries=len(chosen) - hits,
        skilled=len(skilled),
        precision_at_20=sum(r["wallet"] in skilled for r in records[:TOP]) / TOP,
        by_kind=by_kind,
    )
    elapsed = time.perf_counter() - started
    print(f"  before {universe} seed {seed}: {elapsed:.0f} s, {check}", file=sys.stderr, flush=True)
    return universe, seed, check, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", required=True, help="the other revision's checkout (with its .venv)")
    parser.add_argument("--seeds", default="0-19", help="first-last seed (default 0-19)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="/tmp/h12b")
    args = parser.parse_args()
    first, last = (int(x) for x in args.seeds.split("-"))
    tasks = [(u, s, args.repo, args.out) for s in range(first, last + 1) for u in UNIVERSES]
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(score_elsewhere, tasks))
    checks = {u: [c for name, _, c, _ in results if name == u] for u in UNIVERSES}
    for figure in selection_figures(checks):
        print(f"{figure.name}  {figure.value:.3f}  {figure.description}")
    print(f"mean wall time per seed {sum(r[3] for r in results) / len(results):.1f} s over {len(results)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
