"""copytrader: the domain package of the Polymarket copy-trader (see docs/ARCHITECTURE.md)."""

__version__ = "0.1.0"
