"""DynamoDB state: the table definitions (`tables`) and the operations on them."""

from copytrader.store.tables import MODELS, TABLES, TableSpec, create_tables, rebind

__all__ = ["MODELS", "TABLES", "TableSpec", "create_tables", "rebind"]
