"""The venue sync's reads (the books workflow's VenueSync step and `copytrader audit --venue`): our positions and
cash from the tables, the wallet's positions from the Data API v2, its token and pUSD balances from the chain, then
the pure comparison `copytrader.risk.venue_sync`.

Paper mode is skipped with the reason `paper_mode`: the paper venue keeps no book of its own (it fills against the
public order book and its fills are our ledger's), so there is nothing independent to compare with, and a paper
account has no wallet. Live mode needs the wallet's address (COPYTRADER_WALLET_ADDRESS, or the redemption sender's
wallet) and the chain endpoint; without them the sync fails (`wallet_unknown`, `chain_rpc_missing`), it is never
quietly skipped.
"""

from __future__ import annotations

from decimal import Decimal

from copytrader.errors import CopyTraderError
from copytrader.polymarket.data_api.positions_v2 import PositionsReadFailed
from copytrader.risk.redemption import CONDITIONAL_TOKENS, POSITION_MANAGER, PUSD, is_v2_position_id
from copytrader.risk.venue_sync import SyncReport, compare
from copytrader.settings import Mode
from copytrader.workflows.wiring import Deps

WALLET_ADDRESS = "COPYTRADER_WALLET_ADDRESS"  # the live wallet's public address (the funder, or the EOA)


def _wallet(deps: Deps) -> str | None:
    address = deps.environ.get(WALLET_ADDRESS)
    if address:
        return address
    if deps.redemption_sender is None:  # a test's or paper's: no venue credentials to read
        return None
    from copytrader.execution.credentials import load_credentials
    from copytrader.execution.redemption_sender import sender_wallet

    return sender_wallet(load_credentials())  # the venue secret's wallet, without opening an SDK client


def sync_report(deps: Deps) -> SyncReport | str:
    """The comparison, or the reason it was skipped (paper mode)."""
    if deps.settings.mode is not Mode.LIVE:
        return "paper_mode"
    ours = {p.token_id: p.shares for p in deps.positions.all() if p.shares > 0}
    cash = deps.account.items.account_item().cash or Decimal(0)
    margin = deps.settings.venue.min_live_balance
    wallet = _wallet(deps)
    if wallet is None:
        return SyncReport(failures=("wallet_unknown",), figures={"positions_ours": len(ours)})
    venue: dict[str, Decimal] | None = None
    venue_failure = None
    try:
        read = deps.venue_reads.read(wallet)
        if read.positions is not None:
            venue = {p.token_id: p.size for p in read.positions}
    except PositionsReadFailed as exc:
        venue_failure = exc.reason
    chain, tokens, pusd, chain_failure = deps.chain, None, None, None
    if chain is None:
        chain_failure = "chain_rpc_missing"
    else:
        try:
            wanted = sorted(set(ours) | set(venue or {}))
            tokens = {
                t: chain.erc1155_balance(POSITION_MANAGER if is_v2_position_id(t) else CONDITIONAL_TOKENS, wallet, t)
                for t in wanted
            }
            pusd = chain.erc20_balance(PUSD, wallet)
        except (CopyTraderError, OSError, ValueError) as exc:
            chain_failure = type(exc).__name__
    return compare(
        ours=ours,
        cash=cash,
        margin=margin,
        venue=venue,
        venue_failure=venue_failure,
        chain_tokens=tokens,
        chain_pusd=pusd,
        chain_failure=chain_failure,
    )
