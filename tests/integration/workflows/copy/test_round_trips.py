"""What one warm copy costs in round trips: DynamoDB calls counted with a botocore hook, Polymarket calls from the
loopback server's log, Step Functions states from the execution history.

Warm means after the first copy of the process, which opens the account, the UTC day and every client once. These
counts are what `pipeline_aws_estimate_p50_ms` prices (bench/costs.py); a new read or write on the hot path must
show up here first.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

from copytrader.model import WhaleTrade
from copytrader.risk.rules import Scope
from copytrader.store.tables import RiskStateModel
from copytrader.workflows.copy import steps
from copytrader.workflows.wiring import Deps
from tests.support import builders as b
from tests.support.copy_runs import one_market_one_whale, pipe_message, run_with_history
from tests.support.round_trips import DynamoCalls


def copy(deps: Deps, trade: WhaleTrade) -> dict[str, Any]:
    """score -> size -> risk_check -> execute as the state machine chains them; the state at the end."""
    state = steps.score({"record": pipe_message(trade, f"m-{trade.key[:8]}")}, deps)
    assert state["signal"]["action"] == "COPY", state["signal"]
    state["order"] = steps.size(state, deps)
    assert state["order"]["action"] == "PLACE", state["order"]
    state["risk"] = steps.risk_check(state, deps)
    assert state["risk"]["approved"] is True, state["risk"]
    state["result"] = steps.execute(state, deps)
    assert state["result"]["status"] == "FILLED", state["result"]
    return state


def warm_world(polymarket, make_deps, clock) -> tuple[Any, Deps]:
    market, deps = one_market_one_whale(polymarket, make_deps, clock)
    first = b.trade(market, "w1", price="0.50", size="200", tx="warm-up")
    clock.now = first.detected_at + timedelta(milliseconds=300)
    copy(deps, first)
    return market, deps


def test_a_warm_buy_copy_makes_at_most_seven_dynamodb_round_trips(aws, polymarket, make_deps, clock):
    # GIVEN a process that has made one copy in this market already (account, day, clients, market all warm)
    market, deps = warm_world(polymarket, make_deps, clock)
    trade = b.trade(market, "w1", price="0.50", size="200", at=clock.now + timedelta(seconds=5), tx="counted")
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    books_before = len(polymarket.requests)

    # WHEN the next whale BUY in that market is copied and fills
    with DynamoCalls(deps.account.items.connection) as calls:
        copy(deps, trade)

    # THEN one batch read, the stance's write, its group's query and the whale's net shares (score: what a later
    # SELL of it is mirrored on), nothing (size), the reservation (risk_check), the ledger entry and the settlement
    # (execute): seven round trips in all
    assert calls.by_operation == Counter(
        {"TransactWriteItems": 3, "BatchGetItem": 1, "PutItem": 1, "Query": 1, "UpdateItem": 1}
    )
    assert calls.total == 7
    # and two calls to Polymarket: the book score decides on, the book the paper venue fills against
    assert [path.split("?")[0] for path in polymarket.requests[books_before:]] == ["/clob/book", "/clob/book"]
    # the stop at entry came with the risk decision, not from a read of the reservation
    assert deps.positions.get(trade.token_id).stop_loss == deps.settings.risk.stop_loss == Decimal("0.15")


def test_a_copy_whose_market_expired_adds_only_the_gamma_refresh_and_its_write(aws, polymarket, make_deps, clock):
    # GIVEN a warm process whose copy of the market is older than its 60 s time-to-live
    market, deps = warm_world(polymarket, make_deps, clock)
    trade = b.trade(market, "w1", price="0.50", size="200", at=clock.now + timedelta(seconds=90), tx="stale")
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    before = len(polymarket.requests)

    # WHEN the next copy runs
    with DynamoCalls(deps.account.items.connection) as calls:
        copy(deps, trade)

    # THEN the market is fetched from Gamma once and written back once: two more calls, nothing else
    assert calls.by_operation == Counter(
        {"TransactWriteItems": 3, "BatchGetItem": 1, "PutItem": 2, "Query": 1, "UpdateItem": 1}
    )
    assert [path.split("?")[0] for path in polymarket.requests[before:]] == [
        "/gamma/markets",
        "/clob/book",
        "/clob/book",
    ]


def test_a_market_retagged_since_the_process_last_saw_it_is_roomed_on_its_new_groups_exposure(
    aws, polymarket, make_deps, clock
):
    # GIVEN a warm process that last saw market m1 in group event:event-m1, and Gamma now has it in another event
    # whose group is 7 pUSD under its cap
    market, deps = warm_world(polymarket, make_deps, clock)
    retagged = market.model_copy(update={"event_id": "event-m1-retagged"})
    polymarket.markets[market.condition_id] = retagged
    group = deps.account.items.exposure_key(Scope.GROUP, "event:event-m1-retagged")
    RiskStateModel(pk=group, exposure=deps.settings.risk.max_group_exposure - 7, scope="event:event-m1-retagged").save()
    trade = b.trade(market, "w1", price="0.50", size="200", at=clock.now + timedelta(seconds=90), tx="retagged")
    clock.now = trade.detected_at + timedelta(milliseconds=300)

    # WHEN the score step decides on the next trade in m1 (its copy of the market is stale: Gamma is asked)
    with DynamoCalls(deps.account.items.connection) as calls:
        signal = steps.score({"record": pipe_message(trade)}, deps)["signal"]

    # THEN the room is the new group's (the guess from the old copy read the wrong group: one more batch read)
    assert signal["action"] == "COPY" and Decimal(signal["room"]) == Decimal(7)
    assert calls.by_operation["BatchGetItem"] == 2


def test_a_signal_without_book_equity_is_sized_on_the_account_read_then(aws, polymarket, make_deps, clock):
    # GIVEN a warm process and a COPY signal that does not carry the account's book equity (made before it did)
    market, deps = warm_world(polymarket, make_deps, clock)
    trade = b.trade(market, "w1", price="0.50", size="200", at=clock.now + timedelta(seconds=5), tx="no-equity")
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    state = steps.score({"record": pipe_message(trade)}, deps)
    carried = steps.size(state, deps)
    state["signal"]["book_equity"] = None

    # WHEN it is sized
    with DynamoCalls(deps.account.items.connection) as calls:
        read = steps.size(state, deps)

    # THEN the account is read and the order is the one sized on the carried equity
    assert calls.total >= 1
    assert read == carried


def test_a_filled_copy_enters_ten_states_four_of_them_lambda_tasks(aws, polymarket, make_deps, clock):
    # GIVEN one tracked whale's BUY
    market, _ = one_market_one_whale(polymarket, make_deps, clock)
    trade = b.trade(market, "w1", price="0.50", size="200")
    clock.now = trade.detected_at + timedelta(milliseconds=300)

    # WHEN it runs through the Express state machine
    status, output, entered = run_with_history(aws, [pipe_message(trade)])

    # THEN it fills after the Map, four Lambda tasks and the Choices between them: the hops a deployed copy pays
    assert status == "SUCCEEDED" and output[0]["result"]["status"] == "FILLED"
    assert entered == [
        "EachRecord",
        "Score",
        "CopyOrSkip",
        "Size",
        "PlaceOrSkip",
        "RiskCheck",
        "ApprovedOrRejected",
        "Execute",
        "ExecutionOutcome",
        "Filled",
    ]
