"""Access to the handbook beside the repository (../shared): real Polymarket payloads and quant vectors.

Tests read them in place and skip with a clear message when the folder is absent; nothing from it is
copied into the repository.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
HANDBOOK = REPO.parent / "shared"
POLYMARKET_DATA = HANDBOOK / "polymarket" / "data"
VECTORS = HANDBOOK / "quant" / "vectors.json"


def data_file(relative: str) -> Path:
    path = POLYMARKET_DATA / relative
    if not path.exists():
        pytest.skip(f"handbook data {relative} not found at {POLYMARKET_DATA} (place ../shared beside the repo)")
    return path


def load_json(relative: str) -> Any:
    return json.loads(data_file(relative).read_text())


def vector(method: str) -> dict[str, Any]:
    if not VECTORS.exists():
        pytest.skip(f"quant vectors not found at {VECTORS} (place ../shared beside the repo)")
    for item in json.loads(VECTORS.read_text())["vectors"]:
        if item["method"] == method:
            return item  # type: ignore[no-any-return]
    raise KeyError(f"no vector named {method}")
