"""`copytrader score`: score recorded Data API trades, or a simulated market whose skilled wallets are known.

    copytrader score --trades FILE --markets FILE [--activity FILE] [--json OUT] [--as-of T] [--top N] [--fdr Q]
                     [--named-at T [--looked-from T]]
    copytrader score --simulate [--wallets N --skilled K --seed S --history-days D] [--json OUT]
                               [--hedged H --insiders I --selected-lucky L] [--named-after-days D | --no-split]

Prints the ranked table (best lower bound first) and what cleaning dropped; `--json` writes one object per wallet
(a JSON array, or JSON lines when OUT ends in .jsonl) with the evidence, the score and the reasons: among them
`events` and `independent_events` (the events traded, and those with resolved trades: the clusters of the edge
test), `test` (the edge test's name, statistic, degrees of freedom and p-value), `trials` (every wallet screened:
the m of the false-discovery control and the N of the Deflated Sharpe) and `evidence_reason` (`insufficient_events`
when the wallet has too few independent events to be tested, else null). A trades file in which no row has one of
the required Data API columns exits 2 naming them. With
`--simulate` it also prints precision and recall of the selection against the simulation's truth, the number of
false discoveries (in total and for each unskilled kind separately), and precision@20 of the ranking; each JSON
object then carries `sim_kind`. `--hedged`, `--insiders` and `--selected-lucky` add the selection's adversaries
(copytrader.sim.adversaries: two-leg hedged null bettors, one-event lucky wallets, leaderboard survivors) beyond
the `--wallets`.

The selection split (copytrader.scoring.holdout): with `--named-at` every wallet of the file is tested only on the
events that a naming at that time, looking back to `--looked-from` (default: everything before), could not have
seen; without it there is no split, and the summary says so. `--simulate` names every simulated wallet a third into
the history (`--named-after-days`; the leaderboard survivors are the best by P&L before it) and tests what followed;
`--no-split` scores the whole history instead, for comparison. The JSON then carries `named_at`, `looked_from`,
`in_sample_events`, `post_selection_events`, `post_selection_q` and `confirmed`.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the parser is built on every `copytrader` call: keep numpy and scipy off that path
    from copytrader.scoring.universe import ScoredWallet, Universe
    from copytrader.sim.selection_check import SimulationCheck

TABLE_ROWS = 20


def add_parser(subparsers: Any) -> None:
    """Register `score` on the `copytrader` command's subparsers."""
    parser = subparsers.add_parser("score", help="score whales: recorded trades and markets, or a simulated market")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--trades", help="Data API /trades rows: JSON array, JSON lines or CSV (v1 or v2 fields)")
    source.add_argument("--simulate", action="store_true", help="score a simulated market with known skilled wallets")
    parser.add_argument("--markets", help="JSON array of Gamma market objects (with --trades)")
    parser.add_argument("--activity", help="Data API /activity rows (splits, merges, redemptions), optional")
    parser.add_argument("--json", dest="json_out", help="write one object per wallet to this file")
    parser.add_argument("--as-of", help="score as of this time (ISO 8601 or epoch seconds); default: the data's latest")
    parser.add_argument("--top", type=int, help="largest tracked set (default from settings: 50)")
    parser.add_argument("--fdr", type=float, help="Benjamini-Yekutieli false-discovery rate (default 0.10)")
    parser.add_argument("--reps", type=int, help="bootstrap resamples (default 1000)")
    parser.add_argument("--wallets", type=int, default=1000, help="simulated wallets (default 1000)")
    parser.add_argument("--skilled", type=int, default=20, help="simulated skilled wallets (default 20)")
    parser.add_argument("--seed", type=int, default=20, help="simulation seed (default 20)")
    parser.add_argument("--history-days", type=int, default=30, help="simulated days of resolved history (default 30)")
    parser.add_argument("--hedged", type=int, default=0, help="simulated two-leg hedged null bettors (default 0)")
    parser.add_argument("--insiders", type=int, default=0, help="simulated one-event lucky 'insiders' (default 0)")
    parser.add_argument(
        "--selected-lucky", type=int, default=0, help="simulated leaderboard-selected lucky wallets (default 0)"
    )
    parser.add_argument(
        "--named-at",
        help="with --trades: when whatever picked these wallets named them (ISO 8601 or epoch seconds); each wallet is "
        "then tested only on what that naming could not see. Default: no split (said in the output)",
    )
    parser.add_argument(
        "--looked-from",
        help="with --named-at: where the naming's look began (e.g. 7 days before for a weekly leaderboard); "
        "default: all history before --named-at",
    )
    parser.add_argument(
        "--named-after-days",
        type=float,
        help="with --simulate: the simulated discovery names every wallet this many days into the history "
        "(default: a third of it); each is tested on what it did after",
    )
    parser.add_argument(
        "--no-split",
        action="store_true",
        help="with --simulate: test every wallet on its whole history (for comparison)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def _as_of(text: str | None) -> int | None:
    if text is None:
        return None
    if text.strip().isdigit():
        return int(text.strip())
    parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())


def _fmt(value: float, spec: str) -> str:
    return "-" if value is None or not math.isfinite(value) else format(value, spec)


def render_table(universe: Universe, rows: int = TABLE_ROWS, kinds: dict[str, str] | None = None) -> str:
    """The ranking (selected first, by lower bound), one line per wallet, with its first reason."""
    ranking = universe.ranking()
    shown: list[ScoredWallet] = ranking[:rows]
    shown += [w for w in universe.selected if w not in shown]
    head = (
        f"{'rank':>4} {'wallet':<12} {'status':<9} {'trades':>6} {'resolved':>8} {'pnl_usdc':>11} {'edge':>7} "
        f"{'edge_lo':>7} {'q':>6} {'dsr':>5} {'score':>7} {'score_lo':>8}"
    )
    lines = [head + ("  kind" if kinds else "") + "  note"]
    for w in shown:
        e = w.evidence
        note = next((r for r in w.reasons if not r.startswith("calibrated edge")), w.reasons[0] if w.reasons else "")
        kind = f"  {kinds.get(e.wallet, '?'):<7}" if kinds else ""
        lines.append(
            f"{w.rank if w.rank else '':>4} {e.wallet[:12]:<12} {w.status.value:<9} {e.trades:>6} {e.scored_trades:>8} "
            f"{_fmt(e.pnl_usdc, ',.0f'):>11} {_fmt(e.edge, '+.4f'):>7} {_fmt(e.edge_ci_low, '+.4f'):>7} "
            f"{_fmt(w.q_value, '.3f'):>6} {_fmt(w.dsr, '.2f'):>5} {_fmt(w.score, '+.4f'):>7} "
            f"{_fmt(w.score_ci_low, '+.4f'):>8}{kind}  {note[:90]}"
        )
    return "\n".join(lines)


def _write_json(path: Path, records: Sequence[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r, allow_nan=False) + "\n" for r in records), encoding="utf-8")
    else:
        path.write_text(json.dumps(list(records), indent=1, allow_nan=False), encoding="utf-8")


class _Bar:
    """A tqdm bar opened once the number of wallets is known."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: Any = None

    def start(self, total: int) -> None:
        if not self.quiet:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="scoring wallets", unit="wallet", file=sys.stderr, dynamic_ncols=True)

    def step(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run(args: argparse.Namespace) -> int:
    from copytrader.errors import SettingsError
    from copytrader.settings import load_settings

    try:
        settings = load_settings()
        overrides = {
            k: v for k, v in (("top_n", args.top), ("fdr_q", args.fdr), ("bootstrap_reps", args.reps)) if v is not None
        }
        config = settings.scoring.model_validate({**settings.scoring.model_dump(), **overrides})
    except (SettingsError, ValueError) as exc:
        print(f"invalid scoring settings: {exc}", file=sys.stderr)
        return 2
    try:
        as_of = _as_of(args.as_of)
    except ValueError:
        print(f"--as-of {args.as_of!r} is neither ISO 8601 nor epoch seconds", file=sys.stderr)
        return 2
    if args.simulate:
        return _simulate(args, config, as_of)
    return _recorded(args, config, as_of)


def _score(
    rows: Sequence[object],
    markets: Sequence[object],
    config: Any,
    as_of: int | None,
    quiet: bool,
    activity: Sequence[object] | None = None,
    windows: Any = None,
) -> Any:
    from copytrader.scoring.engine import score_rows

    bar = _Bar(quiet)
    try:
        return score_rows(
            rows,
            markets,
            config,
            as_of=as_of,
            activity=activity,
            progress=bar.step,
            on_loaded=bar.start,
            windows=windows,
        )
    finally:
        bar.close()


def _window(args: argparse.Namespace) -> Any:
    """The window of every wallet of the file: named at --named-at, having looked from --looked-from (None without
    --named-at)."""
    from copytrader.scoring.naming import SelectionWindow

    if args.named_at is None:
        if args.looked_from is not None:
            raise ValueError("--looked-from needs --named-at")
        return None
    named = _as_of(args.named_at)
    assert named is not None
    return SelectionWindow(named, _as_of(args.looked_from))


def _recorded(args: argparse.Namespace, config: Any, as_of: int | None) -> int:
    from copytrader.scoring.market_table import read_markets
    from copytrader.scoring.tape import missing_columns, read_rows

    if not args.markets:
        print("--trades needs --markets (a JSON array of Gamma market objects)", file=sys.stderr)
        return 2
    paths = [Path(args.trades), Path(args.markets), *([Path(args.activity)] if args.activity else [])]
    for needed in paths:
        if not needed.exists():
            print(f"no such file: {needed}", file=sys.stderr)
            return 2
    try:
        rows = read_rows(Path(args.trades))
        markets = read_markets(Path(args.markets))
        activity = read_rows(Path(args.activity)) if args.activity else None
    except (ValueError, UnicodeDecodeError) as exc:
        print(f"unreadable input: {exc}", file=sys.stderr)
        return 2
    missing = missing_columns(rows)
    if missing:  # not Data API /trades rows at all: say so rather than reject every row as malformed
        print(
            f"{args.trades}: no row has the column(s) {', '.join(missing)} (Data API /trades fields)", file=sys.stderr
        )
        return 2
    try:
        windows = _window(args)
    except ValueError as exc:
        print(f"invalid selection window: {exc}", file=sys.stderr)
        return 2
    run = _score(rows, markets, config, as_of, args.quiet, activity, windows)
    print(render_table(run.universe))
    print(_summary(run.report()))
    if args.json_out:
        _write_json(Path(args.json_out), [w.as_record() for w in run.universe.ranking()])
    return 0


def _simulate(args: argparse.Namespace, config: Any, as_of: int | None) -> int:
    from copytrader.sim import SimConfig
    from copytrader.sim.selection_check import simulate_selection

    try:
        sim = SimConfig(
            seed=args.seed,
            n_wallets=args.wallets,
            n_skilled=args.skilled,
            history_days=args.history_days,
            n_hedged=args.hedged,
            n_insiders=args.insiders,
            n_selected_lucky=args.selected_lucky,
            named_after_days=args.named_after_days,
        )
    except ValueError as exc:
        print(f"invalid simulation: {exc}", file=sys.stderr)
        return 2
    bar = _Bar(args.quiet)
    try:
        run, check, kinds = simulate_selection(
            sim, config, as_of, progress=bar.step, on_loaded=bar.start, split=not args.no_split
        )
    finally:
        bar.close()
    print(render_table(run.universe, kinds=kinds))
    print(_summary(run.report()))
    print(render_check(check, sim.seed))
    if args.json_out:
        records = [w.as_record() | {"sim_kind": kinds[w.evidence.wallet]} for w in run.universe.ranking()]
        _write_json(Path(args.json_out), records)
    return 0


def render_check(check: SimulationCheck, seed: int) -> str:
    return (
        f"simulation seed {seed}: selected {check.selected}, skilled among them {check.true_positives} "
        f"(precision {_fmt(check.precision, '.2f')}, recall {_fmt(check.recall, '.2f')} of {check.skilled}), "
        f"false discoveries {check.false_discoveries}, precision@20 of the ranking {check.precision_at_20:.2f}"
    ) + (
        "\nfalse discoveries by kind: " + ", ".join(f"{kind} {n}" for kind, n in check.by_kind.items())
        if check.by_kind
        else ""
    )


def _summary(report: dict[str, Any]) -> str:
    rows, markets, u = report["rows"], report["markets"], report["universe"]
    rejected = ", ".join(f"{k} {v}" for k, v in rows["rejected"].items()) or "none"
    when = datetime.fromtimestamp(report["as_of"], tz=UTC).isoformat() if report["as_of"] else "- (no dated data)"
    return "\n".join(
        [
            f"as of {when}: {rows['rows']} rows -> {rows['trades']} trades ({rows['duplicates']} repeats dropped, "
            f"{rows['merged_legs']} legs merged, {rows['no_tx_hash']} without tx hash; rejected: {rejected}); "
            f"{report['after_as_of']} after the as-of time dropped",
            f"markets: {markets['markets']} ({markets['resolved']} resolved, {markets['fifty_fifty']} 50/50, "
            f"{markets['unresolved']} open); {report['unknown_market_trades']} trades in markets not given",
            f"wallets {u['wallets']}: eligible {u['eligible']} (screened out as makers/bots {u['screened_out']}), "
            f"discovered at FDR {u['fdr_q']} (Benjamini-Yekutieli, m = {u['trials']} trials) {u['discovered']}, "
            f"selected {u['selected']}; {u['insufficient_events']} with fewer than {u['min_independent_events']} "
            "independent events" + ("" if u["selected"] else " - no wallet qualifies"),
            f"deflated Sharpe: {u['dsr_trials']} trials, expected max per-event Sharpe x sqrt(events - 1) of luck "
            f"{_fmt(u['dsr_expected_max_sharpe'], '.3f')}",
            _split_line(u),
        ]
    )


def _split_line(u: dict[str, Any]) -> str:
    if not u.get("split_wallets"):
        return (
            "selection split: none (where these wallets came from is unknown: --named-at tests each on what followed)"
        )
    return (
        f"selection split: {u['split_wallets']} wallets tested only on what their naming could not see "
        f"({u['in_sample_events']} wallet-events it saw left out, {u['without_test_sample']} wallets with nothing "
        f"left to test); confirmed after selection {u['confirmed_after_selection']}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry (tests): `python -m copytrader.cli.score score ...`."""
    parser = argparse.ArgumentParser(prog="copytrader")
    subparsers = parser.add_subparsers(dest="command", required=True)
    add_parser(subparsers)
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
