"""The daily scoring workflow end to end under moto: scoring.asl.json interpreted by moto's Step Functions (the
Distributed Map reading its batches from S3), the three real handlers behind moto's Lambda API, the S3 cache,
the whales table and the alert topic; Polymarket is the fake Data API and Gamma serving a simulated market.

The expected outcome is computed independently: the single-machine scorer (`score_rows`) over the same wallets'
rows, as of the same time, with the same prior statuses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from copytrader.local.aws import LocalAws
from copytrader.local.scoring import run_scoring
from copytrader.model import COPYABLE_STATUSES, WhaleProfile, WhaleStatus
from copytrader.runtime import env as runtime_env
from copytrader.scoring.engine import prior_statuses, score_rows
from copytrader.scoring.naming import SelectionWindow
from copytrader.settings import load_settings
from copytrader.store.whales import Whales
from copytrader.workflows import wiring
from copytrader.workflows.scoring import plan as workflow
from tests.support.fake_data_api import FakeDataApi, serve
from tests.support.scoring_world import ServedWorld, serve_world
from tests.support.sim_worlds import SMALL_WORLD

# What is under test is the deployed workflow's equivalence to the single-machine scorer, not selection power, so
# this small world (30 wallets, five weeks, named two weeks in, so each wallet is tested on its last three weeks:
# its skilled wallets have ~80 independent events there, Benjamini-Yekutieli with m = 30) is scored with
# deliberately low bars, set as settings, so that the selection is non-empty and a promotion can happen:
# - a false-discovery level of 0.45 instead of 0.10 (it selects seven wallets, all skilled);
# - a Deflated Sharpe of 0.05 for ACTIVE instead of 0.95 (the per-event DSRs of the selected are 0.01-0.09 against
#   the luck of 30 trials over three weeks).
SCORING_ENV = {"COPYTRADER_SCORING__DSR_ACTIVE": "0.05", "COPYTRADER_SCORING__FDR_Q": "0.45"}
NAMED_DAYS_BEFORE = 21  # the first run names every wallet this long before the world's day start
OVERLAP_S = 3600  # copytrader.discovery.defaults.DEFAULT_OVERLAP


@pytest.fixture
def api() -> Iterator[FakeDataApi]:
    with serve() as fake:
        yield fake


@pytest.fixture
def scoring_env(aws: LocalAws, api: FakeDataApi, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    assert aws.resources is not None
    monkeypatch.setenv(runtime_env.DATA_API_URL, f"{api.url}/data")
    monkeypatch.setenv("COPYTRADER_GAMMA_URL", f"{api.url}/gamma")
    for name, value in SCORING_ENV.items():
        monkeypatch.setenv(name, value)
    wiring.install(None)  # the handlers build their dependencies from this environment
    yield
    wiring.install(None)


def _table() -> dict[str, WhaleProfile]:
    return {p.wallet: p for p in Whales().all()}


def _alerts(aws: LocalAws) -> list[dict[str, Any]]:
    """The alerts sent since the last call: received and deleted (a message only received comes back once its
    visibility timeout passes, and a slow run would read it again as a new alert)."""
    assert aws.resources is not None
    sqs, url = aws.client("sqs"), aws.resources.alert_queue_url
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in messages]


def _s3_json(aws: LocalAws, key: str) -> Any:
    assert aws.resources is not None
    return json.loads(aws.client("s3").get_object(Bucket=aws.resources.scoring_bucket, Key=key)["Body"].read())


def _expected(
    served: ServedWorld, wallets: set[str], prior: dict[str, Any], windows: dict[str, SelectionWindow], as_of: int
) -> Any:
    settings = load_settings(environ=SCORING_ENV)
    rows = [r for r in served.world.history_trade_rows() if r["proxyWallet"] in wallets]
    return score_rows(
        rows,
        served.world.history_markets_gamma(),
        settings.scoring,
        as_of=as_of,
        prior=prior,
        activity=[],  # the workflow reads /activity too; the simulated market has no splits or merges
        trials=len(wallets),
        windows=windows,
    ).universe


def _windows(table: dict[str, WhaleProfile]) -> dict[str, SelectionWindow]:
    def epoch(t: datetime | None) -> int | None:
        return None if t is None else int(t.timestamp())

    return {
        w: SelectionWindow(int(p.named_at.timestamp()), epoch(p.looked_from), epoch(p.selected_at))
        for w, p in table.items()
        if p.named_at is not None
    }


def _trades_requests(api: FakeDataApi, since: int) -> dict[str, list[str]]:
    """user -> the `start` values of its /trades requests, for requests number `since` onwards."""
    found: dict[str, list[str]] = {}
    for path, query in api.requests[since:]:
        if path == "/data/trades" and query.get("user"):
            found.setdefault(query["user"][0], []).extend(query.get("start", []))
    return found


def test_daily_runs_name_then_select_promote_on_later_evidence_reuse_the_cache_and_keep_a_paused_whale_paused(
    aws: LocalAws, api: FakeDataApi, scoring_env: None
) -> None:
    # GIVEN a simulated market behind the fake APIs, and one wallet on no leaderboard that the table already tracks
    served = serve_world(api)
    world = served.world
    rows = world.history_trade_rows()
    day = int(world.day_start.timestamp())
    named = world.day_start - timedelta(days=NAMED_DAYS_BEFORE)
    large = {str(r["proxyWallet"]) for r in rows if float(r["price"]) * float(r["size"]) >= 5000}  # type: ignore[arg-type]
    (tracked, *_) = sorted(set(served.unranked) - large)
    seeded = WhaleProfile(wallet=tracked, status=WhaleStatus.CANDIDATE, reasons=("seeded by the test",))
    Whales().put(seeded, named)
    universe_wallets = set(served.ranked) | large | {tracked}
    sfn = aws.client("stepfunctions")
    assert aws.resources is not None

    # WHEN the workflow first runs, three weeks before the day: the all-time leaderboard names every wallet
    first = run_scoring(aws.resources, sfn, name="naming", as_of=named)

    # THEN every wallet is scored, named then with a window over all of its history before, and nobody is selected:
    # everything it did, the naming could see
    assert first.status == "SUCCEEDED", first.error
    assert first.output["wallets"] == len(universe_wallets) and first.output["selected"] == 0
    table = _table()
    assert set(table) == universe_wallets
    assert {p.named_at for p in table.values()} == {named}
    assert all(p.looked_from is None and p.selected_at is None for p in table.values())
    assert all(p.status is WhaleStatus.CANDIDATE for p in table.values())
    assert table[tracked].reasons != seeded.reasons  # rescored although no leaderboard named it
    assert all(set(starts) == {"1"} for starts in _trades_requests(api, 0).values())  # full reads: no cache yet
    candidates = _s3_json(aws, workflow.RunKeys(first.output["run_id"]).candidates)
    assert candidates["windows"][tracked] == {"named_at": int(named.timestamp()), "looked_from": None,
                                              "selected_at": None}  # fmt: skip
    assert _s3_json(aws, first.output["universe_key"])["summary"]["without_test_sample"] == len(universe_wallets)
    requests_before = len(api.requests)

    # WHEN it runs on the day: the wallets are tested on the three weeks since they were named
    expected = _expected(served, universe_wallets, {}, _windows(table), day)
    selected = {w.evidence.wallet: w.status for w in expected.selected}
    assert selected and set(selected) <= world.skilled_addresses  # the oracle itself picks only skilled wallets
    assert set(selected.values()) == {WhaleStatus.PROBATION}  # nothing was collected after their selection yet
    second = run_scoring(aws.resources, sfn, name="day-1", as_of=world.day_start)

    # THEN the table holds the scorer's selection, each selected now, and the history is refreshed from the cache
    assert second.status == "SUCCEEDED", second.error
    assert second.output["wallets"] == len(universe_wallets) == len(expected.wallets)
    table = _table()
    assert {w: p.status for w, p in table.items() if p.status in COPYABLE_STATUSES} == selected
    for wallet, profile in table.items():
        assert profile.named_at == named
        if wallet in selected:
            assert any(r.startswith("selected: rank") for r in profile.reasons), profile.reasons
            assert profile.score_ci_low is not None and profile.score_ci_low > 0
            assert profile.selected_at == world.day_start
        else:
            assert profile.status is WhaleStatus.CANDIDATE and profile.reasons and profile.selected_at is None
    universe = _s3_json(aws, second.output["universe_key"])
    assert universe["summary"]["selected"] == len(selected)
    assert universe["summary"]["trials"] == len(universe_wallets)
    assert [w["wallet"] for w in universe["wallets"]] == [w.evidence.wallet for w in expected.ranking()]
    (alert,) = _alerts(aws)
    assert {a["wallet"]: a["status"] for a in alert["added"]} == {w: s.value for w, s in selected.items()}
    newest: dict[str, int] = {}
    for row in rows:
        wallet, stamp = str(row["proxyWallet"]), int(row["timestamp"])  # type: ignore[call-overload]
        newest[wallet] = max(newest.get(wallet, 0), stamp)
    refreshes = _trades_requests(api, requests_before)
    assert set(refreshes) == universe_wallets
    assert all(set(starts) == {str(max(1, newest[w] - OVERLAP_S))} for w, starts in refreshes.items())

    # GIVEN the decay monitor has since paused one copied whale, and another was in fact selected three weeks ago
    # (its events since then are evidence collected after its selection)
    veteran, paused = (w.evidence.wallet for w in expected.selected[:2])  # ranks 1 and 2
    paused_at = world.day_start + timedelta(hours=6)
    Whales().put(table[paused].model_copy(update={"status": WhaleStatus.PAUSED, "status_since": paused_at}), paused_at)
    Whales().put(table[veteran].model_copy(update={"selected_at": named}), paused_at)
    before_third = Whales().all()
    requests_before = len(api.requests)

    # WHEN the workflow runs again
    third = run_scoring(aws.resources, sfn, name="day-2", as_of=world.day_start)

    # THEN it reads no market, the paused whale stays paused, and the veteran is promoted: its evidence since its
    # selection confirms it; the others stay on probation
    assert third.status == "SUCCEEDED", third.error
    assert not [p for p, _ in api.requests[requests_before:] if p == "/gamma/markets"]
    again = _expected(served, universe_wallets, prior_statuses(before_third), _windows(_table()), day)
    table = _table()
    assert table[paused].status is WhaleStatus.PAUSED
    assert table[paused].status_since == paused_at and table[paused].selected_at == world.day_start
    assert table[paused].reasons[0].startswith("paused by the decay monitor")
    copied = {w: p.status for w, p in table.items() if p.status in COPYABLE_STATUSES}
    assert copied == {w.evidence.wallet: w.status for w in again.selected}
    assert copied == {w: WhaleStatus.ACTIVE if w == veteran else s for w, s in selected.items() if w != paused}
    assert table[veteran].selected_at == named
    assert any(r.startswith("confirmed after selection") for r in table[veteran].reasons), table[veteran].reasons
    assert _alerts(aws) == []  # the copied set did not change in this run (a promotion keeps a wallet in it)


def test_no_candidate_is_a_successful_run(aws: LocalAws, api: FakeDataApi, scoring_env: None) -> None:
    # GIVEN empty leaderboards, no large trade and an empty whales table
    assert aws.resources is not None and aws.dispatch is not None
    evidence_calls = aws.dispatch.calls["scoring_evidence"]

    # WHEN the workflow runs
    run = run_scoring(aws.resources, aws.client("stepfunctions"), name="empty", as_of=datetime(2026, 11, 2, tzinfo=UTC))

    # THEN it succeeds without a batch, writes an empty universe and nothing else
    assert run.status == "SUCCEEDED", run.error
    assert run.output["wallets"] == 0 and run.output["selected"] == 0
    assert _s3_json(aws, workflow.RunKeys(run.output["run_id"]).items) == []
    assert _s3_json(aws, run.output["universe_key"])["wallets"] == []
    assert _table() == {} and _alerts(aws) == []
    assert aws.dispatch.calls["scoring_evidence"] == evidence_calls


def test_nobody_qualifying_is_a_successful_run(aws: LocalAws, api: FakeDataApi, scoring_env: None) -> None:
    # GIVEN a market of three days' history, where the scorer finds no wallet it can tell from luck
    served = serve_world(api, SMALL_WORLD, unranked=0)
    day = int(served.world.day_start.timestamp())
    named = {w: SelectionWindow(day) for w in served.ranked}  # named by this run: nothing is testable yet
    expected = _expected(served, set(served.ranked), {}, named, day)
    assert expected.selected == []
    assert aws.resources is not None

    # WHEN the workflow runs
    run = run_scoring(aws.resources, aws.client("stepfunctions"), name="quiet", as_of=served.world.day_start)

    # THEN it succeeds: every wallet is scored and stays a candidate, with its reasons; nobody is alerted about
    assert run.status == "SUCCEEDED", run.error
    table = _table()
    assert set(table) == set(served.ranked)
    assert {p.status for p in table.values()} == {WhaleStatus.CANDIDATE}
    assert all(p.reasons for p in table.values())
    assert run.output["selected"] == 0 and _alerts(aws) == []
