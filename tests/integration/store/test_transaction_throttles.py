"""Throttled DynamoDB transactions (issue 10, the fault-injected demo): a throttle is retried below the state machine,
and one that outlasts those retries surfaces as TransientError, the one error the copy state machine retries.

DynamoDB throttles a transaction in two ways: the request (HTTP 400 ThrottlingException, which botocore retries first)
or an item inside it (TransactionCanceledException with cancellation reason ThrottlingError; botocore does not retry
it). The throttles are injected by the demo's botocore hook (`copytrader.local.injectors.ThrottleHook`) on the client
the account store's transactions use.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from copytrader.copying.sizing import copy_idempotency_key
from copytrader.errors import TransientError
from copytrader.local import faults
from copytrader.local.faults import FaultPlan, Targets, Throttle
from copytrader.local.injectors import Injected, ThrottleHook
from copytrader.risk.rules import screen
from tests.support import builders as b

pytestmark = pytest.mark.integration
NONE = Targets((), 0)


def _throttled(deps, clock, throttle: Throttle):
    """A BUY order of whale fill `t1` and a hook throttling its `throttle.phase` transaction."""
    plan = FaultPlan(
        seed=0, venue_timeout=NONE, venue_5xx=NONE, crash_before_ledger=NONE, crash_after_venue=NONE,
        throttled=Targets(("t1",), 1), sells_at_midnight=NONE, midnight=datetime.max.replace(tzinfo=UTC),
        redeliveries=(), retags=(), malformed=(),
    )  # fmt: skip
    injected = Injected(plan, clock)
    hook = ThrottleHook(injected, deps.settings.account, throttles=(throttle,))
    hook.install(deps.account.items.connection.client)
    order = b.sized_order(copy_idempotency_key(deps.settings.account, "t1"), trade_key="t1", max_cost="40")
    deps.account.items.open_account(deps.settings.paper_bankroll, clock())
    return order, injected, hook


def _reserve(deps, clock, order):
    return deps.account.reservations.reserve(screen(order, deps.settings.risk, clock()), clock())


@pytest.mark.parametrize("form", ["item", "request"])
def test_a_throttled_reservation_is_retried_and_reserves_once(make_deps, clock, form):
    # GIVEN DynamoDB throttling the reservation's transaction three times in a row
    deps = make_deps()
    order, injected, hook = _throttled(deps, clock, Throttle("reserve", form, 3))
    try:
        # WHEN risk_check reserves, THEN the retries get it through, once
        decision = _reserve(deps, clock, order)
    finally:
        hook.remove()
    assert (decision.approved, decision.reserved) == (True, Decimal(40))
    assert injected.counts[faults.THROTTLE] == 1
    state = deps.account.reads.state(clock())
    assert (state.reserved, deps.account.reads.open_orders()) == (Decimal(40), 1)


@pytest.mark.parametrize(("form", "attempts"), [("item", faults.EXHAUST_ITEM), ("request", faults.EXHAUST_REQUEST)])
def test_a_throttle_that_outlasts_the_retries_is_a_transient_error_for_the_state_machine(
    make_deps, clock, form, attempts
):
    # GIVEN DynamoDB throttling the reservation for longer than botocore and run_transaction retry
    deps = make_deps()
    order, _, hook = _throttled(deps, clock, Throttle("reserve", form, attempts))
    try:
        # WHEN risk_check reserves, THEN it raises TransientError (the state machine retries the step) and wrote nothing
        with pytest.raises(TransientError):
            _reserve(deps, clock, order)
        assert deps.account.reads.state(clock()).reserved == 0
        # AND the state machine's retry, once the throttling stopped, reserves
        assert _reserve(deps, clock, order).approved
    finally:
        hook.remove()
