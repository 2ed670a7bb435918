"""The venue sync's comparison: our books against the venue's view (Data API v2 positions) and the chain's (token
balances, the wallet's pUSD), each difference with its figures. Pure: the reads are done by the caller.

Rules:
- a source that could not be read completely is a failed sync (`failures`), never an empty source: an HTTP error, a
  missing page or `has_more` without a cursor arrive here as a failure reason, and `data: null` while we hold
  positions is one too (`venue_positions_null`); the sources that were read are still compared;
- positions: for every token we hold, the venue lists or the chain holds, our shares against the venue's size
  (quantized to the micro grid) and the chain's balance (exact base units); any difference is reported;
- cash: the wallet's pUSD against the account's cash plus the margin kept in the wallet when the live account
  opened (`venue.min_live_balance`); a difference beyond `cash_tolerance` is reported. Deposits and withdrawals
  after opening show here until an operator books them: nothing is corrected by the sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from copytrader.money import MICRO, ZERO

RAW_PER_UNIT = 10**6


@dataclass(frozen=True)
class Difference:
    kind: str  # "position" or "cash"
    subject: str  # the token id, or "pusd"
    ours: str
    venue: str | None
    chain: str | None

    def as_dict(self) -> dict[str, str | None]:
        return {"kind": self.kind, "subject": self.subject, "ours": self.ours, "venue": self.venue, "chain": self.chain}


@dataclass(frozen=True)
class SyncReport:
    failures: tuple[str, ...] = ()
    differences: tuple[Difference, ...] = ()
    figures: dict[str, object] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failures and not self.differences


def _units(raw: int) -> Decimal:
    return (Decimal(raw) * MICRO).quantize(MICRO)


def compare(
    *,
    ours: Mapping[str, Decimal],
    cash: Decimal,
    margin: Decimal,
    venue: Mapping[str, Decimal] | None,
    venue_failure: str | None = None,
    chain_tokens: Mapping[str, int] | None = None,
    chain_pusd: int | None = None,
    chain_failure: str | None = None,
    cash_tolerance: Decimal = Decimal("0.01"),
) -> SyncReport:
    """Compare (see the module docstring). `venue` None with no `venue_failure` means the API answered `data: null`;
    `chain_tokens` holds the balance of every token of `ours` and `venue` when the chain was read."""
    held = {token: shares for token, shares in ours.items() if shares}
    failures: list[str] = []
    if venue_failure is not None:
        failures.append(f"venue_read_failed:{venue_failure}")
        venue = None
    elif venue is None:
        if held:
            failures.append("venue_positions_null")
        else:
            venue = {}
    if chain_failure is not None:
        failures.append(f"chain_read_failed:{chain_failure}")
        chain_tokens, chain_pusd = None, None
    tokens = sorted(set(held) | {t for t, size in (venue or {}).items() if size} | set(chain_tokens or {}))
    differences: list[Difference] = []
    for token in tokens:
        mine = held.get(token, ZERO)
        theirs = None if venue is None else venue.get(token, ZERO).quantize(MICRO)
        onchain = None if chain_tokens is None else _units(chain_tokens.get(token, 0))
        if (theirs is not None and theirs != mine) or (onchain is not None and onchain != mine):
            shown = (None if theirs is None else str(theirs), None if onchain is None else str(onchain))
            differences.append(Difference("position", token, str(mine), *shown))
    expected_cash = cash + margin
    if chain_pusd is not None and abs(_units(chain_pusd) - expected_cash) > cash_tolerance:
        differences.append(Difference("cash", "pusd", str(expected_cash), None, str(_units(chain_pusd))))
    figures: dict[str, object] = {
        "positions_ours": len(held),
        "positions_venue": None if venue is None else sum(1 for size in venue.values() if size),
        "cash_ours_with_margin": str(expected_cash),
        "cash_chain": None if chain_pusd is None else str(_units(chain_pusd)),
    }
    return SyncReport(tuple(failures), tuple(differences), figures)
