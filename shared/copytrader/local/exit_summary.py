"""The demo's exit, redemption and marked-equity figures, read from the tables after the close.

- `exits_by_reason`: every SELL in the orders ledger, by exit reason (the `exit_reason` its sized order recorded,
  `SizedOrder.exit_reason`; a SELL without one copies a whale's SELL: the mirror exit): orders, orders filled,
  shares sold, pUSD received, fees and realized P&L (the FILL_SELL ledger entries of those orders);
- `redemptions`: the REDEEM ledger entries (count, payout, realized P&L);
- `marked`: the final marked equity on the account item (`equity_marked`), and the maximum drawdown of the marked
  equity curve (each exits run's marking, `copytrader.local.day_exits`), in percent of the running peak;
- `crash_evidence` (--faults): what the orders ledger holds for the token a planned crash hit.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from copytrader.model import SizedOrder
from copytrader.model.exits import ExitReason
from copytrader.store.tables import LedgerEntryModel, OrderModel, RiskStateModel

_FILLED = ("FILLED", "PARTIAL")


def exit_reason_of(entry: OrderModel) -> str:
    """The exit rule of a SELL in the orders ledger (mirror: a copy of a whale's SELL)."""
    if entry.order_json:
        reason = SizedOrder.model_validate_json(entry.order_json).exit_reason
        if reason is not None:
            return reason.value
    return ExitReason.MIRROR.value


def exits_by_reason(account: str, orders: list[OrderModel], ledger: list[LedgerEntryModel]) -> dict[str, Any]:
    """Reason -> orders, filled, shares, pusd, fees, realized_pnl (amounts as strings), in `ExitReason` order."""
    sells = {e.idempotency_key: e for e in orders if e.account == account and e.side == "SELL"}
    fills = defaultdict(list)
    for line in ledger:
        if line.kind == "FILL_SELL" and line.reference in sells:
            fills[line.reference].append(line)
    figures: dict[str, dict[str, Any]] = {}
    for key, entry in sells.items():
        row = figures.setdefault(
            exit_reason_of(entry),
            {
                "orders": 0,
                "filled": 0,
                "shares": Decimal(0),
                "pusd": Decimal(0),
                "fees": Decimal(0),
                "realized_pnl": Decimal(0),
            },
        )
        row["orders"] += 1
        row["filled"] += int(entry.status in _FILLED)
        for line in fills[key]:
            row["shares"] -= line.shares_delta
            row["pusd"] += line.cash_delta
            row["fees"] += line.fee
            row["realized_pnl"] += line.realized_pnl
    order = [r.value for r in ExitReason]
    return {
        reason: {
            **row,
            **{k: f"{row[k]:.2f}" for k in ("shares", "pusd", "realized_pnl")},
            "fees": f"{row['fees']:.5f}",
        }
        for reason, row in sorted(figures.items(), key=lambda item: order.index(item[0]))
    }


def redemptions(ledger: list[LedgerEntryModel]) -> dict[str, Any]:
    redeemed = [line for line in ledger if line.kind == "REDEEM"]
    return {
        "count": len(redeemed),
        "payout": f"{sum((line.cash_delta for line in redeemed), Decimal(0)):.2f}",
        "realized_pnl": f"{sum((line.realized_pnl for line in redeemed), Decimal(0)):.2f}",
    }


def max_drawdown_pct(curve: list[tuple[str, str]]) -> Decimal:
    """The largest fall from a running peak of the curve, in percent of that peak (0 for fewer than two points)."""
    peak, worst = Decimal(0), Decimal(0)
    for _, point in curve:
        level = Decimal(point)
        peak = max(peak, level)
        if peak > 0:
            worst = max(worst, (peak - level) / peak)
    return worst * 100


def marked(account: str, curve: list[tuple[str, str]]) -> dict[str, Any]:
    """The final marked equity (the account item's `equity_marked`) and the marked curve's maximum drawdown."""
    try:
        item = RiskStateModel.get(f"{account}#ACCOUNT")
        final = item.equity_marked
    except RiskStateModel.DoesNotExist:
        final = None
    return {
        "equity_marked": None if final is None else f"{final:.2f}",
        "max_drawdown_marked_pct": f"{max_drawdown_pct(curve):.3f}",
        "markings": len(curve),
    }


def crash_evidence(crashed: dict[str, Any]) -> dict[str, Any] | None:
    """The crashed token's orders in the ledger from the crash on (time, side, exit reason, status, shares, filled),
    and its SELLs by exit reason until it is bought again (the sim's whales do not see the crash and may buy it again,
    and we copy them: that is a new position, with exits of its own). The stop must have sold the crashed one once."""
    if not crashed:
        return None
    at = datetime.fromisoformat(crashed["at"])
    after = sorted(
        (o for o in OrderModel.scan() if o.token_id == crashed["token_id"] and o.created_at >= at),
        key=lambda o: (o.created_at, o.idempotency_key),
    )
    by_reason: dict[str, int] = defaultdict(int)
    filled: dict[str, int] = defaultdict(int)
    for order in after:
        if order.side == "BUY" and order.status in _FILLED:
            break
        if order.side == "SELL":
            reason = exit_reason_of(order)
            by_reason[reason] += 1
            filled[reason] += int(order.status in _FILLED)
    sells = [o for o in after if o.side == "SELL"]
    return {
        **crashed,
        "sells_by_reason": dict(by_reason),
        "filled_by_reason": dict(filled),
        "first_sell_after_s": round((sells[0].created_at - at).total_seconds(), 3) if sells else None,
        "orders": [
            [
                o.created_at.isoformat(),
                o.side,
                exit_reason_of(o) if o.side == "SELL" else "",
                o.status,
                str(o.shares),
                str(o.filled_shares),
            ]
            for o in after
        ],
    }
