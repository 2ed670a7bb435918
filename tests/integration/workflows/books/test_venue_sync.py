"""The venue sync (workflows/books/venue.py, steps.venue_sync, `copytrader audit --venue`) against DynamoDB on moto
server and a loopback Data API v2 + Polygon JSON-RPC (`copytrader.sim.chain`): agreement, a difference reported
with its figures and alerted, a failed or partial read counted as a failed sync (never "no positions"), paper
skipped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest

from copytrader.cli import main
from copytrader.local.scoring import run_books
from copytrader.model import ExecutionStatus
from copytrader.polymarket.data_api.positions_v2 import PositionsReadFailed, VenuePositionsReader
from copytrader.polymarket.http import JsonHttp
from copytrader.risk.redemption import CONDITIONAL_TOKENS
from copytrader.risk.rules import screen
from copytrader.runtime import env
from copytrader.runtime.alerts import NoAlerts
from copytrader.settings import load_settings
from copytrader.sim.chain import EvmNode
from copytrader.workflows import wiring
from copytrader.workflows.books import steps
from copytrader.workflows.books.venue import WALLET_ADDRESS
from tests.support import builders as b

pytestmark = pytest.mark.integration
D = Decimal
WALLET = b.wallet("our-proxy")
M = 10**6
LIVE = {"mode": "live", "live_confirmed": True, "account": "live-1", "venue": {"min_live_balance": "5"}}


@pytest.fixture
def node() -> Iterator[EvmNode]:
    chain = EvmNode().start()
    yield chain
    chain.stop()


def _row(token: str, size: str, status: str = "OPEN") -> dict:
    return {"token_id": token, "condition_id": "0xc", "current_size": float(size), "status": status}


def test_the_reader_follows_every_page_of_every_held_status(node: EvmNode) -> None:
    node.positions = [_row("1", "1"), _row("2", "2"), _row("3", "3.5"), _row("4", "4", "REDEEMABLE")]
    read = VenuePositionsReader(JsonHttp(node.url)).read(WALLET)
    assert read.pages == 3  # OPEN: 2 + 1 rows per page of 2, REDEEMABLE: 1
    assert {p.token_id: p.size for p in (read.positions or ())} == {"1": 1, "2": 2, "3": D("3.5"), "4": 4}


@pytest.mark.parametrize(
    ("fault", "reason"), [("http_500", "http_error"), ("has_more_without_cursor", "has_more_without_cursor")]
)
def test_a_failed_or_partial_read_raises_never_returns_fewer_positions(node: EvmNode, fault: str, reason: str) -> None:
    node.positions = [_row("1", "1"), _row("2", "2"), _row("3", "3")]
    node.positions_fault = fault
    with pytest.raises(PositionsReadFailed) as raised:
        VenuePositionsReader(JsonHttp(node.url)).read(WALLET)
    assert raised.value.reason == reason


def test_data_null_is_returned_as_unknown_not_as_empty(node: EvmNode) -> None:
    node.positions_fault = "data_null"
    assert VenuePositionsReader(JsonHttp(node.url)).read(WALLET).positions is None


@pytest.fixture
def live(aws, polymarket, clock, node) -> Iterator[wiring.Deps]:
    settings = load_settings(environ={}, overrides={"gamma_url": f"{polymarket.url}/gamma", **LIVE})
    environ = {WALLET_ADDRESS: WALLET, env.POLYGON_HTTP_RPC_URL: node.url, env.DATA_API_URL: node.url}
    deps = wiring.Deps(settings, clock=clock, environ=environ, alerts=NoAlerts())
    wiring.install(deps)
    yield deps
    wiring.install(None)


def _hold(deps, clock, key: str, market: str, cost: str, shares: str) -> str:
    order = b.sized_order(key, market=market, max_cost=cost)
    deps.account.items.open_account(D(1000), clock())
    decision = deps.account.reservations.reserve(screen(order, deps.settings.risk, clock()), clock())
    assert deps.ledger.begin(order, decision.reserved, clock()) is None
    deps.ledger.record(order, b.execution(order, ExecutionStatus.FILLED, shares, cost), decision.reserved, clock())
    return order.token_id


def _agreeing(deps, clock, node: EvmNode) -> tuple[str, str]:
    """Positions of 100 (cost 40) and 20 (cost 9): books, venue and chain agree; wallet = cash 951 + margin 5."""
    a, c = _hold(deps, clock, "k1", "m1", "40", "100"), _hold(deps, clock, "k2", "m2", "9", "20")
    node.positions = [_row(a, "100"), _row(c, "20", "REDEEMABLE")]
    node.set_1155(CONDITIONAL_TOKENS, WALLET, a, 100 * M)
    node.set_1155(CONDITIONAL_TOKENS, WALLET, c, 20 * M)
    node.set_pusd(WALLET, 956 * M)
    return a, c


def test_books_venue_and_chain_that_agree_pass_and_a_difference_is_counted_alerted_and_kept(live, clock, node) -> None:
    a, _ = _agreeing(live, clock, node)
    result = steps.venue_sync({}, live)
    assert result.output["ok"] is True and result.counts == {"differences": 0.0, "failed": 0.0, "skipped": 0.0}
    assert result.output["figures"]["cash_chain"] == "956.000000"
    # WHEN the wallet holds 2 shares fewer of a than the books (the venue agrees with the chain)
    node.set_1155(CONDITIONAL_TOKENS, WALLET, a, 98 * M)
    node.positions[0] = _row(a, "98")
    result = steps.venue_sync({}, live)
    # THEN one difference with every figure, an alert, and the books untouched
    assert result.counts["differences"] == 1.0 and result.counts["failed"] == 0.0
    assert result.output["differences"] == [
        {"kind": "position", "subject": a, "ours": "100", "venue": "98.000000", "chain": "98.000000"}
    ]
    assert live.alerts.sent[-1][0] == "copytrader: venue sync differs"
    assert live.positions.get(a).shares == D(100)


@pytest.mark.parametrize(
    ("fault", "failure"),
    [
        ("http_500", "venue_read_failed:http_error"),
        ("has_more_without_cursor", "venue_read_failed:has_more_without_cursor"),
        ("data_null", "venue_positions_null"),
    ],
)
def test_a_failed_or_partial_venue_read_is_a_failed_sync(live, clock, node, fault: str, failure: str) -> None:
    _agreeing(live, clock, node)
    node.page_size = 1  # two OPEN rows would need two pages
    node.positions.append(_row("999", "1"))
    node.set_1155(CONDITIONAL_TOKENS, WALLET, "999", 1 * M)  # so that only the venue read can fail
    node.positions_fault = fault
    result = steps.venue_sync({}, live)
    assert result.output["failures"] == [failure] and result.counts["failed"] == 1.0
    assert live.alerts.sent[-1][0] == "copytrader: venue sync failed"


def test_audit_venue_prints_the_sync_and_exits_1_on_a_difference(
    live, clock, node, polymarket, tmp_path, monkeypatch, capsys
) -> None:
    _agreeing(live, clock, node)
    node.set_pusd(WALLET, 900 * M)  # 56 pUSD missing from the wallet
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"gamma_url": f"{polymarket.url}/gamma", **LIVE}))
    for name, value in live.environ.items():
        monkeypatch.setenv(name, value)
    assert main(["audit", "--venue", "--json", "--file", str(settings)]) == 1
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed[0]["ok"] is True  # the books' own invariants hold
    assert printed[1]["venue_sync"]["differences"] == [
        {"kind": "cash", "subject": "pusd", "ours": "956", "venue": None, "chain": "900.000000"}
    ]


def test_paper_mode_skips_the_sync_with_its_reason(aws, make_deps, polymarket, clock) -> None:
    make_deps().account.items.open_account(D(1000), clock())
    run = run_books(aws.resources, aws.client("stepfunctions"), name="books-paper")
    assert run.status == "SUCCEEDED" and run.output["venue_sync"] == {"skipped": "paper_mode"}
