"""Risk-adjusted performance of a return or P&L series: Sharpe, Sortino, drawdown, CAGR, Calmar.

Conventions follow empyrical (quant/REFERENCE.md section 2), whose test-suite values are the known answers:
- periods per year q: 252 for trading days, 365 for calendar days (Polymarket trades every day, so the scorer's
  daily P&L series uses 365), 52 weekly, 12 monthly. Annualising by sqrt(q) assumes IID periods (Lo 2002,
  FAJ 58(4)); build a calendar series first and never annualise per-trade figures.
- missing periods (NaN) are ignored by means and standard deviations but still count as periods in the CAGR
  exponent q / n (empyrical's choice, which its Calmar known answer depends on).
- Sharpe = mean(r - rf) / std(r - rf, ddof=1) * sqrt(q).
- downside risk = sqrt(mean(min(r - MAR, 0)^2)) * sqrt(q), the mean over *all* observations (Sortino & Price 1994).
- Sortino = mean(r - MAR) * q / downside risk.
- max drawdown of returns: min_t (W_t / max_{s<=t} W_s - 1), W = cumprod(1 + r), starting capital W_0 = 1 counted
  as a peak; reported as a negative fraction (empyrical), 0 for a series that never falls.
- max drawdown of additive P&L (fixed-stake betting): min_t (C_t - max_{s<=t} C_s), C = cumsum(pnl), C_0 = 0
  counted as a peak; a negative amount in the series' unit.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

CALENDAR_DAYS = 365
TRADING_DAYS = 252


def _clean(r: npt.ArrayLike) -> npt.NDArray[np.float64]:
    values = np.asarray(r, dtype=np.float64)
    return values[~np.isnan(values)]


def sharpe_ratio(r: npt.ArrayLike, *, periods_per_year: float = 1.0, risk_free: float = 0.0) -> float:
    """mean(r - rf) / std(r - rf, ddof=1) * sqrt(q); NaN with fewer than two observations or zero dispersion.

    With the default q = 1 this is the per-period Sharpe ratio that PSR and DSR need.
    """
    x = _clean(r) - risk_free
    if x.size < 2:
        return float("nan")
    sd = float(np.std(x, ddof=1))
    if sd == 0.0:
        return float("nan")
    return float(np.mean(x)) / sd * math.sqrt(periods_per_year)


def downside_risk(r: npt.ArrayLike, *, required_return: float = 0.0, periods_per_year: float = 1.0) -> float:
    """sqrt(mean(min(r - MAR, 0)^2)) * sqrt(q), the mean taken over every observation (not only the losses)."""
    x = _clean(r) - required_return
    if x.size == 0:
        return float("nan")
    return math.sqrt(float(np.mean(np.square(np.minimum(x, 0.0))))) * math.sqrt(periods_per_year)


def sortino_ratio(r: npt.ArrayLike, *, required_return: float = 0.0, periods_per_year: float = 1.0) -> float:
    """mean(r - MAR) * q / downside risk; +inf when there is no downside and the mean is positive, NaN when empty."""
    x = _clean(r) - required_return
    if x.size == 0:
        return float("nan")
    risk = downside_risk(r, required_return=required_return, periods_per_year=periods_per_year)
    mean = float(np.mean(x)) * periods_per_year
    if risk == 0.0:
        return math.inf if mean > 0 else float("nan")
    return mean / risk


def max_drawdown(r: npt.ArrayLike) -> float:
    """Largest peak-to-trough fall of compounded wealth W = cumprod(1 + r), W_0 = 1 a peak; <= 0 (NaN skipped)."""
    x = _clean(r)
    if x.size == 0:
        return float("nan")
    wealth = np.concatenate(([1.0], np.cumprod(1.0 + x)))
    return float(np.min(wealth / np.maximum.accumulate(wealth) - 1.0))


def max_drawdown_additive(pnl: npt.ArrayLike) -> float:
    """Largest fall of cumulative P&L from its running peak, C_0 = 0 a peak; <= 0, in the P&L's unit."""
    x = np.nan_to_num(np.asarray(pnl, dtype=np.float64))
    cumulative = np.concatenate(([0.0], np.cumsum(x)))
    return float(np.min(cumulative - np.maximum.accumulate(cumulative)).item())


def annual_return(r: npt.ArrayLike, *, periods_per_year: float) -> float:
    """CAGR = (prod(1 + r))^(q / n) - 1 with n counting every period, NaN ones included (empyrical)."""
    values = np.asarray(r, dtype=np.float64)
    if values.size == 0:
        return float("nan")
    growth = float(np.prod(1.0 + _clean(values)))
    if growth <= 0:
        return -1.0
    result: float = growth ** (periods_per_year / values.size) - 1.0
    return result


def calmar_ratio(r: npt.ArrayLike, *, periods_per_year: float) -> float:
    """CAGR / |max drawdown| over the whole sample (not Young's trailing 36 months); NaN without a drawdown."""
    drawdown = max_drawdown(r)
    if not drawdown < 0:
        return float("nan")
    return annual_return(r, periods_per_year=periods_per_year) / abs(drawdown)


def annual_volatility(r: npt.ArrayLike, *, periods_per_year: float) -> float:
    """std(r, ddof=1) * sqrt(q)."""
    x = _clean(r)
    if x.size < 2:
        return float("nan")
    return float(np.std(x, ddof=1)) * math.sqrt(periods_per_year)
