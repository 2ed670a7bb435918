"""Everything the score step reads to decide on one whale trade, in one round trip.

`copytrader.copying.decision.decide` takes its inputs as loaders, called only when the checks before them pass.
Read one by one they cost a round trip each (the whale, the market, the account and exposures, our position); here
they come from one consistent BatchGetItem across the whales, markets, risk and positions tables
(`copytrader.store.batch`), made before `decide` runs, and each loader answers from it:

- the whale's profile;
- the market: this process's copy if fresh (`Markets.cached`, then the table's is not read), else the table's copy
  from the batch if fresh, else Gamma's (`Markets.resolve`), exactly as `Markets.get` decides;
- the account and the exposure items a BUY counts against. Their keys depend on the market's group and category,
  which are known before the market is read only from this process's last copy of it (`Markets.known`): when that
  guess is missing or wrong (a re-tag), the missing items are read then, in one more batch;
- our position in the token, for a SELL (mirror exits), with the selling whale's part of its cost and the whale's
  net shares of the token as we observed them (`store.whale_holdings`; none observed: the Data API, when set):
  what the mirror's fraction is sized on;
- the account's book equity (cash + open cost), which the size step sizes on (`CopySignal.book_equity`).

Nothing here decides anything, and every value is what a separate read at the same moment would have returned:
the loaders of `decide` just stop costing a round trip each. An untracked wallet's trade now reads the other items
too (one request either way).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from copytrader.copying.exits import mirror_sale, whale_before_from_positions
from copytrader.errors import TransientError, UpstreamError
from copytrader.model import Market, Side, WhaleProfile, WhaleTrade, risk_group_of
from copytrader.money import ZERO
from copytrader.risk.affordability import Exposures
from copytrader.risk.changes import part_name
from copytrader.risk.rules import Scope
from copytrader.store.account import AccountStore
from copytrader.store.batch import batch_get
from copytrader.store.markets import Markets
from copytrader.store.observed_tables import MarketModel, WhaleModel
from copytrader.store.tables import PositionModel, RiskStateModel
from copytrader.store.whale_holdings import WhaleHoldings
from copytrader.store.whales import Whales, profile_of

R = RiskStateModel
# wallet, condition id, token id -> the wallet's current size of the token and its last event (the Data API)
WhalePositions = Callable[[str, str, str], tuple[Decimal, datetime | None]]
_ALWAYS = ("account", "market", "whale")  # exposure items whose keys do not depend on the market


class DecisionReads:
    """Builds a `Prefetched` for each trade (one BatchGetItem); see the module docstring."""

    def __init__(
        self,
        account: AccountStore,
        markets: Markets,
        bankroll: Decimal,
        whale_positions: WhalePositions | None = None,
    ) -> None:
        self.account, self.markets, self.bankroll = account, markets, bankroll
        self.holdings = WhaleHoldings(account.account)
        self.whale_positions = whale_positions

    def _part_key(self, trade: WhaleTrade) -> str:
        """The risk item of the whale's part of our position in the token (`#PART#<token>#WHALE#<wallet>`)."""
        name = part_name(trade.token_id, Scope.WHALE, trade.wallet.lower())
        return self.account.items.exposure_key(Scope.POSITION_PART, name)

    def prefetch(self, trade: WhaleTrade, now: datetime) -> Prefetched:
        reads, markets = self.account.reads, self.markets
        cached = markets.cached(trade.condition_id, now)
        guess = cached or markets.known(trade.condition_id)
        if guess is not None:
            guessed = reads.exposure_keys(trade.condition_id, risk_group_of(guess), guess.category, trade.wallet)
            exposure_keys = list(guessed.values())
        else:
            keys = reads.exposure_keys(trade.condition_id, "", "", trade.wallet)
            exposure_keys = [keys[name] for name in _ALWAYS]
        position = (self.account.account, trade.token_id)
        if trade.side is Side.SELL:
            exposure_keys += [self._part_key(trade), self.holdings.key(trade.wallet, trade.token_id)]
        found = batch_get(
            self.account.items.connection,
            {
                WhaleModel: [Whales.key(trade.wallet)],
                MarketModel: [] if cached is not None else [Markets.key(trade.condition_id)],
                R: list(exposure_keys),
                PositionModel: [position] if trade.side is Side.SELL else [],
            },
        )
        stored = found[MarketModel][0] if found[MarketModel] else None
        return Prefetched(
            self,
            now,
            whale=profile_of(found[WhaleModel][0]) if found[WhaleModel] else None,
            market_read=cached is None,
            stored_market=Markets.from_item(stored) if stored is not None else None,
            risk={item.pk: item for item in found[R]},
            risk_read=frozenset(exposure_keys),
            position=found[PositionModel][0] if found[PositionModel] else None,
            position_read=trade.side is Side.SELL,
        )


@dataclass
class Prefetched:
    """One trade's reads; each method is a loader of `decide` (or what the score step passes on)."""

    source: DecisionReads
    now: datetime
    whale: WhaleProfile | None
    market_read: bool  # the table's copy of the market was read (this process had no fresh one)
    stored_market: tuple[Market, datetime] | None
    risk: dict[str, Any]  # risk item key -> item, for the keys in risk_read that exist
    risk_read: frozenset[str]
    position: Any
    position_read: bool

    def load_whale(self, wallet: str) -> WhaleProfile | None:
        return self.whale

    def load_market(self, condition_id: str) -> Market | None:
        markets = self.source.markets
        if not self.market_read:  # this process's copy was fresh when the batch was made (same `now`)
            return markets.get(condition_id, self.now)
        return markets.resolve(condition_id, self.now, self.stored_market)

    def load_held_shares(self, token_id: str) -> Decimal:
        if not self.position_read:
            return self.source.account.positions.held_shares(token_id)
        return self.position.shares if self.position is not None else ZERO

    def load_mirror(self, trade: WhaleTrade, held: Decimal) -> Decimal:
        """Shares of ours a whale's SELL makes us sell: its fraction sold of the shares its copies built
        (`copytrader.copying.exits.mirror_sale`, from this batch's reads)."""
        position = self.position
        if position is None or held <= 0:
            return ZERO
        source = self.source
        whale_cost: Decimal | None = None  # a position from before parts were kept: all of it is the whale's
        if position.whales:
            part = self.risk.get(source._part_key(trade))
            whale_cost = (part.exposure or ZERO) if part is not None else ZERO
        before = WhaleHoldings.before(self.risk.get(source.holdings.key(trade.wallet, trade.token_id)), trade)
        if before is None and source.whale_positions is not None:
            try:
                current, last = source.whale_positions(trade.wallet, trade.condition_id, trade.token_id)
                before = whale_before_from_positions(current, last, trade.size, trade.timestamp)
            except (UpstreamError, TransientError, OSError, ValueError):
                before = None  # unknown: a full exit of its part (copying/exits.py)
        return mirror_sale(held, position.cost_basis, whale_cost, before, trade.size)

    def exposures(self, market: Market, wallet: str) -> Exposures:
        """The exposures a BUY of `market` copied from `wallet` counts against (items not prefetched read now)."""
        reads = self.source.account.reads
        keys = reads.exposure_keys(market.condition_id, risk_group_of(market), market.category, wallet)
        missing = [key for key in keys.values() if key not in self.risk_read]
        if missing:
            self.risk.update({item.pk: item for item in R.batch_get(missing, consistent_read=True)})
            self.risk_read |= frozenset(missing)
        return reads.exposures_of(keys, self.risk, bankroll=self.source.bankroll)

    @property
    def book_equity(self) -> Decimal:
        """The account's cash + open cost (an account not opened yet: the bankroll it will open with)."""
        account = self.risk.get(self.source.account.items.account_key())
        if account is None:
            return self.source.bankroll
        return (account.cash or ZERO) + (account.open_cost or ZERO)
