"""The demo's result and how it is shown: the terminal summary, and one self-contained HTML file (inline SVG equity
curve, no scripts) plus its JSON."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any


@dataclass
class DemoResult:
    seed: int
    world: dict[str, Any]
    selection: dict[str, Any]
    feed: dict[str, int]
    outcomes: dict[str, int]
    reasons: dict[str, int]
    fills: dict[str, Any]
    money: dict[str, str]
    risk: dict[str, Any]
    equity_curve: list[tuple[str, str]]
    metrics: dict[str, int] = field(default_factory=dict)
    copies: list[dict[str, Any]] = field(default_factory=list)
    timing: dict[str, float] = field(default_factory=dict)
    audit: dict[str, Any] = field(default_factory=dict)  # the close's audit: ok, violations, checks
    closing: dict[str, Any] = field(default_factory=dict)  # the sweeps and the close of the day
    faults: dict[str, Any] = field(default_factory=dict)  # --faults: injected by kind, one line each, the plan
    malformed: dict[str, int] = field(default_factory=dict)  # answers to malformed messages, by reason
    exits_by_reason: dict[str, Any] = field(default_factory=dict)  # SELLs by exit reason (local.exit_summary)
    redemptions: dict[str, Any] = field(default_factory=dict)  # REDEEM ledger entries: count, payout, P&L
    marked: dict[str, Any] = field(default_factory=dict)  # final marked equity, max drawdown of the marked curve
    marked_curve: list[tuple[str, str]] = field(default_factory=list)  # marked equity at each exits run

    def numbers(self) -> dict[str, Any]:
        """Everything but wall-clock timings: identical for identical seeds."""
        return {k: v for k, v in self.__dict__.items() if k != "timing"}


WIDTH, HEIGHT, PAD = 860, 260, 48


def _svg_curve(points: list[tuple[str, str]], start: Decimal, label: str = "equity curve", fmt: str = ",.0f") -> str:
    if len(points) < 2:
        return "<p>not enough points for a curve</p>"
    times = [datetime.fromisoformat(t).timestamp() for t, _ in points]
    values = [float(v) for _, v in points]
    lo, hi = min([*values, float(start)]), max([*values, float(start)])
    span = (hi - lo) or 1.0
    t0, t1 = times[0], times[-1]

    def x(t: float) -> float:
        return PAD + (t - t0) / ((t1 - t0) or 1) * (WIDTH - 2 * PAD)

    def y(v: float) -> float:
        return HEIGHT - PAD - (v - lo) / span * (HEIGHT - 2 * PAD)

    path = " ".join(
        f"{'M' if i == 0 else 'L'}{x(t):.1f},{y(v):.1f}" for i, (t, v) in enumerate(zip(times, values, strict=True))
    )
    base = y(float(start))
    ticks = "".join(
        f'<text x="{PAD - 6}" y="{y(v):.1f}" text-anchor="end" dominant-baseline="middle">{v:{fmt}}</text>'
        for v in (lo, (lo + hi) / 2, hi)
    )
    hours = "".join(
        f'<text x="{x(t):.1f}" y="{HEIGHT - PAD + 16}" text-anchor="middle">'
        f"{datetime.fromtimestamp(t, tz=UTC):%H:%M}</text>"
        for t in times[:: max(1, len(times) // 8)]
    )
    return (
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-label="{label}">'
        f'<line x1="{PAD}" y1="{base:.1f}" x2="{WIDTH - PAD}" y2="{base:.1f}" class="base"/>'
        f'<path d="{path}" class="curve"/>{ticks}{hours}</svg>'
    )


def underwater(points: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The drawdown curve: at each point, how far (in %, as a negative number) the curve is below its running peak."""
    out, peak = [], Decimal(0)
    for at, value in points:
        level = Decimal(value)
        peak = max(peak, level)
        out.append((at, f"{-(peak - level) / peak * 100 if peak else Decimal(0):.4f}"))
    return out


def _exits_table(exits: dict[str, Any]) -> str:
    if not exits:
        return "<p>No exit was sold.</p>"
    head = "".join(f"<th>{h}</th>" for h in ("exit", "orders", "filled", "shares", "pUSD", "realized P&amp;L"))
    rows = "".join(
        f"<tr><td>{html.escape(reason)}</td>"
        + "".join(
            f"<td>{html.escape(str(row[k]))}</td>" for k in ("orders", "filled", "shares", "pusd", "realized_pnl")
        )
        + "</tr>"
        for reason, row in exits.items()
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


def _table(rows: dict[str, Any]) -> str:
    body = "".join(
        f"<tr><th>{html.escape(str(k).replace('_', ' '))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in rows.items()
    )
    return f"<table>{body}</table>"


def _copies(copies: list[dict[str, Any]]) -> str:
    if not copies:
        return "<p>No copies were filled.</p>"
    head = "".join(
        f"<th>{h}</th>"
        for h in ("time", "whale", "skilled", "side", "outcome", "whale px", "our px", "shares", "fee", "status")
    )
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(c[k]))}</td>"
            for k in (
                "at",
                "wallet",
                "skilled",
                "side",
                "outcome",
                "whale_price",
                "our_price",
                "shares",
                "fee",
                "status",
            )
        )
        + "</tr>"
        for c in copies
    )
    return f"<table class='wide'><tr>{head}</tr>{rows}</table>"


def render_html(result: DemoResult) -> str:
    start = Decimal(result.money["start_equity"])
    style = (
        "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:960px;color:#1b1f24}"
        "h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.8rem}"
        "table{border-collapse:collapse;margin:.4rem 0}th,td{padding:.2rem .7rem;border-bottom:1px solid #e3e6ea;"
        "text-align:left}table.wide{display:block;overflow-x:auto;max-width:100%}"
        "table.wide td{font:12px ui-monospace,monospace}"
        "svg text{font:11px system-ui;fill:#57606a}.curve{fill:none;stroke:#0969da;stroke-width:2}"
        ".base{stroke:#8c959f;stroke-dasharray:4 4}.grid{display:grid;grid-template-columns:1fr 1fr;gap:1rem}"
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>copytrader demo, seed {result.seed}</title><style>{style}</style></head><body>
<h1>Simulated trading day (seed {result.seed}): P&amp;L {html.escape(result.money["pnl"])} pUSD
({html.escape(result.money["return_pct"])} %)</h1>
<p>Paper trading on a simulated Polymarket whose skilled wallets are known. Every whale fill went through the
same Express state machine, Lambda handlers and DynamoDB tables the CDK app deploys, on moto server.</p>
<h2>Equity (cash + open positions at mid), every 30 minutes</h2>{_svg_curve(result.equity_curve, start)}
<div class="grid"><div><h2>Money</h2>{_table(result.money)}</div>
<div><h2>Whale selection</h2>{_table(result.selection)}<h2>World</h2>{_table(result.world)}</div></div>
<div class="grid"><div><h2>Feed and duplicates</h2>{_table(result.feed)}</div>
<div><h2>Outcomes</h2>{_table(result.outcomes)}<h2>Fills</h2>{_table(result.fills)}</div></div>
<h2>Marked equity (cash + held shares at the bid), at each exits run (every 15 simulated minutes)</h2>
{_svg_curve(result.marked_curve, start, "marked equity curve")}
<h2>Underwater: drawdown of marked equity from its peak, %</h2>
{_svg_curve(underwater(result.marked_curve), Decimal(0), "drawdown curve", ".1f")}
<div class="grid"><div><h2>Exits, by kind</h2>{_exits_table(result.exits_by_reason)}</div>
<div><h2>Redemptions</h2>{_table(result.redemptions)}<h2>Marked</h2>{_table(result.marked)}</div></div>
<h2>Skipped, by reason</h2>{_table(result.reasons) if result.reasons else "<p>none</p>"}
<h2>Risk</h2>{_table(result.risk)}
<h2>Copies filled</h2>{_copies(result.copies)}
<h2>Timing (wall clock, this machine)</h2>{_table(result.timing)}
</body></html>"""


def write_report(result: DemoResult, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"demo-seed{result.seed}.html"
    path.write_text(render_html(result))
    (out_dir / f"demo-seed{result.seed}.json").write_text(json.dumps(result.__dict__, indent=2, default=str))
    return path.resolve()


def render_summary(result: DemoResult, path: Path) -> str:
    """The terminal summary a user reads after `make demo`."""
    s, f, m = result.selection, result.feed, result.money
    lines = [
        "",
        f"Simulated day, seed {result.seed}: {result.world['trades_today_all_wallets']} trades by "
        f"{result.world['wallets']} wallets in {result.world['live_markets']} markets",
        f"  tracked wallets      {s['tracked']} selected from history "
        f"({s['truly_skilled_among_tracked']} truly skilled, {s['false_discoveries']} false discoveries; "
        f"precision {s['precision']}, recall {s['recall']})",
        f"  whale fills seen     {f['whale_fills_seen']}  (+{f['second_source_reports']} second-source reports, "
        f"{f['dropped_by_listener_dedup']} dropped by the listener's dedup; "
        f"{f['redelivered_after_visibility_timeout']} SQS redeliveries, "
        f"{f['redeliveries_answered_from_ledger']} answered from the ledger; "
        f"max orders per fill: {f['max_orders_per_whale_fill']})",
        f"  copied (filled)      {result.fills['copies_filled']}   fees {m['fees']} pUSD   "
        f"mean price gap vs whale {result.fills['mean_price_gap_vs_whale']}",
        "  skipped by reason",
    ]
    lines += [f"    {count:5d}  {reason}" for reason, count in result.reasons.items()]
    lines += [
        f"  P&L                  {m['pnl']} pUSD ({m['return_pct']} %) on {m['start_equity']}: "
        f"realized {m['realized_pnl']}, open positions {m['unrealized_value']} at mid; "
        f"max drawdown {m['max_drawdown_pct']} %",
        *_exit_lines(result),
        f"  risk                 breaker {'OPEN' if result.risk['breaker_open'] else 'closed'}, "
        f"alerts sent {result.risk.get('alerts_sent', 0)}",
        *_close_lines(result),
        *_fault_lines(result),
        f"  pipeline             {result.timing.get('execution_p50_ms')} ms p50 / "
        f"{result.timing.get('execution_p99_ms')} ms p99 per state-machine execution under moto; "
        f"total {result.timing.get('total_s')} s",
        f"  report               {path}",
        "  (one simulated day: skilled wallets have an edge by construction here, and a single day is one noisy",
        "   draw; real wallets mostly have none. Run other seeds with SEED=n.)",
        "",
    ]
    return "\n".join(lines)


def _exit_lines(result: DemoResult) -> list[str]:
    exits, r, marked = result.exits_by_reason, result.redemptions, result.marked
    if not marked:
        return []
    lines = ["  exits by kind        " + ("none" if not exits else "")]
    lines += [
        f"    {row['orders']:5d}  {reason:<20} {row['filled']} filled, {row['shares']} shares for {row['pusd']} pUSD "
        f"(realized {row['realized_pnl']})"
        for reason, row in exits.items()
    ]
    lines.append(
        f"  redemptions          {r.get('count', 0)}, payout {r.get('payout')} pUSD; marked equity "
        f"{marked.get('equity_marked')}, max marked drawdown {marked.get('max_drawdown_marked_pct')} %"
    )
    return lines


def _close_lines(result: DemoResult) -> list[str]:
    if not result.closing:
        return []
    c, sweeps, settled = result.closing, result.closing.get("sweeps", {}), result.closing.get("settled", {})
    swept = ", ".join(f"{k.removeprefix('settled_')} {v}" for k, v in sweeps.items() if k.startswith("settled_"))
    violations = result.audit.get("violations", [])
    verdict = "sound, no violation" if result.audit.get("ok") else f"{len(violations)} VIOLATIONS: {violations}"
    return [
        f"  end of day           closed at {c['closed_at']}: {sweeps.get('runs', 0)} sweeps settled "
        f"{swept or 'nothing'} and released {sweeps.get('released_orphans', 0)} orphan reservations; "
        f"the books run redeemed {settled.get('redeemed', 0)} positions; {c.get('unresolved_left', 0)} orders left "
        f"unsettled",
        f"  audit                {len(result.audit.get('checks', []))} checks: {verdict}",
    ]


def _fault_lines(result: DemoResult) -> list[str]:
    if not result.faults:
        return []
    injected = result.faults["injected"]
    lines = [f"  faults injected      {sum(injected.values())}: " + ", ".join(f"{k} {v}" for k, v in injected.items())]
    lines += [f"    {at[:19]}  {kind:<26} {what}" for at, kind, what in result.faults["lines"]]
    lines.append(f"  after midnight       first settlement: {result.faults.get('first_settlement_after_midnight')}")
    for retag in result.faults.get("retags", []):
        lines.append(
            f"  re-tagged market     {retag['market'][:12]} at {retag['at'][11:19]}: copied BUYs "
            f"{retag['copied_buys_before']} before, {retag['copied_buys_after']} after; exposure booked under "
            f"{[scope for scope, booked in retag['scopes_booked'].items() if booked]}"
        )
    redeemed = result.faults.get("redemption") or {}
    if redeemed:
        first, retry = redeemed.get("first", {}), redeemed.get("retry", {})
        lines.append(
            f"  redemption fault     {redeemed['market'][:12]}: first {first.get('outcome')} (booked "
            f"{first.get('booked_payout')}), retry {retry.get('outcome')} (booked {retry.get('booked_payout')} of "
            f"{redeemed['expected_payout']}); {redeemed.get('transactions_sent')} transactions, "
            f"{len(redeemed.get('ledger_entries', []))} ledger entry"
        )
    answers = ", ".join(f"{n} {reason}" for reason, n in result.malformed.items()) or "none"
    lines.append(
        f"  after the faults     malformed messages answered: {answers}; {result.feed.get('failed_executions', 0)} "
        f"failed executions, {result.feed.get('redelivered_after_failure', 0)} redelivered after them, "
        f"{result.feed.get('dead_letters', 0)} in the dead-letter queue"
    )
    return lines


def summary_json(result: DemoResult) -> dict[str, Any]:
    """What `copytrader demo --json FILE` writes: the figures a machine checks after a day, faulted or clean."""
    return {
        "seed": result.seed,
        "faulted": bool(result.faults),
        "faults_injected": dict(result.faults.get("injected", {})),
        "audit_violations": list(result.audit.get("violations", [])),
        "audit_checks": list(result.audit.get("checks", [])),
        "max_orders_per_fill": result.feed["max_orders_per_whale_fill"],
        "orders": result.feed["orders_in_ledger"],
        "fills": result.feed["orders_filled"],
        "orders_unsettled": result.feed["orders_unsettled"],
        "copies": result.fills["copies_filled"],
        "pnl": result.money["pnl"],
        "realized_pnl": result.money["realized_pnl"],
        "skips_by_reason": dict(result.reasons),
        "outcomes": dict(result.outcomes),
        "malformed_answers": dict(result.malformed),
        "failed_executions": result.feed.get("failed_executions", 0),
        "dead_letters": result.feed.get("dead_letters", 0),
        "sweeps": dict(result.closing.get("sweeps", {})),
        "closed_at": result.closing.get("closed_at"),
        "wall_s": result.timing.get("total_s"),
        "exits_by_reason": dict(result.exits_by_reason),
        "redemptions": dict(result.redemptions),
        "equity_marked": result.marked.get("equity_marked"),
        "max_drawdown_marked_pct": result.marked.get("max_drawdown_marked_pct"),
    }
