"""The unit of independent evidence: the event a market belongs to, one key per event (never one per market).

Markets of one event hinge on one fact (the members of a neg-risk group are mutually exclusive: exactly one wins),
so a wallet's trades across them are one piece of evidence, not many. Every statistic that counts or clusters
"independent" bets (the edge test's clustered variance and its degrees of freedom, `min_independent_events`,
the per-event returns of the Sharpe inference) uses the key made here.

Key of a market, first known of:
    event:<Gamma event id>   (`events[0].id` of the Gamma market object)
    negrisk:<group id>       (`negRiskMarketID`: a neg-risk group is one event)
    slug:<event slug>        (`events[0].slug`, else the market object's `eventSlug`; never the market's own slug)
and markets that share any of these aliases are joined into one event (`join_events`, a union-find over the
aliases): a member that carries only the group id and a member that carries only the event id of the same group
land in one event, whatever order Gamma lists them in. The key of a joined event is its alias of highest priority
(event id, then group, then slug; ties by text), so the result does not depend on input order.

When none is known (no event id, no neg-risk group, no event slug), the market is its own event
(`market:<condition id>`): nothing in the data says what it depends on. That counts it as independent evidence,
which overstates the evidence if it is in fact related to other markets, so `load_markets` counts such markets
(`MarketReport.without_event`) for the run report; Gamma lists an event for every market it serves today.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_PRIORITY = ("event:", "negrisk:", "slug:", "market:")


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def event_aliases(payload: Mapping[str, Any], neg_risk_group: str | None, condition_id: str) -> tuple[str, ...]:
    """Every event alias a Gamma market object carries, highest priority first; `market:<condition>` when none."""
    events = payload.get("events") or []
    first = events[0] if isinstance(events, list) and events and isinstance(events[0], Mapping) else {}
    aliases: list[str] = []
    if (event_id := _text(first.get("id"))) is not None:
        aliases.append(f"event:{event_id}")
    if (group := _text(neg_risk_group)) is not None:
        aliases.append(f"negrisk:{group}")
    slug = _text(first.get("slug")) or _text(payload.get("eventSlug"))
    if slug is not None:
        aliases.append(f"slug:{slug}")
    return tuple(aliases) if aliases else (f"market:{condition_id}",)


def _rank(alias: str) -> tuple[int, str]:
    return next(k for k, prefix in enumerate(_PRIORITY) if alias.startswith(prefix)), alias


def event_key(aliases: Sequence[str]) -> str:
    """The key of one market on its own: its alias of highest priority."""
    return min(aliases, key=_rank)


def join_events(aliases_by_market: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Market -> event key, markets sharing any alias joined into one event (union-find over the aliases)."""
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        root = a
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[a] != root:
            parent[a], a = root, parent[a]
        return root

    for aliases in aliases_by_market.values():
        first = find(aliases[0])
        for other in aliases[1:]:
            root = find(other)
            if root != first:
                keep, drop = sorted((first, root), key=_rank)
                parent[drop] = keep
                first = keep
    return {market: find(aliases[0]) for market, aliases in aliases_by_market.items()}
