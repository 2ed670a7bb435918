"""Live redemptions in flight: one risk-table item per market, `<acct>#REDEEMTX#<condition_id>`, that makes sending
and booking each happen once across crashes.

    (none) / terminal --begin--> SENDING --sent--> SENT --booked (in the settlement's transaction)--> BOOKED
                                    |                 |--finish--> FAILED | UNVERIFIED   (position kept, alarmed)
                                    `--finish--> ABANDONED (never left: its tokens never moved)

`begin` is written (conditionally on the state it read) before the transaction is sent, with the plan and the
balances before; `sent` records the relayer's id and the hash as soon as they are known; `booked` is part of the
one DynamoDB transaction that books the redemption and requires SENDING or SENT, so a retry after a crash between
"confirmed" and "booked" books once, and an item in flight is resumed, never re-sent. A terminal item is replaced by
the next attempt (a later lot, or a retry after FAILED / UNVERIFIED / ABANDONED).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from pynamodb.exceptions import PutError, UpdateError
from pynamodb.transactions import TransactWrite

from copytrader.risk.redemption import Ledger, PlannedToken, RedeemCall, RedemptionPlan
from copytrader.store.account.items import AccountItems
from copytrader.store.conditional import condition_failed
from copytrader.store.tables import RiskStateModel

R = RiskStateModel


class State(StrEnum):
    SENDING = "SENDING"
    SENT = "SENT"
    BOOKED = "BOOKED"
    FAILED = "FAILED"
    UNVERIFIED = "UNVERIFIED"
    ABANDONED = "ABANDONED"


IN_FLIGHT = (State.SENDING, State.SENT)


@dataclass(frozen=True)
class Intent:
    condition_id: str
    state: State
    attempt: int
    plan: RedemptionPlan
    before: dict[str, int]  # token -> base units on its ledger contract, read before sending
    pusd_before: int
    started_at: datetime
    transaction_id: str | None = None
    transaction_hash: str | None = None
    detail: str = ""

    def as_json(self) -> str:
        body = {
            "attempt": self.attempt,
            "plan": asdict(self.plan),
            "before": self.before,
            "pusd_before": self.pusd_before,
            "started_at": self.started_at.isoformat(),
            "transaction_id": self.transaction_id,
            "transaction_hash": self.transaction_hash,
            "detail": self.detail,
        }
        return json.dumps(body, sort_keys=True)

    @staticmethod
    def from_item(condition_id: str, state: str, text: str) -> Intent:
        body: dict[str, Any] = json.loads(text)
        raw = body["plan"]
        plan = RedemptionPlan(
            condition_id=raw["condition_id"],
            ledger=Ledger(raw["ledger"]),
            balances_on=raw["balances_on"],
            calls=tuple(RedeemCall(**c) for c in raw["calls"]),
            tokens=tuple(PlannedToken(**t) for t in raw["tokens"]),
        )
        return Intent(
            condition_id=condition_id,
            state=State(state),
            attempt=int(body["attempt"]),
            plan=plan,
            before={str(k): int(v) for k, v in body["before"].items()},
            pusd_before=int(body["pusd_before"]),
            started_at=datetime.fromisoformat(body["started_at"]),
            transaction_id=body.get("transaction_id"),
            transaction_hash=body.get("transaction_hash"),
            detail=body.get("detail") or "",
        )


class Redemptions:
    def __init__(self, items: AccountItems) -> None:
        self.items = items

    def key(self, condition_id: str) -> str:
        return f"{self.items.account}#REDEEMTX#{condition_id}"

    def get(self, condition_id: str) -> Intent | None:
        try:
            item = R.get(self.key(condition_id), consistent_read=True)
        except R.DoesNotExist:
            return None
        if not item.redemption_state or not item.redemption:
            return None
        return Intent.from_item(condition_id, item.redemption_state, item.redemption)

    def begin(self, intent: Intent, previous: Intent | None, now: datetime) -> bool:
        """Record `intent` (SENDING) before its transaction is sent; False when another run got there first."""
        # new, or unchanged since it was read
        condition = R.pk.does_not_exist() if previous is None else R.redemption == previous.as_json()
        item = R(
            pk=self.key(intent.condition_id),
            condition_id=intent.condition_id,
            redemption_state=intent.state.value,
            redemption=intent.as_json(),
            updated_at=now,
        )
        try:
            item.save(condition=condition)
        except PutError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def _move(self, intent: Intent, moved: Intent, now: datetime) -> Intent:
        """Replace `intent` (as read: the condition) with `moved`, only while in flight."""
        to = moved.state
        try:
            R(pk=self.key(intent.condition_id)).update(
                actions=[
                    R.redemption_state.set(to.value),
                    R.redemption.set(moved.as_json()),
                    R.updated_at.set(now),
                ],
                condition=R.redemption_state.is_in(*[s.value for s in IN_FLIGHT]) & (R.redemption == intent.as_json()),
            )
        except UpdateError as exc:
            if condition_failed(exc):
                raise LookupError(f"redemption {intent.condition_id} attempt {intent.attempt} moved on") from None
            raise
        return moved

    def sent(self, intent: Intent, transaction_id: str | None, transaction_hash: str | None, now: datetime) -> Intent:
        """The transaction's ids, as soon as they are known (SENT)."""
        moved = replace(intent, state=State.SENT, transaction_id=transaction_id, transaction_hash=transaction_hash)
        return self._move(intent, moved, now)

    def finish(self, intent: Intent, to: State, detail: str, now: datetime) -> Intent:
        """End an attempt without booking it (FAILED, UNVERIFIED, ABANDONED)."""
        return self._move(intent, replace(intent, state=to, detail=detail), now)

    def add_booked(self, tx: TransactWrite, intent: Intent, now: datetime) -> None:
        """Mark the attempt BOOKED inside the settlement's transaction (only from SENDING or SENT)."""
        booked = replace(intent, state=State.BOOKED)
        tx.update(
            R(pk=self.key(intent.condition_id)),
            actions=[
                R.redemption_state.set(State.BOOKED.value),
                R.redemption.set(booked.as_json()),
                R.updated_at.set(now),
            ],
            condition=R.redemption_state.is_in(*[s.value for s in IN_FLIGHT]) & (R.redemption == intent.as_json()),
        )
