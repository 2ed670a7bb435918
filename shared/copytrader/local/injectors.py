"""The injectors that carry out a `FaultPlan` (`copytrader.local.faults`) inside the real handlers.

- `FaultyVenue` wraps the paper venue: a read timeout after the fill, a 5xx before it, and for SELLs near midnight a
  lost answer plus a venue that cannot be asked about that order until midnight has passed.
- `FaultyLedger` wraps the orders ledger: execute dies (`InjectedCrash`, what a Lambda crash or timeout is to the
  state machine) before its first write, or after the venue answered and before the settlement is written.
- `ThrottleHook` is a botocore `before-send` handler on the DynamoDB client the account store's transactions use
  (pynamodb's `Connection.client`): for a chosen copy's reserve, begin or settle transaction it answers HTTP 400
  `ThrottlingException` (botocore retries it, then `run_transaction`, then the state machine) or
  `TransactionCanceledException` with reason `ThrottlingError` (a throttled item inside the transaction) for a
  number of consecutive attempts. Injected throttles are retried without botocore's backoff sleep: simulated time
  does not pass while botocore waits, and sleeping would only slow the demo.

`Injected` counts what was actually injected, by kind, and keeps a line per injection for the report.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from botocore.awsrequest import AWSResponse

from copytrader.copying.sizing import copy_idempotency_key
from copytrader.errors import VenueAmbiguous
from copytrader.execution.venue import PreparedOrder, Venue, VenueOrder
from copytrader.local import faults
from copytrader.local.faults import FaultPlan, Throttle
from copytrader.model import ExecutionResult, SizedOrder
from copytrader.store.orders import OrderLedger
from copytrader.store.tables import OrderModel, RiskStateModel


class InjectedCrash(RuntimeError):
    """The execute function died here (a crash, a timeout, out of memory), as the fault plan asked."""


class Injected:
    """What was injected, by kind, with one line each (simulated time, kind, what)."""

    def __init__(self, plan: FaultPlan, clock: Callable[[], datetime]) -> None:
        self.plan, self._clock = plan, clock
        self.counts: Counter[str] = Counter()
        self.lines: list[tuple[str, str, str]] = []
        self._fired: dict[str, list[str]] = {}
        self.crashed_token: str | None = None  # the token the planned price crash hit (`Day._crash`)

    def claim(self, kind: str, trade_key: str) -> bool:
        """True once for each of the first `count` candidates of `kind` that get here."""
        targets = self.plan.targets(kind)
        fired = self._fired.setdefault(kind, [])
        if trade_key not in targets.candidates or trade_key in fired or len(fired) >= targets.count:
            return False
        fired.append(trade_key)
        return True

    def claim_exit_sell(self, key: str, token_id: str) -> bool:
        """True for the first exit SELLs placed from the plan's `exit_sells_from` on, up to the planned count of SELLs
        pending at midnight (at least one), counted with the whale SELLs it claimed (`faults.SELL_AT_MIDNIGHT`); never
        for the token the planned price crash hit (its stop's sale is that fault's evidence)."""
        start = self.plan.exit_sells_from
        fired = self._fired.setdefault(faults.SELL_AT_MIDNIGHT, [])
        if start is None or self._clock() < start or key in fired or token_id == self.crashed_token:
            return False
        if len(fired) >= max(self.plan.sells_at_midnight.count, 1):
            return False
        fired.append(key)
        return True

    def fired(self, kind: str) -> list[str]:
        return list(self._fired.get(kind, []))

    def note(self, kind: str, what: str) -> None:
        self.counts[kind] += 1
        self.lines.append((self._clock().isoformat(), kind, what))


class FaultyVenue:
    """The paper venue with the plan's venue faults (see the module docstring)."""

    def __init__(self, inner: Venue, injected: Injected, clock: Callable[[], datetime]) -> None:
        self._inner, self._injected, self._clock = inner, injected, clock
        self.name = inner.name
        self._unreachable: set[str] = set()  # venue ids the venue cannot be asked about before midnight

    def __getattr__(self, name: str) -> Any:  # anything else the venue offers, unfaulted
        return getattr(self._inner, name)

    def prepare(self, order: SizedOrder, signed_at: datetime) -> PreparedOrder:
        return self._inner.prepare(order, signed_at)

    def place(self, order: SizedOrder, prepared: PreparedOrder) -> VenueOrder:
        claim, key = self._injected.claim, order.trade_key
        if claim(faults.VENUE_5XX, key):
            self._injected.note(faults.VENUE_5XX, f"{order.side.value} {key[:12]}: HTTP 503 before matching")
            raise VenueAmbiguous("HTTP 503 from POST /order (injected): the order may or may not exist")
        lost = claim(faults.VENUE_TIMEOUT, key) and faults.VENUE_TIMEOUT
        late = claim(faults.SELL_AT_MIDNIGHT, key) or (
            order.exit_reason is not None and self._injected.claim_exit_sell(key, order.token_id)
        )
        lost = lost or (late and faults.SELL_AT_MIDNIGHT)
        placed = self._inner.place(order, prepared)
        if not lost:
            return placed
        if lost == faults.SELL_AT_MIDNIGHT:
            self._unreachable.add(prepared.venue_order_id)
        self._injected.note(lost, f"{order.side.value} {key[:12]}: {placed.status.value}, then a read timeout")
        raise VenueAmbiguous("read timeout after the order was sent (injected)")

    def lookup(self, order: SizedOrder, venue_order_id: str, signed_at: datetime) -> VenueOrder | None:
        if venue_order_id in self._unreachable and self._clock() < self._injected.plan.midnight:
            raise VenueAmbiguous("the venue cannot be reached (injected until midnight UTC)")
        return self._inner.lookup(order, venue_order_id, signed_at)


class FaultyLedger:
    """The orders ledger, except that execute dies at the plan's two crash points (once per faulted copy)."""

    def __init__(self, inner: OrderLedger, injected: Injected) -> None:
        self._inner, self._injected = inner, injected

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    # the ledger's own arguments after the first ones are passed through as they come (`*rest`), so a parameter the
    # ledger gains later reaches it unchanged
    def begin(self, order: SizedOrder, reserved: Decimal, *rest: Any, **named: Any) -> ExecutionResult | None:
        if self._injected.claim(faults.CRASH_BEFORE_LEDGER, order.trade_key):
            self._injected.note(faults.CRASH_BEFORE_LEDGER, f"{order.trade_key[:12]}: reserved {reserved}, no entry")
            raise InjectedCrash("execute died after risk_check reserved and before the ledger entry (injected)")
        return self._inner.begin(order, reserved, *rest, **named)

    def record(self, order: SizedOrder, result: ExecutionResult, *rest: Any, **named: Any) -> None:
        if self._injected.claim(faults.CRASH_AFTER_VENUE, order.trade_key):
            self._injected.note(faults.CRASH_AFTER_VENUE, f"{order.trade_key[:12]}: venue said {result.status.value}")
            raise InjectedCrash("execute died after the venue answered and before the settlement (injected)")
        self._inner.record(order, result, *rest, **named)


_MARK = "x-copytrader-injected"
_DYNAMODB_ERROR = "com.amazonaws.dynamodb.v20120810#"


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def _error(url: str, code: str, form: str, extra: dict[str, Any] | None = None) -> AWSResponse:
    body = json.dumps({"__type": _DYNAMODB_ERROR + code, "message": f"{code} (injected)", **(extra or {})}).encode()
    headers = {
        "Content-Type": "application/x-amz-json-1.0",
        "Content-Length": str(len(body)),
        "x-amz-crc32": str(zlib.crc32(body)),
        "x-amzn-RequestId": "injected",
        _MARK: form,
    }
    return AWSResponse(url, 400, headers, _Body(body))


def transaction_phase(items: list[dict[str, Any]], key: str) -> str | None:
    """Which of a copy's transactions `items` is: `reserve` (its reservation put), `begin` (its orders-ledger put) or
    `settle` (its orders-ledger update); None for any other (a release, a redemption, another copy's)."""
    orders, risk = OrderModel.Meta.table_name, RiskStateModel.Meta.table_name
    for item in items:
        for op, body in item.items():
            table = body.get("TableName")
            if table == orders and op == "Put" and body["Item"].get("idempotency_key", {}).get("S") == key:
                return "begin"
            if table == orders and op == "Update" and body["Key"].get("idempotency_key", {}).get("S") == key:
                return "settle"
            if table == risk and op == "Put" and body["Item"].get("pk", {}).get("S", "").endswith(f"#RESV#{key}"):
                return "reserve"
    return None


class ThrottleHook:
    """Throttles the chosen copies' transactions on one botocore DynamoDB client (see the module docstring)."""

    def __init__(self, injected: Injected, account: str, throttles: tuple[Throttle, ...] = faults.THROTTLES) -> None:
        self._injected, self._throttles = injected, throttles
        self._keys = {copy_idempotency_key(account, k): k for k in injected.plan.throttled.candidates}
        self._active: dict[str, tuple[Throttle, int]] = {}  # idempotency key -> its throttle, attempts left
        self._client: Any = None
        self._max_attempts = 1

    def install(self, client: Any) -> ThrottleHook:
        retries = client.meta.config.retries or {}
        self._max_attempts = int(retries.get("total_max_attempts") or retries.get("max_attempts", 0) + 1)
        client.meta.events.register_first("before-send.dynamodb.TransactWriteItems", self.before_send, "ct-throttle")
        client.meta.events.register_first("needs-retry.dynamodb", self.needs_retry, "ct-throttle-retry")
        self._client = client
        return self

    def remove(self) -> None:
        if self._client is not None:
            self._client.meta.events.unregister("before-send.dynamodb.TransactWriteItems", unique_id="ct-throttle")
            self._client.meta.events.unregister("needs-retry.dynamodb", unique_id="ct-throttle-retry")
            self._client = None

    def before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
        key = next((k for k in self._keys if k in body), None)
        if key is None:
            return None
        items = json.loads(body).get("TransactItems", [])
        if key not in self._active:
            throttle = self._next_throttle(key)
            if throttle is None:
                return None
            self._active[key] = (throttle, throttle.attempts)
        throttle, left = self._active[key]
        if left <= 0 or transaction_phase(items, key) != throttle.phase:
            return None
        if left == throttle.attempts:
            what = f"{self._keys[key][:12]}: {throttle.phase} x{throttle.attempts} ({throttle.form})"
            self._injected.note(faults.THROTTLE, what)
        self._active[key] = (throttle, left - 1)
        if throttle.form == "request":
            return _error(request.url, "ThrottlingException", "request")
        reasons = [{"Code": "None"} for _ in items]
        reasons[0] = {"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity (injected)"}
        return _error(request.url, "TransactionCanceledException", "item", {"CancellationReasons": reasons})

    def _next_throttle(self, key: str) -> Throttle | None:
        """The next throttle of the plan's list, for the next candidate seen (the first `count` candidates)."""
        if not self._injected.claim(faults.THROTTLE, self._keys[key]):
            return None
        return self._throttles[len(self._injected.fired(faults.THROTTLE)) - 1]

    def needs_retry(self, response: Any = None, attempts: int = 0, **_: Any) -> float | bool | None:
        """An injected request throttle is retried as botocore would (same attempt budget), without the sleep."""
        http = response[0] if isinstance(response, tuple) and response else None
        if http is None or http.headers.get(_MARK) != "request":
            return None
        return 0 if attempts < self._max_attempts else False
