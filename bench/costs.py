"""What one copy costs apart from moto: its round trips counted, our own compute timed, and the latency a deployed
copy would add, estimated from those counts and published per-call latencies.

The workload and world are `pipeline_inprocess`'s (bench/workload.py): whale BUYs that fill on the paper venue,
the four handlers called in-process, DynamoDB on moto server, books and markets from a loopback Polymarket. After
the warm-up (the first copies of the process open the account and the day, build every client), each copy is
measured in steady state:

- DynamoDB round trips per operation (`tests.support.round_trips.DynamoCalls`: a `before-send.dynamodb` botocore
  hook, so a retried request counts again) and the size of each TransactWriteItems; HTTP calls to Polymarket (the
  loopback server's request log); then one copy through the Express state machine under moto, to count the states
  it enters and the Lambda tasks among them;
- our compute (`pipeline_compute_*`): the same trades through the four real handlers over in-memory stores
  (bench/memory_stores.py: the AccountBook, the in-memory twin of the DynamoDB account, and dictionaries), timed
  as the CPU time of the calling thread (`time.thread_time`, which other processes on a loaded machine do not
  inflate): Powertools, parsing, the domain, pydantic, the paper fill, and no I/O at all;
- the same with the SDK (`pipeline_compute_with_sdk_*`): the CPU time of the thread running the handlers against
  moto (moto server and the loopback Polymarket answer in threads of their own, so their work and every wait are
  excluded): our work plus PynamoDB and botocore building, signing and parsing each request. A cross-check: the
  handlers' wall time minus the time inside I/O calls (botocore's `Endpoint._send`, the round trip to DynamoDB
  with moto's work, and urllib3's `PoolManager.urlopen`, the Polymarket calls);
- the deployed estimate (`pipeline_aws_estimate_p50_ms`): the median copy's counted calls priced at the per-call
  p50 latencies below (each with its source; the DynamoDB ones were measured from a Lambda function, SDK time
  included), plus the in-memory compute p50.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from typing import Any

import botocore.endpoint
import urllib3

from bench.figure import BenchmarkError, Figure, p
from bench.memory_stores import memory_deps
from bench.workload import (
    PIPELINE_DELAY,
    Workload,
    World,
    bench_settings,
    make_workload,
    pipeline_world,
    run_inline,
    sqs_record,
    stop_reason,
)
from copytrader.local.lambdas import LambdaContext, load_handler
from copytrader.model import WhaleTrade
from copytrader.workflows import COPY, wiring
from tests.support import builders as b
from tests.support.clock import Clock
from tests.support.round_trips import DynamoCalls

WARMUP = 20

# Published p50 latencies of one call, in milliseconds, and where each comes from (README, "Benchmarks").
#   DynamoDB: measured from Lambda in the same region (Alex DeBrie, github.com/alexdebrie/dynamodb-performance-testing,
#   put-batch-transaction-performance/README.md): PutItem p50 7.55 ms, BatchWriteItem (5 items) 8.14 ms,
#   TransactWriteItems 25.3 ms with 5 items and 32.1 ms with 25. AWS documents "single-digit millisecond" averages
#   for GetItem/PutItem (repost.aws/knowledge-center/dynamodb-high-latency); a read is priced as a PutItem.
#   The hops and Polymarket have no published figure we found: they are parameters (stated as such).
DDB_SINGLE_MS = 7.55  # GetItem, PutItem, UpdateItem, Query of a few items
DDB_BATCH_MS = 8.14  # BatchGetItem / BatchWriteItem of a few items
TX_5_MS, TX_25_MS = 25.3, 32.1  # TransactWriteItems of 5 and 25 items; linear in between (and below 5)
LAMBDA_TASK_MS = 15.0  # parameter: Step Functions schedules a Lambda task, Lambda invokes a warm function, returns
STATE_MS = 0.0  # parameter: an Express Choice/Map/Succeed transition (in the engine's memory)
POLYMARKET_RTT_MS = 20.0  # parameter: one HTTPS call on a kept-alive connection from eu-west-1 to the CLOB/Gamma


def transaction_ms(items: int) -> float:
    return TX_5_MS + (items - 5) * (TX_25_MS - TX_5_MS) / 20


def ddb_ms(operations: Counter[str], transaction_sizes: list[int]) -> float:
    batch = operations["BatchGetItem"] + operations["BatchWriteItem"]
    single = operations.total() - batch - operations["TransactWriteItems"]
    return single * DDB_SINGLE_MS + batch * DDB_BATCH_MS + sum(transaction_ms(n) for n in transaction_sizes)


class IoClock:
    """Wall time spent inside I/O calls (outermost calls only), while installed."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._depth = 0

    def wrap(self, method: Callable[..., Any]) -> Callable[..., Any]:
        clock = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            clock._depth += 1
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                clock._depth -= 1
                if clock._depth == 0:
                    clock.seconds += time.perf_counter() - started

        return timed

    @contextmanager
    def installed(self) -> Iterator[IoClock]:
        patched = [(botocore.endpoint.Endpoint, "_send"), (urllib3.PoolManager, "urlopen")]
        originals = [getattr(owner, name) for owner, name in patched]
        for (owner, name), original in zip(patched, originals, strict=True):
            setattr(owner, name, self.wrap(original))
        try:
            yield self
        finally:
            for (owner, name), original in zip(patched, originals, strict=True):
                setattr(owner, name, original)


@dataclass
class Copy:
    operations: Counter[str]
    transaction_sizes: list[int]
    http: list[str]
    wall_s: float
    io_s: float
    cpu_s: float  # CPU time of the calling thread (moto's and the loopback servers' threads excluded)

    @property
    def wall_minus_io_s(self) -> float:
        return self.wall_s - self.io_s


def _handler(name: str) -> Callable[[dict[str, Any]], Any]:
    """The real handler of step `name`, called as Lambda would (event, context)."""
    handler, context = load_handler(COPY, name), LambdaContext(function_name=COPY.function(name))
    return lambda event: handler(event, context)


def _measure(world: World, trades: list[Any], step: dict[str, Callable[[dict[str, Any]], Any]]) -> list[Copy]:
    copies = []
    io = IoClock()
    with io.installed():
        for trade in trades:
            record = sqs_record(trade, world.resources.queue_arn)
            world.start(trade)
            requests_before, io_before = len(world.polymarket.requests), io.seconds
            with DynamoCalls(world.deps.account.items.connection) as calls:
                started, cpu_started = time.perf_counter(), time.thread_time()
                state = run_inline(step, record)
                wall, cpu = time.perf_counter() - started, time.thread_time() - cpu_started
            if (reason := stop_reason(state)) is not None:
                raise BenchmarkError(f"trade {trade.key} did not fill: {reason}")
            http = [path.split("?")[0] for path in world.polymarket.requests[requests_before:]]
            copies.append(Copy(calls.by_operation, calls.transaction_sizes, http, wall, io.seconds - io_before, cpu))
    return copies


def _states(world: World, trade: Any) -> list[str]:
    """The states one FILLED copy enters in the Express state machine under moto, in order."""
    sfn = world.aws.client("stepfunctions")
    world.start(trade)
    arn = sfn.start_execution(
        stateMachineArn=world.resources.state_machine_arn,
        name=f"bench-costs-{trade.key[:40]}",
        input=json.dumps([sqs_record(trade, world.resources.queue_arn)]),
    )["executionArn"]
    while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
        time.sleep(0.005)
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def _memory_compute(workload: Workload, trades: list[WhaleTrade]) -> list[float]:
    """CPU seconds of each copy of `trades` through the four handlers over in-memory stores (after the warm-up)."""
    clock = Clock(b.T0)
    deps = memory_deps(
        bench_settings("http://127.0.0.1:9"),  # never called: every store and book is in memory
        clock,
        whales={w.wallet.lower(): w for w in workload.whales},
        markets={m.condition_id: m for m in workload.markets},
        books=workload.books,
    )
    wiring.install(deps)
    try:
        step = {name: _handler(name) for name in COPY.steps}
        seconds = []
        for trade in trades:
            record = sqs_record(trade, "arn:aws:sqs:us-east-1:000000000000:bench.fifo")
            clock.now = trade.detected_at + PIPELINE_DELAY
            started = time.thread_time()
            state = run_inline(step, record)
            seconds.append(time.thread_time() - started)
            if (reason := stop_reason(state)) is not None:
                raise BenchmarkError(f"in memory, trade {trade.key} did not fill: {reason}")
    finally:
        wiring.install(None)
    return seconds[WARMUP:]


def _task_states(states: dict[str, Any]) -> set[str]:
    """The names of the Task states of an ASL definition (or of its `States`), nested Maps included."""
    found: set[str] = set()
    for name, state in states.get("States", states).items():
        if state.get("Type") == "Task":
            found.add(name)
        if "ItemProcessor" in state:
            found |= _task_states(state["ItemProcessor"])
    return found


def _median_copy(copies: list[Copy]) -> Copy:
    """The copy whose DynamoDB count is the median one (ties: the first)."""
    totals = [c.operations.total() for c in copies]
    return copies[totals.index(statistics.median_low(totals))]


def _mix(copy: Copy) -> str:
    calls = ", ".join(f"{op} {n}" for op, n in sorted(copy.operations.items()))
    return f"{calls}; transactions of {copy.transaction_sizes} items"


def pipeline_costs(args: argparse.Namespace) -> list[Figure]:
    workload = make_workload(WARMUP + args.cost_trades + 1, seed=args.seed)
    trades = list(workload.trades)
    with pipeline_world(workload) as world, open(os.devnull, "w") as sink, redirect_stdout(sink):
        step = {name: _handler(name) for name in COPY.steps}
        _measure(world, trades[:WARMUP], step)
        copies = _measure(world, trades[WARMUP:-1], step)
        states = _states(world, trades[-1])
        in_memory = _memory_compute(workload, trades[:-1])

    tasks = [s for s in states if s in _task_states(COPY.definition())]
    # steady state: the market's copy is younger than its time-to-live; else Gamma is asked and the answer written back
    refreshed = [c for c in copies if "/gamma/markets" in c.http]
    steady = [c for c in copies if "/gamma/markets" not in c.http]
    if not steady or not refreshed:
        raise BenchmarkError(f"{len(steady)} copies with a fresh market and {len(refreshed)} refreshing it: need both")
    typical, typical_refresh = _median_copy(steady), _median_copy(refreshed)
    totals = [c.operations.total() for c in copies]
    with_sdk = [c.cpu_s for c in copies]
    wall_minus_io = [c.wall_minus_io_s for c in copies]
    compute_p50 = p(in_memory, 50)
    ddb = ddb_ms(typical.operations, typical.transaction_sizes)
    estimate = (
        ddb
        + len(tasks) * LAMBDA_TASK_MS
        + (len(states) - len(tasks)) * STATE_MS
        + len(typical.http) * POLYMARKET_RTT_MS
        + compute_p50
    )
    refresh_extra = (
        ddb_ms(typical_refresh.operations, typical_refresh.transaction_sizes)
        - ddb
        + (len(typical_refresh.http) - len(typical.http)) * POLYMARKET_RTT_MS
    )
    n = len(copies)
    return [
        Figure(
            "pipeline_ddb_calls_per_copy",
            typical.operations.total(),
            f"DynamoDB round trips of a warm BUY copy that fills, its market fresh (median of {len(steady)}): "
            f"{_mix(typical)}; target <= 7 (the whale's net shares for mirror exits)",
        ),
        Figure(
            "pipeline_ddb_calls_per_copy_market_refresh",
            typical_refresh.operations.total(),
            f"the same when the market's copy is older than its 60 s time-to-live (median of {len(refreshed)}): "
            f"{_mix(typical_refresh)}; plus a Gamma call",
        ),
        Figure(
            "pipeline_ddb_calls_per_copy_mean",
            statistics.fmean(totals),
            f"mean over all {n} copies of the workload ({len(refreshed)} refreshed their market; a process's first "
            "copy in a market reads its group and category exposures in a second batch)",
        ),
        Figure("pipeline_ddb_calls_per_copy_max", max(totals), f"the most any of the {n} copies made"),
        Figure(
            "pipeline_http_calls_per_copy",
            len(typical.http),
            f"Polymarket calls of that copy: {', '.join(typical.http)}",
        ),
        Figure("pipeline_sfn_states_per_copy", len(states), f"states entered under moto: {' > '.join(states)}"),
        Figure("pipeline_lambda_tasks_per_copy", len(tasks), "Lambda tasks among them"),
        Figure(
            "pipeline_compute_p50_ms",
            compute_p50,
            "our own work per copy: CPU time of the 4 handlers (Powertools, parsing, the domain, the paper fill) "
            "over in-memory stores (bench/memory_stores.py: the AccountBook and dictionaries), no I/O at all",
        ),
        Figure("pipeline_compute_p99_ms", p(in_memory, 99), f"the same, p99 of {len(in_memory)} copies; target <= 5"),
        Figure(
            "pipeline_compute_with_sdk_p50_ms",
            p(with_sdk, 50),
            "CPU time of the thread running the 4 handlers against moto (moto and the loopback Polymarket answer in "
            "other threads): our work plus PynamoDB/botocore building, signing and parsing each request",
        ),
        Figure("pipeline_compute_with_sdk_p99_ms", p(with_sdk, 99), "the same, p99"),
        Figure(
            "pipeline_compute_wall_p50_ms",
            p(wall_minus_io, 50),
            "cross-check of the line above: the handlers' wall time minus the time inside botocore's send and "
            "urllib3's urlopen (other processes on a loaded machine inflate it; CPU time they do not)",
        ),
        Figure(
            "pipeline_aws_estimate_p50_ms",
            estimate,
            f"DynamoDB {ddb:.1f} + {len(tasks)} Lambda tasks x {LAMBDA_TASK_MS:g} + {len(states) - len(tasks)} "
            f"other states x {STATE_MS:g} + {len(typical.http)} Polymarket calls x {POLYMARKET_RTT_MS:g} + "
            f"compute p50 {compute_p50:.1f} ms (bench/costs.py: each figure and its source)",
        ),
        Figure(
            "pipeline_aws_estimate_market_refresh_extra_ms",
            refresh_extra,
            "what a market refresh adds to that (the Gamma call and the write-back)",
        ),
    ]
