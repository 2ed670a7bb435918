"""The wallet population and its ground truth.

Kinds (counts in `SimConfig`; trading rules in `copytrader.sim.behaviour`):
- skilled: see the true probability through noise (skill s ~ U(skill_range)) and take the underpriced side;
- lucky:   heavy noise traders, large frequent bets with a longshot tilt and no information;
- maker:   small two-sided round trips in many markets, no direction;
- noise:   the rest, small random bets at random times.
Adversaries (copytrader.sim.adversaries; history only, counts 0 by default), appended after the `n_wallets`
above with addresses drawn after theirs, so a world without them is unchanged:
- hedged:         two correlated legs inside one event per action, no skill;
- insider:        one event, the winning side of each of its markets, many fills: luck, not information;
- selected_lucky: the best of many null bettors by P&L, as a leaderboard selects them.
The kinds are assigned to a random permutation of the wallets, so a wallet's index says nothing about it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from copytrader.sim import ids
from copytrader.sim.config import KindParams, SimConfig


class WalletKind(StrEnum):
    SKILLED = "skilled"
    NOISE = "noise"
    LUCKY = "lucky"
    MAKER = "maker"


class AdversaryKind(StrEnum):
    """The selection's adversaries (copytrader.sim.adversaries): null wallets built to be selected."""

    HEDGED = "hedged"
    INSIDER = "insider"
    SELECTED_LUCKY = "selected_lucky"


AnyKind = WalletKind | AdversaryKind
# the index of a kind in `WalletSet.kind`: the behaviours (copytrader.sim.behaviour) first, then the adversaries
KINDS: tuple[AnyKind, ...] = (*WalletKind, *AdversaryKind)
BEHAVIOUR_KINDS: tuple[WalletKind, ...] = tuple(WalletKind)
ADVERSARY_KINDS: tuple[AdversaryKind, ...] = tuple(AdversaryKind)


def kind_params(config: SimConfig, kind: WalletKind) -> KindParams:
    return {
        WalletKind.SKILLED: config.skilled,
        WalletKind.NOISE: config.noise,
        WalletKind.LUCKY: config.lucky,
        WalletKind.MAKER: config.maker,
    }[kind]


@dataclass(frozen=True)
class SimWallet:
    """Ground truth about one wallet: `skill` is the weight of the true probability in its belief (0 = none)."""

    address: str
    kind: AnyKind
    skill: float


@dataclass(frozen=True)
class WalletSet:
    """The population in columnar form; `kind` indexes `KINDS`, `rate` is actions per day."""

    address: tuple[str, ...]
    kind: np.ndarray
    skill: np.ndarray
    rate: np.ndarray

    @property
    def n(self) -> int:
        return len(self.address)

    def of_kind(self, kind: AnyKind) -> np.ndarray:
        return np.flatnonzero(self.kind == KINDS.index(kind))

    def public(self) -> tuple[SimWallet, ...]:
        return tuple(
            SimWallet(address=a, kind=KINDS[int(k)], skill=float(s))
            for a, k, s in zip(self.address, self.kind, self.skill, strict=True)
        )


def build_wallets(rng: np.random.Generator, config: SimConfig) -> WalletSet:
    counts = {
        WalletKind.SKILLED: config.n_skilled,
        WalletKind.LUCKY: config.n_lucky,
        WalletKind.MAKER: config.n_makers,
    }
    counts[WalletKind.NOISE] = config.n_wallets - sum(counts.values())
    kind = np.concatenate([np.full(counts[k], KINDS.index(k), dtype=np.int8) for k in BEHAVIOUR_KINDS])
    kind = kind[rng.permutation(config.n_wallets)]
    skill = np.zeros(config.n_wallets)
    skilled = kind == KINDS.index(WalletKind.SKILLED)
    skill[skilled] = rng.uniform(*config.skill.skill_range, size=int(skilled.sum()))
    rate = np.empty(config.n_wallets)
    for k in BEHAVIOUR_KINDS:
        members = kind == KINDS.index(k)
        params = kind_params(config, k)
        rate[members] = params.actions_per_day * np.exp(rng.normal(0.0, params.activity_sigma, int(members.sum())))
    address = tuple(ids.addresses(rng, config.n_wallets))
    extra = {AdversaryKind.HEDGED: config.n_hedged, AdversaryKind.INSIDER: config.n_insiders}
    extra[AdversaryKind.SELECTED_LUCKY] = config.n_selected_lucky
    n_extra = sum(extra.values())
    if n_extra:  # drawn after everything above, so the ordinary population is the same with or without them
        kind = np.concatenate([kind, *(np.full(extra[k], KINDS.index(k), dtype=np.int8) for k in ADVERSARY_KINDS)])
        skill, rate = np.concatenate([skill, np.zeros(n_extra)]), np.concatenate([rate, np.zeros(n_extra)])
        address += tuple(ids.addresses(rng, n_extra))
    return WalletSet(address=address, kind=kind, skill=skill, rate=rate)
