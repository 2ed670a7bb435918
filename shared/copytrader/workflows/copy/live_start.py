"""Live mode's account: opened from the wallet's pUSD balance by the execute function, the venue secret's one reader.

Paper mode needs nothing here: risk_check opens the paper account with `paper_bankroll` on first use.

Live mode: the account's starting cash is what the wallet holds, less `venue.min_live_balance` (kept in the wallet,
outside the account). Only the execute function may read the venue secret, so only it opens the account: at its
first invocation in a container (`open_live_account`, from `steps.execute` and `steps.sweep`), when the account does
not exist yet, it reads the balance through the venue and calls `open_account(cash, now)`, a conditional put (two
containers starting together open it once; the store writes the account's DEPOSIT ledger entry with it). The
scheduler invokes execute with the reconcile sweep every 5 minutes whatever the traffic, so a live deployment has its
account within one sweep of its first start, before any copy could reach execute.

Until then no step knows a bankroll, so none guesses one: score and size skip a BUY with `account_not_open`
(counted and routed like every reason, `SkippedAccountNotOpen`) instead of sizing it from `paper_bankroll`, and
risk_check rejects it instead of opening the live account with the paper bankroll. Whether the account exists is
read once per container: once open, an account is never removed.

Not handled (a later issue): pUSD deposited or withdrawn after the account was opened does not change its cash;
the per-BUY balance check (`copytrader.execution.funds`) refuses a BUY the wallet can no longer pay.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING
from weakref import WeakSet

from copytrader.execution.venue import FundedVenue
from copytrader.settings import Mode

if TYPE_CHECKING:
    from copytrader.workflows.wiring import Deps

NOT_OPEN = (
    "live account not seeded yet: the execute function opens it from the wallet's pUSD balance at its first "
    "invocation (a copy or the 5-minute reconcile sweep)"
)
_open: WeakSet[Deps] = WeakSet()  # the Deps (one per container) whose account is known to exist


class AccountNotOpen(LookupError):
    """The live account does not exist yet: no step may size or reserve against a bankroll nobody has read."""


def _exists(deps: Deps) -> bool:
    if deps in _open:
        return True
    try:
        deps.account.items.account_item()
    except LookupError:
        return False
    _open.add(deps)
    return True


def require_account(deps: Deps) -> None:
    """Live mode: raise AccountNotOpen until execute has opened the account. Paper mode: nothing to check."""
    if deps.settings.mode is Mode.LIVE and not _exists(deps):
        raise AccountNotOpen(NOT_OPEN)


def open_live_account(deps: Deps) -> Decimal | None:
    """Live mode: open the account from the wallet's balance if it does not exist; the cash it opened with, else None.

    Raises when the balance cannot be read (VenueRejected) or leaves nothing to trade with (RuntimeError): the
    invocation fails loudly and the next one (at the latest the next sweep) tries again.
    """
    if deps.settings.mode is not Mode.LIVE or _exists(deps):
        return None
    venue = deps.venue
    if not isinstance(venue, FundedVenue):
        raise RuntimeError(f"live mode with a venue that cannot read the wallet ({type(venue).__name__})")
    balance = venue.collateral().balance
    cash = balance - deps.settings.venue.min_live_balance
    if cash <= 0:
        raise RuntimeError(
            f"live account not opened: wallet balance {balance} pUSD, {deps.settings.venue.min_live_balance} kept "
            "(venue.min_live_balance): fund the wallet"
        )
    deps.account.items.open_account(cash, deps.clock())
    _open.add(deps)
    return cash
