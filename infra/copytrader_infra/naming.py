"""Construct ids derived from the domain's snake_case names (`risk_check` -> `RiskCheck`)."""

from __future__ import annotations


def pascal_case(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))
