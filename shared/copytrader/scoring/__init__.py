"""Whale scoring: who is skilled rather than lucky, and by how much, after a follower's costs.

Stage 1, per wallet (`evidence`): rows are cleaned into a tape (`tape`), resolved against Gamma markets
(`market_table`), run through an average-cost ledger (`ledger`), and summarised as calibrated edge with a null
test and a bootstrap interval (`edge`), recency-weighted figures, daily risk-adjusted figures and a market-maker /
bot screen (`behaviour`). Stage 2, across wallets (`universe`): Benjamini-Yekutieli false-discovery control,
nonparametric empirical-Bayes shrinkage into a composite score with its lower bound, Deflated Sharpe, selection
and statuses. `engine` runs both on one machine; the daily workflow runs stage 1 in a Distributed Map.
"""
