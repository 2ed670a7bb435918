"""Data API `/activity` rows -> what the ledger needs beyond `/trades`: splits, merges, redemptions, rewards.

`GET /activity` rows (REFERENCE.md section a) carry `type` in {TRADE, SPLIT, MERGE, REDEEM, REWARD, CONVERSION,
MAKER_REBATE}, `size` (shares or full sets), `usdcSize` (pUSD), `conditionId`, `timestamp`, `transactionHash`.
- TRADE: ignored here; `/trades` rows are the trade record (counting both would double every fill).
- SPLIT n: n pUSD become n shares of every outcome of the condition. Booked as a BUY of n shares of each token at
  1/k per share for k outcomes (the pair costs 1; the split between its legs is a convention - at resolution the
  set pays exactly 1 whatever the split, so the total P&L does not depend on it). Not a trading decision.
- MERGE n: n full sets become n pUSD: a SELL of n shares of each token at 1/k. Not a trading decision. Without
  merge rows a merged pair stays open until resolution (same P&L, later); without split rows the shares sold from
  a split look bought before the window (flagged, left out), so both matter for market makers.
- REDEEM: cash for resolved shares. The ledger books resolutions from Gamma payouts, so redemptions are the audit:
  `redeemed_usdc` per wallet, to compare with the ledger's resolution cash.
- REWARD, MAKER_REBATE: income that is not trading P&L, reported per wallet (`rewards_usdc`).
- CONVERSION (neg-risk NO shares into YES of the other outcomes plus pUSD): not modelled; counted per wallet and
  flagged, so a wallet whose P&L depends on it is visibly incomplete.
Rows of unknown type, or SPLIT / MERGE rows whose condition no Gamma market lists, are counted and skipped.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from copytrader.polymarket.data_api.rows import epoch_seconds
from copytrader.scoring.market_table import MarketFacts
from copytrader.scoring.tape import KIND_FIELD


@dataclass
class ActivityReport:
    rows: int = 0
    by_type: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    redeemed_usdc: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    rewards_usdc: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    conversions: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "by_type": dict(sorted(self.by_type.items())),
            "skipped": dict(sorted(self.skipped.items())),
        }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def position_rows(
    activity: Iterable[object], markets: Mapping[str, MarketFacts]
) -> tuple[list[dict[str, object]], ActivityReport]:
    """Synthesised `/trades`-shaped rows for splits and merges, plus the per-wallet audit figures."""
    report = ActivityReport()
    rows: list[dict[str, object]] = []
    for row in activity:
        report.rows += 1
        if not isinstance(row, Mapping):
            report.skipped["not_an_object"] += 1
            continue
        kind = str(row.get("type") or "").strip().upper()
        report.by_type[kind or "missing"] += 1
        wallet = str(row.get("proxyWallet") or row.get("proxy_wallet") or "").strip().lower()
        size = _number(row.get("size"))
        usdc = _number(row.get("usdcSize") if row.get("usdcSize") is not None else row.get("usdc_size"))
        timestamp = epoch_seconds(row.get("timestamp"))
        if kind == "TRADE":
            continue
        if not wallet or timestamp is None:
            report.skipped["malformed"] += 1
            continue
        if kind == "REDEEM":
            report.redeemed_usdc[wallet] += usdc or 0.0
        elif kind in ("REWARD", "MAKER_REBATE"):
            report.rewards_usdc[wallet] += usdc or 0.0
        elif kind == "CONVERSION":
            report.conversions[wallet] += 1
        elif kind in ("SPLIT", "MERGE"):
            condition = str(row.get("conditionId") or row.get("condition_id") or "").strip().lower()
            market = markets.get(condition)
            if market is None:
                report.skipped["split_merge_unknown_market"] += 1
                continue
            if size is None or size <= 0:
                report.skipped["malformed"] += 1
                continue
            share = 1.0 / len(market.token_ids)
            for token in market.token_ids:
                rows.append(
                    {
                        "proxyWallet": wallet,
                        "side": "BUY" if kind == "SPLIT" else "SELL",
                        "asset": token,
                        "conditionId": condition,
                        "size": size,
                        "price": share,
                        "timestamp": timestamp,
                        "transactionHash": row.get("transactionHash") or row.get("transaction_hash"),
                        KIND_FIELD: kind.lower(),
                    }
                )
        else:
            report.skipped["unknown_type"] += 1
    return rows, report
