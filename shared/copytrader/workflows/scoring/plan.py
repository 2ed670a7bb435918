"""The plan and the records of one daily scoring run (`workflows/scoring/definition.asl.json`), without I/O.

    Discover ──> runs/<run>/items.json ──> Distributed Map: Evidence per batch ──> Select
      candidates       pre-batched wallets        stage 1, written to S3 by the child      stage 2

Layout of the scoring bucket (`RunKeys`):

    cache/...                               the discovery cache (`copytrader.discovery.cache`), kept for good
    runs/<run>/items.json                   the Map's item list: [{"batch": 0, "wallets": [...]}, ...]
    runs/<run>/candidates.json              who is scored and why (provenance, selection windows), what discovery
                                            skipped
    runs/<run>/evidence/<batch>.json        one batch's stage-1 evidence records and cleaning reports
    runs/<run>/selection.json               the change of the tracked set this run makes (and whether it was sent)
    runs/<run>/universe.json                every wallet ranked (stage 2) and the run's summary

Only `runs/` expires (bucket lifecycle); the cache is what makes a daily run read only new rows.

Rate limits and concurrency. The Data API allows 200 `/trades` requests per 10 s (1,000 in all, Gamma
`/markets` 300), and every child of the Map runs in its own Lambda with its own limiter, so the budget is
divided: the workflow takes `BUDGET_SHARE` (75 %) of each documented limit, leaving room for the listener's
reconciliation polls and for retried requests, and each child takes 1/`MAX_CONCURRENCY` of that (`child_rate`):
30 `/trades` requests per 10 s at `MAX_CONCURRENCY` = 5. Why 5: one child keeps `FETCH_CONCURRENCY` = 4 wallets
in flight, about 8-16 requests/s at 250-500 ms per request, so one or two children could already fill the
budget while fetching; but a child also spends time on S3 and on the evidence itself, when it requests
nothing. Five children keep the budget busy through those phases; more would only shrink each child's share
and stretch its wall time toward the 5-minute limit of an Express child without fetching any faster.

Time per child: at most `BATCH_SIZE` wallets x `MAX_HISTORY_ROWS` / 1,000 rows per `/trades` page = 200
`/trades` requests on a cold cache, 67 s at 3 requests/s, plus `/activity` pages (500 rows each, under the
general limit only: 15 requests/s per child), well inside the evidence function's timeout; a daily refresh is
one or two requests per wallet and endpoint.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from copytrader.model import COPYABLE_STATUSES, WhaleProfile, WhaleStatus
from copytrader.scoring.naming import SelectionWindow, first_naming

# ------------------------------------------------------------------------------------------------ tunables
BATCH_SIZE = 10  # wallets per Map item (one evidence child)
MAX_CONCURRENCY = 5  # the Map's MaxConcurrency (scoring.asl.json says the same; a unit test holds them equal)
TOLERATED_FAILURE_PERCENT = 10.0  # the Map's ToleratedFailurePercentage; Select enforces it too (moto does not)
MAX_WALLETS = 10_000  # per run: 1,000 batches, whose small results stay far below the 256 KB payload limit
MAX_HISTORY_ROWS = 20_000  # per wallet and endpoint: 20 pages of /trades, 40 of /activity (more is a bot's history)
FETCH_CONCURRENCY = 4  # wallets fetched at once inside one child
BUDGET_SHARE = 0.75  # of each documented rate limit, for the whole workflow
LARGE_TRADE_USDC = Decimal(5000)  # a fill worth this much pUSD names its taker as a candidate
LARGE_TRADE_LIMIT = 500  # newest large fills read per run

CACHE_PREFIX = "cache/"
RUNS_PREFIX = "runs/"
RUN_DATA_DAYS = 30  # lifecycle expiry of runs/ (CDK)

# documented limits per 10 s (copytrader.discovery.endpoints, copytrader.discovery.gamma_markets)
DATA_API_LIMIT = 1000
TRADES_LIMIT = 200
POSITIONS_LIMIT = 150
GAMMA_MARKETS_LIMIT = 300


def child_rate(documented_limit: int, children: int = MAX_CONCURRENCY, share: float = BUDGET_SHARE) -> int:
    """Requests per 10 s one Map child may make so that `children` of them stay within `share` of the limit."""
    return max(1, math.floor(documented_limit * share / children))


# ----------------------------------------------------------------------------------------------- run ids
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def parse_time(value: str | int | float) -> datetime:
    """An ISO-8601 time (Step Functions' `$$.Execution.StartTime`, `2026-11-02T05:00:00.123Z`) or epoch seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a time: {value!r}")
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"a time needs its zone: {value!r}")
    return parsed.astimezone(UTC)


def run_id_for(started_at: datetime, execution: str) -> str:
    """Sortable and unique per execution: `20261102T050000Z-<execution name>` (S3-safe characters only)."""
    name = _UNSAFE.sub("-", execution).strip("-")[:64] or "run"
    return f"{started_at.astimezone(UTC):%Y%m%dT%H%M%SZ}-{name}"


@dataclass(frozen=True)
class RunKeys:
    """Where one run's objects live in the scoring bucket."""

    run_id: str

    def __post_init__(self) -> None:
        if not self.run_id or _UNSAFE.search(self.run_id):
            raise ValueError(f"a run id holds letters, digits, '-' and '_' only: {self.run_id!r}")

    @property
    def prefix(self) -> str:
        return f"{RUNS_PREFIX}{self.run_id}/"

    @property
    def items(self) -> str:
        return f"{self.prefix}items.json"

    @property
    def candidates(self) -> str:
        return f"{self.prefix}candidates.json"

    @property
    def selection(self) -> str:
        return f"{self.prefix}selection.json"

    @property
    def universe(self) -> str:
        return f"{self.prefix}universe.json"

    def evidence(self, batch: int) -> str:
        return f"{self.prefix}evidence/{batch:05d}.json"


# ------------------------------------------------------------------------------------------- candidates
@dataclass(frozen=True)
class CandidatePlan:
    """The wallets a run scores, in order, with why each is there, and the ones left out by the cap."""

    wallets: list[str]
    provenance: dict[str, list[str]]
    tracked: int  # wallets already in the whales table
    discovered: int  # wallets named by leaderboards or large trades (some may also be tracked)
    dropped: list[str] = field(default_factory=list)


def plan_candidates(
    discovered: Mapping[str, Sequence[str]], tracked: Iterable[WhaleProfile], cap: int = MAX_WALLETS
) -> CandidatePlan:
    """Every tracked wallet (always rescored, so its status stays current) and every discovered one.

    `discovered` maps a wallet to its discovery provenance. Over `cap`, tracked wallets are kept first
    (copyable ones before the rest), then discovered ones in address order; the others are reported dropped.
    """
    provenance: dict[str, list[str]] = {}
    tracked_order: list[tuple[int, str]] = []
    for profile in tracked:
        wallet = profile.wallet.lower()
        provenance.setdefault(wallet, []).append(f"tracked:{profile.status.value}")
        tracked_order.append((0 if profile.status in COPYABLE_STATUSES else 1, wallet))
    for wallet, sources in discovered.items():
        provenance.setdefault(wallet.lower(), []).extend(sources)
    first = [wallet for _, wallet in sorted(set(tracked_order))]
    rest = sorted(set(provenance) - set(first))
    ordered = first + rest
    kept, dropped = ordered[:cap], ordered[cap:]
    return CandidatePlan(
        wallets=sorted(kept),
        provenance={wallet: provenance[wallet] for wallet in sorted(kept)},
        tracked=len(first),
        discovered=len({w.lower() for w in discovered}),
        dropped=sorted(dropped),
    )


def selection_windows(
    provenance: Mapping[str, Sequence[str]], tracked: Iterable[WhaleProfile], named_at: int
) -> dict[str, dict[str, int | None]]:
    """Each wallet's selection window (copytrader.scoring.naming) as JSON: a tracked wallet keeps the one in the
    whales table (first naming and first selection); a row written before windows existed counts as named at its
    earliest known scoring time, having looked at everything before; a newly named wallet's window comes from the
    sources that named it now."""
    stored = {p.wallet.lower(): p for p in tracked}
    out: dict[str, dict[str, int | None]] = {}
    for wallet, sources in provenance.items():
        profile = stored.get(wallet)
        if profile is None:
            window = first_naming(sources, named_at)
        else:
            if profile.named_at is not None:
                first = int(profile.named_at.timestamp())
            else:  # a row written before windows existed
                first = min(
                    (int(t.timestamp()) for t in (profile.status_since, profile.scored_at) if t), default=named_at
                )
            window = SelectionWindow(first, _epoch(profile.looked_from), _epoch(profile.selected_at))
        out[wallet] = asdict(window)
    return out


def windows_from_json(document: Mapping[str, Mapping[str, int | None]]) -> dict[str, SelectionWindow]:
    """The windows `selection_windows` wrote, read back."""
    return {wallet: SelectionWindow(**w) for wallet, w in document.items()}  # type: ignore[arg-type]


def _epoch(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def batches(wallets: Sequence[str], size: int = BATCH_SIZE) -> list[dict[str, Any]]:
    """The Map's items: `{"batch": i, "wallets": [...]}` of at most `size` wallets each."""
    if size < 1:
        raise ValueError("a batch holds at least one wallet")
    return [
        {"batch": i, "wallets": list(wallets[start : start + size])}
        for i, start in enumerate(range(0, len(wallets), size))
    ]


# --------------------------------------------------------------------------------------- batch outcomes
def missing_batches(expected: Iterable[int], found: Iterable[int]) -> list[int]:
    return sorted(set(expected) - set(found))


def within_tolerance(failed: int, total: int, percent: float = TOLERATED_FAILURE_PERCENT) -> bool:
    """Step Functions' rule: the run fails when failed items exceed `percent` of all items."""
    return total == 0 or failed * 100 <= percent * total


def _add_counts(into: dict[str, Any], report: Mapping[str, Any]) -> None:
    for key, value in report.items():
        if isinstance(value, Mapping):
            nested = into.setdefault(key, {})
            for name, count in value.items():
                nested[name] = nested.get(name, 0) + count
        elif isinstance(value, int | float) and not isinstance(value, bool):
            into[key] = into.get(key, 0) + value


def combined_reports(documents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The batches' cleaning reports added up (market counts are per batch: a market two batches touch counts twice)."""
    load: dict[str, Any] = {}
    markets: dict[str, Any] = {}
    totals: Counter[str] = Counter()
    for document in documents:
        _add_counts(load, document.get("load") or {})
        _add_counts(markets, document.get("markets") or {})
        for name in ("after_as_of", "unknown_market_trades"):
            totals[name] += int(document.get(name) or 0)
        totals["fetch_failed"] += len(document.get("fetch_failed") or {})
    for report in (load, markets):
        report["rejected"] = dict(sorted((report.get("rejected") or {}).items()))
    return {"rows": load, "markets": markets, **dict(sorted(totals.items()))}


# ---------------------------------------------------------------------------------- the tracked set
@dataclass(frozen=True)
class SelectionChange:
    """How a run changes the set of copied wallets (ACTIVE or PROBATION)."""

    added: dict[str, str]  # wallet -> its new status
    removed: dict[str, str]  # wallet -> the status it leaves with
    moved: dict[str, tuple[str, str]]  # copied before and after, status changed: wallet -> (before, after)
    selected: int  # copied wallets after the run

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "removed": self.removed,
            "moved": {wallet: list(pair) for wallet, pair in self.moved.items()},
            "selected": self.selected,
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> SelectionChange:
        return cls(
            added=dict(document.get("added") or {}),
            removed=dict(document.get("removed") or {}),
            moved={wallet: (pair[0], pair[1]) for wallet, pair in (document.get("moved") or {}).items()},
            selected=int(document.get("selected") or 0),
        )


def selection_change(before: Mapping[str, WhaleStatus], after: Mapping[str, WhaleStatus]) -> SelectionChange:
    """Compare statuses before and after a run (`after` holds every wallet, rescored or not)."""
    was = {w for w, s in before.items() if s in COPYABLE_STATUSES}
    now = {w for w, s in after.items() if s in COPYABLE_STATUSES}
    return SelectionChange(
        added={w: after[w].value for w in sorted(now - was)},
        removed={w: after[w].value if w in after else "absent" for w in sorted(was - now)},
        moved={w: (before[w].value, after[w].value) for w in sorted(was & now) if before[w] is not after[w]},
        selected=len(now),
    )


def alert_subject(change: SelectionChange) -> str:
    return f"copytrader: tracked whales changed (+{len(change.added)} -{len(change.removed)}, {change.selected} copied)"


def alert_detail(
    run_id: str, change: SelectionChange, profiles: Mapping[str, WhaleProfile], universe_key: str, summary: Any
) -> dict[str, Any]:
    """A short message: who joined (status, score bound), who left (and the first reason), where the rest is."""

    def joined(wallet: str) -> dict[str, Any]:
        profile = profiles.get(wallet)
        return {
            "wallet": wallet,
            "status": change.added[wallet],
            "score_ci_low": str(profile.score_ci_low) if profile and profile.score_ci_low is not None else None,
        }

    def left(wallet: str) -> dict[str, Any]:
        profile = profiles.get(wallet)
        return {
            "wallet": wallet,
            "status": change.removed[wallet],
            "reason": profile.reasons[0] if profile and profile.reasons else "",
        }

    brief = summary if isinstance(summary, Mapping) else {}
    return {
        "run_id": run_id,
        "copied": change.selected,
        "added": [joined(w) for w in change.added][:20],
        "removed": [left(w) for w in change.removed][:20],
        "universe": {k: brief[k] for k in ("wallets", "eligible", "discovered", "selected") if k in brief},
        "details": universe_key,
    }
