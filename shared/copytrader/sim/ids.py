"""Identifiers in Polymarket's formats, drawn from a seeded generator.

- wallet (proxy) addresses: 0x + 40 lowercase hex;
- condition ids, question ids, transaction hashes: 0x + 64 lowercase hex (32 bytes);
- neg-risk market ids: 32 bytes whose last byte is 0; member question ids are the market id with the last
  byte set to the member's index (the layout of real neg-risk events, e.g. gamma_event.json);
- CTF token ids: decimal uint256 strings of 70-77 digits.
"""

from __future__ import annotations

import numpy as np


def hex_strings(rng: np.random.Generator, n: int, n_bytes: int) -> list[str]:
    """`n` random 0x-prefixed lowercase hex strings of `n_bytes` bytes."""
    raw = rng.integers(0, 256, size=(n, n_bytes), dtype=np.uint8)
    return [hex_of(row) for row in raw]


def hex_of(row: np.ndarray) -> str:
    """0x-hex of one row of a uint8 array."""
    return "0x" + row.tobytes().hex()


def addresses(rng: np.random.Generator, n: int) -> list[str]:
    return hex_strings(rng, n, 20)


def hash32s(rng: np.random.Generator, n: int) -> list[str]:
    return hex_strings(rng, n, 32)


def hash32_bytes(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` 32-byte values as an (n, 32) uint8 array (kept raw; `hex_of` renders one on demand)."""
    return rng.integers(0, 256, size=(n, 32), dtype=np.uint8)


def neg_risk_ids(rng: np.random.Generator, n: int) -> list[str]:
    raw = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    raw[:, -1] = 0
    return [hex_of(row) for row in raw]


def member_question_id(neg_risk_market_id: str, index: int) -> str:
    return neg_risk_market_id[:-2] + f"{index:02x}"


def token_ids(rng: np.random.Generator, n: int) -> list[str]:
    """`n` decimal token ids, each 70-77 digits long with a non-zero leading digit."""
    digits = rng.integers(0, 10, size=(n, 77), dtype=np.uint8)
    digits[:, 0] = rng.integers(1, 10, size=n, dtype=np.uint8)
    lengths = rng.integers(70, 78, size=n)
    text = (digits + ord("0")).astype(np.uint8)
    return [row[:length].tobytes().decode("ascii") for row, length in zip(text, lengths, strict=True)]
