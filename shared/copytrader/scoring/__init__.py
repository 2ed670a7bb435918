"""Whale scoring. `calibration` holds the first, deliberately simple selection rule: a test of calibrated
edge per wallet with false-discovery control. The full scoring engine (EWMA metrics, shrinkage,
bootstrap CIs, Deflated Sharpe) replaces it in the scoring issue."""
