"""Statistics used by scoring, analytics and backtests: each function states its formula, conventions and reference."""
