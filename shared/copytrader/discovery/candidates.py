"""Candidate wallets and why each was picked (its provenance). No I/O.

Two sources name candidates:
- a leaderboard row: `leaderboard:<orderBy>/<timePeriod>/<category>#<rank> pnl=<pnl>` (or `vol=<vol>` for
  a volume ranking);
- a large trade of the global `/trades` feed (`filterType=CASH&filterAmount=<usdc>`, taker fills):
  `large_trade:<notional in pUSD> tx=<transaction hash>`.

Rows that name no candidate are counted by reason (`SkipReason` for leaderboard rows and notional
checks, the parser's `RejectReason` for trade rows), never raised. Candidates come out ordered by wallet
address; each one's provenance in the order the sources were added (rank order within a ranking), without
repeats. Add sources in a fixed order and the result is the same bytes on every run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from copytrader.discovery.leaderboard import LeaderboardQuery, Skip, SkipReason, parse_leaderboard_row
from copytrader.model import WhaleTrade
from copytrader.money import canonical
from copytrader.polymarket.data_api.rows import RowReject, parse_trade_row

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Candidate:
    wallet: str  # lower-case 0x address
    provenance: tuple[str, ...]
    user_name: str = ""


def leaderboard_provenance(query: LeaderboardQuery, rank: int, metric: Decimal) -> str:
    name = "pnl" if query.order_by == "PNL" else "vol"
    return f"leaderboard:{query.label}#{rank} {name}={canonical(metric)}"


def large_trade_provenance(trade: WhaleTrade) -> str:
    return f"large_trade:{canonical(notional(trade).quantize(CENT))} tx={trade.tx_hash}"


def notional(trade: WhaleTrade) -> Decimal:
    return trade.price * trade.size


class CandidatePool:
    """Collects candidates from leaderboard pages and large trades, counting what it skips."""

    def __init__(self) -> None:
        self._provenance: dict[str, list[str]] = {}
        self._names: dict[str, str] = {}
        self.skipped: Counter[str] = Counter()

    def add(self, wallet: str, provenance: str, user_name: str = "") -> None:
        reasons = self._provenance.setdefault(wallet, [])
        if provenance not in reasons:
            reasons.append(provenance)
        if user_name and not self._names.get(wallet):
            self._names[wallet] = user_name

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] += count

    def add_leaderboard(self, query: LeaderboardQuery, rows: Iterable[object]) -> None:
        """The rows of one ranking, in rank order (pages concatenated)."""
        for row in rows:
            entry = parse_leaderboard_row(row)
            if isinstance(entry, Skip):
                self.skip(entry.reason)
                continue
            metric = entry.pnl if query.order_by == "PNL" else entry.vol
            self.add(entry.wallet, leaderboard_provenance(query, entry.rank, metric), entry.user_name)

    def add_large_trades(self, rows: Sequence[object], min_usdc: Decimal, received_at: datetime) -> None:
        """Rows of the global trade feed; a fill under `min_usdc` of notional is skipped (the feed should
        not return one, this check keeps a misbehaving answer from naming candidates)."""
        trades: list[WhaleTrade] = []
        for row in rows:
            parsed = parse_trade_row(row, received_at)
            if isinstance(parsed, RowReject):
                self.skip(parsed.reason)
            elif notional(parsed) < min_usdc:
                self.skip(SkipReason.BELOW_THRESHOLD)
            else:
                trades.append(parsed)
        for trade in sorted(trades, key=lambda t: (-t.timestamp.timestamp(), t.tx_hash, t.key)):
            self.add(trade.wallet, large_trade_provenance(trade))

    def candidates(self) -> list[Candidate]:
        return [
            Candidate(wallet, tuple(self._provenance[wallet]), self._names.get(wallet, ""))
            for wallet in sorted(self._provenance)
        ]
