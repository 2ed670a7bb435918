"""Simulated markets: true probabilities, outcomes, neg-risk events, grids, times and names.

Model (parameters in `SimConfig` / `PriceParams`):
- A market belongs to an *event*. A share `neg_risk_share` of markets sits in neg-risk events of 3-5 members
  (mutually exclusive outcomes); the rest are single-market events.
- Single market: logit(pi) ~ N(0, prior_logit_sd^2), pi clipped to [pi_min, 1 - pi_min]; YES wins ~ Bernoulli(pi).
- Neg-risk event of k members: (pi_1..pi_k) ~ Dirichlet(alpha), floored at pi_min / 2 and renormalised so they
  sum to 1; one categorical draw picks the single winner.
- Per event: a category (weights in `SimConfig.categories`, which also fix the taker fee rate), a tick
  (`tick_sizes`), a trading window [open_at, end_at) supplied by the caller, and a resolution time
  end_at + U(resolution_delay_min) minutes. Members of one event share all of these.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from copytrader.sim import ids
from copytrader.sim.config import SimConfig

EventTimes = Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]
"""Draws (open_at, end_at) epoch seconds for n events."""

_SINGLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "crypto": ("Will {w} close higher on {date}?", ("Bitcoin", "Ethereum", "Solana", "XRP", "Dogecoin")),
    "sports": ("Will {w} win on {date}?", ("the Lakers", "Arsenal", "the Yankees", "the Chiefs", "Real Madrid")),
    "politics": ("Will the {w} bill pass a floor vote by {date}?", ("budget", "housing", "farm", "tariff", "AI")),
    "finance": ("Will {w} close up on {date}?", ("the S&P 500", "the Nasdaq", "gold", "oil", "the dollar index")),
    "economics": ("Will {w} beat consensus on {date}?", ("US CPI", "eurozone CPI", "UK GDP", "US payrolls")),
    "culture": ("Will {w} top the charts on {date}?", ("Taylor Swift", "Bad Bunny", "Dune 3", "The Bear")),
    "weather": ("Will {w} record rain on {date}?", ("London", "New York", "Tokyo", "Paris")),
    "tech": ("Will {w} ship its new model by {date}?", ("OpenAI", "Anthropic", "Google", "Apple", "Meta")),
    "geopolitics": ("Will {w} sign a ceasefire by {date}?", ("Sudan", "Myanmar", "the DRC", "Yemen")),
}
_OTHER: tuple[str, tuple[str, ...]] = (
    "Will {w} happen by {date}?",
    ("the announcement", "the launch", "the deal", "the vote"),
)
_GROUP: tuple[str, tuple[str, ...]] = (
    "Who will win the {date} {w} title?",
    ("Amber", "Birch", "Cobalt", "Dune", "Ember", "Fjord", "Garnet", "Harbor", "Iris"),
)
_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")


@dataclass(frozen=True)
class MarketSet:
    """A batch of markets in columnar form (index i describes market i; YES is token 0, NO token 1)."""

    gamma_id: tuple[str, ...]
    condition_id: tuple[str, ...]
    question_id: tuple[str, ...]
    yes_token: tuple[str, ...]
    no_token: tuple[str, ...]
    question: tuple[str, ...]
    slug: tuple[str, ...]
    group_item_title: tuple[str, ...]
    event_id: tuple[str, ...]
    event_slug: tuple[str, ...]
    event_title: tuple[str, ...]
    neg_risk_market_id: tuple[str | None, ...]
    category: np.ndarray  # int, index into SimConfig.categories
    tick: tuple[str, ...]  # decimal string, e.g. "0.01"
    tick_n: np.ndarray  # int, ticks per unit price (100 for 0.01)
    pi: np.ndarray  # true probability that YES wins
    yes_wins: np.ndarray  # bool outcome
    created_at: np.ndarray  # epoch seconds (int64) for Gamma createdAt/startDate
    open_at: np.ndarray  # trading window start
    end_at: np.ndarray  # stops accepting orders
    resolve_at: np.ndarray  # payouts known

    @property
    def n(self) -> int:
        return len(self.condition_id)

    @property
    def neg_risk(self) -> np.ndarray:
        return np.array([m is not None for m in self.neg_risk_market_id], dtype=bool)

    def token_id(self, i: int, token: int) -> str:
        return self.yes_token[i] if token == 0 else self.no_token[i]


def _event_sizes(rng: np.random.Generator, config: SimConfig, n: int) -> list[int]:
    """Event sizes summing to n: neg-risk groups (about neg_risk_share of the markets), then singles, shuffled."""
    low, high = config.neg_risk_group_sizes
    target = round(n * config.neg_risk_share)
    groups: list[int] = []
    while sum(groups) + low <= target:
        groups.append(min(int(rng.integers(low, high + 1)), target - sum(groups)))
    sizes = groups + [1] * (n - sum(groups))
    order = rng.permutation(len(sizes))
    return [sizes[k] for k in order]


def _single_probabilities(rng: np.random.Generator, config: SimConfig, n: int) -> np.ndarray:
    p = config.prices
    pi = 1.0 / (1.0 + np.exp(-rng.normal(0.0, p.prior_logit_sd, size=n)))
    return np.asarray(np.clip(pi, p.pi_min, 1.0 - p.pi_min))


def _group_probabilities(rng: np.random.Generator, config: SimConfig, k: int) -> np.ndarray:
    pi = rng.dirichlet(np.full(k, config.neg_risk_alpha))
    pi = np.maximum(pi, config.prices.pi_min / 2)
    return np.asarray(pi / pi.sum())


def _date(epoch: float) -> str:
    at = datetime.fromtimestamp(float(epoch), tz=UTC)
    return f"{at:%B} {at.day}"


def _names(category: str, date: str, word: int, member: int, grouped: bool) -> tuple[str, str, str]:
    """(question, group item title, event title) of one market."""
    if grouped:
        template, pool = _GROUP
        name = pool[(word + member) % len(pool)]
        return f"Will {name} win the {date} {category} title?", name, template.format(w=category, date=date)
    template, pool = _SINGLE.get(category, _OTHER)
    title = template.format(w=pool[word % len(pool)], date=date)
    return title, "", title


def build_markets(
    rng: np.random.Generator, config: SimConfig, n: int, event_times: EventTimes, first_id: int
) -> MarketSet:
    """Draw `n` markets; `event_times` places each event's trading window.

    Gamma market ids are `first_id`, `first_id + 1`, ...; event ids count up from `first_id // 4`.
    """
    sizes = _event_sizes(rng, config, n)
    n_events = len(sizes)
    event_of = np.repeat(np.arange(n_events), sizes)
    member_of = np.arange(n) - np.repeat(np.cumsum([0, *sizes[:-1]]), sizes)
    event_ids = [str(first_id // 4 + e) for e in range(n_events)]

    weights = np.array([c.weight for c in config.categories])
    event_category = rng.choice(len(config.categories), size=n_events, p=weights / weights.sum())
    tick_names = [t for t, _ in config.tick_sizes]
    tick_weights = np.array([w for _, w in config.tick_sizes])
    event_tick = rng.choice(len(tick_names), size=n_events, p=tick_weights / tick_weights.sum())
    open_at, end_at = event_times(rng, n_events)
    low, high = config.resolution_delay_min
    resolve_at = end_at + np.round(rng.uniform(low, high, size=n_events) * 60.0)
    created_at = open_at - np.round(rng.uniform(1.0, 20.0, size=n_events) * 86400.0)
    neg_risk_ids = ids.neg_risk_ids(rng, n_events)
    word_draw = rng.integers(0, 1 << 16, size=n_events)

    pi = _single_probabilities(rng, config, n)
    yes_wins = rng.random(n) < pi
    start = 0
    for size in sizes:
        if size > 1:
            group_pi = _group_probabilities(rng, config, size)
            pi[start : start + size] = group_pi
            yes_wins[start : start + size] = np.arange(size) == rng.choice(size, p=group_pi)
        start += size

    condition_ids = ids.hash32s(rng, n)
    single_question_ids = ids.hash32s(rng, n)
    tokens = ids.token_ids(rng, 2 * n)

    grouped = [sizes[int(e)] > 1 for e in event_of]
    names = [
        _names(config.categories[int(event_category[e])].name, _date(end_at[e]), int(word_draw[e]), int(m), g)
        for e, m, g in zip(event_of, member_of, grouped, strict=True)
    ]
    question_ids = [
        ids.member_question_id(neg_risk_ids[e], int(m)) if g else single_question_ids[i]
        for i, (e, m, g) in enumerate(zip(event_of, member_of, grouped, strict=True))
    ]
    questions = [q for q, _, _ in names]
    gamma_ids = tuple(str(first_id + i) for i in range(n))
    return MarketSet(
        gamma_id=gamma_ids,
        condition_id=tuple(condition_ids),
        question_id=tuple(question_ids),
        yes_token=tuple(tokens[0::2]),
        no_token=tuple(tokens[1::2]),
        question=tuple(questions),
        slug=tuple(f"{slugify(q)}-{g}" for q, g in zip(questions, gamma_ids, strict=True)),
        group_item_title=tuple(item for _, item, _ in names),
        event_id=tuple(event_ids[int(e)] for e in event_of),
        event_slug=tuple(f"{slugify(t)}-{event_ids[int(e)]}" for (_, _, t), e in zip(names, event_of, strict=True)),
        event_title=tuple(title for _, _, title in names),
        neg_risk_market_id=tuple(neg_risk_ids[int(e)] if g else None for e, g in zip(event_of, grouped, strict=True)),
        category=event_category[event_of],
        tick=tuple(tick_names[int(t)] for t in event_tick[event_of]),
        tick_n=np.array([round(1 / float(tick_names[int(t)])) for t in event_tick[event_of]], dtype=np.int64),
        pi=pi,
        yes_wins=yes_wins,
        created_at=created_at[event_of].astype(np.int64),
        open_at=open_at[event_of].astype(np.int64),
        end_at=end_at[event_of].astype(np.int64),
        resolve_at=resolve_at[event_of].astype(np.int64),
    )
