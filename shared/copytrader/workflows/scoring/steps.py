"""The scoring workflow's three steps, one per Lambda of its `definition.asl.json`.

Each step takes the event Step Functions sends and returns a `StepResult`: the output the state machine
carries on (small, far below the 256 KB payload limit) and the counts the handler turns into metrics.
Bulk data goes through the run's S3 objects (`copytrader.workflows.scoring.plan.RunKeys`), never the payload.

- `discover`: candidates from the leaderboards and large trades plus every wallet in the whales table ->
  `items.json` (the Map's batches) and `candidates.json` (provenance, and each wallet's selection window:
  what first named it looked at, kept from the whales table for tracked wallets; copytrader.scoring.naming).
- `evidence`: one batch: each wallet's `/trades` and `/activity` history through the S3 cache (a refresh reads
  only rows newer than the cached high-water mark), the Gamma markets they touch (cached; resolved ones for
  good), stage 1 on each wallet's test sample (`copytrader.scoring.engine.evidence_from_rows` with the windows from
  `candidates.json`) -> `evidence/<batch>.json`.
- `select`: every batch's evidence, stage 2 (`universe_from_records`: eligibility, Benjamini-Yekutieli,
  shrinkage, Deflated Sharpe, selection, held statuses) -> whales table, `universe.json`; when the set of
  copied wallets changes, a short alert in the output, which the state machine's Notify state publishes.

numpy and scipy (the scoring engine) are imported inside `evidence` and `select`: the Discover function ships
without the quant layer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from copytrader.discovery.endpoints import Endpoint
from copytrader.errors import IncompleteRun, TransientError
from copytrader.model import WhaleProfile, WhaleStatus
from copytrader.runtime.observability import StepResult
from copytrader.workflows.scoring import plan as workflow
from copytrader.workflows.scoring.plan import RunKeys, SelectionChange
from copytrader.workflows.wiring import Deps

if TYPE_CHECKING:
    from copytrader.discovery.discover import Discovery
    from copytrader.discovery.gamma_markets import MarketLookup
    from copytrader.discovery.history import WalletHistory


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class DiscoverEvent(_Event):
    input: dict[str, Any] = Field(default_factory=dict)  # the execution's input: {} or {"as_of": "<ISO time>"}
    execution: str = Field(min_length=1)
    started_at: str = Field(min_length=1)


class BatchEvent(_Event):
    run_id: str = Field(min_length=1)
    as_of: int = Field(ge=0)
    batch: int = Field(ge=0)
    wallets: list[str] = Field(min_length=1, max_length=1000)


class RunEvent(_Event):
    run_id: str = Field(min_length=1)
    as_of: int = Field(ge=0)
    items_key: str = Field(min_length=1)
    batches: int = Field(ge=0)
    wallets: int = Field(ge=0)


# ------------------------------------------------------------------------------------------- discover
def discover(event: dict[str, Any], deps: Deps) -> StepResult:
    request = DiscoverEvent.model_validate(event)
    started = workflow.parse_time(request.started_at)
    as_of = workflow.parse_time(request.input["as_of"]) if request.input.get("as_of") is not None else started
    keys = RunKeys(workflow.run_id_for(started, request.execution))

    tracked = deps.whales.all()
    found = asyncio.run(_discover(deps))
    sources = 1 + len(_discovery_plan().queries)
    if len(found.failures) >= sources:
        raise TransientError(f"every discovery query failed ({len(found.failures)}): {found.failures[0]}")
    plan = workflow.plan_candidates({c.wallet: list(c.provenance) for c in found.candidates}, tracked)
    items = workflow.batches(plan.wallets)

    deps.runs.put_json(
        keys.candidates,
        {
            "run_id": keys.run_id,
            "as_of": int(as_of.timestamp()),
            "wallets": plan.provenance,
            "windows": workflow.selection_windows(plan.provenance, tracked, int(as_of.timestamp())),
            "dropped": plan.dropped,
            "discovery": {
                "skipped": dict(sorted(found.skipped.items())),
                "failures": found.failures,
                "requests": found.requests,
            },
        },
    )
    deps.runs.put_json(keys.items, items)
    output = {
        "run_id": keys.run_id,
        "as_of": int(as_of.timestamp()),
        "items_key": keys.items,
        "batches": len(items),
        "wallets": len(plan.wallets),
    }
    counts: dict[str, float] = {
        "candidates": len(plan.wallets),
        "discovered": plan.discovered,
        "tracked": plan.tracked,
        "dropped": len(plan.dropped),
        "batches": len(items),
        "discovery_failures": len(found.failures),
    }
    return StepResult(output, counts)


def _discovery_plan() -> Any:
    from copytrader.discovery.discover import DiscoveryPlan

    return DiscoveryPlan(large_trade_usdc=workflow.LARGE_TRADE_USDC, large_trade_limit=workflow.LARGE_TRADE_LIMIT)


async def _discover(deps: Deps) -> Discovery:
    from copytrader.discovery.discover import discover as discover_candidates

    # no cache: a daily run wants today's leaderboards, and Discover's role cannot touch the cache prefix
    async with deps.readers() as readers:
        return await discover_candidates(readers.data_api, _discovery_plan(), now=deps.clock)


# ------------------------------------------------------------------------------------------- evidence
# What the scorer reads of each wallet: its fills (`/trades`, maker fills included) and its `/activity` (splits and
# merges enter the ledger, redemptions and rewards the audit). Positions are not an input of the scorer.
HISTORY_ENDPOINTS = (Endpoint.TRADES, Endpoint.ACTIVITY)


def evidence(event: dict[str, Any], deps: Deps) -> StepResult:
    from copytrader.discovery.paging import Completion
    from copytrader.scoring.engine import evidence_from_rows

    batch = BatchEvent.model_validate(event)
    keys = RunKeys(batch.run_id)
    histories, lookup = asyncio.run(_fetch(deps, batch.wallets))
    candidates = deps.runs.get_json(keys.candidates) or {}
    every = workflow.windows_from_json(candidates.get("windows") or {})
    windows = {wallet: every[wallet] for wallet in batch.wallets if wallet in every}

    failed: dict[str, str] = {}
    truncated: dict[str, str] = {}
    requests = cached_rows = 0
    for history in histories:
        parts = [history.parts.get(endpoint) for endpoint in HISTORY_ENDPOINTS]
        broken = [f"{e.value}: {p.detail if p else 'not read'}" for e, p in zip(HISTORY_ENDPOINTS, parts, strict=True)
                  if p is None or p.completion is Completion.REQUEST_FAILED]  # fmt: skip
        if broken:  # scored on part of its history, a wallet's evidence would be wrong: it keeps its last status
            failed[history.wallet] = "; ".join(broken)
            continue
        for endpoint, part in zip(HISTORY_ENDPOINTS, parts, strict=True):
            assert part is not None
            requests += part.requests
            cached_rows += part.cached_rows
            if not part.complete:
                truncated[f"{history.wallet} {endpoint.value}"] = f"{part.completion.value}: {part.detail}"
    if failed and len(failed) == len(histories):
        raise TransientError(f"no history of batch {batch.batch} could be read: {next(iter(failed.values()))}")
    if lookup.failed:
        # evidence without these markets would count their trades as never resolved: fail the batch instead
        raise TransientError(f"{len(lookup.failed)} Gamma markets not looked up: {'; '.join(lookup.errors[:2])}")

    usable = [history for history in histories if history.wallet not in failed]
    rows = [row for history in usable for row in history.trades]
    activity = [row for history in usable for row in history.activity]
    run = evidence_from_rows(
        rows, lookup.markets(), deps.settings.scoring, as_of=batch.as_of, activity=activity, windows=windows
    )
    load, markets = run.load.as_dict(), run.markets.as_dict()
    deps.runs.put_json(
        keys.evidence(batch.batch),
        {
            "run_id": batch.run_id,
            "batch": batch.batch,
            "as_of": batch.as_of,
            "wallets": batch.wallets,
            "records": [e.as_record() for e in run.evidence],
            "fetch_failed": failed,
            "truncated": truncated,
            "load": load,
            "markets": markets,
            "after_as_of": run.after_as_of,
            "unknown_market_trades": run.unknown_market_trades,
            "activity": run.activity.as_dict() if run.activity is not None else None,
            "market_lookup": lookup.summary() | {"missing": len(lookup.missing)},
        },
    )
    counts: dict[str, float] = {
        "wallets": len(batch.wallets),
        "scored": len(run.evidence),
        "fetch_failed": len(failed),
        "truncated": len(truncated),
        "rows": load["rows"],
        "trades": load["trades"],
        "activity_rows": len(activity),
        "requests": requests + lookup.requests,
        "cached_rows": cached_rows,
        "markets_from_cache": lookup.from_cache,
        "markets_missing": len(lookup.missing),
    }
    counts.update({f"rejected_{reason}": n for reason, n in load["rejected"].items()})
    output = {"batch": batch.batch, "wallets": len(batch.wallets), "scored": len(run.evidence), "failed": len(failed)}
    return StepResult(output, counts)


async def _fetch(deps: Deps, wallets: Sequence[str]) -> tuple[list[WalletHistory], MarketLookup]:
    from copytrader.discovery.gamma_markets import condition_ids_of, lookup_markets
    from copytrader.discovery.histories import HistoryPlan, WalletHistories

    plan = HistoryPlan(
        endpoints=HISTORY_ENDPOINTS, max_rows=workflow.MAX_HISTORY_ROWS, concurrency=workflow.FETCH_CONCURRENCY
    )
    cache = deps.cache
    async with deps.readers() as readers:
        histories = await WalletHistories(readers.data_api, plan, now=deps.clock, cache=cache).fetch_all(wallets)
        rows = [row for history in histories for row in (*history.trades, *history.activity)]
        lookup = await lookup_markets(readers.gamma, condition_ids_of(rows), cache=cache, now=deps.clock)
    return histories, lookup


# --------------------------------------------------------------------------------------------- select
def select(event: dict[str, Any], deps: Deps) -> StepResult:
    from copytrader.scoring import engine

    run = RunEvent.model_validate(event)
    keys = RunKeys(run.run_id)
    items = deps.runs.get_json(run.items_key) if run.batches else []
    expected = [int(item["batch"]) for item in items or []]
    documents = deps.runs.get_many_json([keys.evidence(b) for b in expected])
    found = sorted((doc for doc in documents.values()), key=lambda doc: int(doc["batch"]))
    failed = workflow.missing_batches(expected, (int(doc["batch"]) for doc in found))
    if not workflow.within_tolerance(len(failed), len(expected)):
        raise IncompleteRun(
            f"{len(failed)} of {len(expected)} evidence batches are missing (tolerated: "
            f"{workflow.TOLERATED_FAILURE_PERCENT}%): {failed[:20]}"
        )

    before = deps.whales.all()
    prior = engine.prior_statuses(before)
    records = [record for doc in found for record in doc.get("records") or []]
    scored_at = datetime.fromtimestamp(run.as_of, tz=UTC)
    if records:
        # m of BY and N of the DSR: every wallet screened (named, tracked, or lost to a failed fetch), not only
        # those with evidence
        trials = max(run.wallets, len(records))
        universe = engine.universe_from_records(
            records, deps.settings.scoring, as_of=run.as_of, prior=prior, trials=trials
        )
        profiles = engine.profiles(universe, prior, scored_at=scored_at)
        summary: dict[str, Any] = dict(universe.summary)
        ranked = [wallet.as_record() for wallet in universe.ranking()]
    else:  # no candidates, or none with a trade: nothing to score is a legitimate answer
        profiles, ranked = [], []
        summary = {"wallets": 0, "eligible": 0, "screened_out": 0, "discovered": 0, "selected": 0, "as_of": run.as_of}

    by_wallet = {p.wallet: p for p in before} | {p.wallet: p for p in profiles}
    change = _selection_change(deps, keys, before, profiles)
    deps.runs.put_json(
        keys.universe,
        {
            "run_id": run.run_id,
            "as_of": run.as_of,
            "scored_at": scored_at.isoformat(),
            "summary": summary,
            "selection": change.as_dict(),
            "batches": {"expected": len(expected), "failed": failed},
            "cleaning": workflow.combined_reports(found),
            "wallets": ranked,
        },
    )
    written = deps.whales.put_many(profiles, deps.clock()) if profiles else 0

    output: dict[str, Any] = {
        "run_id": run.run_id,
        "wallets": len(records),
        "selected": change.selected,
        "added": len(change.added),
        "removed": len(change.removed),
        "failed_batches": len(failed),
        "universe_key": keys.universe,
        "changed": change.changed,
    }
    if change.changed:  # the state machine's Notify state publishes it to the alert topic
        detail = workflow.alert_detail(keys.run_id, change, by_wallet, keys.universe, summary)
        output["alert"] = {
            "subject": workflow.alert_subject(change),
            "message": json.dumps(detail, sort_keys=True, default=str),
        }
    counts: dict[str, float] = {
        "wallets_scored": len(records),
        "eligible": int(summary.get("eligible", 0)),
        "discovered": int(summary.get("discovered", 0)),
        "selected": int(summary.get("selected", 0)),
        "copied": change.selected,
        "added": len(change.added),
        "removed": len(change.removed),
        "failed_batches": len(failed),
        "written": written,
    }
    return StepResult(output, counts)


def _selection_change(
    deps: Deps, keys: RunKeys, before: Sequence[WhaleProfile], profiles: Sequence[WhaleProfile]
) -> SelectionChange:
    """The change this run makes, decided once: a retried Select finds it in S3 (the table may already be written)."""
    recorded = deps.runs.get_json(keys.selection)
    if recorded is not None:
        return SelectionChange.from_dict(recorded)
    was: dict[str, WhaleStatus] = {p.wallet: p.status for p in before}
    now = was | {p.wallet: p.status for p in profiles}
    change = workflow.selection_change(was, now)
    deps.runs.put_json(keys.selection, change.as_dict())
    return change
