"""Polymarket adapters: REST clients (CLOB, Gamma) and payload parsers. See ../shared/polymarket/REFERENCE.md."""
