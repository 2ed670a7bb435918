"""Live redemption, the pure parts: what one transaction redeems (its calls, their targets), the payout it must bring,
whether what the chain shows afterwards proves it, and the one settlement that books it.

Which contract (REFERENCE §0b.3, §0b.5):
- a CTF market (token ids are ConditionalTokens positions, Gamma `version:"v1"`): `redeemPositions(pUSD, 0x0,
  conditionId, [1,2])` on the pUSD collateral adapter, `CtfCollateralAdapter` for a standard market and
  `NegRiskCtfCollateralAdapter` for a neg-risk one. Calling ConditionalTokens itself with pUSD computes a position
  nobody holds: it succeeds and pays 0. One call burns both outcomes; balances are read on ConditionalTokens.
- a Protocol V2 market (token ids are V2 position ids: bits 40..103 zero, the SDK's `is_v2_position_id`):
  `Router.redeem(conditionId31, outcomeIndex, amount)` once per outcome held, amount = the balance on
  PositionManager, where balances are read. conditionId31 = the position id without its outcome byte.
A market resolved to 0 for everything we hold (`lost`) sends nothing: the transaction costs gas and returns 0, so
the books close those positions at a payout of 0 (the paper path's `REDEEM#<token>#<lot>` entries).

What proves a redemption (`verify`): the receipt succeeded, every token it redeems is at 0 on its ledger contract
afterwards, and the pUSD the receipt's Transfer logs moved to the wallet equals the expected payout (each token's
balance x its payout, floored to the micro-unit as the contracts do; `PAYOUT_TOLERANCE_RAW` per token). The logs
tie the payout to this transaction, so other movements of the wallet's pUSD in between (fills, deposits) do not
blur it; the wallet's balance before and after is reported as a figure beside it. Anything else is not booked.

What books it (`booking`): one settlement for the transaction, whatever it redeemed (both outcomes, several
tokens): one ledger entry `REDEEM#<transaction hash>` carrying every token's shares (`LedgerLine.more_shares` when
more than one), each position closed, each scope's exposure released once (summed per scope), cash = the pUSD that
arrived.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from copytrader.model import Market
from copytrader.money import MICRO, ZERO
from copytrader.risk import changes
from copytrader.risk.changes import AccountDelta, Changes, ExposureKey, Holding, LedgerLine, Redemption

# Polygon mainnet (polymarket-client 0.14.0 `environments.py`; tests hold them to the SDK's)
PUSD = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"
CONDITIONAL_TOKENS = "0x4D97DCd97eC945f40cF65F87097ACe5EA0476045"
CTF_COLLATERAL_ADAPTER = "0xAdA100Db00Ca00073811820692005400218FcE1f"
NEG_RISK_CTF_COLLATERAL_ADAPTER = "0xadA2005600Dec949baf300f4C6120000bDB6eAab"
ROUTER = "0x12121212006e4CD160D18e3f00711DA5c3372600"
POSITION_MANAGER = "0x006F54F7f9A22e0000CC2AB60031000000ae9fEF"

RAW_PER_SHARE = 10**6  # pUSD and outcome tokens have 6 decimals
PAYOUT_TOLERANCE_RAW = 1  # per token redeemed: the contracts floor each outcome's payout
_V2_RESERVED_BITS = ((1 << 64) - 1) << 40


class Ledger(StrEnum):
    CTF = "ctf"  # ConditionalTokens ERC-1155, redeemed through a collateral adapter
    V2 = "v2"  # PositionManager ERC-1155, redeemed through the Router


def is_v2_position_id(token_id: str) -> bool:
    """A Protocol V2 position id: its 64 reserved bits (40..103) are zero (REFERENCE §0b.3, the SDK's test)."""
    return (int(token_id) & _V2_RESERVED_BITS) == 0


def to_raw(shares: Decimal) -> int:
    """Shares (or pUSD) as on-chain base units; ValueError off the micro grid."""
    raw = shares * RAW_PER_SHARE
    if raw != raw.to_integral_value():
        raise ValueError(f"{shares} is not on the 6-decimal grid")
    return int(raw)


def from_raw(raw: int) -> Decimal:
    return (Decimal(raw) * MICRO).quantize(MICRO)


def payout_raw(raw_shares: int, payout: Decimal) -> int:
    """What `raw_shares` of a token paying `payout` per share returns, floored to the base unit."""
    return int((Decimal(raw_shares) * payout).to_integral_value(rounding=ROUND_FLOOR))


@dataclass(frozen=True)
class RedeemCall:
    """One contract call: CTF `redeemPositions(collateral, 0x0, condition_id, [1,2])` on an adapter (`outcome_index`
    and `amount` None), or V2 `Router.redeem(condition_id (31 bytes), outcome_index, amount)`."""

    target: str
    condition_id: str
    outcome_index: int | None = None
    amount: int | None = None
    collateral: str | None = None


@dataclass(frozen=True)
class PlannedToken:
    token_id: str
    raw: int  # the balance to burn (our books' shares; the chain must show the same before sending)
    payout_raw: int


@dataclass(frozen=True)
class RedemptionPlan:
    condition_id: str
    ledger: Ledger
    balances_on: str  # the ERC-1155 contract holding the tokens
    calls: tuple[RedeemCall, ...]
    tokens: tuple[PlannedToken, ...]

    @property
    def expected_payout_raw(self) -> int:
        return sum(t.payout_raw for t in self.tokens)

    @property
    def lost(self) -> bool:
        """Nothing to collect: every token held resolved to 0 (no transaction is sent)."""
        return self.expected_payout_raw == 0


def v2_condition_id(token_id: str) -> tuple[str, int]:
    """A V2 position id's 31-byte condition id (hex) and its outcome index (the last byte)."""
    encoded = f"{int(token_id):064x}"
    return "0x" + encoded[:-2], int(encoded[-2:], 16)


def plan(market: Market, holdings: Sequence[Holding]) -> RedemptionPlan:
    """The one transaction that redeems every holding (shares > 0) of resolved `market`."""
    if market.payouts is None:
        raise ValueError(f"market {market.condition_id} is not resolved")
    held = sorted((h for h in holdings if h.shares > 0), key=lambda h: h.token_id)
    if not held:
        raise ValueError(f"nothing held in {market.condition_id}")
    tokens = tuple(
        PlannedToken(h.token_id, to_raw(h.shares), payout_raw(to_raw(h.shares), market.payouts.get(h.token_id, ZERO)))
        for h in held
    )
    kinds = {is_v2_position_id(h.token_id) for h in held}
    if len(kinds) != 1:
        raise ValueError(f"market {market.condition_id} mixes CTF and V2 token ids")
    if kinds == {True}:
        calls = tuple(
            RedeemCall(ROUTER, cid, outcome_index=index, amount=t.raw)
            for t in tokens
            for cid, index in [v2_condition_id(t.token_id)]
        )
        return RedemptionPlan(market.condition_id, Ledger.V2, POSITION_MANAGER, calls, tokens)
    adapter = NEG_RISK_CTF_COLLATERAL_ADAPTER if market.neg_risk else CTF_COLLATERAL_ADAPTER
    call = RedeemCall(adapter, market.condition_id, collateral=PUSD)
    return RedemptionPlan(market.condition_id, Ledger.CTF, CONDITIONAL_TOKENS, (call,), tokens)


class Verdict(StrEnum):
    VERIFIED = "verified"
    BURNED_NOTHING = "redemption_burned_nothing"  # a "success" whose tokens are all still there
    PARTLY_BURNED = "redemption_partly_burned"  # some tokens still there
    PAYOUT_MISMATCH = "redemption_payout_mismatch"  # burned, but the pUSD that arrived is not the payout


@dataclass(frozen=True)
class Observed:
    """What the chain shows: token balances before (recorded before sending) and after, the pUSD the transaction's
    receipt moved to the wallet (net of any it moved out), and the wallet's pUSD balance before and after."""

    before: Mapping[str, int]
    after: Mapping[str, int]
    received_raw: int
    pusd_before: int
    pusd_after: int


def verify(plan: RedemptionPlan, seen: Observed) -> tuple[Verdict, dict[str, object]]:
    """Whether `seen` proves `plan` redeemed (see the module docstring), with the figures that say why."""
    expected = plan.expected_payout_raw
    figures: dict[str, object] = {
        "expected_payout": str(from_raw(expected)),
        "received": str(from_raw(seen.received_raw)),
        "balance_rise": str(from_raw(seen.pusd_after - seen.pusd_before)),
        "left": {t.token_id: seen.after.get(t.token_id, 0) for t in plan.tokens if seen.after.get(t.token_id, 0)},
    }
    ids = [t.token_id for t in plan.tokens]
    if all(seen.after.get(i, 0) == seen.before.get(i, 0) for i in ids) and any(seen.before.get(i, 0) for i in ids):
        return Verdict.BURNED_NOTHING, figures
    if any(seen.after.get(i, 0) for i in ids):
        return Verdict.PARTLY_BURNED, figures
    if abs(seen.received_raw - expected) > PAYOUT_TOLERANCE_RAW * len(ids):
        return Verdict.PAYOUT_MISMATCH, figures
    return Verdict.VERIFIED, figures


def booking(
    market: Market,
    tx_hash: str,
    holdings: Sequence[tuple[Holding, changes.PartCosts]],
    received_raw: int,
) -> tuple[list[Redemption], Changes]:
    """One settlement for one verified redemption transaction: every holding closed, one ledger entry
    `REDEEM#<tx_hash>`, cash = the pUSD that arrived (`received_raw`)."""
    parts = [changes.redemption(market, holding, costs) for holding, costs in holdings if holding.shares > 0]
    if not parts:
        raise ValueError("a redemption books at least one position")
    paid = from_raw(received_raw)
    basis = sum((r.cost_basis for r, _ in parts), ZERO)
    exposure: dict[ExposureKey, Decimal] = {}
    for _, settled in parts:
        for key, delta in settled.exposure:
            exposure[key] = exposure.get(key, ZERO) + delta
    positions = [settled.position for _, settled in parts if settled.position is not None]
    moves = tuple((r.token_id, -r.shares) for r, _ in parts)
    single = len(moves) == 1
    line = LedgerLine(
        kind="REDEEM",
        reference=tx_hash,
        token_id=moves[0][0] if single else None,
        condition_id=market.condition_id,
        shares_delta=moves[0][1] if single else ZERO,
        cash_delta=paid,
        realized_pnl=paid - basis,
        more_shares=() if single else moves,
    )
    settled = Changes(
        account=AccountDelta(cash=paid, open_cost=-basis),
        exposure=tuple((k, v) for k, v in exposure.items() if v),
        realized=paid - basis,
        position=positions[0],
        ledger=line,
        more_positions=tuple(positions[1:]),
    )
    return [r for r, _ in parts], settled
