"""Measure the copy pipeline, the CDK synth, the demo day, the listener and the scorer's stationary bootstrap
(against arch, bench/requirements.txt); merge the figures into bench/results.json.

    .venv/bin/python bench/run.py                                        # everything (make bench), ~7 min
    .venv/bin/python bench/run.py --only pipeline_inprocess --trades 50  # a smoke run, ~10 s
    .venv/bin/python bench/run.py --only pipeline_costs                  # round trips, compute, AWS estimate
    .venv/bin/python bench/run.py --only bootstrap                       # bootstrap vs arch, ~15 s
    .venv/bin/python bench/run.py --only cold_import                     # handler imports as Lambda pays them

Each figure group runs in a fresh interpreter. results.json is one flat object, figure name -> value, the
unit in the name; a run updates the figures it measured and keeps every other key. The printed table also
names the machine the numbers came from.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # bench.* and tests.support.* (copytrader is installed in the venv)

from bench.bootstrap import bootstrap  # noqa: E402
from bench.cold_import import cold_import  # noqa: E402
from bench.costs import pipeline_costs  # noqa: E402
from bench.exits import exit_tick_to_decision  # noqa: E402
from bench.figure import BenchmarkError, Figure, p  # noqa: E402
from bench.listener import listener_frames, listener_task, listener_to_queue  # noqa: E402
from bench.scoring import scoring, scoring_simulation, selection  # noqa: E402
from bench.workload import make_workload, pipeline_world, run_inline, sqs_record, stop_reason  # noqa: E402
from copytrader.listener.publish import TradePublisher  # noqa: E402
from copytrader.local.lambdas import LambdaContext, load_handler  # noqa: E402
from copytrader.local.pipe import LocalPipe  # noqa: E402
from copytrader.workflows import COPY  # noqa: E402

RESULTS = ROOT / "bench" / "results.json"
WARMUP = 20
SEED = 7


def latency_figures(prefix: str, samples_s: list[float], description: str) -> list[Figure]:
    """p50, p99 and mean of per-trade latencies, plus the p50 of the first and last tenth of the run.

    The last two show drift: a cost that grows with the tables (moto's own TransactWriteItems deep-copies
    every table it touches; local mode replaces that with item-level backups, `copytrader.local.moto_fixes`)
    would show as a last tenth slower than the first.
    """
    tenth = max(2, len(samples_s) // 10)
    return [
        Figure(f"{prefix}_p50_ms", p(samples_s, 50), description),
        Figure(f"{prefix}_p99_ms", p(samples_s, 99), description),
        Figure(f"{prefix}_mean_ms", statistics.fmean(samples_s) * 1000, description),
        Figure(f"{prefix}_first10pct_p50_ms", p(samples_s[:tenth], 50), f"p50 of the first {tenth} trades"),
        Figure(f"{prefix}_last10pct_p50_ms", p(samples_s[-tenth:], 50), f"p50 of the last {tenth} trades"),
    ]


def require_filled(states: list[dict[str, Any]], what: str) -> None:
    stopped = [(i, reason) for i, state in enumerate(states) if (reason := stop_reason(state))]
    if stopped:
        i, reason = stopped[0]
        raise BenchmarkError(f"{what}: {len(stopped)} of {len(states)} trades did not fill; trade #{i}: {reason}")


# ------------------------------------------------------------------------------------------ figures
Step = Callable[[dict[str, Any]], Any]  # a handler called with the state only (bench.workload.run_inline)


def timed(name: str, samples: list[float]) -> Step:
    """The real handler `name`, called as Lambda would (event, context), its wall time appended to samples."""
    handler = load_handler(COPY, name)

    def call(event: dict[str, Any]) -> Any:
        started = time.perf_counter()
        output = handler(event, LambdaContext(function_name=COPY.function(name)))
        samples.append(time.perf_counter() - started)
        return output

    return call


def pipeline_inprocess(args: argparse.Namespace) -> list[Figure]:
    """score -> size -> risk_check -> execute through the real handlers, called in this process."""
    workload = make_workload(WARMUP + args.trades, seed=args.seed)
    step_s: dict[str, list[float]] = {name: [] for name in COPY.steps}
    totals: list[float] = []
    states = []
    # the handlers print their EMF metric lines to stdout, as in Lambda: discard them
    with pipeline_world(workload) as world, open(os.devnull, "w") as sink, redirect_stdout(sink):
        # loaded inside LocalAws, as it loads its own copies: same environment, so the same log level (WARNING)
        step = {name: timed(name, samples) for name, samples in step_s.items()}
        for trade in workload.trades:
            record = sqs_record(trade, world.resources.queue_arn)
            world.start(trade)
            started = time.perf_counter()
            states.append(run_inline(step, record))
            totals.append(time.perf_counter() - started)
    require_filled(states, "pipeline_inprocess")

    what = f"per trade: the 4 handlers called in-process; {args.trades} trades after {WARMUP} warm-up, all FILLED"
    return [
        *latency_figures("pipeline_inprocess", totals[WARMUP:], what),
        *(
            Figure(f"{name}_p50_ms", p(samples[WARMUP:], 50), f"{name} handler alone")
            for name, samples in step_s.items()
        ),
    ]


def pipeline_local_sfn(args: argparse.Namespace) -> list[Figure]:
    """The same trades through SQS FIFO -> LocalPipe -> the Express state machine under moto, one at a time."""
    workload = make_workload(WARMUP + args.sfn_trades, seed=args.seed)
    totals: list[float] = []
    executions: list[float] = []
    states = []
    with pipeline_world(workload) as world:
        resources, aws = world.resources, world.aws
        sqs, sfn = aws.client("sqs"), aws.client("stepfunctions")
        publisher, pipe = TradePublisher(sqs, resources.queue_url), LocalPipe(resources, sqs, sfn)
        for trade in workload.trades:
            world.start(trade)
            started = time.perf_counter()
            report = publisher.publish([trade])
            ran = pipe.drain()
            totals.append(time.perf_counter() - started)
            if report.queued != 1 or [e.status for e in ran] != ["SUCCEEDED"]:
                raise BenchmarkError(f"trade {trade.key}: queued {report.queued}, executions {ran}")
            executions.append(ran[0].seconds)
            states.append(ran[0].output[0])
    require_filled(states, "pipeline_local_sfn")

    what = f"per trade: SQS send -> execution done; {args.sfn_trades} trades after {WARMUP} warm-up, all FILLED"
    return [
        *latency_figures("pipeline_local_sfn", totals[WARMUP:], what),
        Figure("pipeline_local_sfn_execution_p50_ms", p(executions[WARMUP:], 50), "its start_execution -> finished"),
    ]


def synth(args: argparse.Namespace) -> list[Figure]:
    """`cdk synth --quiet` wall time after one warm-up synth (into a temporary folder, not cdk.out/)."""
    cdk = ROOT / "node_modules" / ".bin" / "cdk"
    if not cdk.exists():
        print(f"synth: skipped, {cdk.relative_to(ROOT)} is missing (run `npm ci` or `make synth` once)")
        return []
    env = {
        **os.environ,
        "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    with tempfile.TemporaryDirectory(prefix="bench-cdk-") as out:
        command = [str(cdk), "synth", "--quiet", "--output", out]

        def run() -> float:
            started = time.perf_counter()
            done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise BenchmarkError(f"cdk synth failed ({done.returncode}):\n{done.stderr[-2000:]}")
            return time.perf_counter() - started

        run()
        return [Figure("synth_s", run(), "wall time of `cdk synth --quiet` (after one warm-up synth)")]


def demo_day(args: argparse.Namespace) -> list[Figure]:
    """One `run_demo()` with the default seed: the simulated day through the local state machine."""
    from copytrader.local.demo import run_demo

    with tempfile.TemporaryDirectory(prefix="bench-demo-") as out:
        started = time.perf_counter()
        result, _ = run_demo(out_dir=Path(out), progress=None, log=lambda _line: None)
        elapsed = time.perf_counter() - started
    return [
        Figure("demo_day_s", elapsed, "wall time of one run_demo() (default seed), world build to report"),
        Figure("demo_execution_p50_ms", result.timing["execution_p50_ms"], "demo's per-execution p50 (its timing)"),
    ]


GROUPS: dict[str, Callable[[argparse.Namespace], list[Figure]]] = {
    "pipeline_inprocess": pipeline_inprocess,
    "pipeline_local_sfn": pipeline_local_sfn,
    "pipeline_costs": pipeline_costs,
    "cold_import": cold_import,
    "synth": synth,
    "demo_day": demo_day,
    "listener_frames": listener_frames,
    "listener_to_queue": listener_to_queue,
    "listener_task": listener_task,
    "exit_tick_to_decision": exit_tick_to_decision,
    "bootstrap": bootstrap,
    "scoring": scoring,
    "scoring_simulation": scoring_simulation,
    "selection": selection,
}


def isolated(name: str, args: argparse.Namespace) -> list[Figure]:
    """Run one figure group in a fresh interpreter.

    A group leaves state behind that would skew the next: moto's process-wide backends (a long pipeline run
    leaves millions of tracked objects, see `latency_figures`), the garbage collector's thresholds, the heap.
    """
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(GROUPS[name], args).result()


# --------------------------------------------------------------------------------------- reporting
def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), None)
    return (
        f"{model or platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()} ({platform.system()} {platform.machine()})"
    )


def write_results(figures: list[Figure], path: Path = RESULTS) -> None:
    """Merge into the existing file (other figures stay), keys sorted, replaced atomically."""
    merged: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    merged.update({f.name: round(f.value, 3) for f in figures})
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(dict(sorted(merged.items())), indent=2) + "\n")
    os.replace(temporary, path)


def table(figures: list[Figure]) -> str:
    rows = [("figure", "value", "what it measures")] + [(f.name, f"{f.value:,.2f}", f.description) for f in figures]
    name_width, value_width = (max(len(row[i]) for row in rows) for i in (0, 1))
    return "\n".join(f"{name.ljust(name_width)}  {value.rjust(value_width)}  {what}" for name, value, what in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(GROUPS)}")
    parser.add_argument("--trades", type=int, default=1000, help="trades for pipeline_inprocess (default 1000)")
    parser.add_argument("--sfn-trades", type=int, default=300, help="trades for pipeline_local_sfn (default 300)")
    parser.add_argument("--cost-trades", type=int, default=500, help="trades for pipeline_costs (default 500)")
    parser.add_argument("--import-samples", type=int, default=7, help="fresh interpreters per cold_import figure (7)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"workload seed (default {SEED})")
    parser.add_argument("--quick", action="store_true", help="smaller scoring groups (a smoke run, not the figures)")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(GROUPS)
    unknown = [n for n in names if n not in GROUPS]
    if unknown:
        parser.error(f"unknown figure group {', '.join(unknown)}; choose from {', '.join(GROUPS)}")
    if min(args.trades, args.sfn_trades) < 20:
        parser.error("--trades and --sfn-trades need at least 20 trades (percentiles of each tenth)")

    figures: list[Figure] = []
    for name in names:
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        figures += isolated(name, args)
        print(f"  {name} took {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    if figures:
        write_results(figures)
        print(f"\n{table(figures)}\n\nwritten: {RESULTS.relative_to(ROOT)}")
    print(f"machine: {machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
