"""Running the copy pipeline's state machine under moto and reading what it did: the world of one market and one
tracked whale, the Pipe's record of a trade, one execution with the states it entered, the EMF metrics the handlers
emitted, and a venue that fails on send."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from typing import Any

from copytrader.local.aws import LocalAws
from copytrader.local.lambdas import emf_metrics
from copytrader.model import Market, WhaleTrade
from copytrader.workflows import wiring
from tests.support import builders as b
from tests.support.clock import Clock
from tests.support.fake_polymarket import FakePolymarket

# a two-level book: 100 shares at the whale's 0.50, then 400 at 0.51
BIDS, ASKS = [("0.49", "300")], [("0.50", "100"), ("0.51", "400")]


def list_market(polymarket: FakePolymarket, market: Market) -> None:
    """`market` on the loopback Gamma, with the two-level book on its YES token on the loopback CLOB."""
    yes = market.tokens[0].token_id
    polymarket.markets[market.condition_id] = market
    polymarket.books[yes] = b.book(yes, bids=BIDS, asks=ASKS)


def one_market_one_whale(polymarket: FakePolymarket, make_deps: Any, clock: Clock) -> tuple[Market, wiring.Deps]:
    """Market m1 listed (`list_market`), the pipeline's deps built, whale w1 tracked."""
    market = b.market("m1")
    list_market(polymarket, market)
    deps = make_deps()
    deps.whales.put(b.whale("w1"), clock())
    return market, deps


def pipe_message(trade: WhaleTrade, message_id: str = "m-1") -> dict[str, Any]:
    """The SQS record the Pipe hands the state machine for `trade`."""
    return {"messageId": message_id, "body": trade.model_dump_json(), "attributes": {"SentTimestamp": "0"}}


def run_with_history(aws: LocalAws, records: list[dict[str, Any]]) -> tuple[str, Any, list[str]]:
    """Run one execution as the Pipe would; its status, output, and the states it entered (in order)."""
    assert aws.resources is not None
    sfn = aws.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=aws.resources.state_machine_arn, name=f"test-{uuid.uuid4().hex}", input=json.dumps(records)
    )["executionArn"]
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        time.sleep(0.005)
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    output = json.loads(described["output"]) if described.get("output") else None
    return described["status"], output, entered


class Emitted:
    """The EMF metrics the handlers emitted since the last `take()`, summed as CloudWatch would.

    Handlers print EMF documents to stdout; local mode's per-invocation capture sums them unless pytest's own
    capture holds stdout, so both are read.
    """

    def __init__(self, aws: Any, capsys: Any) -> None:
        self._aws, self._capsys = aws, capsys
        self._seen: Counter[str] = Counter()
        self.take()

    def take(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for line in self._capsys.readouterr().out.splitlines():
            totals.update(emf_metrics(line))
        current = Counter(self._aws.dispatch.metrics)
        totals.update(current - self._seen)
        self._seen = current
        return totals


class FailingVenue:
    """The paper venue, except that sending raises `error` (a timeout, a refusal)."""

    def __init__(self, inner: Any, error: Exception) -> None:
        self._inner, self._error = inner, error
        self.name = getattr(inner, "name", "paper")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def place(self, *args: Any, **kwargs: Any) -> Any:
        raise self._error


class TimeoutAfterFillVenue:
    """The paper venue, except that the answer to a send is lost: the order fills, then the call raises
    VenueAmbiguous (a read timeout after the venue matched it). `lookup` finds the fill."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.name = getattr(inner, "name", "paper")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def place(self, *args: Any, **kwargs: Any) -> Any:
        from copytrader.errors import VenueAmbiguous

        self._inner.place(*args, **kwargs)
        raise VenueAmbiguous("read timeout after the order was sent")
