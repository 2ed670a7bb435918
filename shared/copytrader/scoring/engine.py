"""Scoring end to end on one machine: rows and Gamma markets in, a scored universe out.

    tape = load_rows(rows)                      cleaning, de-duplication, leg merging    (scoring.tape)
    facts = token_facts(tape, markets, as_of)   resolutions, events, categories, fees    (scoring.market_table)
    evidence = wallet_evidence(...)             stage 1, per wallet                      (scoring.evidence)
    universe = score_universe(...)              stage 2, across wallets                  (scoring.universe)

The as-of time defaults to the data's own present: the latest trade or resolution time in the input, so the same
files score the same way whenever they are scored. Trades after an explicit as-of time are dropped (counted),
and resolutions after it do not count (no look-ahead).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np

from copytrader.model import COPYABLE_STATUSES, CategoryRecord, WhaleProfile, WhaleStatus
from copytrader.scoring import holdout
from copytrader.scoring.activity import ActivityReport, position_rows
from copytrader.scoring.evidence import wallet_evidence
from copytrader.scoring.evidence_record import WalletEvidence
from copytrader.scoring.market_table import MarketFacts, MarketReport, load_markets, token_facts
from copytrader.scoring.naming import SelectionWindow
from copytrader.scoring.population import PopulationPrior, population_prior
from copytrader.scoring.tape import LoadReport, load_rows
from copytrader.scoring.universe import PriorStatus, Universe, score_universe
from copytrader.scoring_settings import ScoringSettings


@dataclass(frozen=True)
class ScoreRun:
    universe: Universe
    load: LoadReport
    markets: MarketReport
    as_of: int
    after_as_of: int  # trades dropped for being later than the as-of time
    unknown_market_trades: int  # trades whose token no Gamma market lists (kept, never resolved)
    activity: ActivityReport | None = None

    def report(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of,
            "rows": self.load.as_dict(),
            "activity": self.activity.as_dict() if self.activity else None,
            "markets": self.markets.as_dict(),
            "after_as_of": self.after_as_of,
            "unknown_market_trades": self.unknown_market_trades,
            "universe": self.universe.summary,
        }


def default_as_of(timestamps: Iterable[int], markets: Mapping[str, MarketFacts]) -> int:
    latest = max(timestamps, default=0)
    resolved = [m.resolved_at for m in markets.values() if m.resolved_at is not None]
    return max([latest, *resolved]) if resolved else latest


@dataclass(frozen=True)
class EvidenceRun:
    """Stage 1 for one batch of wallets (a Distributed Map item): evidence plus what the cleaning counted."""

    evidence: list[WalletEvidence]
    load: LoadReport
    markets: MarketReport
    after_as_of: int
    unknown_market_trades: int
    activity: ActivityReport | None = None


def evidence_from_rows(
    rows: Iterable[object],
    market_payloads: Iterable[object],
    config: ScoringSettings,
    *,
    as_of: int,
    activity: Iterable[object] | None = None,
    progress: Callable[[int], None] | None = None,
    on_loaded: Callable[[int], None] | None = None,
    windows: Mapping[str, SelectionWindow] | SelectionWindow | None = None,
) -> EvidenceRun:
    """Stage 1 only: clean `rows` (plus splits and merges from `activity` rows, when given), resolve them against
    `market_payloads`, evidence per wallet as of `as_of`. With `windows` (wallet -> what named it, or one window for
    every wallet of the rows), each wallet is tested on its test sample only (copytrader.scoring.holdout); a wallet
    with a window and no test sample left gets an empty record, so it is still scored (and counted) as short of
    evidence."""
    markets, market_report = load_markets(market_payloads)
    extra: list[dict[str, object]] = []
    activity_report = None
    if activity is not None:
        extra, activity_report = position_rows(activity, markets)
    tape, load = load_rows([*rows, *extra])
    late = tape.timestamp > as_of
    if late.any():
        tape = tape.take(~late)
    facts = token_facts(tape, markets, as_of)
    post = None
    in_sample: dict[str, int] = {}
    named = tape.wallets
    if isinstance(windows, SelectionWindow):
        windows = dict.fromkeys(tape.wallets, windows)
    if windows:
        cut = holdout.split(tape, facts, windows)
        in_sample = dict(zip(tape.wallets, cut.in_sample_events.tolist(), strict=True))
        post = cut.post_selection[cut.test]
        tape = tape.take(cut.test)
        facts = token_facts(tape, markets, as_of)
    if on_loaded is not None:
        on_loaded(len(tape.wallets))
    evidence = wallet_evidence(tape, facts, as_of, config, progress, activity_report, post)
    if windows:
        evidence = _with_windows(named, evidence, windows, in_sample)
    unknown = int(np.count_nonzero(~facts.known[tape.token])) if tape.n else 0
    return EvidenceRun(evidence, load, market_report, int(late.sum()), unknown, activity_report)


def _with_windows(
    named: Sequence[str],
    evidence: Sequence[WalletEvidence],
    windows: Mapping[str, SelectionWindow],
    in_sample: Mapping[str, int],
) -> list[WalletEvidence]:
    """Every wallet of the tape (its order), with its window and in-sample events: an empty record for a wallet
    whose every event the naming saw."""
    found = {e.wallet: e for e in evidence}
    out: list[WalletEvidence] = []
    for wallet in named:
        e = found.get(wallet) or WalletEvidence.empty(wallet)
        w = windows.get(wallet)
        if w is not None:
            e = replace(e, named_at=w.named_at, looked_from=w.looked_from, selected_at=w.selected_at)
        out.append(replace(e, in_sample_events=in_sample.get(wallet, 0)))
    return out


def score_rows(
    rows: Iterable[object],
    market_payloads: Iterable[object],
    config: ScoringSettings,
    *,
    as_of: int | None = None,
    prior: Mapping[str, PriorStatus] | None = None,
    activity: Iterable[object] | None = None,
    progress: Callable[[int], None] | None = None,
    on_loaded: Callable[[int], None] | None = None,
    trials: int | None = None,
    windows: Mapping[str, SelectionWindow] | SelectionWindow | None = None,
) -> ScoreRun:
    """Score `rows` (Data API /trades rows) against `market_payloads` (Gamma market objects): both stages.
    `trials`: every wallet screened (copytrader.scoring.universe.score_universe; default the wallets scored)."""
    rows = list(rows)
    market_payloads = list(market_payloads)
    if as_of is None:
        tape, _ = load_rows(rows)
        markets, _ = load_markets(market_payloads)
        as_of = default_as_of(tape.timestamp.tolist(), markets)
    stage1 = evidence_from_rows(
        rows,
        market_payloads,
        config,
        as_of=as_of,
        activity=activity,
        progress=progress,
        on_loaded=on_loaded,
        windows=windows,
    )
    universe = score_universe(stage1.evidence, config, as_of=as_of, prior=prior, trials=trials)
    return ScoreRun(
        universe=universe,
        load=stage1.load,
        markets=stage1.markets,
        as_of=as_of,
        after_as_of=stage1.after_as_of,
        unknown_market_trades=stage1.unknown_market_trades,
        activity=stage1.activity,
    )


def prior_statuses(profiles: Iterable[WhaleProfile]) -> dict[str, PriorStatus]:
    """What the whales table says about each wallet's status, for stage 2 (paused / culled are respected)."""
    out: dict[str, PriorStatus] = {}
    for p in profiles:
        since = p.status_since or p.scored_at
        out[p.wallet] = PriorStatus(p.status, int(since.timestamp()) if since else 0)
    return out


def _dec(value: float, places: str = "0.000001") -> Decimal | None:
    return Decimal(repr(value)).quantize(Decimal(places)) if np.isfinite(value) else None


def _price(value: float) -> Decimal:
    return Decimal(repr(min(max(value, 1e-6), 1 - 1e-6))).quantize(Decimal("0.000001"))


def _category_records(e: WalletEvidence) -> dict[str, CategoryRecord]:
    """Per category with resolved BUYs: their count, wins and mean entry price (the sizing's category posterior)."""
    return {
        name: CategoryRecord(resolved_trades=c.buys, wins=c.wins, mean_entry_price=_price(c.paid / c.buys))
        for name, c in sorted(e.categories.items())
        if c.buys > 0
    }


def profiles(
    universe: Universe, prior: Mapping[str, PriorStatus] | None = None, *, scored_at: datetime | None = None
) -> list[WhaleProfile]:
    """The whales-table rows for a scored universe: status, score and the evidence the copy pipeline sizes on.

    `status_since` moves only when the status changes. The selection window is carried over from the evidence;
    `selected_at` is set when a wallet is first selected, kept while it stays copyable (or paused), cleared when it
    falls back to a candidate. `resolved_trades`, `wins` and `mean_entry_price` describe
    the resolved BUYs (the Beta-posterior inputs of `copytrader.copying.sizing`); `categories` the same per category.
    """
    prior = prior or {}
    when = scored_at or datetime.fromtimestamp(universe.summary.get("as_of", 0), tz=UTC)
    population = _population(universe)
    prior_edge = _dec(population.edge) if population is not None else None
    prior_strength = _dec(population.strength, "0.001") if population is not None else None
    out: list[WhaleProfile] = []
    for w in universe.wallets:
        e = w.evidence
        before = prior.get(e.wallet)
        since = (
            datetime.fromtimestamp(before.since, tz=UTC)
            if before is not None and before.status is w.status and before.since
            else when
        )
        breakeven = e.breakeven_win_rate if np.isfinite(e.breakeven_win_rate) else 0.5
        selected_at = _when(e.selected_at)
        if w.status in COPYABLE_STATUSES:
            selected_at = selected_at or when  # selected by this run: its post-selection evidence starts now
        elif w.status is not WhaleStatus.PAUSED:
            selected_at = None  # no longer selected: a later selection starts afresh
        out.append(
            WhaleProfile(
                wallet=e.wallet,
                status=w.status,
                score=_dec(w.score) or Decimal(0),
                score_ci_low=_dec(w.score_ci_low),
                resolved_trades=e.scored_buys,
                wins=e.wins,
                mean_entry_price=_price(breakeven),
                edge=_dec(e.edge),
                edge_ci_low=_dec(e.edge_ci_low),
                q_value=_dec(w.q_value),
                dsr=_dec(w.dsr),
                specialties=e.specialties,
                categories=_category_records(e),
                prior_edge=prior_edge,
                prior_strength=prior_strength,
                status_since=since,
                scored_at=when,
                reasons=w.reasons[:8],
                named_at=_when(e.named_at),
                looked_from=_when(e.looked_from),
                selected_at=selected_at,
            )
        )
    return out


def _when(epoch: int | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)


def _population(universe: Universe) -> PopulationPrior | None:
    """The sizing prior (copytrader.scoring.population) over the eligible wallets' resolved BUYs."""
    chosen = [w.evidence for w in universe.wallets if w.eligible and w.evidence.scored_buys > 0]
    return population_prior(
        [e.wins for e in chosen],
        [e.scored_buys for e in chosen],
        [e.breakeven_win_rate for e in chosen],
    )


def universe_from_records(
    records: Sequence[Mapping[str, Any]],
    config: ScoringSettings,
    *,
    as_of: int,
    prior: Mapping[str, PriorStatus] | None = None,
    trials: int | None = None,
) -> Universe:
    """Stage 2 from stage-1 evidence records (the JSON the batch step wrote), e.g. after a Distributed Map."""
    evidence = [WalletEvidence.from_record(dict(r)) for r in records]
    return score_universe(evidence, config, as_of=as_of, prior=prior, trials=trials)
