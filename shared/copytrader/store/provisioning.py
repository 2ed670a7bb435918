"""Provisioning the tables from their models: what infrastructure needs to know of each table (`TABLES`, read off
the PynamoDB models in `copytrader.store.tables`), creating them (local mode, tests), and pointing the models at
another environment (`rebind`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import Attribute, TTLAttribute
from pynamodb.models import Model

from copytrader.store.connection import table_env_var, table_name_for, table_region
from copytrader.store.tables import MODELS


@dataclass(frozen=True)
class KeySpec:
    name: str
    type: str  # "S" | "N" | "B"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    partition_key: KeySpec
    sort_key: KeySpec | None


@dataclass(frozen=True)
class TableSpec:
    """What infrastructure needs to know about one table, read off its PynamoDB model."""

    logical: str
    env_var: str
    partition_key: KeySpec
    sort_key: KeySpec | None
    indexes: tuple[IndexSpec, ...]
    ttl_attribute: str | None


def _key(attr: Attribute[Any]) -> KeySpec:
    return KeySpec(name=attr.attr_name, type=attr.attr_type)


def _spec(logical: str, model: type[Model]) -> TableSpec:
    attributes = model.get_attributes().values()
    hash_key = next(a for a in attributes if a.is_hash_key)
    range_key = next((a for a in attributes if a.is_range_key), None)
    ttl = next((a.attr_name for a in attributes if isinstance(a, TTLAttribute)), None)
    indexes = []
    for index in model._indexes.values():
        index_attrs = index.Meta.attributes.values()
        ih = next(a for a in index_attrs if a.is_hash_key)
        ir = next((a for a in index_attrs if a.is_range_key), None)
        indexes.append(IndexSpec(index.Meta.index_name, _key(ih), _key(ir) if ir else None))
    return TableSpec(
        logical=logical,
        env_var=table_env_var(logical),
        partition_key=_key(hash_key),
        sort_key=_key(range_key) if range_key else None,
        indexes=tuple(indexes),
        ttl_attribute=ttl,
    )


TABLES: tuple[TableSpec, ...] = tuple(_spec(name, model) for name, model in MODELS.items())


def rebind() -> None:
    """Re-read table names and region from the environment and drop cached connections.

    PynamoDB fixes `Meta.table_name` at import and caches one connection per model class; local mode and
    tests call this after pointing the environment at a moto server.
    """
    for logical, model in MODELS.items():
        model.Meta.table_name = table_name_for(logical)
        model.Meta.region = table_region()
        model._connection = None
        for index in model._indexes.values():
            index._connection = None  # type: ignore[attr-defined]


def create_tables() -> None:
    """Create every table (on-demand billing, TTL enabled where the model has a TTL attribute)."""
    for model in MODELS.values():
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
