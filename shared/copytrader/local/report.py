"""The demo's report: one self-contained HTML file (inline SVG equity curve, no scripts) plus its JSON."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from copytrader.local.demo import DemoResult

WIDTH, HEIGHT, PAD = 860, 260, 48


def _svg_curve(points: list[tuple[str, str]], start: Decimal) -> str:
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
        f'<text x="{PAD - 6}" y="{y(v):.1f}" text-anchor="end" dominant-baseline="middle">{v:,.0f}</text>'
        for v in (lo, (lo + hi) / 2, hi)
    )
    hours = "".join(
        f'<text x="{x(t):.1f}" y="{HEIGHT - PAD + 16}" text-anchor="middle">'
        f"{datetime.fromtimestamp(t, tz=UTC):%H:%M}</text>"
        for t in times[:: max(1, len(times) // 8)]
    )
    return (
        f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-label="equity curve">'
        f'<line x1="{PAD}" y1="{base:.1f}" x2="{WIDTH - PAD}" y2="{base:.1f}" class="base"/>'
        f'<path d="{path}" class="curve"/>{ticks}{hours}</svg>'
    )


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
