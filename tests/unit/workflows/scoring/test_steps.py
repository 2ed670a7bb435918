"""The scoring workflow without AWS: the run plan (ids, batches, candidates, tolerance, the copied set) and the three
steps over in-memory stores and the fake Data API / Gamma through httpx's MockTransport (sockets stay off)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from copytrader.discovery.cache import DiscoveryCache, MemoryCacheStore
from copytrader.discovery.run import Readers
from copytrader.errors import IncompleteRun, TransientError
from copytrader.model import WhaleProfile, WhaleStatus
from copytrader.scoring.engine import evidence_from_rows
from copytrader.settings import load_settings
from copytrader.sim import build_world
from copytrader.workflows.scoring import plan as workflow
from copytrader.workflows.scoring.plan import RunKeys
from copytrader.workflows.scoring.readers import connect_readers
from copytrader.workflows.scoring.run_store import MemoryRunStore, dumps
from copytrader.workflows.scoring.steps import discover, evidence, select
from copytrader.workflows.wiring import Deps
from tests.support.data_api_rows import leaderboard_row
from tests.support.fake_data_api import FakeDataApi
from tests.support.sim_worlds import SMALL_WORLD

T0 = datetime(2026, 11, 2, 5, 0, tzinfo=UTC)
A, B, C, D = "0x" + "a" * 40, "0x" + "b" * 40, "0x" + "c" * 40, "0x" + "d" * 40


# ------------------------------------------------------------------------------------------- the run plan
def test_run_ids_sort_by_start_time_and_keep_to_safe_characters() -> None:
    started = workflow.parse_time("2026-11-02T05:00:00.123Z")
    assert started == datetime(2026, 11, 2, 5, 0, 0, 123000, tzinfo=UTC)
    run_id = workflow.run_id_for(started, "9f1c/../x y")
    assert run_id == "20261102T050000Z-9f1c-x-y"
    keys = RunKeys(run_id)
    assert keys.items == f"runs/{run_id}/items.json"
    assert keys.evidence(7) == f"runs/{run_id}/evidence/00007.json"
    with pytest.raises(ValueError):
        RunKeys("../other")
    with pytest.raises(ValueError):
        workflow.parse_time("2026-11-02T05:00:00")  # no zone


def test_tracked_wallets_are_always_scored_and_kept_first_under_the_cap() -> None:
    tracked = [
        WhaleProfile(wallet=C, status=WhaleStatus.PAUSED),
        WhaleProfile(wallet=B, status=WhaleStatus.ACTIVE),
    ]
    plan = workflow.plan_candidates(
        {A: ["leaderboard:PNL/ALL/OVERALL#1 pnl=5"], B: ["large_trade:9000 tx=0x1"]}, tracked
    )
    assert plan.wallets == [A, B, C]
    assert plan.provenance[B] == ["tracked:active", "large_trade:9000 tx=0x1"]
    assert plan.provenance[C] == ["tracked:paused"]
    assert (plan.tracked, plan.discovered, plan.dropped) == (2, 2, [])

    capped = workflow.plan_candidates({A: ["x"]}, tracked, cap=1)
    assert capped.wallets == [B] and capped.dropped == [A, C]  # a copied wallet before a paused one


def test_each_wallet_keeps_the_window_of_its_first_naming() -> None:
    now = 1_800_000_000
    day = 86_400
    first = datetime.fromtimestamp(now - 30 * day, tz=UTC)
    chosen = datetime.fromtimestamp(now - 9 * day, tz=UTC)
    tracked = [
        # named a month ago by a weekly ranking, selected nine days ago: kept whatever names it today
        WhaleProfile(wallet=B, status=WhaleStatus.PROBATION, named_at=first, looked_from=first - timedelta(days=7),
                     selected_at=chosen),
        # a row from before windows existed: named at its earliest known scoring, having looked at everything
        WhaleProfile(wallet=C, status=WhaleStatus.CANDIDATE, status_since=chosen, scored_at=first),
    ]  # fmt: skip
    provenance = {
        A: ["leaderboard:PNL/WEEK/OVERALL#2 pnl=10", "large_trade:9000 tx=0x1"],  # new: the widest look, 7 days
        B: ["tracked:probation", "leaderboard:PNL/ALL/OVERALL#1 pnl=5"],
        C: ["tracked:candidate"],
        D: ["leaderboard:PNL/ALL/OVERALL#9 pnl=1"],  # new, all-time: everything before now
    }
    windows = workflow.selection_windows(provenance, tracked, now)
    assert windows == {
        A: {"named_at": now, "looked_from": now - 7 * day, "selected_at": None},
        B: {"named_at": now - 30 * day, "looked_from": now - 37 * day, "selected_at": now - 9 * day},
        C: {"named_at": now - 30 * day, "looked_from": None, "selected_at": None},
        D: {"named_at": now, "looked_from": None, "selected_at": None},
    }  # fmt: skip
    assert json.loads(json.dumps(windows)) == windows  # what candidates.json holds
    parsed = workflow.windows_from_json(windows)
    assert (parsed[B].named_at, parsed[B].selected_at) == (now - 30 * day, now - 9 * day)


def test_batches_hold_at_most_batch_size_wallets_in_order() -> None:
    wallets = [f"0x{i:040x}" for i in range(23)]
    items = workflow.batches(wallets)
    assert [item["batch"] for item in items] == [0, 1, 2]
    assert [len(item["wallets"]) for item in items] == [10, 10, 3]
    assert [w for item in items for w in item["wallets"]] == wallets
    assert workflow.batches([]) == []


def test_tolerance_is_step_functions_percentage_rule() -> None:
    assert workflow.within_tolerance(0, 0)
    assert workflow.within_tolerance(1, 10)  # 10 % of 10 batches may fail
    assert not workflow.within_tolerance(2, 10)
    assert not workflow.within_tolerance(1, 3)


def test_children_together_stay_within_the_documented_rates() -> None:
    for documented in (workflow.TRADES_LIMIT, workflow.DATA_API_LIMIT, workflow.GAMMA_MARKETS_LIMIT):
        per_child = workflow.child_rate(documented)
        assert per_child >= 1
        assert per_child * workflow.MAX_CONCURRENCY <= workflow.BUDGET_SHARE * documented
    assert workflow.child_rate(workflow.TRADES_LIMIT) == 30


def test_the_maps_collected_results_stay_far_below_the_payload_limit() -> None:
    batches = workflow.MAX_WALLETS // workflow.BATCH_SIZE
    worst = [
        {"batch": i, "wallets": workflow.BATCH_SIZE, "scored": workflow.BATCH_SIZE, "failed": 0} for i in range(batches)
    ]
    assert len(json.dumps(worst)) < 256 * 1024 // 2


def test_selection_change_names_who_joins_leaves_and_moves() -> None:
    before = {A: WhaleStatus.ACTIVE, B: WhaleStatus.PROBATION, C: WhaleStatus.CANDIDATE}
    after = {A: WhaleStatus.PAUSED, B: WhaleStatus.ACTIVE, C: WhaleStatus.PROBATION}
    change = workflow.selection_change(before, after)
    assert change.added == {C: "probation"}
    assert change.removed == {A: "paused"}
    assert change.moved == {B: ("probation", "active")}
    assert change.changed and change.selected == 2
    assert workflow.SelectionChange.from_dict(json.loads(json.dumps(change.as_dict()))) == change
    assert not workflow.selection_change(before, {**before}).changed


def test_cleaning_reports_add_up_across_batches() -> None:
    one = {"load": {"rows": 10, "trades": 8, "rejected": {"bad_price": 2}}, "markets": {"markets": 3}, "after_as_of": 1}
    two = {"load": {"rows": 5, "trades": 5, "rejected": {"bad_price": 1, "no_wallet": 4}}, "fetch_failed": {A: "x"}}
    combined = workflow.combined_reports([one, two])
    assert combined["rows"] == {"rows": 15, "trades": 13, "rejected": {"bad_price": 3, "no_wallet": 4}}
    assert combined["markets"] == {"markets": 3, "rejected": {}}
    assert (combined["after_as_of"], combined["fetch_failed"]) == (1, 1)


def test_documents_are_strict_json() -> None:
    assert json.loads(dumps({"x": float("nan"), "y": [float("inf"), 1.5]})) == {"x": None, "y": [None, 1.5]}


# ------------------------------------------------------------------------------------------- the steps
class FakeWhales:
    def __init__(self, profiles: Sequence[WhaleProfile] = ()) -> None:
        self.rows = {p.wallet: p for p in profiles}
        self.writes = 0

    def all(self) -> list[WhaleProfile]:
        return list(self.rows.values())

    def put_many(self, profiles: Sequence[WhaleProfile], now: datetime) -> int:
        self.writes += 1
        self.rows.update({p.wallet: p for p in profiles})
        return len(profiles)


async def _no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


def _deps(fake: FakeDataApi, whales: FakeWhales, runs: MemoryRunStore | None = None, **settings: Any) -> Deps:
    cache = DiscoveryCache(MemoryCacheStore())

    def readers() -> AbstractAsyncContextManager[Readers]:
        return connect_readers("http://fake/data", "http://fake/gamma", transport=fake.transport(), sleep=_no_wait)

    return Deps(
        load_settings(environ={}, overrides=settings),
        clock=lambda: T0,
        runs=runs or MemoryRunStore(),
        whales=whales,
        readers=readers,
        cache=cache,
    )


@pytest.fixture
def world_api() -> tuple[FakeDataApi, Any]:
    world = build_world(SMALL_WORLD)
    fake = FakeDataApi()
    fake.add_trades(world.history_trade_rows())
    fake.markets.update({str(m["conditionId"]): m for m in world.history_markets_gamma()})
    return fake, world


def _discover_event(name: str = "exec-1", **given: Any) -> dict[str, Any]:
    return {"input": given, "execution": name, "started_at": "2026-11-02T05:00:00.000Z"}


def test_discover_writes_the_batches_of_leaderboard_and_tracked_wallets() -> None:
    fake = FakeDataApi()
    fake.leaderboards[("OVERALL", "ALL", "PNL")] = [
        leaderboard_row(1, A, 10.0, 100.0),
        leaderboard_row(2, B, 5.0, 50.0),
    ]
    whales = FakeWhales([WhaleProfile(wallet=C, status=WhaleStatus.PAUSED)])
    deps = _deps(fake, whales)

    result = discover(_discover_event(as_of="2026-11-01T00:00:00Z"), deps)

    keys = RunKeys("20261102T050000Z-exec-1")
    assert result.output == {
        "run_id": keys.run_id,
        "as_of": int(datetime(2026, 11, 1, tzinfo=UTC).timestamp()),
        "items_key": keys.items,
        "batches": 1,
        "wallets": 3,
    }
    assert deps.runs.get_json(keys.items) == [{"batch": 0, "wallets": [A, B, C]}]
    candidates = deps.runs.get_json(keys.candidates)
    assert candidates["wallets"][C] == ["tracked:paused"]
    assert candidates["wallets"][A][0].startswith("leaderboard:PNL/ALL/OVERALL#1")
    assert result.counts["candidates"] == 3 and result.counts["tracked"] == 1 and result.counts["discovered"] == 2
    assert next(q for p, q in fake.requests if p == "/data/trades")["filterAmount"] == ["5000"]


def test_discover_with_nobody_to_score_plans_no_batch() -> None:
    deps = _deps(FakeDataApi(), FakeWhales())
    result = discover(_discover_event(), deps)
    assert result.output["batches"] == 0 and result.output["wallets"] == 0
    assert deps.runs.get_json(result.output["items_key"]) == []


def test_discover_fails_retryably_when_every_discovery_query_fails() -> None:
    fake = FakeDataApi()
    for path in ("/data/v1/leaderboard", "/data/trades"):
        fake.fail(path, 400, times=20)
    with pytest.raises(TransientError, match="every discovery query failed"):
        discover(_discover_event(), _deps(fake, FakeWhales()))


def test_evidence_of_a_batch_is_stage_one_on_its_rows_and_a_refresh_reads_from_the_cache(world_api: Any) -> None:
    fake, world = world_api
    wallets = sorted(world.skilled_addresses)[:2] + sorted(w.address for w in world.wallets)[:3]
    deps = _deps(fake, FakeWhales())
    as_of = int(world.day_start.timestamp())
    event = {"run_id": "r1", "as_of": as_of, "batch": 3, "wallets": wallets}

    first = evidence(event, deps)

    document = deps.runs.get_json(RunKeys("r1").evidence(3))
    rows = [r for r in world.history_trade_rows() if r["proxyWallet"] in set(wallets)]
    direct = evidence_from_rows(rows, world.history_markets_gamma(), deps.settings.scoring, as_of=as_of, activity=[])
    assert json.loads(dumps(document["records"])) == json.loads(dumps([e.as_record() for e in direct.evidence]))
    assert first.output == {"batch": 3, "wallets": 5, "scored": len(direct.evidence), "failed": 0}
    assert first.counts["rows"] == len(rows) and first.counts["cached_rows"] == 0

    gamma_before = len(fake.requests_to("/gamma/markets"))
    second = evidence(event, deps)
    assert second.counts["cached_rows"] == len(rows)  # every row came from the cache; the refresh found none new
    assert len(fake.requests_to("/gamma/markets")) == gamma_before  # resolved markets are cached for good
    assert deps.runs.get_json(RunKeys("r1").evidence(3))["records"] == document["records"]


def test_evidence_fails_the_batch_when_markets_cannot_be_looked_up(world_api: Any) -> None:
    fake, world = world_api
    fake.fail("/gamma/markets", 400, times=50)
    event = {
        "run_id": "r1",
        "as_of": int(world.day_start.timestamp()),
        "batch": 0,
        "wallets": sorted(world.skilled_addresses),
    }
    with pytest.raises(TransientError, match="Gamma markets not looked up"):
        evidence(event, _deps(fake, FakeWhales()))


def _run_with_evidence(runs: MemoryRunStore, records: dict[int, list[dict[str, Any]] | None]) -> dict[str, Any]:
    keys = RunKeys("r1")
    runs.put_json(keys.items, [{"batch": b, "wallets": []} for b in records])
    for batch, found in records.items():
        if found is not None:
            runs.put_json(keys.evidence(batch), {"batch": batch, "records": found, "load": {"rows": len(found)}})
    return {
        "run_id": "r1",
        "as_of": int(T0.timestamp()),
        "items_key": keys.items,
        "batches": len(records),
        "wallets": 0,
    }


@pytest.fixture
def world_records(world_api: Any) -> list[dict[str, Any]]:
    _, world = world_api
    run = evidence_from_rows(
        world.history_trade_rows(),
        world.history_markets_gamma(),
        load_settings(environ={}).scoring,
        as_of=int(world.day_start.timestamp()),
    )
    return [json.loads(dumps(e.as_record())) for e in run.evidence]


def test_select_refuses_a_run_with_too_many_missing_batches(world_records: list[dict[str, Any]]) -> None:
    runs, whales = MemoryRunStore(), FakeWhales()
    event = _run_with_evidence(runs, {0: world_records[:40], 1: None, 2: world_records[40:]})
    with pytest.raises(IncompleteRun, match="1 of 3 evidence batches are missing"):
        select(event, _deps(FakeDataApi(), whales, runs))
    assert whales.writes == 0 and runs.get_json(RunKeys("r1").universe) is None


def test_select_writes_every_scored_wallet_and_the_ranked_universe(world_records: list[dict[str, Any]]) -> None:
    runs, whales = MemoryRunStore(), FakeWhales()
    event = _run_with_evidence(runs, {0: world_records[:40], 1: world_records[40:]})

    result = select(event, _deps(FakeDataApi(), whales, runs))

    universe = runs.get_json(result.output["universe_key"])
    assert set(whales.rows) == {r["wallet"] for r in world_records}
    assert len(universe["wallets"]) == len(world_records) == result.output["wallets"]
    assert universe["batches"] == {"expected": 2, "failed": []}
    assert universe["cleaning"]["rows"]["rows"] == len(world_records)
    copied = {w for w, p in whales.rows.items() if p.status in (WhaleStatus.ACTIVE, WhaleStatus.PROBATION)}
    assert result.output["selected"] == len(copied) == universe["summary"]["selected"]
    assert result.output["changed"] is bool(copied)


def test_a_retried_select_reports_the_change_the_first_attempt_decided(world_records: list[dict[str, Any]]) -> None:
    runs = MemoryRunStore()
    event = _run_with_evidence(runs, {0: world_records})
    keys = RunKeys("r1")
    runs.put_json(keys.selection, {"added": {A: "active"}, "removed": {}, "moved": {}, "selected": 1})
    whales = FakeWhales([WhaleProfile(wallet=A, status=WhaleStatus.ACTIVE)])  # the first attempt wrote the table

    result = select(event, _deps(FakeDataApi(), whales, runs))

    assert result.output["changed"] is True and result.output["added"] == 1
    message = json.loads(result.output["alert"]["message"])
    assert [a["wallet"] for a in message["added"]] == [A]
    assert result.output["alert"]["subject"].startswith("copytrader: tracked whales changed (+1 -0")


def test_select_with_no_evidence_at_all_succeeds_and_writes_nothing() -> None:
    runs, whales = MemoryRunStore(), FakeWhales([WhaleProfile(wallet=A, status=WhaleStatus.ACTIVE)])
    event = {"run_id": "r1", "as_of": int(T0.timestamp()), "items_key": RunKeys("r1").items, "batches": 0, "wallets": 0}
    result = select(event, _deps(FakeDataApi(), whales, runs))
    assert result.output["wallets"] == 0 and result.output["changed"] is False
    assert whales.writes == 0 and whales.rows[A].status is WhaleStatus.ACTIVE
    assert runs.get_json(RunKeys("r1").universe)["wallets"] == []


# --------------------------------------------------------------------------------------- what each imports
_BLOCK = """
import importlib.abc, importlib.util, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {blocked!r}:
            raise ImportError(name + ' is not in this function\\'s layers')
sys.meta_path.insert(0, Block())
importlib.import_module('functions.{name}.handler')
for module in {lazy!r}:  # what the step imports when it runs
    importlib.import_module(module)
"""
_DISCOVERY = ["copytrader.discovery.discover", "copytrader.discovery.run", "copytrader.discovery.cache_s3"]


_LOCAL_ONLY = {"moto", "tqdm", "requests", "websockets", "eth_abi", "polymarket"}  # in no Lambda layer


@pytest.mark.parametrize(
    ("name", "blocked", "lazy"),
    [
        ("scoring_discover", {"numpy", "scipy", *_LOCAL_ONLY}, _DISCOVERY),
        ("scoring_evidence", _LOCAL_ONLY, [*_DISCOVERY, "copytrader.scoring.engine"]),
        ("scoring_select", _LOCAL_ONLY, ["copytrader.scoring.engine"]),
    ],
    ids=["discover-without-quant-layer", "evidence", "select"],
)
def test_each_function_imports_only_what_its_layers_hold(name: str, blocked: set[str], lazy: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import importlib\n" + _BLOCK.format(blocked=sorted(blocked), name=name, lazy=lazy)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
