"""The wallet population and its ground truth.

Kinds (counts in `SimConfig`; trading rules in `copytrader.sim.behaviour`):
- skilled: see the true probability through noise (skill s ~ U(skill_range)) and take the underpriced side;
- lucky:   heavy noise traders, large frequent bets with a longshot tilt and no information;
- maker:   small two-sided round trips in many markets, no direction;
- noise:   the rest, small random bets at random times.
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


KINDS: tuple[WalletKind, ...] = tuple(WalletKind)


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
    kind: WalletKind
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

    def of_kind(self, kind: WalletKind) -> np.ndarray:
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
    kind = np.concatenate([np.full(counts[k], KINDS.index(k), dtype=np.int8) for k in KINDS])
    kind = kind[rng.permutation(config.n_wallets)]
    skill = np.zeros(config.n_wallets)
    skilled = kind == KINDS.index(WalletKind.SKILLED)
    skill[skilled] = rng.uniform(*config.skill.skill_range, size=int(skilled.sum()))
    rate = np.empty(config.n_wallets)
    for k in KINDS:
        members = kind == KINDS.index(k)
        params = kind_params(config, k)
        rate[members] = params.actions_per_day * np.exp(rng.normal(0.0, params.activity_sigma, int(members.sum())))
    return WalletSet(address=tuple(ids.addresses(rng, config.n_wallets)), kind=kind, skill=skill, rate=rate)
